package routing

import (
	"context"
	_ "embed"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"sync"

	"github.com/redis/go-redis/v9"

	"github.com/shopkit/shopkit/internal/durable"
	"github.com/shopkit/shopkit/internal/keyspace"
	"github.com/shopkit/shopkit/internal/opscript"
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

// RedisClient is the part of go-redis the Redis change log uses.
type RedisClient interface {
	redis.Scripter
	Subscribe(ctx context.Context, channels ...string) *redis.PubSub
	Pipelined(ctx context.Context, fn func(redis.Pipeliner) error) ([]redis.Cmder, error)
}

var _ RedisClient = redis.UniversalClient(nil)

// RedisLog is a ChangeLog in Redis: the batches kept whole are a list
// "{<prefix>}:log", their IDs a hash "{<prefix>}:ids" and a list
// "{<prefix>}:idlog", and the compacted base (LogOptions.MaxBatches) a
// hash "{<prefix>}:base"; one hash tag, so every script runs on one
// Cluster node. Appends are announced on the channel "<prefix>:changed".
type RedisLog struct {
	client  RedisClient
	opts    LogOptions
	policy  durable.Policy // replicas every append waits for
	keys    []string       // log, ids, idlog, base
	channel string

	sub     *redis.PubSub
	changed chan struct{}
	wg      sync.WaitGroup
	once    sync.Once
}

var _ ChangeLog = (*RedisLog)(nil)

// NewRedisLog returns the change log on client and starts listening for
// appends; Close stops.
func NewRedisLog(client RedisClient, opts LogOptions) (*RedisLog, error) {
	opts = opts.withDefaults()
	if rule := keyspace.CheckPrefix(opts.Prefix); rule != "" {
		return nil, &InputError{Field: "Prefix", Rule: rule}
	}
	policy := durable.Policy{Replicas: opts.WaitReplicas, Timeout: opts.WaitTimeout}
	if rule := durable.CheckClient(client, policy); rule != "" {
		return nil, &InputError{Field: "WaitReplicas", Rule: rule}
	}
	tag := keyspace.Tag(opts.Prefix)
	l := &RedisLog{client: client, opts: opts, policy: policy, channel: opts.Prefix + ":changed",
		keys: []string{tag + ":log", tag + ":ids", tag + ":idlog", tag + ":base"}, changed: make(chan struct{}, 1)}
	l.sub = client.Subscribe(context.Background(), l.channel)
	ch := l.sub.Channel()
	l.wg.Add(1)
	go func() {
		defer l.wg.Done()
		for range ch {
			select {
			case l.changed <- struct{}{}:
			default:
			}
		}
	}()
	return l, nil
}

// Append implements ChangeLog.
func (l *RedisLog) Append(ctx context.Context, id string, changes []Change) (uint64, error) {
	if err := checkBatch(id, changes); err != nil {
		return 0, err
	}
	body, err := json.Marshal(changes)
	if err != nil {
		return 0, fmt.Errorf("routing: append %s: %w", id, err)
	}
	cmd, err := durable.Run(ctx, l.client, l.policy, appendScript, l.keys, id, body, l.channel)
	if errors.Is(err, durable.ErrTimeout) {
		return 0, fmt.Errorf("routing: append %s: %w (%w)", id, ErrNotReplicated, err)
	}
	var res []int64
	if err == nil {
		res, err = cmd.Int64Slice()
	}
	if err == nil && len(res) != 2 {
		err = fmt.Errorf("unexpected script reply %v", res)
	}
	if err != nil {
		return 0, fmt.Errorf("routing: append %s: %w", id, err)
	}
	if res[1] > int64(l.opts.MaxBatches) {
		// Best effort: a fold that fails or loses a race is tried again by
		// the next append, and Since reads correctly either way.
		_ = l.fold(ctx, int(res[1])/2)
	}
	return uint64(res[0]), nil
}

// fold replaces the oldest k batches with a new compacted base.
func (l *RedisLog) fold(ctx context.Context, k int) error {
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
func (l *RedisLog) read(ctx context.Context, v uint64) (base uint64, changes []Change, rows []string, err error) {
	res, err := sinceScript.Run(ctx, l.client, l.keys, v).StringSlice()
	if err != nil {
		return 0, nil, nil, err
	}
	if len(res) < 2 {
		return 0, nil, nil, fmt.Errorf("unexpected script reply %v", res)
	}
	if base, err = strconv.ParseUint(res[0], 10, 64); err != nil {
		return 0, nil, nil, fmt.Errorf("unexpected script reply %v", res)
	}
	if res[1] != "" {
		if changes, err = decodeBatch(res[1]); err != nil {
			return 0, nil, nil, err
		}
	}
	return base, changes, res[2:], nil
}

func decodeBatch(row string) ([]Change, error) {
	var batch []Change
	if err := json.Unmarshal([]byte(row), &batch); err != nil {
		return nil, err
	}
	return batch, nil
}

// Since implements ChangeLog.
func (l *RedisLog) Since(ctx context.Context, v uint64) ([]Change, uint64, error) {
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
	return out, max(v, base) + uint64(len(rows)), nil
}

// Changed implements ChangeLog.
func (l *RedisLog) Changed() <-chan struct{} { return l.changed }

// Close implements ChangeLog.
func (l *RedisLog) Close() error {
	var err error
	l.once.Do(func() {
		err = l.sub.Close()
		l.wg.Wait()
	})
	return err
}
