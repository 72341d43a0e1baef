package inventorytest

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/shopkit/shopkit/inventory"
)

func testInvalidInput(t *testing.T, newStore NewStore) {
	s := newStore(t, inventory.Options{})
	stock(t, s, "apple", "wh1", 10)
	reserve(t, s, "held", time.Minute, line("apple", "wh1", 1))

	ok := line("apple", "wh1", 1)
	long := strings.Repeat("x", inventory.MaxIDLen+1)
	many := make([]inventory.Line, inventory.MaxLines+1)
	for i := range many {
		many[i] = ok
	}
	res := func(id string, ttl time.Duration, lines ...inventory.Line) func() error {
		return func() error {
			_, err := s.Reserve(ctx, inventory.Request{ID: id, TTL: ttl, Lines: lines})
			return err
		}
	}
	adj := func(a inventory.Adjustment) func() error {
		return func() error { _, err := s.Adjust(ctx, a); return err }
	}
	cnt := func(c inventory.Count) func() error {
		return func() error { _, err := s.SetOnHand(ctx, c); return err }
	}
	goodAdj := inventory.Adjustment{ID: "a1", SKU: "apple", Location: "wh1", Delta: 1, Reason: inventory.ReasonReceipt}
	with := func(f func(*inventory.Adjustment)) inventory.Adjustment { a := goodAdj; f(&a); return a }

	tests := []struct {
		name      string
		give      func() error
		wantField string
	}{
		{"empty ID", res("", time.Minute, ok), "ID"},
		{"long ID", res(long, time.Minute, ok), "ID"},
		{"ID forging a hash tag", res("x}{other", time.Minute, ok), "ID"},
		{"ID forging a key", res("r:x", time.Minute, ok), "ID"},
		{"ID with newline", res("r\n1", time.Minute, ok), "ID"},
		{"zero TTL", res("r1", 0, ok), "TTL"},
		{"negative TTL", res("r1", -time.Second, ok), "TTL"},
		{"no lines", res("r1", time.Minute), "Lines"},
		{"too many lines", res("r1", time.Minute, many...), "Lines"},
		{"zero quantity", res("r1", time.Minute, ok, line("apple", "wh1", 0)), "Lines[1].Quantity"},
		{"negative quantity", res("r1", time.Minute, line("apple", "wh1", -1)), "Lines[0].Quantity"},
		{"quantity too large", res("r1", time.Minute, line("apple", "wh1", inventory.MaxQuantity+1)), "Lines[0].Quantity"},
		{"total overflows", res("r1", time.Minute, line("apple", "wh1", inventory.MaxQuantity), line("apple", "wh1", inventory.MaxQuantity)), "Lines"},
		{"empty SKU", res("r1", time.Minute, line("", "wh1", 1)), "Lines[0].SKU"},
		{"SKU with brace", res("r1", time.Minute, line("a{b}", "wh1", 1)), "Lines[0].SKU"},
		{"location with colon", res("r1", time.Minute, line("apple", "w:h", 1)), "Lines[0].Location"},
		{"adjust zero delta", adj(with(func(a *inventory.Adjustment) { a.Delta = 0 })), "Delta"},
		{"adjust huge delta", adj(with(func(a *inventory.Adjustment) { a.Delta = -inventory.MaxQuantity - 1 })), "Delta"},
		{"adjust empty ID", adj(with(func(a *inventory.Adjustment) { a.ID = "" })), "ID"},
		{"adjust empty reason", adj(with(func(a *inventory.Adjustment) { a.Reason = "" })), "Reason"},
		{"adjust bad SKU", adj(with(func(a *inventory.Adjustment) { a.SKU = "a b" })), "SKU"},
		{"count negative", cnt(inventory.Count{ID: "c1", SKU: "apple", Location: "wh1", OnHand: -1, Reason: inventory.ReasonCount}), "OnHand"},
		{"count too large", cnt(inventory.Count{ID: "c1", SKU: "apple", Location: "wh1", OnHand: inventory.MaxQuantity + 1, Reason: inventory.ReasonCount}), "OnHand"},
		{"count bad location", cnt(inventory.Count{ID: "c1", SKU: "apple", Location: "", OnHand: 1, Reason: inventory.ReasonCount}), "Location"},
		{"commit bad ID", func() error { _, err := s.Commit(ctx, "a}b"); return err }, "ID"},
		{"release bad ID", func() error { _, err := s.Release(ctx, ""); return err }, "ID"},
		{"extend bad TTL", func() error { _, err := s.Extend(ctx, "held", 0); return err }, "TTL"},
		{"read bad ID", func() error { _, err := s.Reservation(ctx, long); return err }, "ID"},
		{"levels bad item", func() error { _, err := s.Levels(ctx, inventory.Item{SKU: "apple"}); return err }, "Items[0].Location"},
	}
	for _, tt := range tests {
		err := tt.give()
		var ie *inventory.InputError
		if !errors.As(err, &ie) || !errors.Is(err, inventory.ErrInvalidInput) {
			t.Errorf("%s: err = %v, want *InputError", tt.name, err)
			continue
		}
		if ie.Field != tt.wantField || ie.Rule == "" {
			t.Errorf("%s: InputError{Field: %q, Rule: %q}, want field %q", tt.name, ie.Field, ie.Rule, tt.wantField)
		}
	}
	// Nothing was written.
	wantLevel(t, s, "apple", "wh1", 10, 1)
	for _, id := range []string{"r1", "a1", "c1"} {
		if _, err := s.Reservation(ctx, id); !errors.Is(err, inventory.ErrNotFound) {
			t.Errorf("Reservation(%s) err = %v, want ErrNotFound", id, err)
		}
	}
	if r, err := s.Extend(ctx, "held", time.Minute); err != nil || r.State != inventory.Held {
		t.Fatalf("Extend(held) after refused calls = %+v, %v", r, err)
	}
}

// testRacingForScarceStock: 64 goroutines race for 100 units, each trying
// to reserve one unit at a time; exactly 100 reservations succeed.
func testRacingForScarceStock(t *testing.T, newStore NewStore) {
	s := newStore(t, inventory.Options{})
	const units, workers, tries = 100, 64, 4
	stock(t, s, "hot", "wh1", units)
	var won, short atomic.Int64
	var wg sync.WaitGroup
	errs := make(chan error, workers)
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			for i := 0; i < tries; i++ {
				id := fmt.Sprintf("w%d-%d", w, i)
				_, err := s.Reserve(ctx, inventory.Request{ID: id, TTL: time.Minute, Lines: []inventory.Line{line("hot", "wh1", 1)}})
				switch {
				case err == nil:
					won.Add(1)
					if _, err := s.Commit(ctx, id); err != nil {
						errs <- err
						return
					}
				case errors.Is(err, inventory.ErrInsufficientStock):
					short.Add(1)
				default:
					errs <- err
					return
				}
			}
		}(w)
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	if won.Load() != units || short.Load() != workers*tries-units {
		t.Fatalf("won %d, short %d; want exactly %d sold", won.Load(), short.Load(), units)
	}
	wantLevel(t, s, "hot", "wh1", 0, 0)
}

// testRacingMultiLine: goroutines reserve overlapping multi-line baskets
// over a few scarce SKUs, then commit, release or abandon them. Nothing may
// deadlock or oversell, and afterwards every level must agree with the
// reservations that hold it.
func testRacingMultiLine(t *testing.T, newStore NewStore) {
	s := newStore(t, inventory.Options{})
	skus := []string{"a", "b", "c", "d", "e"}
	const initial = 40
	for _, sku := range skus {
		stock(t, s, sku, "wh1", initial)
		stock(t, s, sku, "wh2", initial)
	}
	const workers, baskets = 32, 12
	var mu sync.Mutex
	ids := map[string]bool{}
	var wg sync.WaitGroup
	errs := make(chan error, workers)
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			rng := rand.New(rand.NewPCG(uint64(w), 7))
			for i := 0; i < baskets; i++ {
				var lines []inventory.Line
				for n := 1 + rng.IntN(4); n > 0; n-- {
					loc := "wh1"
					if rng.IntN(2) == 1 {
						loc = "wh2"
					}
					lines = append(lines, line(skus[rng.IntN(len(skus))], loc, int64(1+rng.IntN(3))))
				}
				id := fmt.Sprintf("m%d-%d", w, i)
				_, err := s.Reserve(ctx, inventory.Request{ID: id, TTL: time.Minute, Lines: lines})
				if errors.Is(err, inventory.ErrInsufficientStock) {
					continue
				}
				if err != nil {
					errs <- err
					return
				}
				mu.Lock()
				ids[id] = true
				mu.Unlock()
				switch rng.IntN(3) {
				case 0:
					_, err = s.Commit(ctx, id)
				case 1:
					_, err = s.Release(ctx, id)
				}
				if err != nil {
					errs <- err
					return
				}
			}
		}(w)
	}
	finished := make(chan struct{})
	go func() { wg.Wait(); close(finished) }()
	select {
	case <-finished:
	case <-time.After(60 * time.Second):
		t.Fatal("racing multi-line reservations did not finish: deadlock?")
	}
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	var idList []string
	for id := range ids {
		idList = append(idList, id)
	}
	CheckInvariants(t, s, skus, []string{"wh1", "wh2"}, initial, idList)
}

// CheckInvariants verifies, for stores whose items all started at initial on
// hand and changed only through the reservations in ids, that for every item
// reserved equals the held quantities, on hand equals initial minus the
// committed quantities, and 0 ≤ reserved ≤ on hand.
func CheckInvariants(t testing.TB, s *inventory.Store, skus, locations []string, initial int64, ids []string) {
	t.Helper()
	held := map[inventory.Item]int64{}
	sold := map[inventory.Item]int64{}
	for _, id := range ids {
		r, err := s.Reservation(ctx, id)
		if err != nil {
			t.Fatalf("Reservation(%s): %v", id, err)
		}
		for _, l := range r.Lines {
			it := inventory.Item{SKU: l.SKU, Location: l.Location}
			switch r.State {
			case inventory.Held:
				held[it] += l.Quantity
			case inventory.Committed:
				sold[it] += l.Quantity
			}
		}
	}
	for _, sku := range skus {
		for _, loc := range locations {
			it := inventory.Item{SKU: sku, Location: loc}
			lv := level(t, s, sku, loc)
			if lv.Reserved != held[it] || lv.OnHand != initial-sold[it] || lv.Reserved < 0 || lv.Reserved > lv.OnHand {
				t.Fatalf("%s@%s: on hand %d, reserved %d; want on hand %d (sold %d), reserved %d",
					sku, loc, lv.OnHand, lv.Reserved, initial-sold[it], sold[it], held[it])
			}
		}
	}
}

// testRacingReplays: many goroutines send the same reservation at once, as
// a client retrying on timeouts might. Exactly one makes it; the others get
// it back as a replay, and the stock is held once.
func testRacingReplays(t *testing.T, newStore NewStore) {
	s := newStore(t, inventory.Options{})
	stock(t, s, "apple", "wh1", 10)
	const workers = 32
	var fresh, replayed atomic.Int64
	var wg sync.WaitGroup
	errs := make(chan error, workers)
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for _, id := range []string{"dup-1", "dup-2", "dup-3"} {
				r, err := s.Reserve(ctx, inventory.Request{ID: id, TTL: time.Minute, Lines: []inventory.Line{line("apple", "wh1", 3)}})
				if err != nil {
					errs <- err
					return
				}
				if r.Replayed {
					replayed.Add(1)
				} else {
					fresh.Add(1)
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	if fresh.Load() != 3 || replayed.Load() != 3*workers-3 {
		t.Fatalf("fresh %d, replayed %d; want 3 and %d", fresh.Load(), replayed.Load(), 3*workers-3)
	}
	wantLevel(t, s, "apple", "wh1", 10, 9)
}

// testReturnedLinesAreTheCallers: the Lines of a returned Reservation
// belong to the caller. Changing them changes nothing the store does
// later: the commit after takes the reserved quantities.
func testReturnedLinesAreTheCallers(t *testing.T, newStore NewStore) {
	s := newStore(t, inventory.Options{})
	stock(t, s, "apple", "wh1", 10)
	r := reserve(t, s, "mine", time.Minute, line("apple", "wh1", 4))
	r.Lines[0].Quantity = 1
	for _, get := range []func() (inventory.Reservation, error){
		func() (inventory.Reservation, error) { return s.Reservation(ctx, "mine") },
		func() (inventory.Reservation, error) { return s.Extend(ctx, "mine", time.Minute) },
	} {
		got, err := get()
		if err != nil {
			t.Fatal(err)
		}
		if got.Lines[0].Quantity != 4 {
			t.Fatalf("Lines = %v, want 4 apples", got.Lines)
		}
		got.Lines[0].Quantity = 1
	}
	if _, err := s.Commit(ctx, "mine"); err != nil {
		t.Fatal(err)
	}
	wantLevel(t, s, "apple", "wh1", 6, 0)
}
