package seckill

import (
	"context"
	"strconv"
	"testing"
	"time"

	"github.com/shopkit/shopkit/internal/redistest"
)

// BenchmarkAdmitBatchOf32 measures an admission in an admit.lua batch of
// exactly 32, one script call per batch. Under many callers the batch
// size depends on scheduling, and so does the server's cost per
// admission; a fixed batch makes redis-cpu-ns/op (per admission)
// comparable between runs and versions of the script.
func BenchmarkAdmitBatchOf32(b *testing.B) {
	const batch = 32
	client := redistest.Client(b)
	ctx := context.Background()
	g, err := NewRedisGate(client, GateOptions{Prefix: redistest.Prefix(b, client)})
	if err != nil {
		b.Fatal(err)
	}
	defer g.Close()
	now := time.Now()
	if err := g.Open(ctx, Sale{ID: "hot", SKU: "x", Units: 1 << 50, Start: now.Add(-time.Minute), End: now.Add(time.Hour), PerUserLimit: 1}); err != nil {
		b.Fatal(err)
	}
	r := g.backend.(*redisGate)
	keys := r.keys(bucketID("hot", 0))
	calls := make([]*admitCall, b.N)
	for i := range calls {
		id := "u" + strconv.Itoa(i)
		calls[i] = &admitCall{user: id, request: id, qty: 1, done: make(chan struct{})}
	}
	cpu := redistest.StartCPU(b, client)
	b.ResetTimer()
	for i := 0; i < b.N; i += batch {
		r.runAdmits("hot", keys, calls[i:min(i+batch, b.N)])
	}
	b.StopTimer()
	cpu.Report(b)
	if c := calls[b.N-1]; c.err != nil || c.out.Outcome != Admitted {
		b.Fatalf("admission %d: %v, %v", b.N-1, c.out.Outcome, c.err)
	}
}
