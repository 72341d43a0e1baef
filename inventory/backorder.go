package inventory

import (
	"context"
	"time"
)

// Policy lets an item sell beyond its stock: backorders up to a standing
// limit, and pre-orders before a release date. Units sold beyond on hand
// are backordered: they count as reserved or committed like any other,
// and they wait for stock, first sold first served, until a receipt
// (Adjust, SetOnHand, Receive) or units another reservation gives back
// fill them. Level.Backordered is how many wait; a store keeps
// Reserved + Committed ≤ OnHand + Backordered and Backordered within the
// allowance below. The zero Policy (the default) sells on hand only.
type Policy struct {
	SKU      string
	Location string
	// Backorder is how many units may wait for stock at any time.
	Backorder int64
	// Preorder adds this many units to the allowance until ReleaseAt.
	Preorder int64
	// PreorderIncoming adds the item's open purchase-order units
	// (Level.Incoming) to the allowance until ReleaseAt, so pre-orders
	// sell what suppliers are to deliver.
	PreorderIncoming bool
	// ReleaseAt ends the pre-order allowance. Required when Preorder or
	// PreorderIncoming is set. Pre-orders sold before it keep waiting
	// for stock after it; only new sales are held to Backorder.
	ReleaseAt time.Time
}

// allowance returns how many units may wait for stock at now, given the
// item's incoming units.
func (p Policy) allowance(now time.Time, incoming int64) int64 {
	a := p.Backorder
	if now.Before(p.ReleaseAt) {
		a += p.Preorder
		if p.PreorderIncoming {
			a += incoming
		}
	}
	return min(a, MaxQuantity)
}

func (p Policy) isZero() bool {
	return p.Backorder == 0 && p.Preorder == 0 && !p.PreorderIncoming && p.ReleaseAt.IsZero()
}

func checkPolicy(p Policy, shipping bool) error {
	if err := checkItem(p.SKU, p.Location); err != nil {
		return err
	}
	if p.Backorder < 0 || p.Backorder > MaxQuantity {
		return &InputError{Field: "Backorder", Rule: "must be within 0..2^53-1"}
	}
	if p.Preorder < 0 || p.Preorder > MaxQuantity {
		return &InputError{Field: "Preorder", Rule: "must be within 0..2^53-1"}
	}
	if (p.Preorder > 0 || p.PreorderIncoming) && p.ReleaseAt.IsZero() {
		return &InputError{Field: "ReleaseAt", Rule: "must be set for pre-orders"}
	}
	if !p.isZero() && !shipping {
		// Without it a Commit takes units off hand at once, and a
		// backordered unit is not on hand to take.
		return &InputError{Field: "Policy", Rule: "needs Options.Shipping"}
	}
	return nil
}

// SetPolicy sets an item's backorder and pre-order policy, replacing the
// one it had; the zero Policy for an item sells on hand only again. Units
// already backordered keep waiting when a limit is lowered: the limit
// holds new sales. It needs Options.Shipping, because a backordered unit
// cannot leave on hand at Commit. Setting a policy is idempotent by
// nature: a repeat writes the same values.
func (s *Store) SetPolicy(ctx context.Context, p Policy) error {
	start := s.start()
	err := checkPolicy(p, s.opts.Shipping)
	if err == nil && s.closed.Load() {
		err = ErrClosed
	}
	if err == nil {
		err = s.b.setPolicy(ctx, p)
	}
	s.observe(Observation{Op: OpSetPolicy, Err: err, Took: s.since(start)})
	return err
}
