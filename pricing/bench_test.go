package pricing_test

import (
	"context"
	"fmt"
	"runtime"
	"strconv"
	"sync/atomic"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/shopspring/decimal"

	"github.com/shopkit/shopkit/internal/redistest"
	"github.com/shopkit/shopkit/pricing"
)

// BenchmarkQuote prices a 20-line cart under 50 active rules, 10 of them
// in two exclusive groups (36 combinations to compare).
func BenchmarkQuote(b *testing.B) {
	var promos []pricing.Promotion
	for i := 0; i < 50; i++ {
		p := pricing.Promotion{ID: fmt.Sprintf("p%02d", i), Priority: i, Target: pricing.Target{Tags: []string{fmt.Sprintf("cat%d", i%5)}}}
		switch i % 4 {
		case 0:
			p.Kind, p.Percent = pricing.PercentOff, decimal.NewFromInt(int64(1+i%10))
		case 1:
			p.Kind, p.Threshold, p.Off, p.Repeat = pricing.Threshold, decimal.NewFromInt(100), decimal.NewFromInt(5), true
		case 2:
			p.Kind, p.Amount = pricing.FixedOff, decimal.NewFromInt(2)
		case 3:
			p.Kind, p.Buy, p.Get = pricing.BuyXGetY, 2, 1
		}
		if i < 10 {
			p.Group = []string{"site", "category"}[i%2]
		}
		promos = append(promos, p)
	}
	rs, err := pricing.NewRuleSet(promos)
	if err != nil {
		b.Fatal(err)
	}
	c := pricing.Cart{Scale: 2}
	for i := 0; i < 20; i++ {
		c.Lines = append(c.Lines, pricing.Line{SKU: fmt.Sprintf("sku%02d", i), UnitPrice: decimal.New(int64(1000+i*137), -2),
			Quantity: int64(1 + i%3), Tags: []string{fmt.Sprintf("cat%d", i%5)}})
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := rs.Quote(c); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkRedeem reserves and commits one coupon use per order over 100
// coupons, 64 callers at once, on both backends (Redis: REDIS_ADDR, else
// an embedded miniredis). Each use holds an amount against a budget too,
// so the budget's bookkeeping is in the figure. Redis reports
// redis-cpu-ns/op and go-cpu-ns/op.
func BenchmarkRedeem(b *testing.B) {
	for _, name := range []string{"memory", "redis"} {
		b.Run(name, func(b *testing.B) {
			var s *pricing.Redemptions = pricing.NewMemoryRedemptions(pricing.RedemptionsOptions{})
			var client redis.UniversalClient
			if name == "redis" {
				client = redistest.Client(b)
				var err error
				if s, err = pricing.NewRedisRedemptions(client, pricing.RedemptionsOptions{Prefix: redistest.Prefix(b, client)}); err != nil {
					b.Fatal(err)
				}
			}
			limits := pricing.CouponLimits{Global: 1 << 40, PerCustomer: 1 << 20, Budget: pricing.MaxHoldAmount}
			var seq atomic.Int64
			ctx := context.Background()
			b.SetParallelism((64 + runtime.GOMAXPROCS(0) - 1) / runtime.GOMAXPROCS(0))
			b.ReportAllocs()
			cpu := redistest.StartCPU(b, client)
			b.ResetTimer()
			defer cpu.Report(b)
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					i := seq.Add(1)
					coupon, order := "C"+strconv.FormatInt(i%100, 10), "o"+strconv.FormatInt(i, 10)
					if _, err := s.Reserve(ctx, pricing.HoldRequest{Coupon: coupon, Limits: limits, Customer: "u" + strconv.FormatInt(i%5000, 10), OrderID: order, TTL: time.Minute, Amount: 500}); err != nil {
						b.Error(err)
						return
					}
					if _, err := s.Commit(ctx, pricing.RedemptionRef{Coupon: coupon, OrderID: order}); err != nil {
						b.Error(err)
						return
					}
				}
			})
		})
	}
}
