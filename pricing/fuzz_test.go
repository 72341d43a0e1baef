package pricing_test

import (
	"errors"
	"testing"

	"github.com/shopspring/decimal"

	"github.com/shopkit/shopkit/pricing"
)

// FuzzQuote builds a rule set and cart from the fuzzer's numbers. A rule
// set is either rejected with ErrInvalidInput or quotes a cart whose line
// shares sum to each line's discount, no line below zero, the total never
// above the subtotal.
func FuzzQuote(f *testing.F) {
	f.Add(int64(1000), int64(50), int64(20000), int64(1500), int64(3), int64(999), int64(2), uint8(0))
	f.Add(int64(-5), int64(0), int64(0), int64(0), int64(1), int64(1), int64(1), uint8(7))
	f.Add(int64(333333), int64(1), int64(1), int64(1), int64(1000000000), int64(1), int64(0), uint8(255))
	f.Fuzz(func(t *testing.T, pctE4, off, threshold, price1 int64, qty1, price2, buy int64, flags uint8) {
		promos := []pricing.Promotion{
			{ID: "pct", Kind: pricing.PercentOff, Percent: decimal.New(pctE4, -4), Group: "g"},
			{ID: "thr", Kind: pricing.Threshold, Threshold: decimal.New(threshold, -2), Off: decimal.New(off, -2),
				Repeat: flags&1 != 0, Cap: decimal.New(off*3, -2), Priority: 1},
			{ID: "fix", Kind: pricing.FixedOff, Amount: decimal.New(off, -2), PerUnit: flags&2 != 0, Group: "g"},
			{ID: "bxgy", Kind: pricing.BuyXGetY, Buy: buy, Get: 1, MostExpensive: flags&4 != 0, Priority: 2, Stop: flags&8 != 0},
			{ID: "bundle", Kind: pricing.BundlePrice, Buy: buy + 1, Amount: decimal.New(threshold, -2), Priority: 3, Group: "h"},
			{ID: "ship", Kind: pricing.ShippingOff, Amount: decimal.New(off, -2), MinSpend: decimal.New(threshold, -2), Priority: 4},
		}
		rs, err := pricing.NewRuleSet(promos)
		if err != nil {
			if !errors.Is(err, pricing.ErrInvalidInput) {
				t.Fatalf("rule set error %v is not ErrInvalidInput", err)
			}
			return
		}
		c := pricing.Cart{Scale: 2, Shipping: decimal.New(int64(flags), -1), Lines: []pricing.Line{
			{SKU: "a", UnitPrice: decimal.New(price1, -2), Quantity: qty1},
			{SKU: "b", UnitPrice: decimal.New(price2, -2), Quantity: 2},
		}}
		q, err := rs.Quote(c)
		if err != nil {
			if !errors.Is(err, pricing.ErrInvalidInput) {
				t.Fatalf("quote error %v is not ErrInvalidInput", err)
			}
			return
		}
		sum := decimal.Zero
		for _, l := range q.Lines {
			shares := decimal.Zero
			for _, a := range l.Discounts {
				if !a.Amount.IsPositive() {
					t.Fatalf("share %+v not positive", a)
				}
				shares = shares.Add(a.Amount)
			}
			if !shares.Equal(l.Discount) || l.Total.IsNegative() || !l.Subtotal.Sub(l.Discount).Equal(l.Total) {
				t.Fatalf("line %+v", l)
			}
			sum = sum.Add(l.Discount)
		}
		if !sum.Equal(q.Discount) || q.Total.GreaterThan(q.Subtotal.Add(c.Shipping)) || q.Total.IsNegative() {
			t.Fatalf("quote %s", q)
		}
		var explained decimal.Decimal
		for _, e := range q.Promotions {
			explained = explained.Add(e.Amount)
		}
		if !explained.Equal(q.Discount.Add(q.ShippingDiscount)) || q.Shipping.IsNegative() ||
			!q.Total.Equal(q.Subtotal.Sub(q.Discount).Add(q.Shipping)) {
			t.Fatalf("explanations add to %s; quote %s", explained, q)
		}
	})
}
