// Package routingtest is the conformance suite for routing.ChangeLog.
//
//	func TestMemoryLog(t *testing.T) {
//		routingtest.Run(t, func(t *testing.T) routing.ChangeLog { return routing.NewMemoryLog(routing.LogOptions{}) })
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
type NewLog func(t *testing.T) routing.ChangeLog

var ctx = context.Background()

// Run runs the suite against logs made by newLog.
func Run(t *testing.T, newLog NewLog) {
	tests := []struct {
		name string
		fn   func(*testing.T, routing.ChangeLog)
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

func closeAB() routing.Change   { return routing.Change{From: "A", To: "B", Close: true} }
func trafficBD() routing.Change { return routing.Change{From: "B", To: "D", Factor: 3} }

func testAppendSince(t *testing.T, l routing.ChangeLog) {
	if ch, v, err := l.Since(ctx, 0); err != nil || len(ch) != 0 || v != 0 {
		t.Fatalf("empty log: %v, %d, %v", ch, v, err)
	}
	v1, err := l.Append(ctx, "b1", []routing.Change{closeAB()})
	if err != nil || v1 != 1 {
		t.Fatalf("Append = %d, %v", v1, err)
	}
	v2, err := l.Append(ctx, "b2", []routing.Change{trafficBD(), {Location: "C", Offline: true}})
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

func testIdempotent(t *testing.T, l routing.ChangeLog) {
	for i := 0; i < 3; i++ {
		if v, err := l.Append(ctx, "same", []routing.Change{closeAB()}); err != nil || v != 1 {
			t.Fatalf("Append #%d = %d, %v; want version 1", i, v, err)
		}
	}
	if ch, v, _ := l.Since(ctx, 0); len(ch) != 1 || v != 1 {
		t.Fatalf("replays were recorded: %+v, %d", ch, v)
	}
}

func testConcurrent(t *testing.T, l routing.ChangeLog) {
	var wg sync.WaitGroup
	versions := make([]uint64, 20)
	for i := range versions {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			v, err := l.Append(ctx, fmt.Sprintf("c%d", i), []routing.Change{{From: "A", To: "B", Factor: float64(i + 1)}})
			if err != nil {
				t.Error(err)
			}
			versions[i] = v
		}(i)
	}
	wg.Wait()
	slices.Sort(versions)
	for i, v := range versions {
		if v != uint64(i+1) {
			t.Fatalf("versions %v: want 1..20 once each", versions)
		}
	}
}

// testConverge: two instances following one log reach the same snapshot
// after changes appended through either.
func testConverge(t *testing.T, l routing.ChangeLog) {
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
	stop1 := n1.Follow(l, 20*time.Millisecond, func(err error) { t.Error(err) })
	defer stop1()
	stop2 := n2.Follow(l, 20*time.Millisecond, func(err error) { t.Error(err) })
	defer stop2()
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

func testInvalid(t *testing.T, l routing.ChangeLog) {
	for _, c := range []struct {
		id      string
		changes []routing.Change
		field   string
	}{{"", []routing.Change{closeAB()}, "ID"}, {"a:b", []routing.Change{closeAB()}, "ID"}, {"ok", nil, "Changes"}} {
		var ie *routing.InputError
		if _, err := l.Append(ctx, c.id, c.changes); !errors.As(err, &ie) || ie.Field != c.field {
			t.Errorf("Append(%q, %v): err = %v, want InputError on %s", c.id, c.changes, err, c.field)
		}
	}
	if ch, v, _ := l.Since(ctx, 0); len(ch) != 0 || v != 0 {
		t.Fatalf("refused appends were recorded: %+v, %d", ch, v)
	}
}
