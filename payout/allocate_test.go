package payout_test

import (
	"errors"
	"math"
	"math/big"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/shopspring/decimal"

	"github.com/shopkit/shopkit/payout"
)

func TestAllocate(t *testing.T) {
	const (
		lr = payout.LargestRemainder
		fp = payout.FirstParties
		lg = payout.LargestRatio
	)
	tests := []struct {
		name   string
		amount int64
		ratios []int64
		policy payout.Policy
		want   []int64
	}{
		// go-money's TestMoney_Allocate table (it hands leftovers to the
		// first parties).
		{"go-money 1", 100, []int64{50, 50}, fp, []int64{50, 50}},
		{"go-money 2", 100, []int64{30, 30, 30}, fp, []int64{34, 33, 33}},
		{"go-money 3", 200, []int64{25, 25, 50}, fp, []int64{50, 50, 100}},
		{"go-money 4", 5, []int64{50, 25, 25}, fp, []int64{3, 1, 1}},
		{"go-money 5", 0, []int64{50, 10}, fp, []int64{0, 0}},
		{"go-money 6", 10, []int64{0, 100}, fp, []int64{0, 10}},
		// Fowler, Patterns of Enterprise Application Architecture: 5 cents
		// split 30/70 gives 2 and 3 (quotas 1.5 and 3.5).
		{"Fowler", 5, []int64{3, 7}, lr, []int64{2, 3}},
		// Worked by hand: 7 among 3:6:1 has quotas 2.1, 4.2, 0.7; floors
		// 2, 4, 0 leave one unit.
		{"7 by 3:6:1 largest remainder", 7, []int64{3, 6, 1}, lr, []int64{2, 4, 1}},
		{"7 by 3:6:1 first parties", 7, []int64{3, 6, 1}, fp, []int64{3, 4, 0}},
		{"7 by 3:6:1 largest ratio", 7, []int64{3, 6, 1}, lg, []int64{2, 5, 0}},
		// 10 among 1:4:4: quotas 1.11, 4.44, 4.44; the tie goes to the first.
		{"tie by position", 10, []int64{1, 4, 4}, lr, []int64{1, 5, 4}},
		// A zero-ratio party never receives a leftover unit.
		{"zero ratio first", 1, []int64{0, 1, 1}, fp, []int64{0, 1, 0}},
		{"zero ratio lr", 1, []int64{0, 1, 1}, lr, []int64{0, 1, 0}},
		{"zero ratio largest", 1, []int64{0, 1, 1}, lg, []int64{0, 1, 0}},
		// Refunds mirror charges.
		{"negative", -7, []int64{3, 6, 1}, lr, []int64{-2, -4, -1}},
		// Extremes: the products need 128 bits.
		{"max amount", math.MaxInt64, []int64{math.MaxInt64, math.MaxInt64}, lr,
			[]int64{4611686018427387904, 4611686018427387903}},
		{"min amount", math.MinInt64, []int64{1, 1}, lr,
			[]int64{-4611686018427387904, -4611686018427387904}},
		// Ratios summing past 2^64 take the big-integer path: 10 in thirds.
		{"ratio sum past 2^64", 10, []int64{math.MaxInt64, math.MaxInt64, math.MaxInt64}, lr, []int64{4, 3, 3}},
		{"ratio sum past 2^64 largest ratio", 10, []int64{math.MaxInt64, math.MaxInt64, math.MaxInt64}, lg, []int64{4, 3, 3}},
	}
	for _, tt := range tests {
		got, err := payout.Allocate(tt.amount, tt.ratios, tt.policy)
		if err != nil {
			t.Errorf("%s: %v", tt.name, err)
			continue
		}
		if !slices.Equal(got, tt.want) {
			t.Errorf("%s: Allocate(%d, %v, %v) = %v, want %v", tt.name, tt.amount, tt.ratios, tt.policy, got, tt.want)
		}
	}
}

func TestAllocateManyParties(t *testing.T) {
	// 1,000 parties with equal ratios share 1,000,003: the first three get
	// one unit more (the sorted path beyond 64 parties).
	ratios := make([]int64, 1000)
	for i := range ratios {
		ratios[i] = 7
	}
	got, err := payout.Allocate(1_000_003, ratios, payout.LargestRemainder)
	if err != nil {
		t.Fatal(err)
	}
	for i, v := range got {
		want := int64(1000)
		if i < 3 {
			want = 1001
		}
		if v != want {
			t.Fatalf("part %d = %d, want %d", i, v, want)
		}
	}
}

func TestAllocateInvalid(t *testing.T) {
	tests := []struct {
		name      string
		ratios    []int64
		policy    payout.Policy
		wantField string
	}{
		{"empty", nil, payout.LargestRemainder, "Ratios"},
		{"all zero", []int64{0, 0}, payout.LargestRemainder, "Ratios"},
		{"negative", []int64{1, -1}, payout.LargestRemainder, "Ratios[1]"},
		{"bad policy", []int64{1}, payout.Policy(9), "Policy"},
	}
	for _, tt := range tests {
		_, err := payout.Allocate(100, tt.ratios, tt.policy)
		var ie *payout.InputError
		if !errors.As(err, &ie) || ie.Field != tt.wantField || !errors.Is(err, payout.ErrInvalidInput) {
			t.Errorf("%s: err = %v, want InputError on %s", tt.name, err, tt.wantField)
		}
	}
	dst := []int64{7, 7}
	if err := payout.AllocateInto(dst, 100, []int64{1, -1}, payout.LargestRemainder); err == nil || dst[0] != 7 {
		t.Fatalf("AllocateInto on bad input: err %v, dst %v; want an error and dst untouched", err, dst)
	}
}

func TestAllocateIntoAllocatesNothing(t *testing.T) {
	ratios := []int64{3, 1, 4, 1, 5, 9, 2, 6, 5, 3}
	dst := make([]int64, len(ratios))
	for _, p := range []payout.Policy{payout.LargestRemainder, payout.FirstParties, payout.LargestRatio} {
		allocs := testing.AllocsPerRun(100, func() {
			if err := payout.AllocateInto(dst, 100_000, ratios, p); err != nil {
				t.Fatal(err)
			}
		})
		if allocs != 0 {
			t.Errorf("%v: %v allocs per run, want 0", p, allocs)
		}
	}
}

func TestAllocateDecimal(t *testing.T) {
	// ¥100.00 shared 33.3% / 33.3% / 33.4%.
	parts, err := payout.AllocateDecimal(decimal.RequireFromString("100.00"), 2,
		[]decimal.Decimal{decimal.RequireFromString("33.3"), decimal.RequireFromString("33.3"), decimal.RequireFromString("33.4")},
		payout.LargestRemainder)
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"33.3", "33.3", "33.4"}
	for i, p := range parts {
		if !p.Equal(decimal.RequireFromString(want[i])) {
			t.Fatalf("parts = %v, want %v", parts, want)
		}
	}
	// €0.05 split 30/70 at scale 2: 0.02 and 0.03.
	parts, err = payout.AllocateDecimal(decimal.RequireFromString("0.05"), 2,
		[]decimal.Decimal{decimal.NewFromInt(30), decimal.NewFromInt(70)}, payout.LargestRemainder)
	if err != nil || !parts[0].Equal(decimal.RequireFromString("0.02")) || !parts[1].Equal(decimal.RequireFromString("0.03")) {
		t.Fatalf("parts = %v, %v", parts, err)
	}
	// An amount finer than the scale is refused.
	_, err = payout.AllocateDecimal(decimal.RequireFromString("1.005"), 2, []decimal.Decimal{decimal.NewFromInt(1)}, payout.LargestRemainder)
	var ie *payout.InputError
	if !errors.As(err, &ie) || ie.Field != "Amount" {
		t.Fatalf("err = %v, want InputError on Amount", err)
	}
	// ¥1,000 is 1000 minor units at JPY's scale 0.
	if m, err := payout.ToMinor(decimal.NewFromInt(1000), 0); err != nil || m != 1000 {
		t.Fatalf("ToMinor = %d, %v", m, err)
	}
}

func TestAllocateFixed(t *testing.T) {
	// 100.00 with a 5.00 provider fee and a 2.50 platform fee; the merchant
	// (index 1) takes the rest.
	got, err := payout.AllocateFixed(10000, []int64{500, 0, 250}, 1)
	if err != nil || !slices.Equal(got, []int64{500, 9250, 250}) {
		t.Fatalf("AllocateFixed = %v, %v", got, err)
	}
	if _, err := payout.AllocateFixed(100, []int64{60, 0, 50}, 1); !errors.Is(err, payout.ErrInvalidInput) {
		t.Fatalf("fixed beyond amount: err = %v", err)
	}
}

// exactWithin1 checks every part is within one unit of amount·r/Σr.
func exactWithin1(amount int64, ratios, parts []int64) bool {
	total := new(big.Int)
	for _, r := range ratios {
		total.Add(total, big.NewInt(r))
	}
	for i, r := range ratios {
		exact := new(big.Rat).SetFrac(new(big.Int).Mul(big.NewInt(amount), big.NewInt(r)), total)
		diff := new(big.Rat).Sub(exact, new(big.Rat).SetInt64(parts[i]))
		if diff.Abs(diff).Cmp(big.NewRat(1, 1)) >= 0 {
			return false
		}
	}
	return true
}

// FuzzAllocate: parts sum to the whole, stay within a unit of the exact
// share, and zero-ratio parties get nothing, for any input that is accepted.
func FuzzAllocate(f *testing.F) {
	f.Add(int64(100), int64(1), int64(1), int64(1), uint8(0))
	f.Add(int64(-7), int64(3), int64(6), int64(1), uint8(1))
	f.Add(int64(math.MinInt64), int64(math.MaxInt64), int64(0), int64(math.MaxInt64), uint8(2))
	f.Fuzz(func(t *testing.T, amount, r1, r2, r3 int64, p uint8) {
		ratios := []int64{r1, r2, r3}
		policy := payout.Policy(p % 3)
		parts, err := payout.Allocate(amount, ratios, policy)
		if err != nil {
			if !errors.Is(err, payout.ErrInvalidInput) {
				t.Fatalf("unexpected error %v", err)
			}
			return
		}
		sum := new(big.Int)
		for i, v := range parts {
			sum.Add(sum, big.NewInt(v))
			if ratios[i] == 0 && v != 0 {
				t.Fatalf("zero-ratio party %d got %d", i, v)
			}
			if (amount >= 0 && v < 0) || (amount < 0 && v > 0) {
				t.Fatalf("part %d = %d has the wrong sign for %d", i, v, amount)
			}
		}
		if sum.Cmp(big.NewInt(amount)) != 0 {
			t.Fatalf("Allocate(%d, %v) = %v sums to %v", amount, ratios, parts, sum)
		}
		if !exactWithin1(amount, ratios, parts) {
			t.Fatalf("Allocate(%d, %v, %v) = %v: a part is a unit or more off its exact share", amount, ratios, policy, parts)
		}
	})
}

// TestAllocateAgainstBig compares Allocate with a plain big-integer largest
// remainder on random inputs sized to exercise each arithmetic path.
func TestAllocateAgainstBig(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 7))
	for trial := 0; trial < 20000; trial++ {
		n := 1 + rng.IntN(12)
		ratios := make([]int64, n)
		bits := []int{8, 12, 13, 26, 40, 62}[rng.IntN(6)] // 12 and 13 straddle the 2^16 ratio-sum fast path
		for i := range ratios {
			ratios[i] = rng.Int64N(int64(1) << bits)
		}
		ratios[rng.IntN(n)]++ // never all zero
		amount := rng.Int64N(int64(1) << []int{10, 30, 52, 62}[rng.IntN(4)])
		got, err := payout.Allocate(amount, ratios, payout.LargestRemainder)
		if err != nil {
			t.Fatal(err)
		}
		if want := bigLargestRemainder(amount, ratios); !slices.Equal(got, want) {
			t.Fatalf("Allocate(%d, %v) = %v, want %v", amount, ratios, got, want)
		}
	}
}

func bigLargestRemainder(amount int64, ratios []int64) []int64 {
	total := new(big.Int)
	for _, r := range ratios {
		total.Add(total, big.NewInt(r))
	}
	out := make([]int64, len(ratios))
	rems := make([]*big.Int, len(ratios))
	left := amount
	for i, r := range ratios {
		q, m := new(big.Int).QuoRem(new(big.Int).Mul(big.NewInt(amount), big.NewInt(r)), total, new(big.Int))
		out[i], rems[i] = q.Int64(), m
		left -= q.Int64()
	}
	for ; left > 0; left-- {
		best := -1
		for i, m := range rems {
			if m.Sign() > 0 && (best < 0 || m.Cmp(rems[best]) > 0) {
				best = i
			}
		}
		out[best]++
		rems[best] = new(big.Int)
	}
	return out
}

// TestAllocateHugeTotalSmallAmount: a ratio sum past 2^63 with a small
// amount takes the float path with a tiny reciprocal.
func TestAllocateHugeTotalSmallAmount(t *testing.T) {
	ratios := []int64{math.MaxInt64, 1, math.MaxInt64 / 2}
	got, err := payout.Allocate(1000, ratios, payout.LargestRemainder)
	if err != nil {
		t.Fatal(err)
	}
	if want := bigLargestRemainder(1000, ratios); !slices.Equal(got, want) {
		t.Fatalf("got %v, want %v", got, want)
	}
}
