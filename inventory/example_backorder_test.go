package inventory_test

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/shopkit/shopkit/inventory"
)

// Example_backorders: a mug sells beyond its stock up to a backorder
// limit; what waits cannot ship, and a restock fills the oldest backorder
// first.
func Example_backorders() {
	ctx := context.Background()
	store := inventory.NewMemory(inventory.Options{Shipping: true})
	defer store.Close()
	mug := inventory.Item{SKU: "mug", Location: "wh1"}
	if _, err := store.Adjust(ctx, inventory.Adjustment{ID: "count-1", SKU: "mug", Location: "wh1", Delta: 2, Reason: inventory.ReasonCount}); err != nil {
		panic(err)
	}
	if err := store.SetPolicy(ctx, inventory.Policy{SKU: "mug", Location: "wh1", Backorder: 5}); err != nil {
		panic(err)
	}
	show := func(when string) {
		levels, _ := store.Levels(ctx, mug)
		l := levels[0]
		fmt.Printf("%-9s on hand %d, committed %d, backordered %d, available %d\n", when, l.OnHand, l.Committed, l.Backordered, l.Available())
	}
	order := func(id string, qty int64) {
		r, err := store.Reserve(ctx, inventory.Request{ID: id, TTL: 15 * time.Minute,
			Lines: []inventory.Line{{SKU: "mug", Location: "wh1", Quantity: qty}}})
		if err != nil {
			fmt.Printf("%s: %v\n", id, err)
			return
		}
		if _, err := store.Commit(ctx, id); err != nil {
			panic(err)
		}
		fmt.Printf("%s: %d sold, %d backordered\n", id, qty, r.Waiting("mug", "wh1"))
	}
	order("order-1", 3)
	order("order-2", 4)
	order("order-3", 1)
	show("sold:")

	_, err := store.Ship(ctx, inventory.FulfilRequest{ID: "parcel-1", Reservation: "order-1",
		Lines: []inventory.Line{{SKU: "mug", Location: "wh1", Quantity: 3}}})
	var fe *inventory.FulfilError
	if errors.As(err, &fe) {
		fmt.Printf("parcel-1: %d committed, %d waiting for stock\n", fe.Committed, fe.Waiting)
	}
	if _, err := store.Ship(ctx, inventory.FulfilRequest{ID: "parcel-1", Reservation: "order-1",
		Lines: []inventory.Line{{SKU: "mug", Location: "wh1", Quantity: 2}}}); err != nil {
		panic(err)
	}
	show("shipped:")

	if _, err := store.Adjust(ctx, inventory.Adjustment{ID: "restock-1", SKU: "mug", Location: "wh1", Delta: 3, Reason: inventory.ReasonReceipt}); err != nil {
		panic(err)
	}
	for _, id := range []string{"order-1", "order-2"} {
		r, _ := store.Reservation(ctx, id)
		fmt.Printf("%s waits for %d\n", id, r.Waiting("mug", "wh1"))
	}
	show("restock:")
	// Output:
	// order-1: 3 sold, 1 backordered
	// order-2: 4 sold, 4 backordered
	// order-3: inventory: insufficient stock for mug at wh1: requested 1, available 0
	// sold:     on hand 2, committed 7, backordered 5, available 0
	// parcel-1: 3 committed, 1 waiting for stock
	// shipped:  on hand 0, committed 5, backordered 5, available 0
	// order-1 waits for 0
	// order-2 waits for 2
	// restock:  on hand 3, committed 5, backordered 2, available 0
}

// Example_preorders: a console sells before its release date up to what
// its purchase order brings; the delivery fills the pre-orders in the
// order they were placed.
func Example_preorders() {
	ctx := context.Background()
	today := time.Date(2027, 2, 1, 10, 0, 0, 0, time.UTC)
	store := inventory.NewMemory(inventory.Options{Shipping: true, Now: func() time.Time { return today }})
	defer store.Close()
	err := store.SetPolicy(ctx, inventory.Policy{SKU: "console", Location: "wh1",
		PreorderIncoming: true, ReleaseAt: time.Date(2027, 3, 1, 0, 0, 0, 0, time.UTC)})
	if err != nil {
		panic(err)
	}
	if _, err := store.Expect(ctx, inventory.PurchaseOrder{ID: "PO-7", ExpectedAt: time.Date(2027, 2, 20, 9, 0, 0, 0, time.UTC),
		Lines: []inventory.Line{{SKU: "console", Location: "wh1", Quantity: 100}}}); err != nil {
		panic(err)
	}
	for _, p := range []struct {
		id  string
		qty int64
	}{{"pre-1", 60}, {"pre-2", 30}, {"pre-3", 15}} {
		_, err := store.Reserve(ctx, inventory.Request{ID: p.id, TTL: time.Hour,
			Lines: []inventory.Line{{SKU: "console", Location: "wh1", Quantity: p.qty}}})
		if err != nil {
			fmt.Printf("%s: %v\n", p.id, err)
			continue
		}
		if _, err := store.Commit(ctx, p.id); err != nil {
			panic(err)
		}
		fmt.Printf("%s: %d pre-ordered\n", p.id, p.qty)
	}
	if _, err := store.Receive(ctx, inventory.ArrivalRequest{ID: "GRN-1", PurchaseOrder: "PO-7",
		Lines: []inventory.Line{{SKU: "console", Location: "wh1", Quantity: 70}}}); err != nil {
		panic(err)
	}
	for _, id := range []string{"pre-1", "pre-2"} {
		r, _ := store.Reservation(ctx, id)
		fmt.Printf("after 70 arrive, %s waits for %d\n", id, r.Waiting("console", "wh1"))
	}
	levels, _ := store.Levels(ctx, inventory.Item{SKU: "console", Location: "wh1"})
	l := levels[0]
	fmt.Printf("on hand %d, committed %d, backordered %d, incoming %d\n", l.OnHand, l.Committed, l.Backordered, l.Incoming)
	// Output:
	// pre-1: 60 pre-ordered
	// pre-2: 30 pre-ordered
	// pre-3: inventory: insufficient stock for console at wh1: requested 15, available 10
	// after 70 arrive, pre-1 waits for 0
	// after 70 arrive, pre-2 waits for 20
	// on hand 70, committed 90, backordered 20, incoming 30
}
