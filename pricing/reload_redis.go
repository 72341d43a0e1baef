package pricing

import (
	"context"
	_ "embed"
	"errors"
	"fmt"
	"strconv"

	"github.com/redis/go-redis/v9"

	"github.com/shopkit/shopkit/internal/durable"
	"github.com/shopkit/shopkit/internal/keyspace"
	"github.com/shopkit/shopkit/internal/opscript"
)

var (
	//go:embed lua/publish.lua
	publishLua    string
	publishScript = opscript.New(publishLua)
)

// RedisRuleSource is a RuleSource on Redis or Redis Cluster: the rule set
// under "{<prefix>}:rules", the last publish IDs under
// "{<prefix>}:publishes" and "{<prefix>}:publog" (one slot), and change
// notifications on the pub/sub channel "{<prefix>}:rules:changed", which a
// Cluster delivers from any node.
type RedisRuleSource struct {
	client  redis.UniversalClient
	opts    RuleSourceOptions
	policy  durable.Policy // replicas every publish waits for
	tag     string
	channel string
}

var _ RuleSource = (*RedisRuleSource)(nil)

// NewRedisRuleSource returns a source on client.
func NewRedisRuleSource(client redis.UniversalClient, opts RuleSourceOptions) (*RedisRuleSource, error) {
	opts = opts.withDefaults()
	if rule := keyspace.CheckPrefix(opts.Prefix); rule != "" {
		return nil, &InputError{Field: "Prefix", Rule: rule}
	}
	policy := durable.Policy{Replicas: opts.WaitReplicas, Timeout: opts.WaitTimeout}
	if rule := durable.CheckClient(client, policy); rule != "" {
		return nil, &InputError{Field: "WaitReplicas", Rule: rule}
	}
	tag := keyspace.Tag(opts.Prefix)
	return &RedisRuleSource{client: client, opts: opts, policy: policy, tag: tag, channel: tag + ":rules:changed"}, nil
}

// Publish implements RuleSource.
func (r *RedisRuleSource) Publish(ctx context.Context, publishID string, promos []Promotion) (int64, error) {
	data, err := encodeRules(publishID, promos)
	if err != nil {
		return 0, err
	}
	cmd, err := durable.Run(ctx, r.client, r.policy, publishScript, []string{r.tag + ":rules", r.tag + ":publishes", r.tag + ":publog"},
		publishID, data, r.channel, r.opts.KeepPublishes)
	if errors.Is(err, durable.ErrTimeout) {
		return 0, fmt.Errorf("pricing: publish rules: %w (%w)", ErrNotReplicated, err)
	}
	var v int64
	if err == nil {
		v, err = cmd.Int64()
	}
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
