package seckill_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/shopkit/shopkit/seckill"
)

type clock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *clock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.now }
func (c *clock) Add(d time.Duration) {
	c.mu.Lock()
	c.now = c.now.Add(d)
	c.mu.Unlock()
}

// TestGCRAExact works GCRA by hand with a frozen clock. Limit 10/s, burst
// 5: emission interval T = 100ms, tolerance 5T = 500ms. At t = 0 the
// theoretical arrival time (TAT) starts at 0; each event adds T, and an
// event is admitted while TAT + T − 5T ≤ now.
func TestGCRAExact(t *testing.T) {
	c := &clock{now: time.Unix(1_800_000_000, 0)}
	r := seckill.NewMemoryLimiter(seckill.LimiterOptions{Now: c.Now})
	l := seckill.PerSecond(10, 5)
	ctx := context.Background()
	steps := []struct {
		advance    time.Duration
		n          int
		allowed    int
		remaining  int
		retryAfter time.Duration
		resetAfter time.Duration
	}{
		{0, 1, 1, 4, 0, 100 * time.Millisecond},                      // TAT 100ms
		{0, 4, 4, 0, 0, 500 * time.Millisecond},                      // TAT 500ms: burst used
		{0, 1, 0, 0, 100 * time.Millisecond, 500 * time.Millisecond}, // needs TAT+T−5T = 100ms ≤ now
		{40 * time.Millisecond, 1, 0, 0, 60 * time.Millisecond, 460 * time.Millisecond},
		{60 * time.Millisecond, 1, 1, 0, 0, 500 * time.Millisecond}, // t = 100ms: TAT 600ms
		{time.Second, 0, 0, 5, 0, 0},                                // peek after idle: full burst
	}
	for i, s := range steps {
		c.Add(s.advance)
		res, err := r.AllowN(ctx, "k", l, s.n)
		if err != nil {
			t.Fatal(err)
		}
		want := seckill.RateResult{Allowed: s.allowed, Remaining: s.remaining, RetryAfter: s.retryAfter, ResetAfter: s.resetAfter}
		if res != want {
			t.Fatalf("step %d: %+v, want %+v", i, res, want)
		}
	}
}
