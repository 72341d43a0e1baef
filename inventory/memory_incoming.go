package inventory

import (
	"context"
	"hash/maphash"
	"slices"
	"strconv"
	"time"
)

// memOrder is a purchase order: its lines, and how much of each arrived
// or was cancelled.
type memOrder struct {
	at                  int64 // expected, Unix nanoseconds
	lines               []memLine
	received, cancelled []int64
	forgetTime          int64 // 0 while some unit is open
}

// memArrival is a Receive or CancelIncoming record: the request, to tell a
// replay from a conflict, and its outcome.
type memArrival struct {
	receive    bool
	poID       string
	lines      []Line
	out        Incoming
	forgetTime int64
}

// incomingState is the memory backend's purchase-order state, one per
// shard: orders by ID and arrival records by request ID.
type incomingState struct {
	orders         map[string]*memOrder
	arrivals       map[string]*memArrival
	retiredOrders  dueQueue[adjustmentEntry]
	retiredArrival dueQueue[adjustmentEntry]
}

// forgetIncomingLocked drops complete orders and arrival records whose
// retention has passed.
func (sh *memShard) forgetIncomingLocked(now int64) {
	for sh.retiredOrders.headDue(now) {
		e := sh.retiredOrders.pop()
		if o, ok := sh.orders[e.id]; ok && o.forgetTime != 0 && o.forgetTime <= now {
			delete(sh.orders, e.id)
		}
	}
	for sh.retiredArrival.headDue(now) {
		e := sh.retiredArrival.pop()
		if a, ok := sh.arrivals[e.id]; ok && a.forgetTime <= now {
			delete(sh.arrivals, e.id)
		}
	}
}

func (m *memory) expect(_ context.Context, id string, at time.Time, lines []Line) (Incoming, error) {
	sh, _ := m.shard(id)
	sh.mu.Lock()
	defer sh.mu.Unlock()
	now := m.now()
	m.forgetLocked(sh, now)
	if o, ok := sh.orders[id]; ok {
		if o.at != at.UnixMilli()*1e6 || !sameLines(o.lines, lines) {
			return Incoming{}, ErrIDConflict
		}
		out := o.view(id)
		out.Replayed = true
		return out, nil
	}
	o := &memOrder{at: at.UnixMilli() * 1e6, lines: make([]memLine, len(lines)),
		received: make([]int64, len(lines)), cancelled: make([]int64, len(lines))}
	for i, l := range lines {
		o.lines[i] = memLine{cell: m.itemOrNew(Item{l.SKU, l.Location}), qty: l.Quantity}
	}
	lockLines(o.lines)
	defer unlockLines(o.lines)
	for i, l := range o.lines {
		if l.cell.incoming > MaxQuantity-l.qty {
			return Incoming{}, &InputError{Field: "Lines[" + strconv.Itoa(i) + "].Quantity", Rule: "would take incoming above 2^53-1"}
		}
	}
	for _, l := range o.lines {
		l.cell.incoming += l.qty
		if l.cell.arrivals == nil {
			l.cell.arrivals = make(map[string]int64)
		}
		l.cell.arrivals[id] = o.at
	}
	sh.orders[id] = o
	return o.view(id), nil
}

// arrive receives or cancels units of purchase order poID. The request's
// record lives in the shard of its own ID, the order in its own; both
// shards are locked, in shard order, as fulfil does.
func (m *memory) arrive(_ context.Context, receive bool, id, poID string, lines []Line) (Incoming, error) {
	osh, ash, now, unlock := m.lockPair(maphash.String(m.seed, poID), maphash.String(m.seed, id))
	defer unlock()
	if prev, ok := ash.arrivals[id]; ok {
		if prev.receive != receive || prev.poID != poID || !slices.Equal(prev.lines, lines) {
			return Incoming{}, ErrIDConflict
		}
		out := prev.out
		out.Lines = slices.Clone(out.Lines)
		out.Replayed = true
		return out, nil
	}
	o, ok := osh.orders[poID]
	if !ok {
		return Incoming{}, ErrNotFound
	}
	at := make([]int, len(lines)) // each request line's order line
	for i, l := range lines {
		at[i] = itemIndex(o.lines, l)
		var open int64
		if at[i] >= 0 {
			open = o.lines[at[i]].qty - o.received[at[i]] - o.cancelled[at[i]]
		}
		if l.Quantity > open {
			return Incoming{}, &IncomingError{PurchaseOrder: poID, SKU: l.SKU, Location: l.Location, Requested: l.Quantity, Open: open}
		}
	}
	lockLines(o.lines)
	if receive {
		for i, l := range lines {
			if c := o.lines[at[i]].cell; c.onHand > MaxQuantity-l.Quantity {
				unlockLines(o.lines)
				return Incoming{}, &InputError{Field: "Lines[" + strconv.Itoa(i) + "].Quantity", Rule: "would take on hand above 2^53-1"}
			}
		}
	}
	for i, l := range lines {
		j := at[i]
		c := o.lines[j].cell
		c.incoming -= l.Quantity
		if receive {
			c.onHand += l.Quantity
			o.received[j] += l.Quantity
		} else {
			o.cancelled[j] += l.Quantity
		}
		if o.received[j]+o.cancelled[j] == o.lines[j].qty {
			delete(c.arrivals, poID)
		}
		c.allocate()
	}
	unlockLines(o.lines)
	out := o.view(poID)
	if out.Complete {
		o.forgetTime = now + int64(m.opts.Retention)
		osh.retiredOrders.push(adjustmentEntry{at: o.forgetTime, id: poID})
	}
	a := &memArrival{receive: receive, poID: poID, lines: lines, out: out, forgetTime: now + int64(m.opts.Retention)}
	a.out.Lines = slices.Clone(out.Lines)
	ash.arrivals[id] = a
	ash.retiredArrival.push(adjustmentEntry{at: a.forgetTime, id: id})
	return out, nil
}

func (m *memory) purchaseOrder(_ context.Context, id string) (Incoming, error) {
	sh, _ := m.shard(id)
	sh.mu.Lock()
	defer sh.mu.Unlock()
	m.forgetLocked(sh, m.now())
	o, ok := sh.orders[id]
	if !ok {
		return Incoming{}, ErrNotFound
	}
	return o.view(id), nil
}

// view returns the order as the caller sees it.
func (o *memOrder) view(id string) Incoming {
	out := Incoming{PurchaseOrder: id, ExpectedAt: time.Unix(0, o.at), Lines: make([]IncomingLine, len(o.lines)), Complete: true}
	for j, l := range o.lines {
		out.Lines[j] = IncomingLine{SKU: l.cell.item.SKU, Location: l.cell.item.Location, Quantity: l.qty, Received: o.received[j], Cancelled: o.cancelled[j]}
		out.Complete = out.Complete && out.Lines[j].Open() == 0
	}
	return out
}

// lockPair locks the shards of two ID hashes in shard order, so that two
// callers locking the same pair cannot deadlock, forgets the records due in
// both, and returns them with the time it read and the function that
// unlocks them.
func (m *memory) lockPair(ha, hb uint64) (a, b *memShard, now int64, unlock func()) {
	ai, bi := ha%memShards, hb%memShards
	lo, hi := &m.shards[min(ai, bi)], &m.shards[max(ai, bi)]
	lo.mu.Lock()
	if hi != lo {
		hi.mu.Lock()
	}
	now = m.now()
	m.forgetLocked(lo, now)
	if hi != lo {
		m.forgetLocked(hi, now)
	}
	return &m.shards[ai], &m.shards[bi], now, func() {
		if hi != lo {
			hi.mu.Unlock()
		}
		lo.mu.Unlock()
	}
}

// itemIndex returns the index of the line of lines that holds l's item,
// or -1.
func itemIndex(lines []memLine, l Line) int {
	return slices.IndexFunc(lines, func(r memLine) bool { return r.cell.item == Item{l.SKU, l.Location} })
}

// nextArrivalLocked returns the earliest expected date of the cell's open
// purchase orders, zero if none; the caller holds c.mu.
func (c *cell) nextArrivalLocked() time.Time {
	var next int64 = -1
	for _, at := range c.arrivals {
		if next < 0 || at < next {
			next = at
		}
	}
	if next < 0 {
		return time.Time{}
	}
	return time.Unix(0, next)
}
