// Package minor converts decimal amounts to integer minor units (cents,
// fen) and back, exactly: the one conversion payout, pricing and logistics
// use on their way from the decimals callers hand in to the int64 hot
// paths. Each caller adds its own bounds (sign, largest amount).
package minor

import (
	"math"

	"github.com/shopspring/decimal"
)

// The int64 range as decimals; decimal values are immutable, so these are
// read-only.
var (
	maxInt64 = decimal.NewFromInt(math.MaxInt64)
	minInt64 = decimal.NewFromInt(math.MinInt64)
)

// FromDecimal returns v × 10^scale. whole is false when v has more than
// scale decimal places, fits false when the result overflows int64; m is
// 0 unless both hold.
func FromDecimal(v decimal.Decimal, scale int32) (m int64, whole, fits bool) {
	shifted := v.Shift(scale)
	if !shifted.IsInteger() {
		return 0, false, true
	}
	// Comparing with the bounds allocates nothing; BigInt would, on every
	// line of every quote.
	if shifted.GreaterThan(maxInt64) || shifted.LessThan(minInt64) {
		return 0, true, false
	}
	return shifted.IntPart(), true, true
}

// ToDecimal returns m minor units at scale as a decimal amount.
func ToDecimal(m int64, scale int32) decimal.Decimal { return decimal.New(m, -scale) }
