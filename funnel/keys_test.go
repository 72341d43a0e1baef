package funnel

import (
	"testing"

	"github.com/shopkit/shopkit/internal/keyspace/keyspacetest"
)

// shardDays calls f with the key prefix of a spread of shards' days.
func shardDays(p string, f func(dayKey string)) {
	r := &redisBackend{prefix: p}
	for shard := range 12 {
		for _, day := range []int64{0, 1, 20000} {
			f(r.dayKey(shard, day))
		}
	}
}

// TestKeysInjective searches the event store's key names (a shard's day:
// its IDs and counter; each event name's list and uniques) for two owners
// sharing a key. The IDs of the search stand in for event names.
func TestKeysInjective(t *testing.T) {
	keyspacetest.Injective(t,
		keyspacetest.Builder{Name: "days", Arity: 0, Keys: func(p string, _ []string) (keys []string) {
			shardDays(p, func(dk string) { keys = append(keys, dk+":ids", dk+":n") })
			return keys
		}},
		keyspacetest.Builder{Name: "event name", Arity: 1, Keys: func(p string, ids []string) (keys []string) {
			shardDays(p, func(dk string) { keys = append(keys, dk+":e:"+ids[0], dk+":u:"+ids[0]) })
			return keys
		}},
	)
}
