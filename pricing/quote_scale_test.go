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
