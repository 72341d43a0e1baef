package pricing

import (
	"context"
	"strconv"
	"sync/atomic"
	"time"
)

// Redemptions holds coupon uses against their limits, atomically: under any
// concurrency no more than Global uses, and no more than PerCustomer for one
// customer, are ever held or committed at once. NewMemoryRedemptions and
// NewRedisRedemptions return one; both backends pass the same conformance
// suite (package pricingtest).
//
// Reserve at checkout, Commit when the order is paid, Release when it is
// cancelled; a hold not committed within its TTL expires and returns its
// use. Every call is idempotent by order ID: repeating Reserve returns the
// existing redemption (in whatever state), Commit of a committed one and
// Release of a released or expired one return it unchanged, each with
// Replayed set.
//
// A Redemptions is safe for concurrent use.
type Redemptions struct {
	b       redemptionsBackend
	observe Observer
	closed  atomic.Bool
}

// redemptionsBackend is the storage under Redemptions, on validated input.
type redemptionsBackend interface {
	reserve(ctx context.Context, h HoldRequest) (Redemption, error)
	commit(ctx context.Context, r RedemptionRef) (Redemption, error)
	release(ctx context.Context, r RedemptionRef) (Redemption, error)
	usage(ctx context.Context, q UsageQuery) (CouponUsage, error)
}

// Observer receives an Observation of every call on a store of this package. It
// runs synchronously after the call and must not block for long; feed a
// metrics library or a log from it.
type Observer func(Observation)

// Op names the call an Observation reports.
type Op uint8

// The calls an Observer sees.
const (
	OpReserve Op = iota + 1 // Redemptions.Reserve
	OpCommit                // Redemptions.Commit
	OpRelease               // Redemptions.Release
	OpUsage                 // Redemptions.Usage
	OpPublish               // RuleSource.Publish
	OpLoad                  // RuleSource.Load
)

var opNames = [...]string{"", "reserve", "commit", "release", "usage", "publish", "load"}

// String returns the op's name in snake case, as metric labels want it.
func (o Op) String() string {
	if o != 0 && int(o) < len(opNames) {
		return opNames[o]
	}
	return "Op(" + strconv.Itoa(int(o)) + ")"
}

// Observation is one call, as an Observer sees it.
type Observation struct {
	Op Op
	// ID is the call's order ID or publish ID.
	ID string
	// Err is the call's error; nil on success.
	Err error
	// Took is the call's wall time.
	Took time.Duration
	// Replayed is true when the call changed nothing because it repeated
	// an earlier one.
	Replayed bool
	// Redemption is the redemption a Redemptions call returned.
	Redemption Redemption
	// Version is the rule set version a RuleSource call published or
	// loaded.
	Version int64
}

func newRedemptions(b redemptionsBackend, opts RedemptionsOptions) *Redemptions {
	return &Redemptions{b: b, observe: opts.Observer}
}

// Reserve holds one use of h.Coupon for h.OrderID, or returns
// ErrGlobalLimit or ErrCustomerLimit. The same order ID for another
// customer is ErrIDConflict.
func (s *Redemptions) Reserve(ctx context.Context, h HoldRequest) (Redemption, error) {
	start := startTimer(s.observe)
	var r Redemption
	err := checkHold(h)
	if err == nil {
		err = s.checkOpen()
	}
	if err == nil {
		r, err = s.b.reserve(ctx, h)
	}
	s.report(OpReserve, h.OrderID, start, r, err)
	return r, err
}

// Commit turns a held use into a spent one, when the order is paid. A
// released or expired redemption returns ErrNotHeld (with the redemption).
func (s *Redemptions) Commit(ctx context.Context, ref RedemptionRef) (Redemption, error) {
	return s.transition(ctx, OpCommit, ref, s.b.commit)
}

// Release returns a held or committed use (the order was cancelled, before
// or after payment).
func (s *Redemptions) Release(ctx context.Context, ref RedemptionRef) (Redemption, error) {
	return s.transition(ctx, OpRelease, ref, s.b.release)
}

func (s *Redemptions) transition(ctx context.Context, op Op, ref RedemptionRef, apply func(context.Context, RedemptionRef) (Redemption, error)) (Redemption, error) {
	start := startTimer(s.observe)
	var r Redemption
	err := checkRef(ref)
	if err == nil {
		err = s.checkOpen()
	}
	if err == nil {
		r, err = apply(ctx, ref)
	}
	s.report(op, ref.OrderID, start, r, err)
	return r, err
}

// Usage counts a coupon's live uses, overall and by one customer.
func (s *Redemptions) Usage(ctx context.Context, q UsageQuery) (CouponUsage, error) {
	start := startTimer(s.observe)
	var u CouponUsage
	err := checkUsage(q)
	if err == nil {
		err = s.checkOpen()
	}
	if err == nil {
		u, err = s.b.usage(ctx, q)
	}
	s.report(OpUsage, "", start, Redemption{}, err)
	return u, err
}

// Close makes later calls return ErrClosed. It does not close the Redis
// client, which the caller owns.
func (s *Redemptions) Close() error {
	s.closed.Store(true)
	return nil
}

func (s *Redemptions) checkOpen() error {
	if s.closed.Load() {
		return ErrClosed
	}
	return nil
}

func (s *Redemptions) report(op Op, id string, start time.Time, r Redemption, err error) {
	if s.observe != nil {
		s.observe(Observation{Op: op, ID: id, Err: err, Took: since(start), Replayed: r.Replayed, Redemption: r})
	}
}

// startTimer returns when a call started, or the zero time when nobody
// observes (so an unobserved call reads no clock).
func startTimer(o Observer) time.Time {
	if o == nil {
		return time.Time{}
	}
	return time.Now()
}

func since(start time.Time) time.Duration {
	if start.IsZero() {
		return 0
	}
	return time.Since(start)
}
