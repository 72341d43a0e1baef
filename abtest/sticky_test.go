package abtest_test

import (
	"testing"

	"github.com/redis/go-redis/v9"

	"github.com/shopkit/shopkit/abtest"
	"github.com/shopkit/shopkit/abtest/abtesttest"
	"github.com/shopkit/shopkit/internal/redistest"
)

func TestMemorySticky(t *testing.T) {
	abtesttest.Run(t, func(t *testing.T) abtest.StickyStore {
		s := abtest.NewMemorySticky()
		t.Cleanup(func() { _ = s.Close() })
		return s
	})
}

func newRedisSticky(client redis.UniversalClient) abtesttest.NewStore {
	return func(t *testing.T) abtest.StickyStore {
		s, err := abtest.NewRedisSticky(client, abtest.RedisStickyOptions{Prefix: redistest.Prefix(t, client)})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = s.Close() })
		return s
	}
}

func TestRedisSticky(t *testing.T) {
	abtesttest.Run(t, newRedisSticky(redistest.Client(t)))
}

func TestRedisClusterSticky(t *testing.T) {
	abtesttest.Run(t, newRedisSticky(redistest.Cluster(t)))
}

// TestRedisResentSticky runs the suite over a client that runs every script
// twice, as go-redis does when it resends a call whose reply timed out:
// every outcome the suite checks must survive the resend.
func TestRedisResentSticky(t *testing.T) {
	abtesttest.Run(t, newRedisSticky(redistest.Resending(t, redistest.Client(t))))
}
