// Command observe feeds the observers of inventory, seckill, pricing and
// payout into Prometheus text, without a metrics library: every store's
// options take an Observer, a func(Observation) called after each call
// with its op, ID, error and wall time, and this program turns those into
// a call counter by package, op and outcome and a latency histogram, then
// prints what a /metrics endpoint would serve.
//
// Copy metrics.go into your service and register its Handler, or replace
// it with prometheus/client_golang: the observers stay the same.
//
//	go run ./examples/observe                  # in memory
//	go run ./examples/observe -redis :6379     # on Redis
package main

import (
	"context"
	"flag"
	"fmt"
	"log"
	"os"
	"strings"
	"time"

	"github.com/shopkit/shopkit/examples/exampleredis"
	"github.com/shopkit/shopkit/inventory"
	"github.com/shopkit/shopkit/payout"
	"github.com/shopkit/shopkit/pricing"
	"github.com/shopkit/shopkit/seckill"
)

func main() {
	redisAddr := flag.String("redis", "", "Redis address; empty for the in-memory stores")
	clusterAddrs := flag.String("cluster", "", "comma-separated Redis Cluster seed addresses")
	orders := flag.Int("orders", 200, "orders to place")
	smoke := flag.Bool("smoke", false, "a short run for CI")
	flag.Parse()
	if *smoke {
		*orders = 20
	}
	if err := run(*redisAddr, *clusterAddrs, *orders); err != nil {
		log.Fatal(err)
	}
}

// stores are the stores the workload uses, each observed by m.
type stores struct {
	stock   *inventory.Store
	gate    *seckill.Gate
	coupons *pricing.Redemptions
	ledger  *payout.Ledger
	close   func()
}

func open(m *metrics, redisAddr, clusterAddrs string) (*stores, error) {
	// Each observer labels the outcome by its package's sentinels; an
	// admission's outcome (sold out, over the limit) is its answer, not an
	// error.
	invOpts := inventory.Options{Observer: func(o inventory.Observation) {
		m.observe("inventory", o.Op.String(), outcome(o.Err, inventory.ErrInsufficientStock, inventory.ErrNotHeld,
			inventory.ErrNotFound, inventory.ErrIDConflict, inventory.ErrInvalidInput, inventory.ErrNotReplicated), o.Took)
	}}
	gateOpts := seckill.GateOptions{Observer: func(o seckill.Observation) {
		label := outcome(o.Err, seckill.ErrNotFound, seckill.ErrIDConflict, seckill.ErrTicketExpired,
			seckill.ErrInvalidInput, seckill.ErrNotReplicated)
		if o.Op == seckill.OpAdmit && o.Err == nil {
			label = strings.ReplaceAll(o.Admission.Outcome.String(), " ", "_")
		}
		m.observe("seckill", o.Op.String(), label, o.Took)
	}}
	couponOpts := pricing.RedemptionsOptions{Observer: func(o pricing.Observation) {
		m.observe("pricing", o.Op.String(), outcome(o.Err, pricing.ErrGlobalLimit, pricing.ErrCustomerLimit,
			pricing.ErrNotHeld, pricing.ErrNotFound, pricing.ErrIDConflict, pricing.ErrInvalidInput, pricing.ErrNotReplicated), o.Took)
	}}
	ledgerOpts := payout.LedgerOptions{Observer: func(o payout.Observation) {
		m.observe("payout", o.Op.String(), outcome(o.Err, payout.ErrIDConflict, payout.ErrNotFound,
			payout.ErrAlreadyReversed, payout.ErrBalanceLimit, payout.ErrInvalidInput, payout.ErrNotReplicated), o.Took)
	}}
	client := exampleredis.Dial(redisAddr, clusterAddrs)
	if client == nil {
		return &stores{stock: inventory.NewMemory(invOpts), gate: seckill.NewMemoryGate(gateOpts),
			coupons: pricing.NewMemoryRedemptions(couponOpts), ledger: payout.NewMemoryLedger(ledgerOpts), close: func() {}}, nil
	}
	prefix := fmt.Sprintf("example:observe:%d", os.Getpid())
	invOpts.Prefix, gateOpts.Prefix, couponOpts.Prefix, ledgerOpts.Prefix = prefix+":stock", prefix+":sale", prefix+":coupon", prefix+":ledger"
	s := &stores{close: func() { exampleredis.Close(client, "*"+prefix+"*") }}
	var err error
	if s.stock, err = inventory.NewRedis(client, invOpts); err != nil {
		return nil, err
	}
	if s.gate, err = seckill.NewRedisGate(client, gateOpts); err != nil {
		return nil, err
	}
	if s.coupons, err = pricing.NewRedisRedemptions(client, couponOpts); err != nil {
		return nil, err
	}
	if s.ledger, err = payout.NewRedisLedger(client, ledgerOpts); err != nil {
		return nil, err
	}
	return s, nil
}

func run(redisAddr, clusterAddrs string, orders int) error {
	ctx := context.Background()
	m := newMetrics()
	s, err := open(m, redisAddr, clusterAddrs)
	if err != nil {
		return err
	}
	defer s.close()

	// Stock for half the orders, a flash sale of 5 units, a coupon for 10
	// uses: some calls fail on purpose, and the outcome label shows it.
	if _, err := s.stock.SetOnHand(ctx, inventory.Count{ID: "count-1", SKU: "mug", Location: "main", OnHand: int64(orders / 2), Reason: inventory.ReasonCount}); err != nil {
		return err
	}
	now := time.Now()
	if err := s.gate.Open(ctx, seckill.Sale{ID: "flash", SKU: "mug", Units: 5, PerUserLimit: 1, Start: now.Add(-time.Minute), End: now.Add(time.Hour)}); err != nil {
		return err
	}
	for i := range orders {
		id := fmt.Sprint("order-", i)
		if _, err := s.stock.Reserve(ctx, inventory.Request{ID: id, TTL: time.Minute,
			Lines: []inventory.Line{{SKU: "mug", Location: "main", Quantity: 1}}}); err != nil {
			continue // out of stock: counted as an insufficient_stock outcome
		}
		_, _ = s.gate.Admit(ctx, seckill.AdmitRequest{SaleID: "flash", UserID: fmt.Sprint("user-", i), RequestID: id, Quantity: 1})
		_, _ = s.coupons.Reserve(ctx, pricing.HoldRequest{Coupon: "WELCOME", OrderID: id, Customer: fmt.Sprint("user-", i),
			Limits: pricing.CouponLimits{Global: 10}, TTL: time.Minute})
		if _, err := s.stock.Commit(ctx, id); err != nil {
			return err
		}
		if _, err := s.ledger.Post(ctx, payout.Transaction{ID: id, Postings: []payout.Posting{
			{Account: "buyer", Amount: -1200}, {Account: "merchant", Amount: 1200}}}); err != nil {
			return err
		}
	}
	_, err = m.WriteTo(os.Stdout)
	return err
}
