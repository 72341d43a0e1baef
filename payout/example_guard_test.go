package payout_test

import (
	"context"
	"errors"
	"fmt"

	"github.com/shopkit/shopkit/payout"
)

// Example_balanceGuard: with balances guarded, a seller who has been paid
// out cannot be charged a refund it does not cover — the reversal is
// refused and nothing moves — while the platform's clearing account,
// opened as allowed to go negative, carries the other side of every sale.
func Example_balanceGuard() {
	ctx := context.Background()
	ledger := payout.NewMemoryLedger(payout.LedgerOptions{GuardBalances: true})
	for _, a := range []string{"platform-clearing", "bank"} {
		if err := ledger.OpenAccount(ctx, payout.AccountOptions{Account: a, AllowNegative: true}); err != nil {
			panic(err)
		}
	}
	post := func(id, from, to string, amount int64) error {
		_, err := ledger.Post(ctx, payout.Transaction{ID: id, Postings: []payout.Posting{
			{Account: from, Amount: -amount}, {Account: to, Amount: amount}}})
		return err
	}
	fmt.Println("sale:", post("sale-1", "platform-clearing", "seller-42", 8000))
	fmt.Println("payout:", post("payout-1", "seller-42", "bank", 8000))

	_, err := ledger.Reverse(ctx, payout.ReverseRequest{ID: "refund-1", Transaction: "sale-1"})
	var short *payout.InsufficientFundsError
	if errors.As(err, &short) {
		fmt.Printf("refund refused: %s has %d, needs %d\n", short.Account, short.Balance, -short.Amount)
	}
	b, _ := ledger.Balances(ctx, "seller-42", "platform-clearing")
	fmt.Println("seller:", b[0].Available, "clearing:", b[1].Available)
	// Output:
	// sale: <nil>
	// payout: <nil>
	// refund refused: seller-42 has 0, needs 8000
	// seller: 0 clearing: -8000
}

// Example_targetedRefund: an order of 100.00 split 80.00 to the seller,
// 15.00 to the courier and 5.00 platform fee. A refund for a damaged
// parcel comes from the courier alone; a later refund of 40.00 is
// apportioned over what is left of each share, never taking back more
// than a party received.
func Example_targetedRefund() {
	rev, err := payout.NewReversal(10000, []int64{8000, 1500, 500})
	if err != nil {
		panic(err)
	}
	parts, err := rev.RefundSplit([]int64{0, 1500, 0})
	fmt.Println("courier pays the damage:", parts, err)
	_, err = rev.RefundSplit([]int64{0, 1, 0})
	fmt.Println("again from the courier:", errors.Is(err, payout.ErrOverRefund))
	parts, err = rev.Refund(4000)
	fmt.Println("then 40.00 pro rata:", parts, err)
	fmt.Println("reversed so far:", rev.Reversed(), "of", rev.Refunded())
	// Output:
	// courier pays the damage: [0 1500 0] <nil>
	// again from the courier: true
	// then 40.00 pro rata: [3765 0 235] <nil>
	// reversed so far: [3765 1500 235] of 5500
}

// Example_profitSharing: an order of 100.00 paid with a 0.60 fee is
// frozen for sharing; a brand and a personal promoter get their shares,
// the promoter's within its monthly cap; a refund and a returned share
// change what is left to share; the rest unfreezes to the merchant.
func Example_profitSharing() {
	ctx := context.Background()
	ledger := payout.NewMemoryLedger(payout.LedgerOptions{GuardBalances: true})
	sharing, err := payout.NewSharing(ctx, ledger, payout.SharingOptions{PersonalMonthlyCap: 5000})
	if err != nil {
		panic(err)
	}
	left := func(step string) {
		n, _ := sharing.Sharable(ctx, "o-1")
		fmt.Printf("%-9s sharable %d\n", step+":", n)
	}
	must := func(_ payout.Posted, err error) {
		if err != nil {
			panic(err)
		}
	}
	must(sharing.Freeze(ctx, payout.FreezeRequest{ID: "pay-1", OrderID: "o-1", Amount: 10000, Fee: 60}))
	left("paid")
	must(sharing.Share(ctx, payout.ShareRequest{ID: "share-1", OrderID: "o-1", Receivers: []payout.Receiver{
		{Account: "brand-7", Amount: 3000}, {Account: "promoter-9", Amount: 4000, Personal: true}}}))
	left("shared")
	_, err = sharing.Share(ctx, payout.ShareRequest{ID: "share-2", OrderID: "o-1", Receivers: []payout.Receiver{
		{Account: "promoter-9", Amount: 1500, Personal: true}}})
	fmt.Println("past the promoter's cap:", errors.Is(err, payout.ErrMonthlyCap))
	must(sharing.Refund(ctx, payout.RefundRequest{ID: "refund-1", OrderID: "o-1", Amount: 2000}))
	left("refunded")
	must(sharing.Return(ctx, payout.ReturnRequest{ID: "return-1", OrderID: "o-1", ShareID: "share-1", Receiver: "brand-7", Amount: 1000}))
	left("returned")
	must(sharing.Unfreeze(ctx, payout.UnfreezeRequest{ID: "unfreeze-1", OrderID: "o-1", Merchant: "merchant-1"}))
	left("unfrozen")
	b, _ := ledger.Balances(ctx, "brand-7", "promoter-9", "merchant-1")
	fmt.Println("brand", b[0].Available, "promoter", b[1].Available, "merchant", b[2].Available)
	// Output:
	// paid:     sharable 9940
	// shared:   sharable 2940
	// past the promoter's cap: true
	// refunded: sharable 940
	// returned: sharable 1940
	// unfrozen: sharable 0
	// brand 2000 promoter 4000 merchant 1940
}
