package pricing_test

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/shopkit/shopkit/internal/redistest"
	"github.com/shopkit/shopkit/pricing"
	"github.com/shopkit/shopkit/pricing/pricingtest"
)

func TestMemoryRedemptions(t *testing.T) {
	pricingtest.Run(t, func(t *testing.T) *pricing.Redemptions {
		return pricing.NewMemoryRedemptions(pricing.RedemptionsOptions{})
	})
}

func newRedisRedemptions(client redis.UniversalClient) pricingtest.NewStore {
	return func(t *testing.T) *pricing.Redemptions {
		s, err := pricing.NewRedisRedemptions(client, pricing.RedemptionsOptions{Prefix: redistest.Prefix(t, client)})
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
	if _, err := pricing.NewRedisRedemptions(nil, pricing.RedemptionsOptions{Prefix: "bad{prefix}"}); err == nil {
		t.Fatal("a prefix with braces was accepted")
	}
}

func TestMemoryRuleSource(t *testing.T) {
	pricingtest.RunRuleSource(t, func(t *testing.T) *pricing.RuleSource {
		return pricing.NewMemoryRuleSource(pricing.RuleSourceOptions{})
	})
}

func newRedisRuleSource(client redis.UniversalClient) pricingtest.NewRuleSource {
	return func(t *testing.T) *pricing.RuleSource {
		s, err := pricing.NewRedisRuleSource(client, pricing.RuleSourceOptions{Prefix: redistest.Prefix(t, client)})
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

// testRetention: a redemption's record is forgotten Retention after it last
// changed state (a committed use then counts for good, and its release is
// unknown), a customer with no live uses leaves no trace, and the counts
// stay right.
//
// Regression: Memory kept every redemption record forever, and Redis kept
// every order in the coupon's hash and every customer ever seen.
func testRetention(t *testing.T, s *pricing.Redemptions, wait func()) {
	ctx := context.Background()
	lim := pricing.CouponLimits{Global: 10}
	for _, o := range []string{"o1", "o2"} {
		if _, err := s.Reserve(ctx, pricing.HoldRequest{Coupon: "KEEP", Limits: lim, Customer: "c-" + o, OrderID: o, TTL: time.Hour}); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := s.Commit(ctx, pricing.RedemptionRef{Coupon: "KEEP", OrderID: "o1"}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Release(ctx, pricing.RedemptionRef{Coupon: "KEEP", OrderID: "o2"}); err != nil {
		t.Fatal(err)
	}
	if u, err := s.Usage(ctx, pricing.UsageQuery{Coupon: "KEEP", Customer: "c-o2"}); err != nil || u != (pricing.CouponUsage{Global: 1}) {
		t.Fatalf("usage %+v, %v; want the committed use only", u, err)
	}
	wait()
	if _, err := s.Usage(ctx, pricing.UsageQuery{Coupon: "KEEP", Customer: "c-o1"}); err != nil { // any call forgets what is due
		t.Fatal(err)
	}
	for _, o := range []string{"o1", "o2"} {
		if _, err := s.Release(ctx, pricing.RedemptionRef{Coupon: "KEEP", OrderID: o}); !errors.Is(err, pricing.ErrNotFound) {
			t.Fatalf("Release(%s) after the retention: %v, want ErrNotFound", o, err)
		}
	}
	if u, err := s.Usage(ctx, pricing.UsageQuery{Coupon: "KEEP", Customer: "c-o1"}); err != nil || u != (pricing.CouponUsage{Global: 1, Customer: 1}) {
		t.Fatalf("usage after the retention %+v, %v; want the committed use still counted", u, err)
	}
}

func TestMemoryRedemptionsRetention(t *testing.T) {
	now := time.Unix(1_800_000_000, 0)
	s := pricing.NewMemoryRedemptions(pricing.RedemptionsOptions{Retention: time.Hour, Now: func() time.Time { return now }})
	testRetention(t, s, func() { now = now.Add(time.Hour) })
}

func TestRedisRedemptionsRetention(t *testing.T) {
	c := redistest.Client(t)
	prefix := redistest.Prefix(t, c)
	s, err := pricing.NewRedisRedemptions(c, pricing.RedemptionsOptions{Prefix: prefix, Retention: 200 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	testRetention(t, s, func() { time.Sleep(300 * time.Millisecond) })
	ctx := context.Background()
	tag := "{" + prefix + ":KEEP}"
	if n, err := c.HLen(ctx, tag+":orders").Result(); err != nil || n != 0 {
		t.Fatalf("%d order records left, %v; want none", n, err)
	}
	if f, err := c.HKeys(ctx, tag+":customers").Result(); err != nil || len(f) != 1 || f[0] != "c-o1" {
		t.Fatalf("customers %v, %v; want only c-o1, who holds a use", f, err)
	}
}

// TestRedemptionsWaitReplicas: with WaitReplicas a hold is reported only
// once a replica has it; without a replica in time the caller gets
// ErrNotReplicated.
func TestRedemptionsWaitReplicas(t *testing.T) {
	master, replica := redistest.Replicated(t)
	ctx := context.Background()
	s, err := pricing.NewRedisRedemptions(master, pricing.RedemptionsOptions{Prefix: redistest.Prefix(t, master), WaitReplicas: 1, WaitTimeout: 300 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	lim := pricing.CouponLimits{Global: 5}
	if _, err := s.Reserve(ctx, pricing.HoldRequest{Coupon: "C", Limits: lim, Customer: "alice", OrderID: "o1", TTL: time.Hour}); err != nil {
		t.Fatal(err)
	}
	redistest.Detach(t, master, replica)
	if _, err := s.Reserve(ctx, pricing.HoldRequest{Coupon: "C", Limits: lim, Customer: "bob", OrderID: "o2", TTL: time.Hour}); !errors.Is(err, pricing.ErrNotReplicated) {
		t.Fatalf("Reserve without a replica: %v, want ErrNotReplicated", err)
	}
}

// testKeepPublishes: a rule source remembers its latest KeepPublishes
// publish IDs, replays of those are idempotent, and nothing older is kept.
//
// Regression: every publish ID was kept forever.
func testKeepPublishes(t *testing.T, s *pricing.RuleSource) {
	ctx := context.Background()
	for i := range 8 {
		if v, err := s.Publish(ctx, fmt.Sprintf("p%d", i), nil); err != nil || v != int64(i+1) {
			t.Fatalf("Publish(p%d) = %d, %v", i, v, err)
		}
	}
	if v, err := s.Publish(ctx, "p7", nil); err != nil || v != 8 {
		t.Fatalf("replay of a recent publish = %d, %v; want 8", v, err)
	}
	if v, err := s.Publish(ctx, "p0", nil); err != nil || v != 9 {
		t.Fatalf("a forgotten publish ID = %d, %v; want a new version, 9", v, err)
	}
}

func TestMemoryKeepPublishes(t *testing.T) {
	testKeepPublishes(t, pricing.NewMemoryRuleSource(pricing.RuleSourceOptions{KeepPublishes: 5}))
}

func TestRedisKeepPublishes(t *testing.T) {
	c := redistest.Client(t)
	prefix := redistest.Prefix(t, c)
	s, err := pricing.NewRedisRuleSource(c, pricing.RuleSourceOptions{Prefix: prefix, KeepPublishes: 5})
	if err != nil {
		t.Fatal(err)
	}
	testKeepPublishes(t, s)
	if n, err := c.HLen(context.Background(), "{"+prefix+"}:publishes").Result(); err != nil || n != 5 {
		t.Fatalf("%d publish IDs kept, %v; want 5", n, err)
	}
}
