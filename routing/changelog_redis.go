package routing

import (
	"context"
	_ "embed"
	"encoding/json"
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
	//go:embed lua/append.lua
	appendLua    string
	appendScript = opscript.New(appendLua)

	//go:embed lua/fold.lua
	foldLua    string
	foldScript = opscript.New(foldLua)

	//go:embed lua/since.lua
	sinceLua    string
	sinceScript = redis.NewScript(sinceLua) // read-only: safe to run twice as it is
)

// LogRedisClient is the part of go-redis the Redis change log uses.
// *redis.Client, *redis.ClusterClient, *redis.Ring and the failover clients
// implement it.
type LogRedisClient interface {
	redis.Scripter
	Subscribe(ctx context.Context, channels ...string) *redis.PubSub
	Pipelined(ctx context.Context, fn func(redis.Pipeliner) error) ([]redis.Cmder, error)
}

var _ LogRedisClient = redis.UniversalClient(nil)

// redisLog is the Redis backend.
type redisLog struct {
	client  LogRedisClient
	opts    LogOptions
	policy  durable.Policy // replicas every append waits for
	keys    []string       // log, ids, idlog, base
	channel string
}

var _ logBackend = (*redisLog)(nil)

// NewRedisLog returns a change log in Redis: the batches kept whole are a
// list "{<prefix>}:log", their IDs a hash "{<prefix>}:ids" and a list
// "{<prefix>}:idlog", and the compacted base (LogOptions.MaxBatches) a
// hash "{<prefix>}:base"; one hash tag, so every script runs on one
// Cluster node. Appends are announced on the channel "<prefix>:changed".
func NewRedisLog(client LogRedisClient, opts LogOptions) (*Log, error) {
	opts = opts.withDefaults()
	if rule := keyspace.CheckPrefix(opts.Prefix); rule != "" {
		return nil, &InputError{Field: "Prefix", Rule: rule}
	}
	policy := durable.Policy{Replicas: opts.WaitReplicas, Timeout: opts.WaitTimeout}
	if rule := durable.CheckClient(client, policy); rule != "" {
		return nil, &InputError{Field: "WaitReplicas", Rule: rule}
	}
	tag := keyspace.Tag(opts.Prefix)
	return newLog(&redisLog{client: client, opts: opts, policy: policy, channel: opts.Prefix + ":changed",
		keys: []string{tag + ":log", tag + ":ids", tag + ":idlog", tag + ":base"}}, opts), nil
}

// append.lua's statuses, as its header lists them.
const (
	appendDone     = 1
	appendReplayed = 2
	appendConflict = 3
)

func (l *redisLog) append(ctx context.Context, id string, _ []Change, body []byte, fp string) (int64, bool, error) {
	cmd, err := durable.Run(ctx, l.client, l.policy, appendScript, l.keys, id, body, l.channel, fp)
	if errors.Is(err, durable.ErrTimeout) {
		return 0, false, fmt.Errorf("routing: append %s: %w (%w)", id, ErrNotReplicated, err)
	}
	var res []int64
	if err == nil {
		res, err = cmd.Int64Slice()
	}
	if err == nil && len(res) != 3 {
		err = fmt.Errorf("unexpected script reply %v", res)
	}
	if err != nil {
		return 0, false, fmt.Errorf("routing: append %s: %w", id, err)
	}
	switch res[0] {
	case appendConflict:
		return 0, false, ErrIDConflict
	case appendDone, appendReplayed:
	default:
		return 0, false, fmt.Errorf("routing: append %s: unexpected script reply %v", id, res)
	}
	if res[2] > int64(l.opts.MaxBatches) {
		// Best effort: a fold that fails or loses a race is tried again by
		// the next append, and since reads correctly either way.
		_ = l.fold(ctx, int(res[2])/2)
	}
	return res[1], res[0] == appendReplayed, nil
}

// fold replaces the oldest k batches with a new compacted base.
func (l *redisLog) fold(ctx context.Context, k int) error {
	base, changes, rows, err := l.read(ctx, 0)
	if err != nil || len(rows) < k {
		return err
	}
	for _, row := range rows[:k] {
		batch, err := decodeBatch(row)
		if err != nil {
			return err
		}
		changes = append(changes, batch...)
	}
	body, err := json.Marshal(compact(changes))
	if err != nil {
		return err
	}
	_, err = durable.Run(ctx, l.client, l.policy, foldScript, l.keys, base, k, body)
	return err
}

// read runs since.lua: the base version, the base's changes if v is
// behind it, and the batches after max(v, base).
func (l *redisLog) read(ctx context.Context, v int64) (base int64, changes []Change, rows []string, err error) {
	res, err := sinceScript.Run(ctx, l.client, l.keys, v).StringSlice()
	if err != nil {
		return 0, nil, nil, err
	}
	if len(res) < 2 {
		return 0, nil, nil, fmt.Errorf("unexpected script reply %v", res)
	}
	if base, err = strconv.ParseInt(res[0], 10, 64); err != nil {
		return 0, nil, nil, fmt.Errorf("unexpected script reply %v", res)
	}
	if res[1] != "" {
		if changes, err = decodeBatch(res[1]); err != nil {
			return 0, nil, nil, err
		}
	}
	return base, changes, res[2:], nil
}

func (l *redisLog) since(ctx context.Context, v int64) ([]Change, int64, error) {
	base, out, rows, err := l.read(ctx, v)
	if err != nil {
		return nil, 0, fmt.Errorf("routing: read change log: %w", err)
	}
	for _, row := range rows {
		batch, err := decodeBatch(row)
		if err != nil {
			return nil, 0, fmt.Errorf("routing: read change log: %w", err)
		}
		out = append(out, batch...)
	}
	// The rows are every batch after max(v, base), read in one snapshot.
	return out, max(v, base) + int64(len(rows)), nil
}

// changed returns once the subscription is in place, so a version
// appended after it returns is not missed.
func (l *redisLog) changed(ctx context.Context) (<-chan int64, error) {
	w, err := watch.Subscribe(ctx, l.client, l.channel)
	if err != nil {
		return nil, fmt.Errorf("routing: subscribe to log changes: %w", err)
	}
	return w, nil
}

func (l *redisLog) close() error { return nil }
