package pricing

import (
	"testing"

	"github.com/shopkit/shopkit/internal/keyspace"
	"github.com/shopkit/shopkit/internal/keyspace/keyspacetest"
)

// TestKeysInjective searches coupon redemption and rule-source key names
// for two owners sharing a key.
func TestKeysInjective(t *testing.T) {
	keyspacetest.Injective(t,
		keyspacetest.Builder{Name: "coupon", Arity: 1, Keys: func(p string, ids []string) []string {
			return (&redisRedemptions{prefix: p}).keys(ids[0])
		}},
		keyspacetest.Builder{Name: "rules", Arity: 0, Keys: func(p string, _ []string) []string {
			tag := keyspace.Tag(p)
			return []string{tag + ":rules", tag + ":publishes"}
		}},
	)
}
