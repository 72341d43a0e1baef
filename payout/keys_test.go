package payout

import (
	"testing"

	"github.com/shopkit/shopkit/internal/keyspace"
	"github.com/shopkit/shopkit/internal/keyspace/keyspacetest"
)

// TestKeysInjective searches the ledger's key names — a transaction per ID,
// an account's balance, pending and history keys — for two owners sharing
// a key.
func TestKeysInjective(t *testing.T) {
	ledger := func(p string) *redisLedger { return &redisLedger{tag: keyspace.Tag(p)} }
	keyspacetest.Injective(t,
		keyspacetest.Builder{Name: "transaction", Arity: 1, Keys: func(p string, ids []string) []string {
			return []string{ledger(p).txKey(ids[0])}
		}},
		keyspacetest.Builder{Name: "account", Arity: 1, Keys: func(p string, ids []string) []string {
			b, d, h := ledger(p).accountKeys(ids[0])
			return []string{b, d, h}
		}},
	)
}
