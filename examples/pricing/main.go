// Command pricing prices three carts under a rule set with a 每满 threshold
// reduction, a member price, a coupon with a minimum spend and an
// exclusive flash price, printing each explained quote; then 500
// shoppers race to redeem a coupon limited to 100 uses and the limit
// holds.
//
//	go run ./examples/pricing                  # redemptions in memory
//	go run ./examples/pricing -redis localhost:6379
//	go run ./examples/pricing -cluster 127.0.0.1:7001,127.0.0.1:7002,127.0.0.1:7003
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log"
	"os"
	"sync"
	"sync/atomic"
	"time"

	"github.com/shopspring/decimal"

	"github.com/shopkit/shopkit/examples/exampleredis"
	"github.com/shopkit/shopkit/pricing"
)

var d = decimal.RequireFromString

func main() {
	redisAddr := flag.String("redis", "", "Redis address for coupon redemptions (default: in memory)")
	clusterAddrs := flag.String("cluster", "", "comma-separated Redis Cluster seed addresses")
	flag.Bool("smoke", false, "accepted for CI; the example is already short")
	flag.Parse()

	rules, err := pricing.NewRuleSet([]pricing.Promotion{
		// Flash price on the kettle and a storewide 8% off exclude each
		// other: the engine picks whichever leaves the customer better off.
		{ID: "kettle-flash", Kind: pricing.FixedOff, Amount: d("40"), PerUnit: true, Group: "headline",
			Target: pricing.Target{SKUs: []string{"kettle"}}},
		{ID: "storewide-8", Kind: pricing.PercentOff, Percent: d("8"), Group: "headline"},
		{ID: "gold-tea", Kind: pricing.MemberPrice, MemberTier: "gold", Priority: -1,
			Prices: map[string]decimal.Decimal{"tea": d("42.00")}},
		// 每满100减10 on kitchenware, at most 50 off.
		{ID: "every-100-save-10", Kind: pricing.Threshold, Threshold: d("100"), Off: d("10"), Repeat: true, Cap: d("50"),
			Priority: 1, Target: pricing.Target{Tags: []string{"kitchen"}}},
		{ID: "coupon-SAVE20", Kind: pricing.FixedOff, Amount: d("20"), Coupon: "SAVE20", MinSpend: d("199"), Priority: 2},
	})
	if err != nil {
		log.Fatal(err)
	}
	carts := []struct {
		name string
		cart pricing.Cart
	}{
		{"a kettle and a wok, coupon SAVE20", pricing.Cart{Scale: 2, Coupons: []string{"SAVE20"}, Lines: []pricing.Line{
			{SKU: "kettle", UnitPrice: d("199.00"), Quantity: 1, Tags: []string{"kitchen"}},
			{SKU: "wok", UnitPrice: d("89.90"), Quantity: 1, Tags: []string{"kitchen"}},
		}}},
		{"a gold member's tea and cups", pricing.Cart{Scale: 2, Customer: pricing.Customer{Tier: "gold"}, Lines: []pricing.Line{
			{SKU: "tea", UnitPrice: d("58.00"), Quantity: 3},
			{SKU: "cups", UnitPrice: d("33.33"), Quantity: 3, Tags: []string{"kitchen"}},
		}}},
		{"three kettles, coupon below its minimum", pricing.Cart{Scale: 2, Coupons: []string{"SAVE20"}, Lines: []pricing.Line{
			{SKU: "kettle", UnitPrice: d("59.00"), Quantity: 3, Tags: []string{"kitchen"}},
		}}},
	}
	for _, c := range carts {
		q, err := rules.Quote(c.cart)
		if err != nil {
			log.Fatal(err)
		}
		fmt.Printf("== %s\n%s  (%s)\n\n", c.name, q, q.Search)
	}

	store, closeStore, err := openStore(*redisAddr, *clusterAddrs)
	if err != nil {
		log.Fatal(err)
	}
	defer closeStore()
	race(store)
}

// race has 500 shoppers redeem a coupon limited to 100 uses, one per
// customer; a fifth of them cancel, and their uses go to later shoppers.
func race(store *pricing.Redemptions) {
	ctx := context.Background()
	limits := pricing.CouponLimits{Global: 100, PerCustomer: 1}
	var held, refused, cancelled atomic.Int64
	var wg sync.WaitGroup
	for i := 0; i < 500; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			order := fmt.Sprintf("order-%d", i)
			_, err := store.Reserve(ctx, pricing.HoldRequest{Coupon: "SAVE20", Limits: limits, Customer: fmt.Sprintf("shopper-%d", i), OrderID: order, TTL: time.Minute})
			switch {
			case errors.Is(err, pricing.ErrGlobalLimit):
				refused.Add(1)
				return
			case err != nil:
				log.Fatal(err)
			}
			held.Add(1)
			if i%5 == 0 {
				if _, err := store.Release(ctx, pricing.RedemptionRef{Coupon: "SAVE20", OrderID: order}); err != nil {
					log.Fatal(err)
				}
				cancelled.Add(1)
				return
			}
			if _, err := store.Commit(ctx, pricing.RedemptionRef{Coupon: "SAVE20", OrderID: order}); err != nil {
				log.Fatal(err)
			}
		}()
	}
	wg.Wait()
	u, err := store.Usage(ctx, pricing.UsageQuery{Coupon: "SAVE20", Customer: "shopper-1"})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Printf("coupon SAVE20, limit 100: %d holds granted, %d cancelled and returned, %d refused; %d uses committed\n",
		held.Load(), cancelled.Load(), refused.Load(), u.Global)
	if u.Global > limits.Global || held.Load()-cancelled.Load() != u.Global {
		log.Fatalf("the limit did not hold: %d uses", u.Global)
	}
}

func openStore(redisAddr, clusterAddrs string) (*pricing.Redemptions, func(), error) {
	client := exampleredis.Dial(redisAddr, clusterAddrs)
	if client == nil {
		return pricing.NewMemoryRedemptions(pricing.RedemptionsOptions{}), func() {}, nil
	}
	prefix := fmt.Sprintf("example:coupon:%d", os.Getpid())
	s, err := pricing.NewRedisRedemptions(client, pricing.RedemptionsOptions{Prefix: prefix})
	if err != nil {
		return nil, nil, err
	}
	return s, func() {
		exampleredis.Close(client, "{"+prefix+":*")
	}, nil
}
