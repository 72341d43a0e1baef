package abtest

import (
	"context"
	_ "embed"
	"encoding/hex"
	"fmt"
	"strconv"
	"sync/atomic"
	"time"

	"github.com/redis/go-redis/v9"

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
}

var _ RedisClient = redis.UniversalClient(nil)

var (
	//go:embed lua/save.lua
	saveLua    string
	saveScript = opscript.New(saveLua)
)

// RedisStickyOptions configure a Redis sticky store. The zero value means
// the defaults.
type RedisStickyOptions struct {
	// Prefix starts every key. Default "shopkit:abtest".
	Prefix string
	// TTL is how long a user's document lives after its last save; 0 keeps
	// it forever.
	TTL time.Duration
}

// RedisSticky is a StickyStore on Redis or Redis Cluster. Each user's
// document is one hash, "{<prefix>:<attribute>:<hex of value>}", its own
// hash tag, so users spread over a Cluster's slots and every operation
// touches one key. Values are hex-encoded so no user ID can forge a key.
type RedisSticky struct {
	client RedisClient
	prefix string
	ttl    time.Duration
	closed atomic.Bool
}

// NewRedisSticky returns a sticky store on client. It fails only if
// opts.Prefix is invalid.
func NewRedisSticky(client RedisClient, opts RedisStickyOptions) (*RedisSticky, error) {
	if opts.Prefix == "" {
		opts.Prefix = "shopkit:abtest"
	}
	if rule := keyspace.CheckPrefix(opts.Prefix); rule != "" {
		return nil, &InputError{Field: "Prefix", Rule: rule}
	}
	if opts.TTL < 0 {
		return nil, &InputError{Field: "TTL", Rule: "must be ≥ 0"}
	}
	return &RedisSticky{client: client, prefix: opts.Prefix, ttl: opts.TTL}, nil
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
	v, err := saveScript.Run(ctx, s.client, []string{s.key(attribute, value)}, key, variation, s.ttl.Milliseconds()).Int()
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
