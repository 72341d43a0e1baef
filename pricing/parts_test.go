package pricing

import (
	"fmt"
	"math/rand/v2"
	"reflect"
	"testing"

	"github.com/shopspring/decimal"
)

// TestPartsMatchWholeEvaluation prices random carts under random rule sets
// with the part-by-part search and with whole evaluations: the quotes,
// explanations included, must be identical.
func TestPartsMatchWholeEvaluation(t *testing.T) {
	rng := rand.New(rand.NewPCG(11, 11))
	d := func(v int) decimal.Decimal { return decimal.NewFromInt(int64(v)) }
	split := 0
	for trial := 0; trial < 400; trial++ {
		var promos []Promotion
		for i, n := 0, 3+rng.IntN(14); i < n; i++ {
			p := Promotion{ID: fmt.Sprintf("p%02d", i), Priority: rng.IntN(6)}
			if rng.IntN(12) > 0 { // most target a category; a few the whole order
				p.Target = Target{Tags: []string{fmt.Sprintf("cat%d", rng.IntN(4))}}
			}
			switch rng.IntN(6) {
			case 0:
				p.Kind, p.Percent = PercentOff, d(1+rng.IntN(30))
			case 1:
				p.Kind, p.Threshold, p.Off, p.Repeat = Threshold, d(50+rng.IntN(100)), d(5+rng.IntN(20)), rng.IntN(2) == 0
			case 2:
				p.Kind, p.Amount, p.PerUnit = FixedOff, d(1+rng.IntN(15)), rng.IntN(2) == 0
			case 3:
				p.Kind, p.Buy, p.Get = BuyXGetY, int64(1+rng.IntN(3)), 1
			case 4:
				p.Kind, p.Amount = ShippingOff, d(rng.IntN(10))
			case 5:
				p.Kind, p.Tiers = Tiered, []Tier{{Threshold: d(40), Off: d(4)}, {Threshold: d(120), Off: d(15)}}
			}
			if rng.IntN(3) == 0 {
				p.MinSpend = d(20 + rng.IntN(100))
			}
			if rng.IntN(2) == 0 {
				p.Group = []string{"g1", "g2", "g3"}[rng.IntN(3)]
			}
			p.Stop = rng.IntN(40) == 0
			p.Exclusive = p.Group == "" && rng.IntN(12) == 0
			promos = append(promos, p)
		}
		rs, err := NewRuleSet(promos)
		if err != nil {
			t.Fatal(err)
		}
		cart := Cart{Scale: 2, Shipping: d(12)}
		for i, n := 0, 1+rng.IntN(8); i < n; i++ {
			cart.Lines = append(cart.Lines, Line{SKU: fmt.Sprintf("s%d", i), UnitPrice: decimal.New(int64(100+rng.IntN(9000)), -2),
				Quantity: int64(1 + rng.IntN(4)), Tags: []string{fmt.Sprintf("cat%d", rng.IntN(4))}})
		}
		if base, err := newState(cart); err == nil && splitOf(rs, cart, base) {
			split++
		}
		got, err := rs.Quote(cart)
		if err != nil {
			t.Fatal(err)
		}
		rs.wholeOnly = true
		want, err := rs.Quote(cart)
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(got, want) {
			t.Fatalf("trial %d: by parts\n%v\nwhole\n%v", trial, got, want)
		}
	}
	if split < 100 {
		t.Fatalf("only %d of 400 carts were split into parts: the test checks too little", split)
	}
}

func splitOf(rs *RuleSet, cart Cart, base *cartState) bool {
	plan := rs.prepare(cart)
	groups, order := groupsOf(plan)
	return rs.split(cart, plan, base, groups, order) != nil
}
