package pricing_test

import (
	"errors"
	"testing"

	"github.com/shopspring/decimal"

	"github.com/shopkit/shopkit/pricing"
)

func TestConditions(t *testing.T) {
	rs, err := pricing.NewRuleSet([]pricing.Promotion{{ID: "c", Kind: pricing.FixedOff, Amount: decimal.NewFromInt(1),
		Conditions: pricing.Conditions{CustomerGroups: []string{"vip", "staff"}, Regions: []string{"us"}, Channels: []string{"pos"},
			Currencies: []string{"USD"}, FirstOrder: true, MinUnits: []pricing.TagUnits{{Tag: "a", Units: 2}}}}})
	if err != nil {
		t.Fatal(err)
	}
	ok := pricing.Cart{Scale: 2, Region: "us", Channel: "pos", Currency: "USD",
		Customer: pricing.Customer{Groups: []string{"staff"}, FirstOrder: true},
		Lines:    []pricing.Line{{SKU: "x", UnitPrice: decimal.NewFromInt(10), Quantity: 1, Tags: []string{"a"}}, {SKU: "y", UnitPrice: decimal.NewFromInt(10), Quantity: 1, Tags: []string{"a"}}}}
	q, _ := rs.Quote(ok)
	if !q.Discount.Equal(decimal.NewFromInt(1)) {
		t.Fatalf("all conditions met: %s", q)
	}
	for name, spoil := range map[string]func(*pricing.Cart){
		"group":      func(c *pricing.Cart) { c.Customer.Groups = []string{"b2b"} },
		"region":     func(c *pricing.Cart) { c.Region = "eu" },
		"channel":    func(c *pricing.Cart) { c.Channel = "web" },
		"currency":   func(c *pricing.Cart) { c.Currency = "EUR" },
		"firstOrder": func(c *pricing.Cart) { c.Customer.FirstOrder = false },
		"minUnits":   func(c *pricing.Cart) { c.Lines = c.Lines[:1] },
	} {
		c := ok
		c.Customer.Groups = append([]string(nil), ok.Customer.Groups...)
		spoil(&c)
		q, _ := rs.Quote(c)
		if !q.Discount.IsZero() || q.Promotions[0].Applied {
			t.Errorf("%s unmet, yet: %s", name, q)
		}
	}
}

func TestCampaignExhausted(t *testing.T) {
	rs, err := pricing.NewRuleSet([]pricing.Promotion{{ID: "p", Kind: pricing.FixedOff, Amount: decimal.NewFromInt(1), Campaign: "spring"}})
	if err != nil {
		t.Fatal(err)
	}
	cart := pricing.Cart{Scale: 2, Lines: []pricing.Line{{SKU: "x", UnitPrice: decimal.NewFromInt(10), Quantity: 1}}}
	if q, _ := rs.Quote(cart); !q.Discount.Equal(decimal.NewFromInt(1)) {
		t.Fatal(q)
	}
	cart.Exhausted = []string{"spring"}
	if q, _ := rs.Quote(cart); !q.Discount.IsZero() || q.Promotions[0].Reason != "not eligible: campaign spring has no budget left" {
		t.Fatal(q)
	}
}

// TestBuyXGetYMaxApplications: the cap holds for a same-target offer too.
func TestBuyXGetYMaxApplications(t *testing.T) {
	rs, err := pricing.NewRuleSet([]pricing.Promotion{{ID: "b", Kind: pricing.BuyXGetY, Buy: 1, Get: 1, MaxApplications: 1}})
	if err != nil {
		t.Fatal(err)
	}
	q, _ := rs.Quote(pricing.Cart{Scale: 2, Lines: []pricing.Line{{SKU: "x", UnitPrice: decimal.NewFromInt(10), Quantity: 6}}})
	if !q.Discount.Equal(decimal.NewFromInt(10)) {
		t.Fatalf("got %s", q)
	}
}

func TestOfferValidation(t *testing.T) {
	for _, tc := range []struct {
		p     pricing.Promotion
		field string
	}{
		{pricing.Promotion{ID: "g", Kind: pricing.GiftWithPurchase}, "Gift.SKU"},
		{pricing.Promotion{ID: "g", Kind: pricing.GiftWithPurchase, Gift: pricing.GiftItem{SKU: "t", Value: decimal.NewFromInt(-1)}}, "Gift.Value"},
		{pricing.Promotion{ID: "g", Kind: pricing.GiftWithPurchase, Group: "x", Gift: pricing.GiftItem{SKU: "t"}}, "Exclusive"},
		{pricing.Promotion{ID: "p", Kind: pricing.PercentOff, Percent: decimal.NewFromInt(5), GetTarget: pricing.Target{SKUs: []string{"a"}}}, "GetTarget"},
		{pricing.Promotion{ID: "b", Kind: pricing.BuyXGetY, Buy: 1, Get: 1, MaxApplications: -1}, "MaxApplications"},
		{pricing.Promotion{ID: "p", Kind: pricing.PercentOff, Percent: decimal.NewFromInt(5), Conditions: pricing.Conditions{MinUnits: []pricing.TagUnits{{Tag: "a"}}}}, "Conditions.MinUnits[0]"},
		{pricing.Promotion{ID: "p", Kind: pricing.PercentOff, Percent: decimal.NewFromInt(5), Campaign: "a:b"}, "Campaign"},
	} {
		_, err := pricing.NewRuleSet([]pricing.Promotion{tc.p})
		var ie *pricing.InputError
		if !errors.As(err, &ie) || ie.Field != tc.field {
			t.Errorf("%+v: got %v, want an InputError on %s", tc.p, err, tc.field)
		}
	}
}
