package logistics_test

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
	"github.com/shopkit/shopkit/logistics"
)

// BenchmarkShop rates one parcel across 10 carriers × 5 services.
func BenchmarkShop(b *testing.B) {
	var tables []logistics.Table
	for c := 0; c < 10; c++ {
		for s := 0; s < 5; s++ {
			t := table()
			t.Carrier, t.Service, t.Days = fmt.Sprintf("carrier%d", c), fmt.Sprintf("svc%d", s), 1+s
			t.Prices = map[string]logistics.Price{"local": {FirstGrams: 1000, First: decimal.NewFromInt(int64(10 + c + s)), AdditionalGrams: 500, Additional: decimal.NewFromInt(int64(1 + s))}}
			t.Insurance = &logistics.Insurance{Floor: decimal.NewFromInt(100), RateBP: 30, MinimumPremium: decimal.NewFromInt(1)}
			tables = append(tables, t)
		}
	}
	s := logistics.Shipment{Parcel: logistics.Parcel{Grams: 2300, LengthMM: 350, WidthMM: 250, HeightMM: 120}, Origin: "zhejiang", Destination: "zhejiang", Value: decimal.NewFromInt(150)}
	r, err := logistics.NewRater(tables)
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := r.Shop(s, logistics.Cheapest, logistics.Constraints{}); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkMergeIngest adds paid orders for 1,000 recipients to the merge
// store, 64 callers at once, on both backends (Redis: REDIS_ADDR, else an
// embedded miniredis).
func BenchmarkMergeIngest(b *testing.B) {
	for _, name := range []string{"memory", "redis"} {
		b.Run(name, func(b *testing.B) {
			var s *logistics.Merge = logistics.NewMemoryMerge(logistics.MergeOptions{})
			if name == "redis" {
				c := redistest.Client(b)
				var err error
				if s, err = logistics.NewRedisMerge(c, logistics.MergeOptions{Prefix: redistest.Prefix(b, c)}); err != nil {
					b.Fatal(err)
				}
			}
			keys := make([]string, 1000)
			for i := range keys {
				keys[i] = logistics.MergeKey("shop", "wh", logistics.Recipient{Name: fmt.Sprint("r", i), Phone: "1", Address: "a"})
			}
			var seq atomic.Int64
			ctx := context.Background()
			b.SetParallelism((64 + runtime.GOMAXPROCS(0) - 1) / runtime.GOMAXPROCS(0))
			b.ReportAllocs()
			b.ResetTimer()
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					i := seq.Add(1)
					if _, err := s.Add(ctx, logistics.MergeOrder{Key: keys[i%1000], OrderID: "o" + strconv.FormatInt(i, 10), Grams: 500}); err != nil {
						b.Error(err)
						return
					}
				}
			})
		})
	}
}

// BenchmarkRegistry claims an order code and records its waybill, as
// CreateWaybills does per order, 64 callers at once, on both backends
// (Redis: REDIS_ADDR, else an embedded miniredis; Redis reports
// redis-cpu-ns/op and go-cpu-ns/op).
func BenchmarkRegistry(b *testing.B) {
	for _, name := range []string{"memory", "redis"} {
		b.Run(name, func(b *testing.B) {
			reg := logistics.NewMemoryRegistry(logistics.RegistryOptions{})
			var client redis.UniversalClient
			if name == "redis" {
				client = redistest.Client(b)
				var err error
				if reg, err = logistics.NewRedisRegistry(client, logistics.RegistryOptions{Prefix: redistest.Prefix(b, client)}); err != nil {
					b.Fatal(err)
				}
			}
			var seq atomic.Int64
			ctx := context.Background()
			b.SetParallelism((64 + runtime.GOMAXPROCS(0) - 1) / runtime.GOMAXPROCS(0))
			b.ReportAllocs()
			cpu := redistest.StartCPU(b, client)
			b.ResetTimer()
			defer cpu.Report(b)
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					code := "o" + strconv.FormatInt(seq.Add(1), 10)
					if cr, err := reg.Claim(ctx, logistics.ClaimRequest{OrderCode: code, Owner: "batch", Lease: time.Minute}); err != nil || !cr.Held {
						b.Error(cr, err)
						return
					}
					if err := reg.Record(ctx, logistics.Waybill{OrderCode: code, Number: "W" + code}); err != nil {
						b.Error(err)
						return
					}
				}
			})
		})
	}
}
