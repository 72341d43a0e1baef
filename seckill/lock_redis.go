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

// scriptClient is what every Redis backend of the package needs: scripts,
// and pipelines for waiting on replicas.
type scriptClient interface {
	redis.Scripter
	Pipelined(ctx context.Context, fn func(redis.Pipeliner) error) ([]redis.Cmder, error)
}

// LockerRedisClient is the part of go-redis the Redis locker uses.
// *redis.Client, *redis.ClusterClient, *redis.Ring and the failover clients
// implement it.
type LockerRedisClient interface {
	scriptClient
}

var _ LockerRedisClient = redis.UniversalClient(nil)

var (
	//go:embed lua/obtain.lua
	obtainLua    string
	obtainScript = opscript.NewIdempotent(obtainLua)

	//go:embed lua/lease.lua
	leaseLua    string
	leaseScript = opscript.NewIdempotent(leaseLua)

	//go:embed lua/release.lua
	releaseLua    string
	releaseScript = opscript.New(releaseLua)

	//go:embed lua/shared.lua
	sharedLua    string
	sharedScript = opscript.NewIdempotent(sharedLua)
	// sharedReleaseScript runs shared.lua's release once per call.
	sharedReleaseScript = opscript.New(sharedLua)

	//go:embed lua/fenced_write.lua
	fencedWriteLua    string
	fencedWriteScript = opscript.New(fencedWriteLua)
)

// LockerOptions configure a Locker. The zero value means the defaults.
type LockerOptions struct {
	// Prefix starts every Redis key (see NewRedisLocker). Default
	// "shopkit:lock". Redis only.
	Prefix string
	// Now is the Memory locker's clock. Default time.Now. Redis decides
	// leases by its own clock.
	Now func() time.Time
	// WaitReplicas, if positive, makes every Redis grant, refresh and
	// release wait until that many replicas have acknowledged it (WAIT),
	// up to WaitTimeout (default 1s); if they do not, the call returns
	// ErrNotReplicated. With it, a failover cannot hand a lock to a second
	// holder or take the fencing counter back. Needs a *redis.Client
	// (standalone or failover) or *redis.ClusterClient. Redis only.
	WaitReplicas int
	// WaitTimeout bounds the wait for WaitReplicas. Default 1s.
	WaitTimeout time.Duration
	// Observer, if set, receives an Observation of every Obtain and
	// Release.
	Observer Observer
}

// NewRedisLocker returns a Locker whose locks live in Redis; opts.Now does
// not apply. Lock name N uses the keys "<prefix>{N}:lock", which expires
// with the lease, "<prefix>{N}:readers", the shared grants, which expires
// with the longest, and "<prefix>{N}:fence", the token counter, kept for
// the life of the name so that tokens never go backwards: one hash tag per
// lock, so its keys share a slot and different locks spread over a
// Cluster.
func NewRedisLocker(client LockerRedisClient, opts LockerOptions) (*Locker, error) {
	if opts.Prefix == "" {
		opts.Prefix = "shopkit:lock"
	}
	if rule := keyspace.CheckPrefix(opts.Prefix); rule != "" {
		return nil, &InputError{Field: "Prefix", Rule: rule}
	}
	run, err := newRunner(client, opts.WaitReplicas, opts.WaitTimeout)
	if err != nil {
		return nil, err
	}
	return &Locker{backend: &redisLocks{runner: run, prefix: opts.Prefix}, observe: opts.Observer}, nil
}

type redisLocks struct {
	runner
	prefix string
}

func (r *redisLocks) keys(name string) (lock, fence, readers string) {
	tag := keyspace.IDTag(r.prefix, name)
	return tag + ":lock", tag + ":fence", tag + ":readers"
}

func (r *redisLocks) obtain(ctx context.Context, name, owner string, ttl time.Duration) (int64, bool, error) {
	lock, fence, readers := r.keys(name)
	v, err := int64Reply(r.run(ctx, obtainScript, []string{lock, fence, readers}, owner+"|", ttl.Milliseconds()))
	if err != nil {
		return 0, false, fmt.Errorf("seckill: obtain %s: %w", name, err)
	}
	return v, v > 0, nil
}

func (r *redisLocks) lease(ctx context.Context, name, owner, op string, ttl time.Duration) (int64, error) {
	lock, _, _ := r.keys(name)
	v, err := int64Reply(r.run(ctx, leaseScript, []string{lock}, owner+"|", op, ttl.Milliseconds()))
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
	lock, _, _ := r.keys(name)
	v, err := int64Reply(r.run(ctx, releaseScript, []string{lock}, owner+"|"))
	if err != nil {
		return false, fmt.Errorf("seckill: release %s: %w", name, err)
	}
	return v == 1, nil
}

func (r *redisLocks) ttl(ctx context.Context, name, owner string) (time.Duration, bool, error) {
	v, err := r.lease(ctx, name, owner, "ttl", 0)
	if err != nil || v < 0 {
		return 0, false, err
	}
	return time.Duration(v) * time.Millisecond, true, nil
}

// shared runs shared.lua's op for owner's shared grant of name.
func (r *redisLocks) shared(ctx context.Context, op, name, owner string, ttl time.Duration) (int64, error) {
	lock, fence, readers := r.keys(name)
	script := sharedScript
	if op == "release" {
		script = sharedReleaseScript
	}
	v, err := int64Reply(r.run(ctx, script, []string{lock, fence, readers}, op, owner, ttl.Milliseconds()))
	if err != nil {
		return 0, fmt.Errorf("seckill: shared %s %s: %w", op, name, err)
	}
	return v, nil
}

func (r *redisLocks) obtainShared(ctx context.Context, name, owner string, ttl time.Duration) (int64, bool, error) {
	v, err := r.shared(ctx, "obtain", name, owner, ttl)
	return v, err == nil && v > 0, err
}

func (r *redisLocks) refreshShared(ctx context.Context, name, owner string, ttl time.Duration) (int64, bool, error) {
	v, err := r.shared(ctx, "refresh", name, owner, ttl)
	return v, err == nil && v > 0, err
}

func (r *redisLocks) releaseShared(ctx context.Context, name, owner string) (bool, error) {
	v, err := r.shared(ctx, "release", name, owner, 0)
	return v == 1, err
}

func (r *redisLocks) ttlShared(ctx context.Context, name, owner string) (time.Duration, bool, error) {
	v, err := r.shared(ctx, "ttl", name, owner, 0)
	if err != nil || v < 0 {
		return 0, false, err
	}
	return time.Duration(v) * time.Millisecond, true, nil
}
