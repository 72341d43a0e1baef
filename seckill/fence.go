package seckill

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/shopkit/shopkit/internal/keyspace"
)

// ErrStaleToken means a write carried a fencing token older than one the
// resource has already seen: its lock was lost to a newer holder.
var ErrStaleToken = errors.New("seckill: stale fencing token")

// Fence is the check a protected resource makes before accepting a write
// from a lock holder: it remembers the largest token seen per resource and
// refuses smaller ones. Use it where the resource is in this process or
// behind a store that can run the check atomically with the write; for
// Redis, RedisFence does both in one script. Fence is safe for concurrent
// use; its zero value is ready.
type Fence struct {
	mu   sync.Mutex
	seen map[string]int64
}

// Admit records token for resource and returns nil, or ErrStaleToken if a
// larger token was already admitted. Equal tokens are admitted: one lease
// may write many times.
func (f *Fence) Admit(resource string, token int64) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.seen == nil {
		f.seen = map[string]int64{}
	}
	if token < f.seen[resource] {
		return ErrStaleToken
	}
	f.seen[resource] = token
	return nil
}

// RedisFence writes values to Redis only for current fencing tokens: the
// token check and the write are one script. Resource R uses the keys
// "<prefix>{R}:value" and "<prefix>{R}:token".
type RedisFence struct {
	runner
	prefix string
}

// FenceOptions configure a RedisFence. The zero value means the defaults.
type FenceOptions struct {
	// Prefix starts every key. Default "shopkit:fence".
	Prefix string
	// WaitReplicas, if positive, makes every accepted write wait until
	// that many replicas have acknowledged it (WAIT), up to WaitTimeout
	// (default 1s); if they do not, Write returns ErrNotReplicated. Needs
	// a *redis.Client (standalone or failover) or *redis.ClusterClient.
	WaitReplicas int
	// WaitTimeout bounds the wait for WaitReplicas. Default 1s.
	WaitTimeout time.Duration
}

// NewRedisFence returns a fenced writer on client. A resource's value and
// its largest token are kept for the life of the resource: the token must
// never go back.
func NewRedisFence(client RedisClient, opts FenceOptions) (*RedisFence, error) {
	if opts.Prefix == "" {
		opts.Prefix = "shopkit:fence"
	}
	if rule := keyspace.CheckPrefix(opts.Prefix); rule != "" {
		return nil, &InputError{Field: "Prefix", Rule: rule}
	}
	run, err := newRunner(client, opts.WaitReplicas, opts.WaitTimeout)
	if err != nil {
		return nil, err
	}
	return &RedisFence{runner: run, prefix: opts.Prefix}, nil
}

// Key returns the Redis key holding resource's value.
func (f *RedisFence) Key(resource string) string {
	return keyspace.IDTag(f.prefix, resource) + ":value"
}

// Write sets resource to value if token is at least the largest token
// seen for it, else returns ErrStaleToken and writes nothing.
func (f *RedisFence) Write(ctx context.Context, resource string, token int64, value string) error {
	if rule := keyspace.CheckID(resource); rule != "" {
		return &InputError{Field: "Resource", Rule: rule}
	}
	tag := keyspace.IDTag(f.prefix, resource)
	ok, err := int64Reply(f.run(ctx, fencedWriteScript, []string{tag + ":value", tag + ":token"}, token, value))
	if err != nil {
		return fmt.Errorf("seckill: fenced write %s: %w", resource, err)
	}
	if ok == 0 {
		return ErrStaleToken
	}
	return nil
}
