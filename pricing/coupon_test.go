package pricing_test

import (
	"testing"

	"github.com/redis/go-redis/v9"

	"github.com/shopkit/shopkit/internal/redistest"
	"github.com/shopkit/shopkit/pricing"
	"github.com/shopkit/shopkit/pricing/pricingtest"
)

func TestMemoryRedemptions(t *testing.T) {
	pricingtest.Run(t, func(t *testing.T) pricing.Redemptions { return pricing.NewMemoryRedemptions(nil) })
}

func newRedisRedemptions(client redis.UniversalClient) pricingtest.NewStore {
	return func(t *testing.T) pricing.Redemptions {
		s, err := pricing.NewRedisRedemptions(client, redistest.Prefix(t, client))
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
}

func TestRedisRedemptions(t *testing.T) {
	pricingtest.Run(t, newRedisRedemptions(redistest.Client(t)))
}

func TestRedisClusterRedemptions(t *testing.T) {
	pricingtest.Run(t, newRedisRedemptions(redistest.Cluster(t)))
}

func TestNewRedisRedemptionsPrefix(t *testing.T) {
	if _, err := pricing.NewRedisRedemptions(nil, "bad{prefix}"); err == nil {
		t.Fatal("a prefix with braces was accepted")
	}
}

func TestMemoryRuleSource(t *testing.T) {
	pricingtest.RunRuleSource(t, func(t *testing.T) pricing.RuleSource { return pricing.NewMemoryRuleSource() })
}

func newRedisRuleSource(client redis.UniversalClient) pricingtest.NewRuleSource {
	return func(t *testing.T) pricing.RuleSource {
		s, err := pricing.NewRedisRuleSource(client, redistest.Prefix(t, client))
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
}

func TestRedisRuleSource(t *testing.T) {
	pricingtest.RunRuleSource(t, newRedisRuleSource(redistest.Client(t)))
}

func TestRedisClusterRuleSource(t *testing.T) {
	pricingtest.RunRuleSource(t, newRedisRuleSource(redistest.Cluster(t)))
}

// TestRedisResentRedemptions runs the suite over a client that runs every script
// twice, as go-redis does when it resends a call whose reply timed out:
// every outcome the suite checks must survive the resend.
func TestRedisResentRedemptions(t *testing.T) {
	pricingtest.Run(t, newRedisRedemptions(redistest.Resending(t, redistest.Client(t))))
}

// TestRedisResentRuleSource runs the suite over a client that runs every script
// twice, as go-redis does when it resends a call whose reply timed out:
// every outcome the suite checks must survive the resend.
func TestRedisResentRuleSource(t *testing.T) {
	pricingtest.RunRuleSource(t, newRedisRuleSource(redistest.Resending(t, redistest.Client(t))))
}
