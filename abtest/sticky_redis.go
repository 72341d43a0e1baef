package abtest

import (
	"context"
	_ "embed"
	"encoding/hex"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/shopkit/shopkit/internal/durable"
	"github.com/shopkit/shopkit/internal/keyspace"
	"github.com/shopkit/shopkit/internal/opscript"
)

var _ stickyBackend = (*redisSticky)(nil)

// StickyRedisClient is the part of go-redis the Redis sticky store uses.
// *redis.Client, *redis.ClusterClient, *redis.Ring and the failover clients
// implement it.
type StickyRedisClient interface {
	redis.Scripter
	HGetAll(ctx context.Context, key string) *redis.MapStringStringCmd
	Pipelined(ctx context.Context, fn func(redis.Pipeliner) error) ([]redis.Cmder, error)
}

var _ StickyRedisClient = redis.UniversalClient(nil)

var (
	//go:embed lua/save.lua
	saveLua    string
	saveScript = opscript.NewIdempotent(saveLua)
)

// redisSticky is the Redis backend.
type redisSticky struct {
	client StickyRedisClient
	prefix string
	ttl    time.Duration
	policy durable.Policy // replicas every save waits for
}

// NewRedisSticky returns a sticky store on Redis or Redis Cluster. Each
// user's document is one hash, "{<prefix>:<attribute>:<hex of value>}", its
// own hash tag, so users spread over a Cluster's slots and every operation
// touches one key. Values are hex-encoded so no user ID can forge a key. A
// document expires opts.TTL after the save that last stored a variation in
// it, by the server's clock (opts.Now does not apply). It fails only if
// opts.Prefix or the replica options are invalid.
func NewRedisSticky(client StickyRedisClient, opts StickyOptions) (*Sticky, error) {
	opts = opts.withDefaults()
	if rule := keyspace.CheckPrefix(opts.Prefix); rule != "" {
		return nil, &InputError{Field: "Prefix", Rule: rule}
	}
	policy := durable.Policy{Replicas: opts.WaitReplicas, Timeout: opts.WaitTimeout}
	if rule := durable.CheckClient(client, policy); rule != "" {
		return nil, &InputError{Field: "WaitReplicas", Rule: rule}
	}
	return newSticky(&redisSticky{client: client, prefix: opts.Prefix, ttl: opts.TTL, policy: policy}, opts), nil
}

func (s *redisSticky) key(attribute, value string) string {
	return "{" + s.prefix + ":" + hex.EncodeToString([]byte(attribute)) + ":" + hex.EncodeToString([]byte(value)) + "}"
}

func (s *redisSticky) load(ctx context.Context, u StickyUser) (map[string]int, error) {
	raw, err := s.client.HGetAll(ctx, s.key(u.Attribute, u.Value)).Result()
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

func (s *redisSticky) save(ctx context.Context, a StickyAssignment) (int, error) {
	cmd, err := durable.Run(ctx, s.client, s.policy, saveScript, []string{s.key(a.Attribute, a.Value)}, a.Key, a.Variation, s.ttl.Milliseconds())
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
