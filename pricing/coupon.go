package pricing

import (
	"context"
	"errors"
	"sync"
	"time"

	"github.com/shopkit/shopkit/internal/keyspace"
)

// Coupon redemption errors. Every store returns these, wrapped or not.
var (
	// ErrGlobalLimit: the coupon has no uses left.
	ErrGlobalLimit = errors.New("pricing: coupon usage limit reached")
	// ErrCustomerLimit: this customer has used the coupon as often as allowed.
	ErrCustomerLimit = errors.New("pricing: coupon per-customer limit reached")
	// ErrOrderConflict: the order ID already holds the coupon for another
	// customer.
	ErrOrderConflict = errors.New("pricing: order ID already redeemed by another customer")
	// ErrUnknownRedemption: no redemption for this coupon and order.
	ErrUnknownRedemption = errors.New("pricing: unknown redemption")
	// ErrNotHeld: the redemption was released or expired, so it cannot be
	// committed.
	ErrNotHeld = errors.New("pricing: redemption no longer held")
	// ErrNotReplicated means a Redis write was applied by the master but
	// fewer than RedemptionsOptions.WaitReplicas replicas acknowledged it
	// within WaitTimeout, so a failover now could lose it: the outcome is
	// unknown. Repeat the call (same coupon and order) to learn it.
	ErrNotReplicated = errors.New("pricing: write not acknowledged by enough replicas; outcome unknown, repeat the call")
)

// RedemptionState is where a redemption is in its life.
type RedemptionState int

// Redemption states. A hold either becomes Committed or goes back to the
// pool exactly once, as Released or Expired.
const (
	Held RedemptionState = iota + 1
	Committed
	Released
	Expired
)

func (s RedemptionState) String() string {
	switch s {
	case Held:
		return "held"
	case Committed:
		return "committed"
	case Released:
		return "released"
	case Expired:
		return "expired"
	}
	return "unknown"
}

// CouponLimits bounds how often a coupon is used: Global across all
// customers and PerCustomer for each (0: no limit). A held or committed
// redemption counts; a released or expired one does not.
type CouponLimits struct {
	Global      int64
	PerCustomer int64
}

// Redemption is one order's use of one coupon.
type Redemption struct {
	Coupon    string
	OrderID   string
	Customer  string
	State     RedemptionState
	ExpiresAt time.Time // when a Held redemption lapses
}

// CouponUsage counts a coupon's live uses (held or committed).
type CouponUsage struct {
	Global   int64
	Customer int64
}

// Redemptions holds coupon uses against their limits, atomically: under
// any concurrency no more than Global uses, and no more than PerCustomer
// for one customer, are ever held or committed at once.
//
// Reserve at checkout, Commit when the order is paid, Release when it is
// cancelled; a hold not committed within its TTL expires and returns its
// use. Every call is idempotent by order ID: repeating Reserve returns
// the existing redemption (in whatever state), Commit of a committed one
// and Release of a released or expired one return it unchanged.
//
// The limits are the coupon's definition; pass the same ones on every
// call for a coupon (a lowered limit takes effect for new holds only).
type Redemptions interface {
	Reserve(ctx context.Context, coupon string, limits CouponLimits, customer, orderID string, ttl time.Duration) (Redemption, error)
	Commit(ctx context.Context, coupon, orderID string) (Redemption, error)
	Release(ctx context.Context, coupon, orderID string) (Redemption, error)
	Usage(ctx context.Context, coupon, customer string) (CouponUsage, error)
}

// MaxHoldTTL is the longest a hold may last before it is committed.
const MaxHoldTTL = 24 * time.Hour

func checkRedemption(coupon, orderID string) error {
	if rule := keyspace.CheckID(coupon); rule != "" {
		return &InputError{Field: "Coupon", Rule: rule}
	}
	if rule := keyspace.CheckID(orderID); rule != "" {
		return &InputError{Field: "OrderID", Rule: rule}
	}
	return nil
}

func checkUsage(coupon, customer string) error {
	if rule := keyspace.CheckID(coupon); rule != "" {
		return &InputError{Field: "Coupon", Rule: rule}
	}
	if rule := keyspace.CheckID(customer); rule != "" {
		return &InputError{Field: "Customer", Rule: rule}
	}
	return nil
}

func checkReserve(coupon string, limits CouponLimits, customer, orderID string, ttl time.Duration) error {
	if err := checkRedemption(coupon, orderID); err != nil {
		return err
	}
	if err := checkUsage(coupon, customer); err != nil {
		return err
	}
	if limits.Global < 0 {
		return &InputError{Field: "Limits.Global", Rule: "must be ≥ 0"}
	}
	if limits.PerCustomer < 0 {
		return &InputError{Field: "Limits.PerCustomer", Rule: "must be ≥ 0"}
	}
	if ttl < time.Millisecond || ttl > MaxHoldTTL {
		return &InputError{Field: "TTL", Rule: "must be in 1ms..24h"}
	}
	return nil
}

// RedemptionsOptions configure a redemption store. The zero value means
// the documented defaults.
type RedemptionsOptions struct {
	// Prefix starts the Redis keys of every coupon (see RedisRedemptions).
	// Default "shopkit:coupon". Redis only.
	Prefix string
	// Now is the Memory store's clock. Default time.Now. The Redis store
	// uses the server's TIME.
	Now func() time.Time
	// Retention is how long a redemption's record is kept after it last
	// changed state (committed, released or lapsed), to answer replays and
	// to let a committed use be released (a refund); then it is forgotten.
	// Use counts are kept whatever the retention. Default 90 days.
	Retention time.Duration
	// WaitReplicas, if positive, makes every Redis write wait until that
	// many replicas have acknowledged it (WAIT), up to WaitTimeout
	// (default 1s); if they do not, the call returns ErrNotReplicated.
	// Needs a *redis.Client (standalone or failover) or
	// *redis.ClusterClient. Redis only.
	WaitReplicas int
	// WaitTimeout bounds the wait for WaitReplicas. Default 1s.
	WaitTimeout time.Duration
}

func (o RedemptionsOptions) withDefaults() RedemptionsOptions {
	if o.Prefix == "" {
		o.Prefix = "shopkit:coupon"
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Retention <= 0 {
		o.Retention = 90 * 24 * time.Hour
	}
	return o
}

// MemoryRedemptions is Redemptions in process memory.
type MemoryRedemptions struct {
	opts    RedemptionsOptions
	mu      sync.Mutex
	coupons map[string]*memCoupon
}

type memCoupon struct {
	used     int64
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

var _ Redemptions = (*MemoryRedemptions)(nil)

// NewMemoryRedemptions returns an empty store; opts.Prefix and the replica
// options do not apply.
func NewMemoryRedemptions(opts RedemptionsOptions) *MemoryRedemptions {
	return &MemoryRedemptions{opts: opts.withDefaults(), coupons: map[string]*memCoupon{}}
}

func (m *MemoryRedemptions) now() time.Time { return m.opts.Now() }

func (m *MemoryRedemptions) coupon(code string) *memCoupon {
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

// unuse returns a use of customer, dropping the customer at zero.
func (c *memCoupon) unuse(customer string) {
	c.used--
	if c.customer[customer]--; c.customer[customer] <= 0 {
		delete(c.customer, customer)
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
		c.unuse(r.Customer)
		c.finish(r, now)
	}
}

// expireAll lapses every overdue hold, so that their uses count no more.
func (c *memCoupon) expireAll(now time.Time) {
	for _, r := range c.holds {
		c.expire(r, now)
	}
}

// Reserve implements Redemptions.
func (m *MemoryRedemptions) Reserve(_ context.Context, coupon string, limits CouponLimits, customer, orderID string, ttl time.Duration) (Redemption, error) {
	if err := checkReserve(coupon, limits, customer, orderID, ttl); err != nil {
		return Redemption{}, err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	now := m.now()
	c := m.coupon(coupon)
	c.expireAll(now)
	c.forget(now, m.opts.Retention)
	if r, ok := c.orders[orderID]; ok {
		if r.Customer != customer {
			return Redemption{}, ErrOrderConflict
		}
		return *r, nil
	}
	if limits.Global > 0 && c.used >= limits.Global {
		return Redemption{}, ErrGlobalLimit
	}
	if limits.PerCustomer > 0 && c.customer[customer] >= limits.PerCustomer {
		return Redemption{}, ErrCustomerLimit
	}
	// Whole milliseconds, as the Redis store keeps them.
	r := &Redemption{Coupon: coupon, OrderID: orderID, Customer: customer, State: Held,
		ExpiresAt: time.UnixMilli(now.Add(ttl).UnixMilli())}
	c.orders[orderID], c.holds[orderID] = r, r
	c.used++
	c.customer[customer]++
	return *r, nil
}

func (m *MemoryRedemptions) find(coupon, orderID string) (*memCoupon, *Redemption, error) {
	if err := checkRedemption(coupon, orderID); err != nil {
		return nil, nil, err
	}
	c := m.coupons[coupon]
	if c == nil {
		return nil, nil, ErrUnknownRedemption
	}
	now := m.now()
	c.forget(now, m.opts.Retention)
	r := c.orders[orderID]
	if r == nil {
		return nil, nil, ErrUnknownRedemption
	}
	c.expire(r, now)
	return c, r, nil
}

// Commit implements Redemptions.
func (m *MemoryRedemptions) Commit(_ context.Context, coupon, orderID string) (Redemption, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	c, r, err := m.find(coupon, orderID)
	if err != nil {
		return Redemption{}, err
	}
	switch r.State {
	case Held:
		r.State = Committed
		c.finish(r, m.now())
	case Released, Expired:
		return *r, ErrNotHeld
	}
	return *r, nil
}

// Release implements Redemptions. A committed redemption may be released
// too (the order was cancelled after payment): its use returns.
func (m *MemoryRedemptions) Release(_ context.Context, coupon, orderID string) (Redemption, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	c, r, err := m.find(coupon, orderID)
	if err != nil {
		return Redemption{}, err
	}
	if r.State == Held || r.State == Committed {
		r.State = Released
		c.unuse(r.Customer)
		c.finish(r, m.now())
	}
	return *r, nil
}

// Usage implements Redemptions.
func (m *MemoryRedemptions) Usage(_ context.Context, coupon, customer string) (CouponUsage, error) {
	if err := checkUsage(coupon, customer); err != nil {
		return CouponUsage{}, err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	c := m.coupons[coupon]
	if c == nil {
		return CouponUsage{}, nil
	}
	c.expireAll(m.now())
	return CouponUsage{Global: c.used, Customer: c.customer[customer]}, nil
}
