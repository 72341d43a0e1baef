package routing

import (
	"context"
	"fmt"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/shopkit/shopkit/internal/redistest"
)

// testLogFolds appends 40 batches to a log keeping 6 whole, and checks
// that followers from version 0, from a version inside the folded part and
// from a recent one all end with the network that applied every change,
// and that the log keeps no more than its bound.
//
// Regression: the log kept every batch forever.
func testLogFolds(t *testing.T, log *Log) {
	ctx := context.Background()
	locs := []string{"A", "B", "C"}
	g, lanes := completeGraph(t, locs)
	all := NewNetwork(g)
	early, late := NewNetwork(g), NewNetwork(g)
	rng := rand.New(rand.NewPCG(3, 4))
	for i := range 40 {
		var batch []Change
		for range 1 + rng.IntN(3) {
			l := lanes[rng.IntN(len(lanes))]
			switch rng.IntN(4) {
			case 0:
				c := LocationOffline(locs[rng.IntN(3)])
				if rng.IntN(2) == 0 {
					c.Kind = BringOnline
				}
				batch = append(batch, c)
			case 1:
				batch = append(batch, LaneClosed(l.From, l.To))
			case 2:
				batch = append(batch, LaneOpened(l.From, l.To))
			default:
				batch = append(batch, LaneFactor(l.From, l.To, float64(1+rng.IntN(3))))
			}
		}
		if _, err := log.Append(ctx, fmt.Sprintf("b%d", i), batch); err != nil {
			t.Fatal(err)
		}
		if _, err := all.Apply(batch...); err != nil {
			t.Fatal(err)
		}
		switch i {
		case 3:
			if err := early.Sync(ctx, log); err != nil {
				t.Fatal(err)
			}
		case 35:
			if err := late.Sync(ctx, log); err != nil {
				t.Fatal(err)
			}
		}
	}
	fresh := NewNetwork(g)
	for name, n := range map[string]*Network{"fresh": fresh, "early": early, "late": late} {
		if err := n.Sync(ctx, log); err != nil {
			t.Fatal(err)
		}
		for e, want := range all.Load().weights {
			if got := n.Load().weights[e]; got != want {
				t.Fatalf("%s follower: lane %d weighs %v, want %v", name, e, got, want)
			}
		}
	}
	if _, v, err := log.Since(ctx, 0); err != nil || v != 40 {
		t.Fatalf("Since(0) version %d, %v; want 40", v, err)
	}
}

func TestMemoryLogFolds(t *testing.T) {
	testLogFolds(t, NewMemoryLog(LogOptions{MaxBatches: 6}))
}

func TestRedisLogFolds(t *testing.T) {
	c := redistest.Client(t)
	prefix := redistest.Prefix(t, c)
	l, err := NewRedisLog(c, LogOptions{Prefix: prefix, MaxBatches: 6})
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	testLogFolds(t, l)
	if n, err := c.LLen(context.Background(), "{"+prefix+"}:log").Result(); err != nil || n > 6 {
		t.Fatalf("the log list keeps %d batches, %v; want at most 6", n, err)
	}
	if n, err := c.HLen(context.Background(), "{"+prefix+"}:ids").Result(); err != nil || n > 6 {
		t.Fatalf("the ID hash keeps %d IDs, %v; want at most 6", n, err)
	}
}

// TestFollowWithoutPoll: Follow with no poll interval falls back to the
// default instead of panicking, follows the log's signals, and returns nil
// once its context ends.
//
// Regression: time.NewTicker(0) panicked in Follow's goroutine and took
// the process down.
func TestFollowWithoutPoll(t *testing.T) {
	g, _ := completeGraph(t, []string{"A", "B"})
	n := NewNetwork(g)
	log := NewMemoryLog(LogOptions{})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- n.Follow(ctx, log, FollowOptions{}) }()
	if _, err := log.Append(context.Background(), "b1", []Change{LaneClosed("A", "B")}); err != nil {
		t.Fatal(err)
	}
	followed := false
	for range 200 {
		if followed = n.Load().Version() > g.Version(); followed {
			break
		}
		time.Sleep(5 * time.Millisecond)
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatalf("Follow = %v after its context ended, want nil", err)
	}
	if !followed {
		t.Fatal("the network never followed the log")
	}
}
