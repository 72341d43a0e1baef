package opscript_test

import (
	"context"
	"sync"
	"testing"

	"github.com/redis/go-redis/v9"

	"github.com/shopkit/shopkit/internal/keyspace"
	"github.com/shopkit/shopkit/internal/opscript"
	"github.com/shopkit/shopkit/internal/redistest"
)

// bump increments KEYS[1] by ARGV[1] and replies with values of every kind
// a script returns, so the test sees each survive the record.
var bump = opscript.New(`-- a '%s' and 'BODY' in the body stay as written
local n = redis.call('INCRBY', KEYS[1], ARGV[1])
if ARGV[2] == 'fail' then return redis.error_reply('bump: refused') end
return {n, 'text %s', 9007199254740991, -42, {1, 'nested'}, #KEYS, ARGV[1]}`)

func testScript(t *testing.T, c redis.UniversalClient) {
	ctx := context.Background()
	p := redistest.Prefix(t, c)
	key := "{" + p + "}:n"
	got, err := bump.Run(ctx, c, []string{key}, 5, "").Slice()
	if err != nil {
		t.Fatal(err)
	}
	want := []any{int64(5), "text %s", int64(9007199254740991), int64(-42), []any{int64(1), "nested"}, int64(1), "5"}
	if len(got) != len(want) {
		t.Fatalf("reply %v, want %v", got, want)
	}
	for i := range want {
		if a, ok := want[i].([]any); ok {
			b, _ := got[i].([]any)
			if len(b) != 2 || b[0] != a[0] || b[1] != a[1] {
				t.Fatalf("reply[%d] = %v, want %v", i, got[i], want[i])
			}
			continue
		}
		if got[i] != want[i] {
			t.Fatalf("reply[%d] = %#v, want %#v", i, got[i], want[i])
		}
	}
	// An error reply is an outcome too: recorded and replayed as the same
	// error, with the body run once.
	if err := bump.Run(ctx, c, []string{key}, 1, "fail").Err(); err == nil || err.Error() != "bump: refused" {
		t.Fatalf("error reply: %v", err)
	}
	if n, err := c.Get(ctx, key).Int64(); err != nil || n != 6 {
		t.Fatalf("counter = %d, %v; want 6 (each call applied once)", n, err)
	}
}

func TestScriptRedis(t *testing.T)   { testScript(t, redistest.Client(t)) }
func TestScriptCluster(t *testing.T) { testScript(t, redistest.Cluster(t)) }

// TestScriptResent: a resent call answers from its record; the body ran
// once, and the caller sees the first reply.
func TestScriptResent(t *testing.T) { testScript(t, redistest.Resending(t, redistest.Client(t))) }

func TestScriptResentCluster(t *testing.T) {
	testScript(t, redistest.Resending(t, redistest.Cluster(t)))
}

// TestScriptRecordExpires: the record carries the documented retention.
func TestScriptRecordExpires(t *testing.T) {
	c := redistest.Client(t)
	ctx := context.Background()
	p := redistest.Prefix(t, c)
	key := "{" + p + "}:n"
	if err := bump.Run(ctx, c, []string{key}, 1, "").Err(); err != nil {
		t.Fatal(err)
	}
	keys, err := c.Keys(ctx, opscript.RecordKey(key, "*")).Result()
	if err != nil || len(keys) != 1 {
		t.Fatalf("records = %v, %v; want one", keys, err)
	}
	ttl, err := c.PTTL(ctx, keys[0]).Result()
	if err != nil || ttl <= 0 || ttl > opscript.Retention {
		t.Fatalf("record TTL = %v, %v; want in (0, %v]", ttl, err, opscript.Retention)
	}
}

func TestNewIDUniqueAndValid(t *testing.T) {
	const workers, each = 8, 1000
	var mu sync.Mutex
	seen := make(map[string]bool, workers*each)
	var wg sync.WaitGroup
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range each {
				id := opscript.NewID()
				if rule := keyspace.CheckID(id); rule != "" {
					t.Errorf("NewID() = %q: %s", id, rule)
				}
				mu.Lock()
				if seen[id] {
					t.Errorf("NewID() returned %q twice", id)
				}
				seen[id] = true
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
}

// TestIdempotentScriptRunsBare: a script declared retry-safe as it is runs
// without an operation record, and still answers a resend as its first
// call did (here, HSETNX).
func TestIdempotentScriptRunsBare(t *testing.T) {
	setnx := opscript.NewIdempotent(`redis.call('HSETNX', KEYS[1], 'f', ARGV[1])
return redis.call('HGET', KEYS[1], 'f')`)
	c := redistest.Resending(t, redistest.Client(t))
	ctx := context.Background()
	key := "{" + redistest.Prefix(t, c) + "}:h"
	if v, err := setnx.Run(ctx, c, []string{key}, "first").Text(); err != nil || v != "first" {
		t.Fatalf("Run = %q, %v", v, err)
	}
	if keys, err := c.Keys(ctx, opscript.RecordKey(key, "*")).Result(); err != nil || len(keys) != 0 {
		t.Fatalf("records %v, %v; want none", keys, err)
	}
}
