package seckill

import (
	"context"
	_ "embed"
	"fmt"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/shopkit/shopkit/internal/keyspace"
	"github.com/shopkit/shopkit/internal/opscript"
)

// RedisClient is the part of go-redis the Redis backends use.
// *redis.Client, *redis.ClusterClient, *redis.Ring and the failover clients
// implement it.
type RedisClient interface {
	redis.Scripter
}

var _ RedisClient = redis.UniversalClient(nil)

var (
	//go:embed lua/obtain.lua
	obtainLua    string
	obtainScript = opscript.New(obtainLua)

	//go:embed lua/lease.lua
	leaseLua    string
	leaseScript = opscript.New(leaseLua)

	//go:embed lua/fenced_write.lua
	fencedWriteLua    string
	fencedWriteScript = opscript.New(fencedWriteLua)
)

// NewRedisLocker returns a Locker whose locks live in Redis. Lock name N
// uses the keys "<prefix>{N}:lock" and "<prefix>{N}:fence": one hash tag
// per lock, so lock and fence share a slot and different locks spread over
// a Cluster. Prefix defaults to "shopkit:lock".
func NewRedisLocker(client RedisClient, prefix string) (*Locker, error) {
	if prefix == "" {
		prefix = "shopkit:lock"
	}
	if rule := keyspace.CheckPrefix(prefix); rule != "" {
		return nil, &InputError{Field: "Prefix", Rule: rule}
	}
	return &Locker{backend: &redisLocks{client: client, prefix: prefix}}, nil
}

type redisLocks struct {
	client RedisClient
	prefix string
}

func (r *redisLocks) keys(name string) (lock, fence string) {
	tag := keyspace.IDTag(r.prefix, name)
	return tag + ":lock", tag + ":fence"
}

func (r *redisLocks) obtain(ctx context.Context, name, owner string, ttl time.Duration) (int64, bool, error) {
	lock, fence := r.keys(name)
	v, err := obtainScript.Run(ctx, r.client, []string{lock, fence}, owner+"|", ttl.Milliseconds()).Int64()
	if err != nil {
		return 0, false, fmt.Errorf("seckill: obtain %s: %w", name, err)
	}
	return v, v > 0, nil
}

func (r *redisLocks) lease(ctx context.Context, name, owner, op string, ttl time.Duration) (int64, error) {
	lock, _ := r.keys(name)
	v, err := leaseScript.Run(ctx, r.client, []string{lock}, owner+"|", op, ttl.Milliseconds()).Int64()
	if err != nil {
		return 0, fmt.Errorf("seckill: %s %s: %w", op, name, err)
	}
	return v, nil
}

func (r *redisLocks) refresh(ctx context.Context, name, owner string, ttl time.Duration) (int64, bool, error) {
	v, err := r.lease(ctx, name, owner, "refresh", ttl)
	return v, err == nil && v > 0, err
}

func (r *redisLocks) release(ctx context.Context, name, owner string) (bool, error) {
	v, err := r.lease(ctx, name, owner, "release", 0)
	return err == nil && v == 1, err
}

func (r *redisLocks) ttl(ctx context.Context, name, owner string) (time.Duration, bool, error) {
	v, err := r.lease(ctx, name, owner, "ttl", 0)
	if err != nil || v < 0 {
		return 0, false, err
	}
	return time.Duration(v) * time.Millisecond, true, nil
}
