package main

import (
	"context"
	"errors"
	"fmt"
	"log"
	"net/netip"
	"strconv"
	"sync"
	"sync/atomic"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/shopspring/decimal"

	"github.com/shopkit/shopkit/abtest"
	"github.com/shopkit/shopkit/funnel"
	"github.com/shopkit/shopkit/inventory"
	"github.com/shopkit/shopkit/logistics"
	"github.com/shopkit/shopkit/payout"
	"github.com/shopkit/shopkit/pricing"
	"github.com/shopkit/shopkit/routing"
	"github.com/shopkit/shopkit/seckill"
)

// shop is the application: it composes the packages into the steps of a
// checkout. Each method is one use case; the HTTP layer only decodes,
// calls one of them and encodes.
type shop struct {
	st       *stores
	graph    *routing.Graph
	rules    *pricing.RuleSet
	rater    *logistics.Rater
	exp      *abtest.Compiled
	assigner abtest.Assigner
	holdFor  time.Duration // how long checkout holds stock and coupons
	perIP    seckill.Limit // requests per client address
	auth     auth
	// trustedProxies may say who the client is in X-Forwarded-For.
	trustedProxies []netip.Prefix
	now            func() time.Time
	edited         atomic.Pointer[[]product] // the catalogue with the admin's edits
	telemetry      *telemetry
	eventSeq       atomic.Int64
	logf           func(format string, args ...any)

	warnMu sync.Mutex
	warned map[string]time.Time // kind → when warn last logged it
}

func newShop(st *stores, holdFor time.Duration) (*shop, error) {
	g, err := network()
	if err != nil {
		return nil, err
	}
	rules, err := pricing.NewRuleSet(promotions())
	if err != nil {
		return nil, err
	}
	rater, err := logistics.NewRater(carriers())
	if err != nil {
		return nil, err
	}
	exp, err := abtest.Compile(experiment)
	if err != nil {
		return nil, err
	}
	return &shop{st: st, telemetry: st.telemetry, graph: g, rules: rules, rater: rater, exp: exp, holdFor: holdFor, perIP: perIP, now: time.Now, logf: log.Printf,
		auth: auth{key: devKey, now: time.Now}}, nil
}

// receiveOpeningStock puts the opening stock into the warehouses, once:
// the stores remember that it was received, since the receipts' own
// idempotency records are forgotten after a day. Instances starting
// together may both receive it; the receipts' IDs make the second a replay.
func (s *shop) receiveOpeningStock(ctx context.Context) error {
	if done, err := s.st.flag(ctx, flagOpeningStock); err != nil {
		return fmt.Errorf("receive opening stock: %w", err)
	} else if done {
		return nil
	}
	for _, wh := range warehouses {
		for sku, units := range openingStock[wh] {
			_, err := s.st.stock.Adjust(ctx, inventory.Adjustment{ID: "opening-" + wh + "-" + sku,
				SKU: sku, Location: wh, Delta: units, Reason: inventory.ReasonReceipt})
			if err != nil {
				return fmt.Errorf("receive opening stock: %w", err)
			}
		}
	}
	return s.st.setFlag(ctx, flagOpeningStock)
}

// variant assigns the user to the experiment (sticky, so a user keeps
// their variant when the weights change).
func (s *shop) variant(ctx context.Context, user string) (string, error) {
	attrs := abtest.Attributes{"id": user}
	r, err := s.assigner.AssignSticky(ctx, s.exp, attrs, s.st.sticky)
	if err != nil {
		// Without the sticky store the user still gets the variant the
		// hash gives, which is theirs unless the weights changed.
		s.warn("sticky", "sticky assignments unavailable, assigning by hash: %v", err)
		r = s.assigner.Assign(s.exp, attrs)
	}
	return variantNames[r.Variation], nil
}

// warn logs a degraded mode at most once every 10 seconds per kind, so an
// outage is seen without flooding the log.
func (s *shop) warn(kind, format string, args ...any) {
	now := time.Now()
	s.warnMu.Lock()
	last := s.warned[kind]
	if now.Sub(last) < 10*time.Second {
		s.warnMu.Unlock()
		return
	}
	if s.warned == nil {
		s.warned = map[string]time.Time{}
	}
	s.warned[kind] = now
	s.warnMu.Unlock()
	s.logf(format, args...)
}

// track records a funnel event. Losing one is not worth failing a
// checkout for, so errors are logged.
func (s *shop) track(ctx context.Context, id, user, variant, name string, amount decimal.Decimal, orderID string) {
	if id == "" {
		id = name + "-" + strconv.FormatInt(s.now().UnixNano(), 36) + "-" + strconv.FormatInt(s.eventSeq.Add(1), 36)
	}
	_, err := s.st.events.Ingest(ctx, []funnel.Event{{ID: id, UserID: user, Name: name, Time: s.now(),
		Amount: amount, OrderID: orderID, Variant: variant}})
	if err != nil {
		s.logf("funnel event %s: %v", name, err)
	}
}

// catalogueItem is a product with its stock per warehouse.
type catalogueItem struct {
	product
	Available map[string]int64 `json:"available"`
}

// levels returns the stock of every product in every warehouse, product
// by product.
func (s *shop) levels(ctx context.Context) ([]inventory.Level, error) {
	var items []inventory.Item
	for _, p := range s.products() {
		for _, wh := range warehouses {
			items = append(items, inventory.Item{SKU: p.SKU, Location: wh})
		}
	}
	return s.st.stock.Levels(ctx, items...)
}

func (s *shop) catalogue(ctx context.Context) ([]catalogueItem, error) {
	levels, err := s.levels(ctx)
	if err != nil {
		return nil, err
	}
	out := make([]catalogueItem, len(s.products()))
	for i, p := range s.products() {
		out[i] = catalogueItem{product: p, Available: map[string]int64{}}
	}
	for i, l := range levels {
		out[i/len(warehouses)].Available[l.Location] = l.Available()
	}
	return out, nil
}

// cartRequest is a cart to price or check out.
type cartRequest struct {
	Lines  []lineQty `json:"lines"`
	Coupon string    `json:"coupon"`
}

func (c *cartRequest) validate() error {
	if len(c.Lines) == 0 || len(c.Lines) > 20 {
		return fieldError("lines", "must have 1 to 20 lines")
	}
	for i, l := range c.Lines {
		if _, ok := productBySKU(l.SKU); !ok {
			return fieldError(fmt.Sprintf("lines[%d].sku", i), "is not a product of this shop")
		}
		if l.Quantity < 1 || l.Quantity > 99 {
			return fieldError(fmt.Sprintf("lines[%d].quantity", i), "must be between 1 and 99")
		}
	}
	if _, ok := coupons[c.Coupon]; c.Coupon != "" && !ok {
		return fieldError("coupon", "is not a valid coupon code")
	}
	return nil
}

func (s *shop) quote(c cartRequest) (pricing.Quote, error) {
	cart := pricing.Cart{Scale: scale, Shipping: shippingCharge}
	for _, l := range c.Lines {
		p, _ := s.product(l.SKU)
		cart.Lines = append(cart.Lines, pricing.Line{SKU: p.SKU, UnitPrice: p.Price.Decimal, Quantity: l.Quantity, Tags: p.Tags})
	}
	if c.Coupon != "" {
		cart.Coupons = []string{c.Coupon}
	}
	return s.rules.Quote(cart)
}

// checkoutRequest is a cart, where it goes and to whom.
type checkoutRequest struct {
	cartRequest
	Zone      string    `json:"zone"`
	Recipient recipient `json:"recipient"`
}

func (c *checkoutRequest) validate() error {
	if err := c.cartRequest.validate(); err != nil {
		return err
	}
	known := false
	for _, z := range zones {
		known = known || z == c.Zone
	}
	if !known {
		return fieldError("zone", "must be one of east, south, north")
	}
	for _, f := range []struct{ name, v string }{
		{"recipient.name", c.Recipient.Name}, {"recipient.phone", c.Recipient.Phone}, {"recipient.address", c.Recipient.Address}} {
		if n := utf8.RuneCountInString(f.v); n == 0 || n > 200 {
			return fieldError(f.name, "must have 1 to 200 characters")
		}
		if rule := printableText(f.v); rule != "" {
			return fieldError(f.name, rule)
		}
	}
	return nil
}

// printableText says what makes s unfit to print on a parcel label, or ""
// if nothing does: invalid UTF-8, control characters (NUL, ESC, CR, LF
// and the rest) and the bidirectional overrides that make a label read
// other than it is stored.
func printableText(s string) string {
	if !utf8.ValidString(s) {
		return "must be UTF-8"
	}
	for _, r := range s {
		switch {
		case unicode.IsControl(r):
			return "must not contain control characters"
		case r >= 0x202A && r <= 0x202E, r >= 0x2066 && r <= 0x2069:
			return "must not contain bidirectional overrides"
		}
	}
	return ""
}

// checkout prices the cart, chooses warehouses, holds the stock and the
// coupon, and records the order awaiting payment.
//
// The order record is written last: it is the checkout's commit point. A
// checkout interrupted before it holds stock and a coupon that lapse by
// themselves (they are leases), and its replay under the same key finds
// them and writes the record.
func (s *shop) checkout(ctx context.Context, user, variant, orderID string, req checkoutRequest) (orderRecord, error) {
	if o, err := s.st.orders.get(ctx, orderID); err == nil { // a replay after the response was lost
		return o, nil
	} else if !errors.Is(err, errNoOrder) {
		return orderRecord{}, err
	}
	q, err := s.quote(req.cartRequest)
	if err != nil {
		return orderRecord{}, err
	}
	plan, err := s.reserve(ctx, orderID, req)
	if err != nil {
		return orderRecord{}, err
	}
	crashPoint("checkout:reserved")
	// Hold the coupon only when the quote applies it: a cart below the
	// coupon's minimum spend (or outside its window) pays full price and
	// spends no use.
	if !couponApplied(q, req.Coupon) {
		req.Coupon = ""
	}
	if req.Coupon != "" {
		// The coupon hold outlives the stock hold, so an order paid just
		// before its stock deadline still finds its coupon held.
		_, err := s.st.coupons.Reserve(ctx, pricing.HoldRequest{Coupon: req.Coupon, Limits: coupons[req.Coupon], Customer: user, OrderID: orderID, TTL: s.holdFor + 5*time.Minute})
		if err != nil {
			if _, rerr := s.st.stock.Release(ctx, orderID); rerr != nil {
				s.logf("release %s after coupon failure: %v", orderID, rerr)
			}
			return orderRecord{}, err
		}
	}
	crashPoint("checkout:coupon-held")
	now := s.now().UTC()
	o := orderRecord{ID: orderID, User: user, Variant: variant, State: stateAwaitingPayment,
		Subtotal: yuan(q.Subtotal), Discount: yuan(q.Discount), Shipping: yuan(q.Shipping), Total: yuan(q.Total),
		Coupon: req.Coupon, Zone: req.Zone, Recipient: req.Recipient, ExpiresAt: plan.deadline, Created: now, Updated: now}
	for _, l := range q.Lines {
		p, _ := s.product(l.SKU)
		o.Lines = append(o.Lines, orderLine{SKU: l.SKU, Quantity: l.Quantity, UnitPrice: p.Price,
			Discount: yuan(l.Discount), Total: yuan(l.Total)})
	}
	for _, e := range q.Promotions {
		if e.Applied {
			o.Promotions = append(o.Promotions, appliedDiscount{Promotion: e.Promotion, Amount: yuan(e.Amount)})
		}
	}
	o.Fulfilment, o.Decisions = plan.fulfilment, plan.decisions
	if o, err = s.st.orders.create(ctx, o); err != nil {
		return orderRecord{}, err
	}
	crashPoint("checkout:recorded")
	s.track(ctx, "order-"+orderID, user, variant, funnel.DefaultOrderEvent, o.Total.Decimal, orderID)
	return o, nil
}

// couponApplied reports whether q applied a promotion of coupon code.
func couponApplied(q pricing.Quote, code string) bool {
	if code == "" {
		return false
	}
	byID := map[string]bool{}
	for _, p := range promotions() {
		if p.Coupon == code {
			byID[p.ID] = true
		}
	}
	for _, e := range q.Promotions {
		if e.Applied && byID[e.Promotion] {
			return true
		}
	}
	return false
}

type reservedPlan struct {
	fulfilment []fulfilment
	decisions  []string
	deadline   time.Time
}

// reserve plans the fulfilment on current stock and holds it. Stock can
// move between reading the levels and reserving; the reservation is
// all-or-nothing, so on a shortage it plans again on fresh levels.
func (s *shop) reserve(ctx context.Context, orderID string, req checkoutRequest) (reservedPlan, error) {
	order := routing.Order{Destination: req.Zone}
	for _, l := range req.Lines {
		order.Lines = append(order.Lines, routing.OrderLine{SKU: l.SKU, Quantity: l.Quantity})
	}
	for attempt := 0; ; attempt++ {
		stock, err := s.availableStock(ctx)
		if err != nil {
			return reservedPlan{}, err
		}
		plan, err := routing.Allocate(s.graph, order, stock, routing.AllocateOptions{})
		if err != nil {
			return reservedPlan{}, err
		}
		var out reservedPlan
		var lines []inventory.Line
		for _, sh := range plan.Shipments {
			f := fulfilment{Warehouse: sh.From}
			for _, l := range sh.Lines {
				f.Lines = append(f.Lines, lineQty{SKU: l.SKU, Quantity: l.Quantity})
				lines = append(lines, inventory.Line{SKU: l.SKU, Location: sh.From, Quantity: l.Quantity})
			}
			out.fulfilment = append(out.fulfilment, f)
		}
		for _, d := range plan.Decisions {
			out.decisions = append(out.decisions, d.Rule+": "+d.Detail)
		}
		r, err := s.st.stock.Reserve(ctx, inventory.Request{ID: orderID, Lines: lines, TTL: s.holdFor})
		if errors.Is(err, inventory.ErrInsufficientStock) && attempt < 3 {
			continue
		}
		if errors.Is(err, inventory.ErrIDConflict) {
			// A replay of a checkout whose order this process does not
			// know (it restarted, or another instance took it): the stock
			// moved since, so the plan came out different. The order's
			// reservation holds the plan it was checked out with.
			return s.planOf(ctx, orderID)
		}
		if err != nil {
			return reservedPlan{}, err
		}
		out.deadline = r.Deadline
		return out, nil
	}
}

// planOf rebuilds the plan an order was checked out with from its
// reservation: its lines per warehouse.
func (s *shop) planOf(ctx context.Context, orderID string) (reservedPlan, error) {
	r, err := s.st.stock.Reservation(ctx, orderID)
	if err != nil {
		return reservedPlan{}, err
	}
	out := reservedPlan{deadline: r.Deadline, decisions: []string{"replayed: the plan this order was checked out with"}}
	at := map[string]int{} // warehouse → index in out.fulfilment
	for _, l := range r.Lines {
		i, ok := at[l.Location]
		if !ok {
			i = len(out.fulfilment)
			at[l.Location] = i
			out.fulfilment = append(out.fulfilment, fulfilment{Warehouse: l.Location})
		}
		out.fulfilment[i].Lines = append(out.fulfilment[i].Lines, lineQty{SKU: l.SKU, Quantity: l.Quantity})
	}
	return out, nil
}

func (s *shop) availableStock(ctx context.Context) (routing.Stock, error) {
	levels, err := s.levels(ctx)
	if err != nil {
		return nil, err
	}
	stock := routing.Stock{}
	for _, l := range levels {
		if stock[l.Location] == nil {
			stock[l.Location] = map[string]int64{}
		}
		stock[l.Location][l.SKU] = l.Available()
	}
	return stock, nil
}

// book splits amount into commission, processor fee and the merchant's
// remainder, and posts it to the ledger as one transaction, available
// settleAfter from paidAt. Everything in it derives from its arguments, so
// booking again after a failure is a replay of the same transaction.
func (s *shop) book(ctx context.Context, txID string, amount decimal.Decimal, paidAt time.Time) (*payment, error) {
	total, err := payout.ToMinor(amount, scale)
	if err != nil {
		return nil, err
	}
	c, err := commission.Of(total)
	if err != nil {
		return nil, err
	}
	f, err := processorFee.Of(total)
	if err != nil {
		return nil, err
	}
	m := total - c - f
	posted, err := s.st.ledger.Post(ctx, payout.Transaction{ID: txID, AvailableAt: paidAt.Add(settleAfter),
		Postings: []payout.Posting{{Account: accountClearing, Amount: -total}, {Account: accountPlatform, Amount: c},
			{Account: accountProcessor, Amount: f}, {Account: accountMerchant, Amount: m}}})
	if err != nil {
		return nil, err
	}
	return &payment{Transaction: txID, Amount: yuan(amount), Commission: yuan(payout.FromMinor(c, scale)),
		Fee: yuan(payout.FromMinor(f, scale)), Merchant: yuan(payout.FromMinor(m, scale)), AvailableAt: posted.AvailableAt}, nil
}

// ship joins each warehouse's parcel to the recipient's open merge group
// and rates the merged parcel on every carrier, cheapest first.
func (s *shop) ship(ctx context.Context, o orderRecord) ([]parcel, error) {
	r := logistics.Recipient{Name: o.Recipient.Name, Phone: o.Recipient.Phone, Address: o.Recipient.Address}
	var parcels []parcel
	for _, f := range o.Fulfilment {
		var grams int64
		for _, l := range f.Lines {
			p, _ := productBySKU(l.SKU)
			grams += p.Grams * l.Quantity
		}
		g, err := s.st.merges.Add(ctx, logistics.MergeOrder{Key: logistics.MergeKey("shop", f.Warehouse, r), OrderID: o.ID, Grams: grams})
		if err != nil {
			return nil, err
		}
		quotes, err := s.rater.Shop(logistics.Shipment{Parcel: boxFor(g.Grams),
			Origin: f.Warehouse, Destination: o.Zone, Value: o.Total.Decimal}, logistics.Cheapest, logistics.Constraints{})
		if err != nil {
			return nil, err
		}
		p := parcel{Warehouse: f.Warehouse, MergeGroup: g.ID, Grams: g.Grams, Carrier: quotes[0].Carrier,
			Service: quotes[0].Service, Freight: yuan(logistics.Money(quotes[0].Total))}
		for _, m := range g.Orders {
			p.MergedOrders = append(p.MergedOrders, m.ID)
		}
		parcels = append(parcels, p)
	}
	return parcels, nil
}
