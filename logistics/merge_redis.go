package logistics

import (
	"context"
	_ "embed"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/shopkit/shopkit/internal/durable"
	"github.com/shopkit/shopkit/internal/keyspace"
	"github.com/shopkit/shopkit/internal/opscript"
)

var (
	//go:embed lua/merge.lua
	mergeLua    string
	mergeScript = opscript.New(mergeLua)
)

// RedisMerge is a MergeStore on Redis or Redis Cluster. Merge key K uses
// "{<prefix>:K}:groups", ":members" and ":open", one hash tag per
// recipient, so recipients spread over a Cluster and each merge is one
// script on one node, deciding the window by the server's TIME.
type RedisMerge struct {
	client MergeRedisClient
	prefix string
	opts   MergeOptions
	policy durable.Policy // replicas every write waits for
}

// MergeRedisClient is the part of go-redis RedisMerge uses.
type MergeRedisClient interface {
	redis.Scripter
	Pipelined(ctx context.Context, fn func(redis.Pipeliner) error) ([]redis.Cmder, error)
}

var _ MergeRedisClient = redis.UniversalClient(nil)

var _ MergeStore = (*RedisMerge)(nil)

// NewRedisMerge returns a store on client; opts.Now does not apply.
func NewRedisMerge(client MergeRedisClient, opts MergeOptions) (*RedisMerge, error) {
	opts = opts.withDefaults()
	if rule := keyspace.CheckPrefix(opts.Prefix); rule != "" {
		return nil, &InputError{Field: "Prefix", Rule: rule}
	}
	policy := durable.Policy{Replicas: opts.WaitReplicas, Timeout: opts.WaitTimeout}
	if rule := durable.CheckClient(client, policy); rule != "" {
		return nil, &InputError{Field: "WaitReplicas", Rule: rule}
	}
	return &RedisMerge{client: client, prefix: opts.Prefix, opts: opts, policy: policy}, nil
}

// keys returns merge key K's groups, members and open-group keys.
func (r *RedisMerge) keys(key string) []string {
	tag := "{" + r.prefix + ":" + key + "}"
	return []string{tag + ":groups", tag + ":members", tag + ":open"}
}

func (r *RedisMerge) run(ctx context.Context, op, key, orderID string, grams int64) (Group, error) {
	cmd, err := durable.Run(ctx, r.client, r.policy, mergeScript, r.keys(key),
		op, orderID, grams, r.opts.Window.Milliseconds(), r.opts.Retention.Milliseconds())
	if errors.Is(err, durable.ErrTimeout) {
		return Group{}, fmt.Errorf("logistics: merge %s %s: %w (%w)", op, orderID, ErrNotReplicated, err)
	}
	var res []string
	if err == nil {
		res, err = cmd.StringSlice()
	}
	if err != nil {
		return Group{}, fmt.Errorf("logistics: merge %s %s: %w", op, orderID, err)
	}
	if len(res) == 0 {
		return Group{}, ErrUnknownOrder
	}
	return parseGroup(key, res[0], res[1])
}

func parseGroup(key, id, rec string) (Group, error) {
	f := strings.SplitN(rec, "|", 3)
	if len(f) != 3 {
		return Group{}, fmt.Errorf("logistics: malformed merge group %q", rec)
	}
	closes, _ := strconv.ParseInt(f[0], 10, 64)
	grams, _ := strconv.ParseInt(f[1], 10, 64)
	g := Group{ID: id, Key: key, Grams: grams, ClosesAt: time.UnixMilli(closes)}
	if f[2] != "" {
		for _, e := range strings.Split(f[2], ",") {
			i := strings.LastIndexByte(e, ':')
			w, _ := strconv.ParseInt(e[i+1:], 10, 64)
			g.Orders = append(g.Orders, MergedOrder{ID: e[:i], Grams: w})
		}
	}
	return g, nil
}

// Add implements MergeStore.
func (r *RedisMerge) Add(ctx context.Context, key, orderID string, grams int64) (Group, error) {
	if err := checkMerge(key, orderID, grams); err != nil {
		return Group{}, err
	}
	return r.run(ctx, "add", key, orderID, grams)
}

// Remove implements MergeStore.
func (r *RedisMerge) Remove(ctx context.Context, key, orderID string) (Group, error) {
	if err := checkMerge(key, orderID, 0); err != nil {
		return Group{}, err
	}
	return r.run(ctx, "remove", key, orderID, 0)
}

// Group implements MergeStore.
func (r *RedisMerge) Group(ctx context.Context, key, orderID string) (Group, error) {
	if err := checkMerge(key, orderID, 0); err != nil {
		return Group{}, err
	}
	return r.run(ctx, "get", key, orderID, 0)
}
