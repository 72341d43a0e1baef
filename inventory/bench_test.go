package inventory_test

import (
	"context"
	"runtime"
	"strconv"
	"sync/atomic"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/shopkit/shopkit/internal/redistest"
	"github.com/shopkit/shopkit/inventory"
)

// Benchmarks for both backends, with 64 concurrent callers as a busy server
// would have. The Redis ones use REDIS_ADDR, else an embedded miniredis
// (which checks they run but measures little):
//
//	REDIS_ADDR=127.0.0.1:6379 go test -run '^$' -bench . -benchmem ./inventory
func BenchmarkReserve(b *testing.B) {
	backends := []struct {
		name string
		new  func(b *testing.B) (*inventory.Store, redis.UniversalClient)
	}{
		{"memory", func(b *testing.B) (*inventory.Store, redis.UniversalClient) {
			return inventory.NewMemory(inventory.Options{}), nil
		}},
		{"redis", func(b *testing.B) (*inventory.Store, redis.UniversalClient) {
			c := redistest.Client(b)
			s, err := inventory.NewRedis(c, inventory.Options{Prefix: redistest.Prefix(b, c)})
			if err != nil {
				b.Fatal(err)
			}
			return s, c
		}},
	}
	// Each shape draws the lines of reservation i.
	const skus = 1000
	shapes := []struct {
		name  string
		lines func(i int64) []inventory.Line
	}{
		{"hot-sku", func(int64) []inventory.Line {
			return []inventory.Line{{SKU: "hot", Location: "wh1", Quantity: 1}}
		}},
		{"many-skus", func(i int64) []inventory.Line {
			return []inventory.Line{{SKU: "sku" + strconv.FormatInt(i%skus, 10), Location: "wh1", Quantity: 1}}
		}},
		{"multi-line", func(i int64) []inventory.Line {
			return []inventory.Line{
				{SKU: "sku" + strconv.FormatInt(i%skus, 10), Location: "wh1", Quantity: 1},
				{SKU: "sku" + strconv.FormatInt((i*7+1)%skus, 10), Location: "wh1", Quantity: 2},
				{SKU: "hot", Location: "wh1", Quantity: 1},
			}
		}},
	}
	ctx := context.Background()
	for _, be := range backends {
		for _, sh := range shapes {
			b.Run(be.name+"/"+sh.name, func(b *testing.B) {
				s, client := be.new(b)
				defer s.Close()
				for i := int64(0); i <= skus; i++ {
					sku := "sku" + strconv.FormatInt(i, 10)
					if i == skus {
						sku = "hot"
					}
					if _, err := s.SetOnHand(ctx, inventory.Count{ID: "init-" + sku, SKU: sku, Location: "wh1", OnHand: inventory.MaxQuantity, Reason: inventory.ReasonCount}); err != nil {
						b.Fatal(err)
					}
				}
				parallel(b, client, func(i int64) error {
					_, err := s.Reserve(ctx, inventory.Request{ID: "r" + strconv.FormatInt(i, 10), Lines: sh.lines(i), TTL: time.Hour})
					return err
				})
			})
		}
	}
}

// BenchmarkCommit measures reserve-then-commit, the life of a paid order.
func BenchmarkCommit(b *testing.B) {
	ctx := context.Background()
	for _, name := range []string{"memory", "redis"} {
		b.Run(name, func(b *testing.B) {
			var s *inventory.Store = inventory.NewMemory(inventory.Options{})
			var c redis.UniversalClient
			if name == "redis" {
				c = redistest.Client(b)
				var err error
				if s, err = inventory.NewRedis(c, inventory.Options{Prefix: redistest.Prefix(b, c)}); err != nil {
					b.Fatal(err)
				}
			}
			defer s.Close()
			if _, err := s.SetOnHand(ctx, inventory.Count{ID: "init", SKU: "hot", Location: "wh1", OnHand: inventory.MaxQuantity, Reason: inventory.ReasonCount}); err != nil {
				b.Fatal(err)
			}
			line := []inventory.Line{{SKU: "hot", Location: "wh1", Quantity: 1}}
			parallel(b, c, func(i int64) error {
				id := "c" + strconv.FormatInt(i, 10)
				if _, err := s.Reserve(ctx, inventory.Request{ID: id, Lines: line, TTL: time.Hour}); err != nil {
					return err
				}
				_, err := s.Commit(ctx, id)
				return err
			})
		})
	}
}

// parallel times op from 64 callers, numbering the calls 1, 2, …, and
// reports allocations and, on Redis (client not nil), the server's and the
// process's CPU per call.
func parallel(b *testing.B, client redis.UniversalClient, op func(i int64) error) {
	var seq atomic.Int64
	setCallers(b)
	b.ReportAllocs()
	cpu := redistest.StartCPU(b, client)
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if err := op(seq.Add(1)); err != nil {
				b.Error(err)
				return
			}
		}
	})
	cpu.Report(b)
}

// setCallers makes b.RunParallel run 64 goroutines.
func setCallers(b *testing.B) {
	const callers = 64
	b.SetParallelism((callers + runtime.GOMAXPROCS(0) - 1) / runtime.GOMAXPROCS(0))
}

// BenchmarkFulfil measures the calls after payment: ship a committed
// reservation's unit (Options.Shipping), and receive one unit of a
// purchase order as deliveries arrive. Only those calls are timed.
func BenchmarkFulfil(b *testing.B) {
	ctx := context.Background()
	newStore := func(b *testing.B, name string) (*inventory.Store, redis.UniversalClient) {
		opts := inventory.Options{Shipping: true}
		if name == "memory" {
			return inventory.NewMemory(opts), nil
		}
		c := redistest.Client(b)
		opts.Prefix = redistest.Prefix(b, c)
		s, err := inventory.NewRedis(c, opts)
		if err != nil {
			b.Fatal(err)
		}
		return s, c
	}
	line := []inventory.Line{{SKU: "hot", Location: "wh1", Quantity: 1}}
	for _, name := range []string{"memory", "redis"} {
		b.Run(name+"/ship", func(b *testing.B) {
			s, c := newStore(b, name)
			defer s.Close()
			if _, err := s.SetOnHand(ctx, inventory.Count{ID: "init", SKU: "hot", Location: "wh1", OnHand: inventory.MaxQuantity, Reason: inventory.ReasonCount}); err != nil {
				b.Fatal(err)
			}
			for i := range b.N {
				id := "o" + strconv.Itoa(i)
				if _, err := s.Reserve(ctx, inventory.Request{ID: id, Lines: line, TTL: time.Hour}); err != nil {
					b.Fatal(err)
				}
				if _, err := s.Commit(ctx, id); err != nil {
					b.Fatal(err)
				}
			}
			parallel(b, c, func(i int64) error {
				n := strconv.FormatInt(i-1, 10)
				_, err := s.Ship(ctx, inventory.FulfilRequest{ID: "p" + n, Reservation: "o" + n, Lines: line})
				return err
			})
		})
		b.Run(name+"/receive", func(b *testing.B) {
			s, c := newStore(b, name)
			defer s.Close()
			po := inventory.PurchaseOrder{ID: "po", ExpectedAt: time.Now().Add(time.Hour), Lines: []inventory.Line{{SKU: "hot", Location: "wh1", Quantity: int64(b.N)}}}
			if _, err := s.Expect(ctx, po); err != nil {
				b.Fatal(err)
			}
			parallel(b, c, func(i int64) error {
				_, err := s.Receive(ctx, inventory.ArrivalRequest{ID: "g" + strconv.FormatInt(i, 10), PurchaseOrder: "po", Lines: line})
				return err
			})
		})
	}
}
