package abtest

import (
	"context"
	_ "embed"
	"encoding/hex"
	"errors"
	"fmt"
	"strconv"
	"sync/atomic"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/shopkit/shopkit/internal/durable"
	"github.com/shopkit/shopkit/internal/keyspace"
	"github.com/shopkit/shopkit/internal/opscript"
)

var _ StickyStore = (*RedisSticky)(nil)

// RedisClient is the part of go-redis the Redis sticky store uses.
// *redis.Client, *redis.ClusterClient, *redis.Ring and the failover clients
// implement it.
type RedisClient interface {
	redis.Scripter
	HGetAll(ctx context.Context, key string) *redis.MapStringStringCmd
	Pipelined(ctx context.Context, fn func(redis.Pipeliner) error) ([]redis.Cmder, error)
}

var _ RedisClient = redis.UniversalClient(nil)

var (
	//go:embed lua/save.lua
	saveLua    string
	saveScript = opscript.NewIdempotent(saveLua)
)

// RedisSticky is a StickyStore on Redis or Redis Cluster. Each user's
// document is one hash, "{<prefix>:<attribute>:<hex of value>}", its own
// hash tag, so users spread over a Cluster's slots and every operation
// touches one key. Values are hex-encoded so no user ID can forge a key.
// A document expires StickyOptions.TTL after the save that last stored a
// variation in it.
type RedisSticky struct {
	client RedisClient
	prefix string
	ttl    time.Duration
	policy durable.Policy // replicas every save waits for
	closed atomic.Bool
}

// NewRedisSticky returns a sticky store on client; opts.Now does not
// apply. It fails only if opts.Prefix or the replica options are invalid.
func NewRedisSticky(client RedisClient, opts StickyOptions) (*RedisSticky, error) {
	opts = opts.withDefaults()
	if rule := keyspace.CheckPrefix(opts.Prefix); rule != "" {
		return nil, &InputError{Field: "Prefix", Rule: rule}
	}
	policy := durable.Policy{Replicas: opts.WaitReplicas, Timeout: opts.WaitTimeout}
	if rule := durable.CheckClient(client, policy); rule != "" {
		return nil, &InputError{Field: "WaitReplicas", Rule: rule}
	}
	return &RedisSticky{client: client, prefix: opts.Prefix, ttl: opts.TTL, policy: policy}, nil
}

func (s *RedisSticky) key(attribute, value string) string {
	return "{" + s.prefix + ":" + hex.EncodeToString([]byte(attribute)) + ":" + hex.EncodeToString([]byte(value)) + "}"
}

// Load implements StickyStore.
func (s *RedisSticky) Load(ctx context.Context, attribute, value string) (map[string]int, error) {
	if err := checkSticky(attribute, value, "-", 0); err != nil {
		return nil, err
	}
	if s.closed.Load() {
		return nil, ErrClosed
	}
	raw, err := s.client.HGetAll(ctx, s.key(attribute, value)).Result()
	if err != nil {
		return nil, fmt.Errorf("abtest: load sticky assignments: %w", err)
	}
	out := make(map[string]int, len(raw))
	for k, v := range raw {
		n, err := strconv.Atoi(v)
		if err != nil {
			return nil, fmt.Errorf("abtest: load sticky assignments: malformed variation %q", v)
		}
		out[k] = n
	}
	return out, nil
}

// Save implements StickyStore.
func (s *RedisSticky) Save(ctx context.Context, attribute, value, key string, variation int) (int, error) {
	if err := checkSticky(attribute, value, key, variation); err != nil {
		return 0, err
	}
	if s.closed.Load() {
		return 0, ErrClosed
	}
	cmd, err := durable.Run(ctx, s.client, s.policy, saveScript, []string{s.key(attribute, value)}, key, variation, s.ttl.Milliseconds())
	if errors.Is(err, durable.ErrTimeout) {
		return 0, fmt.Errorf("abtest: save sticky assignment: %w (%w)", ErrNotReplicated, err)
	}
	var v int
	if err == nil {
		v, err = cmd.Int()
	}
	if err != nil {
		return 0, fmt.Errorf("abtest: save sticky assignment: %w", err)
	}
	return v, nil
}

// Close implements StickyStore.
func (s *RedisSticky) Close() error {
	s.closed.Store(true)
	return nil
}
