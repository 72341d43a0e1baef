package payout_test

import (
	"errors"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/shopkit/shopkit/payout"
)

func TestFee(t *testing.T) {
	card := payout.Fee{BasisPoints: 290, Fixed: 30} // 2.9% + 30¢
	tests := []struct {
		name   string
		fee    payout.Fee
		amount int64
		want   int64
	}{
		{"10.00: 29 + 30", card, 1000, 59},
		// 12.34 × 2.9% = 35.786¢ rounds half up to 36, plus 30.
		{"12.34 half up", card, 1234, 66},
		{"12.34 down", payout.Fee{BasisPoints: 290, Fixed: 30, Rounding: payout.Down}, 1234, 65},
		// 0.5% of 1.00 is exactly half a cent.
		{"half up", payout.Fee{BasisPoints: 50}, 100, 1},
		{"half even to 0", payout.Fee{BasisPoints: 50, Rounding: payout.HalfEven}, 100, 0},
		{"half even to 2", payout.Fee{BasisPoints: 50, Rounding: payout.HalfEven}, 300, 2},
		{"up", payout.Fee{BasisPoints: 1, Rounding: payout.Up}, 1, 1},
		{"min", payout.Fee{BasisPoints: 100, Min: 50}, 1000, 50},
		{"max", payout.Fee{BasisPoints: 1000, Max: 500}, 100000, 500},
		{"never beyond the amount", payout.Fee{Fixed: 30}, 10, 10},
	}
	for _, tt := range tests {
		got, err := tt.fee.Of(tt.amount)
		if err != nil || got != tt.want {
			t.Errorf("%s: %+v.Of(%d) = %d, %v; want %d", tt.name, tt.fee, tt.amount, got, err, tt.want)
		}
	}
	for _, bad := range []payout.Fee{{BasisPoints: -1}, {BasisPoints: 10001}, {Fixed: -1}, {Min: 10, Max: 5}, {Rounding: 7}} {
		if _, err := bad.Of(100); !errors.Is(err, payout.ErrInvalidInput) {
			t.Errorf("%+v: err = %v, want ErrInvalidInput", bad, err)
		}
	}
}

func TestCommission(t *testing.T) {
	// 5% to 100.00, 10% to 500.00, 15% above (minor units).
	tiers := []payout.Tier{{From: 0, BasisPoints: 500}, {From: 10000, BasisPoints: 1000}, {From: 50000, BasisPoints: 1500}}
	tests := []struct {
		amount int64
		conv   payout.Convention
		want   int64
	}{
		// Marginal on 600.00: 100.00×5% + 400.00×10% + 100.00×15% = 5 + 40 + 15.
		{60000, payout.Marginal, 6000},
		// Whole amount on 600.00: all at 15%.
		{60000, payout.WholeAmount, 9000},
		// On a boundary the higher tier applies: 100.00 earns 10% whole...
		{10000, payout.WholeAmount, 1000},
		// ...and marginally it has no portion in the 10% bracket yet.
		{10000, payout.Marginal, 500},
		{0, payout.Marginal, 0},
		// 123.45 marginal: 100.00×5% + 23.45×10% = 500 + 234.5 → 735 (half up).
		{12345, payout.Marginal, 735},
	}
	for _, tt := range tests {
		got, err := payout.Commission(tt.amount, tiers, tt.conv, payout.HalfUp)
		if err != nil || got != tt.want {
			t.Errorf("Commission(%d, %v) = %d, %v; want %d", tt.amount, tt.conv, got, err, tt.want)
		}
	}
	for _, bad := range [][]payout.Tier{nil, {{From: 5, BasisPoints: 1}}, {{From: 0, BasisPoints: 1}, {From: 0, BasisPoints: 2}}, {{From: 0, BasisPoints: 20000}}} {
		if _, err := payout.Commission(100, bad, payout.Marginal, payout.HalfUp); !errors.Is(err, payout.ErrInvalidInput) {
			t.Errorf("tiers %v: err = %v", bad, err)
		}
	}
}

func TestRebates(t *testing.T) {
	// 100.00 order: level 1 earns 10% capped at 5.00, level 2 earns 5%.
	got, err := payout.Rebates(10000, []payout.Level{{BasisPoints: 1000, Cap: 500}, {BasisPoints: 500}}, payout.HalfUp)
	if err != nil || !slices.Equal(got, []int64{500, 500}) {
		t.Fatalf("Rebates = %v, %v", got, err)
	}
	if _, err := payout.Rebates(100, []payout.Level{{BasisPoints: 6000}, {BasisPoints: 6000}}, payout.HalfUp); !errors.Is(err, payout.ErrInvalidInput) {
		t.Fatalf("rebates beyond the amount: err = %v", err)
	}
}

func TestSharingRules(t *testing.T) {
	var wechat payout.SharingRules // zero value: 30%, 50 receivers
	if err := wechat.Check(10000, []payout.Share{{Receiver: "a", Amount: 2000}, {Receiver: "b", Amount: 1000}}); err != nil {
		t.Fatalf("30%% exactly: %v", err)
	}
	err := wechat.Check(10000, []payout.Share{{Receiver: "a", Amount: 3001}})
	var se *payout.SharingError
	if !errors.As(err, &se) || se.Rule != "max-ratio" || se.Limit != 3000 || se.Got != 3001 || !errors.Is(err, payout.ErrSharingRule) {
		t.Fatalf("31%%: err = %v", err)
	}
	many := make([]payout.Share, 51)
	for i := range many {
		many[i] = payout.Share{Receiver: string(rune('A' + i)), Amount: 1}
	}
	if err := wechat.Check(1000000, many); !errors.As(err, &se) || se.Rule != "max-receivers" {
		t.Fatalf("51 receivers: err = %v", err)
	}
	if err := wechat.Check(100, []payout.Share{{Receiver: "a", Amount: 0}}); !errors.As(err, &se) || se.Rule != "amount" {
		t.Fatalf("zero share: err = %v", err)
	}
	if err := wechat.Check(100, []payout.Share{{Receiver: "a", Amount: 1}, {Receiver: "a", Amount: 1}}); !errors.As(err, &se) || se.Rule != "receiver" || se.Index != 1 {
		t.Fatalf("duplicate receiver: err = %v", err)
	}
	strict := payout.SharingRules{MaxRatio: 1000, MaxReceivers: 2}
	if err := strict.Check(10000, []payout.Share{{Receiver: "a", Amount: 1001}}); !errors.As(err, &se) || se.Limit != 1000 {
		t.Fatalf("10%% rule: err = %v", err)
	}
}

func TestReversal(t *testing.T) {
	// 100 split 33/33/34, refunded 10, 10, 80. Worked by hand:
	// after 10: quotas 3.3 3.3 3.4 → 3 3 3 + 1 to the .4 → 3 3 4;
	// after 20: quotas 6.6 6.6 6.8 → 6 6 6 + 2 to .8 and the first .6 → 7 6 7;
	// after 100: 33 33 34.
	r, err := payout.NewReversal(100, []int64{33, 33, 34})
	if err != nil {
		t.Fatal(err)
	}
	steps := []struct {
		refund int64
		want   []int64
	}{
		{10, []int64{3, 3, 4}},
		{10, []int64{4, 3, 3}},
		{80, []int64{26, 27, 27}},
	}
	for _, s := range steps {
		got, err := r.Refund(s.refund)
		if err != nil || !slices.Equal(got, s.want) {
			t.Fatalf("Refund(%d) = %v, %v; want %v", s.refund, got, err, s.want)
		}
	}
	if !slices.Equal(r.Reversed(), []int64{33, 33, 34}) {
		t.Fatalf("Reversed = %v", r.Reversed())
	}
	_, err = r.Refund(1)
	var re *payout.RefundError
	if !errors.As(err, &re) || re.Left != 0 || !errors.Is(err, payout.ErrOverRefund) {
		t.Fatalf("refund past the charge: err = %v", err)
	}
}

// TestReversalProperty: any sequence of refunds that adds up to the charge
// reverses every share exactly, and each refund's reversals sum to it.
func TestReversalProperty(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for trial := 0; trial < 2000; trial++ {
		n := 1 + rng.IntN(6)
		shares := make([]int64, n)
		var charge int64
		for i := range shares {
			shares[i] = rng.Int64N(10000)
			charge += shares[i]
		}
		if charge == 0 {
			continue
		}
		r, err := payout.NewReversal(charge, shares)
		if err != nil {
			t.Fatal(err)
		}
		for r.Refunded() < charge {
			amount := 1 + rng.Int64N(charge-r.Refunded())
			got, err := r.Refund(amount)
			if err != nil {
				t.Fatal(err)
			}
			var sum int64
			for _, v := range got {
				sum += v
			}
			if sum != amount {
				t.Fatalf("refund %d reversed %v (sum %d)", amount, got, sum)
			}
		}
		if !slices.Equal(r.Reversed(), shares) {
			t.Fatalf("shares %v reversed %v", shares, r.Reversed())
		}
	}
}

// FuzzFees: fees, commissions and rebates either refuse their input or
// return amounts between zero and the amount they are charged on.
func FuzzFees(f *testing.F) {
	f.Add(int64(1234), int64(290), int64(30), int64(50), int64(0), uint8(0), int64(10000), int64(1000))
	f.Add(int64(-1), int64(-5), int64(-1), int64(7), int64(3), uint8(9), int64(0), int64(0))
	f.Add(int64(1<<62), int64(10000), int64(1<<62), int64(0), int64(0), uint8(3), int64(1<<61), int64(10000))
	f.Fuzz(func(t *testing.T, amount, bp, fixed, minFee, maxFee int64, mode uint8, from, bp2 int64) {
		check := func(name string, v int64, err error) {
			if err != nil {
				if !errors.Is(err, payout.ErrInvalidInput) {
					t.Fatalf("%s: unexpected error %v", name, err)
				}
				return
			}
			if v < 0 || v > amount {
				t.Fatalf("%s(%d) = %d, outside [0, amount]", name, amount, v)
			}
		}
		r := payout.Rounding(mode % 5)
		v, err := payout.Fee{BasisPoints: bp, Fixed: fixed, Min: minFee, Max: maxFee, Rounding: r}.Of(amount)
		check("Fee", v, err)
		tiers := []payout.Tier{{From: 0, BasisPoints: bp}, {From: from, BasisPoints: bp2}}
		v, err = payout.Commission(amount, tiers, payout.Marginal, r)
		check("Commission marginal", v, err)
		v, err = payout.Commission(amount, tiers, payout.WholeAmount, r)
		check("Commission whole", v, err)
		rb, err := payout.Rebates(amount, []payout.Level{{BasisPoints: bp, Cap: fixed}, {BasisPoints: bp2}}, r)
		if err == nil {
			check("Rebates[0]", rb[0], nil)
			check("Rebates[1]", rb[1], nil)
			if rb[0] > amount-rb[1] {
				t.Fatalf("rebates %v sum beyond %d", rb, amount)
			}
		} else {
			check("Rebates", 0, err)
		}
	})
}
