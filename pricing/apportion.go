package pricing

import (
	"cmp"
	"math/bits"
	"slices"
)

// apportion spreads off over lines, whose current amounts come to total,
// in proportion to their amounts (largest remainder, ties to the earlier
// line), never taking a line below zero, and returns what was taken.
func (s *cartState) apportion(at int, lines []int, off, total int64) int64 {
	off = min(off, total)
	if off <= 0 {
		return 0
	}
	// Largest remainder: each line gets ⌊off·amount/total⌋, and the
	// minor units left over go to the largest remainders, ties to the
	// earlier line. off ≤ total keeps the 128-bit quotient in 64 bits.
	n := len(lines)
	shares, rems, order := s.shares[:n], s.rems[:n], s.order[:n]
	var given int64
	d := uint64(total)
	inv := 1 / float64(d)
	for k, j := range lines {
		hi, lo := bits.Mul64(uint64(off), uint64(s.amount[j]))
		var q, r uint64
		if hi == 0 && lo < 1<<52 {
			// The usual size: a float reciprocal and one correction
			// instead of a 128-bit division, several times slower.
			q = uint64(float64(lo) * inv)
			if q*d > lo {
				q--
			} else if lo-q*d >= d {
				q++
			}
			r = lo - q*d
		} else {
			q, r = bits.Div64(hi, lo, d)
		}
		shares[k], rems[k], order[k] = int64(q), r, k
		given += shares[k]
	}
	switch left := int(off - given); {
	case left == 0:
	case left <= 4:
		// Few units left (the common case): pick the largest remainders
		// one by one, the earlier line on a tie, rather than sort.
		for ; left > 0; left-- {
			best := -1
			for k := range rems {
				if best < 0 || rems[k] > rems[best] {
					best = k
				}
			}
			shares[best]++
			rems[best] = 0 // r < total, so a taken line never wins again over a positive one
		}
	default:
		// A stable sort keeps ties with the earlier line.
		slices.SortStableFunc(order, func(a, b int) int { return cmp.Compare(rems[b], rems[a]) })
		for _, k := range order[:left] {
			shares[k]++
		}
	}
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
