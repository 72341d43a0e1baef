package logistics

import (
	"testing"

	"github.com/shopkit/shopkit/internal/keyspace/keyspacetest"
)

// TestKeysInjective searches the merge store's key names for two merge
// keys, or two prefixes, sharing a key.
func TestKeysInjective(t *testing.T) {
	keyspacetest.Injective(t, keyspacetest.Builder{Name: "merge key", Arity: 1, Keys: func(p string, ids []string) []string {
		return (&redisMerge{prefix: p}).keys(ids[0])
	}})
}

// TestRegistryKeysInjective searches the waybill registry's key names for
// two order codes, or two prefixes, sharing a key.
func TestRegistryKeysInjective(t *testing.T) {
	keyspacetest.Injective(t, keyspacetest.Builder{Name: "order code", Arity: 1, Keys: func(p string, ids []string) []string {
		return (&redisRegistry{prefix: p}).keys(ids[0])
	}})
}
