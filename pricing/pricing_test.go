package pricing_test

import (
	"errors"
	"math/rand/v2"
	"strings"
	"testing"
	"time"

	"github.com/shopspring/decimal"

	"github.com/shopkit/shopkit/pricing"
)

var d = decimal.RequireFromString

func quote(t *testing.T, promos []pricing.Promotion, cart pricing.Cart) pricing.Quote {
	t.Helper()
	rs, err := pricing.NewRuleSet(promos)
	if err != nil {
		t.Fatal(err)
	}
	q, err := rs.Quote(cart)
	if err != nil {
		t.Fatal(err)
	}
	return q
}

func cart(prices ...string) pricing.Cart {
	c := pricing.Cart{Scale: 2}
	for i, p := range prices {
		c.Lines = append(c.Lines, pricing.Line{SKU: "sku" + string(rune('a'+i)), UnitPrice: d(p), Quantity: 1})
	}
	return c
}

func TestKinds(t *testing.T) {
	tests := []struct {
		name   string
		promo  pricing.Promotion
		cart   pricing.Cart
		total  string
		reason string
	}{
		// 250 has two full hundreds: 2 × 10 off.
		{"every full 100 saves 10", pricing.Promotion{ID: "p", Kind: pricing.Threshold, Threshold: d("100"), Off: d("10"), Repeat: true}, cart("150", "100"), "230", "2 time(s)"},
		{"capped at 15", pricing.Promotion{ID: "p", Kind: pricing.Threshold, Threshold: d("100"), Off: d("10"), Repeat: true, Cap: d("15")}, cart("150", "100"), "235", "capped"},
		{"below the threshold", pricing.Promotion{ID: "p", Kind: pricing.Threshold, Threshold: d("100"), Off: d("10")}, cart("99.99"), "99.99", "below threshold"},
		{"exactly the threshold", pricing.Promotion{ID: "p", Kind: pricing.Threshold, Threshold: d("100"), Off: d("10")}, cart("100"), "90", "reaching 100"},
		// 250 reaches the 200 tier (30 off), not the 300 one.
		{"tiers", pricing.Promotion{ID: "p", Kind: pricing.Tiered, Tiers: []pricing.Tier{{Threshold: d("100"), Off: d("10")}, {Threshold: d("200"), Off: d("30")}, {Threshold: d("300"), Off: d("50")}}}, cart("250"), "220", "reaches the tier at 200.00"},
		// 15% of 199.00 = 29.85.
		{"percent off", pricing.Promotion{ID: "p", Kind: pricing.PercentOff, Percent: d("15")}, cart("199"), "169.15", "15%"},
		// 15% of 0.99 = 0.1485, rounded down to 0.14: never over-discount.
		{"percent rounds down", pricing.Promotion{ID: "p", Kind: pricing.PercentOff, Percent: d("15")}, cart("0.99"), "0.85", "15%"},
		{"fixed off, never below zero", pricing.Promotion{ID: "p", Kind: pricing.FixedOff, Amount: d("50")}, cart("30"), "0", "50.00 off"},
		// Buy 2 get 1: of 30, 20 and 10 the cheapest (10) is free.
		{"buy 2 get 1 cheapest", pricing.Promotion{ID: "p", Kind: pricing.BuyXGetY, Buy: 2, Get: 1}, cart("30", "20", "10"), "50", "buy 2 get 1"},
		{"buy 2 get 1 dearest at half", pricing.Promotion{ID: "p", Kind: pricing.BuyXGetY, Buy: 2, Get: 1, MostExpensive: true, DiscountPercent: d("50")}, cart("30", "20", "10"), "45", "50%"},
	}
	for _, tt := range tests {
		q := quote(t, []pricing.Promotion{tt.promo}, tt.cart)
		if !q.Total.Equal(d(tt.total)) || !strings.Contains(q.Promotions[0].Reason, tt.reason) {
			t.Errorf("%s: total %s (%+v), want %s with reason containing %q", tt.name, q.Total, q.Promotions, tt.total, tt.reason)
		}
	}
}

func TestMemberPriceStaysOnItsLine(t *testing.T) {
	c := pricing.Cart{Scale: 2, Customer: pricing.Customer{Tier: "gold"}, Lines: []pricing.Line{
		{SKU: "mug", UnitPrice: d("30"), Quantity: 2}, {SKU: "tee", UnitPrice: d("100"), Quantity: 1},
	}}
	promo := pricing.Promotion{ID: "gold", Kind: pricing.MemberPrice, MemberTier: "gold", Prices: map[string]decimal.Decimal{"mug": d("25")}}
	q := quote(t, []pricing.Promotion{promo}, c)
	if !q.Lines[0].Discount.Equal(d("10")) || !q.Lines[1].Discount.IsZero() || !q.Total.Equal(d("150")) {
		t.Fatalf("member price: %+v", q.Lines)
	}
	c.Customer.Tier = "silver"
	if q := quote(t, []pricing.Promotion{promo}, c); !q.Total.Equal(d("160")) || q.Promotions[0].Applied {
		t.Fatalf("another tier: %s", q)
	}
}

// TestExclusiveGroupPicksBest: 10% off 300 is 30, 满200减50 is 50: in one
// group the engine takes the 50 and says why the other did not apply.
func TestExclusiveGroupPicksBest(t *testing.T) {
	q := quote(t, []pricing.Promotion{
		{ID: "ten-percent", Kind: pricing.PercentOff, Percent: d("10"), Group: "site"},
		{ID: "200-50", Kind: pricing.Threshold, Threshold: d("200"), Off: d("50"), Group: "site"},
		{ID: "ship", Kind: pricing.FixedOff, Amount: d("5"), Priority: 9},
	}, cart("300"))
	if !q.Total.Equal(d("245")) {
		t.Fatalf("total %s, want 245\n%s", q.Total, q)
	}
	var excluded string
	for _, e := range q.Promotions {
		if e.Promotion == "ten-percent" {
			excluded = e.Reason
		}
	}
	if !strings.Contains(excluded, "excluded by group site: 200-50 applies instead") || !strings.HasPrefix(q.Search, "exhaustive over 3") {
		t.Fatalf("explanation %q, search %q", excluded, q.Search)
	}
}

func TestStop(t *testing.T) {
	q := quote(t, []pricing.Promotion{
		{ID: "flash", Kind: pricing.PercentOff, Percent: d("50"), Priority: 1, Stop: true},
		{ID: "later", Kind: pricing.FixedOff, Amount: d("5"), Priority: 2},
	}, cart("100"))
	if !q.Total.Equal(d("50")) || q.Promotions[1].Applied || !strings.Contains(q.Promotions[1].Reason, "flash stops") {
		t.Fatalf("%s", q)
	}
}

// TestApportionmentAwkward: 10.00 off three lines of 33.33, 33.33 and
// 33.34: exact shares 3.333, 3.333, 3.334 → 3.33, 3.33, 3.34 (the spare
// cent to the largest remainder), summing to 10.00.
func TestApportionmentAwkward(t *testing.T) {
	q := quote(t, []pricing.Promotion{{ID: "ten", Kind: pricing.FixedOff, Amount: d("10")}}, cart("33.33", "33.33", "33.34"))
	want := []string{"3.33", "3.33", "3.34"}
	for i, l := range q.Lines {
		if !l.Discount.Equal(d(want[i])) || len(l.Discounts) != 1 || l.Discounts[0].Promotion != "ten" {
			t.Fatalf("line %d discount %s (%+v), want %s", i, l.Discount, l.Discounts, want[i])
		}
	}
}

func TestRuleSetInvalid(t *testing.T) {
	tests := []struct {
		promo pricing.Promotion
		field string
	}{
		{pricing.Promotion{ID: "a", Kind: pricing.PercentOff, Percent: d("-5")}, "Percent"},
		{pricing.Promotion{ID: "a", Kind: pricing.PercentOff, Percent: d("120")}, "Percent"},
		{pricing.Promotion{ID: "a", Kind: pricing.Threshold, Threshold: d("0"), Off: d("1")}, "Threshold"},
		{pricing.Promotion{ID: "a", Kind: pricing.Tiered, Tiers: []pricing.Tier{{Threshold: d("200"), Off: d("1")}, {Threshold: d("100"), Off: d("2")}}}, "Tiers[1].Threshold"},
		{pricing.Promotion{ID: "a", Kind: pricing.BuyXGetY}, "Buy"},
		{pricing.Promotion{ID: "a", Kind: 99}, "Kind"},
	}
	for _, tt := range tests {
		_, err := pricing.NewRuleSet([]pricing.Promotion{tt.promo})
		var ie *pricing.InputError
		if !errors.As(err, &ie) || ie.Promotion != "a" || ie.Field != tt.field || !errors.Is(err, pricing.ErrInvalidInput) {
			t.Errorf("%+v: err = %v, want InputError on %s", tt.promo, err, tt.field)
		}
	}
	rs, _ := pricing.NewRuleSet(nil)
	if _, err := rs.Quote(pricing.Cart{Scale: 2, Lines: []pricing.Line{{SKU: "x", UnitPrice: d("1.005"), Quantity: 1}}}); !errors.Is(err, pricing.ErrInvalidInput) {
		t.Fatalf("sub-cent price: err = %v", err)
	}
}

// TestProperties: on random carts and rule sets, every line's shares add
// up to its discount, no line goes below zero, and the total never
// exceeds the subtotal.
func TestProperties(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 1))
	for trial := 0; trial < 300; trial++ {
		var promos []pricing.Promotion
		for i := 0; i < 1+rng.IntN(6); i++ {
			id := "p" + string(rune('a'+i))
			switch rng.IntN(5) {
			case 0:
				promos = append(promos, pricing.Promotion{ID: id, Kind: pricing.PercentOff, Percent: decimal.NewFromInt(int64(1 + rng.IntN(60))), Group: []string{"", "g"}[rng.IntN(2)]})
			case 1:
				promos = append(promos, pricing.Promotion{ID: id, Kind: pricing.FixedOff, Amount: decimal.NewFromInt(int64(1 + rng.IntN(80))), PerUnit: rng.IntN(2) == 0})
			case 2:
				promos = append(promos, pricing.Promotion{ID: id, Kind: pricing.Threshold, Threshold: decimal.NewFromInt(int64(50 + rng.IntN(200))), Off: decimal.NewFromInt(int64(5 + rng.IntN(40))), Repeat: rng.IntN(2) == 0, Group: []string{"", "g", "h"}[rng.IntN(3)]})
			case 3:
				promos = append(promos, pricing.Promotion{ID: id, Kind: pricing.BuyXGetY, Buy: int64(1 + rng.IntN(3)), Get: 1})
			default:
				promos = append(promos, pricing.Promotion{ID: id, Kind: pricing.MemberPrice, MemberTier: "gold", Prices: map[string]decimal.Decimal{"s0": decimal.NewFromInt(int64(rng.IntN(50)))}})
			}
		}
		c := pricing.Cart{Scale: 2, Customer: pricing.Customer{Tier: "gold"}}
		for i := 0; i < 1+rng.IntN(5); i++ {
			c.Lines = append(c.Lines, pricing.Line{SKU: "s" + string(rune('0'+i)), UnitPrice: decimal.New(int64(rng.IntN(20000)), -2), Quantity: int64(1 + rng.IntN(4))})
		}
		q := quote(t, promos, c)
		for _, l := range q.Lines {
			sum := decimal.Zero
			for _, a := range l.Discounts {
				sum = sum.Add(a.Amount)
			}
			if !sum.Equal(l.Discount) || l.Total.IsNegative() || !l.Subtotal.Sub(l.Discount).Equal(l.Total) {
				t.Fatalf("line %+v", l)
			}
		}
		if q.Total.GreaterThan(q.Subtotal) || q.Total.IsNegative() {
			t.Fatalf("quote %s", q)
		}
	}
}

// TestLargeAmountsExact: a percentage of amounts near the int64 bound is
// computed in 128 bits and still apportioned to the minor unit.
func TestLargeAmountsExact(t *testing.T) {
	big1, big2 := d("9000000000000000.01"), d("7.77")
	q := quote(t, []pricing.Promotion{{ID: "pct", Kind: pricing.PercentOff, Percent: d("33.3333")}},
		pricing.Cart{Scale: 2, Lines: []pricing.Line{{SKU: "a", UnitPrice: big1, Quantity: 1}, {SKU: "b", UnitPrice: big2, Quantity: 1}}})
	sub := big1.Add(big2)
	want := sub.Mul(d("0.333333")).RoundFloor(2)
	if !q.Discount.Equal(want) {
		t.Fatalf("discount %s, want %s", q.Discount, want)
	}
	if sum := q.Lines[0].Discount.Add(q.Lines[1].Discount); !sum.Equal(want) {
		t.Fatalf("lines sum to %s, want %s", sum, want)
	}
}

// TestCouponEligibility: a coupon applies only when presented, within its
// window and once the targeted total (after earlier promotions) reaches
// its minimum spend.
func TestCouponEligibility(t *testing.T) {
	noon := time.Date(2026, 6, 18, 12, 0, 0, 0, time.UTC)
	promos := []pricing.Promotion{
		{ID: "sale", Kind: pricing.PercentOff, Percent: d("10"), Priority: 0},
		{ID: "c30", Kind: pricing.FixedOff, Amount: d("30"), Priority: 1, Coupon: "SAVE30", MinSpend: d("200"),
			Starts: noon.Add(-time.Hour), Ends: noon.Add(time.Hour)},
	}
	tests := []struct {
		name    string
		prices  []string
		coupons []string
		at      time.Time
		total   string
		reason  string
	}{
		// 250 − 25 (10%) = 225 ≥ 200, − 30 = 195.
		{"applies", []string{"250"}, []string{"SAVE30"}, noon, "195", "30.00 off"},
		{"not presented", []string{"250"}, nil, noon, "225", "coupon SAVE30 not presented"},
		// 220 − 22 = 198: the minimum is judged after the sale.
		{"below minimum after the sale", []string{"220"}, []string{"SAVE30"}, noon, "198", "below minimum spend: 198.00 of 200"},
		{"before its window", []string{"250"}, []string{"SAVE30"}, noon.Add(-2 * time.Hour), "225", "starts 2026-06-18T11:00:00Z"},
		{"at its end", []string{"250"}, []string{"SAVE30"}, noon.Add(time.Hour), "225", "ended 2026-06-18T13:00:00Z"},
	}
	for _, tt := range tests {
		c := cart(tt.prices...)
		c.Coupons, c.At = tt.coupons, tt.at
		q := quote(t, promos, c)
		var why string
		for _, e := range q.Promotions {
			if e.Promotion == "c30" {
				why = e.Reason
			}
		}
		if !q.Total.Equal(d(tt.total)) || !strings.Contains(why, tt.reason) {
			t.Errorf("%s: total %s (%q), want %s (%q)", tt.name, q.Total, why, tt.total, tt.reason)
		}
	}
	for _, bad := range []pricing.Promotion{
		{ID: "a", Kind: pricing.FixedOff, Amount: d("1"), Coupon: "has space"},
		{ID: "a", Kind: pricing.FixedOff, Amount: d("1"), MinSpend: d("-1")},
		{ID: "a", Kind: pricing.FixedOff, Amount: d("1"), Starts: noon, Ends: noon},
	} {
		if _, err := pricing.NewRuleSet([]pricing.Promotion{bad}); !errors.Is(err, pricing.ErrInvalidInput) {
			t.Errorf("%+v accepted", bad)
		}
	}
}

// TestHugeAmountsSaturate: rule amounts far beyond any cart neither
// overflow nor divide by zero, and a cart too large for int64 minor units
// is an input error.
func TestHugeAmountsSaturate(t *testing.T) {
	huge := d("99999999999999999999")
	q := quote(t, []pricing.Promotion{
		{ID: "thr", Kind: pricing.Threshold, Threshold: huge, Off: d("1")},
		{ID: "rep", Kind: pricing.Threshold, Threshold: d("0.01"), Off: huge, Repeat: true, Priority: 1},
		{ID: "unit", Kind: pricing.FixedOff, Amount: huge, PerUnit: true, Priority: 2},
	}, cart("10", "20"))
	if !q.Total.IsZero() || !q.Discount.Equal(d("30")) {
		t.Fatalf("quote %s", q)
	}
	rs, _ := pricing.NewRuleSet(nil)
	c := pricing.Cart{Scale: 2}
	for i := 0; i < 8; i++ {
		c.Lines = append(c.Lines, pricing.Line{SKU: "x", UnitPrice: d("9000000000000000"), Quantity: 1})
	}
	if _, err := rs.Quote(c); !errors.Is(err, pricing.ErrInvalidInput) {
		t.Fatalf("overflowing cart: err = %v", err)
	}
}

// TestBundleAndShipping works two carts by hand.
func TestBundleAndShipping(t *testing.T) {
	// Any 3 for 99 over units at 50, 40, 30, 20 (one each, plus a second
	// 50): the dearest 3 (50, 50, 40 = 140) bundle for 99, 41 off; the
	// other two units stay at list price.
	c := cart("50", "50", "40", "30", "20")
	q := quote(t, []pricing.Promotion{{ID: "3for99", Kind: pricing.BundlePrice, Buy: 3, Amount: d("99")}}, c)
	if !q.Discount.Equal(d("41")) || !q.Total.Equal(d("149")) {
		t.Fatalf("bundle: %s", q)
	}
	// A bundle dearer than its units takes nothing off, and says so.
	q = quote(t, []pricing.Promotion{{ID: "3for99", Kind: pricing.BundlePrice, Buy: 3, Amount: d("99")}}, cart("10", "10", "10"))
	if !q.Discount.IsZero() || !strings.Contains(q.Promotions[0].Reason, "not lower") {
		t.Fatalf("dear bundle: %s", q)
	}

	// Shipping 12: 5 off shipping once the cart reaches 99, then free
	// shipping for gold members; the second takes the 7 left.
	promos := []pricing.Promotion{
		{ID: "ship5", Kind: pricing.ShippingOff, Amount: d("5"), MinSpend: d("99")},
		{ID: "shipfree", Kind: pricing.ShippingOff, Priority: 1},
		{ID: "ten", Kind: pricing.FixedOff, Amount: d("10"), Priority: 2},
	}
	c = cart("120")
	c.Shipping = d("12")
	q = quote(t, promos, c)
	if !q.Shipping.IsZero() || !q.ShippingDiscount.Equal(d("12")) || !q.Discount.Equal(d("10")) || !q.Total.Equal(d("110")) {
		t.Fatalf("shipping: %s", q)
	}
	if q.Promotions[0].Reason != "5.00 off shipping" || q.Promotions[1].Reason != "free shipping" {
		t.Fatalf("reasons %+v", q.Promotions)
	}
	c = cart("50")
	c.Shipping = d("12")
	q = quote(t, promos[:1], c)
	if !q.Shipping.Equal(d("12")) || !q.Total.Equal(d("62")) {
		t.Fatalf("below minimum: %s", q)
	}
	c.Shipping = d("-1")
	rs, _ := pricing.NewRuleSet(nil)
	var ie *pricing.InputError
	if _, err := rs.Quote(c); !errors.As(err, &ie) || ie.Field != "Shipping" {
		t.Fatalf("negative shipping: %v", err)
	}
	for _, bad := range []pricing.Promotion{
		{ID: "a", Kind: pricing.BundlePrice, Buy: 1, Amount: d("1")},
		{ID: "a", Kind: pricing.BundlePrice, Buy: 2},
		{ID: "a", Kind: pricing.ShippingOff, Amount: d("-1")},
	} {
		if _, err := pricing.NewRuleSet([]pricing.Promotion{bad}); !errors.Is(err, pricing.ErrInvalidInput) {
			t.Errorf("%+v accepted", bad)
		}
	}
}

// TestExclusiveAppliesAlone: on a 300 cart, 10% then 每满100减10 take
// 30 + 20 (270 holds two full 100s) = 50. A 30% promotion that stacks
// with nothing takes 90 and wins alone; at 15% it takes 45 and the stack
// wins.
func TestExclusiveAppliesAlone(t *testing.T) {
	promos := []pricing.Promotion{
		{ID: "ten", Kind: pricing.PercentOff, Percent: d("10")},
		{ID: "every100", Kind: pricing.Threshold, Threshold: d("100"), Off: d("10"), Repeat: true, Priority: 1},
		{ID: "vip30", Kind: pricing.PercentOff, Percent: d("30"), Exclusive: true, Priority: 2},
	}
	q := quote(t, promos, cart("300"))
	if !q.Discount.Equal(d("90")) || !q.Promotions[2].Applied || q.Promotions[0].Applied ||
		!strings.Contains(q.Promotions[0].Reason, "vip30 applies alone") || !strings.Contains(q.Search, "1 exclusive") {
		t.Fatalf("exclusive should win alone: %s %+v", q, q.Promotions)
	}
	promos[2].Percent = d("15")
	q = quote(t, promos, cart("300"))
	if !q.Discount.Equal(d("50")) || q.Promotions[2].Applied || !strings.Contains(q.Promotions[2].Reason, "only alone") {
		t.Fatalf("stack should win: %s %+v", q, q.Promotions)
	}
	if _, err := pricing.NewRuleSet([]pricing.Promotion{{ID: "x", Kind: pricing.PercentOff, Percent: d("5"), Exclusive: true, Group: "g"}}); !errors.Is(err, pricing.ErrInvalidInput) {
		t.Fatal("Exclusive with a Group accepted")
	}
}

// TestPromotionEngineKata is the classic kata: A 50, B 30, C 20, D 15;
// 3 A for 130, 2 B for 45, C and D together for 30.
//
//	1 A, 1 B, 1 C                 = 50 + 30 + 20            = 100
//	5 A, 5 B, 1 C                 = 130+100 + 45·2+30 + 20  = 370
//	3 A, 5 B, 1 C, 1 D            = 130 + 120 + 30          = 280
//
// "C and D for 30" is a two-unit bundle over C and D; the kata never
// has two Cs, where this rule would bundle them too.
func TestPromotionEngineKata(t *testing.T) {
	promos := []pricing.Promotion{
		{ID: "3A", Kind: pricing.BundlePrice, Buy: 3, Amount: d("130"), Target: pricing.Target{SKUs: []string{"A"}}},
		{ID: "2B", Kind: pricing.BundlePrice, Buy: 2, Amount: d("45"), Target: pricing.Target{SKUs: []string{"B"}}},
		{ID: "CD", Kind: pricing.BundlePrice, Buy: 2, Amount: d("30"), Target: pricing.Target{SKUs: []string{"C", "D"}}},
	}
	price := map[string]string{"A": "50", "B": "30", "C": "20", "D": "15"}
	tests := []struct {
		qty  map[string]int64
		want string
	}{
		{map[string]int64{"A": 1, "B": 1, "C": 1}, "100"},
		{map[string]int64{"A": 5, "B": 5, "C": 1}, "370"},
		{map[string]int64{"A": 3, "B": 5, "C": 1, "D": 1}, "280"},
	}
	for _, tt := range tests {
		c := pricing.Cart{Scale: 2}
		for _, sku := range []string{"A", "B", "C", "D"} {
			if n := tt.qty[sku]; n > 0 {
				c.Lines = append(c.Lines, pricing.Line{SKU: sku, UnitPrice: d(price[sku]), Quantity: n})
			}
		}
		if q := quote(t, promos, c); !q.Total.Equal(d(tt.want)) {
			t.Errorf("%v: total %s, want %s\n%s", tt.qty, q.Total, tt.want, q)
		}
	}
}

// FuzzNewRuleSet: any promotion either builds or is an *InputError naming
// a field; none panics.
func FuzzNewRuleSet(f *testing.F) {
	f.Add(uint8(1), "10", "0", int64(0), int64(0), "g")
	f.Add(uint8(3), "100", "-1", int64(2), int64(1), "")
	f.Add(uint8(9), "abc", "1e400", int64(-1), int64(5), "x{y}")
	f.Fuzz(func(t *testing.T, kind uint8, a, b string, buy, get int64, coupon string) {
		x, errA := decimal.NewFromString(a)
		y, errB := decimal.NewFromString(b)
		if errA != nil || errB != nil {
			return
		}
		p := pricing.Promotion{ID: "p", Kind: pricing.Kind(kind), Percent: x, Amount: x, Threshold: x, Off: y, Cap: y,
			Tiers: []pricing.Tier{{Threshold: x, Off: y}}, Buy: buy, Get: get, DiscountPercent: y, MemberTier: coupon,
			Prices: map[string]decimal.Decimal{"s": y}, Coupon: coupon, MinSpend: y}
		rs, err := pricing.NewRuleSet([]pricing.Promotion{p})
		var ie *pricing.InputError
		if err != nil {
			if !errors.As(err, &ie) || ie.Field == "" || ie.Promotion != "p" {
				t.Fatalf("error %v does not name the promotion and field", err)
			}
			return
		}
		if _, err := rs.Quote(cart("19.99", "5")); err != nil {
			t.Fatalf("a valid rule set failed to quote: %v", err)
		}
	})
}
