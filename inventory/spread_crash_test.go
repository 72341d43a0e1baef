package inventory

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/shopkit/shopkit/internal/redistest"
)

// The crash tests stop a spread store's client at each step of the
// protocol, as if its process died there, then let a second store on the
// same keys (another process, with no cache) run the recovery sweep, and
// check that the reservation ended all or nothing and that the levels
// agree with the reservations' states.

// crashItems are four items in four different groups.
var crashItems = []Item{{"w", "wh1"}, {"x", "wh1"}, {"y", "wh1"}, {"z", "wh1"}}

func crashSpread() Spread {
	return Spread{Groups: 4, RecoverAfter: time.Millisecond, Group: func(it Item) int {
		return map[string]int{"w": 0, "x": 1, "y": 2, "z": 3}[it.SKU]
	}}
}

// crashLines are the lines of a reservation over three groups.
var crashLines = []Line{{SKU: "w", Location: "wh1", Quantity: 2}, {SKU: "x", Location: "wh1", Quantity: 3}, {SKU: "z", Location: "wh1", Quantity: 1}}

func newCrashStore(t *testing.T, client redis.UniversalClient, prefix string) (*Store, *spreadBackend) {
	t.Helper()
	s, err := NewRedis(client, Options{Prefix: prefix, Shipping: true, Spread: crashSpread()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Close() })
	return s, s.b.(*spreadBackend)
}

// crashAt makes b's calls stop at step, once.
func crashAt(b *spreadBackend, step string) {
	var done atomic.Bool // the hook is asked from concurrent goroutines
	b.crash = func(s string) bool {
		return s == step && done.CompareAndSwap(false, true)
	}
}

// recoverFromAnother makes a second store on prefix, as another process
// would, and runs its recovery sweep once every hold is past RecoverAfter.
func recoverFromAnother(t *testing.T, client redis.UniversalClient, prefix string) (*Store, *spreadBackend) {
	t.Helper()
	other, ob := newCrashStore(t, client, prefix)
	time.Sleep(20 * time.Millisecond) // past RecoverAfter
	if _, err := other.Sweep(context.Background()); err != nil {
		t.Fatalf("recovery sweep: %v", err)
	}
	return other, ob
}

// recoverAndCheck runs recovery from a fresh store and checks that the
// reservation's holds follow state want, that every item's reserved and
// committed units are exactly its share, and then that the reservation
// reads as want.
func recoverAndCheck(t *testing.T, client redis.UniversalClient, prefix, id string, want State) {
	t.Helper()
	ctx := context.Background()
	other, ob := recoverFromAnother(t, client, prefix)
	// Every hold follows the home record.
	groups, parts := ob.byGroup(crashLines)
	for _, g := range groups {
		rec, err := client.HGet(ctx, ob.groups[g].resKey, id+holdSuffix).Result()
		if errors.Is(err, redis.Nil) {
			if want == Held || want == Committed {
				t.Fatalf("group %d: no hold for a %v reservation", g, want)
			}
			continue
		}
		if err != nil {
			t.Fatal(err)
		}
		holdState := State(rec[0] - '0')
		if wantHold := map[State]State{Held: Held, Committed: Committed, Released: Released, Expired: Released}[want]; holdState != wantHold {
			t.Fatalf("group %d (%v): hold is %v, want %v", g, parts[g], holdState, wantHold)
		}
	}
	levels, err := other.Levels(ctx, crashItems...)
	if err != nil {
		t.Fatal(err)
	}
	for _, lv := range levels {
		var q int64
		for _, l := range crashLines {
			if l.SKU == lv.SKU {
				q = l.Quantity
			}
		}
		var wantR, wantC int64
		switch want {
		case Held:
			wantR = q
		case Committed:
			wantC = q
		}
		if lv.OnHand != 10 || lv.Reserved != wantR || lv.Committed != wantC {
			t.Fatalf("%s: on hand %d, reserved %d, committed %d; want 10, %d, %d", lv.SKU, lv.OnHand, lv.Reserved, lv.Committed, wantR, wantC)
		}
	}
	// Only now ask for the reservation: a read brings its holds in line
	// too, so asking first would hide a recovery that did nothing.
	r, err := other.Reservation(ctx, id)
	if err != nil {
		t.Fatalf("Reservation(%s) after recovery: %v", id, err)
	}
	if r.State != want {
		t.Fatalf("state after recovery = %v, want %v", r.State, want)
	}
}

func stockCrashItems(t *testing.T, s *Store) {
	t.Helper()
	for _, it := range crashItems {
		if _, err := s.SetOnHand(context.Background(), Count{ID: "init-" + it.SKU, SKU: it.SKU, Location: it.Location, OnHand: 10, Reason: ReasonCount}); err != nil {
			t.Fatal(err)
		}
	}
}

// stockedCrashStore returns a fresh prefix and a crash store on it whose
// items have 10 units each.
func stockedCrashStore(t *testing.T, client redis.UniversalClient) (string, *Store, *spreadBackend) {
	t.Helper()
	prefix := redistest.Prefix(t, client)
	s, b := newCrashStore(t, client, prefix)
	stockCrashItems(t, s)
	return prefix, s, b
}

// commitCrashReservation reserves crashLines as "r" and commits it.
func commitCrashReservation(t *testing.T, s *Store) {
	t.Helper()
	ctx := context.Background()
	if _, err := s.Reserve(ctx, Request{ID: "r", TTL: time.Minute, Lines: crashLines}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Commit(ctx, "r"); err != nil {
		t.Fatal(err)
	}
}

// checkOnHandIncoming checks each crash item's on hand and incoming
// units against want, SKU -> {on hand, incoming}.
func checkOnHandIncoming(t *testing.T, s *Store, want map[string][2]int64) {
	t.Helper()
	levels, err := s.Levels(context.Background(), crashItems...)
	if err != nil {
		t.Fatal(err)
	}
	for _, lv := range levels {
		if w := want[lv.SKU]; lv.OnHand != w[0] || lv.Incoming != w[1] {
			t.Fatalf("%s: on hand %d, incoming %d; want %d, %d", lv.SKU, lv.OnHand, lv.Incoming, w[0], w[1])
		}
	}
}

func TestSpreadCrashRecovery(t *testing.T) {
	client := redistest.Client(t)
	ctx := context.Background()
	cases := []struct {
		step string
		// run does what crashes, after a reservation of crashLines under
		// "r" (TTL ttl) when reserve is set.
		ttl  time.Duration
		run  func(s *Store) error
		want State
	}{
		{"reserve:held", time.Minute, func(s *Store) error {
			_, err := s.Reserve(ctx, Request{ID: "r", TTL: time.Minute, Lines: crashLines})
			return err
		}, Expired},
		{"commit:home", time.Minute, func(s *Store) error { _, err := s.Commit(ctx, "r"); return err }, Committed},
		{"follow:some", time.Minute, func(s *Store) error { _, err := s.Commit(ctx, "r"); return err }, Committed},
		{"release:home", time.Minute, func(s *Store) error { _, err := s.Release(ctx, "r"); return err }, Released},
		{"expire:home", 10 * time.Millisecond, func(s *Store) error {
			time.Sleep(30 * time.Millisecond)
			_, err := s.Sweep(ctx)
			return err
		}, Expired},
	}
	for _, tc := range cases {
		t.Run(tc.step, func(t *testing.T) {
			prefix, s, b := stockedCrashStore(t, client)
			if tc.step != "reserve:held" {
				if _, err := s.Reserve(ctx, Request{ID: "r", TTL: tc.ttl, Lines: crashLines}); err != nil {
					t.Fatal(err)
				}
			}
			crashAt(b, tc.step)
			// The crashing store's own sweep must reach its step, not
			// find the reservation already resolved by its recovery:
			// only the second store recovers.
			b.spread.RecoverAfter = time.Hour
			if err := tc.run(s); !errors.Is(err, errCrashed) {
				t.Fatalf("%s: err = %v, want the crash", tc.step, err)
			}
			recoverAndCheck(t, client, prefix, "r", tc.want)
		})
	}
}

// TestSpreadCrashThenRetry: a client that dies after its holds and retries
// before recovery runs completes the reservation, and recovery then leaves
// it alone.
func TestSpreadCrashThenRetry(t *testing.T) {
	client := redistest.Client(t)
	ctx := context.Background()
	prefix, s, b := stockedCrashStore(t, client)
	crashAt(b, "reserve:held")
	req := Request{ID: "r", TTL: time.Minute, Lines: crashLines}
	if _, err := s.Reserve(ctx, req); !errors.Is(err, errCrashed) {
		t.Fatalf("err = %v, want the crash", err)
	}
	r, err := s.Reserve(ctx, req)
	if err != nil || r.State != Held {
		t.Fatalf("retry = %+v, %v; want held", r, err)
	}
	recoverAndCheck(t, client, prefix, "r", Held)
	// Recovery abandoned nothing: a late commit still works.
	if r, err := s.Commit(ctx, "r"); err != nil || r.State != Committed {
		t.Fatalf("commit after recovery = %+v, %v", r, err)
	}
	recoverAndCheck(t, client, prefix, "r", Committed)
}

// TestSpreadLateOpenAfterRecovery: a client slower than RecoverAfter
// between its steps finds its ID abandoned and gets ErrExpired; its holds
// are released, never held twice.
func TestSpreadLateOpenAfterRecovery(t *testing.T) {
	client := redistest.Client(t)
	ctx := context.Background()
	prefix, s, b := stockedCrashStore(t, client)
	other, _ := newCrashStore(t, client, prefix)
	b.crash = func(step string) bool {
		if step == "reserve:held" {
			time.Sleep(20 * time.Millisecond)
			if _, err := other.Sweep(ctx); err != nil {
				t.Error(err)
			}
		}
		return false
	}
	r, err := s.Reserve(ctx, Request{ID: "r", TTL: time.Minute, Lines: crashLines})
	if !errors.Is(err, ErrExpired) {
		t.Fatalf("late reserve = %+v, %v; want ErrExpired", r, err)
	}
	b.crash = nil
	recoverAndCheck(t, client, prefix, "r", Expired)
}

// TestSpreadShortageUndoesHolds: a reservation short in one group leaves
// no hold and no record in any, so its ID may be used again, with other
// lines.
func TestSpreadShortageUndoesHolds(t *testing.T) {
	client := redistest.Client(t)
	ctx := context.Background()
	prefix, s, b := stockedCrashStore(t, client)
	big := append([]Line(nil), crashLines...)
	big[2].Quantity = 11
	if _, err := s.Reserve(ctx, Request{ID: "r", TTL: time.Minute, Lines: big}); !errors.Is(err, ErrInsufficientStock) {
		t.Fatalf("err = %v, want a shortage", err)
	}
	for g, gb := range b.groups {
		if n, err := client.HLen(ctx, gb.resKey).Result(); err != nil || n != 0 {
			t.Fatalf("group %d keeps %d records (%v) after a failed reservation", g, n, err)
		}
	}
	if _, err := s.Reserve(ctx, Request{ID: "r", TTL: time.Minute, Lines: crashLines}); err != nil {
		t.Fatalf("reusing the ID: %v", err)
	}
	recoverAndCheck(t, client, prefix, "r", Held)
}

// TestGroupPrefixesSpreadOverSlots: group g's hash tag falls in the g-th
// slice of the Cluster's slots.
func TestGroupPrefixesSpreadOverSlots(t *testing.T) {
	for _, groups := range []int{2, 3, 16, 64} {
		for g := range groups {
			p := groupPrefix("shop", g, groups)
			slot := int(crc16(p)) % clusterSlots
			if lo, hi := g*clusterSlots/groups, (g+1)*clusterSlots/groups; slot < lo || slot >= hi {
				t.Fatalf("%d groups: group %d prefix %q in slot %d, want [%d, %d)", groups, g, p, slot, lo, hi)
			}
		}
	}
	// crc16 is Redis Cluster's CRC-16/XMODEM: its check value.
	if got, want := crc16("123456789"), uint16(0x31c3); got != want {
		t.Fatalf("crc16 = %#x, want %#x", got, want)
	}
}

// TestSpreadRecoveryPassesLiveHolds: holds of reservations that are
// simply still held do not stop recovery from reaching an abandoned hold
// behind them, however many there are (more than a page of the index).
func TestSpreadRecoveryPassesLiveHolds(t *testing.T) {
	client := redistest.Client(t)
	ctx := context.Background()
	prefix := redistest.Prefix(t, client)
	s, b := newCrashStore(t, client, prefix)
	for _, it := range crashItems {
		if _, err := s.SetOnHand(ctx, Count{ID: "init-" + it.SKU, SKU: it.SKU, Location: it.Location, OnHand: 10000, Reason: ReasonCount}); err != nil {
			t.Fatal(err)
		}
	}
	const live = 3 * sweepEntries / 2
	for i := range live {
		if _, err := s.Reserve(ctx, Request{ID: fmt.Sprint("live", i), TTL: time.Hour, Lines: crashLines}); err != nil {
			t.Fatal(err)
		}
	}
	crashAt(b, "reserve:held")
	if _, err := s.Reserve(ctx, Request{ID: "r", TTL: time.Hour, Lines: crashLines}); !errors.Is(err, errCrashed) {
		t.Fatalf("err = %v, want the crash", err)
	}
	time.Sleep(20 * time.Millisecond)
	if _, err := s.Sweep(ctx); err != nil {
		t.Fatal(err)
	}
	levels, err := s.Levels(ctx, Item{SKU: "w", Location: "wh1"})
	if err != nil {
		t.Fatal(err)
	}
	if want := int64(live) * crashLines[0].Quantity; levels[0].Reserved != want {
		t.Fatalf("w reserved %d after recovery, want %d: the abandoned hold was not reached", levels[0].Reserved, want)
	}
}

// TestSpreadShipCrashRecovery: a Ship over several groups whose client
// dies after some or all groups applied it is finished by recovery, so
// every group ships, never some; a retry then reports it as a replay.
func TestSpreadShipCrashRecovery(t *testing.T) {
	client := redistest.Client(t)
	ctx := context.Background()
	for _, step := range []string{"fulfil:some", "intent:applied"} {
		t.Run(step, func(t *testing.T) {
			prefix, s, b := stockedCrashStore(t, client)
			commitCrashReservation(t, s)
			// w (group 0), x (group 1) and z (group 3): three groups.
			req := FulfilRequest{ID: "parcel", Reservation: "r", Lines: []Line{
				{SKU: "w", Location: "wh1", Quantity: 1}, {SKU: "x", Location: "wh1", Quantity: 3}, {SKU: "z", Location: "wh1", Quantity: 1}}}
			crashAt(b, step)
			if _, err := s.Ship(ctx, req); !errors.Is(err, errCrashed) {
				t.Fatalf("err = %v, want the crash", err)
			}
			other, _ := recoverFromAnother(t, client, prefix)
			levels, err := other.Levels(ctx, crashItems...)
			if err != nil {
				t.Fatal(err)
			}
			want := map[string][2]int64{"w": {9, 1}, "x": {7, 0}, "y": {10, 0}, "z": {9, 0}} // on hand, committed
			for _, lv := range levels {
				if w := want[lv.SKU]; lv.OnHand != w[0] || lv.Committed != w[1] || lv.Reserved != 0 {
					t.Fatalf("%s after recovery: on hand %d, reserved %d, committed %d; want %d, 0, %d", lv.SKU, lv.OnHand, lv.Reserved, lv.Committed, w[0], w[1])
				}
			}
			f, err := other.Ship(ctx, req)
			if err != nil || !f.Replayed || f.Complete || len(f.Lines) != 3 || f.Lines[0].Shipped != 1 || f.Lines[1].Shipped != 3 || f.Lines[2].Shipped != 1 {
				t.Fatalf("retry = %+v, %v; want a replay with every line shipped as asked", f, err)
			}
		})
	}
}

// TestSpreadReceiveCrashRecovery: a Receive of an order over several
// groups whose client dies after some groups applied it is finished by
// recovery: every group receives, never some.
func TestSpreadReceiveCrashRecovery(t *testing.T) {
	client := redistest.Client(t)
	ctx := context.Background()
	prefix, s, b := stockedCrashStore(t, client)
	at := time.Now().Add(time.Hour).Truncate(time.Millisecond)
	if _, err := s.Expect(ctx, PurchaseOrder{ID: "po", ExpectedAt: at, Lines: crashLines}); err != nil {
		t.Fatal(err)
	}
	req := ArrivalRequest{ID: "truck", PurchaseOrder: "po", Lines: []Line{{SKU: "w", Location: "wh1", Quantity: 2}, {SKU: "x", Location: "wh1", Quantity: 1}, {SKU: "z", Location: "wh1", Quantity: 1}}}
	crashAt(b, "arrive:some")
	if _, err := s.Receive(ctx, req); !errors.Is(err, errCrashed) {
		t.Fatalf("err = %v, want the crash", err)
	}
	other, _ := recoverFromAnother(t, client, prefix)
	checkOnHandIncoming(t, other, map[string][2]int64{"w": {12, 0}, "x": {11, 2}, "y": {10, 0}, "z": {11, 0}})
	in, err := other.Receive(ctx, req)
	if err != nil || !in.Replayed || len(in.Lines) != 3 || in.Lines[0].Received != 2 || in.Lines[1].Received != 1 || in.Lines[2].Received != 1 {
		t.Fatalf("retry = %+v, %v; want a replay with every line received as asked", in, err)
	}
}

// TestSpreadExpectCrashRecovery: an Expect of an order over several
// groups whose client dies after some groups expect it is finished by
// recovery, or by the order's next request, whichever comes first: every
// group expects the order, never some.
func TestSpreadExpectCrashRecovery(t *testing.T) {
	client := redistest.Client(t)
	ctx := context.Background()
	at := time.Now().Add(time.Hour).Truncate(time.Millisecond)
	po := PurchaseOrder{ID: "po", ExpectedAt: at, Lines: crashLines}
	crashed := func(t *testing.T) string {
		prefix, s, b := stockedCrashStore(t, client)
		crashAt(b, "expect:some")
		if _, err := s.Expect(ctx, po); !errors.Is(err, errCrashed) {
			t.Fatalf("err = %v, want the crash", err)
		}
		return prefix
	}
	checkIncoming := func(t *testing.T, s *Store) {
		t.Helper()
		levels, err := s.Levels(ctx, crashItems...)
		if err != nil {
			t.Fatal(err)
		}
		want := map[string]int64{"w": 2, "x": 3, "y": 0, "z": 1}
		for _, lv := range levels {
			if lv.Incoming != want[lv.SKU] {
				t.Fatalf("%s: incoming %d, want %d", lv.SKU, lv.Incoming, want[lv.SKU])
			}
		}
	}
	t.Run("recovery", func(t *testing.T) {
		prefix := crashed(t)
		other, _ := recoverFromAnother(t, client, prefix)
		checkIncoming(t, other)
		in, err := other.Expect(ctx, po)
		if err != nil || !in.Replayed {
			t.Fatalf("retry = %+v, %v; want a replay", in, err)
		}
	})
	t.Run("next request", func(t *testing.T) {
		prefix := crashed(t)
		other, ob := newCrashStore(t, client, prefix)
		ob.spread.RecoverAfter = time.Hour // only the request can finish it
		req := ArrivalRequest{ID: "truck", PurchaseOrder: "po", Lines: []Line{{SKU: "z", Location: "wh1", Quantity: 1}}}
		if _, err := other.Receive(ctx, req); err != nil {
			t.Fatalf("Receive: %v", err)
		}
		po, err := other.PurchaseOrder(ctx, "po")
		if err != nil || len(po.Lines) != 3 || po.Complete {
			t.Fatalf("PurchaseOrder = %+v, %v; want three lines, open", po, err)
		}
		checkOnHandIncoming(t, other, map[string][2]int64{"w": {10, 2}, "x": {10, 3}, "y": {10, 0}, "z": {11, 0}})
	})
}

// TestSpreadCompletedAfterCrashIsRetired: a Ship of a spread
// reservation's last units, and a Receive of a spread order's last units,
// whose client dies after every group applied it, are retired by the
// recovery that finishes them: the reservation's home record is scheduled
// to be forgotten and the order's claim gets the retention, as when no
// client dies.
func TestSpreadCompletedAfterCrashIsRetired(t *testing.T) {
	client := redistest.Client(t)
	ctx := context.Background()
	t.Run("ship", func(t *testing.T) {
		prefix, s, b := stockedCrashStore(t, client)
		commitCrashReservation(t, s)
		crashAt(b, "intent:applied")
		if _, err := s.Ship(ctx, FulfilRequest{ID: "all", Reservation: "r", Lines: crashLines}); !errors.Is(err, errCrashed) {
			t.Fatalf("err = %v, want the crash", err)
		}
		_, ob := recoverFromAnother(t, client, prefix)
		if _, err := client.ZScore(ctx, ob.groups[ob.home("r")].tag+":homef", "r").Result(); err != nil {
			t.Fatalf("home record of the shipped reservation not retired: %v", err)
		}
	})
	t.Run("receive", func(t *testing.T) {
		prefix := redistest.Prefix(t, client)
		s, b := newCrashStore(t, client, prefix)
		if _, err := s.Expect(ctx, PurchaseOrder{ID: "po", ExpectedAt: time.Now().Add(time.Hour), Lines: crashLines}); err != nil {
			t.Fatal(err)
		}
		crashAt(b, "intent:applied")
		if _, err := s.Receive(ctx, ArrivalRequest{ID: "truck", PurchaseOrder: "po", Lines: crashLines}); !errors.Is(err, errCrashed) {
			t.Fatalf("err = %v, want the crash", err)
		}
		_, ob := recoverFromAnother(t, client, prefix)
		if ttl, err := client.PTTL(ctx, ob.poHomeKey("po")).Result(); err != nil || ttl <= 0 {
			t.Fatalf("claim of the received order: TTL %v, %v; want the retention", ttl, err)
		}
	})
}

// TestSpreadHomeKeepsFastPath: with Spread.Home placing an ID in the group
// of its lines, a one-group reservation is an ordinary one there (no home
// record, no hold), and reusing its ID for lines elsewhere is a conflict.
func TestSpreadHomeKeepsFastPath(t *testing.T) {
	client := redistest.Client(t)
	ctx := context.Background()
	spread := crashSpread()
	spread.Home = func(id string) int { return spread.Group(Item{SKU: id[strings.LastIndexByte(id, '.')+1:]}) }
	s, err := NewRedis(client, Options{Prefix: redistest.Prefix(t, client), Spread: spread})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Close() })
	b := s.b.(*spreadBackend)
	stockCrashItems(t, s)
	if _, err := s.Reserve(ctx, Request{ID: "order.x", TTL: time.Minute, Lines: []Line{{SKU: "x", Location: "wh1", Quantity: 1}}}); err != nil {
		t.Fatal(err)
	}
	gx := b.groups[1]
	if ok, err := client.HExists(ctx, gx.resKey, "order.x").Result(); err != nil || !ok {
		t.Fatalf("order.x is not an ordinary reservation in x's group (%v)", err)
	}
	if n, err := client.HLen(ctx, gx.homeKey).Result(); err != nil || n != 0 {
		t.Fatalf("x's group keeps %d home records (%v), want none", n, err)
	}
	_, err = s.Reserve(ctx, Request{ID: "order.x", TTL: time.Minute, Lines: []Line{{SKU: "w", Location: "wh1", Quantity: 1}}})
	if !errors.Is(err, ErrIDConflict) {
		t.Fatalf("reusing the ID for w: err = %v, want ErrIDConflict", err)
	}
}

// TestSpreadInput: a Spread NewRedis cannot use is an *InputError naming
// its field, and makes no store.
func TestSpreadInput(t *testing.T) {
	client := redistest.Client(t)
	for _, tc := range []struct {
		spread Spread
		field  string
	}{
		{Spread{Groups: 1}, "Spread.Groups"},
		{Spread{Groups: maxSpreadGroups + 1}, "Spread.Groups"},
		{Spread{Groups: -2}, "Spread.Groups"},
		{Spread{Groups: 2, RecoverAfter: -time.Second}, "Spread.RecoverAfter"},
	} {
		s, err := NewRedis(client, Options{Prefix: "spread-input", Spread: tc.spread})
		var ie *InputError
		if s != nil || !errors.As(err, &ie) || ie.Field != tc.field {
			t.Errorf("%+v: %v, %v; want an *InputError naming %s", tc.spread, s, err, tc.field)
		}
	}
}
