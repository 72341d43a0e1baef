package routing

import (
	"context"
	_ "embed"
	"encoding/json"
	"fmt"
	"sync"

	"github.com/redis/go-redis/v9"

	"github.com/shopkit/shopkit/internal/keyspace"
	"github.com/shopkit/shopkit/internal/opscript"
)

var (
	//go:embed lua/append.lua
	appendLua    string
	appendScript = opscript.New(appendLua)
)

// RedisClient is the part of go-redis the Redis change log uses.
type RedisClient interface {
	redis.Scripter
	LRange(ctx context.Context, key string, start, stop int64) *redis.StringSliceCmd
	Subscribe(ctx context.Context, channels ...string) *redis.PubSub
}

var _ RedisClient = redis.UniversalClient(nil)

// RedisLog is a ChangeLog in Redis: the batches are a list
// "{<prefix>}:log" (batch v at index v−1), their IDs a hash
// "{<prefix>}:ids", one hash tag so appends are one script on one Cluster
// node; appends are announced on the channel "<prefix>:changed".
type RedisLog struct {
	client  RedisClient
	logKey  string
	idsKey  string
	channel string

	sub     *redis.PubSub
	changed chan struct{}
	wg      sync.WaitGroup
	once    sync.Once
}

var _ ChangeLog = (*RedisLog)(nil)

// NewRedisLog returns the change log under prefix (default
// "shopkit:routing") and starts listening for appends; Close stops.
func NewRedisLog(client RedisClient, prefix string) (*RedisLog, error) {
	if prefix == "" {
		prefix = "shopkit:routing"
	}
	if rule := keyspace.CheckPrefix(prefix); rule != "" {
		return nil, &InputError{Field: "Prefix", Rule: rule}
	}
	tag := keyspace.Tag(prefix)
	l := &RedisLog{client: client, logKey: tag + ":log", idsKey: tag + ":ids", channel: prefix + ":changed",
		changed: make(chan struct{}, 1)}
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
	v, err := appendScript.Run(ctx, l.client, []string{l.logKey, l.idsKey}, id, body, l.channel).Uint64()
	if err != nil {
		return 0, fmt.Errorf("routing: append %s: %w", id, err)
	}
	return v, nil
}

// Since implements ChangeLog.
func (l *RedisLog) Since(ctx context.Context, v uint64) ([]Change, uint64, error) {
	rows, err := l.client.LRange(ctx, l.logKey, int64(v), -1).Result()
	if err != nil {
		return nil, 0, fmt.Errorf("routing: read change log: %w", err)
	}
	var out []Change
	for _, row := range rows {
		var batch []Change
		if err := json.Unmarshal([]byte(row), &batch); err != nil {
			return nil, 0, fmt.Errorf("routing: read change log: %w", err)
		}
		out = append(out, batch...)
	}
	// Batches are only ever appended, so the list read is a prefix of
	// the log from v: the current version is v plus what was read.
	return out, v + uint64(len(rows)), nil
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
