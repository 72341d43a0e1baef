package inventory_test

import (
	"testing"

	"github.com/redis/go-redis/v9"

	"github.com/shopkit/shopkit/internal/redistest"
	"github.com/shopkit/shopkit/inventory"
	"github.com/shopkit/shopkit/inventory/inventorytest"
)

func newRedisStore(client redis.UniversalClient) inventorytest.NewStore {
	return func(t *testing.T, opts inventory.Options) inventory.Store {
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
