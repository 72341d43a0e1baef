package bench

import (
	"testing"

	money "github.com/Rhymond/go-money"

	"github.com/shopkit/shopkit/payout"
)

// BenchmarkAllocate10 splits 1,000.00 among 10 parties by ratios.
//
//   - shopkit: payout.AllocateInto on minor units into a reused slice.
//   - shopkit-alloc: payout.Allocate, which returns a new slice.
//   - go-money: Rhymond/go-money's Money.Allocate.
func BenchmarkAllocate10(b *testing.B) {
	ratios := []int{3, 1, 4, 1, 5, 9, 2, 6, 5, 3}
	ratios64 := make([]int64, len(ratios))
	for i, r := range ratios {
		ratios64[i] = int64(r)
	}
	const amount = 100000 // 1,000.00

	b.Run("shopkit", func(b *testing.B) {
		dst := make([]int64, len(ratios64))
		b.ReportAllocs()
		for b.Loop() {
			if err := payout.AllocateInto(dst, amount, ratios64, payout.LargestRemainder); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("shopkit-alloc", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, err := payout.Allocate(amount, ratios64, payout.LargestRemainder); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("go-money", func(b *testing.B) {
		m := money.New(amount, money.EUR)
		b.ReportAllocs()
		for b.Loop() {
			if _, err := m.Allocate(ratios...); err != nil {
				b.Fatal(err)
			}
		}
	})
}
