package payout_test

import (
	"context"
	"fmt"

	"github.com/shopkit/shopkit/payout"
)

func ExampleAllocate() {
	// Split 100.00 among three parties 1:1:1; the leftover cent goes to
	// the first party with the largest fraction.
	parts, err := payout.Allocate(10000, []int64{1, 1, 1}, payout.LargestRemainder)
	if err != nil {
		panic(err)
	}
	fmt.Println(parts)
	// A refund of the same amount splits the same way, negated.
	parts, _ = payout.Allocate(-10000, []int64{1, 1, 1}, payout.LargestRemainder)
	fmt.Println(parts)
	// Output:
	// [3334 3333 3333]
	// [-3334 -3333 -3333]
}

func ExampleReversal() {
	// A 100.00 charge was shared 5.00 / 10.00 / 85.00; it is refunded in
	// three parts. After 33.33 the exact shares are 166.65, 333.30 and
	// 2833.05: the spare cent goes to the .65. After 66.66 they are 333.3,
	// 666.6 and 5666.1, so the totals are 333, 667, 5666.
	r, _ := payout.NewReversal(10000, []int64{500, 1000, 8500})
	for _, refund := range []int64{3333, 3333, 3334} {
		back, _ := r.Refund(refund)
		fmt.Println(back)
	}
	fmt.Println(r.Reversed())
	// Output:
	// [167 333 2833]
	// [166 334 2833]
	// [167 333 2834]
	// [500 1000 8500]
}

func ExampleLedger() {
	ctx := context.Background()
	var l *payout.Ledger = payout.NewMemoryLedger(payout.LedgerOptions{})
	defer l.Close()
	_, err := l.Post(ctx, payout.Transaction{ID: "order-1", Postings: []payout.Posting{
		{Account: "buyer", Amount: -10000},
		{Account: "platform", Amount: 500},
		{Account: "merchant", Amount: 9500},
	}})
	if err != nil {
		panic(err)
	}
	b, _ := l.Balances(ctx, "merchant", "buyer")
	fmt.Println(b[0].Available, b[1].Available)
	// Output: 9500 -10000
}
