package seckill

import (
	"context"
	_ "embed"
	"fmt"
	"strconv"
	"time"

	"github.com/shopkit/shopkit/internal/keyspace"
	"github.com/shopkit/shopkit/internal/opscript"
)

var (
	//go:embed lua/gcra.lua
	gcraLua    string
	gcraScript = opscript.New(gcraLua)
)

// NewRedisLimiter returns a Limiter whose state lives in Redis, one key per
// limited key, "<prefix>{K}", each its own hash tag so keys spread over a
// Cluster. Prefix defaults to "shopkit:rate".
func NewRedisLimiter(client RedisClient, prefix string) (*Limiter, error) {
	if prefix == "" {
		prefix = "shopkit:rate"
	}
	if rule := keyspace.CheckPrefix(prefix); rule != "" {
		return nil, &InputError{Field: "Prefix", Rule: rule}
	}
	return &Limiter{backend: &redisLimits{client: client, prefix: prefix}}, nil
}

type redisLimits struct {
	client RedisClient
	prefix string
}

// key names the state of limited key k ("S:U" for the Gate's buyer
// limits).
func (r *redisLimits) key(k string) string { return keyspace.IDTag(r.prefix, k) }

func (r *redisLimits) allowN(ctx context.Context, key string, l Limit, n int) (RateResult, error) {
	emission := float64(l.Period.Microseconds()) / l.Rate
	v, err := gcraScript.Run(ctx, r.client, []string{r.key(key)},
		strconv.FormatFloat(emission, 'f', -1, 64), l.Burst, n).StringSlice()
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
