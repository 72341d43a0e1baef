package inventory

import (
	"context"
	"hash/maphash"
	"slices"
	"sync"
	"sync/atomic"
	"time"
)

var _ Store = (*Memory)(nil)

// Memory is a process-local Store. Time comes from Options.Now.
//
// Locking: reservation and adjustment records live in shards chosen by ID,
// each with its own mutex, and every stock item has its own mutex. An
// operation locks its record's shard, then the items it touches in line order
// (lines are sorted by SKU and location, so every caller locks items in the
// same global order and none can deadlock), and changes record and stock
// together. Concurrent reservations of different IDs therefore contend only
// on the items they share, and there only for a few instructions.
type Memory struct {
	opts   Options
	closed atomic.Bool
	seed   maphash.Seed

	itemsMu sync.RWMutex
	items   map[Item]*cell

	shards [memShards]memShard

	sweeper *sweeper
}

const memShards = 64

type memShard struct {
	mu      sync.Mutex
	res     map[string]*memReservation
	adjs    map[string]*memAdjustment
	expiry  deadlineHeap // held reservations by deadline; stale entries skipped
	retired deadlineHeap // finished records and adjustments by forget time
}

type cell struct {
	mu       sync.Mutex
	onHand   int64
	reserved int64
}

// Times are Unix nanoseconds: records stay small and pointer-light, which
// matters to the garbage collector when millions are held.
type memReservation struct {
	lines    []Line
	deadline int64
	forget   int64 // when a finished record may be dropped
	state    State
}

type memAdjustment struct {
	item       Item
	set        bool // a Count, not an Adjustment
	value      int64
	reason     Reason
	onHand     int64
	reserved   int64
	forgetTime int64
}

// NewMemory returns an empty in-memory store. If opts.SweepInterval is
// positive it starts a background sweeper; call Close to stop it.
func NewMemory(opts Options) *Memory {
	m := &Memory{opts: opts.withDefaults(), seed: maphash.MakeSeed(), items: make(map[Item]*cell)}
	for i := range m.shards {
		m.shards[i].res = make(map[string]*memReservation)
		m.shards[i].adjs = make(map[string]*memAdjustment)
	}
	m.sweeper = startSweeper(m.opts.SweepInterval, m.Sweep)
	return m
}

func (m *Memory) shard(id string) *memShard {
	return &m.shards[maphash.String(m.seed, id)%memShards]
}

func (m *Memory) now() int64 { return m.opts.Now().UnixNano() }

// item returns the cell of it, or nil if it was never stocked.
func (m *Memory) item(it Item) *cell {
	m.itemsMu.RLock()
	c := m.items[it]
	m.itemsMu.RUnlock()
	return c
}

// itemOrNew returns the cell of it, creating it if needed.
func (m *Memory) itemOrNew(it Item) *cell {
	if c := m.item(it); c != nil {
		return c
	}
	m.itemsMu.Lock()
	defer m.itemsMu.Unlock()
	c := m.items[it]
	if c == nil {
		c = &cell{}
		m.items[it] = c
	}
	return c
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
	if m.closed.Load() {
		return Level{}, ErrClosed
	}
	sh := m.shard(id)
	sh.mu.Lock()
	lvl, before, err := m.adjustLocked(sh, id, it, set, value, reason)
	sh.mu.Unlock()
	if err == nil && before >= 0 {
		m.opts.lowStock(before-lvl.Reserved, lvl)
	}
	return lvl, err
}

// adjustLocked applies an adjustment under its shard's lock and returns the
// level after it and on hand before it (-1 for a replay, which changed
// nothing).
func (m *Memory) adjustLocked(sh *memShard, id string, it Item, set bool, value int64, reason Reason) (lvl Level, before int64, err error) {
	now := m.now()
	sh.forgetLocked(now)
	if prev, ok := sh.adjs[id]; ok {
		if prev.item != it || prev.set != set || prev.value != value || prev.reason != reason {
			return Level{}, -1, ErrIDConflict
		}
		return Level{SKU: it.SKU, Location: it.Location, OnHand: prev.onHand, Reserved: prev.reserved}, -1, nil
	}
	c := m.itemOrNew(it)
	c.mu.Lock()
	next := value
	if !set {
		next = c.onHand + value
	}
	if next > MaxQuantity {
		c.mu.Unlock()
		return Level{}, -1, &InputError{Field: "Delta", Rule: "would take on hand above 2^53-1"}
	}
	if next < c.reserved {
		reserved := c.reserved
		c.mu.Unlock()
		return Level{}, -1, &ReservedError{SKU: it.SKU, Location: it.Location, OnHand: next, Reserved: reserved}
	}
	before = c.onHand
	c.onHand = next
	lvl = Level{SKU: it.SKU, Location: it.Location, OnHand: c.onHand, Reserved: c.reserved}
	c.mu.Unlock()
	rec := &memAdjustment{item: it, set: set, value: value, reason: reason,
		onHand: lvl.OnHand, reserved: lvl.Reserved, forgetTime: now + int64(m.opts.Retention)}
	sh.adjs[id] = rec
	sh.retired.push(deadlineEntry{at: rec.forgetTime, id: id, adjustment: true})
	return lvl, before, nil
}

// Reserve implements Store.
func (m *Memory) Reserve(ctx context.Context, r Request) (Reservation, error) {
	lines, err := normalize(r)
	if err != nil {
		return Reservation{}, err
	}
	out, err := m.reserve(r.ID, lines, r.TTL)
	if err == nil || !m.hasDue() {
		return out, err
	}
	// The shortage may be stock still held by reservations that are past
	// their deadline but not yet swept: expire them and try once more.
	if _, err := m.Sweep(ctx); err != nil {
		return Reservation{}, err
	}
	return m.reserve(r.ID, lines, r.TTL)
}

func (m *Memory) reserve(id string, lines []Line, ttl time.Duration) (Reservation, error) {
	if m.closed.Load() {
		return Reservation{}, ErrClosed
	}
	sh := m.shard(id)
	sh.mu.Lock()
	now := m.now()
	if prev, ok := sh.res[id]; ok {
		if !equalLines(prev.lines, lines) {
			sh.mu.Unlock()
			return Reservation{}, ErrIDConflict
		}
		expired := m.expireIfDueLocked(sh, id, prev, now)
		out := prev.view(id)
		sh.mu.Unlock()
		out.Replayed = true
		m.afterExpire(expired, out)
		return out, nil
	}

	var one [1]*cell
	cells := one[:0]
	if len(lines) > 1 {
		cells = make([]*cell, 0, len(lines))
	}
	for i, l := range lines {
		c := m.item(Item{l.SKU, l.Location})
		if c == nil {
			unlockCells(cells)
			sh.mu.Unlock()
			return Reservation{}, &StockError{SKU: l.SKU, Location: l.Location, Requested: l.Quantity}
		}
		c.mu.Lock()
		cells = append(cells, c)
		if avail := c.onHand - c.reserved; avail < l.Quantity {
			unlockCells(cells)
			sh.mu.Unlock()
			return Reservation{}, &StockError{SKU: lines[i].SKU, Location: l.Location, Requested: l.Quantity, Available: avail}
		}
	}
	var low []Level
	for i, l := range lines {
		c := cells[i]
		c.reserved += l.Quantity
		if m.opts.Hooks.OnLowStock != nil {
			low = append(low, Level{SKU: l.SKU, Location: l.Location, OnHand: c.onHand, Reserved: c.reserved})
		}
	}
	unlockCells(cells)
	rec := &memReservation{lines: lines, state: Held, deadline: now + int64(ttl)}
	sh.res[id] = rec
	sh.expiry.push(deadlineEntry{at: rec.deadline, id: id})
	out := rec.view(id) // the record keeps lines; the caller gets a copy
	sh.mu.Unlock()

	m.opts.notify(m.opts.Hooks.OnReserve, out)
	for i, l := range low {
		m.opts.lowStock(l.Available()+lines[i].Quantity, l)
	}
	return out, nil
}

func unlockCells(cells []*cell) {
	for _, c := range cells {
		c.mu.Unlock()
	}
}

// lockLines locks the cells of lines in line order and returns them. Lines
// of a stored reservation were all stocked when it was made, so every cell
// exists.
func (m *Memory) lockLines(lines []Line) []*cell {
	cells := make([]*cell, len(lines))
	for i, l := range lines {
		cells[i] = m.item(Item{l.SKU, l.Location})
		cells[i].mu.Lock()
	}
	return cells
}

// hasDue reports whether any held reservation is past its deadline.
func (m *Memory) hasDue() bool {
	now := m.now()
	for i := range m.shards {
		sh := &m.shards[i]
		sh.mu.Lock()
		due := len(sh.expiry) > 0 && sh.expiry[0].at <= now
		sh.mu.Unlock()
		if due {
			return true
		}
	}
	return false
}

// Extend implements Store.
func (m *Memory) Extend(ctx context.Context, id string, ttl time.Duration) (Reservation, error) {
	if err := checkID("ID", id); err != nil {
		return Reservation{}, err
	}
	if err := checkTTL(ttl); err != nil {
		return Reservation{}, err
	}
	return m.transition(id, func(sh *memShard, rec *memReservation, now int64) (func(Reservation), error) {
		if rec.state != Held {
			return nil, &StateError{ID: id, Op: "extend", State: rec.state}
		}
		rec.deadline = now + int64(ttl)
		sh.expiry.push(deadlineEntry{at: rec.deadline, id: id})
		return nil, nil
	})
}

// Commit implements Store.
func (m *Memory) Commit(ctx context.Context, id string) (Reservation, error) {
	if err := checkID("ID", id); err != nil {
		return Reservation{}, err
	}
	return m.transition(id, func(sh *memShard, rec *memReservation, now int64) (func(Reservation), error) {
		switch rec.state {
		case Committed:
			return nil, nil
		case Held:
		default:
			return nil, &StateError{ID: id, Op: "commit", State: rec.state}
		}
		cells := m.lockLines(rec.lines)
		for i, l := range rec.lines {
			cells[i].onHand -= l.Quantity
			cells[i].reserved -= l.Quantity
		}
		unlockCells(cells)
		m.finishLocked(sh, id, rec, Committed, now)
		return m.opts.Hooks.OnCommit, nil
	})
}

// Release implements Store.
func (m *Memory) Release(ctx context.Context, id string) (Reservation, error) {
	if err := checkID("ID", id); err != nil {
		return Reservation{}, err
	}
	return m.transition(id, func(sh *memShard, rec *memReservation, now int64) (func(Reservation), error) {
		switch rec.state {
		case Released, Expired:
			return nil, nil
		case Held:
		default:
			return nil, &StateError{ID: id, Op: "release", State: rec.state}
		}
		m.returnStock(rec)
		m.finishLocked(sh, id, rec, Released, now)
		return m.opts.Hooks.OnRelease, nil
	})
}

// Reservation implements Store.
func (m *Memory) Reservation(ctx context.Context, id string) (Reservation, error) {
	if err := checkID("ID", id); err != nil {
		return Reservation{}, err
	}
	return m.transition(id, func(*memShard, *memReservation, int64) (func(Reservation), error) {
		return nil, nil
	})
}

// transition runs apply on reservation id under its shard's lock, after
// expiring it if it is due, and calls the returned hook (if any) after
// unlocking.
func (m *Memory) transition(id string, apply func(*memShard, *memReservation, int64) (func(Reservation), error)) (Reservation, error) {
	if m.closed.Load() {
		return Reservation{}, ErrClosed
	}
	sh := m.shard(id)
	sh.mu.Lock()
	now := m.now()
	sh.forgetLocked(now)
	rec, ok := sh.res[id]
	if !ok {
		sh.mu.Unlock()
		return Reservation{}, ErrNotFound
	}
	expired := m.expireIfDueLocked(sh, id, rec, now)
	hook, err := apply(sh, rec, now)
	out := rec.view(id)
	sh.mu.Unlock()
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
	if m.closed.Load() {
		return nil, ErrClosed
	}
	out := make([]Level, len(items))
	for i, it := range items {
		out[i] = Level{SKU: it.SKU, Location: it.Location}
		if c := m.item(it); c != nil {
			c.mu.Lock()
			out[i].OnHand, out[i].Reserved = c.onHand, c.reserved
			c.mu.Unlock()
		}
	}
	return out, nil
}

// Sweep implements Store.
func (m *Memory) Sweep(ctx context.Context) (int, error) {
	if m.closed.Load() {
		return 0, ErrClosed
	}
	n := 0
	for i := range m.shards {
		sh := &m.shards[i]
		sh.mu.Lock()
		now := m.now()
		sh.forgetLocked(now)
		var expired []Reservation
		for len(sh.expiry) > 0 && sh.expiry[0].at <= now {
			e := sh.expiry.pop()
			rec, ok := sh.res[e.id]
			// An entry is stale if its reservation finished or was extended.
			if !ok || rec.state != Held || rec.deadline != e.at {
				continue
			}
			m.expireLocked(sh, e.id, rec, now)
			expired = append(expired, rec.view(e.id))
		}
		sh.mu.Unlock()
		for _, r := range expired {
			m.opts.notify(m.opts.Hooks.OnExpire, r)
		}
		n += len(expired)
	}
	return n, nil
}

// Close implements Store.
func (m *Memory) Close() error {
	m.closed.Store(true)
	m.sweeper.stop()
	return nil
}

func (m *Memory) expireIfDueLocked(sh *memShard, id string, rec *memReservation, now int64) bool {
	if rec.state != Held || rec.deadline > now {
		return false
	}
	m.expireLocked(sh, id, rec, now)
	return true
}

func (m *Memory) expireLocked(sh *memShard, id string, rec *memReservation, now int64) {
	m.returnStock(rec)
	m.finishLocked(sh, id, rec, Expired, now)
}

func (m *Memory) returnStock(rec *memReservation) {
	cells := m.lockLines(rec.lines)
	for i, l := range rec.lines {
		cells[i].reserved -= l.Quantity
	}
	unlockCells(cells)
}

// finishLocked moves rec to a final state and schedules its record to be
// forgotten after the retention period.
func (m *Memory) finishLocked(sh *memShard, id string, rec *memReservation, s State, now int64) {
	rec.state = s
	rec.forget = now + int64(m.opts.Retention)
	sh.retired.push(deadlineEntry{at: rec.forget, id: id})
}

// forgetLocked drops finished reservation records and adjustment records
// whose retention has passed, so replay memory does not grow without bound.
func (sh *memShard) forgetLocked(now int64) {
	for len(sh.retired) > 0 && sh.retired[0].at <= now {
		e := sh.retired.pop()
		if e.adjustment {
			if a, ok := sh.adjs[e.id]; ok && a.forgetTime <= now {
				delete(sh.adjs, e.id)
			}
			continue
		}
		if rec, ok := sh.res[e.id]; ok && rec.state != Held && rec.forget <= now {
			delete(sh.res, e.id)
		}
	}
}

func (m *Memory) afterExpire(expired bool, r Reservation) {
	if expired {
		m.opts.notify(m.opts.Hooks.OnExpire, r)
	}
}

func (r *memReservation) view(id string) Reservation {
	return Reservation{ID: id, Lines: slices.Clone(r.lines), State: r.state, Deadline: time.Unix(0, r.deadline)}
}

type deadlineEntry struct {
	at         int64 // Unix nanoseconds
	id         string
	adjustment bool // an adjustment record, not a reservation
}

// deadlineHeap is a binary min-heap on at. It is written out rather than
// built on container/heap to avoid boxing every entry in an interface.
type deadlineHeap []deadlineEntry

func (h *deadlineHeap) push(e deadlineEntry) {
	*h = append(*h, e)
	a := *h
	for i := len(a) - 1; i > 0; {
		p := (i - 1) / 2
		if a[p].at <= a[i].at {
			break
		}
		a[p], a[i] = a[i], a[p]
		i = p
	}
}

func (h *deadlineHeap) pop() deadlineEntry {
	a := *h
	top := a[0]
	last := len(a) - 1
	a[0] = a[last]
	a[last] = deadlineEntry{}
	a = a[:last]
	for i := 0; ; {
		l, r, m := 2*i+1, 2*i+2, i
		if l < len(a) && a[l].at < a[m].at {
			m = l
		}
		if r < len(a) && a[r].at < a[m].at {
			m = r
		}
		if m == i {
			break
		}
		a[i], a[m] = a[m], a[i]
		i = m
	}
	*h = a
	return top
}
