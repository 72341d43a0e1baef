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

// redisMerge is the Redis backend.
type redisMerge struct {
	client MergeRedisClient
	prefix string
	opts   MergeOptions
	policy durable.Policy // replicas every write waits for
}

// MergeRedisClient is the part of go-redis the Redis merge store uses.
// *redis.Client, *redis.ClusterClient, *redis.Ring and the failover clients
// implement it.
type MergeRedisClient interface {
	redis.Scripter
	Pipelined(ctx context.Context, fn func(redis.Pipeliner) error) ([]redis.Cmder, error)
}

var _ MergeRedisClient = redis.UniversalClient(nil)

var _ mergeBackend = (*redisMerge)(nil)

// NewRedisMerge returns a store on Redis or Redis Cluster. Merge key K uses
// "{<prefix>:K}:groups", ":members" and ":open", one hash tag per
// recipient, so recipients spread over a Cluster and each merge is one
// script on one node, deciding the window by the server's TIME (opts.Now
// does not apply).
func NewRedisMerge(client MergeRedisClient, opts MergeOptions) (*Merge, error) {
	opts = opts.withDefaults()
	if rule := keyspace.CheckPrefix(opts.Prefix); rule != "" {
		return nil, &InputError{Field: "Prefix", Rule: rule}
	}
	policy := durable.Policy{Replicas: opts.WaitReplicas, Timeout: opts.WaitTimeout}
	if rule := durable.CheckClient(client, policy); rule != "" {
		return nil, &InputError{Field: "WaitReplicas", Rule: rule}
	}
	return newMerge(&redisMerge{client: client, prefix: opts.Prefix, opts: opts, policy: policy}, opts), nil
}

// keys returns merge key K's groups, members and open-group keys.
func (r *redisMerge) keys(key string) []string {
	tag := "{" + r.prefix + ":" + key + "}"
	return []string{tag + ":groups", tag + ":members", tag + ":open"}
}

func (r *redisMerge) run(ctx context.Context, op, key, orderID string, grams int64) (Group, error) {
	cmd, err := durable.Run(ctx, r.client, r.policy, mergeScript, r.keys(key),
		op, orderID, grams, r.opts.Window.Milliseconds(), r.opts.Retention.Milliseconds())
	if errors.Is(err, durable.ErrTimeout) {
		return Group{}, fmt.Errorf("logistics: merge %s %s: %w (%w)", op, orderID, ErrNotReplicated, err)
	}
	var res []any
	if err == nil {
		res, err = cmd.Slice()
	}
	if err != nil {
		return Group{}, fmt.Errorf("logistics: merge %s %s: %w", op, orderID, err)
	}
	status, _ := res[0].(int64)
	switch {
	case len(res) == 3 && (status == mergeOK || status == mergeReplay):
		id, _ := res[1].(string)
		rec, _ := res[2].(string)
		g, err := parseGroup(key, id, rec)
		g.Replayed = status == mergeReplay
		return g, err
	case len(res) == 1 && status == mergeUnknown:
		return Group{}, ErrNotFound
	case len(res) == 1 && status == mergeConflict:
		return Group{}, ErrIDConflict
	}
	return Group{}, fmt.Errorf("logistics: merge %s %s: unexpected script reply %v", op, orderID, res)
}

// merge.lua's statuses, as its header lists them.
const (
	mergeOK       = 1
	mergeReplay   = 2
	mergeConflict = 3
	mergeUnknown  = 4
)

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

func (r *redisMerge) add(ctx context.Context, o MergeOrder) (Group, error) {
	return r.run(ctx, "add", o.Key, o.OrderID, o.Grams)
}

func (r *redisMerge) remove(ctx context.Context, ref MergeRef) (Group, error) {
	return r.run(ctx, "remove", ref.Key, ref.OrderID, 0)
}

func (r *redisMerge) group(ctx context.Context, ref MergeRef) (Group, error) {
	return r.run(ctx, "get", ref.Key, ref.OrderID, 0)
}
