package pricing

import "github.com/shopkit/shopkit/internal/apportion"

// apportion spreads off over lines, whose current amounts come to total,
// in proportion to their amounts (largest remainder, ties to the earlier
// line: the routine payout's Allocate uses), never taking a line below
// zero, and returns what was taken.
func (s *cartState) apportion(at int, lines []int, off, total int64) int64 {
	off = min(off, total)
	if off <= 0 {
		return 0
	}
	n := len(lines)
	shares, weights := s.shares[:n], s.weights[:n]
	for k, j := range lines {
		weights[k] = s.amount[j]
	}
	// The weights are the lines' amounts, ≥ 0 and summing to total > 0,
	// so the split cannot fail; off ≤ total keeps every share within its
	// line.
	apportion.Into(shares, off, weights, apportion.LargestRemainder)
	for k, j := range lines {
		if shares[k] == 0 {
			continue
		}
		s.amount[j] -= shares[k]
		if s.record {
			s.applied = append(s.applied, share{line: int32(j), plan: int32(at), amount: shares[k]})
		}
	}
	return off
}
