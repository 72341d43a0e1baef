package bench

import (
	"context"
	"strconv"
	"sync/atomic"
	"testing"
	"time"

	"github.com/bsm/redislock"
	"github.com/go-redis/redis_rate/v10"
	"github.com/go-redsync/redsync/v4"
	"github.com/go-redsync/redsync/v4/redis/goredis/v9"

	"github.com/shopkit/shopkit/seckill"
)

// BenchmarkLock: 64 concurrent callers each obtain and release a lock of
// their own name (the uncontended path every request pays).
//
//   - shopkit: seckill.Locker, which also issues a fencing token per grant.
//   - redislock: bsm/redislock Obtain + Release.
//   - redsync: go-redsync/redsync Lock + Unlock on one Redis.
func BenchmarkLock(b *testing.B) {
	ctx := context.Background()
	run := func(b *testing.B, lockUnlock func(name string) error) {
		var seq atomic.Int64
		setCallers(b)
		b.ReportAllocs()
		cpu := startCPU(b)
		b.ResetTimer()
		b.RunParallel(func(pb *testing.PB) {
			name := "lock-" + strconv.FormatInt(seq.Add(1), 10)
			for pb.Next() {
				if err := lockUnlock(name); err != nil {
					b.Error(err)
					return
				}
			}
		})
		cpu.Report(b)
	}
	b.Run("shopkit", func(b *testing.B) {
		c := client(b)
		lk, err := seckill.NewRedisLocker(c, seckill.LockerOptions{Prefix: prefix(b, c)})
		if err != nil {
			b.Fatal(err)
		}
		run(b, func(name string) error {
			l, err := lk.Obtain(ctx, name, 10*time.Second, seckill.ObtainOptions{})
			if err != nil {
				return err
			}
			return l.Release(ctx)
		})
	})
	b.Run("redislock", func(b *testing.B) {
		c := client(b)
		p := prefix(b, c)
		locker := redislock.New(c)
		run(b, func(name string) error {
			l, err := locker.Obtain(ctx, p+name, 10*time.Second, nil)
			if err != nil {
				return err
			}
			return l.Release(ctx)
		})
	})
	b.Run("redsync", func(b *testing.B) {
		c := client(b)
		p := prefix(b, c)
		rs := redsync.New(goredis.NewPool(c))
		run(b, func(name string) error {
			m := rs.NewMutex(p+name, redsync.WithExpiry(10*time.Second), redsync.WithTries(1))
			if err := m.LockContext(ctx); err != nil {
				return err
			}
			_, err := m.UnlockContext(ctx)
			return err
		})
	})
}

// BenchmarkRateLimit: 64 concurrent callers, each checking its own key
// (a per-user limit) that never runs out.
//
//   - shopkit: seckill.Limiter.Allow.
//   - redis_rate: go-redis/redis_rate Limiter.Allow.
func BenchmarkRateLimit(b *testing.B) {
	ctx := context.Background()
	run := func(b *testing.B, allow func(key string) (bool, error)) {
		var seq atomic.Int64
		setCallers(b)
		b.ReportAllocs()
		cpu := startCPU(b)
		b.ResetTimer()
		b.RunParallel(func(pb *testing.PB) {
			key := "user-" + strconv.FormatInt(seq.Add(1), 10)
			for pb.Next() {
				ok, err := allow(key)
				if err != nil || !ok {
					b.Error("denied or failed", err)
					return
				}
			}
		})
		cpu.Report(b)
	}
	b.Run("shopkit", func(b *testing.B) {
		c := client(b)
		l, err := seckill.NewRedisLimiter(c, seckill.LimiterOptions{Prefix: prefix(b, c)})
		if err != nil {
			b.Fatal(err)
		}
		limit := seckill.PerSecond(1e6, 1e6)
		run(b, func(key string) (bool, error) {
			res, err := l.Allow(ctx, key, limit)
			return res.Allowed == 1, err
		})
	})
	b.Run("redis_rate", func(b *testing.B) {
		c := client(b)
		p := prefix(b, c)
		l := redis_rate.NewLimiter(c)
		limit := redis_rate.Limit{Rate: 1e6, Burst: 1e6, Period: time.Second}
		run(b, func(key string) (bool, error) {
			res, err := l.Allow(ctx, p+key, limit)
			return res.Allowed == 1, err
		})
	})
}
