package inventory

import (
	"context"
	"testing"
	"time"

	"github.com/shopkit/shopkit/internal/redistest"
)

// TestCommitOfOwnReservationBuildsNoKeys: a commit of a reservation this
// process made takes the stock keys the reservation built from the line
// cache and builds none of its own: the call and its channel are all it
// allocates.
//
// Regression: each commit built a key per line, and two slices (35
// allocations a lone Commit on Redis before, 32 after).
func TestCommitOfOwnReservationBuildsNoKeys(t *testing.T) {
	client := redistest.Client(t)
	ctx := context.Background()
	s, err := NewRedis(client, Options{Prefix: redistest.Prefix(t, client)})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	lines := []Line{{SKU: "a", Location: "wh", Quantity: 1}, {SKU: "b", Location: "wh", Quantity: 2}}
	for _, l := range lines {
		if _, err := s.Adjust(ctx, Adjustment{ID: "in-" + l.SKU, SKU: l.SKU, Location: l.Location, Delta: 10, Reason: ReasonReceipt}); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := s.Reserve(ctx, Request{ID: "mine", Lines: lines, TTL: time.Hour}); err != nil {
		t.Fatal(err)
	}
	be := s.b.(*redisBackend)
	enc, cached, keys, ok := be.held.get("mine")
	if !ok || len(keys) != len(lines) {
		t.Fatalf("line cache holds %v, %v, %v for the reservation; want its lines and keys", cached, keys, ok)
	}
	for i, l := range lines {
		if want := be.stockKey(l.SKU, l.Location); keys[i] != want {
			t.Fatalf("cached key %d = %q, want %q", i, keys[i], want)
		}
	}
	var call *transitionCall
	allocs := testing.AllocsPerRun(100, func() {
		call = be.newTransitionCall("commit", "mine", enc, cached, keys, 0)
	})
	if &call.stockKey[0] != &keys[0] {
		t.Fatal("the call does not use the cached keys")
	}
	if allocs > 2 {
		t.Fatalf("a commit's call allocates %v times, want 2", allocs)
	}
	if _, err := s.Commit(ctx, "mine"); err != nil {
		t.Fatal(err)
	}
	if lv, err := s.Levels(ctx, Item{SKU: "b", Location: "wh"}); err != nil || lv[0].OnHand != 8 || lv[0].Reserved != 0 {
		t.Fatalf("b after the commit: %+v, %v; want 8 on hand, none reserved", lv, err)
	}
}
