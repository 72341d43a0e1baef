package abtest

import (
	"strconv"
	"unicode/utf8"
)

// FNV-1a, 32 bits, over UTF-16 code units: what GrowthBook's JavaScript SDK
// computes with String.charCodeAt, and so what every GrowthBook SDK agrees
// on. For ASCII IDs this is plain FNV-1a over the bytes.
const (
	fnvOffset uint32 = 0x811c9dc5
	fnvPrime  uint32 = 16777619
)

// fnvString continues an FNV-1a hash h over the UTF-16 code units of s.
func fnvString(h uint32, s string) uint32 {
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			h = (h ^ uint32(c)) * fnvPrime
			i++
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		i += size
		if r >= 0x10000 {
			// A surrogate pair, as JavaScript strings hold it.
			r -= 0x10000
			h = (h ^ uint32(0xd800+(r>>10))) * fnvPrime
			h = (h ^ uint32(0xdc00+(r&0x3ff))) * fnvPrime
			continue
		}
		h = (h ^ uint32(r)) * fnvPrime
	}
	return h
}

// Hash is GrowthBook's hash of value under seed: a number in [0, 1) that is
// the same in every GrowthBook SDK. Version 1 (the original) is
// fnv(value+seed) mod 1000 / 1000; version 2 (unbiased) is
// fnv(decimal(fnv(seed+value))) mod 10000 / 10000. Other versions give
// ok = false, as GrowthBook's null.
func Hash(seed, value string, version int) (n float64, ok bool) {
	switch version {
	case 1:
		return thousandths[fnvString(fnvString(fnvOffset, value), seed)%1000], true
	case 2:
		return version2Bucket(fnvString(fnvString(fnvOffset, seed), value)), true
	}
	return 0, false
}

// version2Bucket finishes version 2 from the inner hash fnv(seed+value):
// the inner hash's decimal digits are hashed again.
func version2Bucket(inner uint32) float64 {
	var buf [10]byte
	digits := strconv.AppendUint(buf[:0], uint64(inner), 10)
	h := fnvOffset
	for _, d := range digits {
		h = (h ^ uint32(d)) * fnvPrime
	}
	return float64(h%10000) / 10000
}

// hash3 is version 1 of the hash of value under the seed a+b, without
// building a+b; namespaces hash under "__"+id.
func hash3v1(value, a, b string) float64 {
	return thousandths[fnvString(fnvString(fnvString(fnvOffset, value), a), b)%1000]
}

// thousandths[i] is float64(i)/1000, the version 1 bucket of a hash whose
// remainder is i. Looking it up is the same number as dividing (the table
// is built by that division) without the division's latency, the largest
// single cost of an assignment after the hash itself.
var thousandths = func() (t [1000]float64) {
	for i := range t {
		t[i] = float64(i) / 1000
	}
	return t
}()

// seededHash is Hash for one seed and version, with the seed's share of the
// work done once, when an experiment is compiled.
//
// Version 2 hashes seed+value: the seed is a prefix, so its FNV state is
// simply kept. Version 1 hashes value+seed: the seed is a suffix, and a
// suffix of ASCII units folds into one multiply and a table look-up. The
// step h' = (h^c)·p, with c < 128, equals h·p + δ·p where
// δ = ((h mod 128)^c) − (h mod 128) depends only on h's low seven bits; and
// the low seven bits of every later state depend only on the low seven bits
// of the state the suffix started from, because multiplication carries
// upwards only. So after m suffix units
//
//	h_m = h_0·p^m + add[h_0 mod 128]  (mod 2^32)
//
// and add[l] is fnv(l, suffix) − l·p^m. For a 15-character seed and a
// 9-character user ID this takes 15 of an assignment's 24 serial
// multiplies off its critical path. Non-ASCII seeds hash unit by unit.
type seededHash struct {
	version int
	seed    string
	prefix  uint32       // version 2: the FNV state after the seed
	folded  bool         // version 1: the seed is ASCII and add applies
	mul     uint32       // version 1: p^len(seed)
	add     *[128]uint32 // version 1
}

func newSeededHash(seed string, version int) seededHash {
	s := seededHash{version: version, seed: seed}
	switch version {
	case 1:
		s.folded = true
		s.mul = 1
		for i := 0; i < len(s.seed); i++ {
			if s.seed[i] >= utf8.RuneSelf {
				s.folded = false
				break
			}
			s.mul *= fnvPrime
		}
		if s.folded {
			s.add = new([128]uint32)
			for l := range uint32(128) {
				s.add[l] = fnvString(l, seed) - l*s.mul
			}
		}
	case 2:
		s.prefix = fnvString(fnvOffset, seed)
	}
	return s
}

// of returns Hash(seed, value, version).
func (s *seededHash) of(value string) (float64, bool) {
	switch s.version {
	case 1:
		h := fnvString(fnvOffset, value)
		if s.folded {
			h = h*s.mul + s.add[h&127]
		} else {
			h = fnvString(h, s.seed)
		}
		return thousandths[h%1000], true
	case 2:
		return version2Bucket(fnvString(s.prefix, value)), true
	}
	return 0, false
}
