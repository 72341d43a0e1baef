package apportion

import (
	"math/rand/v2"
	"testing"
)

// TestFloorSharesTinyDivides checks the multiply-high division against
// the hardware's over every divisor the fast path takes, at the
// numerators where rounding would first go wrong (multiples of the
// divisor and their neighbours) and at random.
func TestFloorSharesTinyDivides(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 3))
	dst, rems := make([]int64, 1), make([]uint64, 1)
	for total := uint64(2); total < 1<<16; total++ {
		// x = rest·r with rest < total and r ≤ total: the largest is
		// (total−1)·total.
		xs := []uint64{0, 1, total - 1, total, total + 1, (total - 1) * total, (total-1)*total - 1}
		for i := 0; i < 8; i++ {
			k := rng.Uint64N(total)
			xs = append(xs, k*total, k*total+total-1, rng.Uint64N((total-1)*total+1))
		}
		for _, x := range xs {
			// Present x as rest·1 with quot 0, so the share is x/total.
			floorSharesTiny(dst, rems, []int64{1}, 0, x, total)
			if uint64(dst[0]) != x/total || rems[0] != x%total {
				t.Fatalf("%d / %d: got %d rem %d", x, total, dst[0], rems[0])
			}
		}
	}
}
