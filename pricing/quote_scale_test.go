package pricing_test

import (
	"strings"
	"testing"

	"github.com/shopspring/decimal"

	"github.com/shopkit/shopkit/pricing"
)

// TestQuoteStringAtCartScale: the receipt prints amounts at the cart's
// scale, like the explanations.
//
// Regression: it printed two decimals whatever the currency.
func TestQuoteStringAtCartScale(t *testing.T) {
	rs, err := pricing.NewRuleSet([]pricing.Promotion{
		{ID: "tea-10", Kind: pricing.PercentOff, Percent: decimal.RequireFromString("10"), Target: pricing.Target{Tags: []string{"tea"}}},
	})
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		scale int32
		want  string
	}{
		{0, "subtotal 1234, discount 123, total 1111\n"},
		{2, "subtotal 1234.00, discount 123.40, total 1110.60\n"},
		{3, "subtotal 1234.000, discount 123.400, total 1110.600\n"},
	} {
		q, err := rs.Quote(pricing.Cart{Scale: tc.scale, Lines: []pricing.Line{{SKU: "a", UnitPrice: decimal.RequireFromString("1234"), Quantity: 1, Tags: []string{"tea"}}}})
		if err != nil {
			t.Fatal(err)
		}
		if got := q.String(); !strings.HasSuffix(got, tc.want) {
			t.Errorf("scale %d:\n%s\nwant the last line %q", tc.scale, got, tc.want)
		}
	}
}

// TestExplanationsAtCartScale: the reasons print the promotion's money at
// the cart's scale too — a yen cart "¥500 off for reaching 3000", a dinar
// cart three decimals.
//
// Regression: they printed each amount as the promotion wrote it ("500",
// "2.5"), whatever the cart's currency.
func TestExplanationsAtCartScale(t *testing.T) {
	rs, err := pricing.NewRuleSet([]pricing.Promotion{
		{ID: "t", Kind: pricing.Threshold, Threshold: decimal.RequireFromString("3000"), Off: decimal.RequireFromString("500")},
		{ID: "f", Kind: pricing.FixedOff, Amount: decimal.RequireFromString("2.5"), MinSpend: decimal.RequireFromString("99999")},
	})
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		scale       int32
		thresh, min string
	}{
		{0, "500 off for reaching 3000", "below minimum spend: 3500 of 99999"},
		{3, "500.000 off for reaching 3000.000", "below minimum spend: 3500.000 of 99999.000"},
	} {
		q, err := rs.Quote(pricing.Cart{Scale: tc.scale, Lines: []pricing.Line{{SKU: "a", UnitPrice: decimal.RequireFromString("3500"), Quantity: 1}}})
		if err != nil {
			t.Fatal(err)
		}
		if got := q.Promotions[1].Reason; got != tc.thresh {
			t.Errorf("scale %d: %q, want %q", tc.scale, got, tc.thresh)
		}
		if got := q.Promotions[0].Reason; got != tc.min {
			t.Errorf("scale %d: %q, want %q", tc.scale, got, tc.min)
		}
	}
}
