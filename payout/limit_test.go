package payout

import (
	"math"
	"testing"
)

func TestExceedsLimit(t *testing.T) {
	const max = MaxAmount
	tests := []struct {
		balance, amount int64
		want            bool
	}{
		{0, max, false},
		{1, max, true},
		{max, 1, true},
		{max - 1, 1, false},
		{-max, -1, true},
		{-max + 1, -1, false},
		{0, -max, false},
		{-1, -max, true},
		// Towards zero is always allowed, even from beyond the limit
		// (a balance can get there by settling).
		{max, -1, false},
		{-max, 1, false},
		{math.MaxInt64, -max, false},
		{math.MinInt64, max, false},
		// Away from zero beyond the limit is refused without overflowing.
		{math.MaxInt64, 1, true},
		{math.MaxInt64, max, true},
		{math.MinInt64, -max, true},
		{-5, max, false}, // crosses zero, ends at max-5
	}
	for _, tt := range tests {
		if got := exceedsLimit(tt.balance, tt.amount); got != tt.want {
			t.Errorf("exceedsLimit(%d, %d) = %v, want %v", tt.balance, tt.amount, got, tt.want)
		}
	}
}
