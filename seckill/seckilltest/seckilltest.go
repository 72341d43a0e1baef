// Package seckilltest is the conformance suite for seckill's locks and rate
// limiters. Every backend runs it from its own test file with a Harness.
// Time-dependent cases use real time with leases of tens of milliseconds,
// because the Redis backends decide by the server's clock.
package seckilltest

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/shopkit/shopkit/seckill"
)

// Harness makes fresh backends for one test each.
type Harness struct {
	NewLocker  func(t *testing.T) *seckill.Locker
	NewLimiter func(t *testing.T) *seckill.Limiter
	NewFenced  func(t *testing.T) *seckill.FencedStore
	// NewGate returns a gate with opts; it should register Close.
	NewGate func(t *testing.T, opts seckill.GateOptions) *seckill.Gate
}

var ctx = context.Background()

// Run runs the lock, limiter and gate suites.
func Run(t *testing.T, h Harness) {
	t.Run("Lock", func(t *testing.T) { runLock(t, h) })
	t.Run("Limiter", func(t *testing.T) { runLimiter(t, h) })
	t.Run("Gate", func(t *testing.T) { runGate(t, h) })
}

func runLock(t *testing.T, h Harness) {
	tests := []struct {
		name string
		fn   func(*testing.T, Harness)
	}{
		{"ObtainReleaseTokens", testObtain},
		{"RefreshAndTTL", testRefresh},
		{"Expiry", testExpiry},
		{"RetryStrategies", testRetry},
		{"ContextEnds", testContextEnds},
		{"StaleHolderRefusedByFence", testFencing},
		{"WatchdogKeepsAndLoses", testWatchdog},
		{"MutualExclusion", testMutualExclusion},
		{"InvalidInput", testLockInvalid},
		{"SharedReadersExcludeWriter", testShared},
		{"SharedLeaseExpires", testSharedExpiry},
		{"ReadersWritersUnderRace", testSharedRace},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) { tt.fn(t, h) })
	}
}

func obtain(t *testing.T, lk *seckill.Locker, name string, ttl time.Duration) *seckill.Lock {
	t.Helper()
	l, err := lk.Obtain(ctx, name, ttl, seckill.ObtainOptions{})
	if err != nil {
		t.Fatalf("Obtain(%s): %v", name, err)
	}
	return l
}

func testObtain(t *testing.T, h Harness) {
	lk := h.NewLocker(t)
	a := obtain(t, lk, "order-1", time.Minute)
	if a.Token() <= 0 || a.Name() != "order-1" {
		t.Fatalf("lock %s token %d", a.Name(), a.Token())
	}
	if _, err := lk.Obtain(ctx, "order-1", time.Minute, seckill.ObtainOptions{}); !errors.Is(err, seckill.ErrNotObtained) {
		t.Fatalf("second Obtain: err = %v, want ErrNotObtained", err)
	}
	other := obtain(t, lk, "order-2", time.Minute) // names are independent
	if err := a.Release(ctx); err != nil {
		t.Fatal(err)
	}
	if err := a.Release(ctx); !errors.Is(err, seckill.ErrNotHeld) {
		t.Fatalf("second Release: err = %v, want ErrNotHeld", err)
	}
	b := obtain(t, lk, "order-1", time.Minute)
	if b.Token() <= a.Token() {
		t.Fatalf("tokens %d then %d: want strictly increasing", a.Token(), b.Token())
	}
	_ = other.Release(ctx)
	_ = b.Release(ctx)
}

func testRefresh(t *testing.T, h Harness) {
	lk := h.NewLocker(t)
	l := obtain(t, lk, "r", 200*time.Millisecond)
	tok, err := l.Refresh(ctx, time.Minute)
	if err != nil || tok != l.Token() {
		t.Fatalf("Refresh = %d, %v; want the grant's token %d", tok, err, l.Token())
	}
	left, err := l.TTL(ctx)
	if err != nil || left < 50*time.Second || left > time.Minute {
		t.Fatalf("TTL = %v, %v; want about a minute", left, err)
	}
	_ = l.Release(ctx)
	if _, err := l.TTL(ctx); !errors.Is(err, seckill.ErrNotHeld) {
		t.Fatalf("TTL after release: err = %v", err)
	}
}

func testExpiry(t *testing.T, h Harness) {
	lk := h.NewLocker(t)
	a := obtain(t, lk, "e", 40*time.Millisecond)
	time.Sleep(120 * time.Millisecond)
	if _, err := a.Refresh(ctx, time.Minute); !errors.Is(err, seckill.ErrNotHeld) {
		t.Fatalf("Refresh after expiry: err = %v, want ErrNotHeld", err)
	}
	b := obtain(t, lk, "e", time.Minute)
	if err := a.Release(ctx); !errors.Is(err, seckill.ErrNotHeld) {
		t.Fatalf("expired holder released the new holder's lock: err = %v", err)
	}
	if _, err := b.TTL(ctx); err != nil {
		t.Fatalf("new holder lost its lock: %v", err)
	}
	if b.Token() <= a.Token() {
		t.Fatalf("token after expiry %d, before %d", b.Token(), a.Token())
	}
}

func testRetry(t *testing.T, h Harness) {
	lk := h.NewLocker(t)
	for _, strategy := range []seckill.RetryStrategy{
		seckill.LinearBackoff(10 * time.Millisecond),
		seckill.ExponentialBackoff(5*time.Millisecond, 40*time.Millisecond),
	} {
		obtain(t, lk, "busy", 60*time.Millisecond) // left to expire
		c, cancel := context.WithTimeout(ctx, 5*time.Second)
		start := time.Now()
		l, err := lk.Obtain(c, "busy", time.Minute, seckill.ObtainOptions{Retry: strategy})
		cancel()
		if err != nil {
			t.Fatalf("retrying Obtain: %v", err)
		}
		if time.Since(start) < 30*time.Millisecond {
			t.Fatalf("obtained after %v, before the holder's lease ran out", time.Since(start))
		}
		_ = l.Release(ctx)
	}
}

func testContextEnds(t *testing.T, h Harness) {
	lk := h.NewLocker(t)
	held := obtain(t, lk, "held", time.Minute)
	defer held.Release(ctx)
	c, cancel := context.WithTimeout(ctx, 50*time.Millisecond)
	defer cancel()
	_, err := lk.Obtain(c, "held", time.Minute, seckill.ObtainOptions{Retry: seckill.LinearBackoff(5 * time.Millisecond)})
	if !errors.Is(err, context.DeadlineExceeded) || errors.Is(err, seckill.ErrNotObtained) {
		t.Fatalf("err = %v, want the context's deadline", err)
	}
}

// testFencing is the classic failure: holder A stalls past its lease (a GC
// pause, say), B takes the lock and writes, then A wakes up and writes.
// A's token is older than B's, so the resource refuses A.
func testFencing(t *testing.T, h Harness) {
	lk := h.NewLocker(t)
	res := h.NewFenced(t)
	a := obtain(t, lk, "stock-sync", 40*time.Millisecond)
	time.Sleep(100 * time.Millisecond) // A pauses past its TTL
	b := obtain(t, lk, "stock-sync", time.Minute)
	if err := res.Write(ctx, seckill.FencedWrite{Resource: "sku-1", Token: b.Token(), Value: "from B"}); err != nil {
		t.Fatalf("B's write: %v", err)
	}
	if err := res.Write(ctx, seckill.FencedWrite{Resource: "sku-1", Token: a.Token(), Value: "from A, late"}); !errors.Is(err, seckill.ErrStaleToken) {
		t.Fatalf("A's late write: err = %v, want ErrStaleToken", err)
	}
	if v, err := res.Read(ctx, "sku-1"); err != nil || v != "from B" {
		t.Fatalf("after A's refused write: %q, %v; want B's value", v, err)
	}
	if err := res.Write(ctx, seckill.FencedWrite{Resource: "sku-1", Token: b.Token(), Value: "from B again"}); err != nil {
		t.Fatalf("B's second write: %v", err)
	}
	if v, err := res.Read(ctx, "sku-1"); err != nil || v != "from B again" {
		t.Fatalf("after B's second write: %q, %v", v, err)
	}
}

func testWatchdog(t *testing.T, h Harness) {
	lk := h.NewLocker(t)
	l := obtain(t, lk, "watched", 60*time.Millisecond)
	held, stop := l.KeepAlive(ctx, 60*time.Millisecond, 15*time.Millisecond)
	time.Sleep(200 * time.Millisecond) // three leases' worth
	if held.Err() != nil {
		t.Fatalf("watchdog lost the lock: %v", context.Cause(held))
	}
	if _, err := lk.Obtain(ctx, "watched", time.Minute, seckill.ObtainOptions{}); !errors.Is(err, seckill.ErrNotObtained) {
		t.Fatalf("the watched lock could be taken: %v", err)
	}
	stop()
	_ = l.Release(ctx)

	// A watchdog that refreshes too late loses the lock to a contender,
	// and says so through the context.
	l = obtain(t, lk, "late", 30*time.Millisecond)
	held, stop = l.KeepAlive(ctx, 30*time.Millisecond, 100*time.Millisecond)
	defer stop()
	time.Sleep(50 * time.Millisecond)
	thief := obtain(t, lk, "late", time.Minute)
	defer thief.Release(ctx)
	select {
	case <-held.Done():
		if !errors.Is(context.Cause(held), seckill.ErrNotHeld) {
			t.Fatalf("cause = %v, want ErrNotHeld", context.Cause(held))
		}
	case <-time.After(2 * time.Second):
		t.Fatal("the lost lock's context was not cancelled")
	}
}

// testMutualExclusion: goroutines contend for one lock; never two inside,
// and tokens rise in the order the lock is granted.
func testMutualExclusion(t *testing.T, h Harness) {
	lk := h.NewLocker(t)
	var inside atomic.Int32
	var mu sync.Mutex
	var tokens []int64
	var wg sync.WaitGroup
	for w := 0; w < 16; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < 5; i++ {
				c, cancel := context.WithTimeout(ctx, 10*time.Second)
				l, err := lk.Obtain(c, "mutex", 5*time.Second, seckill.ObtainOptions{Retry: seckill.ExponentialBackoff(time.Millisecond, 10*time.Millisecond)})
				cancel()
				if err != nil {
					t.Error(err)
					return
				}
				if inside.Add(1) != 1 {
					t.Error("two holders inside the critical section")
				}
				mu.Lock()
				tokens = append(tokens, l.Token())
				mu.Unlock()
				inside.Add(-1)
				if err := l.Release(ctx); err != nil {
					t.Error(err)
				}
			}
		}()
	}
	wg.Wait()
	for i := 1; i < len(tokens); i++ {
		if tokens[i] <= tokens[i-1] {
			t.Fatalf("tokens not increasing in grant order: %v", tokens)
		}
	}
	if len(tokens) != 80 {
		t.Fatalf("%d grants, want 80", len(tokens))
	}
}

func testLockInvalid(t *testing.T, h Harness) {
	lk := h.NewLocker(t)
	for _, tt := range []struct {
		name string
		ttl  time.Duration
		want string
	}{{"", time.Second, "Name"}, {"a}{b", time.Second, "Name"}, {"ok", 0, "TTL"}} {
		_, err := lk.Obtain(ctx, tt.name, tt.ttl, seckill.ObtainOptions{})
		var ie *seckill.InputError
		if !errors.As(err, &ie) || ie.Field != tt.want {
			t.Errorf("Obtain(%q, %v): err = %v, want InputError on %s", tt.name, tt.ttl, err, tt.want)
		}
	}
}

func runLimiter(t *testing.T, h Harness) {
	tests := []struct {
		name string
		fn   func(*testing.T, *seckill.Limiter)
	}{
		{"Burst", testBurst},
		{"SteadyRate", testSteady},
		{"PeekConsumesNothing", testPeek},
		{"AllOrNothing", testAllOrNothing},
		{"NAboveBurst", testAboveBurst},
		{"FractionalRate", testFractional},
		{"IdleKeysReset", testIdle},
		{"ConcurrencyNeverExceeds", testLimiterConcurrency},
		{"InvalidInput", testLimiterInvalid},
		{"AllowAtMostTakesWhatFits", testAllowAtMost},
		{"ResetRestoresTheBurst", testReset},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) { tt.fn(t, h.NewLimiter(t)) })
	}
}

// testAllowAtMost: asking for more than fits takes what fits; asking when
// nothing fits takes nothing and says when one would; asking for more than
// the burst is not refused outright, as AllowN refuses it.
func testAllowAtMost(t *testing.T, r *seckill.Limiter) {
	res, err := r.AllowAtMost(ctx, "m", tenPerSecond, 3)
	if err != nil || res.Allowed != 3 || res.Remaining != 2 {
		t.Fatalf("3 of a burst of 5: %+v, %v", res, err)
	}
	res, err = r.AllowAtMost(ctx, "m", tenPerSecond, 4)
	if err != nil || res.Allowed != 2 || res.Remaining != 0 {
		t.Fatalf("4 with 2 left: %+v, %v; want 2 allowed", res, err)
	}
	res, err = r.AllowAtMost(ctx, "m", tenPerSecond, 4)
	if err != nil || res.Allowed != 0 || res.RetryAfter <= 0 || res.RetryAfter > 100*time.Millisecond {
		t.Fatalf("4 with none left: %+v, %v; want none, retry within an interval", res, err)
	}
	res, err = r.AllowAtMost(ctx, "big", tenPerSecond, 50)
	if err != nil || res.Allowed != 5 {
		t.Fatalf("50 from a fresh burst of 5: %+v, %v; want 5", res, err)
	}
}

// testReset: a reset key has its full burst back; resetting a key with
// no state is harmless.
func testReset(t *testing.T, r *seckill.Limiter) {
	allow(t, r, "r", tenPerSecond, 5)
	if res := allow(t, r, "r", tenPerSecond, 1); res.Allowed != 0 {
		t.Fatalf("burst spent: %+v", res)
	}
	if err := r.Reset(ctx, "r"); err != nil {
		t.Fatal(err)
	}
	if res := allow(t, r, "r", tenPerSecond, 5); res.Allowed != 5 {
		t.Fatalf("after Reset: %+v, want the full burst", res)
	}
	if err := r.Reset(ctx, "never-used"); err != nil {
		t.Fatal(err)
	}
	var ie *seckill.InputError
	if err := r.Reset(ctx, "bad:key"); !errors.As(err, &ie) || ie.Field != "Key" {
		t.Fatalf("Reset(bad:key): %v, want an InputError on Key", err)
	}
}

// ten per second, five at once: one event every 100ms.
var tenPerSecond = seckill.PerSecond(10, 5)

func allow(t *testing.T, r *seckill.Limiter, key string, l seckill.Limit, n int) seckill.RateResult {
	t.Helper()
	res, err := r.AllowN(ctx, key, l, n)
	if err != nil {
		t.Fatalf("AllowN(%s, %d): %v", key, n, err)
	}
	return res
}

func testBurst(t *testing.T, r *seckill.Limiter) {
	for i := 0; i < 5; i++ {
		res := allow(t, r, "u1", tenPerSecond, 1)
		if res.Allowed != 1 || res.Remaining != 4-i {
			t.Fatalf("event %d: %+v, want allowed with %d remaining", i, res, 4-i)
		}
	}
	res := allow(t, r, "u1", tenPerSecond, 1)
	if res.Allowed != 0 || res.Remaining != 0 || res.RetryAfter <= 0 || res.RetryAfter > 100*time.Millisecond {
		t.Fatalf("sixth event: %+v, want denied, retry within 100ms", res)
	}
	if res.ResetAfter < 400*time.Millisecond || res.ResetAfter > 500*time.Millisecond {
		t.Fatalf("ResetAfter = %v, want about 500ms", res.ResetAfter)
	}
	// Keys are independent.
	if res := allow(t, r, "u2", tenPerSecond, 1); res.Allowed != 1 {
		t.Fatalf("another key: %+v", res)
	}
}

func testSteady(t *testing.T, r *seckill.Limiter) {
	allow(t, r, "s", tenPerSecond, 5)
	time.Sleep(120 * time.Millisecond) // a little over one emission interval
	if res := allow(t, r, "s", tenPerSecond, 1); res.Allowed != 1 {
		t.Fatalf("after one interval: %+v, want allowed", res)
	}
	if res := allow(t, r, "s", tenPerSecond, 1); res.Allowed != 0 {
		t.Fatalf("right after: %+v, want denied", res)
	}
}

func testPeek(t *testing.T, r *seckill.Limiter) {
	for i := 0; i < 3; i++ {
		res, err := r.Peek(ctx, "p", tenPerSecond)
		if err != nil || res.Remaining != 5 || res.Allowed != 0 {
			t.Fatalf("Peek = %+v, %v; want 5 remaining", res, err)
		}
	}
	allow(t, r, "p", tenPerSecond, 2)
	if res, _ := r.Peek(ctx, "p", tenPerSecond); res.Remaining != 3 {
		t.Fatalf("Peek after 2 = %+v, want 3 remaining", res)
	}
}

func testAllOrNothing(t *testing.T, r *seckill.Limiter) {
	if res := allow(t, r, "a", tenPerSecond, 3); res.Allowed != 3 || res.Remaining != 2 {
		t.Fatalf("AllowN(3) = %+v", res)
	}
	if res := allow(t, r, "a", tenPerSecond, 3); res.Allowed != 0 {
		t.Fatalf("AllowN(3) over the remaining 2 = %+v, want denied", res)
	}
	if res := allow(t, r, "a", tenPerSecond, 2); res.Allowed != 2 || res.Remaining != 0 {
		t.Fatalf("AllowN(2) = %+v, want the last 2", res)
	}
}

func testAboveBurst(t *testing.T, r *seckill.Limiter) {
	res := allow(t, r, "big", tenPerSecond, 6)
	if res.Allowed != 0 || res.RetryAfter != -1 {
		t.Fatalf("AllowN(6) with burst 5 = %+v, want never (RetryAfter -1)", res)
	}
	if res, _ := r.Peek(ctx, "big", tenPerSecond); res.Remaining != 5 {
		t.Fatalf("a refused call consumed: %+v", res)
	}
}

func testFractional(t *testing.T, r *seckill.Limiter) {
	half := seckill.PerSecond(0.5, 1) // one event every 2s
	if res := allow(t, r, "f", half, 1); res.Allowed != 1 {
		t.Fatalf("first: %+v", res)
	}
	res := allow(t, r, "f", half, 1)
	if res.Allowed != 0 || res.RetryAfter < 1900*time.Millisecond || res.RetryAfter > 2*time.Second {
		t.Fatalf("second: %+v, want denied for about 2s", res)
	}
}

func testIdle(t *testing.T, r *seckill.Limiter) {
	fast := seckill.PerSecond(100, 3) // 10ms per event
	res := allow(t, r, "idle", fast, 3)
	time.Sleep(res.ResetAfter + 30*time.Millisecond)
	if res, _ := r.Peek(ctx, "idle", fast); res.Remaining != 3 {
		t.Fatalf("after ResetAfter: %+v, want a full burst", res)
	}
}

// testLimiterConcurrency: 64 goroutines hammer one key for 300ms; the
// events admitted never exceed the burst plus the rate over the time.
func testLimiterConcurrency(t *testing.T, r *seckill.Limiter) {
	l := seckill.PerSecond(100, 10)
	var admitted atomic.Int64
	start := time.Now()
	var wg sync.WaitGroup
	for w := 0; w < 64; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for time.Since(start) < 300*time.Millisecond {
				res, err := r.Allow(ctx, "hot", l)
				if err != nil {
					t.Error(err)
					return
				}
				admitted.Add(int64(res.Allowed))
			}
		}()
	}
	wg.Wait()
	elapsed := time.Since(start)
	limit := 10 + int64(100*elapsed.Seconds()) + 1
	if got := admitted.Load(); got > limit || got < 10 {
		t.Fatalf("admitted %d in %v; want between 10 and %d", got, elapsed, limit)
	}
}

func testLimiterInvalid(t *testing.T, r *seckill.Limiter) {
	tests := []struct {
		key   string
		limit seckill.Limit
		n     int
		want  string
	}{
		{"", tenPerSecond, 1, "Key"},
		{"a:b", tenPerSecond, 1, "Key"},
		{"k", seckill.PerSecond(0, 1), 1, "Rate"},
		{"k", seckill.Limit{Rate: -1, Burst: 1}, 1, "Rate"},
		{"k", seckill.PerSecond(10, 0), 1, "Burst"},
		{"k", tenPerSecond, -1, "N"},
	}
	for _, tt := range tests {
		_, err := r.AllowN(ctx, tt.key, tt.limit, tt.n)
		var ie *seckill.InputError
		if !errors.As(err, &ie) || ie.Field != tt.want {
			t.Errorf("AllowN(%q, %+v, %d): err = %v, want InputError on %s", tt.key, tt.limit, tt.n, err, tt.want)
		}
	}
}

// testShared: readers share a lock and keep a writer out; a writer keeps
// readers out; tokens rise across both kinds; a shared grant refreshes,
// reports its TTL and releases alone.
func testShared(t *testing.T, h Harness) {
	lk := h.NewLocker(t)
	r1, err := lk.ObtainShared(ctx, "catalog", time.Minute, seckill.ObtainOptions{})
	if err != nil || !r1.Shared() {
		t.Fatalf("first reader: %v", err)
	}
	r2, err := lk.ObtainShared(ctx, "catalog", time.Minute, seckill.ObtainOptions{})
	if err != nil {
		t.Fatalf("second reader: %v", err)
	}
	if r2.Token() <= r1.Token() {
		t.Fatalf("reader tokens %d then %d: want rising", r1.Token(), r2.Token())
	}
	if _, err := lk.Obtain(ctx, "catalog", time.Minute, seckill.ObtainOptions{}); !errors.Is(err, seckill.ErrNotObtained) {
		t.Fatalf("writer while readers hold: %v, want ErrNotObtained", err)
	}
	if fence, err := r1.Refresh(ctx, 2*time.Minute); err != nil || fence != r1.Token() {
		t.Fatalf("refresh: %d %v", fence, err)
	}
	if left, err := r1.TTL(ctx); err != nil || left < time.Minute || left > 2*time.Minute {
		t.Fatalf("ttl after refresh: %v %v", left, err)
	}
	if err := r1.Release(ctx); err != nil {
		t.Fatal(err)
	}
	if err := r1.Release(ctx); !errors.Is(err, seckill.ErrNotHeld) {
		t.Fatalf("second release: %v, want ErrNotHeld", err)
	}
	if _, err := lk.Obtain(ctx, "catalog", time.Minute, seckill.ObtainOptions{}); !errors.Is(err, seckill.ErrNotObtained) {
		t.Fatalf("writer while one reader holds: %v, want ErrNotObtained", err)
	}
	if err := r2.Release(ctx); err != nil {
		t.Fatal(err)
	}
	w, err := lk.Obtain(ctx, "catalog", time.Minute, seckill.ObtainOptions{})
	if err != nil || w.Shared() || w.Token() <= r2.Token() {
		t.Fatalf("writer after the readers: %v (token %v after %d)", err, w, r2.Token())
	}
	if _, err := lk.ObtainShared(ctx, "catalog", time.Minute, seckill.ObtainOptions{}); !errors.Is(err, seckill.ErrNotObtained) {
		t.Fatalf("reader while the writer holds: %v, want ErrNotObtained", err)
	}
	if _, err := r2.Refresh(ctx, time.Minute); !errors.Is(err, seckill.ErrNotHeld) {
		t.Fatalf("refresh of a released shared grant: %v", err)
	}
	if err := w.Release(ctx); err != nil {
		t.Fatal(err)
	}
	r3, err := lk.ObtainShared(ctx, "catalog", time.Minute, seckill.ObtainOptions{})
	if err != nil || r3.Token() <= w.Token() {
		t.Fatalf("reader after the writer: %v", err)
	}
	// A reader waiting with a retry strategy gets in once the writer goes.
	_ = r3.Release(ctx)
}

// testSharedExpiry: a lapsed shared lease no longer keeps a writer out.
func testSharedExpiry(t *testing.T, h Harness) {
	lk := h.NewLocker(t)
	r, err := lk.ObtainShared(ctx, "report", 50*time.Millisecond, seckill.ObtainOptions{})
	if err != nil {
		t.Fatal(err)
	}
	w, err := lk.Obtain(ctx, "report", time.Minute, seckill.ObtainOptions{Retry: seckill.LinearBackoff(10 * time.Millisecond)})
	if err != nil {
		t.Fatalf("writer after the reader's lease: %v", err)
	}
	if w.Token() <= r.Token() {
		t.Fatalf("writer token %d after reader %d", w.Token(), r.Token())
	}
	if _, err := r.TTL(ctx); !errors.Is(err, seckill.ErrNotHeld) {
		t.Fatalf("lapsed reader's TTL: %v, want ErrNotHeld", err)
	}
}

// testSharedRace: readers and writers contend; inside the lock a writer
// is never beside anyone, and readers do overlap.
func testSharedRace(t *testing.T, h Harness) {
	lk := h.NewLocker(t)
	var readers, writers, maxReaders, bad atomic.Int64
	var wg sync.WaitGroup
	for i := range 16 {
		wg.Go(func() {
			for range 8 {
				shared := i%4 != 0
				var l *seckill.Lock
				var err error
				opts := seckill.ObtainOptions{Retry: seckill.ExponentialBackoff(time.Millisecond, 10*time.Millisecond)}
				if shared {
					l, err = lk.ObtainShared(ctx, "rw", 5*time.Second, opts)
				} else {
					l, err = lk.Obtain(ctx, "rw", 5*time.Second, opts)
				}
				if err != nil {
					t.Error(err)
					return
				}
				if shared {
					n := readers.Add(1)
					for m := maxReaders.Load(); n > m && !maxReaders.CompareAndSwap(m, n); m = maxReaders.Load() {
					}
					if writers.Load() != 0 {
						bad.Add(1)
					}
					time.Sleep(2 * time.Millisecond)
					readers.Add(-1)
				} else {
					if writers.Add(1) != 1 || readers.Load() != 0 {
						bad.Add(1)
					}
					time.Sleep(time.Millisecond)
					writers.Add(-1)
				}
				if err := l.Release(ctx); err != nil {
					t.Error(err)
				}
			}
		})
	}
	wg.Wait()
	if bad.Load() != 0 {
		t.Fatalf("%d times a writer shared the lock", bad.Load())
	}
	if maxReaders.Load() < 2 {
		t.Fatalf("at most %d reader(s) at once: shared grants did not share", maxReaders.Load())
	}
}
