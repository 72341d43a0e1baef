package inventory_test

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/shopkit/shopkit/inventory"
)

// Example_shipping: with Options.Shipping a paid order's units stay on hand
// as committed until they ship, in as many parts as the warehouse sends;
// units the customer cancels before shipping return to sale.
func Example_shipping() {
	ctx := context.Background()
	store := inventory.NewMemory(inventory.Options{Shipping: true})
	item := inventory.Item{SKU: "kettle", Location: "wh1"}
	show := func(when string) {
		l, _ := store.Levels(ctx, item)
		fmt.Printf("%-16s on hand %d, reserved %d, committed %d, available %d\n",
			when, l[0].OnHand, l[0].Reserved, l[0].Committed, l[0].Available())
	}
	if _, err := store.Adjust(ctx, inventory.Adjustment{ID: "recv-1", SKU: "kettle", Location: "wh1", Delta: 10, Reason: inventory.ReasonReceipt}); err != nil {
		panic(err)
	}
	if _, err := store.Reserve(ctx, inventory.Request{ID: "order-7", TTL: 15 * time.Minute,
		Lines: []inventory.Line{{SKU: "kettle", Location: "wh1", Quantity: 4}}}); err != nil {
		panic(err)
	}
	show("reserved:")
	if _, err := store.Commit(ctx, "order-7"); err != nil {
		panic(err)
	}
	show("paid:")

	if _, err := store.Ship(ctx, inventory.FulfilRequest{ID: "parcel-1", Reservation: "order-7",
		Lines: []inventory.Line{{SKU: "kettle", Location: "wh1", Quantity: 2}}}); err != nil {
		panic(err)
	}
	show("first parcel:")
	_, err := store.Ship(ctx, inventory.FulfilRequest{ID: "parcel-2", Reservation: "order-7",
		Lines: []inventory.Line{{SKU: "kettle", Location: "wh1", Quantity: 3}}})
	var tooMany *inventory.FulfilError
	if errors.As(err, &tooMany) {
		fmt.Printf("parcel of 3: only %d still committed\n", tooMany.Committed)
	}
	if _, err := store.Return(ctx, inventory.FulfilRequest{ID: "cancel-1", Reservation: "order-7",
		Lines: []inventory.Line{{SKU: "kettle", Location: "wh1", Quantity: 1}}}); err != nil {
		panic(err)
	}
	show("one cancelled:")
	f, err := store.Ship(ctx, inventory.FulfilRequest{ID: "parcel-2", Reservation: "order-7",
		Lines: []inventory.Line{{SKU: "kettle", Location: "wh1", Quantity: 1}}})
	if err != nil {
		panic(err)
	}
	show("second parcel:")
	l := f.Lines[0]
	fmt.Printf("order-7: shipped %d, returned %d, complete %v\n", l.Shipped, l.Returned, f.Complete)
	// Output:
	// reserved:        on hand 10, reserved 4, committed 0, available 6
	// paid:            on hand 10, reserved 0, committed 4, available 6
	// first parcel:    on hand 8, reserved 0, committed 2, available 6
	// parcel of 3: only 2 still committed
	// one cancelled:   on hand 8, reserved 0, committed 1, available 7
	// second parcel:   on hand 7, reserved 0, committed 0, available 7
	// order-7: shipped 3, returned 1, complete true
}
