package payout

import (
	"strconv"

	"github.com/shopkit/shopkit/internal/apportion"
)

// Policy decides which parties receive the minor units left over after
// every party has its proportional share rounded down. Only parties whose
// exact share has a fraction are candidates, and each gets at most one
// unit, so every part stays within one unit of its exact share, a party
// with a zero ratio never receives one, and the parts sum exactly to the
// whole.
type Policy int

const (
	// LargestRemainder gives the leftover units to the parties whose exact
	// shares lost the most to rounding down (Hamilton's method); ties go to
	// the earlier party. It keeps every part within one unit of its exact
	// share. The default.
	LargestRemainder = Policy(apportion.LargestRemainder)
	// FirstParties gives them to the first candidates in order, as go-money
	// and Martin Fowler's Money.allocate do (they also consider parties
	// whose share was exact).
	FirstParties = Policy(apportion.FirstParties)
	// LargestRatio gives them to the candidates with the largest ratios;
	// ties go to the earlier party.
	LargestRatio = Policy(apportion.LargestRatio)
)

// String returns the policy's name.
func (p Policy) String() string {
	switch p {
	case LargestRemainder:
		return "largest-remainder"
	case FirstParties:
		return "first-parties"
	case LargestRatio:
		return "largest-ratio"
	}
	return "Policy(" + strconv.Itoa(int(p)) + ")"
}

// Allocate splits amount, in minor units, among parties in proportion to
// ratios. The parts sum exactly to amount; a negative amount (a refund) is
// split as its absolute value and every part negated, so a refund mirrors
// its charge. Ratios must be non-negative and not all zero.
func Allocate(amount int64, ratios []int64, policy Policy) ([]int64, error) {
	dst := make([]int64, len(ratios))
	if err := AllocateInto(dst, amount, ratios, policy); err != nil {
		return nil, err
	}
	return dst, nil
}

// AllocateInto is Allocate writing into dst, which must have len(ratios)
// elements. It does not allocate unless the ratios sum beyond 2^64−1, where
// it falls back to big-integer arithmetic. On error dst is left unchanged.
func AllocateInto(dst []int64, amount int64, ratios []int64, policy Policy) error {
	if field, rule := apportion.Into(dst, amount, ratios, apportion.Policy(policy)); field != "" {
		return &InputError{Field: field, Rule: rule}
	}
	return nil
}
