package seckill

import (
	"context"
	_ "embed"
	"fmt"
	"strconv"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/shopkit/shopkit/internal/keyspace"
	"github.com/shopkit/shopkit/internal/opscript"
)

var (
	//go:embed lua/gcra.lua
	gcraLua    string
	gcraScript = opscript.New(gcraLua)
	// resetScript deletes a limiter's state: deleting again changes
	// nothing, so it needs no operation record.
	resetScript = opscript.NewIdempotent(`return redis.call('DEL', KEYS[1])`)
)

// LimiterOptions configure a Limiter. The zero value means the defaults.
type LimiterOptions struct {
	// Prefix starts every Redis key (see NewRedisLimiter). Default
	// "shopkit:rate". Redis only.
	Prefix string
	// Now is the Memory limiter's clock. Default time.Now. Redis decides
	// by its own clock.
	Now func() time.Time
	// WaitReplicas, if positive, makes every Redis decision that consumes
	// events wait until that many replicas have acknowledged it (WAIT), up
	// to WaitTimeout (default 1s); if they do not, the call returns
	// ErrNotReplicated. Needs a *redis.Client (standalone or failover) or
	// *redis.ClusterClient. Redis only.
	WaitReplicas int
	// WaitTimeout bounds the wait for WaitReplicas. Default 1s.
	WaitTimeout time.Duration
	// Observer, if set, receives an Observation of every Allow and
	// AllowN.
	Observer Observer
}

// LimiterRedisClient is the part of go-redis the Redis limiter uses.
// *redis.Client, *redis.ClusterClient, *redis.Ring and the failover clients
// implement it.
type LimiterRedisClient interface {
	scriptClient
}

var _ LimiterRedisClient = redis.UniversalClient(nil)

// NewRedisLimiter returns a Limiter whose state lives in Redis, one key per
// limited key, "<prefix>{K}", each its own hash tag so keys spread over a
// Cluster; a key expires once its burst is full again. opts.Now does not
// apply.
func NewRedisLimiter(client LimiterRedisClient, opts LimiterOptions) (*Limiter, error) {
	if opts.Prefix == "" {
		opts.Prefix = "shopkit:rate"
	}
	if rule := keyspace.CheckPrefix(opts.Prefix); rule != "" {
		return nil, &InputError{Field: "Prefix", Rule: rule}
	}
	run, err := newRunner(client, opts.WaitReplicas, opts.WaitTimeout)
	if err != nil {
		return nil, err
	}
	return &Limiter{backend: &redisLimits{runner: run, prefix: opts.Prefix}, observe: opts.Observer}, nil
}

type redisLimits struct {
	runner
	prefix string
}

// key names the state of limited key k ("S:U" for the Gate's buyer
// limits).
func (r *redisLimits) key(k string) string { return keyspace.IDTag(r.prefix, k) }

func (r *redisLimits) reset(ctx context.Context, key string) error {
	if _, err := r.run(ctx, resetScript, []string{r.key(key)}); err != nil {
		return fmt.Errorf("seckill: reset rate limit %s: %w", key, err)
	}
	return nil
}

func (r *redisLimits) allowN(ctx context.Context, key string, l Limit, n int, atMost bool) (RateResult, error) {
	emission := float64(l.Period.Microseconds()) / l.Rate
	var v []string
	mode := "all"
	if atMost {
		mode = "most"
	}
	cmd, err := r.run(ctx, gcraScript, []string{r.key(key)}, strconv.FormatFloat(emission, 'f', -1, 64), l.Burst, n, mode)
	if err == nil {
		v, err = cmd.StringSlice()
	}
	if err != nil {
		return RateResult{}, fmt.Errorf("seckill: rate limit %s: %w", key, err)
	}
	if len(v) != 4 {
		return RateResult{}, fmt.Errorf("seckill: rate limit %s: unexpected script reply %v", key, v)
	}
	var f [4]int64
	for i, s := range v {
		if f[i], err = strconv.ParseInt(s, 10, 64); err != nil {
			return RateResult{}, fmt.Errorf("seckill: rate limit %s: unexpected script reply %v", key, v)
		}
	}
	retry := time.Duration(f[2]) * time.Microsecond
	if f[2] < 0 {
		retry = -1
	}
	return RateResult{Allowed: int(f[0]), Remaining: int(f[1]), RetryAfter: retry, ResetAfter: time.Duration(f[3]) * time.Microsecond}, nil
}
