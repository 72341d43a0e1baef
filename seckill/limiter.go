package seckill

import (
	"context"
	"math"
	"sync"
	"time"

	"github.com/shopkit/shopkit/internal/keyspace"
)

// Limit is a GCRA rate limit: Rate events per Period on average, with up
// to Burst events at once. Rate may be fractional (0.5 per second is one
// event every two seconds).
type Limit struct {
	Rate   float64
	Period time.Duration // default one second
	Burst  int           // ≥ 1
}

// PerSecond returns a limit of rate events per second with burst.
func PerSecond(rate float64, burst int) Limit {
	return Limit{Rate: rate, Period: time.Second, Burst: burst}
}

// PerMinute returns a limit of rate events per minute with burst.
func PerMinute(rate float64, burst int) Limit {
	return Limit{Rate: rate, Period: time.Minute, Burst: burst}
}

// RateResult is the outcome of a rate-limit decision.
type RateResult struct {
	// Allowed is how many events this call admitted: n, or 0.
	Allowed int
	// Remaining is how many more events would be admitted right now.
	Remaining int
	// RetryAfter is how long until a denied call could succeed; 0 when
	// allowed, and -1 when it never can (n above the burst).
	RetryAfter time.Duration
	// ResetAfter is how long until the limiter is back to a full burst.
	ResetAfter time.Duration
}

// gcraDecide is the generic cell rate algorithm, in microseconds. tat is
// the stored theoretical arrival time (or now when there is none). With
// atMost it admits as many of the n events as fit (at least one, or
// none), as go-redis/redis_rate's AllowAtMost; otherwise all n or none.
// It returns the result, the new TAT and whether to store it. The Redis
// script computes the same, step for step.
func gcraDecide(tat, now float64, l Limit, n int, atMost bool) (RateResult, float64, bool) {
	emission := float64(l.Period.Microseconds()) / l.Rate
	burstOffset := emission * float64(l.Burst)
	tat = math.Max(tat, now)
	if atMost {
		if fit := int(math.Floor((now - (tat - burstOffset)) / emission)); fit < n {
			n = max(fit, 1) // none fit: decided below as a denial of one
		}
	}
	newTAT := tat + emission*float64(n)
	diff := now - (newTAT - burstOffset)
	if diff < 0 {
		retry := time.Duration(-diff) * time.Microsecond
		if n > l.Burst {
			retry = -1
		}
		return RateResult{RetryAfter: retry, ResetAfter: time.Duration(tat-now) * time.Microsecond}, 0, false
	}
	return RateResult{
		Allowed:    n,
		Remaining:  int(diff / emission),
		ResetAfter: time.Duration(newTAT-now) * time.Microsecond,
	}, newTAT, n > 0
}

func checkLimit(key string, l *Limit, n int) error {
	if rule := keyspace.CheckID(key); rule != "" {
		return &InputError{Field: "Key", Rule: rule}
	}
	return checkLimitValues(l, n)
}

func checkLimitValues(l *Limit, n int) error {
	if l.Period == 0 {
		l.Period = time.Second
	}
	switch {
	case math.IsNaN(l.Rate) || math.IsInf(l.Rate, 0) || l.Rate <= 0:
		return &InputError{Field: "Rate", Rule: "must be a finite number > 0"}
	case l.Period < time.Microsecond:
		return &InputError{Field: "Period", Rule: "must be at least 1µs"}
	case l.Burst < 1:
		return &InputError{Field: "Burst", Rule: "must be ≥ 1"}
	case n < 0:
		return &InputError{Field: "N", Rule: "must be ≥ 0"}
	case float64(l.Period.Microseconds())/l.Rate < 1:
		return &InputError{Field: "Rate", Rule: "must leave at least 1µs between events"}
	}
	return nil
}

// limiterBackend stores GCRA state; memoryLimits and redisLimits implement it.
type limiterBackend interface {
	allowN(ctx context.Context, key string, l Limit, n int, atMost bool) (RateResult, error)
	reset(ctx context.Context, key string) error
}

// Limiter is a GCRA rate limiter (as in go-redis/redis_rate): each key has
// a theoretical arrival time, events are admitted while it stays within
// the burst window, and idle keys cost nothing and expire by themselves. It
// is safe for concurrent use.
type Limiter struct {
	backend limiterBackend
	observe Observer
}

// Allow admits one event for key under l.
func (r *Limiter) Allow(ctx context.Context, key string, l Limit) (RateResult, error) {
	return r.AllowN(ctx, key, l, 1)
}

// AllowN admits n events for key under l, all or none.
func (r *Limiter) AllowN(ctx context.Context, key string, l Limit, n int) (RateResult, error) {
	return r.allow(ctx, key, l, n, false)
}

// AllowAtMost admits as many of n events for key as l allows now, at
// least one or none, and reports how many in Allowed: for work that can be
// done in part (a batch of notifications, a page of results). As
// go-redis/redis_rate's AllowAtMost.
func (r *Limiter) AllowAtMost(ctx context.Context, key string, l Limit, n int) (RateResult, error) {
	return r.allow(ctx, key, l, n, true)
}

// Reset forgets key's state: its next event finds a full burst. Resetting
// a key without state does nothing.
func (r *Limiter) Reset(ctx context.Context, key string) error {
	start := startTimer(r.observe)
	var err error
	if rule := keyspace.CheckID(key); rule != "" {
		err = &InputError{Field: "Key", Rule: rule}
	} else {
		err = r.backend.reset(ctx, key)
	}
	if r.observe != nil {
		r.observe(Observation{Op: OpReset, ID: key, Err: err, Took: since(start)})
	}
	return err
}

func (r *Limiter) allow(ctx context.Context, key string, l Limit, n int, atMost bool) (RateResult, error) {
	start := startTimer(r.observe)
	var res RateResult
	err := checkLimit(key, &l, n)
	if err == nil {
		res, err = r.backend.allowN(ctx, key, l, n, atMost)
	}
	if r.observe != nil {
		r.observe(Observation{Op: OpAllow, ID: key, Err: err, Took: since(start), Allowed: res.Allowed})
	}
	return res, err
}

// allowPair admits one event for the pair of IDs (a, b), each already
// valid, as the Gate limits each buyer per sale. The backend key is
// "a:b": no single-ID key can contain ':', and no ID can either, so the
// pair's key is never another key's.
func (r *Limiter) allowPair(ctx context.Context, a, b string, l Limit) (RateResult, error) {
	if err := checkLimitValues(&l, 1); err != nil {
		return RateResult{}, err
	}
	return r.backend.allowN(ctx, a+":"+b, l, 1, false)
}

// Peek reports what key's limit would allow now without consuming any.
func (r *Limiter) Peek(ctx context.Context, key string, l Limit) (RateResult, error) {
	return r.AllowN(ctx, key, l, 0)
}

// NewMemoryLimiter returns a Limiter whose state lives in this process.
// now is its clock (nil for time.Now).
func NewMemoryLimiter(opts LimiterOptions) *Limiter {
	now := opts.Now
	if now == nil {
		now = time.Now
	}
	return &Limiter{backend: &memoryLimits{now: now, tats: map[string]float64{}}, observe: opts.Observer}
}

type memoryLimits struct {
	now func() time.Time

	mu    sync.Mutex
	tats  map[string]float64 // µs since the Unix epoch
	calls int
}

// forgetEvery is how many calls pass between sweeps of idle keys.
const forgetEvery = 4096

func (m *memoryLimits) reset(_ context.Context, key string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	delete(m.tats, key)
	return nil
}

func (m *memoryLimits) allowN(_ context.Context, key string, l Limit, n int, atMost bool) (RateResult, error) {
	now := float64(m.now().UnixMicro())
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.calls++; m.calls%forgetEvery == 0 {
		for k, t := range m.tats {
			if t <= now {
				delete(m.tats, k) // idle: back to a full burst anyway
			}
		}
	}
	tat, ok := m.tats[key]
	if !ok {
		tat = now
	}
	res, newTAT, store := gcraDecide(tat, now, l, n, atMost)
	if store {
		m.tats[key] = newTAT
	}
	return res, nil
}
