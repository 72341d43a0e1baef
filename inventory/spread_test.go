package inventory_test

import (
	"testing"

	"github.com/redis/go-redis/v9"

	"github.com/shopkit/shopkit/internal/redistest"
	"github.com/shopkit/shopkit/inventory"
	"github.com/shopkit/shopkit/inventory/inventorytest"
)

// newSpreadStore makes spread stores over four groups by SKU, so that the
// suite's reservations of several SKUs are spread reservations, and its
// one-SKU reservations sometimes take the fast path and sometimes not.
func newSpreadStore(client redis.UniversalClient) inventorytest.NewStore {
	return func(t *testing.T, opts inventory.Options) *inventory.Store {
		opts.Prefix = redistest.Prefix(t, client)
		opts.Spread = inventory.Spread{Groups: 4}
		s, err := inventory.NewRedis(client, opts)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = s.Close() })
		return s
	}
}

func TestRedisSpread(t *testing.T) {
	inventorytest.Run(t, newSpreadStore(redistest.Client(t)))
}

func TestRedisSpreadCluster(t *testing.T) {
	inventorytest.Run(t, newSpreadStore(redistest.Cluster(t)))
}

func TestRedisSpreadResent(t *testing.T) {
	inventorytest.Run(t, newSpreadStore(redistest.Resending(t, redistest.Client(t))))
}

// TestRedisSpreadByLocation groups items by warehouse, the layout that
// keeps one warehouse's shipments and deliveries in one group.
func TestRedisSpreadByLocation(t *testing.T) {
	client := redistest.Client(t)
	inventorytest.Run(t, func(t *testing.T, opts inventory.Options) *inventory.Store {
		opts.Prefix = redistest.Prefix(t, client)
		opts.Spread = inventory.Spread{Groups: 3, Group: func(it inventory.Item) int {
			return map[string]int{"wh1": 0, "wh2": 1, "wh9": 2}[it.Location]
		}}
		s, err := inventory.NewRedis(client, opts)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = s.Close() })
		return s
	})
}
