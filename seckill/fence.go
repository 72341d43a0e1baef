package seckill

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/shopkit/shopkit/internal/keyspace"
)

// ErrStaleToken means a write carried a fencing token older than one the
// resource has already seen: its lock was lost to a newer holder.
var ErrStaleToken = errors.New("seckill: stale fencing token")

// Fence is the check a protected resource makes before accepting a write
// from a lock holder: it remembers the largest token seen per resource and
// refuses smaller ones. Use it where the resource is in this process or
// behind a store that can run the check atomically with the write; for
// Redis, a FencedStore does both in one script. Fence is safe for concurrent
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

// FencedStore keeps values that only current lock holders may write: each
// write carries the writer's fencing token (Lock.Token), and a write with a
// token older than one the resource has seen is refused with
// ErrStaleToken, so a holder whose lease passed to someone else cannot
// overwrite the newer holder's work. NewMemoryFencedStore and
// NewRedisFencedStore return one; both pass the same conformance suite. A
// resource's value and its largest token are kept for the life of the
// resource: the token must never go back. A FencedStore is safe for
// concurrent use.
type FencedStore struct {
	b       fencedBackend
	observe Observer
}

// fencedBackend is the storage under a FencedStore, on validated input.
type fencedBackend interface {
	write(ctx context.Context, w FencedWrite) error
	read(ctx context.Context, resource string) (string, error)
}

// FencedWrite is one write to a FencedStore.
type FencedWrite struct {
	Resource string
	// Token is the writer's fencing token.
	Token int64
	Value string
}

// FencedStoreOptions configure a FencedStore. The zero value means the
// defaults.
type FencedStoreOptions struct {
	// Prefix starts every Redis key. Default "shopkit:fence". Redis only.
	Prefix string
	// WaitReplicas, if positive, makes every accepted Redis write wait
	// until that many replicas have acknowledged it (WAIT), up to
	// WaitTimeout (default 1s); if they do not, Write returns
	// ErrNotReplicated. Needs a *redis.Client (standalone or failover) or
	// *redis.ClusterClient. Redis only.
	WaitReplicas int
	// WaitTimeout bounds the wait for WaitReplicas. Default 1s.
	WaitTimeout time.Duration
	// Observer, if set, receives an Observation of every Write.
	Observer Observer
}

// Write sets w.Resource to w.Value if w.Token is at least the largest
// token seen for it, else returns ErrStaleToken and writes nothing. Equal
// tokens are accepted: one lease may write many times.
func (f *FencedStore) Write(ctx context.Context, w FencedWrite) error {
	start := startTimer(f.observe)
	var err error
	switch rule := keyspace.CheckID(w.Resource); {
	case rule != "":
		err = &InputError{Field: "Resource", Rule: rule}
	case w.Token <= 0:
		err = &InputError{Field: "Token", Rule: "must be > 0 (a Lock's Token)"}
	default:
		err = f.b.write(ctx, w)
	}
	if f.observe != nil {
		f.observe(Observation{Op: OpWrite, ID: w.Resource, Err: err, Took: since(start)})
	}
	return err
}

// Read returns resource's value, "" if it was never written.
func (f *FencedStore) Read(ctx context.Context, resource string) (string, error) {
	if rule := keyspace.CheckID(resource); rule != "" {
		return "", &InputError{Field: "Resource", Rule: rule}
	}
	return f.b.read(ctx, resource)
}

// NewMemoryFencedStore returns an empty FencedStore in process memory;
// only opts.Observer applies.
func NewMemoryFencedStore(opts FencedStoreOptions) *FencedStore {
	return &FencedStore{b: &memoryFenced{values: map[string]string{}}, observe: opts.Observer}
}

// memoryFenced is the process-local backend: a Fence and the values it
// guards, under one lock so the check and the write are one step.
type memoryFenced struct {
	mu     sync.Mutex
	fence  Fence
	values map[string]string
}

func (m *memoryFenced) write(_ context.Context, w FencedWrite) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if err := m.fence.Admit(w.Resource, w.Token); err != nil {
		return err
	}
	m.values[w.Resource] = w.Value
	return nil
}

func (m *memoryFenced) read(_ context.Context, resource string) (string, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.values[resource], nil
}

// FencedStoreRedisClient is the part of go-redis the Redis fenced store
// uses. *redis.Client, *redis.ClusterClient, *redis.Ring and the failover
// clients implement it.
type FencedStoreRedisClient interface {
	scriptClient
	Get(ctx context.Context, key string) *redis.StringCmd
}

var _ FencedStoreRedisClient = redis.UniversalClient(nil)

// NewRedisFencedStore returns a FencedStore in Redis: the token check and
// the write are one script. Resource R uses the keys "<prefix>{R}:value"
// and "<prefix>{R}:token".
func NewRedisFencedStore(client FencedStoreRedisClient, opts FencedStoreOptions) (*FencedStore, error) {
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
	return &FencedStore{b: &redisFenced{runner: run, client: client, prefix: opts.Prefix}, observe: opts.Observer}, nil
}

// redisFenced is the Redis backend.
type redisFenced struct {
	runner
	client FencedStoreRedisClient
	prefix string
}

// keys returns resource's value and token keys.
func (f *redisFenced) keys(resource string) []string {
	tag := keyspace.IDTag(f.prefix, resource)
	return []string{tag + ":value", tag + ":token"}
}

func (f *redisFenced) write(ctx context.Context, w FencedWrite) error {
	ok, err := int64Reply(f.run(ctx, fencedWriteScript, f.keys(w.Resource), w.Token, w.Value))
	if err != nil {
		return fmt.Errorf("seckill: fenced write %s: %w", w.Resource, err)
	}
	if ok == 0 {
		return ErrStaleToken
	}
	return nil
}

func (f *redisFenced) read(ctx context.Context, resource string) (string, error) {
	v, err := f.client.Get(ctx, f.keys(resource)[0]).Result()
	if errors.Is(err, redis.Nil) {
		return "", nil
	}
	if err != nil {
		return "", fmt.Errorf("seckill: fenced read %s: %w", resource, err)
	}
	return v, nil
}
