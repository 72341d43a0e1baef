package funnel

import (
	"context"
	"fmt"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/shopspring/decimal"
)

// TestCompactionKeepsEverything: scans before and after the Memory store
// lays its users' records out again agree, events stored afterwards land
// where they belong, and strings a scan handed out before stay intact.
func TestCompactionKeepsEverything(t *testing.T) {
	defer func(n int) { compactMoves = n }(compactMoves)
	compactMoves = 0
	ctx := context.Background()
	day := time.Now().UTC().Truncate(24 * time.Hour).Add(-2 * 24 * time.Hour)
	s := NewMemory(Options{})
	var events []Event
	for i := range 400 {
		events = append(events, Event{ID: fmt.Sprintf("e%d", i), UserID: fmt.Sprintf("u%d", i%37), Name: []string{"view", "cart", "pay"}[i%3],
			Time: day.Add(time.Duration(i) * time.Minute), Variant: []string{"A", "B"}[i%2], OrderID: fmt.Sprintf("o%d", i),
			Amount: decimal.New(int64(i), -2)})
	}
	// Out of order, in small batches: every user's records move often.
	for i := len(events); i > 0; i -= 7 {
		if _, err := s.Ingest(ctx, events[max(0, i-7):i]); err != nil {
			t.Fatal(err)
		}
	}
	// dump lists every event, one line each, sorted; held keeps the IDs
	// as handed out (they point into the store's arenas).
	var held, heldCopies []string
	dump := func() []string {
		var lines []string
		err := s.Scan(ctx, ScanRequest{From: day, To: day.Add(48 * time.Hour)}, func(user string, evs []Event) error {
			for _, e := range evs {
				lines = append(lines, fmt.Sprintf("%s %s %s %s %s %s %s", user, e.ID, e.Name, e.Time.Format(time.RFC3339), e.Variant, e.OrderID, e.Amount))
				held, heldCopies = append(held, e.ID), append(heldCopies, strings.Clone(e.ID))
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		sort.Strings(lines)
		return lines
	}
	mem := s.b.(*memory)
	mem.mu.Lock()
	mem.moved = 0 // the first scan must see the scattered layout
	mem.mu.Unlock()
	before := dump()
	mem.mu.Lock()
	mem.moved = len(mem.users) + 1
	mem.mu.Unlock()
	after := dump() // compacts first
	if mem.moved != 0 {
		t.Fatal("the scan did not compact")
	}
	if !slices.Equal(before, after) {
		t.Fatalf("events changed by compaction:\n%v\nvs\n%v", before, after)
	}
	// New events after compaction, including one earlier than a user's
	// latest, go where they belong.
	more := []Event{{ID: "late", UserID: "u1", Name: "view", Time: day.Add(time.Second)},
		{ID: "new", UserID: "u1", Name: "pay", Time: day.Add(30 * time.Hour), Variant: "B"}}
	if _, err := s.Ingest(ctx, more); err != nil {
		t.Fatal(err)
	}
	final := dump()
	for _, e := range more {
		want := fmt.Sprintf("u1 %s %s %s %s ", e.ID, e.Name, e.Time.Format(time.RFC3339), e.Variant)
		if !slices.ContainsFunc(final, func(l string) bool { return strings.HasPrefix(l, want) }) {
			t.Fatalf("%q missing after compaction:\n%v", want, final)
		}
	}
	for i := range held {
		if held[i] != heldCopies[i] {
			t.Fatalf("a string handed out earlier changed: %q, was %q", held[i], heldCopies[i])
		}
	}
}
