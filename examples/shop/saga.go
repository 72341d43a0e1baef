package main

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/shopspring/decimal"

	"github.com/shopkit/shopkit/funnel"
	"github.com/shopkit/shopkit/inventory"
	"github.com/shopkit/shopkit/payout"
	"github.com/shopkit/shopkit/pricing"
	"github.com/shopkit/shopkit/seckill"
)

// An order moves through its life as a saga: payment, cancellation,
// expiry and each refund are steps made of several store calls (stock,
// coupon, ledger, merge windows). Each step
//
//  1. is written to the order record (Pending) before its first effect,
//     by compare-and-set, so exactly one step is under way per order
//     across every instance;
//  2. makes its effects under IDs derived from the order ("pay-<order>",
//     the order's reservation and coupon hold, "refund-<order>-<refund>"),
//     so running it again repeats nothing;
//  3. clears Pending with its last write.
//
// A step interrupted anywhere — a store down, the process killed — stays
// pending, and is finished by the client's retry or by the resumer, which
// every instance runs on start and then every second. A step is finished,
// never started anew: an order whose payment began is never expired, and
// a replayed payment books the same transaction.

// Steps an order can have under way.
const (
	stepPay    = "pay"
	stepCancel = "cancel"
	stepExpire = "expire"
	stepRefund = "refund"
)

// resumeGrace is how long the background resumer leaves a pending step to
// the request that began it before finishing it itself. Both may run it
// at once without harm; the grace only saves the work.
const resumeGrace = 5 * time.Second

// errHoldLapsed says a payment came too late: the stock hold (or the
// flash-sale ticket) lapsed before the payment took it.
var errHoldLapsed = errors.New("the order's hold lapsed before payment")

var errBusy = &apiError{status: http.StatusConflict, Code: "order_busy",
	Message: "another change to this order is under way; retry in a moment"}

// mutate reads order id, lets change edit it and stores the result over
// the version read. When another instance wrote in between it reads again
// and asks change again, so change always decides on the latest record.
// change returns false to store nothing; mutate returns the record as
// stored (or as read, if nothing was stored).
func (s *shop) mutate(ctx context.Context, id string, change func(o *orderRecord) (bool, error)) (orderRecord, error) {
	for {
		o, err := s.st.orders.get(ctx, id)
		if err != nil {
			return orderRecord{}, err
		}
		write, err := change(&o)
		if err != nil || !write {
			return o, err
		}
		o.Version++
		o.Updated = s.now().UTC()
		err = s.st.orders.update(ctx, o)
		if errors.Is(err, errStaleOrder) {
			continue
		}
		return o, err
	}
}

// order returns the user's order; another user's order is as good as
// missing.
func (s *shop) order(ctx context.Context, user, id string) (orderRecord, error) {
	if !validName(id) {
		return orderRecord{}, errNotFound
	}
	o, err := s.st.orders.get(ctx, id)
	if errors.Is(err, errNoOrder) || (err == nil && o.User != user) {
		return orderRecord{}, errNotFound
	}
	return o, err
}

// pay takes the payment: the stock hold (or flash ticket) becomes a sale,
// the coupon use is committed, the money is split and booked, and the
// parcels are merged with the recipient's other paid orders and rated.
func (s *shop) pay(ctx context.Context, id string) (orderRecord, error) {
	o, err := s.mutate(ctx, id, func(o *orderRecord) (bool, error) {
		switch {
		case o.State == statePaid || o.State == stateRefunded || o.Pending == stepPay:
			return false, nil // paid, or being paid: finish it
		case o.State != stateAwaitingPayment:
			return false, errNotPayable(o.State)
		case o.Pending != "":
			return false, errNotPayable("being " + o.Pending + "ed") // cancelled or expired
		}
		o.Pending, o.PaymentStarted = stepPay, s.now().UTC()
		return true, nil
	})
	if err != nil || o.Pending != stepPay {
		return o, err
	}
	crashPoint("pay:begun")
	return s.finishPay(ctx, o)
}

// finishPay runs the payment step of o from its start; every call in it
// is idempotent by the order's ID.
func (s *shop) finishPay(ctx context.Context, o orderRecord) (orderRecord, error) {
	if err := s.takeStock(ctx, o); errors.Is(err, errHoldLapsed) {
		// Nothing was sold: the order expires, and the payment is refused.
		o, err = s.mutate(ctx, o.ID, func(o *orderRecord) (bool, error) {
			if o.Pending != stepPay {
				return false, nil
			}
			o.Pending = stepExpire
			return true, nil
		})
		if err == nil && o.Pending == stepExpire {
			o, err = s.finishRelease(ctx, o)
		}
		if err != nil {
			return o, err
		}
		return o, errNotPayable(o.State)
	} else if err != nil {
		return o, err
	}
	crashPoint("pay:stock-taken")
	if o.Coupon != "" {
		_, err := s.st.coupons.Commit(ctx, pricing.RedemptionRef{Coupon: o.Coupon, OrderID: o.ID})
		if errors.Is(err, pricing.ErrNotHeld) || errors.Is(err, pricing.ErrNotFound) {
			// A payment finished after the coupon's hold lapsed: the price
			// it was quoted stands; the use is no longer counted.
			s.logf("pay %s: coupon %s hold lapsed before the payment finished", o.ID, o.Coupon)
		} else if err != nil {
			return o, err
		}
	}
	crashPoint("pay:coupon-committed")
	p, err := s.book(ctx, "pay-"+o.ID, o.Total.Decimal, o.PaymentStarted)
	if err != nil {
		return o, err
	}
	crashPoint("pay:booked")
	var parcels []parcel
	if o.FlashTicket == "" { // a flash order ships once the buyer gives an address
		if parcels, err = s.ship(ctx, o); err != nil {
			return o, err
		}
	}
	crashPoint("pay:shipped")
	o, err = s.mutate(ctx, o.ID, func(o *orderRecord) (bool, error) {
		if o.Pending != stepPay {
			return false, nil // another instance finished it
		}
		o.Payment, o.Parcels, o.State, o.Pending = p, parcels, statePaid, ""
		return true, nil
	})
	if err != nil {
		return o, err
	}
	crashPoint("pay:recorded")
	s.track(ctx, "pay-"+o.ID, o.User, o.Variant, funnel.DefaultPayEvent, o.Total.Decimal, o.ID)
	return o, nil
}

// takeStock turns the order's hold into a sale: its reservation is
// committed, or its flash-sale ticket paid.
func (s *shop) takeStock(ctx context.Context, o orderRecord) error {
	if o.FlashTicket != "" {
		_, err := s.st.gate.Pay(ctx, seckill.TicketRef{SaleID: flashSaleID, TicketID: o.FlashTicket})
		if errors.Is(err, seckill.ErrTicketExpired) || errors.Is(err, seckill.ErrNotFound) {
			return errHoldLapsed
		}
		return err
	}
	_, err := s.st.stock.Commit(ctx, o.ID)
	if errors.Is(err, inventory.ErrNotHeld) || errors.Is(err, inventory.ErrNotFound) {
		return errHoldLapsed // lapsed, or lost with a Redis that restarted empty
	}
	return err
}

// cancel abandons an unpaid order: its stock and coupon are released.
func (s *shop) cancel(ctx context.Context, id string) (orderRecord, error) {
	o, err := s.mutate(ctx, id, func(o *orderRecord) (bool, error) {
		switch {
		case o.State == stateCancelled || o.State == stateExpired || o.Pending == stepCancel || o.Pending == stepExpire:
			return false, nil
		case o.State != stateAwaitingPayment:
			return false, errNotCancellable(o.State)
		case o.Pending != "":
			return false, errNotCancellable("being paid")
		}
		o.Pending = stepCancel
		return true, nil
	})
	if err != nil || o.Pending == "" {
		return o, err
	}
	crashPoint("cancel:begun")
	return s.finishRelease(ctx, o)
}

// expire ends an unpaid order past its deadline, as cancel does.
func (s *shop) expire(ctx context.Context, id string) (orderRecord, error) {
	o, err := s.mutate(ctx, id, func(o *orderRecord) (bool, error) {
		if o.State != stateAwaitingPayment || o.Pending != "" || !s.now().After(o.ExpiresAt) {
			return false, nil
		}
		o.Pending = stepExpire
		return true, nil
	})
	if err != nil || (o.Pending != stepExpire && o.Pending != stepCancel) {
		return o, err
	}
	crashPoint("expire:begun")
	return s.finishRelease(ctx, o)
}

// finishRelease runs a cancel or expire step of o: the stock (or the
// flash-sale ticket's unit) and the coupon go back, and the order ends
// cancelled or expired.
func (s *shop) finishRelease(ctx context.Context, o orderRecord) (orderRecord, error) {
	end := stateCancelled
	if o.Pending == stepExpire {
		end = stateExpired
	}
	if o.FlashTicket != "" {
		_, err := s.st.gate.Cancel(ctx, seckill.TicketRef{SaleID: flashSaleID, TicketID: o.FlashTicket})
		switch {
		case err == nil, errors.Is(err, seckill.ErrNotFound):
			// returned now (or by an expiry before), or lost with its store
		case errors.Is(err, seckill.ErrTicketPaid):
			return o, fmt.Errorf("order %s: its ticket was paid, yet it is being %s", o.ID, end)
		default:
			return o, err
		}
	} else {
		_, err := s.st.stock.Release(ctx, o.ID)
		switch {
		case err == nil, errors.Is(err, inventory.ErrNotHeld), errors.Is(err, inventory.ErrNotFound):
			// released now, lapsed before, or lost with a Redis that restarted empty
		case errors.Is(err, inventory.ErrCommitted):
			// Payment and release exclude each other through Pending, so
			// this is a bug or a hand-edited store: leave it for a person.
			return o, fmt.Errorf("order %s: its stock was sold, yet it is being %s", o.ID, end)
		default:
			return o, err
		}
	}
	crashPoint(o.Pending + ":stock-released")
	if err := s.releaseCoupon(ctx, o); err != nil {
		return o, err
	}
	o, err := s.mutate(ctx, o.ID, func(o *orderRecord) (bool, error) {
		if o.Pending != stepCancel && o.Pending != stepExpire {
			return false, nil
		}
		o.State, o.Pending = end, ""
		return true, nil
	})
	if err == nil {
		crashPoint(map[string]string{stateCancelled: "cancel:recorded", stateExpired: "expire:recorded"}[o.State])
	}
	return o, err
}

func (s *shop) releaseCoupon(ctx context.Context, o orderRecord) error {
	if o.Coupon == "" {
		return nil
	}
	_, err := s.st.coupons.Release(ctx, pricing.RedemptionRef{Coupon: o.Coupon, OrderID: o.ID})
	if errors.Is(err, pricing.ErrNotFound) || errors.Is(err, pricing.ErrNotHeld) {
		return nil // nothing held to return
	}
	return err
}

// refund gives back part of a paid order's money. Every share is reversed
// in proportion, cumulatively, so once the whole order is refunded every
// share is back to the fen, whatever the number and size of the refunds.
// The refund is decided and written to the order (pending) before the
// ledger sees it, so a refund interrupted halfway is finished, with the
// same amounts, by a retry or the resumer.
func (s *shop) refund(ctx context.Context, id, refundID string, amount decimal.Decimal) (refund, error) {
	minor, err := payout.ToMinor(amount, scale)
	if err != nil || minor <= 0 || !amount.Equal(payout.FromMinor(minor, scale)) {
		return refund{}, fieldError("amount", "must be a positive amount in yuan with at most 2 decimals")
	}
	for attempt := 0; attempt < 3; attempt++ {
		busy := false
		o, err := s.mutate(ctx, id, func(o *orderRecord) (bool, error) {
			busy = false
			if findRefund(o, refundID) != nil {
				return false, nil
			}
			if o.Pending != "" {
				busy = true
				return false, nil
			}
			if o.State != statePaid {
				return false, errNotRefundable(o.State)
			}
			r, err := decideRefund(o, refundID, minor)
			if err != nil {
				return false, err
			}
			o.Refunds = append(o.Refunds, r)
			o.Pending = stepRefund
			return true, nil
		})
		if err != nil {
			return refund{}, err
		}
		if busy { // another step first: finish it, then decide on the result
			if _, err := s.resume(ctx, o); err != nil {
				return refund{}, err
			}
			continue
		}
		if o.Pending == stepRefund {
			crashPoint("refund:decided")
			if o, err = s.finishRefund(ctx, o); err != nil {
				return refund{}, err
			}
		}
		return *findRefund(&o, refundID), nil
	}
	return refund{}, errBusy
}

// decideRefund splits minor fen of refund over the payment's shares, after
// the refunds o has.
func decideRefund(o *orderRecord, refundID string, minor int64) (refund, error) {
	total := minorOf(o.Total)
	shares, err := o.Payment.shares()
	if err != nil {
		return refund{}, err
	}
	rev, err := payout.NewReversal(total, shares)
	if err != nil {
		return refund{}, err
	}
	for _, r := range o.Refunds {
		if _, err := rev.Refund(minorOf(r.Amount)); err != nil {
			return refund{}, err
		}
	}
	back, err := rev.Refund(minor)
	if err != nil {
		return refund{}, errRefundTooLarge(yuan(payout.FromMinor(total-rev.Refunded(), scale)))
	}
	return refund{ID: refundID, Amount: yuan(payout.FromMinor(minor, scale)), Commission: yuan(payout.FromMinor(back[0], scale)),
		Fee: yuan(payout.FromMinor(back[1], scale)), Merchant: yuan(payout.FromMinor(back[2], scale)), Status: refundPending}, nil
}

func findRefund(o *orderRecord, id string) *refund {
	for i := range o.Refunds {
		if o.Refunds[i].ID == id {
			return &o.Refunds[i]
		}
	}
	return nil
}

// finishRefund posts o's pending refund to the ledger and marks it done.
// The reversal keeps the payment's availability date: money still
// pending is cancelled before the merchant ever sees it.
func (s *shop) finishRefund(ctx context.Context, o orderRecord) (orderRecord, error) {
	var r *refund
	for i := range o.Refunds {
		if o.Refunds[i].Status == refundPending {
			r = &o.Refunds[i]
		}
	}
	if r != nil {
		amount := minorOf(r.Amount)
		postings := []payout.Posting{{Account: accountClearing, Amount: amount}}
		for i, m := range []money{r.Commission, r.Fee, r.Merchant} {
			if v := minorOf(m); v != 0 { // a small refund may take nothing from a small share
				postings = append(postings, payout.Posting{Account: []string{accountPlatform, accountProcessor, accountMerchant}[i], Amount: -v})
			}
		}
		txID := "refund-" + o.ID + "-" + r.ID
		if _, err := s.st.ledger.Post(ctx, payout.Transaction{ID: txID, AvailableAt: o.Payment.AvailableAt, Postings: postings}); err != nil {
			return o, err
		}
		s.track(ctx, txID, o.User, o.Variant, funnel.DefaultRefundEvent, r.Amount.Decimal, o.ID)
		crashPoint("refund:booked")
	}
	defer crashPoint("refund:recorded")
	return s.mutate(ctx, o.ID, func(o *orderRecord) (bool, error) {
		if o.Pending != stepRefund {
			return false, nil
		}
		var refunded int64
		for i := range o.Refunds {
			o.Refunds[i].Status = refundSucceeded
			refunded += minorOf(o.Refunds[i].Amount)
		}
		o.Pending = ""
		if refunded == minorOf(o.Total) {
			o.State = stateRefunded
		}
		return true, nil
	})
}

// resume finishes o's pending step, or expires o if it is due.
func (s *shop) resume(ctx context.Context, o orderRecord) (orderRecord, error) {
	switch o.Pending {
	case stepPay:
		return s.finishPay(ctx, o)
	case stepCancel, stepExpire:
		return s.finishRelease(ctx, o)
	case stepRefund:
		return s.finishRefund(ctx, o)
	}
	if o.State == stateAwaitingPayment && s.now().After(o.ExpiresAt) {
		return s.expire(ctx, o.ID)
	}
	return o, nil
}

// resumeUnfinished drives every unfinished order to a consistent end: a
// step left pending by a failure or a crash (of this instance or another)
// is finished, an unpaid order past its deadline expires. Steps younger
// than grace are left to the request running them.
func (s *shop) resumeUnfinished(ctx context.Context, grace time.Duration) {
	ids, err := s.st.orders.unfinished(ctx)
	if err != nil {
		s.warn("resume", "listing unfinished orders: %v", err)
		return
	}
	for _, id := range ids {
		o, err := s.st.orders.get(ctx, id)
		if errors.Is(err, errNoOrder) {
			continue
		}
		if err == nil && (o.Pending == "" || s.now().Sub(o.Updated) >= grace) {
			_, err = s.resume(ctx, o)
		}
		var ae *apiError
		if err != nil && !errors.As(err, &ae) && ctx.Err() == nil {
			s.warn("resume", "order %s: %v", id, err)
		}
	}
}
