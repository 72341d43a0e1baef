package bench

import (
	"context"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/bsm/redislock"
	"github.com/redis/go-redis/v9"

	"github.com/shopkit/shopkit/inventory"
)

// BenchmarkReserveHotSKU: 64 concurrent callers each reserve 1 unit of one
// SKU, with stock that never runs out.
//
//   - shopkit-memory: inventory.NewMemory.
//   - shopkit-redis: inventory.NewRedis; each reservation is an idempotent,
//     expiring, committable hold, coalesced with concurrent ones.
//   - lua-per-call: the classic check-and-DECRBY script, one EVALSHA per
//     request. It keeps no reservation record, so it cannot commit, release,
//     expire or replay; it is the floor of what a per-request script costs.
//   - lock-then-write: bsm/redislock around GET and DECRBY.
func BenchmarkReserveHotSKU(b *testing.B) {
	const stock = inventory.MaxQuantity
	ctx := context.Background()
	line := []inventory.Line{{SKU: "hot", Location: "wh1", Quantity: 1}}

	reserveAll := func(b *testing.B, s *inventory.Store) {
		if _, err := s.SetOnHand(ctx, inventory.Count{ID: "init", SKU: "hot", Location: "wh1", OnHand: stock, Reason: inventory.ReasonCount}); err != nil {
			b.Fatal(err)
		}
		var seq atomic.Int64
		setCallers(b)
		b.ReportAllocs()
		cpu := startCPU(b)
		b.ResetTimer()
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				id := "r" + strconv.FormatInt(seq.Add(1), 10)
				if _, err := s.Reserve(ctx, inventory.Request{ID: id, Lines: line, TTL: time.Hour}); err != nil {
					b.Error(err)
					return
				}
			}
		})
		cpu.Report(b)
	}

	b.Run("shopkit-memory", func(b *testing.B) {
		s := inventory.NewMemory(inventory.Options{})
		defer s.Close()
		reserveAll(b, s)
	})

	b.Run("shopkit-redis", func(b *testing.B) {
		c := client(b)
		s, err := inventory.NewRedis(c, inventory.Options{Prefix: prefix(b, c)})
		if err != nil {
			b.Fatal(err)
		}
		defer s.Close()
		reserveAll(b, s)
	})

	b.Run("lua-per-call", func(b *testing.B) {
		c := client(b)
		key := "{" + prefix(b, c) + "}:stock:hot"
		c.Set(ctx, key, stock, 0)
		script := redis.NewScript(`
local v = tonumber(redis.call('GET', KEYS[1]) or '0')
local q = tonumber(ARGV[1])
if v < q then return -1 end
return redis.call('DECRBY', KEYS[1], q)`)
		setCallers(b)
		b.ReportAllocs()
		cpu := startCPU(b)
		b.ResetTimer()
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				if n, err := script.Run(ctx, c, []string{key}, 1).Int64(); err != nil || n < 0 {
					b.Error(n, err)
					return
				}
			}
		})
		cpu.Report(b)
	})

	b.Run("lock-then-write", func(b *testing.B) {
		c := client(b)
		p := prefix(b, c)
		key, lockKey := p+":stock:hot", p+":lock:hot"
		c.Set(ctx, key, stock, 0)
		locker := redislock.New(c)
		opts := &redislock.Options{RetryStrategy: redislock.LinearBackoff(time.Millisecond)}
		setCallers(b)
		b.ReportAllocs()
		cpu := startCPU(b)
		b.ResetTimer()
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				lctx, cancel := context.WithTimeout(ctx, 10*time.Second)
				lock, err := locker.Obtain(lctx, lockKey, time.Second, opts)
				cancel()
				if err != nil {
					b.Error(err)
					return
				}
				v, err := c.Get(ctx, key).Int64()
				if err == nil && v >= 1 {
					err = c.DecrBy(ctx, key, 1).Err()
				}
				_ = lock.Release(ctx)
				if err != nil {
					b.Error(err)
					return
				}
			}
		})
		cpu.Report(b)
	})
}

// BenchmarkReserveManySKUs: 64 concurrent callers each reserve 1 unit of
// one of 10,000 SKUs, round robin, so a batch touches many stock keys.
// Sub-benchmarks as in BenchmarkReserveHotSKU.
func BenchmarkReserveManySKUs(b *testing.B) {
	const skus = 10_000
	ctx := context.Background()
	sku := func(i int64) string { return "sku" + strconv.FormatInt(i%skus, 10) }

	reserveAll := func(b *testing.B, s *inventory.Store) {
		for i := int64(0); i < skus; i++ {
			if _, err := s.SetOnHand(ctx, inventory.Count{ID: "init-" + sku(i), SKU: sku(i), Location: "wh1", OnHand: inventory.MaxQuantity, Reason: inventory.ReasonCount}); err != nil {
				b.Fatal(err)
			}
		}
		var seq atomic.Int64
		setCallers(b)
		b.ReportAllocs()
		cpu := startCPU(b)
		b.ResetTimer()
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				i := seq.Add(1)
				req := inventory.Request{ID: "r" + strconv.FormatInt(i, 10), TTL: time.Hour,
					Lines: []inventory.Line{{SKU: sku(i), Location: "wh1", Quantity: 1}}}
				if _, err := s.Reserve(ctx, req); err != nil {
					b.Error(err)
					return
				}
			}
		})
		cpu.Report(b)
	}

	b.Run("shopkit-memory", func(b *testing.B) {
		s := inventory.NewMemory(inventory.Options{})
		defer s.Close()
		reserveAll(b, s)
	})

	b.Run("shopkit-redis", func(b *testing.B) {
		c := client(b)
		s, err := inventory.NewRedis(c, inventory.Options{Prefix: prefix(b, c)})
		if err != nil {
			b.Fatal(err)
		}
		defer s.Close()
		reserveAll(b, s)
	})

	b.Run("lua-per-call", func(b *testing.B) {
		c := client(b)
		tag := "{" + prefix(b, c) + "}"
		pipe := c.Pipeline()
		for i := int64(0); i < skus; i++ {
			pipe.Set(ctx, tag+":stock:"+sku(i), inventory.MaxQuantity, 0)
		}
		if _, err := pipe.Exec(ctx); err != nil {
			b.Fatal(err)
		}
		script := redis.NewScript(`
local v = tonumber(redis.call('GET', KEYS[1]) or '0')
local q = tonumber(ARGV[1])
if v < q then return -1 end
return redis.call('DECRBY', KEYS[1], q)`)
		var seq atomic.Int64
		setCallers(b)
		b.ReportAllocs()
		cpu := startCPU(b)
		b.ResetTimer()
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				if n, err := script.Run(ctx, c, []string{tag + ":stock:" + sku(seq.Add(1))}, 1).Int64(); err != nil || n < 0 {
					b.Error(n, err)
					return
				}
			}
		})
		cpu.Report(b)
	})
}

// BenchmarkReserveThenCommit: the life of a paid order on a hot SKU,
// reserve and then commit, against a reserve alone (BenchmarkReserveHotSKU).
func BenchmarkReserveThenCommit(b *testing.B) {
	ctx := context.Background()
	line := []inventory.Line{{SKU: "hot", Location: "wh1", Quantity: 1}}
	run := func(b *testing.B, s *inventory.Store) {
		if _, err := s.SetOnHand(ctx, inventory.Count{ID: "init", SKU: "hot", Location: "wh1", OnHand: inventory.MaxQuantity, Reason: inventory.ReasonCount}); err != nil {
			b.Fatal(err)
		}
		var seq atomic.Int64
		setCallers(b)
		b.ReportAllocs()
		cpu := startCPU(b)
		b.ResetTimer()
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				id := "o" + strconv.FormatInt(seq.Add(1), 10)
				if _, err := s.Reserve(ctx, inventory.Request{ID: id, Lines: line, TTL: time.Hour}); err != nil {
					b.Error(err)
					return
				}
				if _, err := s.Commit(ctx, id); err != nil {
					b.Error(err)
					return
				}
			}
		})
		cpu.Report(b)
	}
	b.Run("shopkit-memory", func(b *testing.B) {
		s := inventory.NewMemory(inventory.Options{})
		defer s.Close()
		run(b, s)
	})
	b.Run("shopkit-redis", func(b *testing.B) {
		c := client(b)
		s, err := inventory.NewRedis(c, inventory.Options{Prefix: prefix(b, c)})
		if err != nil {
			b.Fatal(err)
		}
		defer s.Close()
		run(b, s)
	})
}

// BenchmarkReserveRetained: BenchmarkReserveHotSKU's shopkit-redis with a
// store already holding finished records (committed reservations within
// their retention), to show how Redis cost per reservation grows with
// them; and with that many records due to be forgotten, to show what
// forgetting costs (each script call forgets up to 16, so the cost is
// spread over the calls that follow). The records are written straight
// into the store's keys (the key schema is in the inventory package doc).
func BenchmarkReserveRetained(b *testing.B) {
	ctx := context.Background()
	line := []inventory.Line{{SKU: "hot", Location: "wh1", Quantity: 1}}
	for _, tc := range []struct {
		name    string
		records int
		due     bool // forget time in the past
	}{
		{"retained-20k", 20_000, false},
		{"retained-1M", 1_000_000, false},
		{"forgetting-200k", 200_000, true},
	} {
		b.Run(tc.name, func(b *testing.B) {
			c := client(b)
			p := prefix(b, c)
			s, err := inventory.NewRedis(c, inventory.Options{Prefix: p})
			if err != nil {
				b.Fatal(err)
			}
			defer s.Close()
			tag := "{" + p + "}"
			forget := time.Now().Add(time.Hour).UnixMilli()
			if tc.due {
				forget = time.Now().Add(-time.Hour).UnixMilli()
			}
			// As the store writes them: the records a batch finishes share
			// one member of the finished set (here batches of 64).
			const chunk, batch = 10_000, 64
			for start := 0; start < tc.records; start += chunk {
				fields := make([]any, 0, 2*chunk)
				members := make([]redis.Z, 0, chunk/batch+1)
				var member []string
				for i := start; i < min(start+chunk, tc.records); i++ {
					id := "old" + strconv.Itoa(i)
					fields = append(fields, id, "2|0|hot\twh1\t1\n")
					if member = append(member, id); len(member) == batch || i == min(start+chunk, tc.records)-1 {
						members = append(members, redis.Z{Score: float64(forget), Member: strings.Join(member, " ")})
						member = member[:0]
					}
				}
				if err := c.HSet(ctx, tag+":res", fields...).Err(); err != nil {
					b.Fatal(err)
				}
				if err := c.ZAdd(ctx, tag+":fin", members...).Err(); err != nil {
					b.Fatal(err)
				}
			}
			if _, err := s.SetOnHand(ctx, inventory.Count{ID: "init", SKU: "hot", Location: "wh1", OnHand: inventory.MaxQuantity, Reason: inventory.ReasonCount}); err != nil {
				b.Fatal(err)
			}
			var seq atomic.Int64
			setCallers(b)
			b.ReportAllocs()
			cpu := startCPU(b)
			b.ResetTimer()
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					id := "r" + strconv.FormatInt(seq.Add(1), 10)
					if _, err := s.Reserve(ctx, inventory.Request{ID: id, Lines: line, TTL: time.Hour}); err != nil {
						b.Error(err)
						return
					}
				}
			})
			cpu.Report(b)
			b.StopTimer()
			if tc.due {
				left, _ := c.HLen(ctx, tag+":res").Result()
				b.ReportMetric(float64(int64(tc.records)+int64(b.N)-left)/float64(b.N), "forgotten/op")
			}
		})
	}
}
