package inventorytest

import (
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/shopkit/shopkit/inventory"
)

// wantBackordered checks an item's level, backordered units included.
func wantBackordered(t *testing.T, s *inventory.Store, sku, loc string, onHand, reserved, committed, backordered int64) {
	t.Helper()
	got := level(t, s, sku, loc)
	if got.OnHand != onHand || got.Reserved != reserved || got.Committed != committed || got.Backordered != backordered {
		t.Fatalf("level %s@%s = on hand %d, reserved %d, committed %d, backordered %d; want %d, %d, %d, %d",
			sku, loc, got.OnHand, got.Reserved, got.Committed, got.Backordered, onHand, reserved, committed, backordered)
	}
}

// wantWaiting checks the units of sku@loc that reservation id waits for,
// as Reservation reports them.
func wantWaiting(t *testing.T, s *inventory.Store, id, sku, loc string, want int64) {
	t.Helper()
	r, err := s.Reservation(ctx, id)
	if err != nil {
		t.Fatalf("Reservation(%s): %v", id, err)
	}
	if got := r.Waiting(sku, loc); got != want {
		t.Fatalf("Reservation(%s) waits for %d of %s@%s, want %d (backorders %v)", id, got, sku, loc, want, r.Backorders)
	}
}

func setPolicy(t *testing.T, s *inventory.Store, p inventory.Policy) {
	t.Helper()
	if err := s.SetPolicy(ctx, p); err != nil {
		t.Fatalf("SetPolicy(%+v): %v", p, err)
	}
}

func adjust(t *testing.T, s *inventory.Store, id, sku, loc string, delta int64) {
	t.Helper()
	if _, err := s.Adjust(ctx, inventory.Adjustment{ID: id, SKU: sku, Location: loc, Delta: delta, Reason: inventory.ReasonReceipt}); err != nil {
		t.Fatalf("Adjust(%s): %v", id, err)
	}
}

// testBackorders: a policy lets an item sell past on hand up to its limit;
// a reservation says which units wait; waiting units cannot ship; a
// receipt fills them; on hand cannot be written off below the units it
// owes; a return takes waiting units first.
func testBackorders(t *testing.T, newStore NewStore) {
	s := newStore(t, inventory.Options{Shipping: true})
	stock(t, s, "apple", "wh1", 2)
	_, err := s.Reserve(ctx, inventory.Request{ID: "too-early", Lines: []inventory.Line{line("apple", "wh1", 3)}, TTL: time.Minute})
	var se *inventory.StockError
	if !errors.As(err, &se) || se.Available != 2 {
		t.Fatalf("reserve past on hand without a policy: err = %v, want a *StockError with 2 available", err)
	}
	setPolicy(t, s, inventory.Policy{SKU: "apple", Location: "wh1", Backorder: 5})

	a := reserve(t, s, "a", time.Minute, line("apple", "wh1", 3))
	if fmt.Sprint(a.Backorders) != fmt.Sprint([]inventory.Line{line("apple", "wh1", 1)}) {
		t.Fatalf("Reserve(a).Backorders = %v, want 1 apple waiting", a.Backorders)
	}
	wantBackordered(t, s, "apple", "wh1", 2, 3, 0, 1)
	if got := level(t, s, "apple", "wh1").Available(); got != 0 {
		t.Fatalf("Available = %d with a backorder, want 0", got)
	}
	b := reserve(t, s, "b", time.Minute, line("apple", "wh1", 4))
	if b.Waiting("apple", "wh1") != 4 {
		t.Fatalf("Reserve(b) waits for %v, want 4", b.Backorders)
	}
	_, err = s.Reserve(ctx, inventory.Request{ID: "c", Lines: []inventory.Line{line("apple", "wh1", 1)}, TTL: time.Minute})
	if !errors.As(err, &se) || se.Available != 0 {
		t.Fatalf("reserve past the backorder limit: err = %v, want a *StockError with 0 available", err)
	}
	// A replay reports the same backorders and reserves nothing.
	again, err := s.Reserve(ctx, inventory.Request{ID: "b", Lines: []inventory.Line{line("apple", "wh1", 4)}, TTL: time.Minute})
	if err != nil || !again.Replayed || again.Waiting("apple", "wh1") != 4 {
		t.Fatalf("replay of b = %+v, %v; want a replay waiting for 4", again, err)
	}
	wantBackordered(t, s, "apple", "wh1", 2, 7, 0, 5)

	mustOK(t, s.Commit, "a")
	mustOK(t, s.Commit, "b")
	wantBackordered(t, s, "apple", "wh1", 2, 0, 7, 5)
	_, err = ship(s, "ship-a", "a", line("apple", "wh1", 3))
	var fe *inventory.FulfilError
	if !errors.As(err, &fe) || fe.Committed != 3 || fe.Waiting != 1 {
		t.Fatalf("ship of a waiting unit: err = %v, want a *FulfilError with 3 committed, 1 waiting", err)
	}
	f, err := ship(s, "ship-a", "a", line("apple", "wh1", 2))
	wantFulfilment(t, f, err, false, false, "2/0")
	wantBackordered(t, s, "apple", "wh1", 0, 0, 5, 5)

	// A receipt of 3 fills a's last unit, then two of b's.
	adjust(t, s, "receipt-1", "apple", "wh1", 3)
	wantBackordered(t, s, "apple", "wh1", 3, 0, 5, 2)
	wantWaiting(t, s, "a", "apple", "wh1", 0)
	wantWaiting(t, s, "b", "apple", "wh1", 2)
	f, err = ship(s, "ship-a-2", "a", line("apple", "wh1", 1))
	wantFulfilment(t, f, err, true, false, "3/0")

	// On hand owes all of itself to b: nothing can be written off.
	_, err = s.Adjust(ctx, inventory.Adjustment{ID: "damage", SKU: "apple", Location: "wh1", Delta: -1, Reason: inventory.ReasonDamage})
	var re *inventory.ReservedError
	if !errors.As(err, &re) || re.Backordered != 2 || re.Committed != 4 {
		t.Fatalf("write-off of owed units: err = %v, want a *ReservedError with 4 committed, 2 backordered", err)
	}
	// b gives back 3 units: its 2 waiting ones go first, then 1 on hand,
	// which is available again.
	f, err = giveBack(s, "cancel-b", "b", line("apple", "wh1", 3))
	wantFulfilment(t, f, err, false, false, "0/3")
	wantBackordered(t, s, "apple", "wh1", 2, 0, 1, 0)
	wantWaiting(t, s, "b", "apple", "wh1", 0)
	if got := level(t, s, "apple", "wh1").Available(); got != 1 {
		t.Fatalf("Available after the return = %d, want 1", got)
	}
}

// testBackordersFillInOrder: units that come free, from a receipt, a
// release, an expiry or a return, fill the oldest backorders first.
func testBackordersFillInOrder(t *testing.T, newStore NewStore) {
	s := newStore(t, inventory.Options{Shipping: true})
	setPolicy(t, s, inventory.Policy{SKU: "pear", Location: "wh2", Backorder: 10})
	stock(t, s, "pear", "wh2", 0)
	for _, id := range []string{"first", "second", "third"} {
		r := reserve(t, s, id, time.Minute, line("pear", "wh2", 3))
		if r.Waiting("pear", "wh2") != 3 {
			t.Fatalf("Reserve(%s).Backorders = %v, want 3 waiting", id, r.Backorders)
		}
	}
	mustOK(t, s.Release, "second")
	wantBackordered(t, s, "pear", "wh2", 0, 6, 0, 6)

	adjust(t, s, "receipt", "pear", "wh2", 4)
	wantWaiting(t, s, "first", "pear", "wh2", 0)
	wantWaiting(t, s, "third", "pear", "wh2", 2)
	wantBackordered(t, s, "pear", "wh2", 4, 6, 0, 2)

	// A hold that lapses gives its on-hand unit to the next in line.
	reserve(t, s, "lapsing", shortTTL, line("pear", "wh2", 2))
	wantBackordered(t, s, "pear", "wh2", 4, 8, 0, 4)
	pastShortTTL()
	wantState(t, s, "lapsing", inventory.Expired)
	wantBackordered(t, s, "pear", "wh2", 4, 6, 0, 2)

	// first was filled from on hand; its return fills third.
	mustOK(t, s.Commit, "first")
	f, err := giveBack(s, "cancel-first", "first", line("pear", "wh2", 3))
	wantFulfilment(t, f, err, true, false, "0/3")
	wantWaiting(t, s, "third", "pear", "wh2", 0)
	wantBackordered(t, s, "pear", "wh2", 4, 3, 0, 0)

	// A release of a filled reservation, and a count, free units too.
	reserve(t, s, "fourth", time.Minute, line("pear", "wh2", 3))
	reserve(t, s, "fifth", time.Minute, line("pear", "wh2", 2))
	wantBackordered(t, s, "pear", "wh2", 4, 8, 0, 4)
	mustOK(t, s.Release, "third")
	wantWaiting(t, s, "fourth", "pear", "wh2", 0)
	wantWaiting(t, s, "fifth", "pear", "wh2", 1)
	if _, err := s.SetOnHand(ctx, inventory.Count{ID: "count", SKU: "pear", Location: "wh2", OnHand: 6, Reason: inventory.ReasonCount}); err != nil {
		t.Fatalf("SetOnHand: %v", err)
	}
	wantWaiting(t, s, "fifth", "pear", "wh2", 0)
	wantBackordered(t, s, "pear", "wh2", 6, 5, 0, 0)
}

// testPreorders: before its release date an item sells its pre-order
// allowance, and with PreorderIncoming what its open purchase orders
// bring; after it, only the standing backorder limit holds.
func testPreorders(t *testing.T, newStore NewStore) {
	s := newStore(t, inventory.Options{Shipping: true})
	release := time.Now().Add(time.Hour)
	setPolicy(t, s, inventory.Policy{SKU: "plum", Location: "wh1", Preorder: 5, ReleaseAt: release})
	r := reserve(t, s, "pre-1", time.Minute, line("plum", "wh1", 5))
	if r.Waiting("plum", "wh1") != 5 {
		t.Fatalf("pre-order waits for %v, want 5", r.Backorders)
	}
	_, err := s.Reserve(ctx, inventory.Request{ID: "pre-2", Lines: []inventory.Line{line("plum", "wh1", 1)}, TTL: time.Minute})
	wantErr(t, err, inventory.ErrInsufficientStock)

	// Released: pre-orders keep waiting, new sales need stock.
	setPolicy(t, s, inventory.Policy{SKU: "plum", Location: "wh1", Preorder: 5, Backorder: 1, ReleaseAt: time.Now().Add(-time.Second)})
	wantWaiting(t, s, "pre-1", "plum", "wh1", 5)
	_, err = s.Reserve(ctx, inventory.Request{ID: "late", Lines: []inventory.Line{line("plum", "wh1", 1)}, TTL: time.Minute})
	wantErr(t, err, inventory.ErrInsufficientStock)

	// Pre-orders up to what suppliers are to deliver.
	setPolicy(t, s, inventory.Policy{SKU: "pear", Location: "wh9", PreorderIncoming: true, ReleaseAt: release})
	expect(t, s, "po", arrival, line("pear", "wh9", 10))
	reserve(t, s, "pear-1", time.Minute, line("pear", "wh9", 8))
	_, err = s.Reserve(ctx, inventory.Request{ID: "pear-2", Lines: []inventory.Line{line("pear", "wh9", 3)}, TTL: time.Minute})
	var se *inventory.StockError
	if !errors.As(err, &se) || se.Available != 2 {
		t.Fatalf("pre-order past incoming: err = %v, want a *StockError with 2 available", err)
	}
	reserve(t, s, "pear-2", time.Minute, line("pear", "wh9", 2))
	in, err := receive(s, "delivery", "po", line("pear", "wh9", 7))
	wantIncoming(t, in, err, false, false, "7/0")
	wantWaiting(t, s, "pear-1", "pear", "wh9", 1)
	wantWaiting(t, s, "pear-2", "pear", "wh9", 2)
	wantBackordered(t, s, "pear", "wh9", 7, 10, 0, 3)

	// The zero policy sells on hand only again; waiting units still
	// fill.
	setPolicy(t, s, inventory.Policy{SKU: "pear", Location: "wh9"})
	_, err = s.Reserve(ctx, inventory.Request{ID: "pear-3", Lines: []inventory.Line{line("pear", "wh9", 1)}, TTL: time.Minute})
	wantErr(t, err, inventory.ErrInsufficientStock)
	in, err = receive(s, "delivery-2", "po", line("pear", "wh9", 3))
	wantIncoming(t, in, err, true, false, "10/0")
	wantBackordered(t, s, "pear", "wh9", 10, 10, 0, 0)
}

// testPolicyInput: a bad policy is refused with the field and the rule,
// and a policy needs Options.Shipping.
func testPolicyInput(t *testing.T, newStore NewStore) {
	s := newStore(t, inventory.Options{Shipping: true})
	for _, c := range []struct {
		p     inventory.Policy
		field string
	}{
		{inventory.Policy{Location: "wh1", Backorder: 1}, "SKU"},
		{inventory.Policy{SKU: "apple", Location: "wh:1", Backorder: 1}, "Location"},
		{inventory.Policy{SKU: "apple", Location: "wh1", Backorder: -1}, "Backorder"},
		{inventory.Policy{SKU: "apple", Location: "wh1", Preorder: -1, ReleaseAt: time.Now()}, "Preorder"},
		{inventory.Policy{SKU: "apple", Location: "wh1", Preorder: 3}, "ReleaseAt"},
		{inventory.Policy{SKU: "apple", Location: "wh1", PreorderIncoming: true}, "ReleaseAt"},
	} {
		err := s.SetPolicy(ctx, c.p)
		var ie *inventory.InputError
		if !errors.As(err, &ie) || ie.Field != c.field {
			t.Fatalf("SetPolicy(%+v): err = %v, want an *InputError on %s", c.p, err, c.field)
		}
	}
	stock(t, s, "apple", "wh1", 1)
	_, err := s.Reserve(ctx, inventory.Request{ID: "r", Lines: []inventory.Line{line("apple", "wh1", 2)}, TTL: time.Minute})
	wantErr(t, err, inventory.ErrInsufficientStock)

	plain := newStore(t, inventory.Options{})
	err = plain.SetPolicy(ctx, inventory.Policy{SKU: "apple", Location: "wh1", Backorder: 1})
	var ie *inventory.InputError
	if !errors.As(err, &ie) || ie.Field != "Policy" {
		t.Fatalf("SetPolicy without Shipping: err = %v, want an *InputError on Policy", err)
	}
	if err := plain.SetPolicy(ctx, inventory.Policy{SKU: "apple", Location: "wh1"}); err != nil {
		t.Fatalf("the zero policy without Shipping: %v", err)
	}
}

// testRacingBackorders: racing buyers take on hand and the backorder
// allowance exactly; racing releases and receipts keep every unit counted,
// and the units reservations wait for add up to the level's.
func testRacingBackorders(t *testing.T, newStore NewStore) {
	s := newStore(t, inventory.Options{Shipping: true})
	stock(t, s, "hot", "wh1", 5)
	setPolicy(t, s, inventory.Policy{SKU: "hot", Location: "wh1", Backorder: 15})
	const buyers = 40
	var wg sync.WaitGroup
	ok := make([]bool, buyers)
	for i := range buyers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, err := s.Reserve(ctx, inventory.Request{ID: fmt.Sprint("buyer-", i), Lines: []inventory.Line{line("hot", "wh1", 1)}, TTL: time.Minute})
			ok[i] = err == nil
			if err != nil && !errors.Is(err, inventory.ErrInsufficientStock) {
				t.Errorf("Reserve: %v", err)
			}
		}()
	}
	wg.Wait()
	var held []string
	for i, o := range ok {
		if o {
			held = append(held, fmt.Sprint("buyer-", i))
		}
	}
	if len(held) != 20 {
		t.Fatalf("%d buyers reserved, want 20 (5 on hand, 15 backordered)", len(held))
	}
	wantBackordered(t, s, "hot", "wh1", 5, 20, 0, 15)

	// Half release, the rest commit, while 6 units arrive in parts.
	for i, id := range held {
		wg.Add(1)
		go func() {
			defer wg.Done()
			op := s.Commit
			if i%2 == 0 {
				op = s.Release
			}
			if _, err := op(ctx, id); err != nil {
				t.Errorf("%s: %v", id, err)
			}
		}()
	}
	for i := range 3 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if _, err := s.Adjust(ctx, inventory.Adjustment{ID: fmt.Sprint("receipt-", i), SKU: "hot", Location: "wh1", Delta: 2, Reason: inventory.ReasonReceipt}); err != nil {
				t.Errorf("Adjust: %v", err)
			}
		}()
	}
	wg.Wait()
	// 10 committed against 11 on hand: nothing waits, one unit is free.
	wantBackordered(t, s, "hot", "wh1", 11, 0, 10, 0)
	var waiting int64
	for _, id := range held {
		r, err := s.Reservation(ctx, id)
		if err != nil {
			t.Fatalf("Reservation(%s): %v", id, err)
		}
		waiting += r.Waiting("hot", "wh1")
	}
	if waiting != 0 {
		t.Fatalf("reservations wait for %d units, want 0", waiting)
	}
}

// testWaitingSeenInBatches: reservations looked up and extended all at
// once (on Redis, in shared batches) each report their own waiting units.
func testWaitingSeenInBatches(t *testing.T, newStore NewStore) {
	s := newStore(t, inventory.Options{Shipping: true})
	setPolicy(t, s, inventory.Policy{SKU: "hot", Location: "wh1", Backorder: 100})
	const n = 12
	for i := range n {
		if _, err := s.Reserve(ctx, inventory.Request{ID: fmt.Sprint("wait-", i), Lines: []inventory.Line{line("hot", "wh1", int64(i+1))}, TTL: time.Minute}); err != nil {
			t.Fatal(err)
		}
	}
	var wg sync.WaitGroup
	for round := range 10 {
		for i := range n {
			wg.Add(1)
			go func() {
				defer wg.Done()
				id := fmt.Sprint("wait-", i)
				r, err := s.Reservation(ctx, id)
				if round%2 == 1 {
					r, err = s.Extend(ctx, id, time.Minute)
				}
				if err != nil {
					t.Errorf("%s: %v", id, err)
				} else if got := r.Waiting("hot", "wh1"); got != int64(i+1) {
					t.Errorf("%s: %d units wait, want %d", id, got, i+1)
				}
			}()
		}
		wg.Wait()
	}
}
