package payout_test

import (
	"context"
	"runtime"
	"strconv"
	"sync/atomic"
	"testing"

	"github.com/shopkit/shopkit/internal/redistest"
	"github.com/shopkit/shopkit/payout"
)

// BenchmarkPost posts a four-way split per op, from 64 concurrent callers,
// on both ledgers. The Redis one uses REDIS_ADDR, else an embedded
// miniredis (which checks it runs but measures little):
//
//	REDIS_ADDR=127.0.0.1:6379 go test -run '^$' -bench Post ./payout
func BenchmarkPost(b *testing.B) {
	ctx := context.Background()
	for _, name := range []string{"memory", "redis"} {
		b.Run(name, func(b *testing.B) {
			var l *payout.Ledger = payout.NewMemoryLedger(payout.LedgerOptions{})
			if name == "redis" {
				c := redistest.Client(b)
				var err error
				if l, err = payout.NewRedisLedger(c, payout.LedgerOptions{Prefix: redistest.Prefix(b, c)}); err != nil {
					b.Fatal(err)
				}
			}
			defer l.Close()
			postings := []payout.Posting{
				{Account: "buyer", Amount: -10000}, {Account: "platform", Amount: 500},
				{Account: "provider", Amount: 1000}, {Account: "merchant", Amount: 8500},
			}
			var seq atomic.Int64
			b.SetParallelism((64 + runtime.GOMAXPROCS(0) - 1) / runtime.GOMAXPROCS(0))
			b.ReportAllocs()
			b.ResetTimer()
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					id := "o" + strconv.FormatInt(seq.Add(1), 10)
					if _, err := l.Post(ctx, payout.Transaction{ID: id, Postings: postings}); err != nil {
						b.Error(err)
						return
					}
				}
			})
		})
	}
}

// BenchmarkAllocate splits 1,000.00 among 10 parties into a reused slice.
func BenchmarkAllocate(b *testing.B) {
	ratios := []int64{3, 1, 4, 1, 5, 9, 2, 6, 5, 3}
	dst := make([]int64, len(ratios))
	b.ReportAllocs()
	for b.Loop() {
		if err := payout.AllocateInto(dst, 100000, ratios, payout.LargestRemainder); err != nil {
			b.Fatal(err)
		}
	}
}
