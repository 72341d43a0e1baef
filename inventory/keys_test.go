package inventory

import (
	"testing"

	"github.com/shopkit/shopkit/internal/keyspace"
	"github.com/shopkit/shopkit/internal/keyspace/keyspacetest"
)

// TestKeysInjective searches the store's key names — a stock level per
// (SKU, location), a receipt's or adjustment's record per ID, the store's
// indexes — for two owners sharing a key.
func TestKeysInjective(t *testing.T) {
	store := func(p string) *redisBackend {
		s := &redisBackend{tag: keyspace.Tag(p)}
		s.expKey, s.resKey, s.finKey = s.tag+":x", s.tag+":res", s.tag+":fin"
		return s
	}
	keyspacetest.Injective(t,
		keyspacetest.Builder{Name: "store", Arity: 0, Keys: func(p string, _ []string) []string {
			s := store(p)
			return []string{s.expKey, s.resKey, s.finKey}
		}},
		keyspacetest.Builder{Name: "stock", Arity: 2, Keys: func(p string, ids []string) []string {
			return []string{store(p).stockKey(ids[0], ids[1])}
		}},
		keyspacetest.Builder{Name: "adjustment", Arity: 1, Keys: func(p string, ids []string) []string {
			return []string{store(p).adjKey(ids[0])}
		}},
	)
}
