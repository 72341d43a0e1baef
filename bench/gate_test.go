package bench

import (
	"context"
	"strconv"
	"sync/atomic"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/shopkit/shopkit/seckill"
)

// BenchmarkAdmit: 64 concurrent buyers on one hot sale whose stock never
// runs out.
//
//   - shopkit-redis: seckill.Gate.Admit on Redis: window, stock and
//     per-user limit checked, buyer and request recorded, ticket issued
//     and queued, in one script.
//   - lua-per-call: the blog-post script, one EVALSHA per request that
//     checks stock and the user's count and decrements (no ticket, no
//     replay, no queue).
func BenchmarkAdmit(b *testing.B) {
	ctx := context.Background()
	b.Run("shopkit-redis", func(b *testing.B) {
		c := client(b)
		g, err := seckill.NewRedisGate(c, seckill.GateOptions{Prefix: prefix(b, c)})
		if err != nil {
			b.Fatal(err)
		}
		defer g.Close()
		now := time.Now()
		if err := g.Open(ctx, seckill.Sale{ID: "hot", SKU: "x", Units: 1 << 50, Start: now.Add(-time.Minute), End: now.Add(time.Hour), PerUserLimit: 1}); err != nil {
			b.Fatal(err)
		}
		var seq atomic.Int64
		setCallers(b)
		b.ReportAllocs()
		cpu := startCPU(b)
		b.ResetTimer()
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				id := "u" + strconv.FormatInt(seq.Add(1), 10)
				a, err := g.Admit(ctx, seckill.AdmitRequest{SaleID: "hot", UserID: id, RequestID: id, Quantity: 1})
				if err != nil || a.Outcome != seckill.Admitted {
					b.Error(a.Outcome, err)
					return
				}
			}
		})
		cpu.Report(b)
	})
	b.Run("lua-per-call", func(b *testing.B) {
		c := client(b)
		p := "{" + prefix(b, c) + "}"
		c.Set(ctx, p+":stock", 1<<50, 0)
		script := redis.NewScript(`
local stock = tonumber(redis.call('GET', KEYS[1]) or '0')
if stock < 1 then return -1 end
if tonumber(redis.call('HGET', KEYS[2], ARGV[1]) or '0') >= tonumber(ARGV[2]) then return -2 end
redis.call('HINCRBY', KEYS[2], ARGV[1], 1)
return redis.call('DECR', KEYS[1])`)
		var seq atomic.Int64
		setCallers(b)
		b.ReportAllocs()
		cpu := startCPU(b)
		b.ResetTimer()
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				id := "u" + strconv.FormatInt(seq.Add(1), 10)
				if n, err := script.Run(ctx, c, []string{p + ":stock", p + ":users"}, id, 1).Int64(); err != nil || n < 0 {
					b.Error(n, err)
					return
				}
			}
		})
		cpu.Report(b)
	})
}

// BenchmarkSoldOut: admission attempts after a sale sold out, answered
// from the gate's memory.
func BenchmarkSoldOut(b *testing.B) {
	ctx := context.Background()
	g := seckill.NewMemoryGate(seckill.GateOptions{})
	now := time.Now()
	if err := g.Open(ctx, seckill.Sale{ID: "gone", SKU: "x", Units: 1, Start: now.Add(-time.Minute), End: now.Add(time.Hour), PerUserLimit: 1}); err != nil {
		b.Fatal(err)
	}
	if a, _ := g.Admit(ctx, seckill.AdmitRequest{SaleID: "gone", UserID: "first", RequestID: "first", Quantity: 1}); a.Outcome != seckill.Admitted {
		b.Fatal(a)
	}
	if a, _ := g.Admit(ctx, seckill.AdmitRequest{SaleID: "gone", UserID: "second", RequestID: "second", Quantity: 1}); a.Outcome != seckill.SoldOut {
		b.Fatal(a)
	}
	b.ReportAllocs()
	cpu := startCPU(b)
	b.ResetTimer()
	for b.Loop() {
		if a, _ := g.Admit(ctx, seckill.AdmitRequest{SaleID: "gone", UserID: "late", RequestID: "late-1", Quantity: 1}); a.Outcome != seckill.SoldOut {
			b.Fatal(a)
		}
	}
	cpu.Report(b)
}
