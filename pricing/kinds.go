package pricing

import (
	"strconv"

	"github.com/shopspring/decimal"
)

// kind is everything one promotion kind brings, in one place: adding a
// kind is one entry in kinds, not an edit in several switches.
type kind struct {
	// check validates the kind's own fields and returns the first field
	// that breaks a rule, or "" for none.
	check func(p *Promotion) (field, rule string)
	// off returns what the promotion takes off its lines now, whose
	// amounts come to total, in minor units (0 if nothing); the
	// evaluation apportions it over the lines. Nil for a kind with apply.
	off func(pp *prepared, s *cartState, total int64) int64
	// apply, when set, takes the discount itself instead of having it
	// apportioned (a member price belongs to its own lines; a shipping
	// discount to the shipping charge) and returns it. at is the
	// promotion's plan index.
	apply func(pp *prepared, cart Cart, s *cartState, at int) int64
	// reason explains the outcome: off > 0 after applying, 0 when it did
	// not apply; total is what its lines came to before it.
	reason func(pp *prepared, cart Cart, s *cartState, total, off int64) string
	// shipping: the kind changes the shipping charge, which the
	// part-by-part search treats as one more part of the cart.
	shipping bool
}

var hundred = decimal.NewFromInt(100)

// kinds holds each Kind's entry, indexed by Kind. It is never written.
var kinds = [...]kind{
	PercentOff: {
		check: func(p *Promotion) (string, string) {
			if !p.Percent.IsPositive() || p.Percent.GreaterThan(hundred) || !p.Percent.Shift(4).IsInteger() {
				return "Percent", "must be in (0, 100] with at most 4 decimals"
			}
			return "", ""
		},
		off: func(pp *prepared, _ *cartState, total int64) int64 { return mulDivFloor(total, pp.pctE6, 1_000_000) },
		reason: func(pp *prepared, cart Cart, _ *cartState, total, _ int64) string {
			return pp.texts.percent + "% off " + formatMinor(total, cart.Scale)
		},
	},
	FixedOff: {
		check: func(p *Promotion) (string, string) {
			if !p.Amount.IsPositive() {
				return "Amount", "must be > 0"
			}
			return "", ""
		},
		off: func(pp *prepared, s *cartState, total int64) int64 {
			if pp.p.PerUnit {
				return min(satMul(pp.amount, pp.units(s)), total)
			}
			return min(pp.amount, total)
		},
		reason: func(pp *prepared, _ Cart, _ *cartState, _, _ int64) string {
			if pp.p.PerUnit {
				return pp.texts.amount + " off each unit"
			}
			return pp.texts.amount + " off"
		},
	},
	Threshold: {
		check: func(p *Promotion) (string, string) {
			switch {
			case !p.Threshold.IsPositive():
				return "Threshold", "must be > 0"
			case !p.Off.IsPositive():
				return "Off", "must be > 0"
			case p.Cap.IsNegative():
				return "Cap", "must be ≥ 0"
			}
			return "", ""
		},
		off: func(pp *prepared, _ *cartState, total int64) int64 {
			if total < pp.threshold {
				return 0
			}
			got := pp.off
			if pp.p.Repeat {
				got = satMul(total/pp.threshold, pp.off)
				if pp.cap > 0 {
					got = min(got, pp.cap)
				}
			}
			return min(got, total)
		},
		reason: func(pp *prepared, cart Cart, _ *cartState, total, off int64) string {
			t := pp.texts
			if off == 0 {
				return "below threshold: " + formatMinor(total, cart.Scale) + " of " + t.threshold
			}
			if !pp.p.Repeat {
				return t.off + " off for reaching " + t.threshold
			}
			why := t.off + " off for each full " + t.threshold + ": " + strconv.FormatInt(total/pp.threshold, 10) + " time(s)"
			if pp.cap > 0 && total/pp.threshold*pp.off > pp.cap {
				why += ", capped at " + t.cap
			}
			return why
		},
	},
	Tiered: {
		check: func(p *Promotion) (string, string) {
			if len(p.Tiers) == 0 {
				return "Tiers", "must not be empty"
			}
			for i, t := range p.Tiers {
				f := "Tiers[" + strconv.Itoa(i) + "]"
				if !t.Threshold.IsPositive() || !t.Off.IsPositive() {
					return f, "must have Threshold and Off > 0"
				}
				if i > 0 && !t.Threshold.GreaterThan(p.Tiers[i-1].Threshold) {
					return f + ".Threshold", "must rise"
				}
			}
			return "", ""
		},
		off: func(pp *prepared, _ *cartState, total int64) int64 {
			if i := pp.tierReached(total); i >= 0 {
				return min(pp.tiers[i][1], total)
			}
			return 0
		},
		reason: func(pp *prepared, cart Cart, _ *cartState, total, off int64) string {
			t := pp.texts
			if off == 0 {
				return "below the first tier: " + formatMinor(total, cart.Scale) + " of " + t.tierThresholds[0]
			}
			i := pp.tierReached(total)
			return t.tierOffs[i] + " off: " + formatMinor(total, cart.Scale) + " reaches the tier at " + t.tierThresholds[i]
		},
	},
	BuyXGetY: {
		check: func(p *Promotion) (string, string) {
			if p.Buy <= 0 || p.Get <= 0 {
				return "Buy", "and Get must be > 0"
			}
			if p.DiscountPercent.IsNegative() || p.DiscountPercent.GreaterThan(hundred) || !p.DiscountPercent.Shift(4).IsInteger() {
				return "DiscountPercent", "must be in [0, 100] with at most 4 decimals"
			}
			return "", ""
		},
		off: func(pp *prepared, s *cartState, _ int64) int64 {
			value, _ := pp.freeUnits(s)
			return mulDivFloor(value, pp.dpctE6, 1_000_000)
		},
		reason: func(pp *prepared, _ Cart, s *cartState, _, off int64) string {
			t := pp.texts
			if pp.across {
				if off == 0 {
					return "not eligible: needs " + t.buy + " unit(s) of its buy target and a unit of its get target"
				}
				_, free := pp.freeUnits(s)
				return "buy " + t.buy + ", get " + t.get + " of another target at " + t.discountPercent + "% off: " +
					strconv.FormatInt(free, 10) + " unit(s) discounted" + t.capped
			}
			if off == 0 {
				return "not eligible: fewer than " + t.buyGet + " units"
			}
			return "buy " + t.buy + " get " + t.get + " at " + t.discountPercent + "% off" + t.capped
		},
	},
	MemberPrice: {
		check: func(p *Promotion) (string, string) {
			if p.MemberTier == "" {
				return "MemberTier", "must not be empty"
			}
			if len(p.Prices) == 0 {
				return "Prices", "must not be empty"
			}
			for sku, price := range p.Prices {
				if price.IsNegative() {
					return "Prices[" + sku + "]", "must be ≥ 0"
				}
			}
			return "", ""
		},
		apply: (*prepared).memberPrices,
		reason: func(pp *prepared, cart Cart, _ *cartState, _, off int64) string {
			p := pp.p
			if off > 0 {
				return "member prices for tier " + p.MemberTier
			}
			if cart.Customer.Tier != p.MemberTier {
				return "not eligible: member price for tier " + p.MemberTier
			}
			return "not eligible: no line is dearer than its member price"
		},
	},
	BundlePrice: {
		check: func(p *Promotion) (string, string) {
			if p.Buy < 2 {
				return "Buy", "must be ≥ 2 units per bundle"
			}
			if !p.Amount.IsPositive() {
				return "Amount", "must be > 0"
			}
			return "", ""
		},
		off: func(pp *prepared, s *cartState, _ int64) int64 {
			bundles := pp.units(s) / pp.p.Buy
			value := pp.unitsValue(s, bundles*pp.p.Buy, true)
			return max(0, value-satMul(bundles, pp.amount))
		},
		reason: func(pp *prepared, _ Cart, s *cartState, _, off int64) string {
			t := pp.texts
			switch bundles := pp.units(s) / pp.p.Buy; {
			case bundles == 0:
				return "not eligible: fewer than " + t.buy + " units"
			case off == 0:
				return "not applied: the bundle price is not lower than the units' price"
			default:
				return strconv.FormatInt(bundles, 10) + " bundle(s) of " + t.buy + " for " + t.amount
			}
		},
	},
	ShippingOff: {
		check: func(p *Promotion) (string, string) {
			if p.Amount.IsNegative() {
				return "Amount", "must be ≥ 0 (0: free shipping)"
			}
			return "", ""
		},
		apply: func(pp *prepared, _ Cart, s *cartState, _ int) int64 {
			off := s.shipping
			if pp.amount > 0 {
				off = min(pp.amount, s.shipping)
			}
			s.shipping -= off
			return off
		},
		reason: func(pp *prepared, cart Cart, _ *cartState, _, off int64) string {
			switch {
			case off == 0:
				return "not applied: no shipping charge left"
			case pp.amount == 0:
				return "free shipping"
			}
			return formatMinor(off, cart.Scale) + " off shipping"
		},
		shipping: true,
	},
	GiftWithPurchase: {
		check: func(p *Promotion) (string, string) {
			switch {
			case p.Gift.SKU == "":
				return "Gift.SKU", "must not be empty"
			case p.Gift.Quantity < 0:
				return "Gift.Quantity", "must be ≥ 0"
			case p.Gift.Value.IsNegative():
				return "Gift.Value", "must be ≥ 0"
			case p.Buy < 0:
				return "Buy", "must be ≥ 0"
			case p.Exclusive || p.Group != "" || p.Stop:
				return "Exclusive", "and Group and Stop must be unset: a gift stacks with every promotion"
			}
			return "", ""
		},
		// The evaluator handles gifts itself (evaluator.gift): these
		// never run, and are here so the entry is complete.
		off:    func(*prepared, *cartState, int64) int64 { return 0 },
		reason: func(*prepared, Cart, *cartState, int64, int64) string { return "" },
	},
}

// kindOf returns k's entry, or nil for an unknown kind.
func kindOf(k Kind) *kind {
	if k <= 0 || int(k) >= len(kinds) {
		return nil
	}
	return &kinds[k]
}

// tierReached returns the index of the highest tier total reaches, or -1.
func (pp *prepared) tierReached(total int64) int {
	reached := -1
	for i, t := range pp.tiers {
		if total >= t[0] {
			reached = i
		}
	}
	return reached
}
