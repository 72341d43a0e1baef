package main

import (
	"sort"
	"sync"
	"time"
)

// Order states.
const (
	stateAwaitingPayment = "awaiting_payment"
	statePaid            = "paid"
	stateRefunded        = "refunded" // refunded in full
	stateCancelled       = "cancelled"
	stateExpired         = "expired"
)

// order is the shop's own record of an order. The packages keep the state
// that must be exact under concurrency (stock, coupon uses, money); this
// record ties their IDs together for the API. It lives in process memory:
// a real shop keeps it in its own database.
type order struct {
	mu sync.Mutex // held while the order changes state
	orderRecord
	// paymentTaken is when the first attempt to pay took the stock (or the
	// ticket): from then on the order is being paid, never expired, and
	// every retry books the same transaction, its availability counted
	// from this moment.
	paymentTaken time.Time
}

// orderRecord is an order's data, as the API shows it.
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
	shares      []int64   // commission, fee, merchant in fen
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
	minor      int64
}

type appliedDiscount struct {
	Promotion string `json:"promotion"`
	Amount    money  `json:"amount"`
}

// orderBook holds the orders.
type orderBook struct {
	mu     sync.RWMutex
	orders map[string]*order
	flash  map[string]*order // user → their flash-sale order
}

func newOrderBook() *orderBook {
	return &orderBook{orders: make(map[string]*order), flash: make(map[string]*order)}
}

// add stores o unless an order with its ID exists, and returns the stored one.
func (b *orderBook) add(o *order) (*order, bool) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if old, ok := b.orders[o.ID]; ok {
		return old, false
	}
	b.orders[o.ID] = o
	if o.FlashTicket != "" {
		b.flash[o.User] = o
	}
	return o, true
}

// flashOf returns user's flash-sale order, or nil.
func (b *orderBook) flashOf(user string) *order {
	b.mu.RLock()
	defer b.mu.RUnlock()
	return b.flash[user]
}

func (b *orderBook) get(id string) *order {
	b.mu.RLock()
	defer b.mu.RUnlock()
	return b.orders[id]
}

// due returns the orders awaiting payment past their deadline.
func (b *orderBook) due(now time.Time) []*order {
	b.mu.RLock()
	defer b.mu.RUnlock()
	var out []*order
	for _, o := range b.orders {
		o.mu.Lock()
		if o.State == stateAwaitingPayment && now.After(o.ExpiresAt) {
			out = append(out, o)
		}
		o.mu.Unlock()
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	return out
}

// snapshot returns a copy of o that is safe to encode while o changes.
// The caller holds o.mu.
func (o *order) snapshot() orderRecord {
	c := orderRecord{ID: o.ID, User: o.User, Variant: o.Variant, State: o.State, Subtotal: o.Subtotal,
		Discount: o.Discount, Shipping: o.Shipping, Total: o.Total, Coupon: o.Coupon, Zone: o.Zone,
		Recipient: o.Recipient, ExpiresAt: o.ExpiresAt, FlashTicket: o.FlashTicket}
	c.Lines = append([]orderLine(nil), o.Lines...)
	c.Fulfilment = append([]fulfilment(nil), o.Fulfilment...)
	c.Decisions = append([]string(nil), o.Decisions...)
	c.Parcels = append([]parcel(nil), o.Parcels...)
	c.Refunds = append([]refund(nil), o.Refunds...)
	c.Promotions = append([]appliedDiscount(nil), o.Promotions...)
	if o.Payment != nil {
		p := *o.Payment
		c.Payment = &p
	}
	return c
}
