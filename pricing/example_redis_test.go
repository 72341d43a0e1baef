package pricing_test

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/alicebob/miniredis/v2"
	"github.com/redis/go-redis/v9"

	"github.com/shopkit/shopkit/pricing"
)

// Coupon uses held on Redis (here an embedded miniredis) against a limit
// of 2 in all: the third shopper is refused until a hold is released.
func ExampleNewRedisRedemptions() {
	ctx := context.Background()
	srv := miniredis.NewMiniRedis()
	if err := srv.Start(); err != nil {
		panic(err)
	}
	defer srv.Close()
	client := redis.NewClient(&redis.Options{Addr: srv.Addr()})
	defer client.Close()

	coupons, err := pricing.NewRedisRedemptions(client, pricing.RedemptionsOptions{Prefix: "shop:coupon"})
	if err != nil {
		panic(err)
	}
	limits := pricing.CouponLimits{Global: 2, PerCustomer: 1}
	for i, who := range []string{"ann", "bob", "cy"} {
		_, err := coupons.Reserve(ctx, pricing.HoldRequest{Coupon: "SAVE20", OrderID: fmt.Sprint("order-", i+1),
			Customer: who, Limits: limits, TTL: 15 * time.Minute})
		fmt.Println(who, "held:", err == nil, "limit reached:", errors.Is(err, pricing.ErrGlobalLimit))
	}
	if _, err := coupons.Release(ctx, pricing.RedemptionRef{Coupon: "SAVE20", OrderID: "order-2"}); err != nil {
		panic(err)
	}
	u, _ := coupons.Usage(ctx, pricing.UsageQuery{Coupon: "SAVE20", Customer: "bob"})
	fmt.Println("uses:", u.Global, "bob's:", u.Customer)
	// Output:
	// ann held: true limit reached: false
	// bob held: true limit reached: false
	// cy held: false limit reached: true
	// uses: 1 bob's: 0
}
