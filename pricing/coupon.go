package pricing

import (
	"errors"
	"time"

	"github.com/shopkit/shopkit/internal/keyspace"
)

// Coupon redemption errors. Every store returns these, wrapped or not.
var (
	// ErrGlobalLimit: the coupon has no uses left.
	ErrGlobalLimit = errors.New("pricing: coupon usage limit reached")
	// ErrCustomerLimit: this customer has used the coupon as often as allowed.
	ErrCustomerLimit = errors.New("pricing: coupon per-customer limit reached")
	// ErrIDConflict: the order ID already holds the coupon for another
	// customer.
	ErrIDConflict = errors.New("pricing: order ID already redeemed by another customer")
	// ErrNotFound: no redemption for this coupon and order (it never
	// existed, or its record outlived RedemptionsOptions.Retention).
	ErrNotFound = errors.New("pricing: redemption not found")
	// ErrBudgetExhausted: the hold's amount does not fit in what is left
	// of the campaign's budget (CouponLimits.Budget).
	ErrBudgetExhausted = errors.New("pricing: campaign budget exhausted")
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
//
// A campaign's budget is the same store keyed by the campaign: Global
// caps its uses, and Budget caps the discount its redemptions hold and
// commit together, in minor units (each HoldRequest.Amount).
type CouponLimits struct {
	Global      int64
	PerCustomer int64
	// Budget caps the sum of the live redemptions' Amounts; 0 for none.
	Budget int64
}

// Redemption is one order's use of one coupon.
type Redemption struct {
	Coupon    string
	OrderID   string
	Customer  string
	State     RedemptionState
	ExpiresAt time.Time // when a Held redemption lapses
	// Amount is what the redemption holds against the budget, in minor
	// units.
	Amount int64
	// Replayed is true when the call changed nothing because it repeated
	// an earlier one: a Reserve of an order that already has a redemption,
	// a second Commit or Release.
	Replayed bool
}

// HoldRequest asks to hold one use of a coupon for an order.
type HoldRequest struct {
	Coupon string
	// OrderID identifies the redemption and makes Reserve idempotent.
	OrderID  string
	Customer string
	// Limits are the coupon's definition; pass the same ones on every
	// call for a coupon (a lowered limit takes effect for new holds only).
	Limits CouponLimits
	// TTL is how long the hold lasts unless committed: 1ms to MaxHoldTTL.
	TTL time.Duration
	// Amount is the discount, in minor units, this order draws on the
	// budget (0..MaxHoldAmount); a Reserve repeated with another Amount is
	// ErrIDConflict.
	Amount int64
}

// MaxHoldAmount bounds HoldRequest.Amount and CouponLimits.Budget: 10^15
// minor units keeps every sum exact in Lua's doubles.
const MaxHoldAmount = 1_000_000_000_000_000

// RedemptionRef names one order's redemption of one coupon.
type RedemptionRef struct {
	Coupon  string
	OrderID string
}

// UsageQuery names a coupon and a customer whose uses to count.
type UsageQuery struct {
	Coupon   string
	Customer string
}

// CouponUsage counts a coupon's live uses (held or committed).
type CouponUsage struct {
	Global   int64
	Customer int64
	// Spent sums the live redemptions' Amounts.
	Spent int64
}

// MaxHoldTTL is the longest a hold may last before it is committed.
const MaxHoldTTL = 24 * time.Hour

func checkRef(r RedemptionRef) error {
	return checkRedemption(r.Coupon, r.OrderID)
}

func checkRedemption(coupon, orderID string) error {
	if rule := keyspace.CheckID(coupon); rule != "" {
		return &InputError{Field: "Coupon", Rule: rule}
	}
	if rule := keyspace.CheckID(orderID); rule != "" {
		return &InputError{Field: "OrderID", Rule: rule}
	}
	return nil
}

func checkUsage(q UsageQuery) error {
	coupon, customer := q.Coupon, q.Customer
	if rule := keyspace.CheckID(coupon); rule != "" {
		return &InputError{Field: "Coupon", Rule: rule}
	}
	if rule := keyspace.CheckID(customer); rule != "" {
		return &InputError{Field: "Customer", Rule: rule}
	}
	return nil
}

func checkHold(h HoldRequest) error {
	limits, ttl := h.Limits, h.TTL
	if err := checkRedemption(h.Coupon, h.OrderID); err != nil {
		return err
	}
	if err := checkUsage(UsageQuery{h.Coupon, h.Customer}); err != nil {
		return err
	}
	if limits.Global < 0 {
		return &InputError{Field: "Limits.Global", Rule: "must be ≥ 0"}
	}
	if limits.PerCustomer < 0 {
		return &InputError{Field: "Limits.PerCustomer", Rule: "must be ≥ 0"}
	}
	if limits.Budget < 0 || limits.Budget > MaxHoldAmount {
		return &InputError{Field: "Limits.Budget", Rule: "must be in 0..10^15"}
	}
	if h.Amount < 0 || h.Amount > MaxHoldAmount {
		return &InputError{Field: "Amount", Rule: "must be in 0..10^15"}
	}
	if ttl < time.Millisecond || ttl > MaxHoldTTL {
		return &InputError{Field: "TTL", Rule: "must be in 1ms..24h"}
	}
	return nil
}

// RedemptionsOptions configure a redemption store. The zero value means
// the documented defaults.
type RedemptionsOptions struct {
	// Prefix starts the Redis keys of every coupon (see NewRedisRedemptions).
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
	// Observer, if set, receives an Observation of every call.
	Observer Observer
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
