package pricing

import (
	"errors"
	"slices"
	"strconv"
	"time"

	"github.com/shopspring/decimal"

	"github.com/shopkit/shopkit/internal/keyspace"
)

// Errors callers branch on.
var (
	// ErrInvalidInput is matched by every *InputError.
	ErrInvalidInput = errors.New("pricing: invalid input")
	// ErrClosed is returned by calls on a store after Close.
	ErrClosed = errors.New("pricing: store closed")
)

// InputError reports a rule or cart that breaks a rule, naming the
// promotion (when there is one) and the field.
type InputError struct {
	Promotion string // the promotion's ID, or "" for the cart
	Field     string
	Rule      string
}

// Error implements error.
func (e *InputError) Error() string {
	if e.Promotion != "" {
		return "pricing: promotion " + e.Promotion + ": " + e.Field + " " + e.Rule
	}
	return "pricing: " + e.Field + " " + e.Rule
}

// Is makes errors.Is(err, ErrInvalidInput) true.
func (e *InputError) Is(target error) bool { return target == ErrInvalidInput }

// Line is one cart line.
type Line struct {
	SKU       string
	UnitPrice decimal.Decimal
	Quantity  int64
	// Tags place the line in categories a promotion can target
	// ("shoes", "brand:acme").
	Tags []string
}

// Customer is who is buying.
type Customer struct {
	Tier string // member tier, e.g. "gold"; "" for none
	// Groups are the customer groups the customer is in ("b2b",
	// "staff"), for Conditions.CustomerGroups.
	Groups []string
	// FirstOrder is true when this is the customer's first order, for
	// Conditions.FirstOrder.
	FirstOrder bool
}

// Cart is what to price. Amounts are in the currency's major unit with
// Scale decimal places (2 for CNY and EUR, 0 for JPY).
type Cart struct {
	Lines    []Line
	Customer Customer
	Scale    int32
	// Coupons are the codes the customer presented. A coupon promotion
	// applies only when its code is here; reserve the use with
	// Redemptions at checkout.
	Coupons []string
	// At is when the cart is priced, for promotions with a validity
	// window; zero means now.
	At time.Time
	// Shipping is the shipping charge before ShippingOff promotions.
	Shipping decimal.Decimal
	// Region, Channel and Currency say where and how the order is placed
	// ("eu", "app", "EUR"), for a promotion's Conditions.
	Region, Channel, Currency string
	// Exhausted lists campaigns whose budget refused this order (see
	// Promotion.Campaign): their promotions do not apply.
	Exhausted []string
}

// Conditions restrict a promotion to some customers and orders; every
// condition set must hold, and an empty list allows any value.
type Conditions struct {
	// CustomerGroups: the customer is in any of them.
	CustomerGroups []string
	// Regions, Channels, Currencies: the cart's is one of them.
	Regions, Channels, Currencies []string
	// FirstOrder: only on the customer's first order.
	FirstOrder bool
	// MinUnits: the cart holds at least Units units of each Tag.
	MinUnits []TagUnits
}

// TagUnits is a minimum number of units carrying a tag.
type TagUnits struct {
	Tag   string
	Units int64
}

// Target selects the lines a promotion applies to: all lines when empty,
// else lines whose SKU is listed or that carry any listed tag.
type Target struct {
	SKUs []string
	Tags []string
}

// Kind is what a promotion does.
type Kind int

// Promotion kinds.
const (
	// PercentOff takes Percent % off the targeted lines.
	PercentOff Kind = iota + 1
	// FixedOff takes Amount off the targeted total, or off every unit
	// when PerUnit is set.
	FixedOff
	// Threshold takes Off when the targeted total reaches Threshold; with
	// Repeat, Off for every full multiple of Threshold (每满100减10), up
	// to Cap when set.
	Threshold
	// Tiered takes the Off of the highest tier whose Threshold the
	// targeted total reaches.
	Tiered
	// BuyXGetY gives Get units free (or DiscountPercent % off) for every
	// Buy + Get targeted units, the cheapest ones (or the most expensive
	// with MostExpensive).
	BuyXGetY
	// MemberPrice sets the unit price of listed SKUs for a member tier.
	MemberPrice
	// BundlePrice sells every Buy targeted units for Amount together
	// (any 3 for 99), bundling the dearest units first.
	BundlePrice
	// ShippingOff takes Amount off the cart's shipping, or all of it when
	// Amount is zero; the targeted lines only decide eligibility (with
	// MinSpend).
	ShippingOff
	// GiftWithPurchase adds Gift to a qualifying cart as a free line: once,
	// or once per Buy targeted units (up to MaxApplications), when the
	// targeted total reaches MinSpend. It takes nothing off the lines, so
	// it stacks with every other promotion and may not be Exclusive, in a
	// Group or Stop; Quote.Gifts lists what it gives.
	GiftWithPurchase
)

// GiftItem is what a GiftWithPurchase gives per application.
type GiftItem struct {
	SKU string
	// Quantity per application; 0 means 1.
	Quantity int64
	// Value is the gift's unit list price, shown in the quote.
	Value decimal.Decimal
}

// Tier is one step of a Tiered promotion.
type Tier struct {
	Threshold decimal.Decimal
	Off       decimal.Decimal
}

// Promotion is one rule of a rule set.
type Promotion struct {
	ID       string
	Kind     Kind
	Target   Target
	Priority int // lower applies first
	// Group makes promotions mutually exclusive: of those sharing a
	// group, at most one applies (the engine picks the best for the
	// customer).
	Group string
	// Stop ends the rule set after this promotion applies.
	Stop bool
	// Exclusive makes the promotion stack with nothing: it applies alone
	// or not at all, whichever the customer is better off with.
	Exclusive bool

	Percent   decimal.Decimal // PercentOff: 0 < Percent ≤ 100
	Amount    decimal.Decimal // FixedOff, BundlePrice, ShippingOff
	PerUnit   bool            // FixedOff
	Threshold decimal.Decimal // Threshold
	Off       decimal.Decimal // Threshold
	Repeat    bool            // Threshold
	Cap       decimal.Decimal // Threshold with Repeat: most taken off; 0 for none
	Tiers     []Tier          // Tiered, ascending thresholds

	Buy, Get        int64           // BuyXGetY; Buy for BundlePrice
	DiscountPercent decimal.Decimal // BuyXGetY: 0 means free (100%)
	MostExpensive   bool            // BuyXGetY
	// GetTarget, when set on a BuyXGetY, makes it cross-product: every
	// Buy units of Target (the buy rule) discount Get units of GetTarget
	// (the target rule), the cheapest first (the dearest with
	// MostExpensive). A unit counts once, as bought or as discounted.
	GetTarget Target
	// MaxApplications caps how often a BuyXGetY or GiftWithPurchase
	// applies to one cart (each application discounts up to Get units, or
	// gives one Gift); 0 for no cap.
	MaxApplications int64
	// Gift is what a GiftWithPurchase gives.
	Gift GiftItem

	MemberTier string                     // MemberPrice
	Prices     map[string]decimal.Decimal // MemberPrice: SKU → unit price

	// Coupon, when set, makes this a coupon: it applies only to a cart
	// presenting this code.
	Coupon string
	// Codes, when set, make this a coupon of many codes (GenerateCodes
	// makes them in bulk): it applies to a cart presenting any of them.
	// Hold the presented code's use with Redemptions under
	// CouponLimits{Global: 1} to make each code single-use.
	Codes []string
	// MinSpend, when positive, is the targeted total (after the
	// promotions before this one) the promotion needs to apply.
	MinSpend decimal.Decimal
	// Starts and Ends bound when the promotion is valid, [Starts, Ends);
	// a zero time leaves that side open.
	Starts, Ends time.Time
	// Conditions restrict who and which orders get the promotion.
	Conditions Conditions
	// Campaign names the budget the promotion draws on: hold its discount
	// with Redemptions under CouponLimits.Budget at checkout, and price
	// again with the campaign in Cart.Exhausted when the budget refuses.
	Campaign string
}

// RuleSet is a validated, immutable set of promotions, safe for
// concurrent quoting.
type RuleSet struct {
	promos []Promotion // by priority, then ID
	// scaled holds each promotion's amounts in minor units for every
	// cart scale (0..6), converted once here rather than on every quote:
	// decimal arithmetic was a good part of a quote's cost.
	scaled [maxScale + 1][]scaledPromo
	// texts holds each promotion's amounts as the explanations print
	// them, formatted once here for the same reason.
	// texts holds them per cart scale (0..6), as scaled does: money
	// prints at the cart's scale.
	texts [maxScale + 1][]promoTexts
	// codes holds each promotion's Codes as a set, by promotion index.
	codes []map[string]struct{}
	// targets finds the promotions that target a line from its SKU and
	// tags, rather than testing every promotion against every line.
	targets targetIndex
	// wholeOnly turns the part-by-part search off, so tests can check it
	// against whole evaluations.
	wholeOnly bool
}

// targetIndex maps what a line is to the promotions (positions in
// RuleSet.promos, ascending) that target it.
type targetIndex struct {
	everyLine []int // promotions with an empty target
	bySKU     map[string][]int
	byTag     map[string][]int
}

func indexTargets(promos []Promotion) targetIndex {
	x := targetIndex{bySKU: map[string][]int{}, byTag: map[string][]int{}}
	for i, p := range promos {
		// A cross-product offer's lines are those of both its targets.
		targets := []Target{p.Target}
		if p.across() {
			targets = append(targets, p.GetTarget)
		}
		for _, t := range targets {
			if t.empty() {
				if l := x.everyLine; len(l) == 0 || l[len(l)-1] != i {
					x.everyLine = append(l, i)
				}
			}
			for _, sku := range t.SKUs {
				if l := x.bySKU[sku]; len(l) == 0 || l[len(l)-1] != i {
					x.bySKU[sku] = append(l, i)
				}
			}
			for _, tag := range t.Tags {
				if l := x.byTag[tag]; len(l) == 0 || l[len(l)-1] != i {
					x.byTag[tag] = append(l, i)
				}
			}
		}
	}
	return x
}

// empty reports whether the target is every line.
func (t *Target) empty() bool { return len(t.SKUs) == 0 && len(t.Tags) == 0 }

// matches reports whether the target selects l.
func (t *Target) matches(l *Line) bool {
	if t.empty() || slices.Contains(t.SKUs, l.SKU) {
		return true
	}
	return slices.ContainsFunc(l.Tags, func(tag string) bool { return slices.Contains(t.Tags, tag) })
}

// across reports whether p is a cross-product buy-X-get-Y.
func (p *Promotion) across() bool { return p.Kind == BuyXGetY && !p.GetTarget.empty() }

// NewRuleSet validates promotions (negative percentages, thresholds ≤ 0,
// unknown kinds… are errors naming the promotion and field) and orders
// them by priority, then ID.
func NewRuleSet(promos []Promotion) (*RuleSet, error) {
	seen := map[string]bool{}
	for i := range promos {
		p := &promos[i]
		if p.ID == "" {
			return nil, &InputError{Field: "Promotions[" + strconv.Itoa(i) + "].ID", Rule: "must not be empty"}
		}
		if seen[p.ID] {
			return nil, &InputError{Promotion: p.ID, Field: "ID", Rule: "must be unique"}
		}
		seen[p.ID] = true
		if err := p.validate(); err != nil {
			return nil, err
		}
	}
	rs := &RuleSet{promos: slices.Clone(promos)}
	slices.SortStableFunc(rs.promos, func(a, b Promotion) int {
		if a.Priority != b.Priority {
			return a.Priority - b.Priority
		}
		if a.ID < b.ID {
			return -1
		}
		if a.ID > b.ID {
			return 1
		}
		return 0
	})
	rs.targets = indexTargets(rs.promos)
	rs.codes = make([]map[string]struct{}, len(rs.promos))
	for i, p := range rs.promos {
		if len(p.Codes) > 0 {
			rs.codes[i] = make(map[string]struct{}, len(p.Codes))
			for _, c := range p.Codes {
				rs.codes[i][c] = struct{}{}
			}
		}
	}
	for sc := range rs.texts {
		rs.texts[sc] = make([]promoTexts, len(rs.promos))
		for i := range rs.promos {
			rs.texts[sc][i] = textsOf(&rs.promos[i], int32(sc))
		}
	}
	for sc := range rs.scaled {
		rs.scaled[sc] = make([]scaledPromo, len(rs.promos))
		for i := range rs.promos {
			rs.scaled[sc][i] = scale(&rs.promos[i], int32(sc))
		}
	}
	return rs, nil
}

func (p *Promotion) validate() error {
	bad := func(field, rule string) error { return &InputError{Promotion: p.ID, Field: field, Rule: rule} }
	for i, c := range p.Codes {
		if rule := keyspace.CheckID(c); rule != "" {
			return bad("Codes["+strconv.Itoa(i)+"]", rule)
		}
	}
	if p.Coupon != "" {
		if rule := keyspace.CheckID(p.Coupon); rule != "" {
			return bad("Coupon", rule)
		}
	}
	if p.Exclusive && p.Group != "" {
		return bad("Group", "must be empty for an Exclusive promotion")
	}
	if p.MinSpend.IsNegative() {
		return bad("MinSpend", "must be ≥ 0")
	}
	for i, m := range p.Conditions.MinUnits {
		if m.Tag == "" || m.Units <= 0 {
			return bad("Conditions.MinUnits["+strconv.Itoa(i)+"]", "must have a Tag and Units > 0")
		}
	}
	if p.MaxApplications < 0 {
		return bad("MaxApplications", "must be ≥ 0")
	}
	if !p.GetTarget.empty() && p.Kind != BuyXGetY {
		return bad("GetTarget", "applies to BuyXGetY only")
	}
	if p.Campaign != "" {
		if rule := keyspace.CheckID(p.Campaign); rule != "" {
			return bad("Campaign", rule)
		}
	}
	if !p.Starts.IsZero() && !p.Ends.IsZero() && !p.Ends.After(p.Starts) {
		return bad("Ends", "must be after Starts")
	}
	k := kindOf(p.Kind)
	if k == nil {
		return bad("Kind", "must be a known kind")
	}
	if field, rule := k.check(p); field != "" {
		return bad(field, rule)
	}
	return nil
}
