package inventorytest

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/shopkit/shopkit/inventory"
)

func testReserveReplay(t *testing.T, newStore NewStore) {
	s := newStore(t, inventory.Options{})
	stock(t, s, "apple", "wh1", 10)
	first := reserve(t, s, "r1", time.Minute, line("apple", "wh1", 4))
	for i := 0; i < 3; i++ {
		again := reserve(t, s, "r1", time.Hour, line("apple", "wh1", 4))
		if !again.Replayed || again.State != inventory.Held || !again.Deadline.Equal(first.Deadline) {
			t.Fatalf("replay = %+v, want the first outcome %+v", again, first)
		}
	}
	wantLevel(t, s, "apple", "wh1", 10, 4)
	_, err := s.Reserve(ctx, inventory.Request{ID: "r1", TTL: time.Minute, Lines: []inventory.Line{line("apple", "wh1", 5)}})
	wantErr(t, err, inventory.ErrIDConflict)
	_, err = s.Reserve(ctx, inventory.Request{ID: "r1", TTL: time.Minute, Lines: []inventory.Line{line("apple", "wh2", 4)}})
	wantErr(t, err, inventory.ErrIDConflict)

	// A replay after commit returns the committed reservation, not a new hold.
	if _, err := s.Commit(ctx, "r1"); err != nil {
		t.Fatal(err)
	}
	again := reserve(t, s, "r1", time.Minute, line("apple", "wh1", 4))
	if !again.Replayed || again.State != inventory.Committed {
		t.Fatalf("replay after commit = %+v", again)
	}
	wantLevel(t, s, "apple", "wh1", 6, 0)

	// A failed reservation wrote nothing, so its ID can succeed later.
	_, err = s.Reserve(ctx, inventory.Request{ID: "r2", TTL: time.Minute, Lines: []inventory.Line{line("apple", "wh1", 7)}})
	wantErr(t, err, inventory.ErrInsufficientStock)
	if _, err := s.Adjust(ctx, inventory.Adjustment{ID: "rcv", SKU: "apple", Location: "wh1", Delta: 1, Reason: inventory.ReasonReceipt}); err != nil {
		t.Fatal(err)
	}
	if r := reserve(t, s, "r2", time.Minute, line("apple", "wh1", 7)); r.Replayed {
		t.Fatalf("retry after shortage = %+v, want a fresh reservation", r)
	}
	wantLevel(t, s, "apple", "wh1", 7, 7)
}

func testCommit(t *testing.T, newStore NewStore) {
	s := newStore(t, inventory.Options{})
	stock(t, s, "apple", "wh1", 10)
	stock(t, s, "pear", "wh2", 5)
	reserve(t, s, "r1", time.Minute, line("apple", "wh1", 3), line("pear", "wh2", 2))

	for i := 0; i < 3; i++ { // committing again is a no-op
		r, err := s.Commit(ctx, "r1")
		if err != nil || r.State != inventory.Committed || len(r.Lines) != 2 {
			t.Fatalf("Commit #%d = %+v, %v", i, r, err)
		}
		wantLevel(t, s, "apple", "wh1", 7, 0)
		wantLevel(t, s, "pear", "wh2", 3, 0)
	}
	wantState(t, s, "r1", inventory.Committed)

	_, err := s.Release(ctx, "r1")
	var se *inventory.StateError
	if !errors.As(err, &se) || se.State != inventory.Committed || se.Op != "release" {
		t.Fatalf("Release after commit: err = %v, want *StateError committed", err)
	}
	wantErr(t, err, inventory.ErrCommitted)
	wantErr(t, err, inventory.ErrNotHeld)
	_, err = s.Extend(ctx, "r1", time.Minute)
	wantErr(t, err, inventory.ErrCommitted)
	wantLevel(t, s, "apple", "wh1", 7, 0)
}

func testRelease(t *testing.T, newStore NewStore) {
	s := newStore(t, inventory.Options{})
	stock(t, s, "apple", "wh1", 10)
	reserve(t, s, "r1", time.Minute, line("apple", "wh1", 3))
	for i := 0; i < 3; i++ { // releasing again is a no-op
		r, err := s.Release(ctx, "r1")
		if err != nil || r.State != inventory.Released {
			t.Fatalf("Release #%d = %+v, %v", i, r, err)
		}
		wantLevel(t, s, "apple", "wh1", 10, 0)
	}
	_, err := s.Commit(ctx, "r1")
	wantErr(t, err, inventory.ErrReleased)
	_, err = s.Extend(ctx, "r1", time.Minute)
	wantErr(t, err, inventory.ErrReleased)
	wantLevel(t, s, "apple", "wh1", 10, 0)
	wantState(t, s, "r1", inventory.Released)
}

func testExtend(t *testing.T, newStore NewStore) {
	s := newStore(t, inventory.Options{})
	stock(t, s, "apple", "wh1", 10)
	first := reserve(t, s, "r1", 60*time.Millisecond, line("apple", "wh1", 3))
	r, err := s.Extend(ctx, "r1", time.Minute)
	if err != nil || r.State != inventory.Held || !r.Deadline.After(first.Deadline.Add(30*time.Second)) {
		t.Fatalf("Extend = %+v, %v; want deadline about a minute out (first %v)", r, err, first.Deadline)
	}
	time.Sleep(120 * time.Millisecond)
	if n, err := s.Sweep(ctx); err != nil || n != 0 {
		t.Fatalf("Sweep = %d, %v; want 0 (the extended hold is not due)", n, err)
	}
	wantState(t, s, "r1", inventory.Held)
	wantLevel(t, s, "apple", "wh1", 10, 3)
}

func testUnknownID(t *testing.T, newStore NewStore) {
	s := newStore(t, inventory.Options{})
	_, err := s.Commit(ctx, "nope")
	wantErr(t, err, inventory.ErrNotFound)
	_, err = s.Release(ctx, "nope")
	wantErr(t, err, inventory.ErrNotFound)
	_, err = s.Extend(ctx, "nope", time.Minute)
	wantErr(t, err, inventory.ErrNotFound)
	_, err = s.Reservation(ctx, "nope")
	wantErr(t, err, inventory.ErrNotFound)
}

const shortTTL = 40 * time.Millisecond

// pastShortTTL sleeps until holds made with shortTTL are due.
func pastShortTTL() { time.Sleep(3 * shortTTL) }

func testLazyExpiry(t *testing.T, newStore NewStore) {
	var expired atomic.Int64
	s := newStore(t, inventory.Options{Observer: onExpire(func(inventory.Reservation) { expired.Add(1) })})
	stock(t, s, "apple", "wh1", 10)
	for _, id := range []string{"read", "commit", "release", "extend", "replay"} {
		reserve(t, s, id, shortTTL, line("apple", "wh1", 1))
	}
	wantLevel(t, s, "apple", "wh1", 10, 5)
	pastShortTTL()

	// Each touch finds its hold due, returns its stock once, and then
	// behaves as on an expired reservation.
	wantState(t, s, "read", inventory.Expired)
	_, err := s.Commit(ctx, "commit")
	wantErr(t, err, inventory.ErrExpired)
	if r, err := s.Release(ctx, "release"); err != nil || r.State != inventory.Expired {
		t.Fatalf("Release after expiry = %+v, %v; want a no-op reporting expired", r, err)
	}
	_, err = s.Extend(ctx, "extend", time.Minute)
	wantErr(t, err, inventory.ErrExpired)
	r := reserve(t, s, "replay", time.Minute, line("apple", "wh1", 1))
	if !r.Replayed || r.State != inventory.Expired {
		t.Fatalf("replay after expiry = %+v, want the expired reservation", r)
	}
	wantLevel(t, s, "apple", "wh1", 10, 0)
	if got := expired.Load(); got != 5 {
		t.Fatalf("OnExpire called %d times, want 5", got)
	}
	// Touching again changes nothing.
	wantState(t, s, "read", inventory.Expired)
	_, err = s.Commit(ctx, "commit")
	wantErr(t, err, inventory.ErrExpired)
	if n, err := s.Sweep(ctx); err != nil || n != 0 {
		t.Fatalf("Sweep = %d, %v; want 0", n, err)
	}
	wantLevel(t, s, "apple", "wh1", 10, 0)
	if got := expired.Load(); got != 5 {
		t.Fatalf("OnExpire called %d times, want 5", got)
	}
}

// testConflictingReplayOfDueHold pins one rule across backends: a Reserve
// whose ID is taken by a different request fails with ErrIDConflict and
// changes nothing — not even the due hold under that ID, whose expiry is
// reported exactly once, by whoever expires it later. (The backends once
// differed: one expired the hold and reported it, one did neither.)
func testConflictingReplayOfDueHold(t *testing.T, newStore NewStore) {
	var expired atomic.Int64
	s := newStore(t, inventory.Options{Observer: onExpire(func(inventory.Reservation) { expired.Add(1) })})
	stock(t, s, "apple", "wh1", 10)
	reserve(t, s, "due", shortTTL, line("apple", "wh1", 2))
	reserve(t, s, "other", shortTTL, line("apple", "wh1", 3))
	pastShortTTL()
	_, err := s.Reserve(ctx, inventory.Request{ID: "due", TTL: time.Minute, Lines: []inventory.Line{line("apple", "wh1", 1)}})
	wantErr(t, err, inventory.ErrIDConflict)
	wantLevel(t, s, "apple", "wh1", 10, 5)
	if got := expired.Load(); got != 0 {
		t.Fatalf("%d expiries reported by a failed Reserve, want 0", got)
	}
	if n, err := s.Sweep(ctx); err != nil || n != 2 {
		t.Fatalf("Sweep = %d, %v; want 2", n, err)
	}
	wantLevel(t, s, "apple", "wh1", 10, 0)
	wantState(t, s, "due", inventory.Expired)
	if got := expired.Load(); got != 2 {
		t.Fatalf("%d expiries reported, want 2 (one per hold)", got)
	}
}

func testSweep(t *testing.T, newStore NewStore) {
	var expired atomic.Int64
	s := newStore(t, inventory.Options{Observer: onExpire(func(inventory.Reservation) { expired.Add(1) })})
	stock(t, s, "apple", "wh1", 10)
	stock(t, s, "pear", "wh1", 10)
	reserve(t, s, "a", shortTTL, line("apple", "wh1", 1))
	reserve(t, s, "b", shortTTL, line("apple", "wh1", 2), line("pear", "wh1", 1))
	reserve(t, s, "c", shortTTL, line("pear", "wh1", 3))
	reserve(t, s, "long", time.Minute, line("apple", "wh1", 4))
	reserve(t, s, "done", shortTTL, line("apple", "wh1", 1))
	if _, err := s.Commit(ctx, "done"); err != nil {
		t.Fatal(err)
	}
	pastShortTTL()
	n, err := s.Sweep(ctx)
	if err != nil || n != 3 {
		t.Fatalf("Sweep = %d, %v; want 3", n, err)
	}
	wantLevel(t, s, "apple", "wh1", 9, 4)
	wantLevel(t, s, "pear", "wh1", 10, 0)
	for _, id := range []string{"a", "b", "c"} {
		wantState(t, s, id, inventory.Expired)
	}
	wantState(t, s, "long", inventory.Held)
	wantState(t, s, "done", inventory.Committed)
	if n, err := s.Sweep(ctx); err != nil || n != 0 {
		t.Fatalf("second Sweep = %d, %v; want 0", n, err)
	}
	if got := expired.Load(); got != 3 {
		t.Fatalf("OnExpire called %d times, want 3", got)
	}
}

func testShortageSweeps(t *testing.T, newStore NewStore) {
	s := newStore(t, inventory.Options{})
	stock(t, s, "apple", "wh1", 1)
	reserve(t, s, "old", shortTTL, line("apple", "wh1", 1))
	pastShortTTL()
	// Nobody swept or touched "old", yet its stock is free: Reserve expires
	// due holds before it reports a shortage.
	reserve(t, s, "new", time.Minute, line("apple", "wh1", 1))
	wantState(t, s, "old", inventory.Expired)
	wantLevel(t, s, "apple", "wh1", 1, 1)
}

func testBackgroundSweeper(t *testing.T, newStore NewStore) {
	done := make(chan inventory.Reservation, 1)
	s := newStore(t, inventory.Options{
		SweepInterval: 10 * time.Millisecond,
		Observer:      onExpire(func(r inventory.Reservation) { done <- r }),
	})
	stock(t, s, "apple", "wh1", 3)
	reserve(t, s, "r1", shortTTL, line("apple", "wh1", 2))
	select {
	case r := <-done:
		if r.ID != "r1" || r.State != inventory.Expired {
			t.Fatalf("expired %+v", r)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("background sweeper did not expire the hold")
	}
	wantLevel(t, s, "apple", "wh1", 3, 0)
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
}

func testObserver(t *testing.T, newStore NewStore) {
	var mu sync.Mutex
	var events []string
	s := newStore(t, inventory.Options{
		LowStockThreshold: func(sku, loc string) int64 {
			if sku == "apple" {
				return 5
			}
			return 0
		},
		// Record the changes: new reservations, commits and releases that
		// changed something (not replays), and low-stock alerts.
		Observer: func(e inventory.Observation) {
			mu.Lock()
			defer mu.Unlock()
			switch {
			case e.Op == inventory.OpLowStock:
				events = append(events, "low:"+e.Level.SKU)
			case e.Err != nil || e.Replayed:
			case e.Op == inventory.OpReserve, e.Op == inventory.OpCommit, e.Op == inventory.OpRelease:
				events = append(events, e.Op.String()+":"+e.ID)
			}
		},
	})
	stock(t, s, "apple", "wh1", 10)                           // 10 available: not low
	stock(t, s, "pear", "wh1", 10)                            // no threshold
	reserve(t, s, "r1", time.Minute, line("apple", "wh1", 5)) // 5 left: not below 5
	reserve(t, s, "r2", time.Minute, line("apple", "wh1", 1)) // 4 left: crosses
	reserve(t, s, "r3", time.Minute, line("apple", "wh1", 1)) // already low: no repeat
	reserve(t, s, "r4", time.Minute, line("pear", "wh1", 10))
	reserve(t, s, "r1", time.Minute, line("apple", "wh1", 5)) // replay: no event
	mustOK(t, s.Commit, "r1")
	mustOK(t, s.Commit, "r1")
	mustOK(t, s.Release, "r2")
	mustOK(t, s.Release, "r2")
	want := []string{"reserve:r1", "reserve:r2", "low:apple", "reserve:r3", "reserve:r4", "commit:r1", "release:r2"}
	mu.Lock()
	defer mu.Unlock()
	if len(events) != len(want) {
		t.Fatalf("events = %v, want %v", events, want)
	}
	for i := range want {
		if events[i] != want[i] {
			t.Fatalf("events = %v, want %v", events, want)
		}
	}
}

// onExpire returns an observer that calls f with each expired reservation.
func onExpire(f func(inventory.Reservation)) inventory.Observer {
	return func(e inventory.Observation) {
		if e.Op == inventory.OpExpire {
			f(e.Reservation)
		}
	}
}

func mustOK(t *testing.T, op func(context.Context, string) (inventory.Reservation, error), id string) {
	t.Helper()
	if _, err := op(ctx, id); err != nil {
		t.Fatalf("%s: %v", id, err)
	}
}

func testClosed(t *testing.T, newStore NewStore) {
	s := newStore(t, inventory.Options{})
	stock(t, s, "apple", "wh1", 1)
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	_, err := s.Reserve(ctx, inventory.Request{ID: "r1", TTL: time.Minute, Lines: []inventory.Line{line("apple", "wh1", 1)}})
	wantErr(t, err, inventory.ErrClosed)
	_, err = s.Levels(ctx, inventory.Item{SKU: "apple", Location: "wh1"})
	wantErr(t, err, inventory.ErrClosed)
	if err := s.Close(); err != nil {
		t.Fatalf("second Close: %v", err)
	}
}

func testRetention(t *testing.T, newStore NewStore) {
	s := newStore(t, inventory.Options{Retention: shortTTL})
	stock(t, s, "apple", "wh1", 10)
	reserve(t, s, "r1", time.Minute, line("apple", "wh1", 2))
	reserve(t, s, "held", time.Minute, line("apple", "wh1", 1))
	mustOK(t, s.Commit, "r1")
	pastShortTTL()
	// The finished record is forgotten; the held one never is.
	_, err := s.Reservation(ctx, "r1")
	wantErr(t, err, inventory.ErrNotFound)
	wantState(t, s, "held", inventory.Held)
	// A forgotten ID may be used again, even with other lines.
	reserve(t, s, "r1", time.Minute, line("apple", "wh1", 3))
	wantLevel(t, s, "apple", "wh1", 8, 4)
	// Adjustment records are forgotten too.
	if _, err := s.Adjust(ctx, inventory.Adjustment{ID: "rcv", SKU: "apple", Location: "wh1", Delta: 1, Reason: inventory.ReasonReceipt}); err != nil {
		t.Fatal(err)
	}
	pastShortTTL()
	if _, err := s.Adjust(ctx, inventory.Adjustment{ID: "rcv", SKU: "apple", Location: "wh1", Delta: 2, Reason: inventory.ReasonReceipt}); err != nil {
		t.Fatalf("reusing a forgotten adjustment ID: %v", err)
	}
	wantLevel(t, s, "apple", "wh1", 11, 4)
}
