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
	"github.com/shopkit/shopkit/internal/watch"
)

var (
	//go:embed lua/publish.lua
	publishLua    string
	publishScript = opscript.New(publishLua)
)

// RuleSourceRedisClient is the part of go-redis the Redis rule source uses.
// *redis.Client, *redis.ClusterClient, *redis.Ring and the failover clients
// implement it.
type RuleSourceRedisClient interface {
	redis.Scripter
	HMGet(ctx context.Context, key string, fields ...string) *redis.SliceCmd
	Pipelined(ctx context.Context, fn func(redis.Pipeliner) error) ([]redis.Cmder, error)
	Subscribe(ctx context.Context, channels ...string) *redis.PubSub
}

var _ RuleSourceRedisClient = redis.UniversalClient(nil)

// redisRuleSource is the Redis backend.
type redisRuleSource struct {
	client  RuleSourceRedisClient
	opts    RuleSourceOptions
	policy  durable.Policy // replicas every publish waits for
	tag     string
	channel string
}

var _ ruleSourceBackend = (*redisRuleSource)(nil)

// NewRedisRuleSource returns a source on Redis or Redis Cluster: the rule
// set under "{<prefix>}:rules", the last publish IDs under
// "{<prefix>}:publishes" and "{<prefix>}:publog" (one slot), and change
// notifications on the pub/sub channel "{<prefix>}:rules:changed", which a
// Cluster delivers from any node.
func NewRedisRuleSource(client RuleSourceRedisClient, opts RuleSourceOptions) (*RuleSource, error) {
	opts = opts.withDefaults()
	if rule := keyspace.CheckPrefix(opts.Prefix); rule != "" {
		return nil, &InputError{Field: "Prefix", Rule: rule}
	}
	policy := durable.Policy{Replicas: opts.WaitReplicas, Timeout: opts.WaitTimeout}
	if rule := durable.CheckClient(client, policy); rule != "" {
		return nil, &InputError{Field: "WaitReplicas", Rule: rule}
	}
	tag := keyspace.Tag(opts.Prefix)
	return newRuleSource(&redisRuleSource{client: client, opts: opts, policy: policy, tag: tag, channel: tag + ":rules:changed"}, opts), nil
}

// publish.lua's statuses, as its header lists them.
const (
	publishDone     = 1
	publishReplayed = 2
	publishConflict = 3
)

func (r *redisRuleSource) publish(ctx context.Context, publishID string, data []byte, fp string) (int64, bool, error) {
	cmd, err := durable.Run(ctx, r.client, r.policy, publishScript, []string{r.tag + ":rules", r.tag + ":publishes", r.tag + ":publog"},
		publishID, data, r.channel, r.opts.KeepPublishes, fp)
	if errors.Is(err, durable.ErrTimeout) {
		return 0, false, fmt.Errorf("pricing: publish rules: %w (%w)", ErrNotReplicated, err)
	}
	var res []int64
	if err == nil {
		res, err = cmd.Int64Slice()
	}
	if err != nil {
		return 0, false, fmt.Errorf("pricing: publish rules: %w", err)
	}
	if len(res) == 2 {
		switch res[0] {
		case publishDone, publishReplayed:
			return res[1], res[0] == publishReplayed, nil
		case publishConflict:
			return 0, false, ErrIDConflict
		}
	}
	return 0, false, fmt.Errorf("pricing: publish rules: unexpected script reply %v", res)
}

func (r *redisRuleSource) load(ctx context.Context) (int64, []byte, error) {
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
	return v, []byte(data), nil
}

// changed returns once the subscription is in place, so a version
// published after it returns is not missed.
func (r *redisRuleSource) changed(ctx context.Context) (<-chan int64, error) {
	w, err := watch.Subscribe(ctx, r.client, r.channel)
	if err != nil {
		return nil, fmt.Errorf("pricing: subscribe to rule changes: %w", err)
	}
	return w, nil
}
