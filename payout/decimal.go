package payout

import (
	"math"
	"strconv"

	"github.com/shopkit/shopkit/internal/minor"
	"github.com/shopspring/decimal"
)

// AllocateDecimal splits amount among parties in proportion to ratios, at a
// currency's minor-unit scale (2 for EUR and CNY, 0 for JPY, 3 for KWD). The
// amount must be exact at that scale; ratios may be any non-negative
// decimals (percentages, weights) with at most 18 digits in all. The parts
// sum exactly to amount.
func AllocateDecimal(amount decimal.Decimal, scale int32, ratios []decimal.Decimal, policy Policy) ([]decimal.Decimal, error) {
	minor, err := ToMinor(amount, scale)
	if err != nil {
		return nil, err
	}
	ints, err := integerRatios(ratios)
	if err != nil {
		return nil, err
	}
	parts, err := Allocate(minor, ints, policy)
	if err != nil {
		return nil, err
	}
	out := make([]decimal.Decimal, len(parts))
	for i, p := range parts {
		out[i] = FromMinor(p, scale)
	}
	return out, nil
}

// ToMinor converts amount to minor units at scale. It fails if amount has
// more decimal places than scale allows or does not fit in int64.
func ToMinor(amount decimal.Decimal, scale int32) (int64, error) {
	if scale < 0 || scale > 18 {
		return 0, &InputError{Field: "Scale", Rule: "must be in 0..18"}
	}
	m, whole, fits := minor.FromDecimal(amount, scale)
	switch {
	case !whole:
		return 0, &InputError{Field: "Amount", Rule: "must have at most " + strconv.Itoa(int(scale)) + " decimal places"}
	case !fits:
		return 0, &InputError{Field: "Amount", Rule: "must fit in int64 minor units"}
	}
	return m, nil
}

// FromMinor converts minor units at scale back to a decimal amount.
func FromMinor(m int64, scale int32) decimal.Decimal {
	return minor.ToDecimal(m, scale)
}

// integerRatios scales decimal ratios by a common power of ten so they
// become integers with the same proportions.
func integerRatios(ratios []decimal.Decimal) ([]int64, error) {
	var places int32
	for i, r := range ratios {
		if r.Sign() < 0 {
			return nil, &InputError{Field: "Ratios[" + strconv.Itoa(i) + "]", Rule: "must be ≥ 0"}
		}
		if e := -r.Exponent(); e > places {
			places = e
		}
	}
	out := make([]int64, len(ratios))
	for i, r := range ratios {
		bi := r.Shift(places).BigInt()
		if !bi.IsInt64() || bi.Int64() > math.MaxInt64/2 {
			return nil, &InputError{Field: "Ratios[" + strconv.Itoa(i) + "]", Rule: "must have at most 18 significant digits"}
		}
		out[i] = bi.Int64()
	}
	return out, nil
}

// Fixed describes a split into fixed amounts plus one party that takes the
// remainder, as a marketplace pays a provider a set fee and the merchant the
// rest.
//
// AllocateFixed returns amount split so that party i gets fixed[i], except
// party remainder, which gets amount minus the others (its own fixed entry is
// ignored). Amount and fixed amounts must be ≥ 0, and the fixed amounts may
// not exceed amount.
func AllocateFixed(amount int64, fixed []int64, remainder int) ([]int64, error) {
	if amount < 0 {
		return nil, &InputError{Field: "Amount", Rule: "must be ≥ 0"}
	}
	if remainder < 0 || remainder >= len(fixed) {
		return nil, &InputError{Field: "Remainder", Rule: "must index a party"}
	}
	out := make([]int64, len(fixed))
	left := amount
	for i, f := range fixed {
		if i == remainder {
			continue
		}
		if f < 0 {
			return nil, &InputError{Field: "Fixed[" + strconv.Itoa(i) + "]", Rule: "must be ≥ 0"}
		}
		if f > left {
			return nil, &InputError{Field: "Fixed", Rule: "must not sum beyond the amount"}
		}
		out[i] = f
		left -= f
	}
	out[remainder] = left
	return out, nil
}
