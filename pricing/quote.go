package pricing

import (
	"fmt"
	"math"
	"math/bits"
	"slices"
	"strconv"
	"strings"
	"sync"

	"github.com/shopspring/decimal"
)

// Applied is one promotion's share of a line's discount.
type Applied struct {
	Promotion string
	Amount    decimal.Decimal
}

// QuotedLine is a priced cart line.
type QuotedLine struct {
	SKU       string
	Quantity  int64
	Subtotal  decimal.Decimal // unit price × quantity
	Discount  decimal.Decimal // every promotion's share, apportioned exactly
	Total     decimal.Decimal // Subtotal − Discount, never below zero
	Discounts []Applied
}

// Explanation says what a promotion did to the cart, or why it did not.
type Explanation struct {
	Promotion string
	Applied   bool
	Amount    decimal.Decimal
	Reason    string
	// Campaign is the applied promotion's Campaign: hold Amount against
	// its budget at checkout.
	Campaign string
}

// Quote is a priced cart that explains itself. Its small amounts are
// decimals shared with other quotes (decimal.Decimal is immutable, so this
// cannot be seen, only measured: see amount).
type Quote struct {
	Lines    []QuotedLine
	Subtotal decimal.Decimal // the lines at list price
	Discount decimal.Decimal // taken off the lines
	// Shipping is what the customer pays for shipping, after
	// ShippingDiscount.
	Shipping         decimal.Decimal
	ShippingDiscount decimal.Decimal
	Total            decimal.Decimal // Subtotal − Discount + Shipping
	Promotions       []Explanation
	// Search says how the exclusive-group choice was made.
	Search string
	// Scale is the cart's currency scale, which String prints amounts at.
	Scale int32
	// Gifts are the free lines GiftWithPurchase promotions add, in
	// priority order. They are not in Lines, Subtotal or Discount.
	Gifts []GiftLine
}

// GiftLine is a free line a promotion adds to the order.
type GiftLine struct {
	Promotion string
	SKU       string
	Quantity  int64
	// Value is the gift's list value: unit value × quantity.
	Value decimal.Decimal
}

// MaxCombinations bounds the exhaustive search over exclusive groups;
// beyond it each group is chosen greedily in priority order.
const MaxCombinations = 4096

// Quote prices cart under the rule set. Where exclusive groups leave a
// choice, it evaluates every combination of choices (up to
// MaxCombinations) and keeps the one cheapest for the customer; ties go to
// the combination applying fewer promotions, then to earlier IDs. Each
// Exclusive promotion is then weighed alone against that combination.
func (rs *RuleSet) Quote(cart Cart) (Quote, error) {
	base, err := newState(cart)
	if err != nil {
		return Quote{}, err
	}
	plan := rs.prepare(cart)
	groups, order := groupsOf(plan)
	sr := &search{rs: rs, cart: cart, plan: plan, base: base, groups: groups, order: order}
	if combos := sr.combinations(); combos <= MaxCombinations {
		sr.note = "exhaustive over " + strconv.Itoa(combos) + " combination(s) of exclusive groups"
		sr.exhaustive()
	} else {
		sr.note = "greedy per exclusive group: " + strconv.Itoa(MaxCombinations) + "+ combinations exceed the bound"
		sr.greedy()
	}
	sr.weighExclusives()
	// Evaluate the winner once more, this time writing the explanations.
	best := rs.evaluate(cart, plan, base, sr.choice, sr.alone, true)
	q := best.quote(cart, plan)
	q.Search = sr.note
	return q, nil
}

func (ev *evaluation) quote(cart Cart, plan []prepared) Quote {
	sc := cart.Scale
	s := ev.state
	q := Quote{Promotions: ev.explain, Lines: make([]QuotedLine, len(cart.Lines)), Gifts: ev.gifts}
	// The shares, grouped by line in the order they were taken, in one
	// backing array: start[j]..start[j+1] are line j's.
	start := make([]int, len(cart.Lines)+1)
	for _, a := range s.applied {
		start[a.line+1]++
	}
	for j := range cart.Lines {
		start[j+1] += start[j]
	}
	applied := make([]Applied, len(s.applied))
	next := slices.Clone(start[:len(cart.Lines)])
	for _, a := range s.applied {
		applied[next[a.line]] = Applied{Promotion: plan[a.plan].p.ID, Amount: amount(a.amount, sc)}
		next[a.line]++
	}
	var subtotal, total int64
	for j, l := range cart.Lines {
		// The subtotal is at the list price; a member saving is one of
		// the line's discounts.
		listSub := s.unit[j] * s.qty[j]
		ql := &q.Lines[j]
		*ql = QuotedLine{SKU: l.SKU, Quantity: l.Quantity, Subtotal: amount(listSub, sc),
			Discount: amount(listSub-s.amount[j], sc), Total: amount(s.amount[j], sc)}
		if start[j] < start[j+1] {
			ql.Discounts = applied[start[j]:start[j+1]:start[j+1]]
		}
		subtotal += listSub
		total += s.amount[j]
	}
	q.Subtotal, q.Discount = amount(subtotal, sc), amount(subtotal-total, sc)
	q.Shipping, q.ShippingDiscount = amount(s.shipping, sc), amount(s.baseShipping-s.shipping, sc)
	q.Total = amount(total+s.shipping, sc)
	q.Scale = sc
	return q
}

// String renders the quote as an explained receipt, amounts at the cart's
// currency scale (¥1234 for a yen cart, 1.250 for a dinar one).
func (q Quote) String() string {
	var b strings.Builder
	for _, l := range q.Lines {
		fmt.Fprintf(&b, "%-10s ×%-3d %10s  −%-8s = %s\n", l.SKU, l.Quantity, l.Subtotal.StringFixed(q.Scale), l.Discount.StringFixed(q.Scale), l.Total.StringFixed(q.Scale))
	}
	for _, e := range q.Promotions {
		if e.Applied {
			fmt.Fprintf(&b, "  ✓ %s: −%s (%s)\n", e.Promotion, e.Amount.StringFixed(q.Scale), e.Reason)
		} else {
			fmt.Fprintf(&b, "  ✗ %s: %s\n", e.Promotion, e.Reason)
		}
	}
	for _, g := range q.Gifts {
		fmt.Fprintf(&b, "gift %s ×%d (value %s) from %s\n", g.SKU, g.Quantity, g.Value.StringFixed(q.Scale), g.Promotion)
	}
	if !q.Shipping.IsZero() || !q.ShippingDiscount.IsZero() {
		fmt.Fprintf(&b, "shipping %s (−%s)\n", q.Shipping.StringFixed(q.Scale), q.ShippingDiscount.StringFixed(q.Scale))
	}
	fmt.Fprintf(&b, "subtotal %s, discount %s, total %s\n", q.Subtotal.StringFixed(q.Scale), q.Discount.StringFixed(q.Scale), q.Total.StringFixed(q.Scale))
	return b.String()
}

// satMul returns a·b for a, b ≥ 0, saturating at math.MaxInt64.
func satMul(a, b int64) int64 {
	hi, lo := bits.Mul64(uint64(a), uint64(b))
	if hi != 0 || lo > math.MaxInt64 {
		return math.MaxInt64
	}
	return int64(lo)
}

// smallAmounts holds, per scale, the decimals of 0..smallAmountLimit-1
// minor units, built on first use. A quote's per-line shares and
// explanations are mostly small amounts, and making a decimal costs two
// allocations (its big.Int and that integer's digits), a fifth of a quote
// before this table; decimal.Decimal is immutable (its methods never
// change a value's big.Int in place), so one value can be handed out to
// every quote.
var smallAmounts [maxScale + 1]struct {
	once sync.Once
	v    []decimal.Decimal
}

// smallAmountLimit bounds the table: 4,096 entries, about 230 KB per
// scale in use.
const smallAmountLimit = 4096

// amount returns v minor units at scale sc as a decimal.
func amount(v int64, sc int32) decimal.Decimal {
	if v < 0 || v >= smallAmountLimit {
		return decimal.New(v, -sc)
	}
	t := &smallAmounts[sc]
	t.once.Do(func() {
		t.v = make([]decimal.Decimal, smallAmountLimit)
		for i := range t.v {
			t.v[i] = decimal.New(int64(i), -sc)
		}
	})
	return t.v[v]
}
