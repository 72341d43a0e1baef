package inventory_test

import (
	"context"
	"fmt"
	"hash/fnv"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/shopkit/shopkit/internal/redistest"
	"github.com/shopkit/shopkit/inventory"
)

// BenchmarkSpreadCluster reserves one unit of one of 10,000 SKUs, 64
// callers, on the Redis Cluster of REDIS_CLUSTER_ADDRS, with one store as
// NewRedis lays it out (one hash tag: one master does all the work) and
// as a store with Options.Spread does over 3 and over 48 stock groups by SKU, and over
// 3 groups with each reservation's ID homed in its SKU's group
// (Spread.Home). Besides wall time
// and CPU per reservation it reports, for each master in address order,
// its share of the Redis CPU the loop used (master<i>-cpu-%) and of the
// store's keys (master<i>-keys-%):
//
//	REDIS_CLUSTER_ADDRS=127.0.0.1:7101,127.0.0.1:7102,127.0.0.1:7103 \
//	  go test -run '^$' -bench SpreadCluster -benchtime 100000x ./inventory
//
// A spread store's one-line reservation takes the fast path when its SKU
// lives in its ID's home group (1 in 3, or 1 in 48); the others are spread
// reservations: a hold, then the home record, two round trips.
func BenchmarkSpreadCluster(b *testing.B) {
	const skus = 10000
	ctx := context.Background()
	layouts := []struct {
		name string
		new  func(c redis.UniversalClient, opts inventory.Options) (*inventory.Store, error)
	}{
		{"one-slot", func(c redis.UniversalClient, opts inventory.Options) (*inventory.Store, error) {
			return inventory.NewRedis(c, opts)
		}},
		{"spread-3", func(c redis.UniversalClient, opts inventory.Options) (*inventory.Store, error) {
			opts.Spread = inventory.Spread{Groups: 3}
			return inventory.NewRedis(c, opts)
		}},
		{"spread-48", func(c redis.UniversalClient, opts inventory.Options) (*inventory.Store, error) {
			opts.Spread = inventory.Spread{Groups: 48}
			return inventory.NewRedis(c, opts)
		}},
		// IDs homed with their stock: every reservation takes the fast
		// path in the group of its SKU.
		{"spread-3-homed", func(c redis.UniversalClient, opts inventory.Options) (*inventory.Store, error) {
			opts.Spread = inventory.Spread{Groups: 3,
				Group: func(it inventory.Item) int { return skuGroup(it.SKU, 3) },
				Home:  func(id string) int { return skuGroup(id[strings.LastIndexByte(id, '.')+1:], 3) }}
			return inventory.NewRedis(c, opts)
		}},
	}
	for _, l := range layouts {
		b.Run(l.name, func(b *testing.B) {
			client := redistest.Cluster(b)
			cc, ok := client.(*redis.ClusterClient)
			if !ok {
				b.Skip("needs a Redis Cluster (REDIS_CLUSTER_ADDRS)")
			}
			prefix := redistest.Prefix(b, client)
			s, err := l.new(client, inventory.Options{Prefix: prefix})
			if err != nil {
				b.Fatal(err)
			}
			defer s.Close()
			for i := range skus {
				sku := "sku" + strconv.Itoa(i)
				if _, err := s.SetOnHand(ctx, inventory.Count{ID: "init-" + sku, SKU: sku, Location: "wh1", OnHand: inventory.MaxQuantity, Reason: inventory.ReasonCount}); err != nil {
					b.Fatal(err)
				}
			}
			before, err := redistest.MasterCPU(cc)
			if err != nil {
				b.Fatal(err)
			}
			parallel(b, client, func(i int64) error {
				// The ID ends in its SKU, for the homed layout.
				sku := "sku" + strconv.FormatInt(i*7919%skus, 10)
				_, err := s.Reserve(ctx, inventory.Request{ID: "r" + strconv.FormatInt(i, 10) + "." + sku, TTL: time.Hour,
					Lines: []inventory.Line{{SKU: sku, Location: "wh1", Quantity: 1}}})
				return err
			})
			after, err := redistest.MasterCPU(cc)
			if err != nil {
				b.Fatal(err)
			}
			keys, err := masterKeys(ctx, cc, prefix)
			if err != nil {
				b.Fatal(err)
			}
			reportShares(b, "cpu", before, after, keys)
		})
	}
}

// skuGroup spreads SKUs over groups by a hash, as the default layout does.
func skuGroup(sku string, groups int) int {
	h := fnv.New32a()
	h.Write([]byte(sku))
	return int(h.Sum32() % uint32(groups))
}

// masterKeys counts the keys of the store with prefix on each master.
func masterKeys(ctx context.Context, cc *redis.ClusterClient, prefix string) (map[string]int, error) {
	out := make(map[string]int)
	mu := make(chan struct{}, 1) // ForEachMaster runs fn concurrently
	err := cc.ForEachMaster(ctx, func(ctx context.Context, m *redis.Client) error {
		n := 0
		iter := m.Scan(ctx, 0, "*"+prefix+"*", 1000).Iterator()
		for iter.Next(ctx) {
			n++
		}
		mu <- struct{}{}
		out[m.Options().Addr] = n
		<-mu
		return iter.Err()
	})
	return out, err
}

// reportShares reports each master's share of the CPU used between before
// and after, and of keys, in percent, masters in address order.
func reportShares(b *testing.B, what string, before, after map[string]time.Duration, keys map[string]int) {
	var addrs []string
	var cpu time.Duration
	var allKeys int
	for a := range after {
		addrs = append(addrs, a)
		cpu += after[a] - before[a]
		allKeys += keys[a]
	}
	slices.Sort(addrs)
	var parts []string
	for i, a := range addrs {
		c := 100 * float64(after[a]-before[a]) / float64(cpu)
		k := 100 * float64(keys[a]) / float64(max(allKeys, 1))
		b.ReportMetric(c, fmt.Sprintf("master%d-%s-%%", i+1, what))
		b.ReportMetric(k, fmt.Sprintf("master%d-keys-%%", i+1))
		parts = append(parts, fmt.Sprintf("%s %.0f%% cpu %.0f%% keys", a, c, k))
	}
	b.Logf("%s", strings.Join(parts, ", "))
}
