package main

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"sync"
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
	stock   *inventory.Store
	coupons *pricing.Redemptions
	ledger  *payout.Ledger
	merges  *logistics.Merge
	limiter *seckill.Limiter
	gate    *seckill.Gate
	sticky  *abtest.Sticky
	events  *funnel.Store
	orders  orderStore
	idem    idemStore
	backend string
	// telemetry counts every store call and error, through the
	// packages' observers.
	telemetry *telemetry
	redis     redis.UniversalClient // nil in memory
	prefix    string                // the shop's key prefix (Redis)
	closeAll  func()

	mu     sync.Mutex // guards the memory settings below
	flags  map[string]bool
	values map[string]string
	// the flash sale's admissions (memory)
	admitted int64
	admitsAt map[int64]int64 // unix second → admissions
	edits    map[string]productEdit
}

// The shop's own settings and markers of one-time work: catalogue edits,
// "the opening stock is in", "the flash sale is settled". They live
// without expiry — they are the shop's configuration, kept until deleted,
// like rows in its database — in memory, or on Redis under
// {prefix:shop}. The receipts' and reservations' own idempotency records
// are forgotten after the inventory store's retention; these markers are
// what keeps one-time work from running again after that.

// flag reports whether the named marker is set.
func (s *stores) flag(ctx context.Context, name string) (bool, error) {
	if s.redis == nil {
		s.mu.Lock()
		defer s.mu.Unlock()
		return s.flags[name], nil
	}
	n, err := s.redis.Exists(ctx, s.shopKey(name)).Result()
	return n == 1, err
}

// setFlag sets the named marker.
func (s *stores) setFlag(ctx context.Context, name string) error {
	if s.redis == nil {
		s.mu.Lock()
		defer s.mu.Unlock()
		if s.flags == nil {
			s.flags = map[string]bool{}
		}
		s.flags[name] = true
		return nil
	}
	return s.redis.Set(ctx, s.shopKey(name), time.Now().UTC().Format(time.RFC3339), 0).Err()
}

// fix stores value under name unless a value is there, and returns the
// value stored: the first instance to decide wins, and every instance
// then agrees.
func (s *stores) fix(ctx context.Context, name, value string) (string, error) {
	if s.redis == nil {
		s.mu.Lock()
		defer s.mu.Unlock()
		if s.values == nil {
			s.values = map[string]string{}
		}
		if v, ok := s.values[name]; ok {
			return v, nil
		}
		s.values[name] = value
		return value, nil
	}
	if err := s.redis.SetNX(ctx, s.shopKey(name), value, 0).Err(); err != nil {
		return "", err
	}
	return s.redis.Get(ctx, s.shopKey(name)).Result()
}

// productEdit is an admin's change to a product: its name and price.
type productEdit struct {
	Name  string `json:"name,omitempty"`
	Price *money `json:"price,omitempty"`
}

// productEdits returns every product's edits, by SKU.
func (s *stores) productEdits(ctx context.Context) (map[string]productEdit, error) {
	out := map[string]productEdit{}
	if s.redis == nil {
		s.mu.Lock()
		defer s.mu.Unlock()
		for k, v := range s.edits {
			out[k] = v
		}
		return out, nil
	}
	fields, err := s.redis.HGetAll(ctx, s.shopKey("catalogue")).Result()
	if err != nil {
		return nil, err
	}
	for sku, doc := range fields {
		var e productEdit
		if err := json.Unmarshal([]byte(doc), &e); err != nil {
			return nil, fmt.Errorf("stored edit of %s: %w", sku, err)
		}
		out[sku] = e
	}
	return out, nil
}

// editProduct stores the edits of sku, replacing the earlier ones.
func (s *stores) editProduct(ctx context.Context, sku string, e productEdit) error {
	if s.redis == nil {
		s.mu.Lock()
		defer s.mu.Unlock()
		if s.edits == nil {
			s.edits = map[string]productEdit{}
		}
		s.edits[sku] = e
		return nil
	}
	doc, err := json.Marshal(e)
	if err != nil {
		return err
	}
	return s.redis.HSet(ctx, s.shopKey("catalogue"), sku, doc).Err()
}

func (s *stores) shopKey(name string) string { return "{" + s.prefix + ":shop}:" + name }

// Rate limits: per client IP on every request, per user on flash-sale
// admissions (enforced by the gate itself).
var (
	perIP      = seckill.PerSecond(20, 40)
	perUserBuy = seckill.PerSecond(1, 3)
)

// reservationSweep is how often expired reservations return their stock
// (they also expire lazily whenever touched).
const reservationSweep = time.Second

// observers are the packages' observers; observe returns a set that
// counts into t.
type observers struct {
	stock   inventory.Observer
	coupons pricing.Observer
	ledger  payout.Observer
	merges  logistics.Observer
	limiter seckill.Observer
	gate    seckill.Observer
	sticky  abtest.Observer
	events  funnel.Observer
}

func observe(t *telemetry) observers {
	return observers{
		stock:   func(o inventory.Observation) { t.storeCall("inventory", o.Op.String(), o.Err) },
		coupons: func(o pricing.Observation) { t.storeCall("coupons", o.Op.String(), o.Err) },
		ledger:  func(o payout.Observation) { t.storeCall("ledger", o.Op.String(), o.Err) },
		merges:  func(o logistics.Observation) { t.storeCall("merge", o.Op.String(), o.Err) },
		limiter: func(o seckill.Observation) { t.storeCall("limiter", o.Op.String(), o.Err) },
		gate:    func(o seckill.Observation) { t.storeCall("sale", o.Op.String(), o.Err) },
		sticky:  func(o abtest.Observation) { t.storeCall("sticky", o.Op.String(), o.Err) },
		events:  func(o funnel.Observation) { t.storeCall("funnel", o.Op.String(), o.Err) },
	}
}

func openMemory() *stores {
	tel := newTelemetry()
	obs := observe(tel)
	limiter := seckill.NewMemoryLimiter(seckill.LimiterOptions{Observer: obs.limiter})
	stock := inventory.NewMemory(inventory.Options{SweepInterval: reservationSweep, Observer: obs.stock})
	ledger := payout.NewMemoryLedger(payout.LedgerOptions{Observer: obs.ledger})
	gate := seckill.NewMemoryGate(seckill.GateOptions{Limiter: limiter, PerUser: perUserBuy, Observer: obs.gate})
	return &stores{
		stock: stock, coupons: pricing.NewMemoryRedemptions(pricing.RedemptionsOptions{Observer: obs.coupons}), ledger: ledger,
		merges: logistics.NewMemoryMerge(logistics.MergeOptions{Observer: obs.merges}), limiter: limiter, gate: gate,
		sticky: abtest.NewMemorySticky(abtest.StickyOptions{Observer: obs.sticky}), events: funnel.NewMemory(funnel.Options{Observer: obs.events}),
		orders: newMemoryOrders(), idem: newMemoryIdempotency(), backend: "memory", telemetry: tel,
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
		orders: newRedisOrders(client, prefix), idem: &redisIdempotency{client: client, prefix: prefix}, telemetry: newTelemetry()}
	obs := observe(s.telemetry)
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
	stock, err := inventory.NewRedis(client, inventory.Options{Prefix: p("inventory"), SweepInterval: reservationSweep, Observer: obs.stock})
	if err != nil {
		return fail("inventory", err)
	}
	closers = append(closers, stock.Close)
	s.stock = stock
	if s.coupons, err = pricing.NewRedisRedemptions(client, pricing.RedemptionsOptions{Prefix: p("coupons"), Observer: obs.coupons}); err != nil {
		return fail("coupons", err)
	}
	ledger, err := payout.NewRedisLedger(client, payout.LedgerOptions{Prefix: p("ledger"), Observer: obs.ledger})
	if err != nil {
		return fail("ledger", err)
	}
	closers = append(closers, ledger.Close)
	s.ledger = ledger
	if s.merges, err = logistics.NewRedisMerge(client, logistics.MergeOptions{Prefix: p("merge"), Observer: obs.merges}); err != nil {
		return fail("merge windows", err)
	}
	if s.limiter, err = seckill.NewRedisLimiter(client, seckill.LimiterOptions{Prefix: p("ratelimit"), Observer: obs.limiter}); err != nil {
		return fail("rate limiter", err)
	}
	gate, err := seckill.NewRedisGate(client, seckill.GateOptions{Limiter: s.limiter, PerUser: perUserBuy, Prefix: p("sale"), Observer: obs.gate})
	if err != nil {
		return fail("sale gate", err)
	}
	closers = append(closers, gate.Close)
	s.gate = gate
	if s.sticky, err = abtest.NewRedisSticky(client, abtest.StickyOptions{Prefix: p("abtest"), Observer: obs.sticky}); err != nil {
		return fail("sticky assignments", err)
	}
	if s.events, err = funnel.NewRedis(client, funnel.Options{Prefix: p("funnel"), Observer: obs.events}); err != nil {
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
