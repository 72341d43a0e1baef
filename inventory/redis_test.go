package inventory_test

import (
	"testing"

	"github.com/redis/go-redis/v9"

	"github.com/shopkit/shopkit/internal/redistest"
	"github.com/shopkit/shopkit/inventory"
	"github.com/shopkit/shopkit/inventory/inventorytest"
)

func newRedisStore(client redis.UniversalClient) inventorytest.NewStore {
	return func(t *testing.T, opts inventory.Options) *inventory.Store {
		opts.Prefix = redistest.Prefix(t, client)
		s, err := inventory.NewRedis(client, opts)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = s.Close() })
		return s
	}
}

func TestRedis(t *testing.T) {
	inventorytest.Run(t, newRedisStore(redistest.Client(t)))
}

func TestRedisCluster(t *testing.T) {
	inventorytest.Run(t, newRedisStore(redistest.Cluster(t)))
}

// TestRedisResent runs the suite over a client that runs every script
// twice, as go-redis does when it resends a call whose reply timed out:
// every outcome the suite checks must survive the resend.
func TestRedisResent(t *testing.T) {
	inventorytest.Run(t, newRedisStore(redistest.Resending(t, redistest.Client(t))))
}
