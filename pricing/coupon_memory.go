package pricing

import (
	"context"
	"sync"
	"time"
)

// memoryRedemptions is the process-local backend.
type memoryRedemptions struct {
	opts    RedemptionsOptions
	mu      sync.Mutex
	coupons map[string]*memCoupon
}

type memCoupon struct {
	used     int64
	spent    int64 // the live redemptions' amounts
	customer map[string]int64
	orders   map[string]*Redemption
	holds    map[string]*Redemption // the Held subset of orders
	// finished lists orders in the order they finished (committed,
	// released, lapsed), to forget their records Retention later; an entry
	// whose record changed again since is skipped.
	finished []finishedOrder
	changed  map[string]time.Time // order → when it last finished
}

type finishedOrder struct {
	order string
	at    time.Time
}

var _ redemptionsBackend = (*memoryRedemptions)(nil)

// NewMemoryRedemptions returns an empty store in process memory; time comes
// from opts.Now, and opts.Prefix and the replica options do not apply.
func NewMemoryRedemptions(opts RedemptionsOptions) *Redemptions {
	opts = opts.withDefaults()
	return newRedemptions(&memoryRedemptions{opts: opts, coupons: map[string]*memCoupon{}}, opts)
}

func (m *memoryRedemptions) now() time.Time { return m.opts.Now() }

func (m *memoryRedemptions) coupon(code string) *memCoupon {
	c := m.coupons[code]
	if c == nil {
		c = &memCoupon{customer: map[string]int64{}, orders: map[string]*Redemption{}, holds: map[string]*Redemption{},
			changed: map[string]time.Time{}}
		m.coupons[code] = c
	}
	return c
}

// finish notes that r reached a final (or committed) state now.
func (c *memCoupon) finish(r *Redemption, now time.Time) {
	delete(c.holds, r.OrderID)
	c.finished = append(c.finished, finishedOrder{order: r.OrderID, at: now})
	c.changed[r.OrderID] = now
}

// unuse returns r's use and its amount, dropping the customer at zero.
func (c *memCoupon) unuse(r *Redemption) {
	c.used--
	c.spent -= r.Amount
	if c.customer[r.Customer]--; c.customer[r.Customer] <= 0 {
		delete(c.customer, r.Customer)
	}
}

// forget drops the records that finished Retention ago or earlier.
func (c *memCoupon) forget(now time.Time, retention time.Duration) {
	n := 0
	for n < len(c.finished) && !now.Before(c.finished[n].at.Add(retention)) {
		if f := c.finished[n]; c.changed[f.order].Equal(f.at) {
			delete(c.orders, f.order)
			delete(c.changed, f.order)
		}
		n++
	}
	if n > 0 {
		c.finished = append(c.finished[:0:0], c.finished[n:]...)
	}
}

// expire lapses the hold if its time is up, returning its use.
func (c *memCoupon) expire(r *Redemption, now time.Time) {
	if r.State == Held && !now.Before(r.ExpiresAt) {
		r.State = Expired
		c.unuse(r)
		c.finish(r, now)
	}
}

// expireAll lapses every overdue hold, so that their uses count no more.
func (c *memCoupon) expireAll(now time.Time) {
	for _, r := range c.holds {
		c.expire(r, now)
	}
}

func (m *memoryRedemptions) reserve(_ context.Context, h HoldRequest) (Redemption, error) {
	coupon, limits, customer, orderID, ttl := h.Coupon, h.Limits, h.Customer, h.OrderID, h.TTL
	m.mu.Lock()
	defer m.mu.Unlock()
	now := m.now()
	c := m.coupon(coupon)
	c.expireAll(now)
	c.forget(now, m.opts.Retention)
	if r, ok := c.orders[orderID]; ok {
		if r.Customer != customer || r.Amount != h.Amount {
			return Redemption{}, ErrIDConflict
		}
		return replay(*r), nil
	}
	if limits.Global > 0 && c.used >= limits.Global {
		return Redemption{}, ErrGlobalLimit
	}
	if limits.PerCustomer > 0 && c.customer[customer] >= limits.PerCustomer {
		return Redemption{}, ErrCustomerLimit
	}
	if limits.Budget > 0 && c.spent+h.Amount > limits.Budget {
		return Redemption{}, ErrBudgetExhausted
	}
	// Whole milliseconds, as the Redis store keeps them.
	r := &Redemption{Coupon: coupon, OrderID: orderID, Customer: customer, State: Held,
		ExpiresAt: time.UnixMilli(now.Add(ttl).UnixMilli()), Amount: h.Amount}
	c.orders[orderID], c.holds[orderID] = r, r
	c.used++
	c.spent += h.Amount
	c.customer[customer]++
	return *r, nil
}

func (m *memoryRedemptions) find(ref RedemptionRef) (*memCoupon, *Redemption, error) {
	coupon, orderID := ref.Coupon, ref.OrderID
	c := m.coupons[coupon]
	if c == nil {
		return nil, nil, ErrNotFound
	}
	now := m.now()
	c.forget(now, m.opts.Retention)
	r := c.orders[orderID]
	if r == nil {
		return nil, nil, ErrNotFound
	}
	c.expire(r, now)
	return c, r, nil
}

func (m *memoryRedemptions) commit(_ context.Context, ref RedemptionRef) (Redemption, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	c, r, err := m.find(ref)
	if err != nil {
		return Redemption{}, err
	}
	switch r.State {
	case Held:
		r.State = Committed
		c.finish(r, m.now())
		return *r, nil
	case Released, Expired:
		return *r, ErrNotHeld
	}
	return replay(*r), nil
}

func (m *memoryRedemptions) release(_ context.Context, ref RedemptionRef) (Redemption, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	c, r, err := m.find(ref)
	if err != nil {
		return Redemption{}, err
	}
	if r.State != Held && r.State != Committed {
		return replay(*r), nil
	}
	r.State = Released
	c.unuse(r)
	c.finish(r, m.now())
	return *r, nil
}

// replay marks a redemption returned by a call that changed nothing.
func replay(r Redemption) Redemption {
	r.Replayed = true
	return r
}

func (m *memoryRedemptions) usage(_ context.Context, q UsageQuery) (CouponUsage, error) {
	coupon, customer := q.Coupon, q.Customer
	m.mu.Lock()
	defer m.mu.Unlock()
	c := m.coupons[coupon]
	if c == nil {
		return CouponUsage{}, nil
	}
	c.expireAll(m.now())
	return CouponUsage{Global: c.used, Customer: c.customer[customer], Spent: c.spent}, nil
}
