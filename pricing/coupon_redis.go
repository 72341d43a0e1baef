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

// redisRedemptions is the Redis backend.
type redisRedemptions struct {
	client RedemptionsRedisClient
	prefix string
	opts   RedemptionsOptions
	policy durable.Policy // replicas every write waits for
}

// RedemptionsRedisClient is the part of go-redis the Redis redemption store
// uses. *redis.Client, *redis.ClusterClient, *redis.Ring and the failover
// clients implement it.
type RedemptionsRedisClient interface {
	redis.Scripter
	Pipelined(ctx context.Context, fn func(redis.Pipeliner) error) ([]redis.Cmder, error)
}

var _ RedemptionsRedisClient = redis.UniversalClient(nil)

var _ redemptionsBackend = (*redisRedemptions)(nil)

// NewRedisRedemptions returns a store on Redis or Redis Cluster. Coupon C
// uses "{<prefix>:C}:orders", ":holds", ":used", ":customers", ":fin",
// ":amounts" and ":spent" (the last two for budgets):
// one hash tag per coupon, so coupons spread over a Cluster while each
// coupon's limits are decided by one script on one node, timed by the
// server's TIME (opts.Now does not apply). A redemption's record and its
// amount are forgotten Retention after it last changed state; the use
// counts and the sum spent (":used", ":customers", ":spent") are kept.
func NewRedisRedemptions(client RedemptionsRedisClient, opts RedemptionsOptions) (*Redemptions, error) {
	opts = opts.withDefaults()
	if rule := keyspace.CheckPrefix(opts.Prefix); rule != "" {
		return nil, &InputError{Field: "Prefix", Rule: rule}
	}
	policy := durable.Policy{Replicas: opts.WaitReplicas, Timeout: opts.WaitTimeout}
	if rule := durable.CheckClient(client, policy); rule != "" {
		return nil, &InputError{Field: "WaitReplicas", Rule: rule}
	}
	return newRedemptions(&redisRedemptions{client: client, prefix: opts.Prefix, opts: opts, policy: policy}, opts), nil
}

// keys returns coupon C's orders, holds, used, customers, finished,
// amounts and spent keys.
func (r *redisRedemptions) keys(coupon string) []string {
	tag := "{" + r.prefix + ":" + coupon + "}"
	return []string{tag + ":orders", tag + ":holds", tag + ":used", tag + ":customers", tag + ":fin", tag + ":amounts", tag + ":spent"}
}

// run runs redeem.lua: op, then the retention, then the op's arguments.
func (r *redisRedemptions) run(ctx context.Context, coupon, op string, args ...any) ([]any, error) {
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

func (r *redisRedemptions) redeem(ctx context.Context, coupon, orderID, op string, args ...any) (Redemption, error) {
	res, err := r.run(ctx, coupon, op, args...)
	if err != nil {
		return Redemption{}, err
	}
	status, _ := res[0].(int64)
	rec, _ := res[1].(string)
	var red Redemption
	if rec != "" {
		if red, err = parseRedemption(coupon, orderID, rec); err != nil {
			return Redemption{}, err
		}
	}
	if len(res) > 2 {
		red.Amount, _ = res[2].(int64)
	}
	switch status {
	case replyOK:
		return red, nil
	case replyReplay:
		red.Replayed = true
		return red, nil
	case replyConflict:
		return Redemption{}, ErrIDConflict
	case replyGlobal:
		return Redemption{}, ErrGlobalLimit
	case replyCustomer:
		return Redemption{}, ErrCustomerLimit
	case replyUnknown:
		return Redemption{}, ErrNotFound
	case replyNotHeld:
		return red, ErrNotHeld
	case replyBudget:
		return Redemption{}, ErrBudgetExhausted
	}
	return Redemption{}, fmt.Errorf("pricing: coupon %s: unexpected script reply %v", coupon, res)
}

// redeem.lua's statuses, as its header lists them.
const (
	replyOK       = 1
	replyReplay   = 2
	replyConflict = 3
	replyGlobal   = 4
	replyCustomer = 5
	replyUnknown  = 6
	replyNotHeld  = 7
	replyBudget   = 9 // 8, malformed, is an unexpected reply
)

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

func (r *redisRedemptions) reserve(ctx context.Context, h HoldRequest) (Redemption, error) {
	return r.redeem(ctx, h.Coupon, h.OrderID, "reserve", h.OrderID, h.Customer, h.Limits.Global, h.Limits.PerCustomer, h.TTL.Milliseconds(),
		h.Limits.Budget, h.Amount)
}

func (r *redisRedemptions) commit(ctx context.Context, ref RedemptionRef) (Redemption, error) {
	return r.redeem(ctx, ref.Coupon, ref.OrderID, "commit", ref.OrderID)
}

func (r *redisRedemptions) release(ctx context.Context, ref RedemptionRef) (Redemption, error) {
	return r.redeem(ctx, ref.Coupon, ref.OrderID, "release", ref.OrderID)
}

func (r *redisRedemptions) usage(ctx context.Context, q UsageQuery) (CouponUsage, error) {
	res, err := r.run(ctx, q.Coupon, "usage", q.Customer)
	if err != nil {
		return CouponUsage{}, err
	}
	u := CouponUsage{}
	u.Global, _ = res[0].(int64)
	u.Customer, _ = res[1].(int64)
	if len(res) > 2 {
		u.Spent, _ = res[2].(int64)
	}
	return u, nil
}
