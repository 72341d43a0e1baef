package inventory_test

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/shopkit/shopkit/inventory"
)

func Example() {
	ctx := context.Background()
	store := inventory.NewMemory(inventory.Options{})
	defer store.Close()

	// Receive 5 mugs into the main warehouse.
	if _, err := store.Adjust(ctx, inventory.Adjustment{ID: "po-1001", SKU: "mug", Location: "main", Delta: 5, Reason: inventory.ReasonReceipt}); err != nil {
		panic(err)
	}

	// Hold 3 for a checkout; the hold lapses after 15 minutes unless paid.
	r, err := store.Reserve(ctx, inventory.Request{ID: "order-1", TTL: 15 * time.Minute,
		Lines: []inventory.Line{{SKU: "mug", Location: "main", Quantity: 3}}})
	if err != nil {
		panic(err)
	}
	fmt.Println(r.ID, r.State)

	// Another shopper asks for 3 more: only 2 are available.
	_, err = store.Reserve(ctx, inventory.Request{ID: "order-2", TTL: 15 * time.Minute,
		Lines: []inventory.Line{{SKU: "mug", Location: "main", Quantity: 3}}})
	var short *inventory.StockError
	if errors.As(err, &short) {
		fmt.Printf("short: %s requested %d, available %d\n", short.SKU, short.Requested, short.Available)
	}

	// The first order is paid.
	if _, err := store.Commit(ctx, "order-1"); err != nil {
		panic(err)
	}
	lv, _ := store.Levels(ctx, inventory.Item{SKU: "mug", Location: "main"})
	fmt.Printf("on hand %d, reserved %d, available %d\n", lv[0].OnHand, lv[0].Reserved, lv[0].Available())

	// Output:
	// order-1 held
	// short: mug requested 3, available 2
	// on hand 2, reserved 0, available 2
}

func ExampleEOQ() {
	// Snyder & Shen, Example 3.1: an order costs 8, a unit costs 0.225 a
	// year to hold, and 1300 units sell a year.
	q, cost, err := inventory.EOQ(8, 0.225, 1300)
	if err != nil {
		panic(err)
	}
	fmt.Printf("order %.1f units at a time; cost %.2f a year\n", q, cost)

	// Reorder when stock falls to lead-time demand plus safety stock.
	rop, err := inventory.ReorderPoint(0.95, inventory.Demand{Mean: 50, StdDev: 10}, inventory.LeadTime{Mean: 4})
	if err != nil {
		panic(err)
	}
	fmt.Printf("reorder at %.1f units\n", rop)
	// Output:
	// order 304.0 units at a time; cost 68.41 a year
	// reorder at 232.9 units
}
