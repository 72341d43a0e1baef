package pricing

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
	//go:embed lua/redeem.lua
	redeemLua    string
	redeemScript = opscript.New(redeemLua)
)

// RedisRedemptions is Redemptions on Redis or Redis Cluster. Coupon C
// uses "{<prefix>:C}:orders", ":holds", ":used", ":customers" and ":fin":
// one hash tag per coupon, so coupons spread over a Cluster while each
// coupon's limits are decided by one script on one node, timed by the
// server's TIME. A redemption's record is forgotten Retention after it
// last changed state; the use counts (":used", ":customers") are kept.
type RedisRedemptions struct {
	client RedemptionsRedisClient
	prefix string
	opts   RedemptionsOptions
	policy durable.Policy // replicas every write waits for
}

// RedemptionsRedisClient is the part of go-redis RedisRedemptions uses.
type RedemptionsRedisClient interface {
	redis.Scripter
	Pipelined(ctx context.Context, fn func(redis.Pipeliner) error) ([]redis.Cmder, error)
}

var _ RedemptionsRedisClient = redis.UniversalClient(nil)

var _ Redemptions = (*RedisRedemptions)(nil)

// NewRedisRedemptions returns a store on client; opts.Now does not apply.
func NewRedisRedemptions(client RedemptionsRedisClient, opts RedemptionsOptions) (*RedisRedemptions, error) {
	opts = opts.withDefaults()
	if rule := keyspace.CheckPrefix(opts.Prefix); rule != "" {
		return nil, &InputError{Field: "Prefix", Rule: rule}
	}
	policy := durable.Policy{Replicas: opts.WaitReplicas, Timeout: opts.WaitTimeout}
	if rule := durable.CheckClient(client, policy); rule != "" {
		return nil, &InputError{Field: "WaitReplicas", Rule: rule}
	}
	return &RedisRedemptions{client: client, prefix: opts.Prefix, opts: opts, policy: policy}, nil
}

// keys returns coupon C's orders, holds, used, customers and finished
// keys.
func (r *RedisRedemptions) keys(coupon string) []string {
	tag := "{" + r.prefix + ":" + coupon + "}"
	return []string{tag + ":orders", tag + ":holds", tag + ":used", tag + ":customers", tag + ":fin"}
}

// run runs redeem.lua: op, then the retention, then the op's arguments.
func (r *RedisRedemptions) run(ctx context.Context, coupon, op string, args ...any) ([]any, error) {
	all := append([]any{op, r.opts.Retention.Milliseconds()}, args...)
	cmd, err := durable.Run(ctx, r.client, r.policy, redeemScript, r.keys(coupon), all...)
	if errors.Is(err, durable.ErrTimeout) {
		return nil, fmt.Errorf("pricing: coupon %s %s: %w (%w)", coupon, op, ErrNotReplicated, err)
	}
	var res []any
	if err == nil {
		res, err = cmd.Slice()
	}
	if err != nil {
		return nil, fmt.Errorf("pricing: coupon %s %s: %w", coupon, op, err)
	}
	return res, nil
}

func (r *RedisRedemptions) redeem(ctx context.Context, coupon, orderID, op string, args ...any) (Redemption, error) {
	res, err := r.run(ctx, coupon, op, args...)
	if err != nil {
		return Redemption{}, err
	}
	status, _ := res[0].(string)
	rec, _ := res[1].(string)
	var red Redemption
	if rec != "" {
		if red, err = parseRedemption(coupon, orderID, rec); err != nil {
			return Redemption{}, err
		}
	}
	switch status {
	case "ok":
		return red, nil
	case "conflict":
		return Redemption{}, ErrOrderConflict
	case "global":
		return Redemption{}, ErrGlobalLimit
	case "customer":
		return Redemption{}, ErrCustomerLimit
	case "unknown":
		return Redemption{}, ErrUnknownRedemption
	case "notheld":
		return red, ErrNotHeld
	}
	return Redemption{}, fmt.Errorf("pricing: coupon %s: unexpected reply %q", coupon, status)
}

var stateNames = map[string]RedemptionState{"held": Held, "committed": Committed, "released": Released, "expired": Expired}

// parseRedemption reads a record as redeem.lua writes it,
// "<state>|<expires ms>|<customer>": the customer may contain '|', so it
// is everything after the second one.
func parseRedemption(coupon, orderID, rec string) (Redemption, error) {
	f := strings.SplitN(rec, "|", 3)
	if len(f) != 3 || stateNames[f[0]] == 0 {
		return Redemption{}, fmt.Errorf("pricing: malformed redemption %q", rec)
	}
	ms, err := strconv.ParseInt(f[1], 10, 64)
	if err != nil {
		return Redemption{}, fmt.Errorf("pricing: malformed redemption %q", rec)
	}
	return Redemption{Coupon: coupon, OrderID: orderID, Customer: f[2], State: stateNames[f[0]], ExpiresAt: time.UnixMilli(ms)}, nil
}

// Reserve implements Redemptions.
func (r *RedisRedemptions) Reserve(ctx context.Context, coupon string, limits CouponLimits, customer, orderID string, ttl time.Duration) (Redemption, error) {
	if err := checkReserve(coupon, limits, customer, orderID, ttl); err != nil {
		return Redemption{}, err
	}
	return r.redeem(ctx, coupon, orderID, "reserve", orderID, customer, limits.Global, limits.PerCustomer, ttl.Milliseconds())
}

// Commit implements Redemptions.
func (r *RedisRedemptions) Commit(ctx context.Context, coupon, orderID string) (Redemption, error) {
	if err := checkRedemption(coupon, orderID); err != nil {
		return Redemption{}, err
	}
	return r.redeem(ctx, coupon, orderID, "commit", orderID)
}

// Release implements Redemptions. A committed redemption may be released
// too (the order was cancelled after payment): its use returns.
func (r *RedisRedemptions) Release(ctx context.Context, coupon, orderID string) (Redemption, error) {
	if err := checkRedemption(coupon, orderID); err != nil {
		return Redemption{}, err
	}
	return r.redeem(ctx, coupon, orderID, "release", orderID)
}

// Usage implements Redemptions.
func (r *RedisRedemptions) Usage(ctx context.Context, coupon, customer string) (CouponUsage, error) {
	if err := checkUsage(coupon, customer); err != nil {
		return CouponUsage{}, err
	}
	res, err := r.run(ctx, coupon, "usage", customer)
	if err != nil {
		return CouponUsage{}, err
	}
	g, _ := res[0].(int64)
	c, _ := res[1].(int64)
	return CouponUsage{Global: g, Customer: c}, nil
}
