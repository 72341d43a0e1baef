package payout

import (
	"fmt"
	"math"
	"math/bits"
	"strconv"
)

// Rounding says how a fractional minor unit is rounded.
type Rounding int

const (
	// HalfUp rounds half a unit up (0.5 → 1). The default.
	HalfUp Rounding = iota
	// HalfEven rounds half a unit to the even neighbour (banker's rounding).
	HalfEven
	// Down rounds toward zero: the payer never pays a fraction.
	Down
	// Up rounds away from zero: the platform never loses a fraction.
	Up
)

// basisPoints is the denominator of a rate in basis points (1 bp = 0.01%).
const basisPoints = 10000

// divRound returns (hi·2^64 + lo) / d rounded by mode; ok is false if the
// result does not fit in int64.
func divRound(hi, lo, d uint64, mode Rounding) (int64, bool) {
	if hi >= d {
		return 0, false
	}
	q, r := bits.Div64(hi, lo, d)
	up := false
	switch mode {
	case Up:
		up = r > 0
	case HalfUp:
		up = r >= d-r // r ≥ d/2 without overflow
	case HalfEven:
		up = r > d-r || (r == d-r && q%2 == 1)
	}
	if up {
		q++
	}
	if q > math.MaxInt64 {
		return 0, false
	}
	return int64(q), true
}

// rate returns amount·bp/10000 rounded, for amount ≥ 0 and 0 ≤ bp.
func rate(amount, bp int64, mode Rounding) (int64, bool) {
	hi, lo := bits.Mul64(uint64(amount), uint64(bp))
	return divRound(hi, lo, basisPoints, mode)
}

// Fee is a charge of a rate plus a fixed amount, clamped to a range, as
// payment processors and platforms charge: 2.9% + 30¢, at least 50¢.
type Fee struct {
	BasisPoints int64 // rate in 1/10000; 290 is 2.9%
	Fixed       int64 // minor units added after the rate
	Min         int64 // lowest fee; 0 for none
	Max         int64 // highest fee; 0 for none
	Rounding    Rounding
}

// Of returns the fee on amount (minor units, ≥ 0): the rate rounded once by
// f.Rounding, plus Fixed, then clamped to [Min, Max]. A fee never exceeds
// the amount it is charged on.
func (f Fee) Of(amount int64) (int64, error) {
	if err := f.validate(); err != nil {
		return 0, err
	}
	if amount < 0 {
		return 0, &InputError{Field: "Amount", Rule: "must be ≥ 0"}
	}
	v, ok := rate(amount, f.BasisPoints, f.Rounding)
	if !ok || v > math.MaxInt64-f.Fixed {
		return 0, &InputError{Field: "Amount", Rule: "fee overflows int64"}
	}
	v += f.Fixed
	if f.Min > 0 && v < f.Min {
		v = f.Min
	}
	if f.Max > 0 && v > f.Max {
		v = f.Max
	}
	return min(v, amount), nil
}

func (f Fee) validate() error {
	switch {
	case f.BasisPoints < 0 || f.BasisPoints > basisPoints:
		return &InputError{Field: "BasisPoints", Rule: "must be in 0..10000"}
	case f.Fixed < 0:
		return &InputError{Field: "Fixed", Rule: "must be ≥ 0"}
	case f.Min < 0:
		return &InputError{Field: "Min", Rule: "must be ≥ 0"}
	case f.Max < 0 || (f.Max > 0 && f.Max < f.Min):
		return &InputError{Field: "Max", Rule: "must be 0 or ≥ Min"}
	case f.Rounding < HalfUp || f.Rounding > Up:
		return &InputError{Field: "Rounding", Rule: "must be HalfUp, HalfEven, Down or Up"}
	}
	return nil
}

// Tier is one bracket of a tiered commission: amounts from From upward earn
// BasisPoints, until the next tier's From.
type Tier struct {
	From        int64 // lower bound, inclusive: an amount on a boundary takes the higher tier
	BasisPoints int64
}

// Convention says how a tiered rate applies.
type Convention int

const (
	// Marginal charges each bracket's portion at its own rate, as sales
	// commissions and income taxes do.
	Marginal Convention = iota
	// WholeAmount charges the whole amount at the rate of the highest
	// bracket it reaches, as affiliate networks do.
	WholeAmount
)

// Commission returns the commission on amount under tiers, which must start
// at From 0 and rise strictly. The exact commission is rounded once, at the
// end, by mode.
func Commission(amount int64, tiers []Tier, conv Convention, mode Rounding) (int64, error) {
	if amount < 0 {
		return 0, &InputError{Field: "Amount", Rule: "must be ≥ 0"}
	}
	if len(tiers) == 0 || tiers[0].From != 0 {
		return 0, &InputError{Field: "Tiers", Rule: "must start at From 0"}
	}
	for i, t := range tiers {
		if t.BasisPoints < 0 || t.BasisPoints > basisPoints {
			return 0, &InputError{Field: "Tiers[" + strconv.Itoa(i) + "].BasisPoints", Rule: "must be in 0..10000"}
		}
		if i > 0 && t.From <= tiers[i-1].From {
			return 0, &InputError{Field: "Tiers[" + strconv.Itoa(i) + "].From", Rule: "must be above the previous tier's"}
		}
	}
	if mode < HalfUp || mode > Up {
		return 0, &InputError{Field: "Rounding", Rule: "must be HalfUp, HalfEven, Down or Up"}
	}
	if conv == WholeAmount {
		bp := tiers[0].BasisPoints
		for _, t := range tiers {
			if amount >= t.From {
				bp = t.BasisPoints
			}
		}
		v, _ := rate(amount, bp, mode) // ≤ amount: cannot overflow
		return v, nil
	}
	if conv != Marginal {
		return 0, &InputError{Field: "Convention", Rule: "must be Marginal or WholeAmount"}
	}
	// Σ portion·bp in 128 bits, then one division.
	var hi, lo uint64
	for i, t := range tiers {
		if amount <= t.From {
			break
		}
		top := amount
		if i+1 < len(tiers) && tiers[i+1].From < amount {
			top = tiers[i+1].From
		}
		ph, pl := bits.Mul64(uint64(top-t.From), uint64(t.BasisPoints))
		var c uint64
		lo, c = bits.Add64(lo, pl, 0)
		hi, _ = bits.Add64(hi, ph, c)
	}
	v, _ := divRound(hi, lo, basisPoints, mode) // ≤ amount
	return v, nil
}

// Level is one level of a referral chain: the referrer's rate and cap.
type Level struct {
	BasisPoints int64 // rate on the order amount, in 1/10000
	Cap         int64 // most this level earns per order; 0 for no cap
}

// Rebates returns what each referral level earns on amount: level 1 (the
// direct referrer) first. Each is the amount at its rate, rounded by mode,
// then capped.
func Rebates(amount int64, levels []Level, mode Rounding) ([]int64, error) {
	if amount < 0 {
		return nil, &InputError{Field: "Amount", Rule: "must be ≥ 0"}
	}
	if mode < HalfUp || mode > Up {
		return nil, &InputError{Field: "Rounding", Rule: "must be HalfUp, HalfEven, Down or Up"}
	}
	out := make([]int64, len(levels))
	var total int64
	for i, l := range levels {
		if l.BasisPoints < 0 || l.BasisPoints > basisPoints {
			return nil, &InputError{Field: "Levels[" + strconv.Itoa(i) + "].BasisPoints", Rule: "must be in 0..10000"}
		}
		if l.Cap < 0 {
			return nil, &InputError{Field: "Levels[" + strconv.Itoa(i) + "].Cap", Rule: "must be ≥ 0"}
		}
		v, _ := rate(amount, l.BasisPoints, mode)
		if l.Cap > 0 {
			v = min(v, l.Cap)
		}
		if v > amount-total {
			return nil, &InputError{Field: "Levels", Rule: "rebates must not sum beyond the amount"}
		}
		out[i] = v
		total += v
	}
	return out, nil
}

// SharingRules are the constraints of a profit-sharing (分账) API such as
// WeChat Pay's: how much of an order may be shared and among how many.
// The zero value means WeChat Pay's published limits.
type SharingRules struct {
	// MaxRatio is the most of the order that may be shared, in 1/10000.
	// Default 3000 (30%).
	MaxRatio int64
	// MaxReceivers is the most receivers one order may share with.
	// Default 50.
	MaxReceivers int
}

// Share is one receiver's part of a profit-sharing plan.
type Share struct {
	Receiver string
	Amount   int64 // minor units, > 0
}

// SharingError reports which rule a plan breaks.
type SharingError struct {
	Rule  string // "max-ratio", "max-receivers", "amount" or "receiver"
	Index int    // the offending share, or -1 for the plan as a whole
	Limit int64  // the limit broken
	Got   int64  // what the plan had
}

// Error implements error.
func (e *SharingError) Error() string {
	if e.Index >= 0 {
		return fmt.Sprintf("payout: sharing rule %s broken by share %d: limit %d, got %d", e.Rule, e.Index, e.Limit, e.Got)
	}
	return fmt.Sprintf("payout: sharing rule %s broken: limit %d, got %d", e.Rule, e.Limit, e.Got)
}

// Is makes errors.Is(err, ErrSharingRule) true.
func (e *SharingError) Is(target error) bool { return target == ErrSharingRule }

// Check returns a *SharingError if shares of an order of orderAmount break
// the rules: a share that is not positive or has no receiver, a receiver
// named twice, too many receivers, or more shared than MaxRatio allows
// (shared·10000 ≤ order·MaxRatio, exact).
func (r SharingRules) Check(orderAmount int64, shares []Share) error {
	maxRatio, maxRecv := r.MaxRatio, r.MaxReceivers
	if maxRatio == 0 {
		maxRatio = 3000
	}
	if maxRecv == 0 {
		maxRecv = 50
	}
	if maxRatio < 0 || maxRatio > basisPoints {
		return &InputError{Field: "MaxRatio", Rule: "must be in 0..10000"}
	}
	if orderAmount <= 0 {
		return &InputError{Field: "OrderAmount", Rule: "must be > 0"}
	}
	if len(shares) > maxRecv {
		return &SharingError{Rule: "max-receivers", Index: -1, Limit: int64(maxRecv), Got: int64(len(shares))}
	}
	seen := make(map[string]bool, len(shares))
	var sharedHi, shared uint64 // the sum in 128 bits: 50 shares can pass 2^64
	for i, s := range shares {
		if s.Receiver == "" || seen[s.Receiver] {
			return &SharingError{Rule: "receiver", Index: i}
		}
		seen[s.Receiver] = true
		if s.Amount <= 0 {
			return &SharingError{Rule: "amount", Index: i, Limit: 1, Got: s.Amount}
		}
		var c uint64
		shared, c = bits.Add64(shared, uint64(s.Amount), 0)
		sharedHi += c
	}
	// shared·10000 ≤ order·maxRatio, in 128 bits.
	sh, sl := bits.Mul64(shared, basisPoints)
	sh += sharedHi * basisPoints
	oh, ol := bits.Mul64(uint64(orderAmount), uint64(maxRatio))
	if sh > oh || (sh == oh && sl > ol) {
		limit, _ := rate(orderAmount, maxRatio, Down)
		got := int64(math.MaxInt64)
		if sharedHi == 0 && shared <= math.MaxInt64 {
			got = int64(shared)
		}
		return &SharingError{Rule: "max-ratio", Index: -1, Limit: limit, Got: got}
	}
	return nil
}
