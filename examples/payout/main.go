// Command payout walks one marketplace order through the money side: the
// buyer pays 1,288.00, the platform takes its fee, a service provider and
// the merchant share the rest, two levels of referrers earn rebates, the
// split is posted to a settlement ledger (pending until T+1), and the order
// is refunded in three parts, every share reversed in proportion. It prints
// each step and checks that everything balances to the cent.
//
//	go run ./examples/payout                    # in-memory ledger
//	go run ./examples/payout -redis localhost:6379
//	go run ./examples/payout -cluster 127.0.0.1:7001,127.0.0.1:7002,127.0.0.1:7003
package main

import (
	"context"
	"flag"
	"fmt"
	"log"
	"os"
	"time"

	"github.com/shopspring/decimal"

	"github.com/shopkit/shopkit/examples/exampleredis"
	"github.com/shopkit/shopkit/payout"
)

func main() {
	redisAddr := flag.String("redis", "", "Redis address for the ledger (default: in memory)")
	clusterAddrs := flag.String("cluster", "", "comma-separated Redis Cluster seed addresses")
	flag.Bool("smoke", false, "accepted for CI; the example is already short")
	flag.Parse()
	if err := run(*redisAddr, *clusterAddrs); err != nil {
		log.Fatal(err)
	}
}

const scale = 2 // CNY minor units: fen

func run(redisAddr, clusterAddrs string) error {
	ctx := context.Background()
	ledger, closeLedger, err := open(redisAddr, clusterAddrs)
	if err != nil {
		return err
	}
	defer closeLedger()

	order, err := payout.ToMinor(decimal.RequireFromString("1288.00"), scale)
	if err != nil {
		return err
	}
	// Platform fee: 2% + 1.00, at least 5.00.
	fee, err := payout.Fee{BasisPoints: 200, Fixed: 100, Min: 500}.Of(order)
	if err != nil {
		return err
	}
	// Referral rebates: level 1 earns 3% capped at 30.00, level 2 earns 1%.
	rebates, err := payout.Rebates(order, []payout.Level{{BasisPoints: 300, Cap: 3000}, {BasisPoints: 100}}, payout.HalfUp)
	if err != nil {
		return err
	}
	// What is left is shared 15:85 between the provider and the merchant.
	rest := order - fee - rebates[0] - rebates[1]
	parts, err := payout.Allocate(rest, []int64{15, 85}, payout.LargestRemainder)
	if err != nil {
		return err
	}
	names := []string{"platform", "referrer-1", "referrer-2", "provider", "merchant"}
	shares := []int64{fee, rebates[0], rebates[1], parts[0], parts[1]}

	// WeChat Pay style check: the shared part (everything but the
	// merchant's) may be at most 30% of the order.
	var plan []payout.Share
	for i := 0; i < 4; i++ {
		plan = append(plan, payout.Share{Receiver: names[i], Amount: shares[i]})
	}
	if err := (payout.SharingRules{}).Check(order, plan); err != nil {
		return err
	}

	fmt.Printf("order %s paid\n", money(order))
	postings := []payout.Posting{{Account: "buyer", Amount: -order}}
	for i, n := range names {
		fmt.Printf("  %-10s %10s\n", n, money(shares[i]))
		postings = append(postings, payout.Posting{Account: n, Amount: shares[i]})
	}
	settle := time.Now().Add(24 * time.Hour) // T+1
	if _, err := ledger.Post(ctx, payout.Transaction{ID: "order-1001", Postings: postings, AvailableAt: settle}); err != nil {
		return err
	}

	// Three partial refunds, each reversed across every share.
	rev, err := payout.NewReversal(order, shares)
	if err != nil {
		return err
	}
	for i, s := range []string{"100.00", "388.88", "799.12"} {
		refund, err := payout.ToMinor(decimal.RequireFromString(s), scale)
		if err != nil {
			return err
		}
		back, err := rev.Refund(refund)
		if err != nil {
			return err
		}
		fmt.Printf("refund %d: %s\n", i+1, money(refund))
		postings := []payout.Posting{{Account: "buyer", Amount: refund}}
		for j, n := range names {
			fmt.Printf("  %-10s %10s\n", n, money(-back[j]))
			postings = append(postings, payout.Posting{Account: n, Amount: -back[j]})
		}
		id := fmt.Sprintf("order-1001-refund-%d", i+1)
		if _, err := ledger.Post(ctx, payout.Transaction{ID: id, Postings: postings, AvailableAt: settle}); err != nil {
			return err
		}
	}

	// Everything refunded: every account, the buyer's included, is back to zero.
	balances, err := ledger.Balances(ctx, append([]string{"buyer"}, names...)...)
	if err != nil {
		return err
	}
	var sum int64
	for _, b := range balances {
		if b.Total() != 0 {
			return fmt.Errorf("%s ends at %s, want 0", b.Account, money(b.Total()))
		}
		sum += b.Total()
	}
	for i, r := range rev.Reversed() {
		if r != shares[i] {
			return fmt.Errorf("%s reversed %s of %s", names[i], money(r), money(shares[i]))
		}
	}
	fmt.Printf("balanced: every share reversed exactly, all balances zero (sum %d)\n", sum)
	return nil
}

func money(minor int64) string { return payout.FromMinor(minor, scale).StringFixed(scale) }

func open(redisAddr, clusterAddrs string) (*payout.Ledger, func(), error) {
	client := exampleredis.Dial(redisAddr, clusterAddrs)
	if client == nil {
		l := payout.NewMemoryLedger(payout.LedgerOptions{})
		return l, func() { _ = l.Close() }, nil
	}
	prefix := fmt.Sprintf("example:payout:%d:%d", os.Getpid(), time.Now().UnixNano())
	l, err := payout.NewRedisLedger(client, payout.LedgerOptions{Prefix: prefix})
	if err != nil {
		return nil, nil, err
	}
	return l, func() {
		_ = l.Close()
		exampleredis.Close(client, "{"+prefix+"}*")
	}, nil
}
