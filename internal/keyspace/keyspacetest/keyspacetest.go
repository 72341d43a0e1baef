// Package keyspacetest searches a store's key construction for collisions:
// two different (prefix, IDs) tuples that name the same key.
package keyspacetest

import (
	"strings"
	"testing"

	"github.com/shopkit/shopkit/internal/keyspace"
)

// alphabet holds the characters that make collisions: the separators
// stores put between parts (':' is legal in prefixes, '.', '|', '-' in
// IDs) and two ordinary characters.
const alphabet = "a1:.|-"

// strs returns every string of 1 to maxLen characters from alphabet that
// check accepts.
func strs(maxLen int, check func(string) string) []string {
	var out []string
	var grow func(s string)
	grow = func(s string) {
		if s != "" && check(s) == "" {
			out = append(out, s)
		}
		if len(s) == maxLen {
			return
		}
		for _, c := range alphabet {
			grow(s + string(c))
		}
	}
	grow("")
	return out
}

// Prefixes returns every valid prefix of up to 3 characters from the
// collision alphabet.
func Prefixes() []string { return strs(3, keyspace.CheckPrefix) }

// IDs returns every valid ID of up to 2 characters from the collision
// alphabet holds the characters that make collisions: the separators
func IDs() []string { return strs(2, keyspace.CheckID) }

// Builder is one kind of owner of keys: Keys returns every key a store
// writes for the prefix and the Arity IDs.
type Builder struct {
	Name  string
	Arity int
	Keys  func(prefix string, ids []string) []string
}

// Injective fails t if two different owners — a different builder, prefix
// or ID tuple — are given the same key. Put every kind of key one store
// writes in one call, so that kinds are checked against each other too (a
// sale's keys against a bucket's, say).
func Injective(t testing.TB, builders ...Builder) {
	t.Helper()
	ids := IDs()
	seen := map[string]string{}
	for _, b := range builders {
		tuple := make([]string, b.Arity)
		var fill func(i int, prefix string)
		fill = func(i int, prefix string) {
			if i < b.Arity {
				for _, id := range ids {
					tuple[i] = id
					fill(i+1, prefix)
				}
				return
			}
			owner := b.Name + "(" + strings.Join(append([]string{prefix}, tuple...), ", ") + ")"
			for _, k := range b.Keys(prefix, tuple) {
				if prev, ok := seen[k]; ok && prev != owner {
					t.Fatalf("key %q belongs to %s and to %s", k, prev, owner)
				}
				seen[k] = owner
			}
		}
		for _, p := range Prefixes() {
			fill(0, p)
		}
	}
}
