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

// arrival is the date the incoming tests expect orders on: whole
// milliseconds, as stores keep them.
var arrival = time.Date(2027, 3, 1, 9, 0, 0, 0, time.UTC)

func expect(t *testing.T, s *inventory.Store, id string, at time.Time, lines ...inventory.Line) inventory.Incoming {
	t.Helper()
	in, err := s.Expect(ctx, inventory.PurchaseOrder{ID: id, ExpectedAt: at, Lines: lines})
	if err != nil {
		t.Fatalf("Expect(%s): %v", id, err)
	}
	return in
}

func receive(s *inventory.Store, id, po string, lines ...inventory.Line) (inventory.Incoming, error) {
	return s.Receive(ctx, inventory.ArrivalRequest{ID: id, PurchaseOrder: po, Lines: lines})
}

func cancelIncoming(s *inventory.Store, id, po string, lines ...inventory.Line) (inventory.Incoming, error) {
	return s.CancelIncoming(ctx, inventory.ArrivalRequest{ID: id, PurchaseOrder: po, Lines: lines})
}

// wantIncoming checks an order's received and cancelled units per line, as
// "received/cancelled" pairs in line order.
func wantIncoming(t *testing.T, in inventory.Incoming, err error, complete, replayed bool, want ...string) {
	t.Helper()
	if err != nil {
		t.Fatalf("incoming: %v", err)
	}
	var got []string
	for _, l := range in.Lines {
		got = append(got, fmt.Sprintf("%d/%d", l.Received, l.Cancelled))
	}
	if fmt.Sprint(got) != fmt.Sprint(want) || in.Complete != complete || in.Replayed != replayed || !in.ExpectedAt.Equal(arrival) && !in.ExpectedAt.Equal(arrival.Add(48*time.Hour)) {
		t.Fatalf("incoming %+v; want received/cancelled %v, complete %v, replayed %v", in, want, complete, replayed)
	}
}

// wantArriving checks an item's incoming units and next arrival date.
func wantArriving(t *testing.T, s *inventory.Store, sku, loc string, onHand, incoming int64, next time.Time) {
	t.Helper()
	got := level(t, s, sku, loc)
	if got.OnHand != onHand || got.Incoming != incoming || !got.NextArrival.Equal(next) {
		t.Fatalf("level %s@%s = on hand %d, incoming %d, next arrival %v; want %d, %d, %v",
			sku, loc, got.OnHand, got.Incoming, got.NextArrival, onHand, incoming, next)
	}
}

// testIncoming: purchase orders show in Level.Incoming and NextArrival
// until their units arrive (on hand, available at once) or are cancelled,
// in parts and per line; every call is idempotent by its ID and refuses
// more than is open, writing nothing.
func testIncoming(t *testing.T, newStore NewStore) {
	s := newStore(t, inventory.Options{})
	stock(t, s, "apple", "wh1", 2)
	later := arrival.Add(48 * time.Hour)
	in := expect(t, s, "po-1", arrival, line("apple", "wh1", 10), line("pear", "wh1", 4))
	wantIncoming(t, in, nil, false, false, "0/0", "0/0")
	expect(t, s, "po-2", later, line("apple", "wh1", 5))
	wantArriving(t, s, "apple", "wh1", 2, 15, arrival)
	wantArriving(t, s, "pear", "wh1", 0, 4, arrival)
	if got := level(t, s, "apple", "wh1").Available(); got != 2 {
		t.Fatalf("incoming units are not on hand: available = %d, want 2", got)
	}

	// The same order again is a replay; a different one under its ID a
	// conflict.
	in, err := s.Expect(ctx, inventory.PurchaseOrder{ID: "po-1", ExpectedAt: arrival, Lines: []inventory.Line{line("pear", "wh1", 4), line("apple", "wh1", 10)}})
	wantIncoming(t, in, err, false, true, "0/0", "0/0")
	_, err = s.Expect(ctx, inventory.PurchaseOrder{ID: "po-1", ExpectedAt: later, Lines: []inventory.Line{line("apple", "wh1", 10), line("pear", "wh1", 4)}})
	wantErr(t, err, inventory.ErrIDConflict)

	in, err = receive(s, "delivery-1", "po-1", line("apple", "wh1", 6))
	wantIncoming(t, in, err, false, false, "6/0", "0/0")
	wantArriving(t, s, "apple", "wh1", 8, 9, arrival)
	in, err = receive(s, "delivery-1", "po-1", line("apple", "wh1", 6))
	wantIncoming(t, in, err, false, true, "6/0", "0/0")
	wantArriving(t, s, "apple", "wh1", 8, 9, arrival)
	_, err = receive(s, "delivery-1", "po-1", line("apple", "wh1", 5))
	wantErr(t, err, inventory.ErrIDConflict)
	_, err = cancelIncoming(s, "delivery-1", "po-1", line("apple", "wh1", 6))
	wantErr(t, err, inventory.ErrIDConflict)

	// More than is open, or an item the order does not bring: an
	// *IncomingError for the first such line, and nothing written.
	_, err = receive(s, "delivery-2", "po-1", line("pear", "wh1", 1), line("apple", "wh1", 5))
	var ie *inventory.IncomingError
	if !errors.As(err, &ie) || ie.SKU != "apple" || ie.Open != 4 || ie.Requested != 5 || ie.PurchaseOrder != "po-1" {
		t.Fatalf("receiving more than open: err = %v, want an *IncomingError for apple with 4 open", err)
	}
	_, err = receive(s, "delivery-3", "po-1", line("plum", "wh1", 1))
	if !errors.As(err, &ie) || ie.SKU != "plum" || ie.Open != 0 {
		t.Fatalf("receiving an item not ordered: err = %v, want an *IncomingError with 0 open", err)
	}
	wantErr(t, err, inventory.ErrNotIncoming)
	wantArriving(t, s, "pear", "wh1", 0, 4, arrival)
	_, err = receive(s, "delivery-4", "po-9", line("apple", "wh1", 1))
	wantErr(t, err, inventory.ErrNotFound)

	// The supplier short-ships: the rest of apple is cancelled, pear
	// arrives in full. Once an order has nothing open its date no longer
	// counts, and it is complete.
	in, err = cancelIncoming(s, "short-1", "po-1", line("apple", "wh1", 4))
	wantIncoming(t, in, err, false, false, "6/4", "0/0")
	wantArriving(t, s, "apple", "wh1", 8, 5, later)
	in, err = receive(s, "delivery-2", "po-1", line("pear", "wh1", 4))
	wantIncoming(t, in, err, true, false, "6/4", "4/0")
	wantArriving(t, s, "pear", "wh1", 4, 0, time.Time{})
	in, err = s.PurchaseOrder(ctx, "po-1")
	wantIncoming(t, in, err, true, false, "6/4", "4/0")
	_, err = receive(s, "delivery-5", "po-1", line("pear", "wh1", 1))
	wantErr(t, err, inventory.ErrNotIncoming)
	_, err = s.PurchaseOrder(ctx, "po-9")
	wantErr(t, err, inventory.ErrNotFound)
}

// testIncomingInput: bad purchase orders and arrival requests get an
// *InputError and write nothing.
func testIncomingInput(t *testing.T, newStore NewStore) {
	s := newStore(t, inventory.Options{})
	for name, po := range map[string]inventory.PurchaseOrder{
		"no ID":       {ExpectedAt: arrival, Lines: []inventory.Line{line("apple", "wh1", 1)}},
		"no date":     {ID: "po", Lines: []inventory.Line{line("apple", "wh1", 1)}},
		"no lines":    {ID: "po", ExpectedAt: arrival},
		"zero units":  {ID: "po", ExpectedAt: arrival, Lines: []inventory.Line{line("apple", "wh1", 0)}},
		"bad SKU":     {ID: "po", ExpectedAt: arrival, Lines: []inventory.Line{line("ap:ple", "wh1", 1)}},
		"before 1970": {ID: "po", ExpectedAt: time.Unix(-10, 0), Lines: []inventory.Line{line("apple", "wh1", 1)}},
	} {
		var ie *inventory.InputError
		if _, err := s.Expect(ctx, po); !errors.As(err, &ie) {
			t.Errorf("%s: err = %v, want an *InputError", name, err)
		}
	}
	expect(t, s, "po", arrival, line("apple", "wh1", 3))
	for name, r := range map[string]inventory.ArrivalRequest{
		"no ID":       {PurchaseOrder: "po", Lines: []inventory.Line{line("apple", "wh1", 1)}},
		"no order":    {ID: "d", Lines: []inventory.Line{line("apple", "wh1", 1)}},
		"no lines":    {ID: "d", PurchaseOrder: "po"},
		"minus units": {ID: "d", PurchaseOrder: "po", Lines: []inventory.Line{line("apple", "wh1", -1)}},
	} {
		var ie *inventory.InputError
		if _, err := s.Receive(ctx, r); !errors.As(err, &ie) {
			t.Errorf("%s: err = %v, want an *InputError", name, err)
		}
	}
	wantArriving(t, s, "apple", "wh1", 0, 3, arrival)
	wantArriving(t, s, "pear", "wh1", 0, 0, time.Time{})
}

// testIncomingRetention: a complete order and its arrival records are
// forgotten after the retention; an open order never is.
func testIncomingRetention(t *testing.T, newStore NewStore) {
	s := newStore(t, inventory.Options{Retention: shortTTL})
	expect(t, s, "open", arrival, line("apple", "wh1", 2))
	expect(t, s, "done", arrival, line("pear", "wh1", 2))
	in, err := receive(s, "d1", "done", line("pear", "wh1", 2))
	wantIncoming(t, in, err, true, false, "2/0")
	pastShortTTL()
	expect(t, s, "nudge", arrival, line("plum", "wh1", 1)) // lets the stores forget what is due
	if _, err := s.PurchaseOrder(ctx, "open"); err != nil {
		t.Fatalf("open order: %v", err)
	}
	_, err = s.PurchaseOrder(ctx, "done")
	wantErr(t, err, inventory.ErrNotFound)
	_, err = receive(s, "d1", "done", line("pear", "wh1", 2))
	wantErr(t, err, inventory.ErrNotFound)
	wantArriving(t, s, "pear", "wh1", 2, 0, time.Time{})
}

// testRacingDeliveries: 30 deliveries of one unit race for an order of
// 12: exactly 12 arrive, the rest get an *IncomingError, and on hand
// rises by exactly 12.
func testRacingDeliveries(t *testing.T, newStore NewStore) {
	s := newStore(t, inventory.Options{})
	expect(t, s, "po", arrival, line("hot", "wh1", 12))
	var received, refused atomic.Int64
	var wg sync.WaitGroup
	for i := range 30 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			send := receive
			if i%3 == 0 {
				send = cancelIncoming
			}
			_, err := send(s, fmt.Sprintf("unit-%d", i), "po", line("hot", "wh1", 1))
			switch {
			case err == nil && i%3 != 0:
				received.Add(1)
			case err == nil:
			case errors.Is(err, inventory.ErrNotIncoming):
				refused.Add(1)
			default:
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	if refused.Load() != 18 {
		t.Fatalf("%d refused, want 18", refused.Load())
	}
	in, err := s.PurchaseOrder(ctx, "po")
	if err != nil || !in.Complete || in.Lines[0].Received != received.Load() {
		t.Fatalf("order %+v, %v; want complete with %d received", in, err, received.Load())
	}
	wantArriving(t, s, "hot", "wh1", received.Load(), 0, time.Time{})
}
