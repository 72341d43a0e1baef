package abtest_test

import (
	"context"
	"fmt"

	"github.com/alicebob/miniredis/v2"
	"github.com/redis/go-redis/v9"

	"github.com/shopkit/shopkit/abtest"
)

// Sticky assignments on Redis (here an embedded miniredis): the first
// variation saved for a user wins, so concurrent requests agree.
func ExampleNewRedisSticky() {
	ctx := context.Background()
	srv := miniredis.NewMiniRedis()
	if err := srv.Start(); err != nil {
		panic(err)
	}
	defer srv.Close()
	client := redis.NewClient(&redis.Options{Addr: srv.Addr()})
	defer client.Close()

	sticky, err := abtest.NewRedisSticky(client, abtest.StickyOptions{Prefix: "shop:ab"})
	if err != nil {
		panic(err)
	}
	key := abtest.AssignmentKey("checkout-button", 0)
	for _, v := range []int{1, 0} {
		got, err := sticky.Save(ctx, abtest.StickyAssignment{Attribute: "id", Value: "user-7", Key: key, Variation: v})
		if err != nil {
			panic(err)
		}
		fmt.Println("saved", v, "stored", got)
	}
	doc, _ := sticky.Load(ctx, abtest.StickyUser{Attribute: "id", Value: "user-7"})
	fmt.Println(doc)
	// Output:
	// saved 1 stored 1
	// saved 0 stored 1
	// map[checkout-button__0:1]
}
