package pricing

import (
	"math"
	"math/rand/v2"
	"slices"
	"strconv"
	"testing"

	"github.com/shopspring/decimal"
)

// TestFormatMinor: formatMinor prints what decimal's StringFixed prints,
// at every scale, for amounts around every power of ten and the extremes.
func TestFormatMinor(t *testing.T) {
	values := []int64{0, 1, 9, math.MaxInt64, math.MinInt64 + 1}
	for p := int64(1); p > 0 && p <= math.MaxInt64/10; p *= 10 {
		values = append(values, p-1, p, p+1, 7*p+3)
	}
	for _, v := range values {
		for _, x := range []int64{v, -v} {
			for sc := int32(0); sc <= maxScale; sc++ {
				if got, want := formatMinor(x, sc), decimal.New(x, -sc).StringFixed(sc); got != want {
					t.Fatalf("formatMinor(%d, %d) = %q, want %q", x, sc, got, want)
				}
			}
		}
	}
}

// TestTargetIndex: the lines prepare finds for each promotion through the
// index are exactly the lines its Target describes (an empty target is
// every line; else a listed SKU or any listed tag), in line order.
func TestTargetIndex(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 8))
	pick := func(prefix string, max int) []string {
		var out []string
		for range rng.IntN(max + 1) {
			out = append(out, prefix+strconv.Itoa(rng.IntN(6)))
		}
		return out
	}
	for trial := 0; trial < 300; trial++ {
		var promos []Promotion
		for i := range 1 + rng.IntN(12) {
			promos = append(promos, Promotion{ID: "p" + strconv.Itoa(i), Kind: PercentOff, Percent: decimal.NewFromInt(5),
				Target: Target{SKUs: pick("s", 2), Tags: pick("t", 3)}})
		}
		rs, err := NewRuleSet(promos)
		if err != nil {
			t.Fatal(err)
		}
		cart := Cart{Scale: 2}
		for range 1 + rng.IntN(10) {
			cart.Lines = append(cart.Lines, Line{SKU: "s" + strconv.Itoa(rng.IntN(6)), UnitPrice: decimal.NewFromInt(3), Quantity: 1, Tags: pick("t", 3)})
		}
		for i, pp := range rs.prepare(cart) {
			var want []int
			for j, l := range cart.Lines {
				target := rs.promos[i].Target
				if len(target.SKUs) == 0 && len(target.Tags) == 0 || slices.Contains(target.SKUs, l.SKU) ||
					slices.ContainsFunc(l.Tags, func(tag string) bool { return slices.Contains(target.Tags, tag) }) {
					want = append(want, j)
				}
			}
			if !slices.Equal(pp.lines, want) {
				t.Fatalf("trial %d: promotion %+v in cart %+v: lines %v, want %v", trial, rs.promos[i].Target, cart.Lines, pp.lines, want)
			}
		}
	}
}

// TestSharedAmounts: amount is decimal.New, whether the value comes from
// the shared table or not, and arithmetic on a shared value (every method
// that builds its result from a copy of the receiver) leaves the shared
// value as it was.
func TestSharedAmounts(t *testing.T) {
	for sc := int32(0); sc <= maxScale; sc++ {
		for _, v := range []int64{0, 1, 7, 99, smallAmountLimit - 1, smallAmountLimit, 1 << 40, -1, -smallAmountLimit} {
			got, want := amount(v, sc), decimal.New(v, -sc)
			if !got.Equal(want) || got.Exponent() != want.Exponent() || got.String() != want.String() {
				t.Fatalf("amount(%d, %d) = %s (exp %d), want %s (exp %d)", v, sc, got, got.Exponent(), want, want.Exponent())
			}
		}
	}
	shared := amount(1234, 2)
	one := decimal.New(1, -2)
	_ = shared.Add(one).Sub(one).Mul(one).Round(1).Neg().Abs().Truncate(0).Shift(3).RoundBank(1).RoundCeil(0).RoundFloor(0)
	_ = decimal.Sum(shared, one, shared, decimal.New(5, -4))
	_ = decimal.Avg(shared, one)
	_, _ = shared.QuoRem(one, 2)
	_ = shared.Pow(decimal.NewFromInt(2))
	if again := amount(1234, 2); !again.Equal(decimal.New(1234, -2)) || !shared.Equal(again) || shared.String() != "12.34" {
		t.Fatalf("shared 12.34 became %s / %s", shared, again)
	}
}
