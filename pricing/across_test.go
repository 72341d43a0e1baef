package pricing_test

import (
	"fmt"
	"math/rand/v2"
	"testing"

	"github.com/shopspring/decimal"

	"github.com/shopkit/shopkit/pricing"
)

// TestBuyXGetYAcrossBruteForce checks cross-product offers against a
// brute force over every way to call each unit bought, discounted or
// neither: the engine discounts as many units as any assignment can, and
// of those the cheapest (the dearest with MostExpensive), for random carts
// whose lines may be in the buy target, the get target or both.
func TestBuyXGetYAcrossBruteForce(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 5))
	for round := range 400 {
		buy, get := 1+r.Int64N(3), 1+r.Int64N(2)
		maxApps := r.Int64N(3)
		dearest := r.IntN(3) == 0
		var lines []pricing.Line
		for i := range 1 + r.IntN(3) {
			var tags []string
			switch r.IntN(3) {
			case 0:
				tags = []string{"buy"}
			case 1:
				tags = []string{"get"}
			default:
				tags = []string{"buy", "get"}
			}
			lines = append(lines, pricing.Line{SKU: fmt.Sprint("s", i), UnitPrice: decimal.NewFromInt(1 + r.Int64N(20)), Quantity: 1 + r.Int64N(3), Tags: tags})
		}
		rs, err := pricing.NewRuleSet([]pricing.Promotion{{ID: "x", Kind: pricing.BuyXGetY, Buy: buy, Get: get, MaxApplications: maxApps,
			MostExpensive: dearest, Target: pricing.Target{Tags: []string{"buy"}}, GetTarget: pricing.Target{Tags: []string{"get"}}}})
		if err != nil {
			t.Fatal(err)
		}
		q, err := rs.Quote(pricing.Cart{Lines: lines, Scale: 2})
		if err != nil {
			t.Fatal(err)
		}
		want := bruteAcross(lines, buy, get, maxApps, dearest)
		if !q.Discount.Equal(decimal.NewFromInt(want)) {
			t.Fatalf("round %d: buy %d get %d cap %d dearest %v, lines %+v: discount %s, brute force %d", round, buy, get, maxApps, dearest, lines, q.Discount, want)
		}
		// The discount sits on the get target's lines only.
		for i, l := range q.Lines {
			if !l.Discount.IsZero() && !contains(lines[i].Tags, "get") {
				t.Fatalf("round %d: line %d (%v) discounted", round, i, lines[i].Tags)
			}
		}
	}
}

func contains(xs []string, x string) bool {
	for _, y := range xs {
		if y == x {
			return true
		}
	}
	return false
}

func bruteAcross(lines []pricing.Line, buy, get, maxApps int64, dearest bool) int64 {
	type unit struct {
		price    int64
		buy, get bool
	}
	var units []unit
	for _, l := range lines {
		for range l.Quantity {
			units = append(units, unit{l.UnitPrice.IntPart(), contains(l.Tags, "buy"), contains(l.Tags, "get")})
		}
	}
	bestN, bestV := int64(0), int64(0)
	var walk func(i int, bought, disc, value int64)
	walk = func(i int, bought, disc, value int64) {
		if i == len(units) {
			apps := bought / buy
			if maxApps > 0 {
				apps = min(apps, maxApps)
			}
			if disc > apps*get {
				return
			}
			better := disc > bestN || (disc == bestN && ((!dearest && value < bestV) || (dearest && value > bestV)))
			if better {
				bestN, bestV = disc, value
			}
			return
		}
		u := units[i]
		walk(i+1, bought, disc, value)
		if u.buy {
			walk(i+1, bought+1, disc, value)
		}
		if u.get {
			walk(i+1, bought, disc+1, value+u.price)
		}
	}
	walk(0, 0, 0, 0)
	if bestN == 0 {
		return 0
	}
	return bestV
}
