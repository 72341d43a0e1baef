package pricing_test

import (
	"fmt"
	"testing"

	"github.com/shopspring/decimal"

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
