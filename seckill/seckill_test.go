package seckill_test

import (
	"testing"

	"github.com/redis/go-redis/v9"

	"github.com/shopkit/shopkit/internal/redistest"
	"github.com/shopkit/shopkit/seckill"
	"github.com/shopkit/shopkit/seckill/seckilltest"
)

func TestMemory(t *testing.T) {
	seckilltest.Run(t, seckilltest.Harness{
		NewLocker:  func(t *testing.T) *seckill.Locker { return seckill.NewMemoryLocker(seckill.LockerOptions{}) },
		NewLimiter: func(t *testing.T) *seckill.Limiter { return seckill.NewMemoryLimiter(seckill.LimiterOptions{}) },
		NewFenced: func(t *testing.T) *seckill.FencedStore {
			return seckill.NewMemoryFencedStore(seckill.FencedStoreOptions{})
		},
		NewGate: func(t *testing.T, opts seckill.GateOptions) *seckill.Gate {
			g := seckill.NewMemoryGate(opts)
			t.Cleanup(func() { _ = g.Close() })
			return g
		},
	})
}

func redisHarness(client redis.UniversalClient) seckilltest.Harness {
	return seckilltest.Harness{
		NewLocker: func(t *testing.T) *seckill.Locker {
			lk, err := seckill.NewRedisLocker(client, seckill.LockerOptions{Prefix: redistest.Prefix(t, client)})
			if err != nil {
				t.Fatal(err)
			}
			return lk
		},
		NewLimiter: func(t *testing.T) *seckill.Limiter {
			l, err := seckill.NewRedisLimiter(client, seckill.LimiterOptions{Prefix: redistest.Prefix(t, client)})
			if err != nil {
				t.Fatal(err)
			}
			return l
		},
		NewFenced: func(t *testing.T) *seckill.FencedStore {
			f, err := seckill.NewRedisFencedStore(client, seckill.FencedStoreOptions{Prefix: redistest.Prefix(t, client)})
			if err != nil {
				t.Fatal(err)
			}
			return f
		},
		NewGate: func(t *testing.T, opts seckill.GateOptions) *seckill.Gate {
			opts.Prefix = redistest.Prefix(t, client)
			g, err := seckill.NewRedisGate(client, opts)
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { _ = g.Close() })
			return g
		},
	}
}

func TestRedis(t *testing.T) {
	seckilltest.Run(t, redisHarness(redistest.Client(t)))
}

func TestRedisCluster(t *testing.T) {
	seckilltest.Run(t, redisHarness(redistest.Cluster(t)))
}

// TestRedisResent runs the whole suite over a client that runs every
// script twice, as go-redis does when it resends a call whose reply timed
// out: every outcome the suite checks must survive the resend.
func TestRedisResent(t *testing.T) {
	seckilltest.Run(t, redisHarness(redistest.Resending(t, redistest.Client(t))))
}
