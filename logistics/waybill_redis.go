package logistics

import (
	"context"
	_ "embed"
	"errors"
	"fmt"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/shopkit/shopkit/internal/durable"
	"github.com/shopkit/shopkit/internal/keyspace"
	"github.com/shopkit/shopkit/internal/opscript"
)

var (
	//go:embed lua/waybill.lua
	waybillLua    string
	waybillScript = opscript.NewIdempotent(waybillLua)
)

// waybill.lua's statuses, as its header lists them.
const (
	waybillOK       = 1
	waybillReplay   = 2
	waybillRecorded = 3
	waybillBusy     = 4
)

// RegistryRedisClient is the part of go-redis the Redis registry uses.
// *redis.Client, *redis.ClusterClient and the failover clients implement
// it.
type RegistryRedisClient interface {
	redis.Scripter
	Get(ctx context.Context, key string) *redis.StringCmd
	Pipelined(ctx context.Context, fn func(redis.Pipeliner) error) ([]redis.Cmder, error)
}

var _ RegistryRedisClient = redis.UniversalClient(nil)

// redisRegistry is the Redis backend.
type redisRegistry struct {
	client RegistryRedisClient
	prefix string
	opts   RegistryOptions
	policy durable.Policy
}

var _ registryBackend = (*redisRegistry)(nil)

// NewRedisRegistry returns a registry on Redis or Redis Cluster, shared by
// every instance and kept across restarts: a batch retried anywhere sends
// only the order codes without a recorded waybill, and two instances
// running one batch at once never both ask the carrier for one order.
// Order code C uses the keys "{<prefix>:C}:wb" (the number) and
// "{<prefix>:C}:claim" (who is creating it), one hash tag per order code;
// a waybill expires Retention after it was recorded, a claim when its
// lease runs out. Its scripts are retry-safe as they are: a resent record
// finds its own number, a resent claim its own claim.
func NewRedisRegistry(client RegistryRedisClient, opts RegistryOptions) (*Registry, error) {
	opts = opts.withDefaults()
	if rule := keyspace.CheckPrefix(opts.Prefix); rule != "" {
		return nil, &InputError{Field: "Prefix", Rule: rule}
	}
	if opts.WaitReplicas < 0 {
		return nil, &InputError{Field: "WaitReplicas", Rule: "must be >= 0"}
	}
	policy := durable.Policy{Replicas: opts.WaitReplicas, Timeout: opts.WaitTimeout}
	if rule := durable.CheckClient(client, policy); rule != "" {
		return nil, &InputError{Field: "WaitReplicas", Rule: rule}
	}
	return &Registry{b: &redisRegistry{client: client, prefix: opts.Prefix, opts: opts, policy: policy}, observe: opts.Observer}, nil
}

func (r *redisRegistry) keys(code string) []string {
	tag := "{" + r.prefix + ":" + code + "}"
	return []string{tag + ":wb", tag + ":claim"}
}

func (r *redisRegistry) lookup(ctx context.Context, code string) (Waybill, bool, error) {
	n, err := r.client.Get(ctx, r.keys(code)[0]).Result()
	if errors.Is(err, redis.Nil) {
		return Waybill{}, false, nil
	}
	if err != nil {
		return Waybill{}, false, fmt.Errorf("logistics: waybill lookup %s: %w", code, err)
	}
	return Waybill{OrderCode: code, Number: n}, true, nil
}

func (r *redisRegistry) record(ctx context.Context, w Waybill) error {
	status, number, err := r.run(ctx, "record", w.OrderCode, w.Number, r.opts.Retention)
	if err != nil {
		return err
	}
	if status == waybillRecorded {
		return &WaybillExistsError{Existing: Waybill{OrderCode: w.OrderCode, Number: number}}
	}
	return nil
}

func (r *redisRegistry) claim(ctx context.Context, req ClaimRequest) (ClaimResult, error) {
	status, number, err := r.run(ctx, "claim", req.OrderCode, req.Owner, req.Lease)
	if err != nil {
		return ClaimResult{}, err
	}
	switch status {
	case waybillRecorded:
		return ClaimResult{Recorded: Waybill{OrderCode: req.OrderCode, Number: number}, HasWaybill: true}, nil
	case waybillBusy:
		return ClaimResult{}, nil
	}
	return ClaimResult{Held: true}, nil
}

func (r *redisRegistry) unclaim(ctx context.Context, req ClaimRequest) error {
	_, _, err := r.run(ctx, "unclaim", req.OrderCode, req.Owner, time.Millisecond)
	return err
}

func (r *redisRegistry) run(ctx context.Context, op, code, arg string, d time.Duration) (int64, string, error) {
	cmd, err := durable.Run(ctx, r.client, r.policy, waybillScript, r.keys(code), op, arg, d.Milliseconds())
	if errors.Is(err, durable.ErrTimeout) {
		return 0, "", fmt.Errorf("logistics: waybill %s %s: %w (%w)", op, code, ErrNotReplicated, err)
	}
	var res []any
	if err == nil {
		res, err = cmd.Slice()
	}
	if err != nil {
		return 0, "", fmt.Errorf("logistics: waybill %s %s: %w", op, code, err)
	}
	status, _ := res[0].(int64)
	switch {
	case (status == waybillOK || status == waybillReplay || status == waybillBusy) && len(res) == 1:
		return status, "", nil
	case status == waybillRecorded && len(res) == 2:
		n, _ := res[1].(string)
		return status, n, nil
	}
	return 0, "", fmt.Errorf("logistics: waybill %s %s: unexpected script reply %v", op, code, res)
}
