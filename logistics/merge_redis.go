package logistics

import (
	"context"
	_ "embed"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"

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
	client redis.Scripter
	prefix string
	window time.Duration
}

var _ MergeStore = (*RedisMerge)(nil)

// NewRedisMerge returns a store under prefix (default "shopkit:merge")
// with the given window (0: DefaultWindow).
func NewRedisMerge(client redis.Scripter, prefix string, window time.Duration) (*RedisMerge, error) {
	if prefix == "" {
		prefix = "shopkit:merge"
	}
	if rule := keyspace.CheckPrefix(prefix); rule != "" {
		return nil, &InputError{Field: "Prefix", Rule: rule}
	}
	if window <= 0 {
		window = DefaultWindow
	}
	return &RedisMerge{client: client, prefix: prefix, window: window}, nil
}

// keys returns merge key K's groups, members and open-group keys.
func (r *RedisMerge) keys(key string) []string {
	tag := "{" + r.prefix + ":" + key + "}"
	return []string{tag + ":groups", tag + ":members", tag + ":open"}
}

func (r *RedisMerge) run(ctx context.Context, op, key, orderID string, grams int64) (Group, error) {
	res, err := mergeScript.Run(ctx, r.client, r.keys(key),
		op, orderID, grams, r.window.Milliseconds()).StringSlice()
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
