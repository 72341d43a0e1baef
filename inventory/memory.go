package inventory

import (
	"context"
	"errors"
	"hash/maphash"
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
	mu          sync.Mutex
	res         resTable
	adjs        map[string]*memAdjustment
	expiry      minHeap[slotEntry]       // held reservations by deadline; stale entries skipped
	retired     minHeap[slotEntry]       // finished reservations by forget time
	retiredAdjs minHeap[adjustmentEntry] // adjustment records by forget time
}

type cell struct {
	mu       sync.Mutex
	item     Item
	onHand   int64
	reserved int64
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
		m.shards[i].adjs = make(map[string]*memAdjustment)
	}
	m.sweeper = startSweeper(m.opts.SweepInterval, m.Sweep)
	return m
}

// shard returns the shard of id and id's hash, which also finds its
// reservation record there.
func (m *Memory) shard(id string) (*memShard, uint64) {
	h := maphash.String(m.seed, id)
	return &m.shards[h%memShards], h
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
		c = &cell{item: it}
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
	sh, _ := m.shard(id)
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
	m.forgetLocked(sh, now)
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
	sh.retiredAdjs.push(adjustmentEntry{at: rec.forgetTime, id: id})
	return lvl, before, nil
}

// Reserve implements Store.
func (m *Memory) Reserve(ctx context.Context, r Request) (Reservation, error) {
	lines, err := normalize(r)
	if err != nil {
		return Reservation{}, err
	}
	out, err := m.reserve(r.ID, lines, r.TTL)
	if !errors.Is(err, ErrInsufficientStock) || !m.hasDue() {
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
	sh, h := m.shard(id)
	sh.mu.Lock()
	now := m.now()
	slot, found, head := sh.res.find(h, id)
	if found {
		if !sameLines(sh.res.lines(slot), lines) {
			sh.mu.Unlock()
			return Reservation{}, ErrIDConflict
		}
		expired := m.expireIfDueLocked(sh, slot, now)
		out := sh.view(slot)
		sh.mu.Unlock()
		out.Replayed = true
		m.afterExpire(expired, out)
		return out, nil
	}

	rec := memReservation{state: Held, deadline: now + int64(ttl)}
	var one [1]memLine
	recLines := one[:]
	if len(lines) > 1 {
		recLines = make([]memLine, len(lines))
	}
	for i, l := range lines {
		c := m.item(Item{l.SKU, l.Location})
		if c == nil {
			unlockLines(recLines[:i])
			sh.mu.Unlock()
			return Reservation{}, &StockError{SKU: l.SKU, Location: l.Location, Requested: l.Quantity}
		}
		c.mu.Lock()
		recLines[i] = memLine{cell: c, qty: l.Quantity}
		if avail := c.onHand - c.reserved; avail < l.Quantity {
			unlockLines(recLines[:i+1])
			sh.mu.Unlock()
			return Reservation{}, &StockError{SKU: l.SKU, Location: l.Location, Requested: l.Quantity, Available: avail}
		}
	}
	var low []Level
	for _, l := range recLines {
		l.cell.reserved += l.qty
		if m.opts.Hooks.OnLowStock != nil {
			low = append(low, Level{SKU: l.cell.item.SKU, Location: l.cell.item.Location, OnHand: l.cell.onHand, Reserved: l.cell.reserved})
		}
	}
	unlockLines(recLines)
	slot = sh.res.add(h, id, head, rec, recLines)
	sh.expiry.push(slotEntry{at: rec.deadline, slot: slot, gen: sh.res.rec(slot).gen})
	sh.mu.Unlock()

	// lines is normalize's copy, the caller's to keep; the record holds
	// its own.
	out := Reservation{ID: id, Lines: lines, State: Held, Deadline: time.Unix(0, rec.deadline)}
	m.opts.notify(m.opts.Hooks.OnReserve, out)
	for i, l := range low {
		m.opts.lowStock(l.Available()+lines[i].Quantity, l)
	}
	return out, nil
}

// sameLines reports whether a record's lines are lines.
func sameLines(rec []memLine, lines []Line) bool {
	if len(rec) != len(lines) {
		return false
	}
	for i, l := range rec {
		if l.cell.item.SKU != lines[i].SKU || l.cell.item.Location != lines[i].Location || l.qty != lines[i].Quantity {
			return false
		}
	}
	return true
}

// unlockLines unlocks the cells of lines.
func unlockLines(lines []memLine) {
	for _, l := range lines {
		l.cell.mu.Unlock()
	}
}

// lockLines locks the cells of a stored reservation's lines, in line
// order (the order every caller locks in).
func lockLines(lines []memLine) {
	for _, l := range lines {
		l.cell.mu.Lock()
	}
}

// hasDue reports whether any held reservation is past its deadline.
func (m *Memory) hasDue() bool {
	now := m.now()
	for i := range m.shards {
		sh := &m.shards[i]
		sh.mu.Lock()
		due := sh.expiry.headDue(now)
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
	return m.transition(id, func(sh *memShard, slot uint32, now int64) (func(Reservation), error) {
		rec := sh.res.rec(slot)
		if rec.state != Held {
			return nil, &StateError{ID: id, Op: "extend", State: rec.state}
		}
		rec.deadline = now + int64(ttl)
		sh.expiry.push(slotEntry{at: rec.deadline, slot: slot, gen: rec.gen})
		return nil, nil
	})
}

// Commit implements Store.
func (m *Memory) Commit(ctx context.Context, id string) (Reservation, error) {
	if err := checkID("ID", id); err != nil {
		return Reservation{}, err
	}
	return m.transition(id, func(sh *memShard, slot uint32, now int64) (func(Reservation), error) {
		switch state := sh.res.rec(slot).state; state {
		case Committed:
			return nil, nil
		case Held:
		default:
			return nil, &StateError{ID: id, Op: "commit", State: state}
		}
		lines := sh.res.lines(slot)
		lockLines(lines)
		for _, l := range lines {
			l.cell.onHand -= l.qty
			l.cell.reserved -= l.qty
		}
		unlockLines(lines)
		m.finishLocked(sh, slot, Committed, now)
		return m.opts.Hooks.OnCommit, nil
	})
}

// Release implements Store.
func (m *Memory) Release(ctx context.Context, id string) (Reservation, error) {
	if err := checkID("ID", id); err != nil {
		return Reservation{}, err
	}
	return m.transition(id, func(sh *memShard, slot uint32, now int64) (func(Reservation), error) {
		switch state := sh.res.rec(slot).state; state {
		case Released, Expired:
			return nil, nil
		case Held:
		default:
			return nil, &StateError{ID: id, Op: "release", State: state}
		}
		returnStock(sh.res.lines(slot))
		m.finishLocked(sh, slot, Released, now)
		return m.opts.Hooks.OnRelease, nil
	})
}

// Reservation implements Store.
func (m *Memory) Reservation(ctx context.Context, id string) (Reservation, error) {
	if err := checkID("ID", id); err != nil {
		return Reservation{}, err
	}
	return m.transition(id, func(*memShard, uint32, int64) (func(Reservation), error) {
		return nil, nil
	})
}

// transition runs apply on reservation id under its shard's lock, after
// expiring it if it is due, and calls the returned hook (if any) after
// unlocking.
func (m *Memory) transition(id string, apply func(*memShard, uint32, int64) (func(Reservation), error)) (Reservation, error) {
	if m.closed.Load() {
		return Reservation{}, ErrClosed
	}
	sh, h := m.shard(id)
	sh.mu.Lock()
	now := m.now()
	m.forgetLocked(sh, now)
	slot, ok, _ := sh.res.find(h, id)
	if !ok {
		sh.mu.Unlock()
		return Reservation{}, ErrNotFound
	}
	expired := m.expireIfDueLocked(sh, slot, now)
	hook, err := apply(sh, slot, now)
	out := sh.view(slot)
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
		m.forgetLocked(sh, now)
		var expired []Reservation
		for sh.expiry.headDue(now) {
			e := sh.expiry.pop()
			// An entry is stale if its reservation finished, was
			// extended or was forgotten.
			if rec := sh.res.rec(e.slot); rec.gen != e.gen || rec.state != Held || rec.deadline != e.at {
				continue
			}
			m.expireLocked(sh, e.slot, now)
			expired = append(expired, sh.view(e.slot))
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

func (m *Memory) expireIfDueLocked(sh *memShard, slot uint32, now int64) bool {
	if rec := sh.res.rec(slot); rec.state != Held || rec.deadline > now {
		return false
	}
	m.expireLocked(sh, slot, now)
	return true
}

func (m *Memory) expireLocked(sh *memShard, slot uint32, now int64) {
	returnStock(sh.res.lines(slot))
	m.finishLocked(sh, slot, Expired, now)
}

// returnStock returns a held reservation's units to available.
func returnStock(lines []memLine) {
	lockLines(lines)
	for _, l := range lines {
		l.cell.reserved -= l.qty
	}
	unlockLines(lines)
}

// finishLocked moves a record to a final state and schedules it to be
// forgotten after the retention period.
func (m *Memory) finishLocked(sh *memShard, slot uint32, s State, now int64) {
	rec := sh.res.rec(slot)
	rec.state = s
	rec.forget = now + int64(m.opts.Retention)
	sh.retired.push(slotEntry{at: rec.forget, slot: slot, gen: rec.gen})
}

// forgetLocked drops finished reservation records and adjustment records
// whose retention has passed, so replay memory does not grow without bound.
func (m *Memory) forgetLocked(sh *memShard, now int64) {
	for sh.retired.headDue(now) {
		e := sh.retired.pop()
		if rec := sh.res.rec(e.slot); rec.gen == e.gen && rec.state != Held && rec.forget <= now {
			sh.res.remove(e.slot, maphash.String(m.seed, sh.res.id(e.slot)))
		}
	}
	for sh.retiredAdjs.headDue(now) {
		e := sh.retiredAdjs.pop()
		if a, ok := sh.adjs[e.id]; ok && a.forgetTime <= now {
			delete(sh.adjs, e.id)
		}
	}
}

func (m *Memory) afterExpire(expired bool, r Reservation) {
	if expired {
		m.opts.notify(m.opts.Hooks.OnExpire, r)
	}
}

// view returns the reservation in slot as the caller sees it.
func (sh *memShard) view(slot uint32) Reservation {
	rec := sh.res.rec(slot)
	lines := sh.res.lines(slot)
	out := Reservation{ID: sh.res.id(slot), Lines: make([]Line, len(lines)), State: rec.state, Deadline: time.Unix(0, rec.deadline)}
	for i, l := range lines {
		out.Lines[i] = Line{SKU: l.cell.item.SKU, Location: l.cell.item.Location, Quantity: l.qty}
	}
	return out
}
