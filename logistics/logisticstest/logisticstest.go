// Package logisticstest is the conformance suite for *logistics.Merge.
package logisticstest

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"sync"
	"testing"
	"time"

	"github.com/shopkit/shopkit/logistics"
)

// NewStore returns an empty store with the given merge window.
type NewStore func(t *testing.T, window time.Duration) *logistics.Merge

var ctx = context.Background()

// Run runs the suite.
func Run(t *testing.T, newStore NewStore) {
	tests := []struct {
		name string
		fn   func(*testing.T, NewStore)
	}{
		{"SameRecipientMerges", testMerge},
		{"WindowCloses", testWindow},
		{"ConcurrentArrivalsMergeOnce", testConcurrent},
		{"RemoveSplitsOut", testRemove},
		{"InvalidInput", testInvalid},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) { tt.fn(t, newStore) })
	}
}

func ids(g logistics.Group) []string {
	var out []string
	for _, o := range g.Orders {
		out = append(out, o.ID)
	}
	return out
}

func testMerge(t *testing.T, newStore NewStore) {
	s := newStore(t, time.Minute)
	key := logistics.MergeKey("shop1", "wh1", logistics.Recipient{Name: "Li Lei", Phone: "138 0000 1111", Address: "12 Main Street"})
	same := logistics.MergeKey("shop1", "wh1", logistics.Recipient{Name: "LI  LEI", Phone: "+86 13800001111", Address: "１２ main st."})
	if key != same {
		t.Fatal("the same recipient written differently got different merge keys")
	}
	g1, err := s.Add(ctx, logistics.MergeOrder{Key: key, OrderID: "o1", Grams: 400})
	if err != nil {
		t.Fatal(err)
	}
	g2, _ := s.Add(ctx, logistics.MergeOrder{Key: same, OrderID: "o2", Grams: 800})
	g3, _ := s.Add(ctx, logistics.MergeOrder{Key: key, OrderID: "o3", Grams: 300})
	if g1.ID != g2.ID || g2.ID != g3.ID || g3.Grams != 1500 || fmt.Sprint(ids(g3)) != "[o1 o2 o3]" {
		t.Fatalf("groups %+v %+v %+v; want one group of 1,500 g", g1, g2, g3)
	}
	// Replaying an order changes nothing.
	if again, _ := s.Add(ctx, logistics.MergeOrder{Key: key, OrderID: "o2", Grams: 800}); again.Grams != 1500 || len(again.Orders) != 3 || !again.Replayed || g3.Replayed {
		t.Fatalf("replay: %+v", again)
	}
	// The same order with another weight is a conflict, not a replay (it
	// was once answered with the group, the new weight dropped).
	if _, err := s.Add(ctx, logistics.MergeOrder{Key: key, OrderID: "o2", Grams: 900}); !errors.Is(err, logistics.ErrIDConflict) {
		t.Fatalf("same order, other grams: %v, want ErrIDConflict", err)
	}
	if g, _ := s.Group(ctx, logistics.MergeRef{Key: key, OrderID: "o2"}); g.Grams != 1500 {
		t.Fatalf("a conflicting add wrote: %+v", g)
	}
	// Another recipient, another group.
	other := logistics.MergeKey("shop1", "wh1", logistics.Recipient{Name: "Han Meimei", Phone: "139", Address: "1 Road"})
	if g, _ := s.Add(ctx, logistics.MergeOrder{Key: other, OrderID: "o4", Grams: 100}); g.ID == g1.ID && g.Key == g1.Key {
		t.Fatalf("different recipients merged: %+v", g)
	}
	if g, err := s.Group(ctx, logistics.MergeRef{Key: key, OrderID: "o3"}); err != nil || g.ID != g1.ID {
		t.Fatalf("Group(o3) = %+v, %v", g, err)
	}
}

func testWindow(t *testing.T, newStore NewStore) {
	s := newStore(t, 50*time.Millisecond)
	g1, _ := s.Add(ctx, logistics.MergeOrder{Key: "k", OrderID: "a", Grams: 100})
	time.Sleep(100 * time.Millisecond)
	g2, _ := s.Add(ctx, logistics.MergeOrder{Key: "k", OrderID: "b", Grams: 100})
	if g1.ID == g2.ID || len(g2.Orders) != 1 {
		t.Fatalf("an order after the window joined the old group: %+v, %+v", g1, g2)
	}
}

func testConcurrent(t *testing.T, newStore NewStore) {
	s := newStore(t, time.Minute)
	var wg sync.WaitGroup
	groups := make([]string, 20)
	for i := range groups {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			g, err := s.Add(ctx, logistics.MergeOrder{Key: "busy", OrderID: fmt.Sprintf("o%02d", i), Grams: 100})
			if err != nil {
				t.Error(err)
				return
			}
			groups[i] = g.ID
		}(i)
	}
	wg.Wait()
	sort.Strings(groups)
	if groups[0] != groups[len(groups)-1] {
		t.Fatalf("concurrent arrivals opened several groups: %v", groups)
	}
	g, _ := s.Group(ctx, logistics.MergeRef{Key: "busy", OrderID: "o00"})
	if len(g.Orders) != 20 || g.Grams != 2000 {
		t.Fatalf("group %+v, want 20 orders of 2,000 g", g)
	}
}

func testRemove(t *testing.T, newStore NewStore) {
	s := newStore(t, time.Minute)
	s.Add(ctx, logistics.MergeOrder{Key: "k", OrderID: "a", Grams: 400})
	s.Add(ctx, logistics.MergeOrder{Key: "k", OrderID: "b", Grams: 800})
	g, err := s.Remove(ctx, logistics.MergeRef{Key: "k", OrderID: "a"})
	if err != nil || g.Grams != 800 || fmt.Sprint(ids(g)) != "[b]" {
		t.Fatalf("after removing a: %+v, %v", g, err)
	}
	if _, err := s.Group(ctx, logistics.MergeRef{Key: "k", OrderID: "a"}); !errors.Is(err, logistics.ErrNotFound) {
		t.Fatalf("removed order still grouped: %v", err)
	}
	if _, err := s.Remove(ctx, logistics.MergeRef{Key: "k", OrderID: "a"}); !errors.Is(err, logistics.ErrNotFound) {
		t.Fatalf("second remove: %v", err)
	}
	// A removed order that comes back (edited) joins the open group again.
	if g, _ := s.Add(ctx, logistics.MergeOrder{Key: "k", OrderID: "a", Grams: 500}); g.Grams != 1300 {
		t.Fatalf("re-added: %+v", g)
	}
}

func testInvalid(t *testing.T, newStore NewStore) {
	s := newStore(t, time.Minute)
	for _, c := range []struct {
		key, order string
		grams      int64
		field      string
	}{{"", "o", 1, "Key"}, {"k", "", 1, "OrderID"}, {"k", "a,b", 1, "OrderID"}, {"k", "o", -1, "Grams"}} {
		var ie *logistics.InputError
		if _, err := s.Add(ctx, logistics.MergeOrder{Key: c.key, OrderID: c.order, Grams: c.grams}); !errors.As(err, &ie) || ie.Field != c.field {
			t.Errorf("Add(%q, %q, %d): err = %v, want InputError on %s", c.key, c.order, c.grams, err, c.field)
		}
	}
}
