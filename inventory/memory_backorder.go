package inventory

import (
	"container/list"
	"context"
	"time"
)

// backorderQueue is an item's backordered reservations in the order they
// were sold, each with the units it still waits for. Only entries that
// wait are kept: a filled one leaves the queue, so its head is the only
// one a receipt may fill in part.
type backorderQueue struct {
	order list.List // of *backorder, oldest first
	byID  map[string]*list.Element
}

type backorder struct {
	id      string
	waiting int64
}

// waitingFor returns the units reservation id waits for here; the caller
// holds c.mu.
func (c *cell) waitingFor(id string) int64 {
	if e, ok := c.queue.byID[id]; ok {
		return e.Value.(*backorder).waiting
	}
	return 0
}

// addBackorder queues n units of reservation id behind every earlier
// backorder; the caller holds c.mu.
func (c *cell) addBackorder(id string, n int64) {
	if c.queue.byID == nil {
		c.queue.byID = make(map[string]*list.Element)
		c.hasBackorders.Store(true)
	}
	c.queue.byID[id] = c.queue.order.PushBack(&backorder{id: id, waiting: n})
	c.waiting += n
}

// unqueue takes up to n of reservation id's waiting units out of the
// queue (all of them when n < 0), as when they are released or returned,
// and returns how many it took; the caller holds c.mu.
func (c *cell) unqueue(id string, n int64) int64 {
	e, ok := c.queue.byID[id]
	if !ok {
		return 0
	}
	b := e.Value.(*backorder)
	if n < 0 || n >= b.waiting {
		n = b.waiting
		c.queue.order.Remove(e)
		delete(c.queue.byID, id)
	} else {
		b.waiting -= n
	}
	c.waiting -= n
	return n
}

// allocate gives free units on hand to the oldest backorders; the caller
// holds c.mu. It keeps the invariant that no unit is free while one
// waits.
func (c *cell) allocate() {
	for free := c.onHand - c.reserved - c.committed + c.waiting; free > 0 && c.waiting > 0; {
		e := c.queue.order.Front()
		b := e.Value.(*backorder)
		n := min(free, b.waiting)
		c.unqueue(b.id, n)
		free -= n
	}
}

// backorderable returns whether n more units may wait for stock at now;
// the caller holds c.mu.
func (c *cell) backorderable(n int64, now time.Time) bool {
	return c.policy != nil && n <= c.policy.allowance(now, c.incoming)-c.waiting
}

// room returns how many more units may wait for stock at now; the caller
// holds c.mu.
func (c *cell) room(now time.Time) int64 {
	if c.policy == nil {
		return 0
	}
	return max(0, c.policy.allowance(now, c.incoming)-c.waiting)
}

func (m *memory) setPolicy(_ context.Context, p Policy) error {
	c := m.itemOrNew(Item{p.SKU, p.Location})
	c.mu.Lock()
	defer c.mu.Unlock()
	if p.isZero() {
		c.policy = nil
	} else {
		c.policy = &p
	}
	return nil
}

// backorders returns the units of each of reservation id's lines that
// wait for stock, leaving out lines with none.
func backorders(id string, lines []memLine) []Line {
	var out []Line
	for _, l := range lines {
		if !l.cell.hasBackorders.Load() {
			continue
		}
		l.cell.mu.Lock()
		w := l.cell.waitingFor(id)
		l.cell.mu.Unlock()
		if w > 0 {
			out = append(out, Line{SKU: l.cell.item.SKU, Location: l.cell.item.Location, Quantity: w})
		}
	}
	return out
}
