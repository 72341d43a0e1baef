package inventory

import (
	"container/heap"
	"context"
	"slices"
	"sync"
	"time"
)

var _ Store = (*Memory)(nil)

// Memory is a process-local Store. One mutex guards all of its state, which
// makes multi-line reservations atomic without lock ordering; every call holds
// it for a few map operations. Time comes from Options.Now.
type Memory struct {
	opts Options

	mu      sync.Mutex
	closed  bool
	cells   map[Item]*cell
	res     map[string]*memReservation
	adjs    map[string]*memAdjustment
	expiry  deadlineHeap // held reservations by deadline; stale entries skipped
	retired deadlineHeap // finished records and adjustments by forget time

	sweeper *sweeper
}

type cell struct{ onHand, reserved int64 }

type memReservation struct {
	lines    []Line
	state    State
	deadline time.Time
	forget   time.Time // when a finished record may be dropped
}

type memAdjustment struct {
	item       Item
	set        bool // a Count, not an Adjustment
	value      int64
	reason     Reason
	onHand     int64
	reserved   int64
	forgetTime time.Time
}

// NewMemory returns an empty in-memory store. If opts.SweepInterval is
// positive it starts a background sweeper; call Close to stop it.
func NewMemory(opts Options) *Memory {
	m := &Memory{
		opts:  opts.withDefaults(),
		cells: make(map[Item]*cell),
		res:   make(map[string]*memReservation),
		adjs:  make(map[string]*memAdjustment),
	}
	m.sweeper = startSweeper(m.opts.SweepInterval, m.Sweep)
	return m
}

// Adjust implements Store.
func (m *Memory) Adjust(ctx context.Context, a Adjustment) (Level, error) {
	if err := checkAdjustment(a); err != nil {
		return Level{}, err
	}
	return m.adjust(a.ID, Item{a.SKU, a.Location}, false, a.Delta, a.Reason)
}

// SetOnHand implements Store.
func (m *Memory) SetOnHand(ctx context.Context, c Count) (Level, error) {
	if err := checkCount(c); err != nil {
		return Level{}, err
	}
	return m.adjust(c.ID, Item{c.SKU, c.Location}, true, c.OnHand, c.Reason)
}

func (m *Memory) adjust(id string, it Item, set bool, value int64, reason Reason) (Level, error) {
	m.mu.Lock()
	if m.closed {
		m.mu.Unlock()
		return Level{}, ErrClosed
	}
	now := m.opts.Now()
	m.forgetLocked(now)
	if prev, ok := m.adjs[id]; ok {
		m.mu.Unlock()
		if prev.item != it || prev.set != set || prev.value != value || prev.reason != reason {
			return Level{}, ErrIDConflict
		}
		return Level{SKU: it.SKU, Location: it.Location, OnHand: prev.onHand, Reserved: prev.reserved}, nil
	}
	c := m.cells[it]
	if c == nil {
		c = &cell{}
	}
	next := value
	if !set {
		next = c.onHand + value
	}
	if next > MaxQuantity {
		m.mu.Unlock()
		return Level{}, &InputError{Field: "Delta", Rule: "would take on hand above 2^53-1"}
	}
	if next < c.reserved {
		m.mu.Unlock()
		return Level{}, &ReservedError{SKU: it.SKU, Location: it.Location, OnHand: next, Reserved: c.reserved}
	}
	before := c.onHand
	c.onHand = next
	m.cells[it] = c
	rec := &memAdjustment{item: it, set: set, value: value, reason: reason,
		onHand: c.onHand, reserved: c.reserved, forgetTime: now.Add(m.opts.Retention)}
	m.adjs[id] = rec
	heap.Push(&m.retired, deadlineEntry{at: rec.forgetTime, id: id, adjustment: true})
	lvl := Level{SKU: it.SKU, Location: it.Location, OnHand: c.onHand, Reserved: c.reserved}
	m.mu.Unlock()
	m.opts.lowStock(before-lvl.Reserved, lvl)
	return lvl, nil
}

// Reserve implements Store.
func (m *Memory) Reserve(ctx context.Context, r Request) (Reservation, error) {
	lines, err := normalize(r)
	if err != nil {
		return Reservation{}, err
	}
	m.mu.Lock()
	if m.closed {
		m.mu.Unlock()
		return Reservation{}, ErrClosed
	}
	now := m.opts.Now()
	if prev, ok := m.res[r.ID]; ok {
		if !equalLines(prev.lines, lines) {
			m.mu.Unlock()
			return Reservation{}, ErrIDConflict
		}
		expired := m.expireIfDueLocked(r.ID, prev, now)
		out := prev.view(r.ID)
		m.mu.Unlock()
		out.Replayed = true
		m.afterExpire(expired, out)
		return out, nil
	}
	// Holds that are due but not yet swept still count as reserved; return
	// them first so a shortage is real.
	expired := m.sweepDueLocked(now)
	for _, l := range lines {
		c := m.cells[Item{l.SKU, l.Location}]
		var avail int64
		if c != nil {
			avail = c.onHand - c.reserved
		}
		if avail < l.Quantity {
			m.mu.Unlock()
			m.afterSweep(expired)
			return Reservation{}, &StockError{SKU: l.SKU, Location: l.Location, Requested: l.Quantity, Available: avail}
		}
	}
	var low []Level
	for _, l := range lines {
		c := m.cells[Item{l.SKU, l.Location}]
		c.reserved += l.Quantity
		if m.opts.Hooks.OnLowStock != nil {
			low = append(low, Level{SKU: l.SKU, Location: l.Location, OnHand: c.onHand, Reserved: c.reserved})
		}
	}
	rec := &memReservation{lines: lines, state: Held, deadline: now.Add(r.TTL)}
	m.res[r.ID] = rec
	heap.Push(&m.expiry, deadlineEntry{at: rec.deadline, id: r.ID})
	out := rec.view(r.ID)
	m.mu.Unlock()

	m.afterSweep(expired)
	m.opts.notify(m.opts.Hooks.OnReserve, out)
	for i, l := range low {
		m.opts.lowStock(l.Available()+lines[i].Quantity, l)
	}
	return out, nil
}

// Extend implements Store.
func (m *Memory) Extend(ctx context.Context, id string, ttl time.Duration) (Reservation, error) {
	if err := checkID("ID", id); err != nil {
		return Reservation{}, err
	}
	if err := checkTTL(ttl); err != nil {
		return Reservation{}, err
	}
	return m.transition(id, "extend", func(rec *memReservation, now time.Time) (func(Reservation), error) {
		if rec.state != Held {
			return nil, &StateError{ID: id, Op: "extend", State: rec.state}
		}
		rec.deadline = now.Add(ttl)
		heap.Push(&m.expiry, deadlineEntry{at: rec.deadline, id: id})
		return nil, nil
	})
}

// Commit implements Store.
func (m *Memory) Commit(ctx context.Context, id string) (Reservation, error) {
	if err := checkID("ID", id); err != nil {
		return Reservation{}, err
	}
	return m.transition(id, "commit", func(rec *memReservation, now time.Time) (func(Reservation), error) {
		switch rec.state {
		case Committed:
			return nil, nil
		case Held:
		default:
			return nil, &StateError{ID: id, Op: "commit", State: rec.state}
		}
		for _, l := range rec.lines {
			c := m.cells[Item{l.SKU, l.Location}]
			c.onHand -= l.Quantity
			c.reserved -= l.Quantity
		}
		m.finishLocked(id, rec, Committed, now)
		return m.opts.Hooks.OnCommit, nil
	})
}

// Release implements Store.
func (m *Memory) Release(ctx context.Context, id string) (Reservation, error) {
	if err := checkID("ID", id); err != nil {
		return Reservation{}, err
	}
	return m.transition(id, "release", func(rec *memReservation, now time.Time) (func(Reservation), error) {
		switch rec.state {
		case Released, Expired:
			return nil, nil
		case Held:
		default:
			return nil, &StateError{ID: id, Op: "release", State: rec.state}
		}
		m.returnStockLocked(rec)
		m.finishLocked(id, rec, Released, now)
		return m.opts.Hooks.OnRelease, nil
	})
}

// Reservation implements Store.
func (m *Memory) Reservation(ctx context.Context, id string) (Reservation, error) {
	if err := checkID("ID", id); err != nil {
		return Reservation{}, err
	}
	return m.transition(id, "read", func(*memReservation, time.Time) (func(Reservation), error) {
		return nil, nil
	})
}

// transition runs apply on reservation id under the lock, after expiring it
// if it is due, and calls the returned hook (if any) after unlocking.
func (m *Memory) transition(id, op string, apply func(*memReservation, time.Time) (func(Reservation), error)) (Reservation, error) {
	m.mu.Lock()
	if m.closed {
		m.mu.Unlock()
		return Reservation{}, ErrClosed
	}
	now := m.opts.Now()
	m.forgetLocked(now)
	rec, ok := m.res[id]
	if !ok {
		m.mu.Unlock()
		return Reservation{}, ErrNotFound
	}
	expired := m.expireIfDueLocked(id, rec, now)
	hook, err := apply(rec, now)
	out := rec.view(id)
	m.mu.Unlock()
	m.afterExpire(expired, out)
	if err != nil {
		return Reservation{}, err
	}
	m.opts.notify(hook, out)
	return out, nil
}

// Levels implements Store.
func (m *Memory) Levels(ctx context.Context, items ...Item) ([]Level, error) {
	if err := checkItems(items); err != nil {
		return nil, err
	}
	out := make([]Level, len(items))
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.closed {
		return nil, ErrClosed
	}
	for i, it := range items {
		out[i] = Level{SKU: it.SKU, Location: it.Location}
		if c := m.cells[it]; c != nil {
			out[i].OnHand, out[i].Reserved = c.onHand, c.reserved
		}
	}
	return out, nil
}

// Sweep implements Store.
func (m *Memory) Sweep(ctx context.Context) (int, error) {
	m.mu.Lock()
	if m.closed {
		m.mu.Unlock()
		return 0, ErrClosed
	}
	now := m.opts.Now()
	m.forgetLocked(now)
	expired := m.sweepDueLocked(now)
	m.mu.Unlock()
	m.afterSweep(expired)
	return len(expired), nil
}

// Close implements Store.
func (m *Memory) Close() error {
	m.mu.Lock()
	m.closed = true
	m.mu.Unlock()
	m.sweeper.stop()
	return nil
}

// sweepDueLocked expires every held reservation whose deadline has passed and
// returns them for the hooks.
func (m *Memory) sweepDueLocked(now time.Time) []Reservation {
	var expired []Reservation
	for len(m.expiry) > 0 && !m.expiry[0].at.After(now) {
		e := heap.Pop(&m.expiry).(deadlineEntry)
		rec, ok := m.res[e.id]
		// An entry is stale if its reservation finished or was extended.
		if !ok || rec.state != Held || !rec.deadline.Equal(e.at) {
			continue
		}
		m.expireLocked(e.id, rec, now)
		expired = append(expired, rec.view(e.id))
	}
	return expired
}

func (m *Memory) expireIfDueLocked(id string, rec *memReservation, now time.Time) bool {
	if rec.state != Held || rec.deadline.After(now) {
		return false
	}
	m.expireLocked(id, rec, now)
	return true
}

func (m *Memory) expireLocked(id string, rec *memReservation, now time.Time) {
	m.returnStockLocked(rec)
	m.finishLocked(id, rec, Expired, now)
}

func (m *Memory) returnStockLocked(rec *memReservation) {
	for _, l := range rec.lines {
		m.cells[Item{l.SKU, l.Location}].reserved -= l.Quantity
	}
}

// finishLocked moves rec to a final state and schedules its record to be
// forgotten after the retention period.
func (m *Memory) finishLocked(id string, rec *memReservation, s State, now time.Time) {
	rec.state = s
	rec.forget = now.Add(m.opts.Retention)
	heap.Push(&m.retired, deadlineEntry{at: rec.forget, id: id})
}

// forgetLocked drops finished reservation records and adjustment records
// whose retention has passed, so replay memory does not grow without bound.
func (m *Memory) forgetLocked(now time.Time) {
	for len(m.retired) > 0 && !m.retired[0].at.After(now) {
		e := heap.Pop(&m.retired).(deadlineEntry)
		if e.adjustment {
			if a, ok := m.adjs[e.id]; ok && !a.forgetTime.After(now) {
				delete(m.adjs, e.id)
			}
			continue
		}
		if rec, ok := m.res[e.id]; ok && rec.state != Held && !rec.forget.After(now) {
			delete(m.res, e.id)
		}
	}
}

func (m *Memory) afterExpire(expired bool, r Reservation) {
	if expired {
		m.opts.notify(m.opts.Hooks.OnExpire, r)
	}
}

func (m *Memory) afterSweep(expired []Reservation) {
	for _, r := range expired {
		m.opts.notify(m.opts.Hooks.OnExpire, r)
	}
}

func (r *memReservation) view(id string) Reservation {
	return Reservation{ID: id, Lines: slices.Clone(r.lines), State: r.state, Deadline: r.deadline}
}

type deadlineEntry struct {
	at         time.Time
	id         string
	adjustment bool
}

type deadlineHeap []deadlineEntry

func (h deadlineHeap) Len() int           { return len(h) }
func (h deadlineHeap) Less(i, j int) bool { return h[i].at.Before(h[j].at) }
func (h deadlineHeap) Swap(i, j int)      { h[i], h[j] = h[j], h[i] }
func (h *deadlineHeap) Push(x any)        { *h = append(*h, x.(deadlineEntry)) }
func (h *deadlineHeap) Pop() any {
	old := *h
	e := old[len(old)-1]
	*h = old[:len(old)-1]
	return e
}
