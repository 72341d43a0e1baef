package inventory_test

import (
	"context"
	"fmt"
	"time"

	"github.com/alicebob/miniredis/v2"
	"github.com/redis/go-redis/v9"

	"github.com/shopkit/shopkit/inventory"
)

// The same store on Redis (here an embedded miniredis; point the client at
// your Redis or Redis Cluster): every mutation is one Lua script, so any
// number of shop instances share the stock, and an Observer sees each call.
func ExampleNewRedis() {
	ctx := context.Background()
	srv := miniredis.NewMiniRedis()
	if err := srv.Start(); err != nil {
		panic(err)
	}
	defer srv.Close()
	client := redis.NewClient(&redis.Options{Addr: srv.Addr()})
	defer client.Close()

	store, err := inventory.NewRedis(client, inventory.Options{
		Prefix: "shop:stock",
		Observer: func(o inventory.Observation) {
			fmt.Printf("  observed %s %s, replayed %v, err %v\n", o.Op, o.ID, o.Replayed, o.Err)
		},
	})
	if err != nil {
		panic(err)
	}
	defer store.Close()
	if _, err := store.SetOnHand(ctx, inventory.Count{ID: "count-1", SKU: "mug", Location: "main", OnHand: 2, Reason: inventory.ReasonCount}); err != nil {
		panic(err)
	}
	req := inventory.Request{ID: "order-1", TTL: time.Minute, Lines: []inventory.Line{{SKU: "mug", Location: "main", Quantity: 2}}}
	for range 2 { // a client retrying its call
		r, err := store.Reserve(ctx, req)
		if err != nil {
			panic(err)
		}
		fmt.Println(r.ID, r.State, "replayed:", r.Replayed)
	}
	// Output:
	//   observed set_on_hand count-1, replayed false, err <nil>
	//   observed reserve order-1, replayed false, err <nil>
	// order-1 held replayed: false
	//   observed reserve order-1, replayed true, err <nil>
	// order-1 held replayed: true
}
