package inventory_test

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/shopkit/shopkit/inventory"
)

// fakeClock is a clock tests move by hand.
type fakeClock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *fakeClock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.now }
func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	c.now = c.now.Add(d)
	c.mu.Unlock()
}

// TestMemoryClock pins the exact time semantics with an injected clock: a
// hold expires at its deadline (not a nanosecond later), Extend counts from
// now, and records are forgotten exactly Retention after they finish.
func TestMemoryClock(t *testing.T) {
	ctx := context.Background()
	clock := &fakeClock{now: time.Date(2026, 1, 1, 12, 0, 0, 0, time.UTC)}
	s := inventory.NewMemory(inventory.Options{Now: clock.Now, Retention: time.Hour})
	defer s.Close()
	if _, err := s.SetOnHand(ctx, inventory.Count{ID: "c", SKU: "mug", Location: "main", OnHand: 5, Reason: inventory.ReasonCount}); err != nil {
		t.Fatal(err)
	}
	line := []inventory.Line{{SKU: "mug", Location: "main", Quantity: 2}}
	r, err := s.Reserve(ctx, inventory.Request{ID: "r1", Lines: line, TTL: 10 * time.Minute})
	if err != nil {
		t.Fatal(err)
	}
	if want := clock.Now().Add(10 * time.Minute); !r.Deadline.Equal(want) {
		t.Fatalf("deadline %v, want %v", r.Deadline, want)
	}

	clock.Advance(5 * time.Minute)
	r, err = s.Extend(ctx, "r1", 10*time.Minute) // now 12:05, deadline 12:15
	if err != nil || !r.Deadline.Equal(clock.Now().Add(10*time.Minute)) {
		t.Fatalf("Extend = %+v, %v", r, err)
	}
	clock.Advance(10*time.Minute - time.Nanosecond)
	if n, _ := s.Sweep(ctx); n != 0 {
		t.Fatalf("swept %d a nanosecond before the deadline", n)
	}
	clock.Advance(time.Nanosecond) // exactly the deadline
	if n, _ := s.Sweep(ctx); n != 1 {
		t.Fatalf("swept %d at the deadline, want 1", n)
	}
	if r, err := s.Reservation(ctx, "r1"); err != nil || r.State != inventory.Expired {
		t.Fatalf("Reservation = %+v, %v", r, err)
	}

	clock.Advance(time.Hour - time.Nanosecond)
	if _, err := s.Reservation(ctx, "r1"); err != nil {
		t.Fatalf("record forgotten before Retention: %v", err)
	}
	clock.Advance(time.Nanosecond)
	if _, err := s.Reservation(ctx, "r1"); !errors.Is(err, inventory.ErrNotFound) {
		t.Fatalf("record kept past Retention: %v", err)
	}
}
