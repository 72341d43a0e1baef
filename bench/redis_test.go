package bench

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"os"
	"runtime"
	"sync"
	"testing"

	"github.com/alicebob/miniredis/v2"
	"github.com/redis/go-redis/v9"

	"github.com/shopkit/shopkit/internal/rediskeys"
	"github.com/shopkit/shopkit/internal/redistest"
)

// callers is how many goroutines contend in the parallel benchmarks.
const callers = 64

// setCallers makes b.RunParallel use callers goroutines.
func setCallers(b *testing.B) {
	b.SetParallelism((callers + runtime.GOMAXPROCS(0) - 1) / runtime.GOMAXPROCS(0))
}

// client returns a client for REDIS_ADDR, or for an embedded miniredis. Its
// pool has a connection per caller, so no contender is limited by the pool.
func client(b *testing.B) *redis.Client {
	b.Helper()
	addr := os.Getenv("REDIS_ADDR")
	if addr == "" {
		m := miniredis.RunT(b)
		addr = m.Addr()
	}
	c := redis.NewClient(&redis.Options{Addr: addr, PoolSize: callers})
	b.Cleanup(func() { _ = c.Close() })
	clients.Store(b, c)
	b.Cleanup(func() { clients.Delete(b) })
	if err := c.Ping(context.Background()).Err(); err != nil {
		b.Fatal(err)
	}
	return c
}

// clients maps each benchmark to the client it made, so startCPU finds
// the server to measure.
var clients sync.Map // *testing.B → *redis.Client

// startCPU starts measuring b's CPU: the Redis server's, if b made a
// client, and this process's. Report after the timed loop adds
// redis-cpu-ns/op and go-cpu-ns/op beside ns/op.
func startCPU(b *testing.B) *redistest.CPU {
	var c redis.UniversalClient
	if v, ok := clients.Load(b); ok {
		c = v.(*redis.Client)
	}
	return redistest.StartCPU(b, c)
}

// prefix returns a fresh key prefix and deletes its keys after b.
func prefix(b *testing.B, c *redis.Client) string {
	var r [6]byte
	_, _ = rand.Read(r[:])
	p := "bench:" + hex.EncodeToString(r[:])
	b.Cleanup(func() { _ = rediskeys.DeleteMatching(context.Background(), c, "*"+p+"*") })
	return p
}
