package inventorytest

import (
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/shopkit/shopkit/inventory"
)

// wantCommitted checks an item's full level, committed units included.
func wantCommitted(t *testing.T, s *inventory.Store, sku, loc string, onHand, reserved, committed int64) {
	t.Helper()
	got := level(t, s, sku, loc)
	if got.OnHand != onHand || got.Reserved != reserved || got.Committed != committed {
		t.Fatalf("level %s@%s = on hand %d, reserved %d, committed %d; want %d, %d, %d",
			sku, loc, got.OnHand, got.Reserved, got.Committed, onHand, reserved, committed)
	}
}

func ship(s *inventory.Store, id, res string, lines ...inventory.Line) (inventory.Fulfilment, error) {
	return s.Ship(ctx, inventory.FulfilRequest{ID: id, Reservation: res, Lines: lines})
}

func giveBack(s *inventory.Store, id, res string, lines ...inventory.Line) (inventory.Fulfilment, error) {
	return s.Return(ctx, inventory.FulfilRequest{ID: id, Reservation: res, Lines: lines})
}

// wantFulfilment checks a fulfilment's shipped and returned units per
// reservation line, as "shipped/returned" pairs in line order.
func wantFulfilment(t *testing.T, f inventory.Fulfilment, err error, complete, replayed bool, want ...string) {
	t.Helper()
	if err != nil {
		t.Fatalf("fulfil: %v", err)
	}
	var got []string
	for _, l := range f.Lines {
		got = append(got, fmt.Sprintf("%d/%d", l.Shipped, l.Returned))
	}
	if fmt.Sprint(got) != fmt.Sprint(want) || f.Complete != complete || f.Replayed != replayed {
		t.Fatalf("fulfilment %+v; want shipped/returned %v, complete %v, replayed %v", f, want, complete, replayed)
	}
}

// testShipping: with Options.Shipping a commit keeps its units on hand
// and committed (not available, not below an adjustment's floor) until
// they ship, per line and in parts, or return to available; Ship and
// Return are idempotent and refuse more than is committed, writing
// nothing.
func testShipping(t *testing.T, newStore NewStore) {
	s := newStore(t, inventory.Options{Shipping: true})
	stock(t, s, "apple", "wh1", 10)
	stock(t, s, "pear", "wh1", 5)
	reserve(t, s, "order", time.Minute, line("apple", "wh1", 4), line("pear", "wh1", 2))
	mustOK(t, s.Commit, "order")
	wantCommitted(t, s, "apple", "wh1", 10, 0, 4)
	wantCommitted(t, s, "pear", "wh1", 5, 0, 2)
	if got := level(t, s, "apple", "wh1").Available(); got != 6 {
		t.Fatalf("available after commit = %d, want 6", got)
	}
	// Committed units are spoken for: an adjustment may not take on hand
	// below reserved + committed, and a reservation may not have them.
	_, err := s.SetOnHand(ctx, inventory.Count{ID: "count", SKU: "apple", Location: "wh1", OnHand: 3, Reason: inventory.ReasonCount})
	var re *inventory.ReservedError
	if !errors.As(err, &re) || re.Committed != 4 || re.OnHand != 3 {
		t.Fatalf("count below committed: err = %v, want a *ReservedError with 4 committed", err)
	}
	if _, err := s.Reserve(ctx, inventory.Request{ID: "greedy", TTL: time.Minute, Lines: []inventory.Line{line("apple", "wh1", 7)}}); !errors.Is(err, inventory.ErrInsufficientStock) {
		t.Fatalf("reserving committed units: err = %v, want ErrInsufficientStock", err)
	}

	f, err := ship(s, "parcel-1", "order", line("apple", "wh1", 3))
	wantFulfilment(t, f, err, false, false, "3/0", "0/0")
	wantCommitted(t, s, "apple", "wh1", 7, 0, 1)
	f, err = ship(s, "parcel-1", "order", line("apple", "wh1", 3))
	wantFulfilment(t, f, err, false, true, "3/0", "0/0")
	wantCommitted(t, s, "apple", "wh1", 7, 0, 1)
	_, err = ship(s, "parcel-1", "order", line("apple", "wh1", 1))
	wantErr(t, err, inventory.ErrIDConflict)
	_, err = giveBack(s, "parcel-1", "order", line("apple", "wh1", 3))
	wantErr(t, err, inventory.ErrIDConflict)

	// More than is left, or an item the reservation does not hold: a
	// *FulfilError for that line, and nothing written (not even the
	// pear line that would fit).
	_, err = ship(s, "too-many", "order", line("apple", "wh1", 2), line("pear", "wh1", 1))
	var fe *inventory.FulfilError
	if !errors.As(err, &fe) || fe.SKU != "apple" || fe.Requested != 2 || fe.Committed != 1 || fe.Reservation != "order" {
		t.Fatalf("over-ship: err = %v, want a *FulfilError for apple with 1 committed", err)
	}
	_, err = ship(s, "stranger", "order", line("plum", "wh1", 1))
	if !errors.As(err, &fe) || fe.SKU != "plum" || fe.Committed != 0 {
		t.Fatalf("ship of an item not in the reservation: err = %v, want a *FulfilError with 0 committed", err)
	}
	wantCommitted(t, s, "pear", "wh1", 5, 0, 2)
	// A failed request wrote nothing, so its ID is free.
	f, err = giveBack(s, "too-many", "order", line("apple", "wh1", 1))
	wantFulfilment(t, f, err, false, false, "3/1", "0/0")
	wantCommitted(t, s, "apple", "wh1", 7, 0, 0)
	if got := level(t, s, "apple", "wh1").Available(); got != 7 {
		t.Fatalf("available after the return = %d, want 7", got)
	}

	f, err = ship(s, "parcel-2", "order", line("pear", "wh1", 2))
	wantFulfilment(t, f, err, true, false, "3/1", "2/0")
	wantCommitted(t, s, "pear", "wh1", 3, 0, 0)
	_, err = ship(s, "parcel-3", "order", line("pear", "wh1", 1))
	if !errors.As(err, &fe) || fe.Committed != 0 {
		t.Fatalf("ship after everything shipped: err = %v, want a *FulfilError with 0 committed", err)
	}
	f, err = ship(s, "parcel-1", "order", line("apple", "wh1", 3))
	wantFulfilment(t, f, err, false, true, "3/0", "0/0")
	wantState(t, s, "order", inventory.Committed)
}

// testShipStates: Ship and Return need a committed reservation (a
// *StateError names the state it is in, a due hold expiring first); a
// store without Options.Shipping takes units off hand at Commit and
// leaves nothing to ship; bad input names its field and writes nothing.
func testShipStates(t *testing.T, newStore NewStore) {
	s := newStore(t, inventory.Options{Shipping: true})
	stock(t, s, "apple", "wh1", 10)
	reserve(t, s, "held", time.Minute, line("apple", "wh1", 1))
	reserve(t, s, "released", time.Minute, line("apple", "wh1", 1))
	mustOK(t, s.Release, "released")
	reserve(t, s, "due", shortTTL, line("apple", "wh1", 1))
	pastShortTTL()
	for _, c := range []struct {
		id   string
		want error
	}{{"held", inventory.ErrNotHeld}, {"released", inventory.ErrReleased}, {"due", inventory.ErrExpired}} {
		_, err := ship(s, "p-"+c.id, c.id, line("apple", "wh1", 1))
		var se *inventory.StateError
		if !errors.As(err, &se) || !errors.Is(err, c.want) || se.Op != "ship" {
			t.Fatalf("ship of %s: err = %v, want a ship *StateError matching %v", c.id, err, c.want)
		}
	}
	_, err := giveBack(s, "r-held", "held", line("apple", "wh1", 1))
	var se *inventory.StateError
	if !errors.As(err, &se) || se.State != inventory.Held || se.Op != "return" {
		t.Fatalf("return of a held reservation: err = %v, want a return *StateError in held", err)
	}
	_, err = ship(s, "p-nobody", "nobody", line("apple", "wh1", 1))
	wantErr(t, err, inventory.ErrNotFound)
	wantCommitted(t, s, "apple", "wh1", 10, 1, 0)

	for _, c := range []struct {
		r     inventory.FulfilRequest
		field string
	}{
		{inventory.FulfilRequest{Reservation: "held", Lines: []inventory.Line{line("apple", "wh1", 1)}}, "ID"},
		{inventory.FulfilRequest{ID: "x", Lines: []inventory.Line{line("apple", "wh1", 1)}}, "Reservation"},
		{inventory.FulfilRequest{ID: "x", Reservation: "held"}, "Lines"},
		{inventory.FulfilRequest{ID: "x", Reservation: "held", Lines: []inventory.Line{line("apple", "wh1", 0)}}, "Lines[0].Quantity"},
		{inventory.FulfilRequest{ID: "x", Reservation: "held", Lines: []inventory.Line{line("apple:x", "wh1", 1)}}, "Lines[0].SKU"},
	} {
		_, err := s.Ship(ctx, c.r)
		var ie *inventory.InputError
		if !errors.As(err, &ie) || ie.Field != c.field {
			t.Fatalf("Ship(%+v): err = %v, want an *InputError on %s", c.r, err, c.field)
		}
	}

	// Without Options.Shipping a commit is the sale and the shipment.
	plain := newStore(t, inventory.Options{})
	stock(t, plain, "pear", "wh2", 5)
	reserve(t, plain, "sold", time.Minute, line("pear", "wh2", 2))
	mustOK(t, plain.Commit, "sold")
	wantCommitted(t, plain, "pear", "wh2", 3, 0, 0)
	_, err = ship(plain, "p-sold", "sold", line("pear", "wh2", 1))
	var fe *inventory.FulfilError
	if !errors.As(err, &fe) || fe.Committed != 0 {
		t.Fatalf("ship from a store without Shipping: err = %v, want a *FulfilError with 0 committed", err)
	}
}

// testShippingRetention: a committed reservation's record outlives the
// retention while units are left to ship; once the last one ships it is
// forgotten after the retention, as are the shipment records.
func testShippingRetention(t *testing.T, newStore NewStore) {
	s := newStore(t, inventory.Options{Shipping: true, Retention: shortTTL})
	stock(t, s, "apple", "wh1", 10)
	reserve(t, s, "order", time.Minute, line("apple", "wh1", 3))
	mustOK(t, s.Commit, "order")
	pastShortTTL()
	reserve(t, s, "other", time.Minute, line("apple", "wh1", 1)) // lets the stores forget what is due
	wantState(t, s, "order", inventory.Committed)
	f, err := ship(s, "p1", "order", line("apple", "wh1", 3))
	wantFulfilment(t, f, err, true, false, "3/0")
	pastShortTTL()
	reserve(t, s, "more", time.Minute, line("apple", "wh1", 1))
	_, err = s.Reservation(ctx, "order")
	wantErr(t, err, inventory.ErrNotFound)
	// The shipment's record is gone too: its ID is free, and the
	// reservation it names no longer exists.
	_, err = ship(s, "p1", "order", line("apple", "wh1", 3))
	wantErr(t, err, inventory.ErrNotFound)
	wantCommitted(t, s, "apple", "wh1", 7, 2, 0)
}

// testRacingShipments: 24 shipments of one unit each race for a
// reservation that committed 10: exactly 10 ship, the rest get a
// *FulfilError, and on hand drops by exactly 10.
func testRacingShipments(t *testing.T, newStore NewStore) {
	s := newStore(t, inventory.Options{Shipping: true})
	stock(t, s, "hot", "wh1", 50)
	reserve(t, s, "big", time.Minute, line("hot", "wh1", 10))
	mustOK(t, s.Commit, "big")
	var shipped, refused atomic.Int64
	var wg sync.WaitGroup
	for i := range 24 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, err := ship(s, fmt.Sprintf("unit-%d", i), "big", line("hot", "wh1", 1))
			switch {
			case err == nil:
				shipped.Add(1)
			case errors.Is(err, inventory.ErrNotCommitted):
				refused.Add(1)
			default:
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	if shipped.Load() != 10 || refused.Load() != 14 {
		t.Fatalf("%d shipped, %d refused; want 10 and 14", shipped.Load(), refused.Load())
	}
	wantCommitted(t, s, "hot", "wh1", 40, 0, 0)
}
