package inventory_test

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/shopkit/shopkit/inventory"
)

// Example_bundles: a gift set is a mug and two coasters. Bundles are
// reserved as their components, multiplied through, all or nothing; the
// shop shows as many gift sets as the scarcest component covers.
func Example_bundles() {
	ctx := context.Background()
	store := inventory.NewMemory(inventory.Options{})
	bundles := inventory.Bundles{"gift-set": {{SKU: "mug", Quantity: 1}, {SKU: "coaster", Quantity: 2}}}
	if err := bundles.Check(); err != nil {
		panic(err)
	}
	for sku, n := range map[string]int64{"mug": 5, "coaster": 7} {
		if _, err := store.Adjust(ctx, inventory.Adjustment{ID: "recv-" + sku, SKU: sku, Location: "wh1", Delta: n, Reason: inventory.ReasonReceipt}); err != nil {
			panic(err)
		}
	}
	n, _ := bundles.Available(ctx, store, "gift-set", "wh1")
	fmt.Println("gift sets on sale:", n)

	lines, _ := bundles.Expand([]inventory.Line{{SKU: "gift-set", Location: "wh1", Quantity: 4}})
	_, err := store.Reserve(ctx, inventory.Request{ID: "order-1", TTL: 15 * time.Minute, Lines: lines})
	var short *inventory.StockError
	if errors.As(err, &short) {
		fmt.Printf("4 gift sets: short of %s (%d of %d)\n", short.SKU, short.Available, short.Requested)
	}
	lines, _ = bundles.Expand([]inventory.Line{{SKU: "gift-set", Location: "wh1", Quantity: 3}})
	r, err := store.Reserve(ctx, inventory.Request{ID: "order-1", TTL: 15 * time.Minute, Lines: lines})
	if err != nil {
		panic(err)
	}
	fmt.Println("held:", r.Lines)
	n, _ = bundles.Available(ctx, store, "gift-set", "wh1")
	fmt.Println("gift sets on sale:", n)
	// Output:
	// gift sets on sale: 3
	// 4 gift sets: short of coaster (7 of 8)
	// held: [{coaster wh1 6} {mug wh1 3}]
	// gift sets on sale: 0
}
