// Package routingtest is the conformance suite for routing.Log.
//
//	func TestMemoryLog(t *testing.T) {
//		routingtest.Run(t, func(t *testing.T) *routing.Log { return routing.NewMemoryLog(routing.LogOptions{}) })
//	}
package routingtest

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/shopkit/shopkit/routing"
)

// NewLog returns an empty log for one test; it should register Close.
type NewLog func(t *testing.T) *routing.Log

var ctx = context.Background()

// Run runs the suite against logs made by newLog.
func Run(t *testing.T, newLog NewLog) {
	tests := []struct {
		name string
		fn   func(*testing.T, *routing.Log)
	}{
		{"AppendAndSince", testAppendSince},
		{"IdempotentAppend", testIdempotent},
		{"ConcurrentAppends", testConcurrent},
		{"NetworksConverge", testConverge},
		{"InvalidInput", testInvalid},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) { tt.fn(t, newLog(t)) })
	}
}

func closeAB() routing.Change   { return routing.LaneClosed("A", "B") }
func trafficBD() routing.Change { return routing.LaneFactor("B", "D", 3) }

func testAppendSince(t *testing.T, l *routing.Log) {
	if ch, v, err := l.Since(ctx, 0); err != nil || len(ch) != 0 || v != 0 {
		t.Fatalf("empty log: %v, %d, %v", ch, v, err)
	}
	v1, err := l.Append(ctx, "b1", []routing.Change{closeAB()})
	if err != nil || v1 != 1 {
		t.Fatalf("Append = %d, %v", v1, err)
	}
	v2, err := l.Append(ctx, "b2", []routing.Change{trafficBD(), routing.LocationOffline("C")})
	if err != nil || v2 != 2 {
		t.Fatalf("Append = %d, %v", v2, err)
	}
	all, v, err := l.Since(ctx, 0)
	if err != nil || v != 2 || len(all) != 3 || all[0] != closeAB() || all[1] != trafficBD() || all[2].Location != "C" {
		t.Fatalf("Since(0) = %+v, %d, %v", all, v, err)
	}
	tail, v, err := l.Since(ctx, 1)
	if err != nil || v != 2 || len(tail) != 2 {
		t.Fatalf("Since(1) = %+v, %d, %v", tail, v, err)
	}
	if none, v, _ := l.Since(ctx, 2); len(none) != 0 || v != 2 {
		t.Fatalf("Since(2) = %+v, %d", none, v)
	}
}

func testIdempotent(t *testing.T, l *routing.Log) {
	for i := 0; i < 3; i++ {
		if v, err := l.Append(ctx, "same", []routing.Change{closeAB()}); err != nil || v != 1 {
			t.Fatalf("Append #%d = %d, %v; want version 1", i, v, err)
		}
	}
	// The same ID with other changes is a conflict, not a replay (it was
	// once answered with the first version, the new changes dropped).
	if _, err := l.Append(ctx, "same", []routing.Change{trafficBD()}); !errors.Is(err, routing.ErrIDConflict) {
		t.Fatalf("same ID, other changes: %v, want ErrIDConflict", err)
	}
	if ch, v, _ := l.Since(ctx, 0); len(ch) != 1 || v != 1 {
		t.Fatalf("replays were recorded: %+v, %d", ch, v)
	}
}

func testConcurrent(t *testing.T, l *routing.Log) {
	var wg sync.WaitGroup
	versions := make([]int64, 20)
	for i := range versions {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			v, err := l.Append(ctx, fmt.Sprintf("c%d", i), []routing.Change{routing.LaneFactor("A", "B", float64(i+1))})
			if err != nil {
				t.Error(err)
			}
			versions[i] = v
		}(i)
	}
	wg.Wait()
	slices.Sort(versions)
	for i, v := range versions {
		if v != int64(i+1) {
			t.Fatalf("versions %v: want 1..20 once each", versions)
		}
	}
}

// testConverge: two instances following one log reach the same snapshot
// after changes appended through either.
func testConverge(t *testing.T, l *routing.Log) {
	build := func() *routing.Network {
		g, err := routing.Build([]routing.Location{{ID: "A"}, {ID: "B"}, {ID: "C"}, {ID: "D"}}, []routing.Lane{
			{From: "A", To: "B", Cost: 1}, {From: "B", To: "D", Cost: 1}, {From: "A", To: "C", Cost: 2}, {From: "C", To: "D", Cost: 2},
		}, nil)
		if err != nil {
			t.Fatal(err)
		}
		return routing.NewNetwork(g)
	}
	n1, n2 := build(), build()
	fctx, cancel := context.WithCancel(ctx)
	var followers sync.WaitGroup
	for _, n := range []*routing.Network{n1, n2} {
		followers.Go(func() {
			// Follow blocks until its context ends, then returns nil.
			if err := n.Follow(fctx, l, routing.FollowOptions{Poll: 20 * time.Millisecond, OnError: func(err error) { t.Error(err) }}); err != nil {
				t.Errorf("Follow = %v, want nil after its context ended", err)
			}
		})
	}
	defer followers.Wait()
	defer cancel()
	if _, err := l.Append(ctx, "close-ab", []routing.Change{closeAB()}); err != nil {
		t.Fatal(err)
	}
	route := func(n *routing.Network) string {
		p, err := n.Load().Route("A", "D")
		if err != nil {
			return err.Error()
		}
		return fmt.Sprint(p.Locations, p.Cost)
	}
	deadline := time.Now().Add(5 * time.Second)
	for route(n1) != "[A C D] 4" || route(n2) != "[A C D] 4" {
		if time.Now().After(deadline) {
			t.Fatalf("instances did not converge: %s / %s", route(n1), route(n2))
		}
		time.Sleep(5 * time.Millisecond)
	}
	// A network not made by NewNetwork reports the log as unappliable.
	if err := (&routing.Network{}).Sync(ctx, l); !errors.Is(err, routing.ErrInvalidInput) {
		t.Fatalf("Sync on a zero Network: err = %v", err)
	}
}

func testInvalid(t *testing.T, l *routing.Log) {
	for _, c := range []struct {
		id      string
		changes []routing.Change
		field   string
	}{
		{"", []routing.Change{closeAB()}, "ID"},
		{"a:b", []routing.Change{closeAB()}, "ID"},
		{"ok", nil, "Changes"},
		{"ok", []routing.Change{{From: "A", To: "B"}}, "Changes[0].Kind"},
		{"ok", []routing.Change{{Kind: routing.SetFactor, From: "A", To: "B"}}, "Changes[0].Factor"},
		{"ok", []routing.Change{{Kind: routing.CloseLane, From: "A", To: "B", Factor: 2}}, "Changes[0].Factor"},
		{"ok", []routing.Change{{Kind: routing.CloseLane, From: "A"}}, "Changes[0]"},
		{"ok", []routing.Change{{Kind: routing.TakeOffline, From: "A", To: "B", Location: "C"}}, "Changes[0]"},
		{"ok", []routing.Change{closeAB(), {Kind: routing.BringOnline}}, "Changes[1].Location"},
	} {
		var ie *routing.InputError
		if _, err := l.Append(ctx, c.id, c.changes); !errors.As(err, &ie) || ie.Field != c.field {
			t.Errorf("Append(%q, %v): err = %v, want InputError on %s", c.id, c.changes, err, c.field)
		}
	}
	if ch, v, _ := l.Since(ctx, 0); len(ch) != 0 || v != 0 {
		t.Fatalf("refused appends were recorded: %+v, %d", ch, v)
	}
}
