package pricing

import (
	"slices"
	"strconv"
)

// search finds the exclusive-group choice cheapest for the customer, then
// weighs each Exclusive promotion alone against it.
type search struct {
	rs     *RuleSet
	cart   Cart
	plan   []prepared
	base   *cartState
	groups map[string][]string // exclusive group → members that could apply
	order  []string            // the group names, sorted

	best   *evaluation
	choice map[string]string // the best choice: group → member, "" for none
	alone  string            // the Exclusive promotion that beat it, if any
	note   string            // how the choice was made, for Quote.Search
}

// combinations counts the choices over every group (each member or none),
// or returns MaxCombinations+1 when there are more.
func (sr *search) combinations() int {
	combos := 1
	for _, g := range sr.order {
		if combos > MaxCombinations/(len(sr.groups[g])+1) {
			return MaxCombinations + 1
		}
		combos *= len(sr.groups[g]) + 1
	}
	return combos
}

// exhaustive evaluates every combination of choices and keeps the best;
// ties go to the combination applying fewer promotions, then to earlier
// IDs. When the cart splits into independent parts it evaluates part by
// part (see parts).
func (sr *search) exhaustive() {
	// picks[g] numbers the choice of group order[g]: 0 for none, else 1 +
	// the member's index in groups[order[g]]; choice names it.
	picks := make([]int, len(sr.order))
	var bestPicks []int
	choice := make(map[string]string, len(sr.order))
	evaluate := func() *evaluation { return sr.rs.evaluate(sr.cart, sr.plan, sr.base, choice, "", false) }
	if ps := sr.rs.split(sr.cart, sr.plan, sr.base, sr.groups, sr.order); ps != nil && !sr.rs.wholeOnly {
		evaluate = func() *evaluation { return ps.evaluate(picks, choice) }
	}
	var visit func(int)
	visit = func(g int) {
		if g == len(sr.order) {
			if ev := evaluate(); sr.best == nil || ev.better(sr.best) {
				sr.best = ev.kept()
				bestPicks = append(bestPicks[:0], picks...)
			}
			return
		}
		for pick := 0; pick <= len(sr.groups[sr.order[g]]); pick++ {
			picks[g], choice[sr.order[g]] = pick, sr.member(g, pick)
			visit(g + 1)
		}
	}
	visit(0)
	sr.choice = make(map[string]string, len(sr.order))
	for g, pick := range bestPicks {
		sr.choice[sr.order[g]] = sr.member(g, pick)
	}
}

// member names pick of group order[g]: "" for none.
func (sr *search) member(g, pick int) string {
	if pick == 0 {
		return ""
	}
	return sr.groups[sr.order[g]][pick-1]
}

// greedy chooses each group in turn, keeping the others' choices so far.
func (sr *search) greedy() {
	choice := make(map[string]string, len(sr.order))
	for _, g := range sr.order {
		var pick string
		var bestHere *evaluation
		for _, id := range append([]string{""}, sr.groups[g]...) {
			choice[g] = id
			ev := sr.rs.evaluate(sr.cart, sr.plan, sr.base, choice, "", false)
			if bestHere == nil || ev.better(bestHere) {
				bestHere, pick = ev, id
			}
		}
		choice[g] = pick
	}
	sr.choice = choice
	sr.best = sr.rs.evaluate(sr.cart, sr.plan, sr.base, choice, "", false)
}

// weighExclusives weighs each Exclusive promotion, applying alone,
// against the best combination of the others.
func (sr *search) weighExclusives() {
	n := 0
	for i := range sr.plan {
		if p := sr.plan[i].p; p.Exclusive && sr.plan[i].ineligible == "" && len(sr.plan[i].lines) > 0 {
			n++
			if ev := sr.rs.evaluate(sr.cart, sr.plan, sr.base, sr.choice, p.ID, false); ev.better(sr.best) {
				sr.best, sr.alone = ev, p.ID
			}
		}
	}
	if n > 0 {
		sr.note += "; " + strconv.Itoa(n) + " exclusive promotion(s) weighed alone"
	}
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
		if kinds[pp.p.Kind].shipping {
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
			part = ps.rs.evaluatePart(ps.cart, ps.plan, idx, ps.base, ps.scratch, choice)
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
	gifts   []GiftLine // written only when explaining
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
