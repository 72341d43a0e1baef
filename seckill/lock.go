package seckill

import (
	"context"
	crand "crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"math/rand/v2"
	"sync"
	"time"

	"github.com/shopkit/shopkit/internal/keyspace"
)

// Lock errors.
var (
	// ErrNotObtained means the lock is held by someone else and the retry
	// strategy gave up.
	ErrNotObtained = errors.New("seckill: lock not obtained")
	// ErrNotHeld means the lock was lost: it expired, or was taken by
	// another holder after expiring.
	ErrNotHeld = errors.New("seckill: lock not held")
	// ErrInvalidInput is matched by every *InputError.
	ErrInvalidInput = errors.New("seckill: invalid input")
	// ErrClosed is returned by calls on a closed store.
	ErrClosed = errors.New("seckill: closed")
)

// InputError reports input that breaks a rule. Nothing was written.
type InputError struct {
	Field string
	Rule  string
}

// Error implements error.
func (e *InputError) Error() string { return "seckill: " + e.Field + " " + e.Rule }

// Is makes errors.Is(err, ErrInvalidInput) true.
func (e *InputError) Is(target error) bool { return target == ErrInvalidInput }

// lockBackend is what a lock store does; memoryLocks and redisLocks
// implement it. A grant is identified by the owner token the Locker made.
type lockBackend interface {
	// obtain grants the lock to owner if it is free (or already owner's)
	// and returns the grant's fencing token; ok is false if another owner
	// holds it.
	obtain(ctx context.Context, name, owner string, ttl time.Duration) (fence int64, ok bool, err error)
	// refresh extends owner's grant; ok is false if owner no longer holds it.
	refresh(ctx context.Context, name, owner string, ttl time.Duration) (fence int64, ok bool, err error)
	// release frees owner's grant; ok is false if owner no longer held it.
	release(ctx context.Context, name, owner string) (ok bool, err error)
	// ttl returns the time left on owner's grant; ok is false if not held.
	ttl(ctx context.Context, name, owner string) (left time.Duration, ok bool, err error)

	// The same four for a shared grant: obtainShared grants one unless a
	// writer holds the lock (obtain, in turn, waits for every live shared
	// grant); shared and exclusive grants draw fences from one counter.
	obtainShared(ctx context.Context, name, owner string, ttl time.Duration) (fence int64, ok bool, err error)
	refreshShared(ctx context.Context, name, owner string, ttl time.Duration) (fence int64, ok bool, err error)
	releaseShared(ctx context.Context, name, owner string) (ok bool, err error)
	ttlShared(ctx context.Context, name, owner string) (left time.Duration, ok bool, err error)
}

// Locker hands out distributed locks with fencing tokens. Every grant of a
// lock name carries a token larger than any earlier grant of that name, so
// a resource that remembers the largest token it has seen can refuse a
// write from a holder whose lease already passed to someone else (see
// Fence and FencedStore). A lock is held exclusively (Obtain: one writer)
// or shared (ObtainShared: any number of readers, while no writer holds
// it); shared and exclusive grants of a name draw tokens from one rising
// sequence, so a writer's token exceeds every reader's before it. Readers
// arriving while others read are let in, so a steady stream of readers
// can keep a writer waiting: give writers a retry strategy with a bound.
// A Locker is safe for concurrent use.
type Locker struct {
	backend lockBackend
	observe Observer
}

// RetryStrategy says how long to wait before the next attempt to obtain a
// busy lock; ok false means give up.
type RetryStrategy interface {
	next(attempt int) (wait time.Duration, ok bool)
}

type noRetry struct{}

func (noRetry) next(int) (time.Duration, bool) { return 0, false }

// NoRetry tries once. The default.
func NoRetry() RetryStrategy { return noRetry{} }

type linear time.Duration

func (l linear) next(int) (time.Duration, bool) { return time.Duration(l), true }

// LinearBackoff retries every interval until the context ends.
func LinearBackoff(interval time.Duration) RetryStrategy { return linear(interval) }

type exponential struct{ min, max time.Duration }

func (e exponential) next(attempt int) (time.Duration, bool) {
	d := e.min << min(attempt, 32)
	if d <= 0 || d > e.max {
		d = e.max
	}
	// Full jitter: uniform in [d/2, d], so contenders spread out.
	return d/2 + time.Duration(rand.Int64N(int64(d/2)+1)), true
}

// ExponentialBackoff retries after min, 2·min, 4·min … capped at max, each
// wait jittered in [w/2, w], until the context ends.
func ExponentialBackoff(min, max time.Duration) RetryStrategy { return exponential{min: min, max: max} }

// ObtainOptions configure Obtain. The zero value tries once.
type ObtainOptions struct {
	Retry RetryStrategy
}

// Lock is a held lock. Its methods are safe for concurrent use.
type Lock struct {
	locker *Locker
	name   string
	owner  string
	shared bool

	mu    sync.Mutex
	fence int64
}

// Name returns the lock's name.
func (l *Lock) Name() string { return l.name }

// Shared reports whether the grant is shared (ObtainShared) rather than
// exclusive.
func (l *Lock) Shared() bool { return l.shared }

// Token returns the lock's fencing token.
func (l *Lock) Token() int64 {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.fence
}

func checkLock(name string, ttl time.Duration) error {
	if rule := keyspace.CheckID(name); rule != "" {
		return &InputError{Field: "Name", Rule: rule}
	}
	if ttl < time.Millisecond {
		return &InputError{Field: "TTL", Rule: "must be at least 1ms"}
	}
	return nil
}

// Obtain takes lock name for ttl. If it is held it retries as opts.Retry
// says, bounded by ctx; it returns ErrNotObtained when the strategy gives
// up and the context's error, wrapped, when ctx ends first.
func (lk *Locker) Obtain(ctx context.Context, name string, ttl time.Duration, opts ObtainOptions) (*Lock, error) {
	start := startTimer(lk.observe)
	l, err := lk.obtain(ctx, name, ttl, opts, false)
	if lk.observe != nil {
		lk.observe(Observation{Op: OpObtain, ID: name, Err: err, Took: since(start)})
	}
	return l, err
}

// ObtainShared takes a shared grant of lock name for ttl: it is granted
// beside other shared grants, and while no exclusive one (Obtain) holds
// the lock; an exclusive grant, in turn, waits until every shared lease
// is released or has run out. Busy and retry behave as for Obtain. The
// returned Lock's Refresh, Release, TTL and KeepAlive act on this grant
// alone.
func (lk *Locker) ObtainShared(ctx context.Context, name string, ttl time.Duration, opts ObtainOptions) (*Lock, error) {
	start := startTimer(lk.observe)
	l, err := lk.obtain(ctx, name, ttl, opts, true)
	if lk.observe != nil {
		lk.observe(Observation{Op: OpObtain, ID: name, Err: err, Took: since(start)})
	}
	return l, err
}

func (lk *Locker) obtain(ctx context.Context, name string, ttl time.Duration, opts ObtainOptions, shared bool) (*Lock, error) {
	if err := checkLock(name, ttl); err != nil {
		return nil, err
	}
	retry := opts.Retry
	if retry == nil {
		retry = NoRetry()
	}
	owner := newOwner()
	var timer *time.Timer
	for attempt := 0; ; attempt++ {
		grant := lk.backend.obtain
		if shared {
			grant = lk.backend.obtainShared
		}
		fence, ok, err := grant(ctx, name, owner, ttl)
		if err != nil {
			return nil, err
		}
		if ok {
			return &Lock{locker: lk, name: name, owner: owner, shared: shared, fence: fence}, nil
		}
		wait, again := retry.next(attempt)
		if !again {
			return nil, ErrNotObtained
		}
		if timer == nil {
			timer = time.NewTimer(wait)
			defer timer.Stop()
		} else {
			timer.Reset(wait)
		}
		select {
		case <-ctx.Done():
			return nil, fmt.Errorf("seckill: obtain %s: %w", name, ctx.Err())
		case <-timer.C:
		}
	}
}

// Refresh extends the lease to ttl from now and returns the fencing token,
// which stays the same for the life of the grant. ErrNotHeld means the
// lock was lost; stop using the resource.
func (l *Lock) Refresh(ctx context.Context, ttl time.Duration) (int64, error) {
	if err := checkLock(l.name, ttl); err != nil {
		return 0, err
	}
	refresh := l.locker.backend.refresh
	if l.shared {
		refresh = l.locker.backend.refreshShared
	}
	fence, ok, err := refresh(ctx, l.name, l.owner, ttl)
	if err != nil {
		return 0, err
	}
	if !ok {
		return 0, ErrNotHeld
	}
	l.mu.Lock()
	l.fence = fence
	l.mu.Unlock()
	return fence, nil
}

// Release frees the lock. ErrNotHeld means it had already been lost.
func (l *Lock) Release(ctx context.Context) error {
	start := startTimer(l.locker.observe)
	release := l.locker.backend.release
	if l.shared {
		release = l.locker.backend.releaseShared
	}
	ok, err := release(ctx, l.name, l.owner)
	if err == nil && !ok {
		err = ErrNotHeld
	}
	if l.locker.observe != nil {
		l.locker.observe(Observation{Op: OpRelease, ID: l.name, Err: err, Took: since(start)})
	}
	return err
}

// TTL returns the time left on the lease, or ErrNotHeld.
func (l *Lock) TTL(ctx context.Context) (time.Duration, error) {
	ttl := l.locker.backend.ttl
	if l.shared {
		ttl = l.locker.backend.ttlShared
	}
	left, ok, err := ttl(ctx, l.name, l.owner)
	if err != nil {
		return 0, err
	}
	if !ok {
		return 0, ErrNotHeld
	}
	return left, nil
}

// KeepAlive starts a watchdog that refreshes the lease to ttl every
// interval (pick interval well below ttl). The returned context is
// cancelled the moment the lock is lost or a refresh fails, so work done
// under it stops; stop ends the watchdog and waits for it.
func (l *Lock) KeepAlive(ctx context.Context, ttl, interval time.Duration) (held context.Context, stop func()) {
	held, cancel := context.WithCancelCause(ctx)
	done := make(chan struct{})
	quit := make(chan struct{})
	go func() {
		defer close(done)
		t := time.NewTicker(interval)
		defer t.Stop()
		for {
			select {
			case <-quit:
				return
			case <-held.Done():
				return
			case <-t.C:
				if _, err := l.Refresh(held, ttl); err != nil {
					cancel(err)
					return
				}
			}
		}
	}()
	var once sync.Once
	return held, func() {
		once.Do(func() {
			close(quit)
			<-done
			cancel(context.Canceled)
		})
	}
}

// newOwner returns a random owner token for one grant.
func newOwner() string {
	var b [16]byte
	_, _ = crand.Read(b[:])
	return hex.EncodeToString(b[:])
}
