package pricing

import (
	"cmp"
	"fmt"
	"math"
	"math/bits"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

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
}

// MaxCombinations bounds the exhaustive search over exclusive groups;
// beyond it each group is chosen greedily in priority order.
const MaxCombinations = 4096

// cartState is a cart in minor units during one evaluation.
type cartState struct {
	unit   []int64 // unit price after member prices
	qty    []int64
	amount []int64 // current line amount (after discounts so far)
	// shipping is the shipping charge left; baseShipping what it was.
	shipping, baseShipping int64
	// applied logs every share of a discount, in the order given; one
	// flat log keeps cloning the state for each combination cheap.
	applied []share
	record  bool // whether to log shares: only the winning evaluation does
	// scratch space for apportion, sized to the cart once and shared by
	// every clone: the evaluations of one quote run one after another.
	shares []int64
	rems   []uint64
	order  []int
	units  []unitGroup
}

// unitGroup is a line's units at one unit price, for BuyXGetY.
type unitGroup struct{ price, n int64 }

// share is one promotion's part of one line's discount, in minor units.
type share struct {
	line, plan int32 // the line, and the promotion's plan index
	amount     int64
}

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
	combos := 1
	for _, g := range order {
		if combos > MaxCombinations/(len(groups[g])+1) {
			combos = MaxCombinations + 1
			break
		}
		combos *= len(groups[g]) + 1
	}
	var best *evaluation
	var bestChoice map[string]string
	search := ""
	if combos <= MaxCombinations {
		search = "exhaustive over " + strconv.Itoa(combos) + " combination(s) of exclusive groups"
		// picks[g] numbers the choice of group order[g]: 0 for none, else
		// 1 + the member's index in groups[order[g]]; choice names it.
		picks := make([]int, len(order))
		var bestPicks []int
		choice := make(map[string]string, len(order))
		evaluate := func() *evaluation { return rs.evaluate(cart, plan, base, choice, "", false) }
		if ps := rs.split(cart, plan, base, groups, order); ps != nil && splitParts {
			evaluate = func() *evaluation { return ps.evaluate(picks, choice) }
		}
		var rec func(int)
		rec = func(g int) {
			if g == len(order) {
				if ev := evaluate(); best == nil || ev.better(best) {
					best = ev.kept()
					bestPicks = append(bestPicks[:0], picks...)
				}
				return
			}
			for pick := 0; pick <= len(groups[order[g]]); pick++ {
				picks[g], choice[order[g]] = pick, ""
				if pick > 0 {
					choice[order[g]] = groups[order[g]][pick-1]
				}
				rec(g + 1)
			}
		}
		rec(0)
		bestChoice = make(map[string]string, len(order))
		for g, pick := range bestPicks {
			bestChoice[order[g]] = ""
			if pick > 0 {
				bestChoice[order[g]] = groups[order[g]][pick-1]
			}
		}
	} else {
		search = "greedy per exclusive group: " + strconv.Itoa(MaxCombinations) + "+ combinations exceed the bound"
		choice := make(map[string]string, len(order))
		for _, g := range order {
			var pick string
			var bestHere *evaluation
			for _, id := range append([]string{""}, groups[g]...) {
				choice[g] = id
				ev := rs.evaluate(cart, plan, base, choice, "", false)
				if bestHere == nil || ev.better(bestHere) {
					bestHere, pick = ev, id
				}
			}
			choice[g] = pick
		}
		bestChoice = choice
		best = rs.evaluate(cart, plan, base, bestChoice, "", false)
	}
	// An Exclusive promotion applies alone: each is weighed against the
	// best combination of the others.
	bestAlone, alone := "", 0
	for i := range plan {
		if p := plan[i].p; p.Exclusive && plan[i].ineligible == "" && len(plan[i].lines) > 0 {
			alone++
			if ev := rs.evaluate(cart, plan, base, bestChoice, p.ID, false); ev.better(best) {
				best, bestAlone = ev, p.ID
			}
		}
	}
	if alone > 0 {
		search += "; " + strconv.Itoa(alone) + " exclusive promotion(s) weighed alone"
	}
	// Evaluate the winner once more, this time writing the explanations.
	best = rs.evaluate(cart, plan, base, bestChoice, bestAlone, true)
	q := best.quote(cart, plan)
	q.Search = search
	return q, nil
}

// parts evaluates combinations of group choices part by part. When the
// promotions that can apply fall into parts of the cart that no promotion
// spans (each part a set of lines, shipping being one more), a part's
// outcome depends only on the choices of the group members inside it, so
// each part is evaluated once per distinct choice of its own members and
// a combination's outcome is the sum of its parts' — the same numbers as
// evaluating the whole rule set, for a fraction of the work when groups
// target different categories. A promotion that stops further ones
// couples every part, and then the search evaluates whole combinations.
// splitParts switches the part-by-part search on; tests switch it off to
// check it against whole evaluations.
var splitParts = true

type parts struct {
	rs   *RuleSet
	cart Cart
	plan []prepared
	base *cartState
	idx  [][]int      // per part: its plan indexes, in plan order
	rel  [][]relGroup // per part: the groups with members inside it
	// memo[k][key] is part k's outcome for the choice numbered key.
	memo [][]*evaluation
	// scratch is the state parts are evaluated in (each outcome keeps
	// only numbers), and sum the evaluation the search compares: it is
	// reused, and copied only when kept.
	scratch *cartState
	sum     evaluation
}

// relGroup is a group with members in a part.
type relGroup struct {
	group int // its position in the search's group order
	// local maps the group's pick (0 none, 1+member index) to the
	// member's number among those in the part (1..radix-1), 0 when the
	// pick is none or a member outside the part.
	local []int
	radix int
}

// split returns the parts of the plan, or nil when there is no gain or
// the parts are not independent. groups and order are groupsOf(plan).
func (rs *RuleSet) split(cart Cart, plan []prepared, base *cartState, groups map[string][]string, order []string) *parts {
	n := len(cart.Lines)
	parent := make([]int, n+1) // lines, then shipping
	for i := range parent {
		parent[i] = i
	}
	find := func(x int) int {
		for parent[x] != x {
			parent[x] = parent[parent[x]]
			x = parent[x]
		}
		return x
	}
	live := make([]int, 0, len(plan))
	for i := range plan {
		pp := &plan[i]
		if pp.ineligible != "" || len(pp.lines) == 0 || pp.p.Exclusive {
			continue // never applies in the search
		}
		if pp.p.Stop {
			return nil
		}
		live = append(live, i)
		root := find(pp.lines[0])
		if pp.p.Kind == ShippingOff {
			parent[find(n)] = root
		}
		for _, j := range pp.lines[1:] {
			parent[find(j)] = root
		}
	}
	partOf := make([]int, n+1) // root → 1 + part number
	ps := &parts{rs: rs, cart: cart, plan: plan, base: base}
	for _, i := range live {
		r := find(plan[i].lines[0])
		if partOf[r] == 0 {
			partOf[r] = len(ps.idx) + 1
			ps.idx = append(ps.idx, nil)
			ps.rel = append(ps.rel, nil)
		}
		k := partOf[r] - 1
		ps.idx[k] = append(ps.idx[k], i)
		if name := plan[i].p.Group; name != "" {
			g, _ := slices.BinarySearch(order, name)
			at := slices.IndexFunc(ps.rel[k], func(r relGroup) bool { return r.group == g })
			if at < 0 {
				at = len(ps.rel[k])
				ps.rel[k] = append(ps.rel[k], relGroup{group: g, local: make([]int, len(groups[name])+1), radix: 1})
			}
			rg := &ps.rel[k][at]
			rg.local[1+slices.Index(groups[name], plan[i].p.ID)] = rg.radix
			rg.radix++
		}
	}
	if len(ps.idx) < 2 {
		return nil
	}
	ps.memo = make([][]*evaluation, len(ps.idx))
	for k, rel := range ps.rel {
		size := 1
		for _, rg := range rel {
			size *= rg.radix
		}
		ps.memo[k] = make([]*evaluation, size)
	}
	ps.scratch = base.clone()
	ps.sum = evaluation{parts: make([]*evaluation, len(ps.idx)), plan: plan}
	return ps
}

// evaluate returns the outcome of the choice picks (choice names it): the
// sum of its parts'. Its state is not filled in (the search compares
// outcomes; the winner is evaluated whole), its applied IDs are put
// together only when a tie needs them, and it is ps.sum, overwritten by
// the next call: keep it with kept.
func (ps *parts) evaluate(picks []int, choice map[string]string) *evaluation {
	ev := &ps.sum
	ev.discount, ev.appliedCount, ev.ids = 0, 0, nil
	for k, idx := range ps.idx {
		// The key numbers the part's own chosen members, group by group.
		key := 0
		for _, rg := range ps.rel[k] {
			key = key*rg.radix + rg.local[picks[rg.group]]
		}
		part := ps.memo[k][key]
		if part == nil {
			part = ps.rs.evaluateOnly(ps.cart, ps.plan, idx, ps.base, ps.scratch, choice, "", false)
			part.state = nil
			ps.memo[k][key] = part
		}
		ev.discount += part.discount
		ev.appliedCount += part.appliedCount
		ev.parts[k] = part
	}
	return ev
}

// kept returns ev, or a copy of it when it is a part search's reused sum.
func (ev *evaluation) kept() *evaluation {
	if ev.parts == nil {
		return ev
	}
	cp := *ev
	cp.parts = slices.Clone(ev.parts)
	return &cp
}

// groupsOf returns exclusive groups → the member IDs that could apply to
// this cart (priority order), and the group names sorted. A member that
// cannot apply (coupon not presented, outside its window, no line
// targeted) is left out: choosing it would equal choosing none.
func groupsOf(plan []prepared) (map[string][]string, []string) {
	g := map[string][]string{}
	for i := range plan {
		pp := &plan[i]
		if pp.p.Group != "" && pp.ineligible == "" && len(pp.lines) > 0 {
			g[pp.p.Group] = append(g[pp.p.Group], pp.p.ID)
		}
	}
	var names []string
	for n := range g {
		names = append(names, n)
	}
	slices.Sort(names)
	return g, names
}

func newState(cart Cart) (*cartState, error) {
	if cart.Scale < 0 || cart.Scale > maxScale {
		return nil, &InputError{Field: "Scale", Rule: "must be in 0..6"}
	}
	if len(cart.Lines) == 0 {
		return nil, &InputError{Field: "Lines", Rule: "must not be empty"}
	}
	n := len(cart.Lines)
	s := &cartState{unit: make([]int64, 0, n), qty: make([]int64, 0, n), amount: make([]int64, 0, n)}
	ship, err := minor(cart.Shipping, cart.Scale)
	if err != nil {
		return nil, &InputError{Field: "Shipping", Rule: err.Error()}
	}
	s.shipping, s.baseShipping = ship, ship
	var sum int64
	for i, l := range cart.Lines {
		field := func(name string) string { return "Lines[" + strconv.Itoa(i) + "]" + name }
		if l.SKU == "" {
			return nil, &InputError{Field: field(".SKU"), Rule: "must not be empty"}
		}
		if l.Quantity <= 0 || l.Quantity > 1e9 {
			return nil, &InputError{Field: field(".Quantity"), Rule: "must be in 1..10^9"}
		}
		u, err := minor(l.UnitPrice, cart.Scale)
		if err != nil {
			return nil, &InputError{Field: field(".UnitPrice"), Rule: err.Error()}
		}
		if u > math.MaxInt64/l.Quantity/4 {
			return nil, &InputError{Field: field(""), Rule: "subtotal must fit in int64 minor units"}
		}
		s.unit = append(s.unit, u)
		s.qty = append(s.qty, l.Quantity)
		s.amount = append(s.amount, u*l.Quantity)
		if sum += u * l.Quantity; sum > math.MaxInt64/4 {
			return nil, &InputError{Field: "Lines", Rule: "cart subtotal must fit in int64 minor units"}
		}
	}
	s.shares, s.rems, s.order, s.units = make([]int64, n), make([]uint64, n), make([]int, n), make([]unitGroup, 0, n)
	return s, nil
}

func minor(v decimal.Decimal, scale int32) (int64, error) {
	m := v.Shift(scale)
	if !m.IsInteger() || m.IsNegative() || m.GreaterThan(decimal.NewFromInt(math.MaxInt64/4)) {
		return 0, fmt.Errorf("must be a non-negative amount with at most %d decimals", scale)
	}
	return m.IntPart(), nil
}

func (s *cartState) clone() *cartState {
	// unit and qty never change during an evaluation: they are shared.
	return &cartState{unit: s.unit, qty: s.qty, amount: slices.Clone(s.amount), applied: slices.Clone(s.applied),
		shipping: s.shipping, baseShipping: s.baseShipping,
		shares: s.shares, rems: s.rems, order: s.order, units: s.units}
}

// resetTo makes s the state base is, reusing s's storage.
func (s *cartState) resetTo(base *cartState) {
	s.amount = append(s.amount[:0], base.amount...)
	s.applied = append(s.applied[:0], base.applied...)
	s.shipping, s.baseShipping = base.shipping, base.baseShipping
}

// evaluation is one way the rule set applied to the cart.
type evaluation struct {
	state        *cartState
	discount     int64
	appliedCount int
	ids          []string // applied promotion IDs, in order
	at           []int    // their plan indexes, kept for parts only
	// parts, when set, are the outcomes this one sums (see parts), from
	// which ids is put together when first needed.
	parts   []*evaluation
	plan    []prepared
	explain []Explanation
}

func (a *evaluation) better(b *evaluation) bool {
	if a.discount != b.discount {
		return a.discount > b.discount
	}
	if a.appliedCount != b.appliedCount {
		return a.appliedCount < b.appliedCount
	}
	return slices.Compare(a.appliedIDs(), b.appliedIDs()) < 0
}

// appliedIDs returns the applied IDs in plan order, merging the parts'
// when the evaluation is a sum of parts.
func (a *evaluation) appliedIDs() []string {
	if a.parts == nil || a.ids != nil {
		return a.ids
	}
	var at []int
	for _, p := range a.parts {
		at = append(at, p.at...)
	}
	slices.Sort(at)
	a.ids = make([]string, len(at))
	for i, x := range at {
		a.ids[i] = a.plan[x].p.ID
	}
	return a.ids
}

// prepared is a promotion with its amounts in the cart's minor units and
// its targeted lines found, once per quote rather than per combination.
type prepared struct {
	p *Promotion
	*scaledPromo
	texts  *promoTexts
	lines  []int
	member map[int]int64 // line → member unit price
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
		x, err := minor(v.RoundFloor(sc), sc)
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
		pp := prepared{p: p, scaledPromo: sp, texts: &rs.texts[i]}
		switch {
		case p.Coupon != "" && !slices.Contains(cart.Coupons, p.Coupon):
			pp.ineligible = "not eligible: coupon " + p.Coupon + " not presented"
		case !p.Starts.IsZero() && at.Before(p.Starts):
			pp.ineligible = "not eligible: starts " + p.Starts.UTC().Format(time.RFC3339)
		case !p.Ends.IsZero() && !at.Before(p.Ends):
			pp.ineligible = "not eligible: ended " + p.Ends.UTC().Format(time.RFC3339)
		}
		if count[i] < count[i+1] {
			pp.lines = slab[count[i]:count[i+1]:count[i+1]]
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
// alone, when set, the only promotion that may apply. Reasons
// are written only when explain is set: the search compares numbers.
func (rs *RuleSet) evaluate(cart Cart, plan []prepared, base *cartState, choice map[string]string, alone string, explain bool) *evaluation {
	return rs.evaluateOnly(cart, plan, nil, base, nil, choice, alone, explain)
}

// evaluateOnly is evaluate over the plan entries at the indexes in only
// (in plan order), or over the whole plan when only is nil. It works on a
// clone of base, or when scratch is given, on scratch reset to base.
// Parts (only set) record the plan positions of what they apply rather
// than IDs.
func (rs *RuleSet) evaluateOnly(cart Cart, plan []prepared, only []int, base, scratch *cartState, choice map[string]string, alone string, explain bool) *evaluation {
	n := len(plan)
	if only != nil {
		n = len(only)
	}
	ev := &evaluation{}
	if scratch != nil {
		scratch.resetTo(base)
		ev.state = scratch
	} else {
		ev.state = base.clone()
	}
	if only == nil {
		ev.ids = make([]string, 0, n)
	} else {
		ev.at = make([]int, 0, n)
	}
	s := ev.state
	s.record = explain
	if explain {
		ev.explain = make([]Explanation, 0, n)
		// At most one share per line a promotion that may apply targets
		// (counted over the whole plan: only the whole rule set explains).
		shares := 0
		for i := range plan {
			if pp := &plan[i]; pp.ineligible == "" && (pp.p.Group == "" || choice[pp.p.Group] == pp.p.ID) {
				shares += len(pp.lines)
			}
		}
		s.applied = make([]share, 0, shares)
	}
	stoppedBy := ""
	for k := 0; k < n; k++ {
		i := k
		if only != nil {
			i = only[k]
		}
		pp := &plan[i]
		p := pp.p
		skip := func(reason func() string) {
			if explain {
				ev.explain = append(ev.explain, Explanation{Promotion: p.ID, Reason: reason()})
			}
		}
		if pp.ineligible != "" {
			skip(func() string { return pp.ineligible })
			continue
		}
		if len(pp.lines) == 0 {
			skip(func() string { return "not eligible: no line matches its target" })
			continue
		}
		if stoppedBy != "" {
			skip(func() string { return "not applied: " + stoppedBy + " stops further promotions" })
			continue
		}
		if alone != "" && p.ID != alone {
			skip(func() string { return "not applied: exclusive " + alone + " applies alone and saves more" })
			continue
		}
		if alone == "" && p.Exclusive {
			skip(func() string {
				return "not applied: it applies only alone, and the others together save at least as much"
			})
			continue
		}
		if p.Group != "" && choice[p.Group] != p.ID {
			skip(func() string {
				if c := choice[p.Group]; c != "" {
					return "excluded by group " + p.Group + ": " + c + " applies instead"
				}
				return "excluded by group " + p.Group + ": the customer is better off without any of it"
			})
			continue
		}
		if pp.minSpend > 0 {
			if t := pp.total(s); t < pp.minSpend {
				skip(func() string {
					return "below minimum spend: " + formatMinor(t, cart.Scale) + " of " + p.MinSpend.String()
				})
				continue
			}
		}
		var off int64
		if p.Kind == MemberPrice {
			// A member price belongs to its own lines, not spread.
			off = pp.memberPrices(cart, s, i)
		} else if p.Kind == ShippingOff {
			off = s.shipping
			if pp.amount > 0 {
				off = min(pp.amount, s.shipping)
			}
			s.shipping -= off
		} else {
			total := pp.total(s)
			if off = pp.discount(s, total); off > 0 {
				off = s.apportion(i, pp.lines, off, total)
			}
		}
		if off <= 0 {
			skip(func() string { return pp.reason(cart, s, 0) })
			continue
		}
		ev.discount += off
		ev.appliedCount++
		if only != nil { // a part: its sums need the plan positions
			ev.at = append(ev.at, i)
		} else {
			ev.ids = append(ev.ids, p.ID)
		}
		if explain {
			ev.explain = append(ev.explain, Explanation{Promotion: p.ID, Applied: true,
				Amount: amount(off, cart.Scale), Reason: pp.reason(cart, s, off)})
		}
		if p.Stop {
			stoppedBy = p.ID
		}
	}
	return ev
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

// discount returns what the promotion takes off its lines now, whose
// amounts come to total, in minor units; 0 if it does not apply.
func (pp *prepared) discount(s *cartState, total int64) int64 {
	p := pp.p
	switch p.Kind {
	case PercentOff:
		return mulDivFloor(total, pp.pctE6, 1_000_000)
	case FixedOff:
		if p.PerUnit {
			var units int64
			for _, j := range pp.lines {
				units += s.qty[j]
			}
			return min(satMul(pp.amount, units), total)
		}
		return min(pp.amount, total)
	case Threshold:
		if total < pp.threshold {
			return 0
		}
		got := pp.off
		if p.Repeat {
			got = satMul(total/pp.threshold, pp.off)
			if pp.cap > 0 {
				got = min(got, pp.cap)
			}
		}
		return min(got, total)
	case Tiered:
		var off int64
		for _, t := range pp.tiers {
			if total >= t[0] {
				off = t[1]
			}
		}
		return min(off, total)
	case BuyXGetY:
		value, _ := pp.freeUnits(s)
		return mulDivFloor(value, pp.dpctE6, 1_000_000)
	case BundlePrice:
		bundles := pp.units(s) / p.Buy
		value := pp.unitsValue(s, bundles*p.Buy, true)
		return max(0, value-satMul(bundles, pp.amount))
	}
	return 0
}

// freeUnits returns the value of the units BuyXGetY discounts and how many.
func (pp *prepared) freeUnits(s *cartState) (value, free int64) {
	p := pp.p
	free = pp.units(s) / (p.Buy + p.Get) * p.Get
	return pp.unitsValue(s, free, p.MostExpensive), free
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

// promoTexts are a promotion's amounts as its explanations print them.
type promoTexts struct {
	percent, amount, threshold, off, cap, discountPercent string
	tierThresholds, tierOffs                              []string
	buy, get, buyGet                                      string
}

func textsOf(p *Promotion) promoTexts {
	t := promoTexts{percent: p.Percent.String(), amount: p.Amount.String(), threshold: p.Threshold.String(),
		off: p.Off.String(), cap: p.Cap.String(), discountPercent: p.DiscountPercent.String(),
		buy: strconv.FormatInt(p.Buy, 10), get: strconv.FormatInt(p.Get, 10), buyGet: strconv.FormatInt(p.Buy+p.Get, 10)}
	if p.DiscountPercent.IsZero() {
		t.discountPercent = "100"
	}
	for _, tier := range p.Tiers {
		t.tierThresholds = append(t.tierThresholds, tier.Threshold.String())
		t.tierOffs = append(t.tierOffs, tier.Off.String())
	}
	return t
}

// formatMinor writes v minor units at scale sc as a decimal with exactly
// sc decimals, as decimal.New(v, -sc).StringFixed(sc) does, without its
// allocations.
func formatMinor(v int64, sc int32) string {
	u := uint64(v)
	if v < 0 {
		u = -u
	}
	var d [24]byte // 20 digits, a point and a sign
	i := len(d)
	for n := int32(0); ; n++ {
		if n == sc && sc > 0 {
			i--
			d[i] = '.'
		}
		i--
		d[i] = byte('0' + u%10)
		if u /= 10; u == 0 && n >= sc {
			break
		}
	}
	if v < 0 {
		i--
		d[i] = '-'
	}
	return string(d[i:])
}

// reason explains the outcome: off > 0 after applying, 0 when skipped.
// Explanations are built by concatenation of texts formatted when the
// rule set was built: fmt.Sprintf here cost a tenth of a quote.
func (pp *prepared) reason(cart Cart, s *cartState, off int64) string {
	p, t := pp.p, pp.texts
	sc := cart.Scale
	total := pp.total(s) + off // the amount before this promotion took its share
	switch p.Kind {
	case PercentOff:
		return t.percent + "% off " + formatMinor(total, sc)
	case FixedOff:
		if p.PerUnit {
			return t.amount + " off each unit"
		}
		return t.amount + " off"
	case Threshold:
		if off == 0 {
			return "below threshold: " + formatMinor(total, sc) + " of " + t.threshold
		}
		if !p.Repeat {
			return t.off + " off for reaching " + t.threshold
		}
		why := t.off + " off for each full " + t.threshold + ": " + strconv.FormatInt(total/pp.threshold, 10) + " time(s)"
		if pp.cap > 0 && total/pp.threshold*pp.off > pp.cap {
			why += ", capped at " + t.cap
		}
		return why
	case Tiered:
		if off == 0 {
			return "below the first tier: " + formatMinor(total, sc) + " of " + t.tierThresholds[0]
		}
		reached := 0
		for i, tier := range pp.tiers {
			if total >= tier[0] {
				reached = i
			}
		}
		return t.tierOffs[reached] + " off: " + formatMinor(total, sc) + " reaches the tier at " + t.tierThresholds[reached]
	case BuyXGetY:
		if off == 0 {
			return "not eligible: fewer than " + t.buyGet + " units"
		}
		return "buy " + t.buy + " get " + t.get + " at " + t.discountPercent + "% off"
	case BundlePrice:
		if bundles := pp.units(s) / p.Buy; bundles == 0 {
			return "not eligible: fewer than " + t.buy + " units"
		} else if off == 0 {
			return "not applied: the bundle price is not lower than the units' price"
		} else {
			return strconv.FormatInt(bundles, 10) + " bundle(s) of " + t.buy + " for " + t.amount
		}
	case ShippingOff:
		if off == 0 {
			return "not applied: no shipping charge left"
		}
		if pp.amount == 0 {
			return "free shipping"
		}
		return formatMinor(off, sc) + " off shipping"
	case MemberPrice:
		if off == 0 {
			if cart.Customer.Tier != p.MemberTier {
				return "not eligible: member price for tier " + p.MemberTier
			}
			return "not eligible: no line is dearer than its member price"
		}
		return "member prices for tier " + p.MemberTier
	}
	return ""
}

// apportion spreads off over lines, whose current amounts come to total,
// in proportion to their amounts (largest remainder, ties to the earlier
// line), never taking a line below zero, and returns what was taken.
func (s *cartState) apportion(at int, lines []int, off, total int64) int64 {
	off = min(off, total)
	if off <= 0 {
		return 0
	}
	// Largest remainder: each line gets ⌊off·amount/total⌋, and the
	// minor units left over go to the largest remainders, ties to the
	// earlier line. off ≤ total keeps the 128-bit quotient in 64 bits.
	n := len(lines)
	shares, rems, order := s.shares[:n], s.rems[:n], s.order[:n]
	var given int64
	d := uint64(total)
	inv := 1 / float64(d)
	for k, j := range lines {
		hi, lo := bits.Mul64(uint64(off), uint64(s.amount[j]))
		var q, r uint64
		if hi == 0 && lo < 1<<52 {
			// The usual size: a float reciprocal and one correction
			// instead of a 128-bit division, several times slower.
			q = uint64(float64(lo) * inv)
			if q*d > lo {
				q--
			} else if lo-q*d >= d {
				q++
			}
			r = lo - q*d
		} else {
			q, r = bits.Div64(hi, lo, d)
		}
		shares[k], rems[k], order[k] = int64(q), r, k
		given += shares[k]
	}
	switch left := int(off - given); {
	case left == 0:
	case left <= 4:
		// Few units left (the common case): pick the largest remainders
		// one by one, the earlier line on a tie, rather than sort.
		for ; left > 0; left-- {
			best := -1
			for k := range rems {
				if best < 0 || rems[k] > rems[best] {
					best = k
				}
			}
			shares[best]++
			rems[best] = 0 // r < total, so a taken line never wins again over a positive one
		}
	default:
		// A stable sort keeps ties with the earlier line.
		slices.SortStableFunc(order, func(a, b int) int { return cmp.Compare(rems[b], rems[a]) })
		for _, k := range order[:left] {
			shares[k]++
		}
	}
	for k, j := range lines {
		if shares[k] == 0 {
			continue
		}
		s.amount[j] -= shares[k]
		if s.record {
			s.applied = append(s.applied, share{line: int32(j), plan: int32(at), amount: shares[k]})
		}
	}
	return off
}

func (ev *evaluation) quote(cart Cart, plan []prepared) Quote {
	sc := cart.Scale
	s := ev.state
	q := Quote{Promotions: ev.explain, Lines: make([]QuotedLine, len(cart.Lines))}
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
	return q
}

// String renders the quote as an explained receipt.
func (q Quote) String() string {
	var b strings.Builder
	for _, l := range q.Lines {
		fmt.Fprintf(&b, "%-10s ×%-3d %10s  −%-8s = %s\n", l.SKU, l.Quantity, l.Subtotal.StringFixed(2), l.Discount.StringFixed(2), l.Total.StringFixed(2))
	}
	for _, e := range q.Promotions {
		if e.Applied {
			fmt.Fprintf(&b, "  ✓ %s: −%s (%s)\n", e.Promotion, e.Amount.StringFixed(2), e.Reason)
		} else {
			fmt.Fprintf(&b, "  ✗ %s: %s\n", e.Promotion, e.Reason)
		}
	}
	if !q.Shipping.IsZero() || !q.ShippingDiscount.IsZero() {
		fmt.Fprintf(&b, "shipping %s (−%s)\n", q.Shipping.StringFixed(2), q.ShippingDiscount.StringFixed(2))
	}
	fmt.Fprintf(&b, "subtotal %s, discount %s, total %s\n", q.Subtotal.StringFixed(2), q.Discount.StringFixed(2), q.Total.StringFixed(2))
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
