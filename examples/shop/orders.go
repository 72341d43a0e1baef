package main

import (
	"time"

	"github.com/shopkit/shopkit/payout"
)

// Order states.
const (
	stateAwaitingPayment = "awaiting_payment"
	statePaid            = "paid"
	stateRefunded        = "refunded" // refunded in full
	stateCancelled       = "cancelled"
	stateExpired         = "expired"
)

// orderRecord is the shop's own record of an order, as the API shows it
// and as the order store keeps it. The packages keep the state that must
// be exact under concurrency (stock, coupon uses, money); this record ties
// their IDs together, and its step log (Pending, PaymentStarted, the
// refunds' status) is what lets any instance finish what another began.
type orderRecord struct {
	ID          string            `json:"id"`
	User        string            `json:"user"`
	Variant     string            `json:"variant"`
	State       string            `json:"state"`
	Lines       []orderLine       `json:"lines"`
	Subtotal    money             `json:"subtotal"`
	Discount    money             `json:"discount"`
	Shipping    money             `json:"shipping"`
	Total       money             `json:"total"`
	Coupon      string            `json:"coupon,omitempty"`
	Zone        string            `json:"zone"`
	Recipient   recipient         `json:"recipient"`
	Fulfilment  []fulfilment      `json:"fulfilment"`
	Decisions   []string          `json:"fulfilment_decisions"`
	ExpiresAt   time.Time         `json:"expires_at"`
	Payment     *payment          `json:"payment,omitempty"`
	Parcels     []parcel          `json:"parcels,omitempty"`
	Refunds     []refund          `json:"refunds,omitempty"`
	FlashTicket string            `json:"flash_ticket,omitempty"`
	Promotions  []appliedDiscount `json:"promotions,omitempty"`
	// Version counts the record's writes; the store writes a record only
	// over the version it was read at.
	Version int64     `json:"version"`
	Created time.Time `json:"created_at"`
	Updated time.Time `json:"updated_at"`
	// Pending is the step under way, written before the step's first
	// effect and cleared with its last: pay, cancel, expire or refund. An
	// order with a step pending is finished by whichever instance gets to
	// it first (the resumer, or the client's retry), never started anew.
	Pending string `json:"pending_step,omitempty"`
	// PaymentStarted is when the payment step began: from then on the
	// order is never expired, and every retry books the same transaction,
	// its availability counted from this moment.
	PaymentStarted time.Time `json:"payment_started_at,omitzero"`
}

type orderLine struct {
	SKU       string `json:"sku"`
	Quantity  int64  `json:"quantity"`
	UnitPrice money  `json:"unit_price"`
	Discount  money  `json:"discount"`
	Total     money  `json:"total"`
}

type recipient struct {
	Name    string `json:"name"`
	Phone   string `json:"phone"`
	Address string `json:"address"`
}

// fulfilment is what one warehouse ships, as routing planned it.
type fulfilment struct {
	Warehouse string    `json:"warehouse"`
	Lines     []lineQty `json:"lines"`
}

type lineQty struct {
	SKU      string `json:"sku"`
	Quantity int64  `json:"quantity"`
}

// payment is how a paid order's money was split and booked.
type payment struct {
	Transaction string    `json:"transaction"`
	Amount      money     `json:"amount"`
	Commission  money     `json:"commission"`
	Fee         money     `json:"processor_fee"`
	Merchant    money     `json:"merchant"`
	AvailableAt time.Time `json:"available_at"`
}

// shares returns the commission, fee and merchant shares in fen.
func (p *payment) shares() ([]int64, error) {
	out := make([]int64, 3)
	for i, m := range []money{p.Commission, p.Fee, p.Merchant} {
		v, err := payout.ToMinor(m.Decimal, scale)
		if err != nil {
			return nil, err
		}
		out[i] = v
	}
	return out, nil
}

// parcel is one warehouse's shipment after merging and rating.
type parcel struct {
	Warehouse    string   `json:"warehouse"`
	MergeGroup   string   `json:"merge_group"`
	MergedOrders []string `json:"merged_orders"`
	Grams        int64    `json:"grams"`
	Carrier      string   `json:"carrier"`
	Service      string   `json:"service"`
	Freight      money    `json:"freight"`
}

type refund struct {
	ID         string `json:"id"`
	Amount     money  `json:"amount"`
	Commission money  `json:"commission_reversed"`
	Fee        money  `json:"processor_fee_reversed"`
	Merchant   money  `json:"merchant_reversed"`
	// Status is "pending" from when the refund is decided until the ledger
	// has its transaction, then "succeeded".
	Status string `json:"status"`
}

const (
	refundPending   = "pending"
	refundSucceeded = "succeeded"
)

// minor returns amount in fen.
func minorOf(m money) int64 {
	v, _ := payout.ToMinor(m.Decimal, scale) // every stored amount has scale's decimals
	return v
}

type appliedDiscount struct {
	Promotion string `json:"promotion"`
	Amount    money  `json:"amount"`
}
