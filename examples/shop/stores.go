package main

import (
	"context"
	"fmt"
	"strings"
	"sync/atomic"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/shopkit/shopkit/abtest"
	"github.com/shopkit/shopkit/funnel"
	"github.com/shopkit/shopkit/inventory"
	"github.com/shopkit/shopkit/logistics"
	"github.com/shopkit/shopkit/payout"
	"github.com/shopkit/shopkit/pricing"
	"github.com/shopkit/shopkit/seckill"
)

// stores are every stateful part of the shop, all in memory or all on one
// Redis (or Cluster). Each store gets its own key prefix under the shop's,
// so one Redis can host several shops.
type stores struct {
	stock    *inventory.Store
	coupons  *pricing.Redemptions
	ledger   *payout.Ledger
	merges   *logistics.Merge
	limiter  *seckill.Limiter
	gate     *seckill.Gate
	sticky   *abtest.Sticky
	events   *funnel.Store
	orders   orderStore
	idem     idemStore
	backend  string
	redis    redis.UniversalClient // nil in memory
	prefix   string                // the shop's key prefix (Redis)
	closeAll func()

	openingInMemory atomic.Bool // the opening stock was received (memory)
}

// openingReceived reports whether the opening stock was received into
// these stores. On Redis it is a key of its own, without expiry: the
// receipts' idempotency records are forgotten after the inventory
// store's retention, and the stock they made lives on.
func (s *stores) openingReceived(ctx context.Context) (bool, error) {
	if s.redis == nil {
		return s.openingInMemory.Load(), nil
	}
	n, err := s.redis.Exists(ctx, s.openingKey()).Result()
	return n == 1, err
}

// markOpeningReceived records that the opening stock is in.
func (s *stores) markOpeningReceived(ctx context.Context) error {
	if s.redis == nil {
		s.openingInMemory.Store(true)
		return nil
	}
	return s.redis.Set(ctx, s.openingKey(), time.Now().UTC().Format(time.RFC3339), 0).Err()
}

func (s *stores) openingKey() string { return "{" + s.prefix + ":shop}:opening-stock" }

// Rate limits: per client IP on every request, per user on flash-sale
// admissions (enforced by the gate itself).
var (
	perIP      = seckill.PerSecond(20, 40)
	perUserBuy = seckill.PerSecond(1, 3)
)

// reservationSweep is how often expired reservations return their stock
// (they also expire lazily whenever touched).
const reservationSweep = time.Second

func openMemory() *stores {
	limiter := seckill.NewMemoryLimiter(seckill.LimiterOptions{})
	stock := inventory.NewMemory(inventory.Options{SweepInterval: reservationSweep})
	ledger := payout.NewMemoryLedger(payout.LedgerOptions{})
	gate := seckill.NewMemoryGate(seckill.GateOptions{Limiter: limiter, PerUser: perUserBuy})
	return &stores{
		stock: stock, coupons: pricing.NewMemoryRedemptions(pricing.RedemptionsOptions{}), ledger: ledger,
		merges: logistics.NewMemoryMerge(logistics.MergeOptions{}), limiter: limiter, gate: gate,
		sticky: abtest.NewMemorySticky(abtest.StickyOptions{}), events: funnel.NewMemory(funnel.Options{}),
		orders: newMemoryOrders(), idem: newMemoryIdempotency(), backend: "memory",
		closeAll: func() {
			_ = gate.Close()
			_ = stock.Close()
			_ = ledger.Close()
		},
	}
}

// openRedis builds every store on client under prefix.
func openRedis(client redis.UniversalClient, prefix string) (*stores, error) {
	s := &stores{backend: "redis", redis: client, prefix: prefix,
		orders: newRedisOrders(client, prefix), idem: &redisIdempotency{client: client, prefix: prefix}}
	if _, ok := client.(*redis.ClusterClient); ok {
		s.backend = "redis-cluster"
	}
	var closers []func() error
	fail := func(what string, err error) (*stores, error) {
		for _, c := range closers {
			_ = c()
		}
		return nil, fmt.Errorf("open %s: %w", what, err)
	}
	p := func(name string) string { return prefix + ":" + name }
	stock, err := inventory.NewRedis(client, inventory.Options{Prefix: p("inventory"), SweepInterval: reservationSweep})
	if err != nil {
		return fail("inventory", err)
	}
	closers = append(closers, stock.Close)
	s.stock = stock
	if s.coupons, err = pricing.NewRedisRedemptions(client, pricing.RedemptionsOptions{Prefix: p("coupons")}); err != nil {
		return fail("coupons", err)
	}
	ledger, err := payout.NewRedisLedger(client, payout.LedgerOptions{Prefix: p("ledger")})
	if err != nil {
		return fail("ledger", err)
	}
	closers = append(closers, ledger.Close)
	s.ledger = ledger
	if s.merges, err = logistics.NewRedisMerge(client, logistics.MergeOptions{Prefix: p("merge")}); err != nil {
		return fail("merge windows", err)
	}
	if s.limiter, err = seckill.NewRedisLimiter(client, seckill.LimiterOptions{Prefix: p("ratelimit")}); err != nil {
		return fail("rate limiter", err)
	}
	gate, err := seckill.NewRedisGate(client, seckill.GateOptions{Limiter: s.limiter, PerUser: perUserBuy, Prefix: p("sale")})
	if err != nil {
		return fail("sale gate", err)
	}
	closers = append(closers, gate.Close)
	s.gate = gate
	if s.sticky, err = abtest.NewRedisSticky(client, abtest.StickyOptions{Prefix: p("abtest")}); err != nil {
		return fail("sticky assignments", err)
	}
	if s.events, err = funnel.NewRedis(client, funnel.Options{Prefix: p("funnel")}); err != nil {
		return fail("events", err)
	}
	s.closeAll = func() {
		for _, c := range closers {
			_ = c()
		}
	}
	return s, nil
}

// health checks that the stores can be reached.
func (s *stores) health(ctx context.Context) error {
	if s.redis == nil {
		return nil
	}
	ctx, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	if c, ok := s.redis.(*redis.ClusterClient); ok {
		return c.ForEachShard(ctx, func(ctx context.Context, node *redis.Client) error {
			if err := node.Ping(ctx).Err(); err != nil {
				return fmt.Errorf("%s: %w", strings.TrimSpace(node.Options().Addr), err)
			}
			return nil
		})
	}
	return s.redis.Ping(ctx).Err()
}
