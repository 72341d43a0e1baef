package payout

import "strconv"

// Reversal tracks the refunds of one split charge and says, for each refund,
// how much to take back from every share.
//
// It reverses cumulatively: after refunds totalling R, the shares reversed
// so far are exactly Allocate(R, shares, LargestRemainder), and a refund
// reverses the difference from the previous total. Rounding therefore never
// drifts: whatever the number, size and order of the refunds, once they sum
// to the charge every share has been reversed exactly, and at every step
// each share's total reversal is within one minor unit of its exact
// proportion. Because largest-remainder apportionment is not monotone in
// the amount (the Alabama paradox), one refund may, rarely, reverse one unit
// less than nothing from a share, giving back a unit an earlier refund
// over-took; the sum is always exact.
//
// A refund may instead carry its own split (RefundSplit, as Adyen's split
// refunds do): say what to take back from each share, never more than is
// left of it. After one, proportional refunds apportion over what is left
// of each share rather than cumulatively, so no share is ever reversed
// beyond what it received, and refunds summing to the charge still
// reverse every share exactly.
//
// A Reversal is a value: it is not safe for concurrent use. Persist Refunded
// and Reversed (or replay the refunds) to resume it.
type Reversal struct {
	charge   int64
	shares   []int64
	refunded int64
	reversed []int64
	targeted bool // a RefundSplit happened: apportion over what is left
}

// NewReversal starts tracking refunds of charge, which was split into
// shares (minor units, ≥ 0, summing to charge).
func NewReversal(charge int64, shares []int64) (*Reversal, error) {
	if charge <= 0 {
		return nil, &InputError{Field: "Charge", Rule: "must be > 0"}
	}
	var sum int64
	for i, s := range shares {
		if s < 0 {
			return nil, &InputError{Field: "Shares[" + strconv.Itoa(i) + "]", Rule: "must be ≥ 0"}
		}
		if s > charge-sum {
			return nil, &InputError{Field: "Shares", Rule: "must sum to the charge"}
		}
		sum += s
	}
	if sum != charge {
		return nil, &InputError{Field: "Shares", Rule: "must sum to the charge"}
	}
	return &Reversal{charge: charge, shares: append([]int64(nil), shares...), reversed: make([]int64, len(shares))}, nil
}

// Refund records a refund of amount (minor units, > 0) and returns what to
// take back from each share for it; the amounts sum to amount. A refund
// beyond what is left returns a *RefundError and changes nothing.
func (r *Reversal) Refund(amount int64) ([]int64, error) {
	if amount <= 0 {
		return nil, &InputError{Field: "Amount", Rule: "must be > 0"}
	}
	if left := r.charge - r.refunded; amount > left {
		return nil, &RefundError{Requested: amount, Left: left, Share: -1}
	}
	if r.targeted {
		left := make([]int64, len(r.shares))
		for i := range left {
			left[i] = r.shares[i] - r.reversed[i]
		}
		// amount ≤ the sum of left, so no share's part exceeds its left.
		out, err := Allocate(amount, left, LargestRemainder)
		if err != nil {
			return nil, err
		}
		for i := range out {
			r.reversed[i] += out[i]
		}
		r.refunded += amount
		return out, nil
	}
	target, err := Allocate(r.refunded+amount, r.shares, LargestRemainder)
	if err != nil {
		return nil, err
	}
	out := make([]int64, len(target))
	for i := range target {
		out[i] = target[i] - r.reversed[i]
	}
	r.refunded += amount
	r.reversed = target
	return out, nil
}

// RefundSplit records a refund split as the caller says: split[i] is what
// to take back from share i (minor units, ≥ 0, one per share), and the
// refund is their sum (> 0). A part beyond what is left of its share is a
// *RefundError naming the share; a refund beyond what is left of the
// charge is one too; either changes nothing. It returns a copy of split.
func (r *Reversal) RefundSplit(split []int64) ([]int64, error) {
	if len(split) != len(r.shares) {
		return nil, &InputError{Field: "Split", Rule: "must have one amount per share"}
	}
	var sum int64
	for i, v := range split {
		if v < 0 {
			return nil, &InputError{Field: "Split[" + strconv.Itoa(i) + "]", Rule: "must be ≥ 0"}
		}
		if left := r.shares[i] - r.reversed[i]; v > left {
			return nil, &RefundError{Requested: v, Left: left, Share: i}
		}
		sum += v // ≤ the charge: each part is within its share
	}
	if sum == 0 {
		return nil, &InputError{Field: "Split", Rule: "must take back something"}
	}
	for i, v := range split {
		r.reversed[i] += v
	}
	r.refunded += sum
	r.targeted = true
	return append([]int64(nil), split...), nil
}

// Refunded returns the total refunded so far.
func (r *Reversal) Refunded() int64 { return r.refunded }

// Reversed returns the total taken back from each share so far.
func (r *Reversal) Reversed() []int64 { return append([]int64(nil), r.reversed...) }
