// Command flashsale runs a flash sale: 100,000 simulated buyers race for
// 1,000 units with a limit of 2 per buyer. The units are reserved from an
// inventory first (shopkit/inventory), as a shop would. Some retry their request (a
// client timeout), some are greedy and hammer the button, all through one
// seckill.Gate with a per-buyer rate limit. It prints the outcomes, the
// latency percentiles and the throughput, and checks that nothing was
// oversold and nobody got more than the limit.
//
//	go run ./examples/flashsale                 # in-memory gate
//	go run ./examples/flashsale -embedded       # Redis gate on an in-process miniredis
//	go run ./examples/flashsale -redis localhost:6379
//	go run ./examples/flashsale -cluster 127.0.0.1:7001,127.0.0.1:7002,127.0.0.1:7003
package main

import (
	"context"
	"flag"
	"fmt"
	"log"
	"math/rand/v2"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/alicebob/miniredis/v2"
	"github.com/redis/go-redis/v9"

	"github.com/shopkit/shopkit/examples/exampleredis"
	"github.com/shopkit/shopkit/inventory"
	"github.com/shopkit/shopkit/seckill"
)

func main() {
	redisAddr := flag.String("redis", "", "Redis address (default: in memory)")
	clusterAddrs := flag.String("cluster", "", "comma-separated Redis Cluster seed addresses")
	embedded := flag.Bool("embedded", false, "use the Redis gate on an in-process miniredis")
	buyers := flag.Int("buyers", 100000, "simulated buyers")
	units := flag.Int64("units", 1000, "units on sale")
	smoke := flag.Bool("smoke", false, "a short run for CI")
	flag.Parse()
	if *smoke {
		*buyers, *units = 3000, 100
	}
	if err := run(*redisAddr, *clusterAddrs, *embedded, *buyers, *units); err != nil {
		log.Fatal(err)
	}
}

const (
	limitPerBuyer = 2
	concurrency   = 256
)

type tally struct {
	mu        sync.Mutex
	outcomes  map[seckill.Outcome]int
	replays   int
	tickets   map[string]seckill.Ticket // by ticket ID: replays return the same ticket
	latencies []time.Duration
	errors    int
}

func run(redisAddr, clusterAddrs string, embedded bool, buyers int, units int64) error {
	ctx := context.Background()
	gate, name, closeGate, err := open(redisAddr, clusterAddrs, embedded)
	if err != nil {
		return err
	}
	defer closeGate()

	// The warehouse holds a little more than the sale offers; the gate is
	// pre-warmed by reserving the sale's units there, so the same phones
	// cannot also be sold through the normal checkout.
	stock := inventory.NewMemory(inventory.Options{})
	defer stock.Close()
	if _, err := stock.SetOnHand(ctx, inventory.Count{ID: "count-1", SKU: "phone-x", Location: "main", OnHand: units + units/5, Reason: inventory.ReasonCount}); err != nil {
		return err
	}
	now := time.Now()
	sale, err := gate.OpenFrom(ctx, seckill.Sale{ID: "phone-launch", SKU: "phone-x", Units: units, Start: now, End: now.Add(time.Hour),
		PerUserLimit: limitPerBuyer, PayWithin: 10 * time.Minute}, inventorySource{store: stock, location: "main"})
	if err != nil {
		return err
	}
	fmt.Printf("pre-warmed %d units from inventory (reservation %q)\n", sale.Units, sale.ID)

	t := &tally{outcomes: map[seckill.Outcome]int{}, tickets: map[string]seckill.Ticket{}}
	jobs := make(chan int)
	var wg sync.WaitGroup
	start := time.Now()
	for w := 0; w < concurrency; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			rng := rand.New(rand.NewPCG(uint64(w), 7))
			for i := range jobs {
				shop(ctx, gate, sale.ID, i, rng, t)
			}
		}(w)
	}
	for i := 0; i < buyers; i++ {
		jobs <- i
	}
	close(jobs)
	wg.Wait()
	elapsed := time.Since(start)

	return report(ctx, gate, name, sale, buyers, elapsed, t)
}

// shop is one buyer: most ask once for one unit; one in five retries the
// same request (as after a timeout); one in ten is greedy and fires
// several requests for two units.
func shop(ctx context.Context, g *seckill.Gate, saleID string, i int, rng *rand.Rand, t *tally) {
	user := "buyer-" + strconv.Itoa(i)
	requests := []struct {
		id  string
		qty int64
	}{{user + "-1", 1}}
	switch r := rng.IntN(10); {
	case r < 2:
		requests = append(requests, requests[0]) // a retry of the same request
	case r < 3:
		requests = nil
		for k := 0; k < 6; k++ {
			requests = append(requests, struct {
				id  string
				qty int64
			}{user + "-g" + strconv.Itoa(k), 2})
		}
	}
	for _, rq := range requests {
		begin := time.Now()
		a, err := g.Admit(ctx, seckill.AdmitRequest{SaleID: saleID, UserID: user, RequestID: rq.id, Quantity: rq.qty})
		took := time.Since(begin)
		t.mu.Lock()
		t.latencies = append(t.latencies, took)
		if err != nil {
			t.errors++
		} else if a.Replayed {
			t.replays++ // the first outcome, repeated: counted once above
		} else {
			t.outcomes[a.Outcome]++
			if a.Outcome == seckill.Admitted {
				t.tickets[a.Ticket.ID] = a.Ticket
			}
		}
		t.mu.Unlock()
	}
}

func report(ctx context.Context, g *seckill.Gate, name string, sale seckill.Sale, buyers int, elapsed time.Duration, t *tally) error {
	fmt.Printf("gate: %s\n", name)
	fmt.Printf("%d buyers, %d requests in %v: %.0f requests/s\n", buyers, len(t.latencies),
		elapsed.Round(time.Millisecond), float64(len(t.latencies))/elapsed.Seconds())
	for _, o := range []seckill.Outcome{seckill.Admitted, seckill.SoldOut, seckill.LimitReached, seckill.RateLimited, seckill.NotStarted, seckill.Ended} {
		if n := t.outcomes[o]; n > 0 {
			fmt.Printf("  %-14s %7d\n", o, n)
		}
	}
	fmt.Printf("  %-14s %7d\n", "replayed", t.replays)
	if t.errors > 0 {
		fmt.Printf("  %-14s %7d\n", "errors", t.errors)
	}
	slices.Sort(t.latencies)
	pct := func(p float64) time.Duration { return t.latencies[int(p*float64(len(t.latencies)-1))] }
	fmt.Printf("latency: p50 %v, p90 %v, p99 %v, max %v\n", pct(0.5), pct(0.9), pct(0.99), t.latencies[len(t.latencies)-1])

	var sold int64
	perBuyer := map[string]int64{}
	for _, tk := range t.tickets {
		sold += tk.Quantity
		perBuyer[tk.UserID] += tk.Quantity
	}
	overLimit := 0
	for _, n := range perBuyer {
		if n > limitPerBuyer {
			overLimit++
		}
	}
	st, err := g.Status(ctx, sale.ID)
	if err != nil {
		return err
	}
	oversold := max(0, sold-sale.Units)
	fmt.Printf("sold %d of %d units to %d buyers; oversold: %d; buyers over the limit: %d\n", sold, sale.Units, len(perBuyer), oversold, overLimit)
	fmt.Printf("gate status: remaining %d, held %d, paid %d\n", st.Remaining, st.Held, st.Paid)
	if oversold != 0 || overLimit != 0 || st.Held != sold || st.Remaining+st.Held+st.Paid != st.Units {
		return fmt.Errorf("the books do not balance")
	}
	return nil
}

// inventorySource adapts an inventory store to the gate's StockSource: it
// reserves up to the asked units under the sale's ID, so asking again
// returns the same reservation.
type inventorySource struct {
	store    *inventory.Store
	location string
}

func (s inventorySource) Allocate(ctx context.Context, saleID, sku string, units int64) (int64, error) {
	if r, err := s.store.Reservation(ctx, saleID); err == nil {
		return r.Lines[0].Quantity, nil
	}
	lv, err := s.store.Levels(ctx, inventory.Item{SKU: sku, Location: s.location})
	if err != nil {
		return 0, err
	}
	n := min(units, lv[0].Available())
	if n <= 0 {
		return 0, nil
	}
	r, err := s.store.Reserve(ctx, inventory.Request{ID: saleID, TTL: 24 * time.Hour,
		Lines: []inventory.Line{{SKU: sku, Location: s.location, Quantity: n}}})
	if err != nil {
		return 0, err
	}
	return r.Lines[0].Quantity, nil
}

// Settle sells the units the sale sold and receives the rest back:
// committing the whole reservation first and receiving back second never
// shows more stock than there is. Both steps are idempotent by the sale's
// ID, as the gate asks.
func (s inventorySource) Settle(ctx context.Context, saleID, sku string, sold, unsold int64) error {
	if _, err := s.store.Commit(ctx, saleID); err != nil {
		return err
	}
	if unsold == 0 {
		return nil
	}
	_, err := s.store.Adjust(ctx, inventory.Adjustment{ID: "settle-" + saleID, SKU: sku, Location: s.location,
		Delta: unsold, Reason: inventory.ReasonReturn})
	return err
}

func open(redisAddr, clusterAddrs string, embedded bool) (*seckill.Gate, string, func(), error) {
	// Each buyer may try at most 3 times a second, 4 at once.
	opts := seckill.GateOptions{PerUser: seckill.PerSecond(3, 4)}
	var client redis.UniversalClient
	var name string
	closers := []func(){}
	switch {
	case clusterAddrs != "":
		client = redis.NewClusterClient(&redis.ClusterOptions{Addrs: strings.Split(clusterAddrs, ","), PoolSize: concurrency})
		name = "redis cluster " + clusterAddrs
	case redisAddr != "":
		client = redis.NewClient(&redis.Options{Addr: redisAddr, PoolSize: concurrency})
		name = "redis " + redisAddr
	case embedded:
		m, err := miniredis.Run()
		if err != nil {
			return nil, "", nil, err
		}
		closers = append(closers, m.Close)
		client = redis.NewClient(&redis.Options{Addr: m.Addr(), PoolSize: concurrency})
		name = "redis on embedded miniredis"
	default:
		opts.Limiter = seckill.NewMemoryLimiter(seckill.LimiterOptions{})
		g := seckill.NewMemoryGate(opts)
		return g, "memory", func() { _ = g.Close() }, nil
	}
	prefix := fmt.Sprintf("example:flashsale:%d", os.Getpid())
	limiter, err := seckill.NewRedisLimiter(client, seckill.LimiterOptions{Prefix: prefix + ":rate"})
	if err != nil {
		return nil, "", nil, err
	}
	opts.Limiter = limiter
	opts.Prefix = prefix
	g, err := seckill.NewRedisGate(client, opts)
	if err != nil {
		return nil, "", nil, err
	}
	return g, name, func() {
		_ = g.Close()
		exampleredis.Close(client, prefix+"*")
		for _, c := range closers {
			c()
		}
	}, nil
}
