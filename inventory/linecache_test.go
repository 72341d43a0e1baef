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
