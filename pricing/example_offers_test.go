package pricing_test

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/shopspring/decimal"

	"github.com/shopkit/shopkit/pricing"
)

// Buy two pairs of shoes, get a pair of socks free, at most twice: the
// shoes qualify, the socks are discounted, the cheapest socks first (two
// pairs at 6.00). As every discount, it is spread over the lines it
// discounts — the socks — in proportion to their amounts.
func Example_buyXGetYAcross() {
	rs, err := pricing.NewRuleSet([]pricing.Promotion{{ID: "shoes-socks", Kind: pricing.BuyXGetY, Buy: 2, Get: 1, MaxApplications: 2,
		Target: pricing.Target{Tags: []string{"shoes"}}, GetTarget: pricing.Target{Tags: []string{"socks"}}}})
	if err != nil {
		panic(err)
	}
	q, err := rs.Quote(pricing.Cart{Scale: 2, Lines: []pricing.Line{
		{SKU: "runner", UnitPrice: decimal.RequireFromString("80.00"), Quantity: 5, Tags: []string{"shoes"}},
		{SKU: "wool-socks", UnitPrice: decimal.RequireFromString("12.00"), Quantity: 2, Tags: []string{"socks"}},
		{SKU: "ankle-socks", UnitPrice: decimal.RequireFromString("6.00"), Quantity: 3, Tags: []string{"socks"}},
	}})
	if err != nil {
		panic(err)
	}
	fmt.Print(q)
	// Output:
	// runner     ×5       400.00  −0.00     = 400.00
	// wool-socks ×2        24.00  −6.86     = 17.14
	// ankle-socks ×3        18.00  −5.14     = 12.86
	//   ✓ shoes-socks: −12.00 (buy 2, get 1 of another target at 100% off: 2 unit(s) discounted, at most 2 application(s))
	// subtotal 442.00, discount 12.00, total 430.00
}

// A tote bag with every order of 100 or more, and a second one with
// every three books, at most two; the gifts show in the quote at their
// value without changing its total.
func Example_giftWithPurchase() {
	rs, err := pricing.NewRuleSet([]pricing.Promotion{
		{ID: "tote-over-100", Kind: pricing.GiftWithPurchase, MinSpend: decimal.NewFromInt(100),
			Gift: pricing.GiftItem{SKU: "tote", Value: decimal.RequireFromString("9.90")}},
		{ID: "bookmark-per-3", Kind: pricing.GiftWithPurchase, Buy: 3, MaxApplications: 2, Target: pricing.Target{Tags: []string{"book"}},
			Gift: pricing.GiftItem{SKU: "bookmark", Quantity: 2, Value: decimal.RequireFromString("1.50")}},
	})
	if err != nil {
		panic(err)
	}
	q, err := rs.Quote(pricing.Cart{Scale: 2, Lines: []pricing.Line{
		{SKU: "novel", UnitPrice: decimal.RequireFromString("15.00"), Quantity: 7, Tags: []string{"book"}},
	}})
	if err != nil {
		panic(err)
	}
	fmt.Print(q)
	// Output:
	// novel      ×7       105.00  −0.00     = 105.00
	//   ✓ bookmark-per-3: −0.00 (gift 4 × bookmark worth 6.00 for 105.00, at most 2 application(s))
	//   ✓ tote-over-100: −0.00 (gift 1 × tote worth 9.90 for 105.00)
	// gift bookmark ×4 (value 6.00) from bookmark-per-3
	// gift tote ×1 (value 9.90) from tote-over-100
	// subtotal 105.00, discount 0.00, total 105.00
}

// Promotions for some customers and orders only: a B2B discount in the
// EU, a welcome offer on the first order through the app, and a deal
// that needs three units of tea.
func Example_customerConditions() {
	rs, err := pricing.NewRuleSet([]pricing.Promotion{
		{ID: "b2b-eu", Kind: pricing.PercentOff, Percent: decimal.NewFromInt(8),
			Conditions: pricing.Conditions{CustomerGroups: []string{"b2b"}, Regions: []string{"eu"}, Currencies: []string{"EUR"}}},
		{ID: "welcome-app", Kind: pricing.FixedOff, Amount: decimal.NewFromInt(5),
			Conditions: pricing.Conditions{FirstOrder: true, Channels: []string{"app"}}},
		{ID: "tea-trio", Kind: pricing.FixedOff, Amount: decimal.NewFromInt(3),
			Conditions: pricing.Conditions{MinUnits: []pricing.TagUnits{{Tag: "tea", Units: 3}}}},
	})
	if err != nil {
		panic(err)
	}
	cart := pricing.Cart{Scale: 2, Region: "eu", Currency: "EUR", Channel: "web",
		Customer: pricing.Customer{Groups: []string{"b2b"}, FirstOrder: true},
		Lines:    []pricing.Line{{SKU: "sencha", UnitPrice: decimal.RequireFromString("12.50"), Quantity: 2, Tags: []string{"tea"}}}}
	q, err := rs.Quote(cart)
	if err != nil {
		panic(err)
	}
	for _, e := range q.Promotions {
		fmt.Printf("%s applied=%v: %s\n", e.Promotion, e.Applied, e.Reason)
	}
	// Output:
	// b2b-eu applied=true: 8% off 25.00
	// tea-trio applied=false: not eligible: 2 unit(s) tagged tea, needs 3
	// welcome-app applied=false: not eligible: channel "web" not in app
}

// A spring campaign may give away 25.00 in all, across every shop and
// instance: each checkout holds its discount against the budget (here in
// memory; NewRedisRedemptions shares it), and a checkout the budget
// refuses is priced again without the campaign. A payment commits the
// hold; an abandoned checkout's hold lapses and gives the amount back.
func Example_campaignBudget() {
	ctx := context.Background()
	rs, err := pricing.NewRuleSet([]pricing.Promotion{{ID: "spring-10", Kind: pricing.PercentOff, Percent: decimal.NewFromInt(10), Campaign: "spring"}})
	if err != nil {
		panic(err)
	}
	budgets := pricing.NewMemoryRedemptions(pricing.RedemptionsOptions{})
	limits := pricing.CouponLimits{Budget: 2500} // minor units: 25.00

	checkout := func(order string, price string) {
		cart := pricing.Cart{Scale: 2, Lines: []pricing.Line{{SKU: "jacket", UnitPrice: decimal.RequireFromString(price), Quantity: 1}}}
		q, err := rs.Quote(cart)
		if err != nil {
			panic(err)
		}
		for _, e := range q.Promotions {
			if !e.Applied || e.Campaign == "" {
				continue
			}
			_, err := budgets.Reserve(ctx, pricing.HoldRequest{Coupon: e.Campaign, OrderID: order, Customer: "c-" + order,
				Limits: limits, TTL: 15 * time.Minute, Amount: e.Amount.Shift(q.Scale).IntPart()})
			if errors.Is(err, pricing.ErrBudgetExhausted) {
				cart.Exhausted = append(cart.Exhausted, e.Campaign)
			} else if err != nil {
				panic(err)
			}
		}
		if len(cart.Exhausted) > 0 {
			if q, err = rs.Quote(cart); err != nil {
				panic(err)
			}
		}
		fmt.Printf("%s: pays %s (discount %s)\n", order, q.Total.StringFixed(2), q.Discount.StringFixed(2))
	}
	checkout("o1", "120.00")
	checkout("o2", "90.00")
	checkout("o3", "50.00")
	if _, err := budgets.Commit(ctx, pricing.RedemptionRef{Coupon: "spring", OrderID: "o1"}); err != nil {
		panic(err)
	}
	u, _ := budgets.Usage(ctx, pricing.UsageQuery{Coupon: "spring", Customer: "c-o1"})
	fmt.Printf("spent %s of 25.00 by %d order(s)\n", decimal.New(u.Spent, -2).StringFixed(2), u.Global)
	// Output:
	// o1: pays 108.00 (discount 12.00)
	// o2: pays 81.00 (discount 9.00)
	// o3: pays 50.00 (discount 0.00)
	// spent 21.00 of 25.00 by 2 order(s)
}
