// Command reserve simulates shoppers racing for scarce stock: each one
// reserves a basket, then pays (commit), abandons it (release) or walks away
// (the hold expires). It prints what was sold, released and expired, the
// throughput, and checks that no unit was oversold or lost.
//
//	go run ./examples/reserve                      # in-memory store
//	go run ./examples/reserve -backend embedded    # Redis store on an embedded miniredis
//	go run ./examples/reserve -redis localhost:6379
//	go run ./examples/reserve -cluster 127.0.0.1:7001,127.0.0.1:7002,127.0.0.1:7003
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log"
	"math/rand/v2"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/alicebob/miniredis/v2"
	"github.com/redis/go-redis/v9"

	"github.com/shopkit/shopkit/examples/exampleredis"
	"github.com/shopkit/shopkit/inventory"
)

func main() {
	backend := flag.String("backend", "memory", "store: memory, redis or embedded (miniredis)")
	redisAddr := flag.String("redis", "", "Redis address (implies -backend redis)")
	clusterAddrs := flag.String("cluster", "", "comma-separated Redis Cluster seed addresses")
	shoppers := flag.Int("shoppers", 200, "concurrent shoppers")
	visits := flag.Int("visits", 50, "baskets each shopper tries")
	units := flag.Int64("units", 2000, "units on hand per SKU")
	ttl := flag.Duration("ttl", 300*time.Millisecond, "how long a basket is held")
	smoke := flag.Bool("smoke", false, "a short run for CI")
	flag.Parse()
	if *smoke {
		*shoppers, *visits, *units, *ttl = 16, 10, 40, 50*time.Millisecond
	}
	if err := run(*backend, *redisAddr, *clusterAddrs, *shoppers, *visits, *units, *ttl); err != nil {
		log.Fatal(err)
	}
}

var skus = []string{"tee-s", "tee-m", "tee-l", "mug", "cap"}

const location = "main-wh"

func run(backend, redisAddr, clusterAddrs string, shoppers, visits int, units int64, ttl time.Duration) error {
	ctx := context.Background()
	store, name, closeAll, err := open(backend, redisAddr, clusterAddrs)
	if err != nil {
		return err
	}
	defer closeAll()

	for _, sku := range skus {
		if _, err := store.SetOnHand(ctx, inventory.Count{ID: "opening-" + sku, SKU: sku, Location: location, OnHand: units, Reason: inventory.ReasonCount}); err != nil {
			return err
		}
	}

	var sold, released, abandoned, short atomic.Int64
	var mu sync.Mutex
	var ids []string
	var wg sync.WaitGroup
	start := time.Now()
	errc := make(chan error, shoppers)
	for s := 0; s < shoppers; s++ {
		wg.Add(1)
		go func(s int) {
			defer wg.Done()
			rng := rand.New(rand.NewPCG(uint64(s), 42))
			for v := 0; v < visits; v++ {
				var lines []inventory.Line
				for n := 1 + rng.IntN(3); n > 0; n-- {
					lines = append(lines, inventory.Line{SKU: skus[rng.IntN(len(skus))], Location: location, Quantity: int64(1 + rng.IntN(2))})
				}
				id := fmt.Sprintf("basket-%d-%d", s, v)
				_, err := store.Reserve(ctx, inventory.Request{ID: id, Lines: lines, TTL: ttl})
				if errors.Is(err, inventory.ErrInsufficientStock) {
					short.Add(1)
					continue
				}
				if err != nil {
					errc <- err
					return
				}
				mu.Lock()
				ids = append(ids, id)
				mu.Unlock()
				switch p := rng.IntN(10); {
				case p < 5:
					_, err = store.Commit(ctx, id)
					sold.Add(1)
				case p < 8:
					_, err = store.Release(ctx, id)
					released.Add(1)
				default:
					abandoned.Add(1) // the hold expires on its own
				}
				if err != nil {
					errc <- err
					return
				}
			}
		}(s)
	}
	wg.Wait()
	elapsed := time.Since(start)
	close(errc)
	if err := <-errc; err != nil {
		return err
	}

	// Let abandoned holds run out, then sweep them.
	time.Sleep(ttl + 50*time.Millisecond)
	expired, err := store.Sweep(ctx)
	if err != nil {
		return err
	}
	attempts := int64(shoppers * visits)
	fmt.Printf("store: %s\n", name)
	fmt.Printf("baskets: %d tried, %d short of stock\n", attempts, short.Load())
	fmt.Printf("sold: %d, released: %d, abandoned: %d, expired by sweep: %d\n", sold.Load(), released.Load(), abandoned.Load(), expired)
	fmt.Printf("throughput: %.0f baskets/s over %v\n", float64(attempts)/elapsed.Seconds(), elapsed.Round(time.Millisecond))
	return check(ctx, store, units, ids)
}

// check verifies that every unit is accounted for: on hand is the opening
// stock less what committed reservations took, and nothing is still reserved.
func check(ctx context.Context, store *inventory.Store, units int64, ids []string) error {
	soldUnits := map[string]int64{}
	for _, id := range ids {
		r, err := store.Reservation(ctx, id)
		if err != nil {
			return err
		}
		if r.State == inventory.Held {
			return fmt.Errorf("reservation %s still held after sweep", id)
		}
		if r.State == inventory.Committed {
			for _, l := range r.Lines {
				soldUnits[l.SKU] += l.Quantity
			}
		}
	}
	items := make([]inventory.Item, len(skus))
	for i, sku := range skus {
		items[i] = inventory.Item{SKU: sku, Location: location}
	}
	levels, err := store.Levels(ctx, items...)
	if err != nil {
		return err
	}
	for _, l := range levels {
		fmt.Printf("  %-6s on hand %4d  reserved %d  sold %d\n", l.SKU, l.OnHand, l.Reserved, soldUnits[l.SKU])
		if l.Reserved != 0 || l.OnHand != units-soldUnits[l.SKU] || l.OnHand < 0 {
			return fmt.Errorf("invariant broken for %s: %+v, sold %d of %d", l.SKU, l, soldUnits[l.SKU], units)
		}
	}
	fmt.Println("invariant holds: on hand = opening − sold, nothing left reserved, nothing oversold")
	return nil
}

func open(backend, redisAddr, clusterAddrs string) (*inventory.Store, string, func(), error) {
	opts := inventory.Options{Prefix: fmt.Sprintf("example:reserve:%d", os.Getpid())}
	var client redis.UniversalClient
	var name string
	closers := []func(){}
	switch {
	case clusterAddrs != "":
		client = redis.NewClusterClient(&redis.ClusterOptions{Addrs: strings.Split(clusterAddrs, ",")})
		name = "redis cluster " + clusterAddrs
	case redisAddr != "" || backend == "redis":
		if redisAddr == "" {
			redisAddr = "localhost:6379"
		}
		client = redis.NewClient(&redis.Options{Addr: redisAddr})
		name = "redis " + redisAddr
	case backend == "embedded":
		m, err := miniredis.Run()
		if err != nil {
			return nil, "", nil, err
		}
		closers = append(closers, m.Close)
		client = redis.NewClient(&redis.Options{Addr: m.Addr()})
		name = "redis on embedded miniredis"
	case backend == "memory":
		s := inventory.NewMemory(opts)
		return s, "memory", func() { _ = s.Close() }, nil
	default:
		return nil, "", nil, fmt.Errorf("unknown -backend %q (want memory, redis or embedded)", backend)
	}
	s, err := inventory.NewRedis(client, opts)
	if err != nil {
		return nil, "", nil, err
	}
	closeAll := func() {
		_ = s.Close()
		exampleredis.Close(client, "{"+opts.Prefix+"}*")
		for _, c := range closers {
			c()
		}
	}
	return s, name, closeAll, nil
}
