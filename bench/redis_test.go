package bench

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"os"
	"runtime"
	"testing"

	"github.com/alicebob/miniredis/v2"
	"github.com/redis/go-redis/v9"

	"github.com/shopkit/shopkit/internal/rediskeys"
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
	if err := c.Ping(context.Background()).Err(); err != nil {
		b.Fatal(err)
	}
	return c
}

// prefix returns a fresh key prefix and deletes its keys after b.
func prefix(b *testing.B, c *redis.Client) string {
	var r [6]byte
	_, _ = rand.Read(r[:])
	p := "bench:" + hex.EncodeToString(r[:])
	b.Cleanup(func() { _ = rediskeys.DeleteMatching(context.Background(), c, "*"+p+"*") })
	return p
}
