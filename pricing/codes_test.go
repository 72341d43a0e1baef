package pricing_test

import (
	"errors"
	"regexp"
	"testing"

	"github.com/shopspring/decimal"

	"github.com/shopkit/shopkit/pricing"
)

func TestGenerateCodes(t *testing.T) {
	taken := "WELCOME-222222222"
	codes, err := pricing.GenerateCodes(pricing.CodeSpec{Pattern: "WELCOME-#########", Count: 2000,
		Taken: func(c string) bool { return c == taken }})
	if err != nil {
		t.Fatal(err)
	}
	shape := regexp.MustCompile(`^WELCOME-[23456789ABCDEFGHJKMNPQRSTUVWXYZ]{9}$`)
	seen := map[string]bool{}
	for _, c := range codes {
		if !shape.MatchString(c) || seen[c] || c == taken {
			t.Fatalf("code %q: shape %v, repeated %v", c, shape.MatchString(c), seen[c])
		}
		seen[c] = true
	}
	if len(codes) != 2000 {
		t.Fatalf("%d codes, want 2000", len(codes))
	}
	for _, bad := range []pricing.CodeSpec{
		{Pattern: "SALE-####", Count: 1},                     // 20 bits
		{Pattern: "########", Count: 1_000_000},              // 40 bits for 2^20 codes
		{Pattern: "X:########", Count: 1},                    // not an ID
		{Pattern: "########", Alphabet: "AAB", Count: 1},     // repeated symbol
		{Pattern: "############", Count: 0},                  // none
		{Pattern: "############", Alphabet: "a b", Count: 1}, // a space
	} {
		var ie *pricing.InputError
		if _, err := pricing.GenerateCodes(bad); !errors.As(err, &ie) {
			t.Errorf("GenerateCodes(%+v): %v, want an InputError", bad, err)
		}
	}
}

// TestPromotionCodes: a promotion with many codes applies to a cart
// presenting any one of them, and to no other.
func TestPromotionCodes(t *testing.T) {
	rs, err := pricing.NewRuleSet([]pricing.Promotion{{ID: "launch", Kind: pricing.FixedOff, Amount: decimal.NewFromInt(5),
		Codes: []string{"LAUNCH-AAAA", "LAUNCH-BBBB"}}})
	if err != nil {
		t.Fatal(err)
	}
	cart := func(codes ...string) pricing.Cart {
		return pricing.Cart{Scale: 2, Coupons: codes, Lines: []pricing.Line{{SKU: "a", UnitPrice: decimal.NewFromInt(20), Quantity: 1}}}
	}
	for _, tc := range []struct {
		codes []string
		total string
	}{{nil, "20.00"}, {[]string{"LAUNCH-CCCC"}, "20.00"}, {[]string{"LAUNCH-BBBB"}, "15.00"}, {[]string{"X", "LAUNCH-AAAA"}, "15.00"}} {
		q, err := rs.Quote(cart(tc.codes...))
		if err != nil {
			t.Fatal(err)
		}
		if got := q.Total.StringFixed(2); got != tc.total {
			t.Errorf("codes %v: total %s, want %s", tc.codes, got, tc.total)
		}
	}
	if _, err := pricing.NewRuleSet([]pricing.Promotion{{ID: "p", Kind: pricing.FixedOff, Amount: decimal.NewFromInt(1), Codes: []string{"A:B"}}}); err == nil {
		t.Fatal("a code that is not an ID was accepted")
	}
}
