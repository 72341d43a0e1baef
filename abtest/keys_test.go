package abtest

import (
	"testing"

	"github.com/shopkit/shopkit/internal/keyspace/keyspacetest"
)

// TestKeysInjective searches sticky documents' key names for two
// (attribute, value) pairs, or two prefixes, sharing a key. Attributes and
// values are arbitrary strings, so the search's IDs are joined with the
// separators they might hold.
func TestKeysInjective(t *testing.T) {
	keyspacetest.Injective(t, keyspacetest.Builder{Name: "document", Arity: 2, Keys: func(p string, ids []string) []string {
		s := &redisSticky{prefix: p}
		return []string{s.key(ids[0], ids[1]), s.key(ids[0]+":"+ids[1], ""), s.key(ids[0], ids[1]+"}")}
	}})
}
