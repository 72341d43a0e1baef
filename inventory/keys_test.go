package inventory

import (
	"testing"

	"github.com/shopkit/shopkit/internal/keyspace"
	"github.com/shopkit/shopkit/internal/keyspace/keyspacetest"
)

// TestKeysInjective searches the store's key names — a stock level per
// (SKU, location), an adjustment's, shipment's, purchase order's or arrival's record per ID, the arrivals of an item, the store's
// indexes, and a spread store's group keys and claims — for two owners
// sharing a key.
func TestKeysInjective(t *testing.T) {
	store := func(p string) *redisBackend {
		s := &redisBackend{tag: keyspace.Tag(p)}
		s.expKey, s.resKey, s.finKey, s.fulKey = s.tag+":x", s.tag+":res", s.tag+":fin", s.tag+":ful"
		return s
	}
	keyspacetest.Injective(t,
		keyspacetest.Builder{Name: "store", Arity: 0, Keys: func(p string, _ []string) []string {
			s := store(p)
			return []string{s.expKey, s.resKey, s.finKey, s.fulKey}
		}},
		keyspacetest.Builder{Name: "stock", Arity: 2, Keys: func(p string, ids []string) []string {
			s := store(p)
			return []string{s.stockKey(ids[0], ids[1]), s.arrivalsKey(ids[0], ids[1])}
		}},
		keyspacetest.Builder{Name: "adjustment", Arity: 1, Keys: func(p string, ids []string) []string {
			return []string{store(p).adjKey(ids[0])}
		}},
		keyspacetest.Builder{Name: "shipment", Arity: 1, Keys: func(p string, ids []string) []string {
			return []string{store(p).fulfilKey(ids[0])}
		}},
		keyspacetest.Builder{Name: "purchase order", Arity: 1, Keys: func(p string, ids []string) []string {
			return []string{store(p).orderKey(ids[0])}
		}},
		keyspacetest.Builder{Name: "arrival", Arity: 1, Keys: func(p string, ids []string) []string {
			return []string{store(p).arrivalKey(ids[0])}
		}},
		// A spread store's stock group keeps these beside the keys above,
		// under its own tag.
		keyspacetest.Builder{Name: "spread group", Arity: 0, Keys: func(p string, _ []string) []string {
			b := &spreadBackend{groups: []*redisBackend{store(p)}}
			b.groups[0].homeKey = b.groups[0].tag + ":home"
			var keys []string
			for _, k := range b.homeKeys(0) {
				if k != b.groups[0].resKey { // the group's records, listed above
					keys = append(keys, k)
				}
			}
			return append(keys, b.poPendingKey(0))
		}},
		keyspacetest.Builder{Name: "spread claim", Arity: 1, Keys: func(p string, ids []string) []string {
			b := &spreadBackend{groups: []*redisBackend{store(p)}}
			return []string{store(p).tag + ":ac:" + ids[0], b.poHomeKey(ids[0])}
		}},
	)
}
