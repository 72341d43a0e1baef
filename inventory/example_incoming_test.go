package inventory_test

import (
	"context"
	"fmt"
	"time"

	"github.com/shopkit/shopkit/inventory"
)

// Example_incoming: a purchase order shows as incoming stock with its
// expected date until the delivery arrives; the supplier short-ships and
// the rest is cancelled.
func Example_incoming() {
	ctx := context.Background()
	store := inventory.NewMemory(inventory.Options{})
	item := inventory.Item{SKU: "lamp", Location: "wh1"}
	show := func(when string) {
		levels, _ := store.Levels(ctx, item)
		l := levels[0]
		next := "none"
		if !l.NextArrival.IsZero() {
			next = l.NextArrival.Format("2 Jan")
		}
		fmt.Printf("%-10s on hand %2d, available %2d, incoming %2d, next arrival %s\n",
			when, l.OnHand, l.Available(), l.Incoming, next)
	}
	if _, err := store.Adjust(ctx, inventory.Adjustment{ID: "count-1", SKU: "lamp", Location: "wh1", Delta: 3, Reason: inventory.ReasonCount}); err != nil {
		panic(err)
	}
	_, err := store.Expect(ctx, inventory.PurchaseOrder{ID: "PO-1001",
		ExpectedAt: time.Date(2027, 3, 1, 9, 0, 0, 0, time.UTC),
		Lines:      []inventory.Line{{SKU: "lamp", Location: "wh1", Quantity: 20}}})
	if err != nil {
		panic(err)
	}
	show("ordered:")
	if _, err := store.Receive(ctx, inventory.ArrivalRequest{ID: "GRN-77", PurchaseOrder: "PO-1001",
		Lines: []inventory.Line{{SKU: "lamp", Location: "wh1", Quantity: 18}}}); err != nil {
		panic(err)
	}
	show("arrived:")
	po, err := store.CancelIncoming(ctx, inventory.ArrivalRequest{ID: "short-PO-1001", PurchaseOrder: "PO-1001",
		Lines: []inventory.Line{{SKU: "lamp", Location: "wh1", Quantity: 2}}})
	if err != nil {
		panic(err)
	}
	show("cancelled:")
	l := po.Lines[0]
	fmt.Printf("PO-1001: received %d of %d, cancelled %d, complete %v\n", l.Received, l.Quantity, l.Cancelled, po.Complete)
	// Output:
	// ordered:   on hand  3, available  3, incoming 20, next arrival 1 Mar
	// arrived:   on hand 21, available 21, incoming  2, next arrival 1 Mar
	// cancelled: on hand 21, available 21, incoming  0, next arrival none
	// PO-1001: received 18 of 20, cancelled 2, complete true
}
