package inventory

import (
	"context"
	"errors"
	"sync/atomic"
	"time"

	"golang.org/x/sync/singleflight"
)

// Store holds stock levels and reservations. NewMemory and NewRedis return
// one; both backends pass the same conformance suite (package
// inventorytest). Store validates input, maps errors, runs the background
// sweeper and reports to the observer once, for every backend, so the
// backends cannot drift apart in what a caller sees.
//
// Every mutation is idempotent by its ID: replaying it returns the first
// outcome and applies nothing twice. Reusing an ID for a different request
// returns ErrIDConflict. A request that fails (invalid input, insufficient
// stock, on hand below reserved) writes nothing, so its ID may be used again.
//
// A Store is safe for concurrent use.
type Store struct {
	b        backend
	opts     Options
	closed   atomic.Bool
	sweeper  *sweeper
	sweeps   singleflight.Group // one sweep at a time; concurrent callers share it
	wantLows bool               // the observer wants low-stock events
}

// backend is the storage under a Store: a few atomic primitives on input the
// Store has validated. Memory and Redis implement it.
type backend interface {
	// adjust sets on hand to value (set) or adds value to it, and returns
	// the level after it and on hand before it (-1 when the ID was a
	// replay and nothing changed).
	adjust(ctx context.Context, id string, it Item, set bool, value int64, reason Reason) (lvl Level, before int64, err error)
	// reserve holds lines (normalized) under id for ttl.
	reserve(ctx context.Context, id string, lines []Line, ttl time.Duration) (reserved, error)
	// transition applies op to reservation id, after expiring it if it is
	// due. It changes nothing when the reservation's state does not allow
	// op; the Store turns that into a *StateError.
	transition(ctx context.Context, op transitionOp, id string, ttl time.Duration) (transitioned, error)
	// levels returns the level of each item, in order.
	levels(ctx context.Context, items []Item) ([]Level, error)
	// fulfil ships (ship) or returns the units lines (normalized) of
	// committed reservation resID, under request id. It returns a
	// *StateError when the reservation is not committed and a
	// *FulfilError when a line asks for more than is left.
	fulfil(ctx context.Context, ship bool, id, resID string, lines []Line) (Fulfilment, error)
	// expect records purchase order id (lines normalized) as incoming.
	expect(ctx context.Context, id string, at time.Time, lines []Line) (Incoming, error)
	// arrive receives (receive) or cancels the units lines (normalized)
	// of open purchase order poID, under request id. It returns an
	// *IncomingError when a line asks for more than is open.
	arrive(ctx context.Context, receive bool, id, poID string, lines []Line) (Incoming, error)
	// setPolicy stores p (validated) as its item's policy.
	setPolicy(ctx context.Context, p Policy) error
	// purchaseOrder returns purchase order id as it stands.
	purchaseOrder(ctx context.Context, id string) (Incoming, error)
	// sweep expires held reservations past their deadline, reading at
	// most pages pages of the expiry index (a backend that is not paged
	// may sweep everything), and returns those it expired.
	sweep(ctx context.Context, pages int) ([]Reservation, error)
}

// reserved is a backend's report of one reserve.
type reserved struct {
	out Reservation // Replayed is set for a replay
	// expired: a replay found the reservation past its deadline and
	// expired it.
	expired bool
	// levels are the levels after a new reservation, one per line, when
	// the backend was asked for them (wantLevels).
	levels []Level
	// due: on a shortage, some held reservation is past its deadline, so a
	// sweep may free stock.
	due bool
}

// transitionOp is what transition applies.
type transitionOp uint8

const (
	opTouch transitionOp = iota // read, expiring if due
	opExtend
	opCommit
	opRelease
	opCancel // a release that leaves no record; spread stores only
)

// transitioned is a backend's report of one transition.
type transitioned struct {
	out     Reservation
	expired bool // this call expired the reservation
	changed bool // op changed the reservation's state or deadline
	// expiredOut is the reservation this call expired, when it then
	// returns an error (and out is zero).
	expiredOut Reservation
}

// A sweep reads at most sweepPages pages of the expiry index per Sweep; a
// shortage in Reserve sweeps one page, shared by concurrent callers.
const sweepPages = 20

func newStore(b backend, opts Options) *Store {
	s := &Store{b: b, opts: opts, wantLows: opts.Observer != nil && opts.LowStockThreshold != nil}
	s.sweeper = startSweeper(opts.SweepInterval, s.Sweep)
	return s
}

// Adjust changes on hand by a.Delta and returns the level after it.
func (s *Store) Adjust(ctx context.Context, a Adjustment) (Level, error) {
	start := s.start()
	lvl, err := s.adjust(ctx, checkAdjustment(a), a.ID, Item{a.SKU, a.Location}, false, a.Delta, a.Reason)
	s.observe(Observation{Op: OpAdjust, ID: a.ID, Err: err, Took: s.since(start), Level: lvl})
	return lvl, err
}

// SetOnHand sets on hand to c.OnHand, as a stock count does, and returns
// the level after it.
func (s *Store) SetOnHand(ctx context.Context, c Count) (Level, error) {
	start := s.start()
	lvl, err := s.adjust(ctx, checkCount(c), c.ID, Item{c.SKU, c.Location}, true, c.OnHand, c.Reason)
	s.observe(Observation{Op: OpSetOnHand, ID: c.ID, Err: err, Took: s.since(start), Level: lvl})
	return lvl, err
}

func (s *Store) adjust(ctx context.Context, invalid error, id string, it Item, set bool, value int64, reason Reason) (Level, error) {
	if invalid != nil {
		return Level{}, invalid
	}
	if s.closed.Load() {
		return Level{}, ErrClosed
	}
	lvl, before, err := s.b.adjust(ctx, id, it, set, value, reason)
	if err == nil && before >= 0 {
		s.lowStock(before-lvl.Reserved, lvl)
	}
	return lvl, err
}

// Reserve holds every line of r, or none. On shortage it returns a
// *StockError for the first line (in Reservation.Lines order) that could not
// be met. A shortage while some held reservation is past its deadline sweeps
// one page of expired reservations and tries once more, so stock held by a
// lapsed reservation is never reported as missing.
func (s *Store) Reserve(ctx context.Context, r Request) (Reservation, error) {
	if s.opts.Observer == nil { // the hot path: no clock, no events
		res, err := s.reserve(ctx, r)
		return res.out, err
	}
	start := time.Now()
	res, err := s.reserve(ctx, r)
	s.observe(Observation{Op: OpReserve, ID: r.ID, Err: err, Took: time.Since(start), Replayed: res.out.Replayed, Reservation: res.out})
	if res.expired {
		s.observe(Observation{Op: OpExpire, ID: r.ID, Reservation: res.out})
	}
	for i, after := range res.levels {
		s.lowStock(after.Available()+res.out.Lines[i].Quantity, after)
	}
	return res.out, err
}

func (s *Store) reserve(ctx context.Context, r Request) (reserved, error) {
	lines, err := normalize(r)
	if err != nil {
		return reserved{}, err
	}
	if s.closed.Load() {
		return reserved{}, ErrClosed
	}
	res, err := s.b.reserve(ctx, r.ID, lines, r.TTL)
	if errors.Is(err, ErrInsufficientStock) && res.due {
		if _, err := s.sweep(ctx, "page", 1); err != nil {
			return reserved{}, err
		}
		res, err = s.b.reserve(ctx, r.ID, lines, r.TTL)
	}
	if err != nil {
		return reserved{}, err
	}
	return res, nil
}

// Extend moves a held reservation's deadline to now + ttl.
func (s *Store) Extend(ctx context.Context, id string, ttl time.Duration) (Reservation, error) {
	start := s.start()
	err := checkID("ID", id)
	if err == nil {
		err = checkTTL(ttl)
	}
	t, err := s.transition(ctx, err, opExtend, id, ttl)
	s.observeTransition(Observation{Op: OpExtend, ID: id, Err: err, Took: s.since(start)}, t)
	return t.out, err
}

// Commit turns a held reservation into a sale: on hand and reserved both
// drop by its quantities, or, with Options.Shipping, its units move from
// reserved to committed and stay on hand until Ship. Committing again is a
// no-op.
func (s *Store) Commit(ctx context.Context, id string) (Reservation, error) {
	start := s.start()
	t, err := s.transition(ctx, checkID("ID", id), opCommit, id, 0)
	s.observeTransition(Observation{Op: OpCommit, ID: id, Err: err, Took: s.since(start)}, t)
	return t.out, err
}

// Release returns a held reservation's stock to available. Releasing again,
// or releasing an expired reservation, is a no-op.
func (s *Store) Release(ctx context.Context, id string) (Reservation, error) {
	start := s.start()
	t, err := s.transition(ctx, checkID("ID", id), opRelease, id, 0)
	s.observeTransition(Observation{Op: OpRelease, ID: id, Err: err, Took: s.since(start)}, t)
	return t.out, err
}

// Reservation returns a reservation's current state, expiring it first if
// it is past its deadline.
func (s *Store) Reservation(ctx context.Context, id string) (Reservation, error) {
	start := s.start()
	t, err := s.transition(ctx, checkID("ID", id), opTouch, id, 0)
	s.observeTransition(Observation{Op: OpReservation, ID: id, Err: err, Took: s.since(start)}, t)
	return t.out, err
}

// transition runs op and turns a state that does not allow it into a
// *StateError: commit needs Held (or Committed, a replay), release anything
// but Committed, extend Held. On an error, the result still says whether
// the call expired the reservation, for the observer; its out is zero.
func (s *Store) transition(ctx context.Context, invalid error, op transitionOp, id string, ttl time.Duration) (transitioned, error) {
	if invalid != nil {
		return transitioned{}, invalid
	}
	if s.closed.Load() {
		return transitioned{}, ErrClosed
	}
	t, err := s.b.transition(ctx, op, id, ttl)
	if err != nil {
		return transitioned{}, err
	}
	state := t.out.State
	switch {
	case op == opCommit && state != Committed:
		err = &StateError{ID: id, Op: "commit", State: state}
	case op == opRelease && state == Committed:
		err = &StateError{ID: id, Op: "release", State: state}
	case op == opExtend && state != Held:
		err = &StateError{ID: id, Op: "extend", State: state}
	}
	if err != nil {
		return transitioned{expired: t.expired, expiredOut: t.out}, err
	}
	return t, nil
}

// observeTransition reports a transition call, then the expiry it caused,
// if any.
func (s *Store) observeTransition(call Observation, t transitioned) {
	if s.opts.Observer == nil {
		return
	}
	call.Reservation = t.out
	call.Replayed = call.Err == nil && !t.changed && call.Op != OpReservation
	s.observe(call)
	if t.expired {
		r := t.out
		if call.Err != nil {
			r = t.expiredOut
		}
		s.observe(Observation{Op: OpExpire, ID: r.ID, Reservation: r})
	}
}

// Ship takes units of a committed reservation off hand: they left the
// warehouse. A reservation may ship in several parts, per line; together
// with Return they may not exceed what it committed at each item (a
// *FulfilError says which line would). It needs Options.Shipping when the
// reservation was committed; a reservation that is not committed gets a
// *StateError. Shipping again under the same ID returns the first outcome.
func (s *Store) Ship(ctx context.Context, r FulfilRequest) (Fulfilment, error) {
	return s.fulfil(ctx, OpShip, r)
}

// Return gives committed, unshipped units of a reservation back: they are
// available again (an order cancelled after payment, before it shipped).
// Units that shipped and came back are a receipt: Adjust with
// ReasonReturn. Rules and idempotency as for Ship.
func (s *Store) Return(ctx context.Context, r FulfilRequest) (Fulfilment, error) {
	return s.fulfil(ctx, OpReturn, r)
}

func (s *Store) fulfil(ctx context.Context, op Op, r FulfilRequest) (Fulfilment, error) {
	start := s.start()
	f, err := func() (Fulfilment, error) {
		lines, err := normalizeFulfil(r)
		if err != nil {
			return Fulfilment{}, err
		}
		if s.closed.Load() {
			return Fulfilment{}, ErrClosed
		}
		return s.b.fulfil(ctx, op == OpShip, r.ID, r.Reservation, lines)
	}()
	// A held reservation past its deadline is expired, as any call naming
	// it would, so the error names the state it really is in.
	var expired transitioned
	if se := (*StateError)(nil); errors.As(err, &se) && se.State == Held {
		if t, terr := s.b.transition(ctx, opTouch, r.Reservation, 0); terr == nil {
			se.State, expired = t.out.State, t
		}
	}
	s.observe(Observation{Op: op, ID: r.ID, Err: err, Took: s.since(start), Replayed: f.Replayed, Fulfilment: f})
	if expired.expired {
		s.observe(Observation{Op: OpExpire, ID: r.Reservation, Reservation: expired.out})
	}
	return f, err
}

// Levels returns the level of each item, in order; an item never stocked
// has a zero level.
func (s *Store) Levels(ctx context.Context, items ...Item) ([]Level, error) {
	start := s.start()
	out, err := s.levels(ctx, items)
	s.observe(Observation{Op: OpLevels, Err: err, Took: s.since(start)})
	return out, err
}

func (s *Store) levels(ctx context.Context, items []Item) ([]Level, error) {
	if err := checkItems(items); err != nil {
		return nil, err
	}
	if s.closed.Load() {
		return nil, ErrClosed
	}
	return s.b.levels(ctx, items)
}

// Sweep expires held reservations whose deadline has passed and returns how
// many it expired. One call does bounded work (on Redis, at most 20 pages
// of 100 index entries); the background sweeper, the next Sweep or a touch
// of a reservation picks up the rest. Concurrent Sweeps share one run and
// its count: a shortage seen by many Reserve calls at once costs one sweep.
func (s *Store) Sweep(ctx context.Context) (int, error) {
	start := s.start()
	n, err := s.sweep(ctx, "all", sweepPages)
	s.observe(Observation{Op: OpSweep, Err: err, Took: s.since(start), Expired: n})
	return n, err
}

// sweep runs one shared sweep of at most pages pages; key keeps a one-page
// sweep from sharing a full one's bound.
func (s *Store) sweep(ctx context.Context, key string, pages int) (int, error) {
	if s.closed.Load() {
		return 0, ErrClosed
	}
	// The shared run must not end with the first caller's context; the
	// client's timeouts and the page bound still limit it. Each expired
	// reservation is reported once, by the run that expired it.
	v, err, _ := s.sweeps.Do(key, func() (any, error) {
		expired, err := s.b.sweep(context.WithoutCancel(ctx), pages)
		for _, r := range expired {
			s.observe(Observation{Op: OpExpire, ID: r.ID, Reservation: r})
		}
		return len(expired), err
	})
	return v.(int), err
}

// Close stops the background sweeper, if any. Calls after Close return
// ErrClosed. It does not close the Redis client, which the caller owns.
func (s *Store) Close() error {
	s.closed.Store(true)
	s.sweeper.stop()
	return nil
}

// lowStock reports an item whose available units fell from availableBefore,
// at or above its threshold, to below it.
func (s *Store) lowStock(availableBefore int64, after Level) {
	if !s.wantLows {
		return
	}
	th := s.opts.LowStockThreshold(after.SKU, after.Location)
	if th > 0 && availableBefore >= th && after.Available() < th {
		s.observe(Observation{Op: OpLowStock, Level: after})
	}
}

// start returns the time a call started, or the zero time when nobody
// observes (so the hot path reads no clock for nothing).
func (s *Store) start() time.Time {
	if s.opts.Observer == nil {
		return time.Time{}
	}
	return time.Now()
}

func (s *Store) since(start time.Time) time.Duration {
	if start.IsZero() {
		return 0
	}
	return time.Since(start)
}

func (s *Store) observe(e Observation) {
	if s.opts.Observer != nil {
		s.opts.Observer(e)
	}
}
