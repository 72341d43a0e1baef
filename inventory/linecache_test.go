package inventory

import (
	"context"
	"testing"
	"time"

	"github.com/shopkit/shopkit/internal/redistest"
)

// TestCommitOfOwnReservationIsOneCall: a Commit or Release of a
// reservation this process made sends one script, not a read of the record
// and then the script; one it did not make still works, in two.
//
// Regression: every Commit, Release and Extend read the record first (two
// round trips, 35 µs per commit on the benchmark machine).
func TestCommitOfOwnReservationIsOneCall(t *testing.T) {
	base := redistest.Client(t)
	counter := &commandCounter{}
	client := hookedClient(t, base, counter)
	prefix := redistest.Prefix(t, base)
	ctx := context.Background()
	s, err := NewRedis(client, Options{Prefix: prefix})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if _, err := s.SetOnHand(ctx, Count{ID: "c", SKU: "mug", Location: "main", OnHand: 10, Reason: ReasonCount}); err != nil {
		t.Fatal(err)
	}
	for _, id := range []string{"warm", "a", "b"} {
		if _, err := s.Reserve(ctx, Request{ID: id, TTL: time.Minute, Lines: []Line{{SKU: "mug", Location: "main", Quantity: 2}}}); err != nil {
			t.Fatal(err)
		}
	}
	// A first call of a script on a fresh server is EVALSHA, NOSCRIPT, then
	// EVAL: load it before counting.
	if _, err := s.Commit(ctx, "warm"); err != nil {
		t.Fatal(err)
	}
	calls := func(f func() error) int64 {
		t.Helper()
		before := counter.n.Load()
		if err := f(); err != nil {
			t.Fatal(err)
		}
		return counter.n.Load() - before
	}
	if n := calls(func() error { _, err := s.Commit(ctx, "a"); return err }); n != 1 {
		t.Errorf("Commit of an own reservation sent %d commands, want 1", n)
	}
	// Another instance of the store did not make "b": it reads the record.
	other, err := NewRedis(client, Options{Prefix: prefix})
	if err != nil {
		t.Fatal(err)
	}
	if n := calls(func() error { _, err := other.Release(ctx, "b"); return err }); n != 2 {
		t.Errorf("Release of another process's reservation sent %d commands, want 2", n)
	}
	// The first store's cached lines for "b" are stale now (released);
	// a Commit through it still reports the state, not a wrong change.
	if _, err := s.Commit(ctx, "b"); err == nil {
		t.Error("Commit of a released reservation succeeded")
	}
	lv, err := s.Levels(ctx, Item{"mug", "main"})
	if err != nil || lv[0].OnHand != 6 || lv[0].Reserved != 0 {
		t.Fatalf("levels %+v, %v; want on hand 6, reserved 0", lv, err)
	}
}

// TestShipOfOwnReservationIsOneCall: with Options.Shipping a Ship of a
// reservation this process made and committed sends one script; lines
// cached for an ID that another process has since reused for different
// lines are caught by the script and read again, never shipped wrongly.
func TestShipOfOwnReservationIsOneCall(t *testing.T) {
	base := redistest.Client(t)
	counter := &commandCounter{}
	client := hookedClient(t, base, counter)
	prefix := redistest.Prefix(t, base)
	ctx := context.Background()
	opts := Options{Prefix: prefix, Shipping: true, Retention: 50 * time.Millisecond}
	s, err := NewRedis(client, opts)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if _, err := s.SetOnHand(ctx, Count{ID: "c", SKU: "mug", Location: "main", OnHand: 20, Reason: ReasonCount}); err != nil {
		t.Fatal(err)
	}
	mug := func(q int64) []Line { return []Line{{SKU: "mug", Location: "main", Quantity: q}} }
	for _, id := range []string{"warm", "a"} {
		if _, err := s.Reserve(ctx, Request{ID: id, TTL: time.Minute, Lines: mug(2)}); err != nil {
			t.Fatal(err)
		}
		if _, err := s.Commit(ctx, id); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := s.Ship(ctx, FulfilRequest{ID: "p-warm", Reservation: "warm", Lines: mug(2)}); err != nil {
		t.Fatal(err) // loads the script
	}
	before := counter.n.Load()
	if _, err := s.Ship(ctx, FulfilRequest{ID: "p-a1", Reservation: "a", Lines: mug(1)}); err != nil {
		t.Fatal(err)
	}
	if n := counter.n.Load() - before; n != 1 {
		t.Errorf("Ship of an own committed reservation sent %d commands, want 1", n)
	}

	// Another process returns the rest of "a"; once "a" is forgotten it
	// reuses the ID for 5 units. The first store still caches a's old
	// lines: its Ship must see the new reservation's.
	other, err := NewRedis(client, opts)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := other.Return(ctx, FulfilRequest{ID: "r-a", Reservation: "a", Lines: mug(1)}); err != nil {
		t.Fatal(err)
	}
	time.Sleep(150 * time.Millisecond)
	if _, err := other.Reserve(ctx, Request{ID: "nudge", TTL: time.Minute, Lines: mug(1)}); err != nil {
		t.Fatal(err) // forgets what is due
	}
	if _, err := other.Reserve(ctx, Request{ID: "a", TTL: time.Minute, Lines: mug(5)}); err != nil {
		t.Fatal(err)
	}
	if _, err := other.Commit(ctx, "a"); err != nil {
		t.Fatal(err)
	}
	f, err := s.Ship(ctx, FulfilRequest{ID: "p-a2", Reservation: "a", Lines: mug(4)})
	if err != nil || f.Lines[0].Quantity != 5 || f.Lines[0].Shipped != 4 {
		t.Fatalf("ship through stale cached lines: %+v, %v; want 4 of the new 5 shipped", f, err)
	}
	lv, err := s.Levels(ctx, Item{"mug", "main"})
	if err != nil || lv[0].OnHand != 13 || lv[0].Committed != 1 || lv[0].Reserved != 1 {
		t.Fatalf("levels %+v, %v; want on hand 13, committed 1, reserved 1", lv, err)
	}
}

// TestReceiveOfOwnOrderIsOneCall: a Receive of a purchase order this
// process expected sends one script; lines cached for an order ID that was
// forgotten and reused elsewhere with other lines are caught by the script
// and read again.
func TestReceiveOfOwnOrderIsOneCall(t *testing.T) {
	base := redistest.Client(t)
	counter := &commandCounter{}
	client := hookedClient(t, base, counter)
	prefix := redistest.Prefix(t, base)
	ctx := context.Background()
	opts := Options{Prefix: prefix, Retention: 50 * time.Millisecond}
	s, err := NewRedis(client, opts)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	at := time.Now().Add(time.Hour)
	lamp := func(q int64) []Line { return []Line{{SKU: "lamp", Location: "main", Quantity: q}} }
	for _, id := range []string{"warm", "po"} {
		if _, err := s.Expect(ctx, PurchaseOrder{ID: id, ExpectedAt: at, Lines: lamp(4)}); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := s.Receive(ctx, ArrivalRequest{ID: "g-warm", PurchaseOrder: "warm", Lines: lamp(1)}); err != nil {
		t.Fatal(err) // loads the script
	}
	before := counter.n.Load()
	if _, err := s.Receive(ctx, ArrivalRequest{ID: "g1", PurchaseOrder: "po", Lines: lamp(1)}); err != nil {
		t.Fatal(err)
	}
	if n := counter.n.Load() - before; n != 1 {
		t.Errorf("Receive of an own order sent %d commands, want 1", n)
	}

	// Another process finishes "po"; once it is forgotten, reuses the ID
	// for an order of another item. The first store's cached lines are
	// stale: its Receive must act on the new order.
	other, err := NewRedis(client, opts)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := other.CancelIncoming(ctx, ArrivalRequest{ID: "x1", PurchaseOrder: "po", Lines: lamp(3)}); err != nil {
		t.Fatal(err)
	}
	time.Sleep(150 * time.Millisecond)
	desk := []Line{{SKU: "desk", Location: "main", Quantity: 2}}
	if _, err := other.Expect(ctx, PurchaseOrder{ID: "po", ExpectedAt: at, Lines: desk}); err != nil {
		t.Fatal(err)
	}
	in, err := s.Receive(ctx, ArrivalRequest{ID: "g2", PurchaseOrder: "po", Lines: desk})
	if err != nil || !in.Complete || in.Lines[0].SKU != "desk" || in.Lines[0].Received != 2 {
		t.Fatalf("receive through stale cached lines: %+v, %v; want the new order's 2 desks received", in, err)
	}
	lv, err := s.Levels(ctx, Item{"lamp", "main"}, Item{"desk", "main"})
	if err != nil || lv[0].OnHand != 2 || lv[0].Incoming != 3 || lv[1].OnHand != 2 || lv[1].Incoming != 0 {
		t.Fatalf("levels %+v, %v; want lamp on hand 2 with 3 incoming (warm), desk on hand 2", lv, err)
	}
}
