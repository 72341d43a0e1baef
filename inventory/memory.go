package inventory

import (
	"context"
	"hash/maphash"
	"slices"
	"sync"
	"sync/atomic"
	"time"
)

var _ backend = (*memory)(nil)

// memory is the process-local backend. Time comes from Options.Now.
//
// Locking: reservation and adjustment records live in shards chosen by ID,
// each with its own mutex, and every stock item has its own mutex. An
// operation locks its record's shard, then the items it touches in line order
// (lines are sorted by SKU and location, so every caller locks items in the
// same global order and none can deadlock), and changes record and stock
// together. Concurrent reservations of different IDs therefore contend only
// on the items they share, and there only for a few instructions.
type memory struct {
	opts Options
	seed maphash.Seed
	// wantLevels: report levels after each new reservation, for the
	// low-stock check.
	wantLevels bool

	// items maps Item to *cell. A sync.Map reads without writing to any
	// shared memory, where an RWMutex's read lock is an atomic add on one
	// counter that every reservation of a hot item contends on; items are
	// added rarely (a first receipt) and never removed.
	items sync.Map

	shards [memShards]memShard
}

const memShards = 64

type memShard struct {
	mu          sync.Mutex
	res         resTable
	adjs        map[string]*memAdjustment
	expiry      dueQueue[slotEntry]       // held reservations by deadline; stale entries skipped
	retired     dueQueue[slotEntry]       // finished reservations by forget time
	retiredAdjs dueQueue[adjustmentEntry] // adjustment records by forget time
	// fulfils holds, by slot, the shipping progress of reservations
	// committed with Options.Shipping and not yet fully shipped or
	// returned; such a record is not retired until it is.
	fulfils map[uint32]*memFulfil
	// fulfilments are Ship and Return records by request ID, forgotten
	// after the retention period.
	fulfilments        map[string]*memFulfilment
	retiredFulfilments dueQueue[adjustmentEntry]
	incomingState
}

type cell struct {
	mu        sync.Mutex
	item      Item
	onHand    int64
	reserved  int64
	committed int64 // sold, not yet shipped (Options.Shipping)
	incoming  int64 // on open purchase orders
	// arrivals maps each open purchase order bringing units of the item
	// to its expected date (Unix nanoseconds).
	arrivals map[string]int64
	// policy allows backorders and pre-orders; nil sells on hand only.
	policy *Policy
	// waiting is units sold beyond on hand that wait for stock, queue
	// the reservations they belong to, oldest first.
	waiting int64
	queue   backorderQueue
	// hasBackorders is set with the first backorder and never cleared:
	// a reservation's view looks its waiting units up only on such items.
	hasBackorders atomic.Bool
}

// memFulfil is a committed reservation's shipping progress, per line.
type memFulfil struct {
	shipped, returned []int64
}

// memFulfilment is a Ship or Return record: the request, to tell a replay
// from a conflict, and its outcome.
type memFulfilment struct {
	ship       bool
	resID      string
	lines      []Line
	out        Fulfilment
	forgetTime int64
}

type memAdjustment struct {
	item       Item
	set        bool // a Count, not an Adjustment
	value      int64
	reason     Reason
	onHand     int64
	reserved   int64
	committed  int64
	waiting    int64
	forgetTime int64
}

// levelLocked returns the cell's level; the caller holds c.mu.
func (c *cell) levelLocked() Level {
	return Level{SKU: c.item.SKU, Location: c.item.Location, OnHand: c.onHand, Reserved: c.reserved, Committed: c.committed, Backordered: c.waiting}
}

// NewMemory returns an empty in-memory store. Time comes from opts.Now. If
// opts.SweepInterval is positive it starts a background sweeper; call Close
// to stop it.
//
// Locking: reservation and adjustment records live in shards chosen by ID,
// each with its own mutex, and every stock item has its own mutex. An
// operation locks its record's shard, then the items it touches in line
// order (lines are sorted by SKU and location, so every caller locks items
// in the same global order and none can deadlock), and changes record and
// stock together. Concurrent reservations of different IDs therefore contend
// only on the items they share, and there only for a few instructions.
func NewMemory(opts Options) *Store {
	opts = opts.withDefaults()
	m := &memory{opts: opts, seed: maphash.MakeSeed()}
	for i := range m.shards {
		m.shards[i].adjs = make(map[string]*memAdjustment)
		m.shards[i].fulfils = make(map[uint32]*memFulfil)
		m.shards[i].fulfilments = make(map[string]*memFulfilment)
		m.shards[i].orders = make(map[string]*memOrder)
		m.shards[i].arrivals = make(map[string]*memArrival)
	}
	m.wantLevels = opts.Observer != nil && opts.LowStockThreshold != nil
	return newStore(m, opts)
}

// shard returns the shard of id and id's hash, which also finds its
// reservation record there.
func (m *memory) shard(id string) (*memShard, uint64) {
	h := maphash.String(m.seed, id)
	return &m.shards[h%memShards], h
}

func (m *memory) now() int64 { return m.opts.Now().UnixNano() }

// item returns the cell of it, or nil if it was never stocked.
func (m *memory) item(it Item) *cell {
	if c, ok := m.items.Load(it); ok {
		return c.(*cell)
	}
	return nil
}

// itemOrNew returns the cell of it, creating it if needed.
func (m *memory) itemOrNew(it Item) *cell {
	if c := m.item(it); c != nil {
		return c
	}
	c, _ := m.items.LoadOrStore(it, &cell{item: it})
	return c.(*cell)
}

func (m *memory) adjust(_ context.Context, id string, it Item, set bool, value int64, reason Reason) (Level, int64, error) {
	sh, _ := m.shard(id)
	sh.mu.Lock()
	defer sh.mu.Unlock()
	return m.adjustLocked(sh, id, it, set, value, reason)
}

// adjustLocked applies an adjustment under its shard's lock and returns the
// level after it and on hand before it (-1 for a replay, which changed
// nothing).
func (m *memory) adjustLocked(sh *memShard, id string, it Item, set bool, value int64, reason Reason) (lvl Level, before int64, err error) {
	now := m.now()
	m.forgetLocked(sh, now)
	if prev, ok := sh.adjs[id]; ok {
		if prev.item != it || prev.set != set || prev.value != value || prev.reason != reason {
			return Level{}, -1, ErrIDConflict
		}
		return Level{SKU: it.SKU, Location: it.Location, OnHand: prev.onHand, Reserved: prev.reserved, Committed: prev.committed, Backordered: prev.waiting}, -1, nil
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
	if next < c.reserved+c.committed-c.waiting {
		e := &ReservedError{SKU: it.SKU, Location: it.Location, OnHand: next, Reserved: c.reserved, Committed: c.committed, Backordered: c.waiting}
		c.mu.Unlock()
		return Level{}, -1, e
	}
	before = c.onHand
	c.onHand = next
	c.allocate()
	lvl = c.levelLocked()
	c.mu.Unlock()
	rec := &memAdjustment{item: it, set: set, value: value, reason: reason,
		onHand: lvl.OnHand, reserved: lvl.Reserved, committed: lvl.Committed, waiting: lvl.Backordered, forgetTime: now + int64(m.opts.Retention)}
	sh.adjs[id] = rec
	sh.retiredAdjs.push(adjustmentEntry{at: rec.forgetTime, id: id})
	return lvl, before, nil
}

func (m *memory) reserve(_ context.Context, id string, lines []Line, ttl time.Duration) (reserved, error) {
	sh, h := m.shard(id)
	sh.mu.Lock()
	now := m.now()
	slot, found, head := sh.res.find(h, id)
	if found {
		if !sameLines(sh.res.lines(slot), lines) {
			sh.mu.Unlock()
			return reserved{}, ErrIDConflict
		}
		expired := m.expireIfDueLocked(sh, slot, now)
		out := sh.view(slot)
		sh.mu.Unlock()
		out.Replayed = true
		return reserved{out: out, expired: expired}, nil
	}

	rec := memReservation{state: Held, deadline: now + int64(ttl)}
	// A single line stays on the stack: only a multi-line record's
	// lines are stored as a slice, and passing one[:] to add would make
	// the compiler move one to the heap.
	var one [1]memLine
	var multi []memLine
	recLines := one[:]
	if len(lines) > 1 {
		multi = make([]memLine, len(lines))
		recLines = multi
	}
	var short []int64 // per line, units beyond on hand, when any line has some
	for i, l := range lines {
		c := m.item(Item{l.SKU, l.Location})
		if c == nil {
			unlockLines(recLines[:i])
			sh.mu.Unlock()
			return reserved{due: m.hasDue()}, &StockError{SKU: l.SKU, Location: l.Location, Requested: l.Quantity}
		}
		c.mu.Lock()
		recLines[i] = memLine{cell: c, qty: l.Quantity}
		if avail := c.onHand - c.reserved - c.committed + c.waiting; avail < l.Quantity {
			// The policy is read only here, on a shortage, so the
			// hot path does not pay for it.
			if at := time.Unix(0, now); !c.backorderable(l.Quantity-avail, at) {
				room := c.room(at)
				unlockLines(recLines[:i+1])
				sh.mu.Unlock()
				return reserved{due: m.hasDue()}, &StockError{SKU: l.SKU, Location: l.Location, Requested: l.Quantity, Available: avail + room}
			}
			if short == nil {
				short = make([]int64, len(lines))
			}
			short[i] = l.Quantity - avail
		}
	}
	var low []Level
	var backs []Line
	for i, l := range recLines {
		l.cell.reserved += l.qty
		if short != nil && short[i] > 0 {
			l.cell.addBackorder(id, short[i])
			backs = append(backs, Line{SKU: lines[i].SKU, Location: lines[i].Location, Quantity: short[i]})
		}
		if m.wantLevels {
			low = append(low, l.cell.levelLocked())
		}
	}
	unlockLines(recLines)
	if multi == nil {
		slot = sh.res.addOne(h, id, head, rec, one[0])
	} else {
		slot = sh.res.add(h, id, head, rec, multi)
	}
	sh.expiry.push(slotEntry{at: rec.deadline, slot: slot, gen: sh.res.rec(slot).gen})
	sh.mu.Unlock()

	// lines is normalize's copy, the caller's to keep; the record holds
	// its own.
	out := Reservation{ID: id, Lines: lines, State: Held, Deadline: time.Unix(0, rec.deadline), Backorders: backs}
	return reserved{out: out, levels: low}, nil
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
func (m *memory) hasDue() bool {
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

func (m *memory) transition(_ context.Context, op transitionOp, id string, ttl time.Duration) (transitioned, error) {
	sh, h := m.shard(id)
	sh.mu.Lock()
	defer sh.mu.Unlock()
	now := m.now()
	m.forgetLocked(sh, now)
	slot, ok, _ := sh.res.find(h, id)
	if !ok {
		return transitioned{}, ErrNotFound
	}
	t := transitioned{expired: m.expireIfDueLocked(sh, slot, now)}
	if rec := sh.res.rec(slot); rec.state == Held && op != opTouch {
		t.changed = true
		switch op {
		case opExtend:
			rec.deadline = now + int64(ttl)
			sh.expiry.push(slotEntry{at: rec.deadline, slot: slot, gen: rec.gen})
		case opCommit:
			lines := sh.res.lines(slot)
			lockLines(lines)
			for _, l := range lines {
				if m.opts.Shipping {
					l.cell.committed += l.qty
				} else {
					l.cell.onHand -= l.qty
				}
				l.cell.reserved -= l.qty
			}
			unlockLines(lines)
			if m.opts.Shipping {
				// Not retired: the record lives until every unit is
				// shipped or returned.
				rec.state = Committed
				sh.fulfils[slot] = &memFulfil{shipped: make([]int64, len(lines)), returned: make([]int64, len(lines))}
			} else {
				m.finishLocked(sh, slot, Committed, now)
			}
		case opRelease:
			returnStock(id, sh.res.lines(slot))
			m.finishLocked(sh, slot, Released, now)
		}
	}
	t.out = sh.view(slot)
	return t, nil
}

func (m *memory) levels(_ context.Context, items []Item) ([]Level, error) {
	out := make([]Level, len(items))
	for i, it := range items {
		out[i] = Level{SKU: it.SKU, Location: it.Location}
		if c := m.item(it); c != nil {
			c.mu.Lock()
			out[i] = c.levelLocked()
			out[i].Incoming, out[i].NextArrival = c.incoming, c.nextArrivalLocked()
			c.mu.Unlock()
		}
	}
	return out, nil
}

// sweep expires everything due; the memory backend is fast enough not to
// page.
func (m *memory) sweep(_ context.Context, _ int) ([]Reservation, error) {
	var all []Reservation
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
		all = append(all, expired...)
	}
	return all, nil
}

func (m *memory) expireIfDueLocked(sh *memShard, slot uint32, now int64) bool {
	if rec := sh.res.rec(slot); rec.state != Held || rec.deadline > now {
		return false
	}
	m.expireLocked(sh, slot, now)
	return true
}

func (m *memory) expireLocked(sh *memShard, slot uint32, now int64) {
	returnStock(sh.res.id(slot), sh.res.lines(slot))
	m.finishLocked(sh, slot, Expired, now)
}

// returnStock returns held reservation id's units to available: those
// that waited for stock leave the queue, and those on hand go to the
// oldest backorders first.
func returnStock(id string, lines []memLine) {
	lockLines(lines)
	for _, l := range lines {
		l.cell.reserved -= l.qty
		if l.cell.waiting > 0 {
			l.cell.unqueue(id, -1)
			l.cell.allocate()
		}
	}
	unlockLines(lines)
}

// finishLocked moves a record to a final state and schedules it to be
// forgotten after the retention period.
func (m *memory) finishLocked(sh *memShard, slot uint32, s State, now int64) {
	rec := sh.res.rec(slot)
	rec.state = s
	rec.forget = now + int64(m.opts.Retention)
	sh.retired.push(slotEntry{at: rec.forget, slot: slot, gen: rec.gen})
}

// forgetLocked drops finished reservation records and adjustment records
// whose retention has passed, so replay memory does not grow without bound.
func (m *memory) forgetLocked(sh *memShard, now int64) {
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
	for sh.retiredFulfilments.headDue(now) {
		e := sh.retiredFulfilments.pop()
		if f, ok := sh.fulfilments[e.id]; ok && f.forgetTime <= now {
			delete(sh.fulfilments, e.id)
		}
	}
	sh.forgetIncomingLocked(now)
}

// fulfil ships or returns units of committed reservation resID. The
// request's record lives in the shard of its own ID (so a reused ID is
// caught whichever reservation it names), the progress in the
// reservation's; both shards are locked, in shard order.
func (m *memory) fulfil(_ context.Context, ship bool, id, resID string, lines []Line) (Fulfilment, error) {
	h := maphash.String(m.seed, resID)
	rsh, ish, now, unlock := m.lockPair(h, maphash.String(m.seed, id))
	defer unlock()
	if prev, ok := ish.fulfilments[id]; ok {
		if prev.ship != ship || prev.resID != resID || !slices.Equal(prev.lines, lines) {
			return Fulfilment{}, ErrIDConflict
		}
		out := prev.out
		out.Lines = slices.Clone(out.Lines)
		out.Replayed = true
		return out, nil
	}
	slot, ok, _ := rsh.res.find(h, resID)
	if !ok {
		return Fulfilment{}, ErrNotFound
	}
	rec := rsh.res.rec(slot)
	if rec.state != Committed {
		return Fulfilment{}, &StateError{ID: resID, Op: fulfilOpName(ship), State: rec.state}
	}
	resLines := rsh.res.lines(slot)
	prog := rsh.fulfils[slot]
	at := make([]int, len(lines)) // each request line's reservation line
	lockLines(resLines)
	for i, l := range lines {
		at[i] = itemIndex(resLines, l)
		var left, waiting int64
		if at[i] >= 0 && prog != nil {
			left = resLines[at[i]].qty - prog.shipped[at[i]] - prog.returned[at[i]]
			waiting = resLines[at[i]].cell.waitingFor(resID)
		}
		// Units that wait for stock are not on hand to ship.
		if l.Quantity > left || ship && l.Quantity > left-waiting {
			unlockLines(resLines)
			return Fulfilment{}, &FulfilError{Reservation: resID, SKU: l.SKU, Location: l.Location, Requested: l.Quantity, Committed: left, Waiting: waiting}
		}
	}
	for i, l := range lines {
		c := resLines[at[i]].cell
		c.committed -= l.Quantity
		if ship {
			c.onHand -= l.Quantity
			prog.shipped[at[i]] += l.Quantity
		} else {
			// Units that wait go first: they free nothing on hand.
			c.unqueue(resID, l.Quantity)
			c.allocate()
			prog.returned[at[i]] += l.Quantity
		}
	}
	unlockLines(resLines)
	out := Fulfilment{Reservation: resID, Lines: make([]FulfilmentLine, len(resLines)), Complete: true}
	for j, l := range resLines {
		out.Lines[j] = FulfilmentLine{SKU: l.cell.item.SKU, Location: l.cell.item.Location, Quantity: l.qty, Shipped: prog.shipped[j], Returned: prog.returned[j]}
		out.Complete = out.Complete && out.Lines[j].Committed() == 0
	}
	if out.Complete {
		// Nothing left to ship: the record retires like any finished
		// reservation's, and a further Ship finds nothing committed.
		delete(rsh.fulfils, slot)
		m.finishLocked(rsh, slot, Committed, now)
	}
	f := &memFulfilment{ship: ship, resID: resID, lines: lines, out: out, forgetTime: now + int64(m.opts.Retention)}
	f.out.Lines = slices.Clone(out.Lines)
	ish.fulfilments[id] = f
	ish.retiredFulfilments.push(adjustmentEntry{at: f.forgetTime, id: id})
	return out, nil
}

func fulfilOpName(ship bool) string {
	if ship {
		return "ship"
	}
	return "return"
}

// view returns the reservation in slot as the caller sees it.
func (sh *memShard) view(slot uint32) Reservation {
	rec := sh.res.rec(slot)
	lines := sh.res.lines(slot)
	out := Reservation{ID: sh.res.id(slot), Lines: make([]Line, len(lines)), State: rec.state, Deadline: time.Unix(0, rec.deadline)}
	for i, l := range lines {
		out.Lines[i] = Line{SKU: l.cell.item.SKU, Location: l.cell.item.Location, Quantity: l.qty}
	}
	out.Backorders = backorders(out.ID, lines)
	return out
}
