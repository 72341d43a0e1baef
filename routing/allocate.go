package routing

import (
	"cmp"
	"errors"
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
)

// ErrInsufficientStock is matched by *ShortfallError.
var ErrInsufficientStock = errors.New("routing: insufficient stock")

// ShortfallError lists what no combination of locations can supply.
type ShortfallError struct {
	Missing map[string]int64 // SKU → units short across all locations
}

// Error implements error.
func (e *ShortfallError) Error() string {
	skus := make([]string, 0, len(e.Missing))
	for s := range e.Missing {
		skus = append(skus, s)
	}
	slices.Sort(skus)
	parts := make([]string, len(skus))
	for i, s := range skus {
		parts[i] = s + " short " + strconv.FormatInt(e.Missing[s], 10)
	}
	return "routing: insufficient stock: " + strings.Join(parts, ", ")
}

// Is makes errors.Is(err, ErrInsufficientStock) true.
func (e *ShortfallError) Is(target error) bool { return target == ErrInsufficientStock }

// OrderLine is one line of an order.
type OrderLine struct {
	SKU      string
	Quantity int64
}

// Order is what to fulfil and where it goes. Destination is a location in
// the graph (a customer zone or delivery hub); lanes to it carry the
// last-mile cost.
type Order struct {
	Lines       []OrderLine
	Destination string
}

// Stock is units on hand: location ID → SKU → units.
type Stock map[string]map[string]int64

// Shipment is what one location ships.
type Shipment struct {
	From  string
	Lines []OrderLine
	Path  Path // cheapest path from the location to the destination
}

// Transfer moves units between locations before shipping.
type Transfer struct {
	From, To string
	SKU      string
	Quantity int64
	Path     Path
}

// Decision records which rule settled a choice, and why.
type Decision struct {
	Rule   string
	Detail string
}

// Plan is how to fulfil an order.
type Plan struct {
	Shipments []Shipment
	Transfers []Transfer
	Decisions []Decision
}

// Candidate is one way to fulfil an order from a set of locations, as the
// rules compare them.
type Candidate struct {
	Locations []string  // the shipping locations, best first
	Costs     []float64 // path cost from each to the destination
	InRegion  int       // how many are in the destination's region
	Priority  int       // sum of their priorities
	Cost      float64   // sum of their path costs
}

// Rule orders two candidates: negative if a is better, positive if b is,
// zero to leave the choice to the next rule.
type Rule struct {
	Name    string
	Compare func(a, b *Candidate) int
}

// DefaultRules are the rules Allocate applies, in order, each breaking the
// ties the ones before leave, as Shopify's order routing does: fewest
// shipments, most locations in the destination's region, lowest path cost,
// highest location priority.
func DefaultRules() []Rule {
	return []Rule{
		{"fewest shipments", func(a, b *Candidate) int { return cmp.Compare(len(a.Locations), len(b.Locations)) }},
		{"destination region", func(a, b *Candidate) int { return cmp.Compare(b.InRegion, a.InRegion) }},
		{"lowest path cost", func(a, b *Candidate) int { return cmp.Compare(a.Cost, b.Cost) }},
		{"location priority", func(a, b *Candidate) int { return cmp.Compare(b.Priority, a.Priority) }},
	}
}

// AllocateOptions configure Allocate. The zero value means the defaults.
type AllocateOptions struct {
	// Rules replace DefaultRules when set; append your own to
	// DefaultRules() to keep them.
	Rules []Rule
	// MaxShipments bounds the search: sets of up to this many locations
	// are compared exhaustively (default 3). Orders that need more are
	// planned greedily, best location first.
	MaxShipments int
	// Consolidate ships the whole order from one location, moving what it
	// lacks there from other locations along the cheapest transfer paths.
	Consolidate bool
}

// Allocate decides which locations ship which lines of order, using stock
// and the path costs in g, and explains each decision. Insufficient stock
// everywhere is a *ShortfallError.
func Allocate(g *Graph, order Order, stock Stock, opts AllocateOptions) (Plan, error) {
	a, err := newAllocation(g, order, stock, opts)
	if err != nil {
		return Plan{}, err
	}
	var plan Plan
	if opts.Consolidate {
		// Every site that can gather the whole order, with transfers along
		// existing paths, is a candidate to ship it all.
		for k, li := range a.graphIndex {
			if canGather(g, &a.w, li, a.graphIndex, a.need, stock) {
				a.consider(a.candidate([]int{k}))
			}
		}
		if a.best == nil {
			return Plan{}, &ShortfallError{Missing: a.need}
		}
	} else if !a.searchExhaustively(a.maxShipments()) {
		a.best = a.candidate(greedyCover(g, a.graphIndex, a.need, stock))
		plan.Decisions = append(plan.Decisions, Decision{Rule: "fewest shipments",
			Detail: fmt.Sprintf("no %d locations can ship everything; chose %d greedily, best-covering first", a.maxShipments(), len(a.best.Locations))})
	}
	plan.Decisions = append(plan.Decisions, a.explain(len(plan.Decisions) > 0)...)
	ranked := a.ranked()
	if opts.Consolidate {
		return consolidate(g, &a.w, plan, ranked[0], a.need, stock, a.graphIndex, int(a.dest))
	}
	plan.Shipments = a.ship(ranked, order.Destination)
	return plan, nil
}

// allocation is one Allocate call: the order, the candidate sites and the
// best candidates so far. Sites are numbered 0..n−1 in graph-index order;
// every slice below is indexed by site number, and graphIndex maps a site
// to its location in the graph.
type allocation struct {
	g      *Graph
	w      Workspace
	opts   AllocateOptions
	rules  []Rule
	dest   int32
	region string
	need   map[string]int64 // SKU → units still to place
	stock  Stock

	graphIndex []int          // site → graph index
	pathCost   []float64      // site → path cost to the destination
	siteOf     map[string]int // location ID → site

	// A dense site × SKU matrix, so the exhaustive search adds integers
	// instead of looking up maps.
	want []int64   // SKU number → units ordered
	have [][]int64 // site → SKU number → units on hand

	best, runnerUp *Candidate
}

// newAllocation validates the order and stock and finds the candidate
// sites: locations in the graph with some stock of the order and a path to
// the destination (or the destination itself).
func newAllocation(g *Graph, order Order, stock Stock, opts AllocateOptions) (*allocation, error) {
	dest, ok := g.index[order.Destination]
	if !ok {
		return nil, &InputError{Field: "Destination", Rule: "must be a location in the graph"}
	}
	need, err := mergeLines(order.Lines)
	if err != nil {
		return nil, err
	}
	a := &allocation{g: g, opts: opts, rules: opts.Rules, dest: dest, region: g.locations[dest].Region,
		need: need, stock: stock, siteOf: map[string]int{}}
	if a.rules == nil {
		a.rules = DefaultRules()
	}
	total, err := a.findSites()
	if err != nil {
		return nil, err
	}
	missing := map[string]int64{}
	for sku, q := range need {
		if total[sku] < q {
			missing[sku] = q - total[sku]
		}
	}
	if len(missing) > 0 {
		return nil, &ShortfallError{Missing: missing}
	}
	skus := sortedKeys(need)
	a.want = make([]int64, len(skus))
	for j, sku := range skus {
		a.want[j] = need[sku]
	}
	a.have = make([][]int64, len(a.graphIndex))
	for k, li := range a.graphIndex {
		a.have[k] = make([]int64, len(skus))
		for j, sku := range skus {
			a.have[k][j] = stock[g.ids[li]][sku]
		}
	}
	return a, nil
}

// findSites fills the site tables and returns the units of each ordered
// SKU across all sites.
func (a *allocation) findSites() (map[string]int64, error) {
	total := map[string]int64{}
	type site struct {
		idx  int
		cost float64
	}
	var sites []site
	for id, skus := range a.stock {
		i, ok := a.g.index[id]
		if !ok {
			return nil, &InputError{Field: "Stock", Rule: "must name locations in the graph (" + strconv.Quote(id) + " is not)"}
		}
		has := false
		for sku, n := range skus {
			if n < 0 {
				return nil, &InputError{Field: "Stock[" + id + "][" + sku + "]", Rule: "must be ≥ 0"}
			}
			if _, wanted := a.need[sku]; wanted && n > 0 {
				has = true
				total[sku] += n
			}
		}
		if !has {
			continue
		}
		cost, reachable := 0.0, true
		if i != a.dest {
			cost, reachable = a.g.ShortestPath(&a.w, int(i), int(a.dest))
		}
		if reachable {
			sites = append(sites, site{int(i), cost})
		}
	}
	slices.SortFunc(sites, func(x, y site) int { return cmp.Compare(x.idx, y.idx) })
	for k, s := range sites {
		a.graphIndex = append(a.graphIndex, s.idx)
		a.pathCost = append(a.pathCost, s.cost)
		a.siteOf[a.g.ids[s.idx]] = k
	}
	return total, nil
}

func (a *allocation) maxShipments() int {
	if a.opts.MaxShipments <= 0 {
		return 3
	}
	return a.opts.MaxShipments
}

// candidate describes shipping from a set of sites.
func (a *allocation) candidate(set []int) *Candidate {
	c := &Candidate{}
	for _, k := range set {
		loc := a.g.locations[a.graphIndex[k]]
		c.Locations = append(c.Locations, loc.ID)
		c.Costs = append(c.Costs, a.pathCost[k])
		c.Cost += a.pathCost[k]
		c.Priority += loc.Priority
		if a.region != "" && loc.Region == a.region {
			c.InRegion++
		}
	}
	return c
}

// covers reports whether a set of sites holds every ordered unit.
func (a *allocation) covers(set []int) bool {
	for j, q := range a.want {
		var sum int64
		for _, k := range set {
			sum += a.have[k][j]
		}
		if sum < q {
			return false
		}
	}
	return true
}

// compare orders two candidates by the rules and names the rule that
// decided, falling back to location IDs so the choice is deterministic.
func (a *allocation) compare(x, y *Candidate) (int, string) {
	for _, r := range a.rules {
		if c := r.Compare(x, y); c != 0 {
			return c, r.Name
		}
	}
	return slices.Compare(x.Locations, y.Locations), "location ID (a final, deterministic tie-break)"
}

// consider keeps c if it is the best or second best so far.
func (a *allocation) consider(c *Candidate) {
	switch {
	case a.best == nil:
		a.best = c
	case a.better(c, a.best):
		a.runnerUp, a.best = a.best, c
	case a.runnerUp == nil || a.better(c, a.runnerUp):
		a.runnerUp = c
	}
}

func (a *allocation) better(x, y *Candidate) bool {
	r, _ := a.compare(x, y)
	return r < 0
}

// searchExhaustively compares every set of up to limit sites, smallest sets
// first, and reports whether any covers the order.
func (a *allocation) searchExhaustively(limit int) bool {
	n := len(a.graphIndex)
	for size := 1; size <= min(limit, n) && a.best == nil; size++ {
		forEachCombination(n, size, func(set []int) {
			if a.covers(set) {
				a.consider(a.candidate(slices.Clone(set)))
			}
		})
	}
	return a.best != nil
}

// explain records why the best candidate won: the rule that put it ahead
// of the runner-up, or, without one, that nothing else could ship the
// order (unless an earlier decision already said how it was chosen).
func (a *allocation) explain(decided bool) []Decision {
	if a.runnerUp != nil {
		_, rule := a.compare(a.best, a.runnerUp)
		return []Decision{{Rule: rule,
			Detail: fmt.Sprintf("chose %s over %s", strings.Join(a.best.Locations, "+"), strings.Join(a.runnerUp.Locations, "+"))}}
	}
	if decided {
		return nil
	}
	return []Decision{{Rule: "fewest shipments",
		Detail: fmt.Sprintf("only %s can ship everything in %d shipment(s)", strings.Join(a.best.Locations, "+"), len(a.best.Locations))}}
}

// ranked orders the chosen locations by the rules, best first.
func (a *allocation) ranked() []string {
	out := slices.Clone(a.best.Locations)
	slices.SortStableFunc(out, func(x, y string) int {
		r, _ := a.compare(a.candidate([]int{a.siteOf[x]}), a.candidate([]int{a.siteOf[y]}))
		return r
	})
	return out
}

// ship fills each line from the ranked locations in order.
func (a *allocation) ship(ranked []string, destination string) []Shipment {
	var out []Shipment
	skus := sortedKeys(a.need)
	for _, id := range ranked {
		var lines []OrderLine
		for _, sku := range skus {
			take := min(a.need[sku], a.stock[id][sku])
			if take > 0 {
				lines = append(lines, OrderLine{SKU: sku, Quantity: take})
				a.need[sku] -= take
			}
		}
		if len(lines) > 0 {
			p, _ := a.g.pathBetween(&a.w, id, destination)
			out = append(out, Shipment{From: id, Lines: lines, Path: p})
		}
	}
	return out
}

// consolidate ships everything from one location, transferring what it
// lacks from the locations with the cheapest transfer paths.
func consolidate(g *Graph, w *Workspace, plan Plan, hub string, need map[string]int64, stock Stock, locs []int, dest int) (Plan, error) {
	var lines []OrderLine
	for _, sku := range sortedKeys(need) {
		q := need[sku]
		lines = append(lines, OrderLine{SKU: sku, Quantity: q})
		short := q - min(q, stock[hub][sku])
		if short == 0 {
			continue
		}
		// Sources by transfer cost to the hub, then priority, then ID.
		type src struct {
			id   string
			path Path
		}
		var srcs []src
		for _, li := range locs {
			id := g.ids[li]
			if id == hub || stock[id][sku] <= 0 {
				continue
			}
			if p, ok := g.pathBetween(w, id, hub); ok {
				srcs = append(srcs, src{id, p})
			}
		}
		slices.SortFunc(srcs, func(a, b src) int {
			if c := cmp.Compare(a.path.Cost, b.path.Cost); c != 0 {
				return c
			}
			ia, _ := g.index[a.id]
			ib, _ := g.index[b.id]
			if c := cmp.Compare(g.locations[ib].Priority, g.locations[ia].Priority); c != 0 {
				return c
			}
			return strings.Compare(a.id, b.id)
		})
		for _, s := range srcs {
			if short == 0 {
				break
			}
			n := min(short, stock[s.id][sku])
			plan.Transfers = append(plan.Transfers, Transfer{From: s.id, To: hub, SKU: sku, Quantity: n, Path: s.path})
			plan.Decisions = append(plan.Decisions, Decision{Rule: "cheapest transfer",
				Detail: fmt.Sprintf("%d × %s from %s to %s at path cost %g", n, sku, s.id, hub, s.path.Cost)})
			short -= n
		}
		if short > 0 {
			return Plan{}, &ShortfallError{Missing: map[string]int64{sku: short}}
		}
	}
	p, _ := g.pathBetween(w, hub, g.ids[dest])
	plan.Shipments = []Shipment{{From: hub, Lines: lines, Path: p}}
	return plan, nil
}

// pathBetween returns the cheapest path between two location IDs; a
// location to itself is a path of cost 0.
func (g *Graph) pathBetween(w *Workspace, from, to string) (Path, bool) {
	if from == to {
		return Path{Locations: []string{from}}, true
	}
	s, d := g.index[from], g.index[to]
	cost, ok := g.ShortestPath(w, int(s), int(d))
	if !ok {
		return Path{}, false
	}
	return Path{Locations: g.names(w.AppendPath(g, nil, int(d))), Cost: cost}, true
}

func mergeLines(lines []OrderLine) (map[string]int64, error) {
	if len(lines) == 0 {
		return nil, &InputError{Field: "Lines", Rule: "must not be empty"}
	}
	need := map[string]int64{}
	for i, l := range lines {
		if l.SKU == "" {
			return nil, &InputError{Field: "Lines[" + strconv.Itoa(i) + "].SKU", Rule: "must not be empty"}
		}
		if l.Quantity <= 0 || l.Quantity > math.MaxInt64-need[l.SKU] {
			return nil, &InputError{Field: "Lines[" + strconv.Itoa(i) + "].Quantity", Rule: "must be > 0 and not overflow"}
		}
		need[l.SKU] += l.Quantity
	}
	return need, nil
}

func sortedKeys(m map[string]int64) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

// canGather reports whether location hub, with transfers from every
// location that has a path to it, can hold the whole order.
func canGather(g *Graph, w *Workspace, hub int, locs []int, need map[string]int64, stock Stock) bool {
	have := map[string]int64{}
	for _, li := range locs {
		if li != hub {
			if _, ok := g.ShortestPath(w, li, hub); !ok {
				continue
			}
		}
		for sku := range need {
			have[sku] += stock[g.ids[li]][sku]
		}
	}
	for sku, q := range need {
		if have[sku] < q {
			return false
		}
	}
	return true
}

// greedyCover picks locations (positions in locs) one at a time, each the
// one that covers the most of what is still needed (ties: lower index),
// until everything is covered. The caller has checked the total suffices.
func greedyCover(g *Graph, locs []int, need map[string]int64, stock Stock) []int {
	left := map[string]int64{}
	for k, v := range need {
		left[k] = v
	}
	used := map[int]bool{}
	var set []int
	for len(left) > 0 {
		best, bestGain := -1, int64(0)
		for k, li := range locs {
			if used[k] {
				continue
			}
			var gain int64
			for sku, q := range left {
				gain += min(q, stock[g.ids[li]][sku])
			}
			if gain > bestGain {
				best, bestGain = k, gain
			}
		}
		if best < 0 {
			break
		}
		used[best] = true
		set = append(set, best)
		for sku, q := range left {
			if q -= min(q, stock[g.ids[locs[best]]][sku]); q == 0 {
				delete(left, sku)
			} else {
				left[sku] = q
			}
		}
	}
	slices.Sort(set)
	return set
}

// forEachCombination calls fn with every size-k subset of 0..n−1 in
// lexicographic order; fn must not keep the slice.
func forEachCombination(n, k int, fn func([]int)) {
	set := make([]int, k)
	var rec func(start, depth int)
	rec = func(start, depth int) {
		if depth == k {
			fn(set)
			return
		}
		for i := start; i <= n-(k-depth); i++ {
			set[depth] = i
			rec(i+1, depth+1)
		}
	}
	rec(0, 0)
}
