package payout_test

import (
	"context"
	"fmt"

	"github.com/alicebob/miniredis/v2"
	"github.com/redis/go-redis/v9"

	"github.com/shopkit/shopkit/payout"
)

// A ledger on Redis (here an embedded miniredis): a payment split three
// ways, then reversed whole; every account is back at zero.
func ExampleNewRedisLedger() {
	ctx := context.Background()
	srv := miniredis.NewMiniRedis()
	if err := srv.Start(); err != nil {
		panic(err)
	}
	defer srv.Close()
	client := redis.NewClient(&redis.Options{Addr: srv.Addr()})
	defer client.Close()

	ledger, err := payout.NewRedisLedger(client, payout.LedgerOptions{Prefix: "shop:ledger"})
	if err != nil {
		panic(err)
	}
	defer ledger.Close()
	// 100.00 paid: platform 5.00, provider 0.60, merchant the rest.
	pay := payout.Transaction{ID: "order-1", Postings: []payout.Posting{
		{Account: "buyer", Amount: -10000}, {Account: "platform", Amount: 500},
		{Account: "provider", Amount: 60}, {Account: "merchant", Amount: 9440}}}
	if _, err := ledger.Post(ctx, pay); err != nil {
		panic(err)
	}
	bal, _ := ledger.Balances(ctx, "merchant", "platform")
	fmt.Println("merchant", bal[0].Available, "platform", bal[1].Available)

	r, err := ledger.Reverse(ctx, payout.ReverseRequest{ID: "refund-1", Transaction: "order-1"})
	if err != nil {
		panic(err)
	}
	fmt.Println(r.ID, "reverses", r.Reverses)
	bal, _ = ledger.Balances(ctx, "buyer", "merchant", "platform", "provider")
	for _, b := range bal {
		fmt.Println(b.Account, b.Total())
	}
	// Output:
	// merchant 9440 platform 500
	// refund-1 reverses order-1
	// buyer 0
	// merchant 0
	// platform 0
	// provider 0
}
