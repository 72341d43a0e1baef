package pricing

import (
	"crypto/rand"
	"math"
	"math/big"
	"strings"

	"github.com/shopkit/shopkit/internal/keyspace"
)

// CodeSpec describes coupon codes to generate in bulk.
type CodeSpec struct {
	// Pattern is a code's shape: each '#' is a random symbol from
	// Alphabet, anything else is kept as written ("WELCOME-####-####").
	Pattern string
	// Alphabet is the symbols to draw from. Default CodeAlphabet.
	Alphabet string
	// Count is how many codes to make (1 to 1,000,000).
	Count int
	// Taken, if set, reports codes already in use (an earlier batch, a
	// store of issued codes); they are drawn again.
	Taken func(code string) bool
}

// CodeAlphabet is the default alphabet: digits and capitals without the
// ones people confuse (0/O, 1/I/L), 31 symbols.
const CodeAlphabet = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"

// MinCodeBits is the least randomness a code may carry: with 40 bits, a
// guesser trying a million codes a day against a million live ones finds
// one about every three years.
const MinCodeBits = 40

// GenerateCodes makes spec.Count distinct codes, each symbol drawn
// uniformly from the alphabet by crypto/rand, none of them taken. A
// pattern too short to carry MinCodeBits of randomness is an error; with
// that many bits a batch of a million fills under a millionth of the code
// space, so collisions (drawn again) stay rare and live codes hard to
// guess.
func GenerateCodes(spec CodeSpec) ([]string, error) {
	alphabet := spec.Alphabet
	if alphabet == "" {
		alphabet = CodeAlphabet
	}
	slots := strings.Count(spec.Pattern, "#")
	switch {
	case len(alphabet) < 2 || len(alphabet) > 256:
		return nil, &InputError{Field: "Alphabet", Rule: "must have 2 to 256 symbols"}
	case spec.Count < 1 || spec.Count > 1_000_000:
		return nil, &InputError{Field: "Count", Rule: "must be between 1 and 1000000"}
	}
	seen := map[byte]bool{}
	for i := 0; i < len(alphabet); i++ {
		if seen[alphabet[i]] || alphabet[i] == '#' {
			return nil, &InputError{Field: "Alphabet", Rule: "must have distinct symbols other than '#'"}
		}
		seen[alphabet[i]] = true
	}
	bits := float64(slots) * math.Log2(float64(len(alphabet)))
	if bits < MinCodeBits {
		return nil, &InputError{Field: "Pattern", Rule: "must have enough '#' for 40 bits of randomness"}
	}
	// A code must be a valid ID for the stores: the pattern's length and
	// literals, and every symbol.
	if rule := keyspace.CheckID(strings.ReplaceAll(spec.Pattern, "#", alphabet[:1])); rule != "" {
		return nil, &InputError{Field: "Pattern", Rule: rule}
	}
	for i := 0; i < len(alphabet); i++ {
		if rule := keyspace.CheckID(alphabet[i : i+1]); rule != "" {
			return nil, &InputError{Field: "Alphabet", Rule: rule}
		}
	}
	n := big.NewInt(int64(len(alphabet)))
	out := make([]string, 0, spec.Count)
	made := make(map[string]struct{}, spec.Count)
	var b strings.Builder
	for len(out) < spec.Count {
		b.Reset()
		for i := 0; i < len(spec.Pattern); i++ {
			if spec.Pattern[i] != '#' {
				b.WriteByte(spec.Pattern[i])
				continue
			}
			k, err := rand.Int(rand.Reader, n)
			if err != nil {
				return nil, err
			}
			b.WriteByte(alphabet[k.Int64()])
		}
		code := b.String()
		if _, dup := made[code]; dup || (spec.Taken != nil && spec.Taken(code)) {
			continue // a collision: draw again
		}
		made[code] = struct{}{}
		out = append(out, code)
	}
	return out, nil
}
