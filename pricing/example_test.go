package pricing_test

import (
	"context"
	"fmt"
	"regexp"
	"time"

	"github.com/shopspring/decimal"

	"github.com/shopkit/shopkit/pricing"
)

// A storewide 10% off, then 满200减20 judged on what is left, with a
// member price that stays on its own line.
func ExampleRuleSet_Quote() {
	rs, err := pricing.NewRuleSet([]pricing.Promotion{
		{ID: "gold-tea", Kind: pricing.MemberPrice, MemberTier: "gold", Priority: 0,
			Prices: map[string]decimal.Decimal{"tea": decimal.RequireFromString("8.00")}},
		{ID: "ten-percent", Kind: pricing.PercentOff, Priority: 1, Percent: decimal.NewFromInt(10)},
		{ID: "200-minus-20", Kind: pricing.Threshold, Priority: 2,
			Threshold: decimal.NewFromInt(200), Off: decimal.NewFromInt(20)},
	})
	if err != nil {
		panic(err)
	}
	q, err := rs.Quote(pricing.Cart{Scale: 2, Customer: pricing.Customer{Tier: "gold"}, Lines: []pricing.Line{
		{SKU: "kettle", UnitPrice: decimal.RequireFromString("199.00"), Quantity: 1},
		{SKU: "tea", UnitPrice: decimal.RequireFromString("10.00"), Quantity: 3},
	}})
	if err != nil {
		panic(err)
	}
	fmt.Print(q)
	// Output:
	// kettle     ×1       199.00  −37.75    = 161.25
	// tea        ×3        30.00  −10.55    = 19.45
	//   ✓ gold-tea: −6.00 (member prices for tier gold)
	//   ✓ ten-percent: −22.30 (10% off 223.00)
	//   ✓ 200-minus-20: −20.00 (20.00 off for reaching 200.00)
	// subtotal 229.00, discount 48.30, total 180.70
}

// Example_couponCodes makes single-use launch codes in bulk: any one of
// them takes 5 off, and each can be redeemed once.
func Example_couponCodes() {
	codes, err := pricing.GenerateCodes(pricing.CodeSpec{Pattern: "LAUNCH-#####-####", Count: 500})
	if err != nil {
		panic(err)
	}
	rules, err := pricing.NewRuleSet([]pricing.Promotion{{ID: "launch", Kind: pricing.FixedOff,
		Amount: decimal.NewFromInt(5), Codes: codes}})
	if err != nil {
		panic(err)
	}
	code := codes[42]
	q, err := rules.Quote(pricing.Cart{Scale: 2, Coupons: []string{code},
		Lines: []pricing.Line{{SKU: "mug", UnitPrice: decimal.NewFromInt(20), Quantity: 1}}})
	if err != nil {
		panic(err)
	}
	fmt.Println(len(codes), "codes like", regexp.MustCompile(`^LAUNCH-[2-9A-Z]{5}-[2-9A-Z]{4}$`).MatchString(code), "- total with one:", q.Total.StringFixed(2))

	ctx := context.Background()
	uses := pricing.NewMemoryRedemptions(pricing.RedemptionsOptions{})
	once := pricing.CouponLimits{Global: 1}
	for _, order := range []string{"order-1", "order-2"} {
		_, err := uses.Reserve(ctx, pricing.HoldRequest{Coupon: code, OrderID: order, Customer: "ann", Limits: once, TTL: time.Hour})
		fmt.Println(order, "holds the code:", err == nil)
	}
	// Output:
	// 500 codes like true - total with one: 15.00
	// order-1 holds the code: true
	// order-2 holds the code: false
}
