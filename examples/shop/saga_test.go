package main

import (
	"context"
	"testing"
	"time"

	"github.com/shopkit/shopkit/logistics"
	"github.com/shopkit/shopkit/payout"
	"github.com/shopkit/shopkit/pricing"
)

// testOrdersShared: two shop instances on the same stores share the
// orders and the idempotency records: checkout on one, pay on the other,
// replay the checkout on the second and get the first answer.
//
// Regression: orders and idempotency records lived in process memory; the
// second instance answered 404 for the order and placed the replayed
// checkout again.
func testOrdersShared(t *testing.T, h *harness) {
	other := newHarness(t, h.shop.st, time.Minute)
	o := h.checkout("ann", "co-1")
	var paid orderRecord
	other.call("POST", "/orders/"+o.ID+"/pay", "ann", "pay-1", nil).must(t, 200, &paid)
	if paid.State != statePaid {
		t.Fatalf("paid on the other instance: %s", paid.State)
	}
	res := other.call("POST", "/checkout", "ann", "co-1", testCart)
	var again orderRecord
	res.must(t, 201, &again)
	if res.header.Get("Idempotent-Replayed") != "true" || again.ID != o.ID {
		t.Fatalf("checkout replayed on the other instance: %s %s", res.header.Get("Idempotent-Replayed"), again.ID)
	}
	// The pay replayed on the first instance is the same payment.
	h.call("POST", "/orders/"+o.ID+"/pay", "ann", "pay-1", nil).must(t, 200, &paid)
	h.call("POST", "/orders/"+o.ID+"/pay", "ann", "pay-2", nil).must(t, 200, &paid)
	if paid.Version != 3 { // created, payment begun, paid
		t.Fatalf("order version %d after one payment paid three times", paid.Version)
	}
}

// testResumerFinishesPayment: a payment interrupted after the stock was
// sold, which the client never retries, is finished by the resumer once
// the failing store is back.
//
// Regression: the order stayed awaiting payment with its stock sold and
// no money booked until its buyer came back.
func testResumerFinishesPayment(t *testing.T, h *harness) {
	o := h.checkout("bo", "co-1")
	working := h.shop.st.merges
	broken := logistics.NewMemoryMerge(logistics.MergeOptions{})
	_ = broken.Close()
	h.shop.st.merges = broken
	if res := h.call("POST", "/orders/"+o.ID+"/pay", "bo", "pay-1", nil); res.status < 500 {
		t.Fatalf("pay with the merge store down: %d %s", res.status, res.body)
	}
	h.shop.st.merges = working
	h.shop.resumeUnfinished(context.Background(), 0)
	var got orderRecord
	h.call("GET", "/orders/"+o.ID, "bo", "", nil).must(t, 200, &got)
	if got.State != statePaid || got.Pending != "" || got.Payment == nil || len(got.Parcels) == 0 {
		t.Fatalf("after the resumer: %+v", got)
	}
	if b := h.balances(); b[accountClearing] != -minorOf(got.Total) {
		t.Fatalf("ledger after the resumed payment: %v", b)
	}
}

// testRefundFinishedWithItsAmounts: a refund decided but not booked (the
// ledger failed) is booked by the resumer with the amounts decided, and a
// second refund waits for it.
func testRefundFinishedWithItsAmounts(t *testing.T, h *harness) {
	o := h.checkout("cy", "co-1")
	id := o.ID
	h.call("POST", "/orders/"+o.ID+"/pay", "cy", "pay-1", nil).must(t, 200, &o)
	working := h.shop.st.ledger
	broken := payout.NewMemoryLedger(payout.LedgerOptions{})
	_ = broken.Close()
	h.shop.st.ledger = broken
	if res := h.call("POST", "/orders/"+o.ID+"/refunds", "cy", "r1", map[string]string{"amount": "100.01"}); res.status < 500 {
		t.Fatalf("refund with the ledger down: %d %s", res.status, res.body)
	}
	h.call("GET", "/orders/"+o.ID, "cy", "", nil).must(t, 200, &o)
	if o.Pending != stepRefund || len(o.Refunds) != 1 || o.Refunds[0].Status != refundPending {
		t.Fatalf("order with its refund under way: %+v", o)
	}
	h.shop.st.ledger = working
	// Another refund finishes the first before deciding on itself.
	var second refund
	h.call("POST", "/orders/"+o.ID+"/refunds", "cy", "r2", map[string]string{"amount": "211.39"}).must(t, 201, &second)
	o = orderRecord{}
	h.call("GET", "/orders/"+id, "cy", "", nil).must(t, 200, &o)
	if o.State != stateRefunded || o.Pending != "" || o.Refunds[0].Status != refundSucceeded || o.Refunds[1].Status != refundSucceeded {
		t.Fatalf("after both refunds: %+v", o)
	}
	for acct, v := range h.balances() {
		if v != 0 {
			t.Errorf("%s = %d after a full refund, want 0", acct, v)
		}
	}
}

// testNoExpiryOncePaymentBegan: an order whose payment began is finished,
// never expired, even past its deadline; one whose hold lapsed before the
// payment took it expires and the payment is refused.
func testNoExpiryOncePaymentBegan(t *testing.T, h *harness) {
	ctx := context.Background()
	o := h.checkout("dee", "co-1")
	if _, err := h.shop.mutate(ctx, o.ID, func(o *orderRecord) (bool, error) {
		o.Pending, o.PaymentStarted = stepPay, time.Now().UTC()
		return true, nil
	}); err != nil {
		t.Fatal(err)
	}
	time.Sleep(800 * time.Millisecond) // the stock hold (500 ms) lapses
	h.shop.resumeUnfinished(ctx, 0)
	var got orderRecord
	h.call("GET", "/orders/"+o.ID, "dee", "", nil).must(t, 200, &got)
	// The stock hold lapsed before the payment took it: nothing was sold,
	// so the order expires and its coupon goes back.
	if got.State != stateExpired || got.Pending != "" {
		t.Fatalf("payment begun after the hold lapsed: %s pending %q", got.State, got.Pending)
	}
	use, err := h.shop.st.coupons.Usage(ctx, pricing.UsageQuery{Coupon: "WELCOME20", Customer: "dee"})
	if err != nil || use.Customer != 0 {
		t.Fatalf("coupon use after the lapsed payment: %+v, %v", use, err)
	}
}

// testFlashCancelReturnsTheUnit: cancelling a flash-sale order gives its
// unit back to the sale at once, so the next buyer gets it.
//
// Regression: the unit came back only when the ticket's payment deadline
// passed and the gate swept it.
func testFlashCancelReturnsTheUnit(t *testing.T, h *harness) {
	ctx := context.Background()
	before, err := h.shop.st.gate.Status(ctx, flashSaleID)
	if err != nil {
		t.Fatal(err)
	}
	var a admissionView
	h.call("POST", "/flash/admit", "fay", "f-1", nil).must(t, 201, &a)
	var o orderRecord
	h.call("POST", "/orders/"+a.Order+"/cancel", "fay", "x-1", nil).must(t, 200, &o)
	if o.State != stateCancelled {
		t.Fatalf("cancelled flash order: %s", o.State)
	}
	after, err := h.shop.st.gate.Status(ctx, flashSaleID)
	if err != nil {
		t.Fatal(err)
	}
	if after.Remaining != before.Remaining || after.Held != before.Held {
		t.Fatalf("sale after the cancel: %+v, before the admission: %+v", after, before)
	}
}
