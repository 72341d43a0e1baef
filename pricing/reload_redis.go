package pricing

import (
	"context"
	_ "embed"
	"fmt"
	"strconv"

	"github.com/redis/go-redis/v9"

	"github.com/shopkit/shopkit/internal/keyspace"
	"github.com/shopkit/shopkit/internal/opscript"
)

var (
	//go:embed lua/publish.lua
	publishLua    string
	publishScript = opscript.New(publishLua)
)

// RedisRuleSource is a RuleSource on Redis or Redis Cluster: the rule set
// under "{<prefix>}:rules", the publish IDs under "{<prefix>}:publishes"
// (one slot), and change notifications on the pub/sub channel
// "{<prefix>}:rules:changed", which a Cluster delivers from any node.
type RedisRuleSource struct {
	client  redis.UniversalClient
	tag     string
	channel string
}

var _ RuleSource = (*RedisRuleSource)(nil)

// NewRedisRuleSource returns a source under prefix (default
// "shopkit:pricing").
func NewRedisRuleSource(client redis.UniversalClient, prefix string) (*RedisRuleSource, error) {
	if prefix == "" {
		prefix = "shopkit:pricing"
	}
	if rule := keyspace.CheckPrefix(prefix); rule != "" {
		return nil, &InputError{Field: "Prefix", Rule: rule}
	}
	tag := "{" + prefix + "}"
	return &RedisRuleSource{client: client, tag: tag, channel: tag + ":rules:changed"}, nil
}

// Publish implements RuleSource.
func (r *RedisRuleSource) Publish(ctx context.Context, publishID string, promos []Promotion) (int64, error) {
	data, err := encodeRules(publishID, promos)
	if err != nil {
		return 0, err
	}
	v, err := publishScript.Run(ctx, r.client, []string{r.tag + ":rules", r.tag + ":publishes"}, publishID, data, r.channel).Int64()
	if err != nil {
		return 0, fmt.Errorf("pricing: publish rules: %w", err)
	}
	return v, nil
}

// Load implements RuleSource.
func (r *RedisRuleSource) Load(ctx context.Context) (int64, []Promotion, error) {
	res, err := r.client.HMGet(ctx, r.tag+":rules", "version", "data").Result()
	if err != nil {
		return 0, nil, fmt.Errorf("pricing: load rules: %w", err)
	}
	vs, _ := res[0].(string)
	data, _ := res[1].(string)
	if vs == "" {
		return 0, nil, ErrNoRules
	}
	v, err := strconv.ParseInt(vs, 10, 64)
	if err != nil {
		return 0, nil, fmt.Errorf("pricing: load rules: bad version %q", vs)
	}
	return decodeRules(v, []byte(data))
}

// Changed implements RuleSource. It returns once the subscription is in
// place, so a version published after it returns is not missed.
func (r *RedisRuleSource) Changed(ctx context.Context) (<-chan int64, error) {
	ps := r.client.Subscribe(ctx, r.channel)
	if _, err := ps.Receive(ctx); err != nil {
		_ = ps.Close()
		return nil, fmt.Errorf("pricing: subscribe to rule changes: %w", err)
	}
	w := make(chan int64, 1)
	go func() {
		defer ps.Close()
		msgs := ps.Channel()
		for {
			select {
			case <-ctx.Done():
				return
			case m, ok := <-msgs:
				if !ok {
					return
				}
				if v, err := strconv.ParseInt(m.Payload, 10, 64); err == nil {
					notify(w, v)
				}
			}
		}
	}()
	return w, nil
}
