package inventory

import (
	"context"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/shopkit/shopkit/internal/redistest"
)

// BenchmarkCommitBatchOf32 measures a commit in a transitions.lua batch of
// exactly 32, one script call per batch, on one hot SKU. Under 64
// callers (BenchmarkCommit) the batch size depends on scheduling, and so
// does the server's cost per commit; a fixed batch makes redis-cpu-ns/op
// (per commit) comparable between runs and versions of the script.
func BenchmarkCommitBatchOf32(b *testing.B) {
	const batch = 32
	client, s, be := hotRedisStore(b)
	ctx := context.Background()
	// Reserve b.N, 64 at a time, then build the commits from the records
	// (the line cache keeps only the latest reservations).
	line := []Line{{SKU: "hot", Location: "wh1", Quantity: 1}}
	calls := make([]*transitionCall, b.N)
	var wg sync.WaitGroup
	for g := range 64 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := g; i < b.N; i += 64 {
				id := "c" + strconv.Itoa(i)
				if _, err := s.Reserve(ctx, Request{ID: id, Lines: line, TTL: time.Hour}); err != nil {
					b.Error(err)
					return
				}
				enc, lines, err := be.readLines(ctx, "commit", id)
				if err != nil {
					b.Error(err)
					return
				}
				calls[i] = be.newTransitionCall("commit", id, enc, lines, nil, 0)
			}
		}()
	}
	wg.Wait()
	if b.Failed() {
		return
	}
	cpu := redistest.StartCPU(b, client)
	b.ResetTimer()
	for i := 0; i < b.N; i += batch {
		rows, err := be.transitions(ctx, calls[i:min(i+batch, b.N)])
		if err != nil {
			b.Fatal(err)
		}
		if rows[0].res[0] != transitionDone || rows[0].res[4] != 1 {
			b.Fatalf("commit %d: reply %v", i, rows[0].res)
		}
	}
	b.StopTimer()
	cpu.Report(b)
}

// BenchmarkReserveBatchOf32 measures a reservation in a reserve.lua batch
// of exactly 32 on one hot SKU, for the same reason as
// BenchmarkCommitBatchOf32: redis-cpu-ns/op (per reservation) that
// scheduling does not move.
func BenchmarkReserveBatchOf32(b *testing.B) {
	const batch = 32
	client, _, be := hotRedisStore(b)
	line := []Line{{SKU: "hot", Location: "wh1", Quantity: 1}}
	enc, keys := encodeLines(line), []string{be.stockKey("hot", "wh1")}
	calls := make([]*reserveCall, b.N)
	for i := range calls {
		calls[i] = &reserveCall{id: "r" + strconv.Itoa(i), lines: line, enc: enc, ttl: time.Hour, stockKey: keys, done: make(chan struct{})}
	}
	cpu := redistest.StartCPU(b, client)
	b.ResetTimer()
	for i := 0; i < b.N; i += batch {
		be.sendReserveBatch(calls[i:min(i+batch, b.N)])
	}
	b.StopTimer()
	cpu.Report(b)
	if c := calls[b.N-1]; c.err != nil || !c.reserved {
		b.Fatalf("reservation %d: %v", b.N-1, c.err)
	}
}

// hotRedisStore returns a Redis store, closed when b ends, whose SKU "hot"
// at "wh1" has all the stock there can be, with its client and backend.
func hotRedisStore(b *testing.B) (redis.UniversalClient, *Store, *redisBackend) {
	client := redistest.Client(b)
	s, err := NewRedis(client, Options{Prefix: redistest.Prefix(b, client)})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { _ = s.Close() })
	if _, err := s.SetOnHand(context.Background(), Count{ID: "init", SKU: "hot", Location: "wh1", OnHand: MaxQuantity, Reason: ReasonCount}); err != nil {
		b.Fatal(err)
	}
	return client, s, s.b.(*redisBackend)
}
