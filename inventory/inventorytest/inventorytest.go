// Package inventorytest is the conformance suite for *inventory.Store.
//
// Every backend runs it from its own test file:
//
//	func TestMemory(t *testing.T) {
//		inventorytest.Run(t, func(t *testing.T, opts inventory.Options) *inventory.Store {
//			return inventory.NewMemory(opts)
//		})
//	}
//
// The suite is the contract: anything a user may rely on is tested here, so
// the backends cannot drift apart. Expiry cases use real time with TTLs of
// tens of milliseconds, because the Redis store decides expiry by the
// server's clock.
package inventorytest

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/shopkit/shopkit/inventory"
)

// NewStore returns an empty store for one test, configured with opts plus
// whatever the backend needs (a client, a unique prefix). It should register
// Close with t.Cleanup.
type NewStore func(t *testing.T, opts inventory.Options) *inventory.Store

// Run runs the conformance suite against stores made by newStore.
func Run(t *testing.T, newStore NewStore) {
	tests := []struct {
		name string
		fn   func(*testing.T, NewStore)
	}{
		{"AdjustAndSetOnHand", testAdjust},
		{"AdjustBelowReserved", testAdjustBelowReserved},
		{"ReserveAllOrNothing", testReserveAllOrNothing},
		{"ReserveMergesLines", testReserveMergesLines},
		{"ReserveReplay", testReserveReplay},
		{"Commit", testCommit},
		{"Release", testRelease},
		{"Extend", testExtend},
		{"ReturnedLinesAreTheCallers", testReturnedLinesAreTheCallers},
		{"UnknownID", testUnknownID},
		{"LazyExpiry", testLazyExpiry},
		{"ConflictingReplayOfDueHold", testConflictingReplayOfDueHold},
		{"Sweep", testSweep},
		{"ShortageSweepsDueHolds", testShortageSweeps},
		{"BackgroundSweeper", testBackgroundSweeper},
		{"Observer", testObserver},
		{"InvalidInputWritesNothing", testInvalidInput},
		{"RacingForScarceStock", testRacingForScarceStock},
		{"RacingMultiLine", testRacingMultiLine},
		{"RacingReplays", testRacingReplays},
		{"Retention", testRetention},
		{"Closed", testClosed},
		{"BundlesAllOrNothing", testBundles},
		{"ShippingKeepsCommittedOnHand", testShipping},
		{"ShipAndReturnStates", testShipStates},
		{"ShippingRetention", testShippingRetention},
		{"RacingShipments", testRacingShipments},
		{"Incoming", testIncoming},
		{"IncomingInput", testIncomingInput},
		{"IncomingRetention", testIncomingRetention},
		{"RacingDeliveries", testRacingDeliveries},
		{"Backorders", testBackorders},
		{"BackordersFillInOrder", testBackordersFillInOrder},
		{"Preorders", testPreorders},
		{"PolicyInput", testPolicyInput},
		{"RacingBackorders", testRacingBackorders},
		{"WaitingSeenInBatches", testWaitingSeenInBatches},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var stores []*inventory.Store
			tracked := func(t *testing.T, opts inventory.Options) *inventory.Store {
				s := newStore(t, opts)
				stores = append(stores, s)
				return s
			}
			tt.fn(t, tracked)
			for _, s := range stores {
				checkLevels(t, s)
			}
		})
	}
}

// suiteItems are the items the suite's tests stock.
var suiteItems = func() []inventory.Item {
	var items []inventory.Item
	for _, sku := range []string{"apple", "pear", "plum", "hot", "a", "b", "c", "d", "e"} {
		for _, loc := range []string{"wh1", "wh2", "wh9"} {
			items = append(items, inventory.Item{SKU: sku, Location: loc})
		}
	}
	return items
}()

// checkLevels verifies, after every test, that no level of a store that is
// still open is negative or has more reserved and committed than on hand
// and backordered, and that no unit is available while one is backordered.
func checkLevels(t *testing.T, s *inventory.Store) {
	t.Helper()
	levels, err := s.Levels(ctx, suiteItems...)
	if errors.Is(err, inventory.ErrClosed) {
		return
	}
	if err != nil {
		t.Fatalf("Levels after test: %v", err)
	}
	for _, l := range levels {
		if l.OnHand < 0 || l.Reserved < 0 || l.Committed < 0 || l.Incoming < 0 || l.Backordered < 0 ||
			l.Reserved+l.Committed > l.OnHand+l.Backordered || l.Backordered > 0 && l.Available() != 0 {
			t.Fatalf("after test: %s@%s on hand %d, reserved %d, committed %d, backordered %d", l.SKU, l.Location, l.OnHand, l.Reserved, l.Committed, l.Backordered)
		}
	}
}

var ctx = context.Background()

func stock(t *testing.T, s *inventory.Store, sku, loc string, onHand int64) {
	t.Helper()
	if _, err := s.SetOnHand(ctx, inventory.Count{ID: "init-" + sku + "-" + loc, SKU: sku, Location: loc, OnHand: onHand, Reason: inventory.ReasonCount}); err != nil {
		t.Fatalf("SetOnHand(%s@%s, %d): %v", sku, loc, onHand, err)
	}
}

func level(t testing.TB, s *inventory.Store, sku, loc string) inventory.Level {
	t.Helper()
	lv, err := s.Levels(ctx, inventory.Item{SKU: sku, Location: loc})
	if err != nil {
		t.Fatalf("Levels: %v", err)
	}
	return lv[0]
}

func wantLevel(t *testing.T, s *inventory.Store, sku, loc string, onHand, reserved int64) {
	t.Helper()
	got := level(t, s, sku, loc)
	if got.OnHand != onHand || got.Reserved != reserved {
		t.Fatalf("level %s@%s = on hand %d, reserved %d; want %d, %d", sku, loc, got.OnHand, got.Reserved, onHand, reserved)
	}
}

func reserve(t *testing.T, s *inventory.Store, id string, ttl time.Duration, lines ...inventory.Line) inventory.Reservation {
	t.Helper()
	r, err := s.Reserve(ctx, inventory.Request{ID: id, Lines: lines, TTL: ttl})
	if err != nil {
		t.Fatalf("Reserve(%s): %v", id, err)
	}
	return r
}

func line(sku, loc string, q int64) inventory.Line {
	return inventory.Line{SKU: sku, Location: loc, Quantity: q}
}

func wantErr(t *testing.T, err, target error) {
	t.Helper()
	if !errors.Is(err, target) {
		t.Fatalf("err = %v, want %v", err, target)
	}
}

func wantState(t *testing.T, s *inventory.Store, id string, want inventory.State) {
	t.Helper()
	r, err := s.Reservation(ctx, id)
	if err != nil {
		t.Fatalf("Reservation(%s): %v", id, err)
	}
	if r.State != want {
		t.Fatalf("Reservation(%s).State = %v, want %v", id, r.State, want)
	}
}

func testAdjust(t *testing.T, newStore NewStore) {
	s := newStore(t, inventory.Options{})
	wantLevel(t, s, "apple", "wh1", 0, 0) // never stocked: zero level

	lv, err := s.Adjust(ctx, inventory.Adjustment{ID: "rcv-1", SKU: "apple", Location: "wh1", Delta: 10, Reason: inventory.ReasonReceipt})
	if err != nil || lv.OnHand != 10 || lv.Reserved != 0 || lv.Available() != 10 {
		t.Fatalf("Adjust +10 = %+v, %v; want on hand 10", lv, err)
	}
	// Replaying returns the first outcome and applies nothing.
	for i := 0; i < 3; i++ {
		lv, err = s.Adjust(ctx, inventory.Adjustment{ID: "rcv-1", SKU: "apple", Location: "wh1", Delta: 10, Reason: inventory.ReasonReceipt})
		if err != nil || lv.OnHand != 10 {
			t.Fatalf("replayed Adjust = %+v, %v; want on hand 10", lv, err)
		}
	}
	_, err = s.Adjust(ctx, inventory.Adjustment{ID: "rcv-1", SKU: "apple", Location: "wh1", Delta: 11, Reason: inventory.ReasonReceipt})
	wantErr(t, err, inventory.ErrIDConflict)

	lv, err = s.Adjust(ctx, inventory.Adjustment{ID: "dmg-1", SKU: "apple", Location: "wh1", Delta: -3, Reason: inventory.ReasonDamage})
	if err != nil || lv.OnHand != 7 {
		t.Fatalf("Adjust -3 = %+v, %v; want on hand 7", lv, err)
	}
	lv, err = s.SetOnHand(ctx, inventory.Count{ID: "cnt-1", SKU: "apple", Location: "wh1", OnHand: 4, Reason: inventory.ReasonCount})
	if err != nil || lv.OnHand != 4 {
		t.Fatalf("SetOnHand 4 = %+v, %v", lv, err)
	}
	// A count replayed after later changes still returns its own outcome.
	if _, err := s.Adjust(ctx, inventory.Adjustment{ID: "rcv-2", SKU: "apple", Location: "wh1", Delta: 1, Reason: inventory.ReasonReceipt}); err != nil {
		t.Fatal(err)
	}
	lv, err = s.SetOnHand(ctx, inventory.Count{ID: "cnt-1", SKU: "apple", Location: "wh1", OnHand: 4, Reason: inventory.ReasonCount})
	if err != nil || lv.OnHand != 4 {
		t.Fatalf("replayed SetOnHand = %+v, %v; want the first outcome, on hand 4", lv, err)
	}
	wantLevel(t, s, "apple", "wh1", 5, 0)
	// An ID names one request: the same ID for another item conflicts.
	_, err = s.SetOnHand(ctx, inventory.Count{ID: "cnt-1", SKU: "pear", Location: "wh1", OnHand: 4, Reason: inventory.ReasonCount})
	wantErr(t, err, inventory.ErrIDConflict)
	// Locations are independent.
	wantLevel(t, s, "apple", "wh2", 0, 0)

	// On hand cannot go negative.
	_, err = s.Adjust(ctx, inventory.Adjustment{ID: "dmg-2", SKU: "apple", Location: "wh1", Delta: -6, Reason: inventory.ReasonDamage})
	wantErr(t, err, inventory.ErrBelowReserved)
	wantLevel(t, s, "apple", "wh1", 5, 0)
	// Nor above MaxQuantity.
	_, err = s.Adjust(ctx, inventory.Adjustment{ID: "rcv-3", SKU: "apple", Location: "wh1", Delta: inventory.MaxQuantity, Reason: inventory.ReasonReceipt})
	wantErr(t, err, inventory.ErrInvalidInput)
	wantLevel(t, s, "apple", "wh1", 5, 0)
}

func testAdjustBelowReserved(t *testing.T, newStore NewStore) {
	s := newStore(t, inventory.Options{})
	stock(t, s, "apple", "wh1", 10)
	reserve(t, s, "r1", time.Minute, line("apple", "wh1", 6))

	_, err := s.SetOnHand(ctx, inventory.Count{ID: "cnt", SKU: "apple", Location: "wh1", OnHand: 5, Reason: inventory.ReasonCount})
	var re *inventory.ReservedError
	if !errors.As(err, &re) || !errors.Is(err, inventory.ErrBelowReserved) {
		t.Fatalf("SetOnHand below reserved: err = %v, want *ReservedError", err)
	}
	if re.OnHand != 5 || re.Reserved != 6 || re.SKU != "apple" || re.Location != "wh1" {
		t.Fatalf("ReservedError = %+v", re)
	}
	_, err = s.Adjust(ctx, inventory.Adjustment{ID: "dmg", SKU: "apple", Location: "wh1", Delta: -5, Reason: inventory.ReasonDamage})
	wantErr(t, err, inventory.ErrBelowReserved)
	wantLevel(t, s, "apple", "wh1", 10, 6)

	// Exactly down to reserved is allowed, and the refused IDs are free.
	if _, err := s.SetOnHand(ctx, inventory.Count{ID: "cnt", SKU: "apple", Location: "wh1", OnHand: 6, Reason: inventory.ReasonCount}); err != nil {
		t.Fatalf("SetOnHand to reserved: %v", err)
	}
	wantLevel(t, s, "apple", "wh1", 6, 6)
}

func testReserveAllOrNothing(t *testing.T, newStore NewStore) {
	s := newStore(t, inventory.Options{})
	stock(t, s, "apple", "wh1", 5)
	stock(t, s, "pear", "wh1", 2)

	_, err := s.Reserve(ctx, inventory.Request{ID: "r1", TTL: time.Minute, Lines: []inventory.Line{
		line("apple", "wh1", 4), line("pear", "wh1", 3),
	}})
	var se *inventory.StockError
	if !errors.As(err, &se) || !errors.Is(err, inventory.ErrInsufficientStock) {
		t.Fatalf("err = %v, want *StockError", err)
	}
	if *se != (inventory.StockError{SKU: "pear", Location: "wh1", Requested: 3, Available: 2}) {
		t.Fatalf("StockError = %+v", *se)
	}
	// Nothing was held, on either line, and the ID is free.
	wantLevel(t, s, "apple", "wh1", 5, 0)
	wantLevel(t, s, "pear", "wh1", 2, 0)
	_, err = s.Reservation(ctx, "r1")
	wantErr(t, err, inventory.ErrNotFound)

	r := reserve(t, s, "r1", time.Minute, line("pear", "wh1", 2), line("apple", "wh1", 5))
	if r.State != inventory.Held || r.Replayed || len(r.Lines) != 2 {
		t.Fatalf("Reserve = %+v", r)
	}
	// Lines come back sorted by SKU, then location.
	if r.Lines[0].SKU != "apple" || r.Lines[1].SKU != "pear" {
		t.Fatalf("Lines not sorted: %+v", r.Lines)
	}
	wantLevel(t, s, "apple", "wh1", 5, 5)
	wantLevel(t, s, "pear", "wh1", 2, 2)

	// A SKU never stocked is simply short.
	_, err = s.Reserve(ctx, inventory.Request{ID: "r2", TTL: time.Minute, Lines: []inventory.Line{line("plum", "wh9", 1)}})
	if !errors.As(err, &se) || se.Available != 0 || se.Requested != 1 {
		t.Fatalf("err = %v, want shortage with 0 available", err)
	}
}

func testReserveMergesLines(t *testing.T, newStore NewStore) {
	s := newStore(t, inventory.Options{})
	stock(t, s, "apple", "wh1", 5)
	// Two lines of 3 for one item are one demand of 6, not two of 3.
	_, err := s.Reserve(ctx, inventory.Request{ID: "r1", TTL: time.Minute, Lines: []inventory.Line{
		line("apple", "wh1", 3), line("apple", "wh1", 3),
	}})
	var se *inventory.StockError
	if !errors.As(err, &se) || se.Requested != 6 || se.Available != 5 {
		t.Fatalf("err = %v, want shortage requested 6 available 5", err)
	}
	if _, err := s.Adjust(ctx, inventory.Adjustment{ID: "rcv", SKU: "apple", Location: "wh1", Delta: 1, Reason: inventory.ReasonReceipt}); err != nil {
		t.Fatal(err)
	}
	r := reserve(t, s, "r1", time.Minute, line("apple", "wh1", 3), line("apple", "wh1", 3))
	if len(r.Lines) != 1 || r.Lines[0] != line("apple", "wh1", 6) {
		t.Fatalf("Lines = %+v, want one merged line of 6", r.Lines)
	}
	wantLevel(t, s, "apple", "wh1", 6, 6)
	// The same demand written as one line is the same request: a replay.
	r = reserve(t, s, "r1", time.Minute, line("apple", "wh1", 6))
	if !r.Replayed {
		t.Fatalf("Reserve with merged-equal lines = %+v, want a replay", r)
	}
	wantLevel(t, s, "apple", "wh1", 6, 6)
}

// testBundles: a bundle is reserved as its components, quantities
// multiplied through, all together or not at all; its availability is the
// fewest whole bundles its components cover.
func testBundles(t *testing.T, newStore NewStore) {
	s := newStore(t, inventory.Options{})
	bundles := inventory.Bundles{"gift-set": {{SKU: "mug", Quantity: 1}, {SKU: "coaster", Quantity: 2}}}
	if err := bundles.Check(); err != nil {
		t.Fatal(err)
	}
	stock(t, s, "mug", "wh1", 5)
	stock(t, s, "coaster", "wh1", 7)
	avail := func(want int64) {
		t.Helper()
		if n, err := bundles.Available(ctx, s, "gift-set", "wh1"); err != nil || n != want {
			t.Fatalf("gift sets available %d (%v), want %d", n, err, want)
		}
	}
	avail(3)
	lines, err := bundles.Expand([]inventory.Line{line("gift-set", "wh1", 4)})
	if err != nil {
		t.Fatal(err)
	}
	_, err = s.Reserve(ctx, inventory.Request{ID: "b1", TTL: time.Minute, Lines: lines})
	var se *inventory.StockError
	if !errors.As(err, &se) || se.SKU != "coaster" || se.Requested != 8 || se.Available != 7 {
		t.Fatalf("4 gift sets: %v, want a shortage of coasters", err)
	}
	wantLevel(t, s, "mug", "wh1", 5, 0)
	lines, err = bundles.Expand([]inventory.Line{line("gift-set", "wh1", 3), line("mug", "wh1", 1)})
	if err != nil {
		t.Fatal(err)
	}
	r := reserve(t, s, "b1", time.Minute, lines...)
	if len(r.Lines) != 2 || r.Lines[0] != line("coaster", "wh1", 6) || r.Lines[1] != line("mug", "wh1", 4) {
		t.Fatalf("reserved %+v", r.Lines)
	}
	wantLevel(t, s, "mug", "wh1", 5, 4)
	wantLevel(t, s, "coaster", "wh1", 7, 6)
	avail(0)
	if _, err := s.Release(ctx, "b1"); err != nil {
		t.Fatal(err)
	}
	avail(3)
	for _, bad := range []inventory.Bundles{
		{"kit": nil},
		{"kit": {{SKU: "a", Quantity: 0}}},
		{"kit": {{SKU: "a", Quantity: 1}, {SKU: "a", Quantity: 1}}},
		{"kit": {{SKU: "set", Quantity: 1}}, "set": {{SKU: "a", Quantity: 1}}},
	} {
		if err := bad.Check(); !errors.Is(err, inventory.ErrInvalidInput) {
			t.Errorf("%v: Check = %v", bad, err)
		}
	}
	if _, err := bundles.Expand([]inventory.Line{line("gift-set", "wh1", inventory.MaxQuantity)}); !errors.Is(err, inventory.ErrInvalidInput) {
		t.Errorf("overflowing expansion: %v", err)
	}
}
