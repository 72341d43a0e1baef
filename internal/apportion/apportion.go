// Package apportion splits an amount of minor units among parties in
// proportion to integer ratios, exactly: the parts sum to the whole, each
// within one unit of its exact share. payout's Allocate and pricing's
// discount apportionment are both this one routine.
package apportion

import (
	"cmp"
	"math/big"
	"math/bits"
	"slices"
	"strconv"
)

// Policy decides which parties receive the minor units left over after
// every party has its proportional share rounded down. Only parties whose
// exact share has a fraction are candidates, and each gets at most one
// unit.
type Policy int

// The policies; payout.Policy documents each.
const (
	// LargestRemainder gives the leftover units to the largest remainders
	// (Hamilton's method), ties to the earlier party.
	LargestRemainder Policy = iota
	// FirstParties gives them to the first candidates in order.
	FirstParties
	// LargestRatio gives them to the candidates with the largest ratios,
	// ties to the earlier party.
	LargestRatio
)

// floorSharesLarge writes each party's floor share Q·r + ⌊R·r/total⌋ and
// its remainder for a total beyond floorSharesSmall's range, and returns
// the sum of the shares.
func floorSharesLarge(dst []int64, rems []uint64, ratios []int64, quot, rest, total uint64) uint64 {
	var given uint64
	inv := 1 / float64(total)
	for i, r := range ratios {
		ur := uint64(r)
		hi, x := bits.Mul64(rest, ur)
		var q, rem uint64
		if hi == 0 && x < 1<<52 {
			q, rem = divByReciprocal(x, total, inv)
		} else {
			q, rem = bits.Div64(hi, x, total) // R·r/total < r: cannot overflow
		}
		q += quot * ur // ≤ abs·r/total ≤ abs: cannot overflow
		dst[i] = int64(q)
		rems[i] = rem
		given += q
	}
	return given
}

// Into splits amount into dst in proportion to ratios, dst having
// len(ratios) elements: each part is its floor share, and the units left
// over go one each to candidates (parties whose exact share has a
// fraction) chosen by policy, so the parts sum exactly to amount and each
// is within one unit of its exact share. A negative amount is split as its
// absolute value and every part negated. It does not allocate unless the
// ratios sum beyond 2^64−1, where it falls back to big-integer arithmetic.
//
// On bad input it returns the field and the rule broken and leaves dst
// unchanged; the caller wraps them in its own error type.
func Into(dst []int64, amount int64, ratios []int64, policy Policy) (field, rule string) {
	if len(ratios) == 0 {
		return "Ratios", "must not be empty"
	}
	if len(dst) != len(ratios) {
		return "dst", "must have one element per ratio"
	}
	if policy < LargestRemainder || policy > LargestRatio {
		return "Policy", "must be LargestRemainder, FirstParties or LargestRatio"
	}
	var total, carries uint64
	var signs int64
	for _, r := range ratios {
		signs |= r // negative if any ratio is
		var carry uint64
		total, carry = bits.Add64(total, uint64(r), 0)
		carries |= carry
	}
	if signs < 0 {
		i := slices.IndexFunc(ratios, func(r int64) bool { return r < 0 })
		return "Ratios[" + strconv.Itoa(i) + "]", "must be ≥ 0"
	}
	overflow := carries != 0
	if total == 0 && !overflow {
		return "Ratios", "must not all be zero"
	}
	if overflow {
		allocateBig(dst, amount, ratios, policy)
		return "", ""
	}

	abs := absU(amount)
	// Floor shares and remainders. With Q, R = abs/total, abs%total, party
	// i's share is Q·r + (R·r)/total: one division for the amount, and for
	// each party a division of R·r < total·r, which is usually small enough
	// to divide exactly with a float reciprocal and one correction instead
	// of a 128-bit DIV. Up to 64 parties the remainders live on the stack.
	var rems []uint64
	switch n := len(ratios); {
	case n <= 16: // the common case zeroes a small array
		var stack [16]uint64
		rems = stack[:n]
	case n <= smallParties:
		var stack [smallParties]uint64
		rems = stack[:n]
	default:
		rems = make([]uint64, n)
	}
	dst = dst[:len(ratios)]
	quot, rest := abs/total, abs%total
	var given uint64
	switch {
	case total >= 2 && total < 1<<16:
		given = floorSharesTiny(dst, rems, ratios, quot, rest, total)
	case total <= 1<<26:
		given = floorSharesSmall(dst, rems, ratios, quot, rest, total, 1/float64(total))
	default:
		given = floorSharesLarge(dst, rems, ratios, quot, rest, total)
	}
	// left < the number of parties with a non-zero remainder, since each
	// remainder is below total and they sum to left·total.
	if left := abs - given; left > 0 {
		switch policy {
		case LargestRemainder:
			giveByRank(dst, rems, rems, left)
		case FirstParties:
			for i, rem := range rems {
				if left == 0 {
					break
				}
				if rem > 0 {
					dst[i]++
					left--
				}
			}
		case LargestRatio:
			var keyStack [smallParties]uint64
			keys := keyStack[:0]
			if len(ratios) > smallParties {
				keys = make([]uint64, 0, len(ratios))
			}
			for _, r := range ratios {
				keys = append(keys, uint64(r))
			}
			giveByRank(dst, rems, keys, left)
		}
	}
	if amount < 0 {
		for i := range dst {
			dst[i] = -dst[i]
		}
	}
	return "", ""
}

// floorSharesTiny is the floor-share loop for ratio sums below 2^16, the
// usual case (percentages, basis points, small integer ratios): then
// rest·r < 2^32, and dividing a 32-bit number by a 32-bit divisor d is
// exactly the high word of its product with ⌈2^64/d⌉ (Lemire, Kaser and
// Kurz, "Faster remainder by direct computation", 2019): two multiplies
// per party, no division, no branch.
func floorSharesTiny(dst []int64, rems []uint64, ratios []int64, quot, rest, total uint64) uint64 {
	magic := ^uint64(0)/total + 1 // total ≥ 2, so this does not wrap
	var given uint64
	dst, rems = dst[:len(ratios)], rems[:len(ratios)]
	for i, r := range ratios {
		ur := uint64(r)
		x := rest * ur
		q, _ := bits.Mul64(magic, x)
		q2 := q + quot*ur
		dst[i] = int64(q2)
		rems[i] = x - q*total
		given += q2
	}
	return given
}

// floorSharesSmall is the floor-share loop for ratio sums up to 2^26: then
// rest·r < 2^52 always, so every division goes through the reciprocal.
func floorSharesSmall(dst []int64, rems []uint64, ratios []int64, quot, rest, total uint64, inv float64) uint64 {
	var given uint64
	dst, rems = dst[:len(ratios)], rems[:len(ratios)] // one bounds check, not two per party
	for i, r := range ratios {
		ur := uint64(r)
		q, rem := divByReciprocal(rest*ur, total, inv)
		q += quot * ur
		dst[i] = int64(q)
		rems[i] = rem
		given += q
	}
	return given
}

// divByReciprocal divides x < 2^52 by d using inv ≈ 1/d: float64(x) is
// exact and x·inv is within one of x/d, so one correction step makes the
// quotient exact. Signed conversions are single instructions.
func divByReciprocal(x, d uint64, inv float64) (q, rem uint64) {
	q = uint64(int64(float64(int64(x)) * inv))
	if q*d > x {
		q--
	} else if x-q*d >= d {
		q++
	}
	return q, x - q*d
}

// smallParties is how many parties AllocateInto serves without allocating.
const smallParties = 64

// absU returns |v| as uint64, exact for math.MinInt64 too.
func absU(v int64) uint64 {
	if v < 0 {
		return uint64(-(v + 1)) + 1
	}
	return uint64(v)
}

// giveByRank adds one unit to each of the left candidates (parties with a
// non-zero remainder) with the largest key, ties to the earlier party. Up
// to 64 parties it keeps a running top list on the stack; beyond, it sorts
// a slice.
func giveByRank(dst []int64, rems, keys []uint64, left uint64) {
	if len(rems) <= smallParties {
		// Keep the best left candidates seen so far, best first. A later
		// candidate enters only with a strictly larger key than the worst
		// kept, since an equal key loses to the earlier index.
		var top [smallParties]uint8
		keys = keys[:len(rems)]
		n := uint64(0)
		for i, rem := range rems {
			if rem == 0 {
				continue
			}
			k := keys[i]
			if n == left {
				if k <= keys[top[(n-1)%smallParties]] {
					continue
				}
				n-- // the worst kept drops out
			}
			j := n
			for j > 0 && keys[top[(j-1)%smallParties]] < k {
				top[j%smallParties] = top[(j-1)%smallParties]
				j--
			}
			top[j%smallParties] = uint8(i)
			n++
		}
		for _, i := range top[:n%(smallParties+1)] {
			dst[i]++
		}
		return
	}
	order := make([]int, 0, len(rems))
	for i, rem := range rems {
		if rem > 0 {
			order = append(order, i)
		}
	}
	slices.SortStableFunc(order, func(a, b int) int { return cmp.Compare(keys[b], keys[a]) })
	for _, i := range order[:left] {
		dst[i]++
	}
}

// allocateBig handles ratios whose sum does not fit in 64 bits.
func allocateBig(dst []int64, amount int64, ratios []int64, policy Policy) {
	total := new(big.Int)
	for _, r := range ratios {
		total.Add(total, big.NewInt(r))
	}
	abs := new(big.Int).SetUint64(absU(amount))
	rems := make([]*big.Int, len(ratios))
	var given uint64
	for i, r := range ratios {
		q, m := new(big.Int).QuoRem(new(big.Int).Mul(abs, big.NewInt(r)), total, new(big.Int))
		dst[i] = q.Int64()
		rems[i] = m
		given += q.Uint64()
	}
	left := absU(amount) - given
	switch policy {
	case LargestRemainder:
		order := make([]int, len(ratios))
		for i := range order {
			order[i] = i
		}
		slices.SortStableFunc(order, func(a, b int) int { return rems[b].Cmp(rems[a]) })
		for _, i := range order[:left] {
			dst[i]++
		}
	case FirstParties:
		for i, m := range rems {
			if left > 0 && m.Sign() > 0 {
				dst[i]++
				left--
			}
		}
	case LargestRatio:
		candidates := make([]uint64, len(rems))
		for i, m := range rems {
			candidates[i] = uint64(m.Sign()) // 1 marks a candidate
		}
		keys := make([]uint64, len(ratios))
		for i, r := range ratios {
			keys[i] = uint64(r)
		}
		giveByRank(dst, candidates, keys, left)
	}
	if amount < 0 {
		for i := range dst {
			dst[i] = -dst[i]
		}
	}
}
