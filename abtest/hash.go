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
		return float64(fnvString(fnvString(fnvOffset, value), seed)%1000) / 1000, true
	case 2:
		inner := fnvString(fnvString(fnvOffset, seed), value)
		var buf [10]byte
		digits := strconv.AppendUint(buf[:0], uint64(inner), 10)
		h := fnvOffset
		for _, d := range digits {
			h = (h ^ uint32(d)) * fnvPrime
		}
		return float64(h%10000) / 10000, true
	}
	return 0, false
}

// hash3 is version 1 of the hash of value under the seed a+b, without
// building a+b; namespaces hash under "__"+id.
func hash3v1(value, a, b string) float64 {
	return float64(fnvString(fnvString(fnvString(fnvOffset, value), a), b)%1000) / 1000
}
