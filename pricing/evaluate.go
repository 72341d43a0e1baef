package pricing

import (
	"cmp"
	"math"
	"math/bits"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/shopspring/decimal"
)

// prepared is a promotion with its amounts in the cart's minor units and
// its targeted lines found, once per quote rather than per combination.
type prepared struct {
	p *Promotion
	*scaledPromo
	texts  *promoTexts
	lines  []int
	member map[int]int64 // line → member unit price
	// buyLines and getLines split lines for a cross-product BuyXGetY:
	// the lines its Target and its GetTarget select (a line may be in
	// both). Nil otherwise.
	buyLines, getLines []int
	across             bool // a cross-product BuyXGetY
	// ineligible says why the promotion cannot apply to this cart at all
	// (coupon not presented, outside its window); "" when it can.
	ineligible string
}

// maxScale is the largest Cart.Scale.
const maxScale = 6

// scaledPromo is a promotion's amounts in one scale's minor units.
type scaledPromo struct {
	amount, threshold, off int64
	cap                    int64
	tiers                  [][2]int64 // threshold, off
	pctE6, dpctE6          int64      // percentages × 10^4, as parts of 10^6
	memberPrices           map[string]int64
	minSpend               int64
}

// scale converts p's amounts to minor units of scale sc.
func scale(p *Promotion, sc int32) scaledPromo {
	m := func(v decimal.Decimal) int64 {
		x, err := toMinor(v.RoundFloor(sc), sc)
		if err != nil {
			// Validation rules out negatives, so this is an amount
			// beyond any cart: it saturates (no cart reaches such a
			// threshold; such a discount takes the whole target).
			return math.MaxInt64 / 4
		}
		return x
	}
	pct := func(v decimal.Decimal) int64 { return v.Shift(4).IntPart() }
	sp := scaledPromo{amount: m(p.Amount), threshold: m(p.Threshold), off: m(p.Off), cap: m(p.Cap),
		pctE6: pct(p.Percent), dpctE6: pct(p.DiscountPercent), minSpend: m(p.MinSpend)}
	if sp.dpctE6 == 0 {
		sp.dpctE6 = 1_000_000
	}
	for _, t := range p.Tiers {
		sp.tiers = append(sp.tiers, [2]int64{m(t.Threshold), m(t.Off)})
	}
	if len(p.Prices) > 0 {
		sp.memberPrices = make(map[string]int64, len(p.Prices))
		for sku, price := range p.Prices {
			sp.memberPrices[sku] = m(price)
		}
	}
	return sp
}

func (rs *RuleSet) prepare(cart Cart) []prepared {
	at := cart.At
	if at.IsZero() {
		at = time.Now()
	}
	scaled := rs.scaled[cart.Scale]
	out := make([]prepared, len(rs.promos))
	// Every promotion's targeted lines, found through the rule set's
	// index line by line (so each list is in line order), in one backing
	// array: a first pass counts them, a second places them.
	count := make([]int, len(rs.promos)+1)
	last := make([]int, len(rs.promos)) // 1 + the last line found for each
	visit := func(place func(i, j int)) {
		clear(last)
		for j := range cart.Lines {
			l := &cart.Lines[j]
			add := func(promos []int) {
				for _, i := range promos {
					// A line matching a promotion twice (SKU and tag)
					// counts once.
					if last[i] != j+1 {
						last[i] = j + 1
						place(i, j)
					}
				}
			}
			add(rs.targets.everyLine)
			add(rs.targets.bySKU[l.SKU])
			for _, tag := range l.Tags {
				add(rs.targets.byTag[tag])
			}
		}
	}
	visit(func(i, _ int) { count[i+1]++ })
	for i := range rs.promos {
		count[i+1] += count[i] // count[i] is now where promotion i's lines start
	}
	slab := make([]int, count[len(rs.promos)])
	next := slices.Clone(count[:len(rs.promos)])
	visit(func(i, j int) { slab[next[i]] = j; next[i]++ })
	for i := range rs.promos {
		p := &rs.promos[i]
		sp := &scaled[i]
		pp := prepared{p: p, scaledPromo: sp, texts: &rs.texts[cart.Scale][i]}
		switch {
		case p.Coupon != "" && !slices.Contains(cart.Coupons, p.Coupon):
			pp.ineligible = "not eligible: coupon " + p.Coupon + " not presented"
		case rs.codes[i] != nil && presentedCode(rs.codes[i], cart.Coupons) == "":
			pp.ineligible = "not eligible: none of its codes presented"
		case !p.Starts.IsZero() && at.Before(p.Starts):
			pp.ineligible = "not eligible: starts " + p.Starts.UTC().Format(time.RFC3339)
		case !p.Ends.IsZero() && !at.Before(p.Ends):
			pp.ineligible = "not eligible: ended " + p.Ends.UTC().Format(time.RFC3339)
		case p.Campaign != "" && slices.Contains(cart.Exhausted, p.Campaign):
			pp.ineligible = "not eligible: campaign " + p.Campaign + " has no budget left"
		default:
			pp.ineligible = p.Conditions.unmet(&cart)
		}
		if count[i] < count[i+1] {
			pp.lines = slab[count[i]:count[i+1]:count[i+1]]
		}
		if p.across() {
			pp.across = true
			for _, j := range pp.lines {
				l := &cart.Lines[j]
				if p.Target.matches(l) {
					pp.buyLines = append(pp.buyLines, j)
				}
				if p.GetTarget.matches(l) {
					pp.getLines = append(pp.getLines, j)
				}
			}
		}
		if p.Kind == MemberPrice {
			for _, j := range pp.lines {
				if mp, ok := sp.memberPrices[cart.Lines[j].SKU]; ok {
					if pp.member == nil {
						pp.member = map[int]int64{}
					}
					pp.member[j] = mp
				}
			}
		}
		out[i] = pp
	}
	return out
}

// evaluate applies the rule set in priority order with choice fixing
// which member of each exclusive group may apply ("" for none), and with
// alone, when set, the only promotion that may apply. Reasons are written
// only when explain is set: the search compares numbers.
func (rs *RuleSet) evaluate(cart Cart, plan []prepared, base *cartState, choice map[string]string, alone string, explain bool) *evaluation {
	e := evaluator{cart: cart, plan: plan, choice: choice, alone: alone, explain: explain}
	return e.run(nil, base.clone())
}

// evaluatePart is evaluate over the plan entries at the indexes in only
// (in plan order), working on scratch reset to base. It records the plan
// positions of what it applies rather than IDs, for parts to merge.
func (rs *RuleSet) evaluatePart(cart Cart, plan []prepared, only []int, base, scratch *cartState, choice map[string]string) *evaluation {
	scratch.resetTo(base)
	e := evaluator{cart: cart, plan: plan, choice: choice}
	return e.run(only, scratch)
}

// evaluator is one evaluation's fixed inputs: the cart, the plan, the
// exclusive-group choice and the promotion applying alone, if any.
type evaluator struct {
	cart    Cart
	plan    []prepared
	choice  map[string]string
	alone   string
	explain bool
}

// run applies the plan entries at the indexes in only, or the whole plan
// when only is nil, to s.
func (e *evaluator) run(only []int, s *cartState) *evaluation {
	n := len(e.plan)
	if only != nil {
		n = len(only)
	}
	ev := &evaluation{state: s}
	if only == nil {
		ev.ids = make([]string, 0, n)
	} else {
		ev.at = make([]int, 0, n)
	}
	s.record = e.explain
	if e.explain {
		ev.explain = make([]Explanation, 0, n)
		s.applied = make([]share, 0, e.shares())
	}
	stoppedBy := ""
	for k := 0; k < n; k++ {
		i := k
		if only != nil {
			i = only[k]
		}
		pp := &e.plan[i]
		if cause, spent := e.skip(pp, s, stoppedBy); cause != applies {
			if e.explain {
				ev.explain = append(ev.explain, Explanation{Promotion: pp.p.ID, Reason: e.skipReason(pp, cause, spent, stoppedBy)})
			}
			continue
		}
		total := pp.total(s)
		if pp.p.Kind == GiftWithPurchase {
			// A gift takes nothing off, so the search, which compares
			// discounts, never needs it: only the explaining run adds it.
			if e.explain {
				ev.explain = append(ev.explain, e.gift(pp, s, total, ev))
			}
			continue
		}
		off := e.apply(pp, s, i, total)
		if off <= 0 {
			if e.explain {
				ev.explain = append(ev.explain, Explanation{Promotion: pp.p.ID, Reason: kinds[pp.p.Kind].reason(pp, e.cart, s, total, 0)})
			}
			continue
		}
		ev.discount += off
		ev.appliedCount++
		if only != nil { // a part: its sums need the plan positions
			ev.at = append(ev.at, i)
		} else {
			ev.ids = append(ev.ids, pp.p.ID)
		}
		if e.explain {
			ev.explain = append(ev.explain, Explanation{Promotion: pp.p.ID, Applied: true, Campaign: pp.p.Campaign,
				Amount: amount(off, e.cart.Scale), Reason: kinds[pp.p.Kind].reason(pp, e.cart, s, total, off)})
		}
		if pp.p.Stop {
			stoppedBy = pp.p.ID
		}
	}
	return ev
}

// shares bounds the discount shares the winning evaluation logs: one per
// line a promotion that may apply targets (counted over the whole plan:
// only the whole rule set explains).
func (e *evaluator) shares() int {
	n := 0
	for i := range e.plan {
		if pp := &e.plan[i]; pp.ineligible == "" && (pp.p.Group == "" || e.choice[pp.p.Group] == pp.p.ID) {
			n += len(pp.lines)
		}
	}
	return n
}

// skipCause is why a promotion does not get to apply in an evaluation.
type skipCause uint8

const (
	applies    skipCause = iota
	ineligible           // coupon not presented, outside its window
	noLine               // no line matches its target
	stopped              // an earlier promotion stops further ones
	notAlone             // another promotion applies alone
	onlyAlone            // an Exclusive promotion, outside its own evaluation
	otherPick            // another member of its group is chosen, or none
	belowMin             // the targeted total is below MinSpend
)

// skip says whether pp gets to apply here, and for belowMin the targeted
// total. It builds no text: the search, which writes no reasons, calls it
// for every promotion of every combination.
func (e *evaluator) skip(pp *prepared, s *cartState, stoppedBy string) (skipCause, int64) {
	p := pp.p
	switch {
	case pp.ineligible != "":
		return ineligible, 0
	case len(pp.lines) == 0:
		return noLine, 0
	case stoppedBy != "":
		return stopped, 0
	case e.alone != "" && p.ID != e.alone:
		return notAlone, 0
	case e.alone == "" && p.Exclusive:
		return onlyAlone, 0
	case p.Group != "" && e.choice[p.Group] != p.ID:
		return otherPick, 0
	}
	if pp.minSpend > 0 {
		if t := pp.total(s); t < pp.minSpend {
			return belowMin, t
		}
	}
	return applies, 0
}

// skipReason explains a skip.
func (e *evaluator) skipReason(pp *prepared, cause skipCause, total int64, stoppedBy string) string {
	p := pp.p
	switch cause {
	case ineligible:
		return pp.ineligible
	case noLine:
		return "not eligible: no line matches its target"
	case stopped:
		return "not applied: " + stoppedBy + " stops further promotions"
	case notAlone:
		return "not applied: exclusive " + e.alone + " applies alone and saves more"
	case onlyAlone:
		return "not applied: it applies only alone, and the others together save at least as much"
	case otherPick:
		if c := e.choice[p.Group]; c != "" {
			return "excluded by group " + p.Group + ": " + c + " applies instead"
		}
		return "excluded by group " + p.Group + ": the customer is better off without any of it"
	case belowMin:
		return "below minimum spend: " + formatMinor(total, e.cart.Scale) + " of " + pp.texts.minSpend
	}
	return ""
}

// apply takes pp's discount off s and returns it: through the kind's own
// apply, or its off apportioned over pp's lines (which come to total).
func (e *evaluator) apply(pp *prepared, s *cartState, at int, total int64) int64 {
	k := &kinds[pp.p.Kind]
	if k.apply != nil {
		return k.apply(pp, e.cart, s, at)
	}
	off := k.off(pp, s, total)
	if off > 0 {
		lines := pp.lines
		if pp.across {
			// A cross-product offer's discount belongs to the discounted
			// lines alone.
			lines, total = pp.getLines, 0
			for _, j := range lines {
				total += s.amount[j]
			}
		}
		off = s.apportion(at, lines, off, total)
	}
	return off
}

func (pp *prepared) total(s *cartState) int64 {
	var t int64
	for _, j := range pp.lines {
		t += s.amount[j]
	}
	return t
}

// mulDivFloor returns ⌊a·b/c⌋ for a, b, c ≥ 0 in 128 bits.
func mulDivFloor(a, b, c int64) int64 {
	hi, lo := bits.Mul64(uint64(a), uint64(b))
	if hi >= uint64(c) {
		return math.MaxInt64
	}
	q, _ := bits.Div64(hi, lo, uint64(c))
	return int64(q)
}

// freeUnits returns the value of the units BuyXGetY discounts and how many.
func (pp *prepared) freeUnits(s *cartState) (value, free int64) {
	p := pp.p
	if pp.across {
		return pp.acrossUnits(s)
	}
	apps := pp.units(s) / (p.Buy + p.Get)
	if p.MaxApplications > 0 {
		apps = min(apps, p.MaxApplications)
	}
	free = apps * p.Get
	return pp.unitsValue(s, free, p.MostExpensive), free
}

// acrossUnits is freeUnits for a cross-product offer. With b units only
// bought-from, g only discountable and o in both, k applications need
// k·Buy bought units (from b, then o) and discount up to k·Get of the
// rest: d(k) = min(k·Get, g + o − max(0, k·Buy − b)), which rises and
// then falls, so the best k is at one of a few candidates. The units of
// lines in both targets counted as bought are the dearest (the cheapest
// when MostExpensive units are discounted): buy the dear, get the cheap.
func (pp *prepared) acrossUnits(s *cartState) (value, free int64) {
	p := pp.p
	var b, g, o int64
	for _, j := range pp.buyLines {
		if slices.Contains(pp.getLines, j) {
			o += s.qty[j]
		} else {
			b += s.qty[j]
		}
	}
	for _, j := range pp.getLines {
		if !slices.Contains(pp.buyLines, j) {
			g += s.qty[j]
		}
	}
	kmax := (b + o) / p.Buy
	if p.MaxApplications > 0 {
		kmax = min(kmax, p.MaxApplications)
	}
	d := func(k int64) int64 { return min(k*p.Get, g+o-max(0, k*p.Buy-b)) }
	best := int64(0)
	cross := (g + o + b) / (p.Get + p.Buy)
	for _, k := range []int64{min(kmax, b/p.Buy), cross, cross + 1, kmax} {
		if k = min(max(k, 0), kmax); d(k) > d(best) || (d(k) == d(best) && k < best) {
			best = k
		}
	}
	free = d(best)
	if free <= 0 {
		return 0, 0
	}
	consumed := max(0, best*p.Buy-b) // units of shared lines counted as bought
	groups := s.units[:0]
	for _, j := range pp.getLines {
		groups = append(groups, unitGroup{s.amount[j] / s.qty[j], s.qty[j]})
		if slices.Contains(pp.buyLines, j) {
			groups[len(groups)-1].n = -s.qty[j] // shared: marked for consumption below
		}
	}
	slices.SortStableFunc(groups, func(x, y unitGroup) int {
		if p.MostExpensive {
			return cmp.Compare(y.price, x.price)
		}
		return cmp.Compare(x.price, y.price)
	})
	// Consume the bought units of shared lines from the far end: the
	// units the discount would reach last.
	for i := len(groups) - 1; i >= 0; i-- {
		if groups[i].n < 0 {
			groups[i].n = -groups[i].n
			take := min(consumed, groups[i].n)
			groups[i].n -= take
			consumed -= take
		}
	}
	left := free
	for _, gr := range groups {
		take := min(left, gr.n)
		value += take * gr.price
		if left -= take; left == 0 {
			break
		}
	}
	return value, free
}

// units counts the targeted units.
func (pp *prepared) units(s *cartState) int64 {
	var n int64
	for _, j := range pp.lines {
		n += s.qty[j]
	}
	return n
}

// unitsValue is the current value of count targeted units, the dearest
// first or the cheapest first.
func (pp *prepared) unitsValue(s *cartState, count int64, dearest bool) int64 {
	if count <= 0 {
		return 0
	}
	groups := s.units[:0]
	for _, j := range pp.lines {
		groups = append(groups, unitGroup{s.amount[j] / s.qty[j], s.qty[j]})
	}
	slices.SortStableFunc(groups, func(a, b unitGroup) int {
		if dearest {
			return cmp.Compare(b.price, a.price)
		}
		return cmp.Compare(a.price, b.price)
	})
	var value int64
	for _, g := range groups {
		take := min(count, g.n)
		value += take * g.price
		if count -= take; count == 0 {
			break
		}
	}
	return value
}

// memberPrices lowers each listed line to its member unit price for the
// customer's tier, applying the saving to that line.
func (pp *prepared) memberPrices(cart Cart, s *cartState, at int) int64 {
	if cart.Customer.Tier != pp.p.MemberTier {
		return 0
	}
	var total int64
	for _, j := range pp.lines {
		m, ok := pp.member[j]
		if !ok || m >= s.unit[j] {
			continue
		}
		off := min((s.unit[j]-m)*s.qty[j], s.amount[j])
		if off <= 0 {
			continue
		}
		s.amount[j] -= off
		if s.record {
			s.applied = append(s.applied, share{line: int32(j), plan: int32(at), amount: off})
		}
		total += off
	}
	return total
}

// gift adds pp's gift to ev if the cart qualifies and explains the outcome.
func (e *evaluator) gift(pp *prepared, s *cartState, total int64, ev *evaluation) Explanation {
	p := pp.p
	apps := int64(1)
	if p.Buy > 0 {
		apps = pp.units(s) / p.Buy
	}
	if p.MaxApplications > 0 {
		apps = min(apps, p.MaxApplications)
	}
	if apps == 0 {
		return Explanation{Promotion: p.ID, Reason: "not eligible: fewer than " + pp.texts.buy + " units"}
	}
	qty := max(p.Gift.Quantity, 1) * apps
	value := p.Gift.Value.Mul(decimal.NewFromInt(qty))
	ev.gifts = append(ev.gifts, GiftLine{Promotion: p.ID, SKU: p.Gift.SKU, Quantity: qty, Value: value})
	return Explanation{Promotion: p.ID, Applied: true, Amount: amount(0, e.cart.Scale),
		Reason: "gift " + strconv.FormatInt(qty, 10) + " × " + p.Gift.SKU + " worth " + value.StringFixed(e.cart.Scale) +
			" for " + formatMinor(total, e.cart.Scale) + pp.texts.capped}
}

// unmet says which condition the cart fails, or "" when it meets them all.
func (c *Conditions) unmet(cart *Cart) string {
	switch {
	case len(c.CustomerGroups) > 0 && !slices.ContainsFunc(cart.Customer.Groups, func(g string) bool { return slices.Contains(c.CustomerGroups, g) }):
		return "not eligible: customer in none of groups " + strings.Join(c.CustomerGroups, ", ")
	case len(c.Regions) > 0 && !slices.Contains(c.Regions, cart.Region):
		return "not eligible: region " + strconv.Quote(cart.Region) + " not in " + strings.Join(c.Regions, ", ")
	case len(c.Channels) > 0 && !slices.Contains(c.Channels, cart.Channel):
		return "not eligible: channel " + strconv.Quote(cart.Channel) + " not in " + strings.Join(c.Channels, ", ")
	case len(c.Currencies) > 0 && !slices.Contains(c.Currencies, cart.Currency):
		return "not eligible: currency " + strconv.Quote(cart.Currency) + " not in " + strings.Join(c.Currencies, ", ")
	case c.FirstOrder && !cart.Customer.FirstOrder:
		return "not eligible: first orders only"
	}
	for _, m := range c.MinUnits {
		var n int64
		for _, l := range cart.Lines {
			if slices.Contains(l.Tags, m.Tag) {
				n += l.Quantity
			}
		}
		if n < m.Units {
			return "not eligible: " + strconv.FormatInt(n, 10) + " unit(s) tagged " + m.Tag + ", needs " + strconv.FormatInt(m.Units, 10)
		}
	}
	return ""
}

// presentedCode returns the first of presented that is one of codes, or "".
func presentedCode(codes map[string]struct{}, presented []string) string {
	for _, c := range presented {
		if _, ok := codes[c]; ok {
			return c
		}
	}
	return ""
}
