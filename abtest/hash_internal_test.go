package abtest

import (
	"math/rand/v2"
	"strconv"
	"testing"
)

// TestSeededHashMatchesHash: the prepared hash of a seed equals Hash for
// seeds of every length up to 40 (ASCII, so folded into the table, and
// not), for values that leave every one of the 128 low-bit states the
// folding depends on, and for both versions.
func TestSeededHashMatchesHash(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	alphabet := []rune("abcXYZ09-_~ \x00\x7féü实😀")
	randomString := func(n int, ascii bool) string {
		var b []rune
		for range n {
			r := alphabet[rng.IntN(len(alphabet))]
			if ascii && r >= 0x80 {
				r = 'q'
			}
			b = append(b, r)
		}
		return string(b)
	}
	for length := range 41 {
		for _, ascii := range []bool{true, false} {
			seed := randomString(length, ascii)
			for version := 1; version <= 3; version++ {
				s := newSeededHash(seed, version)
				if version == 1 && s.folded != isASCII(seed) {
					t.Fatalf("seed %q: folded = %v", seed, s.folded)
				}
				seen := map[uint32]bool{}
				for i := 0; len(seen) < 128 || i < 300; i++ {
					value := "user-" + strconv.Itoa(i)
					if i%3 == 0 {
						value = randomString(rng.IntN(12), false)
					}
					seen[fnvString(fnvOffset, value)&127] = true
					got, gotOK := s.of(value)
					want, wantOK := Hash(seed, value, version)
					if got != want || gotOK != wantOK {
						t.Fatalf("seed %q value %q v%d: prepared %v %v, Hash %v %v", seed, value, version, got, gotOK, want, wantOK)
					}
				}
			}
		}
	}
}

// FuzzSeededHash: the prepared hash equals Hash for any seed and value.
func FuzzSeededHash(f *testing.F) {
	f.Add("checkout-button", "user-8472")
	f.Add("实验", "用户42")
	f.Add("", "\xff")
	f.Fuzz(func(t *testing.T, seed, value string) {
		for version := 1; version <= 2; version++ {
			s := newSeededHash(seed, version)
			got, _ := s.of(value)
			if want, _ := Hash(seed, value, version); got != want {
				t.Fatalf("seed %q value %q v%d: prepared %v, Hash %v", seed, value, version, got, want)
			}
			if version == 1 && got != hash3v1(value, seed, "") {
				t.Fatalf("seed %q value %q: prepared %v, hash3v1 %v", seed, value, got, hash3v1(value, seed, ""))
			}
		}
	})
}

func isASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= 0x80 {
			return false
		}
	}
	return true
}
