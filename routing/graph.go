package routing

import (
	"errors"
	"math"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
)

// Errors callers branch on.
var (
	// ErrInvalidInput is matched by every *InputError.
	ErrInvalidInput = errors.New("routing: invalid input")
	// ErrNoPath means the target cannot be reached from the source.
	ErrNoPath = errors.New("routing: no path")
	// ErrUnknownLocation means a query named a location not in the graph.
	ErrUnknownLocation = errors.New("routing: unknown location")
)

// InputError reports a graph definition or change that breaks a rule.
type InputError struct {
	Field string
	Rule  string
}

// Error implements error.
func (e *InputError) Error() string { return "routing: " + e.Field + " " + e.Rule }

// Is makes errors.Is(err, ErrInvalidInput) true.
func (e *InputError) Is(target error) bool { return target == ErrInvalidInput }

// Location is a warehouse, store or hub.
type Location struct {
	ID       string
	Region   string
	Priority int // higher is preferred when other rules tie
}

// Lane is a directed transport link between two locations.
type Lane struct {
	From, To string
	Cost     float64 // money per shipment, in any unit
	Hours    float64 // transit time
}

// WeightFunc turns a lane into the weight shortest paths minimise. It must
// return a finite number ≥ 0, or +Inf to leave the lane out.
type WeightFunc func(Lane) float64

// ByCost weighs lanes by cost alone.
func ByCost(l Lane) float64 { return l.Cost }

// Blend weighs lanes by cost plus valuePerHour for each hour in transit.
func Blend(valuePerHour float64) WeightFunc {
	return func(l Lane) float64 { return l.Cost + valuePerHour*l.Hours }
}

// Graph is a compiled, immutable routing graph: locations indexed 0..n−1 in
// ID order, lanes in compressed sparse row form. It is safe for concurrent
// queries; changes (With) make a new Graph sharing the structure.
type Graph struct {
	ids       []string
	index     map[string]int32
	locations []Location
	offsets   []int32 // lanes out of node i: offsets[i]..offsets[i+1]
	targets   []int32
	sources   []int32
	weights   []float64 // derived from the three below; +Inf: closed
	lanes     []Lane    // as given, for explanations and reweighting
	weight    WeightFunc
	version   int64
	// Live state, kept apart so that no change undoes another's: a lane's
	// weight is its base weight × its factor, or +Inf while the lane is
	// closed or either of its locations is offline.
	factors []float64 // per lane; 1 unless SetFactor
	closed  []bool    // per lane
	offline []bool    // per location
}

// Build validates locations and lanes and compiles them. weight defaults to
// ByCost. Lanes must join known locations, be unique per (from, to) and
// weigh a finite number ≥ 0 (or +Inf for a closed lane).
func Build(locations []Location, lanes []Lane, weight WeightFunc) (*Graph, error) {
	if weight == nil {
		weight = ByCost
	}
	g := &Graph{index: make(map[string]int32, len(locations)), weight: weight, version: 1}
	locs := slices.Clone(locations)
	slices.SortFunc(locs, func(a, b Location) int {
		if a.ID < b.ID {
			return -1
		}
		if a.ID > b.ID {
			return 1
		}
		return 0
	})
	for i, l := range locs {
		if l.ID == "" {
			return nil, &InputError{Field: "Locations[" + strconv.Itoa(i) + "].ID", Rule: "must not be empty"}
		}
		if _, dup := g.index[l.ID]; dup {
			return nil, &InputError{Field: "Locations", Rule: "must not repeat ID " + strconv.Quote(l.ID)}
		}
		g.index[l.ID] = int32(len(g.ids))
		g.ids = append(g.ids, l.ID)
	}
	g.locations = locs
	type edge struct {
		from, to int32
		lane     int
	}
	edges := make([]edge, 0, len(lanes))
	seen := make(map[[2]int32]bool, len(lanes))
	for i, l := range lanes {
		f, ok1 := g.index[l.From]
		t, ok2 := g.index[l.To]
		field := "Lanes[" + strconv.Itoa(i) + "]"
		switch {
		case !ok1:
			return nil, &InputError{Field: field + ".From", Rule: "must name a location (" + strconv.Quote(l.From) + " is unknown)"}
		case !ok2:
			return nil, &InputError{Field: field + ".To", Rule: "must name a location (" + strconv.Quote(l.To) + " is unknown)"}
		case f == t:
			return nil, &InputError{Field: field, Rule: "must join two different locations"}
		case seen[[2]int32{f, t}]:
			return nil, &InputError{Field: field, Rule: "must not repeat the lane " + l.From + "→" + l.To}
		}
		if w := weight(l); math.IsNaN(w) || w < 0 || math.IsInf(w, -1) {
			return nil, &InputError{Field: field, Rule: "must weigh a number ≥ 0 or +Inf"}
		}
		seen[[2]int32{f, t}] = true
		edges = append(edges, edge{f, t, i})
	}
	// Sort lanes by (from, to) so adjacency order, and with it every
	// tie-break, is independent of input order.
	slices.SortFunc(edges, func(a, b edge) int {
		if a.from != b.from {
			return int(a.from - b.from)
		}
		return int(a.to - b.to)
	})
	n := len(g.ids)
	g.offsets = make([]int32, n+1)
	g.targets = make([]int32, len(edges))
	g.sources = make([]int32, len(edges))
	g.weights = make([]float64, len(edges))
	g.lanes = make([]Lane, len(edges))
	g.factors = make([]float64, len(edges))
	g.closed = make([]bool, len(edges))
	g.offline = make([]bool, n)
	for i, e := range edges {
		g.offsets[e.from+1]++
		g.targets[i] = e.to
		g.sources[i] = e.from
		g.lanes[i] = lanes[e.lane]
		g.weights[i] = weight(lanes[e.lane])
		g.factors[i] = 1
	}
	for i := 0; i < n; i++ {
		g.offsets[i+1] += g.offsets[i]
	}
	return g, nil
}

// Len returns the number of locations.
func (g *Graph) Len() int { return len(g.ids) }

// Version increases with every change applied.
func (g *Graph) Version() int64 { return g.version }

// Index returns the index of location id.
func (g *Graph) Index(id string) (int, bool) {
	i, ok := g.index[id]
	return int(i), ok
}

// ID returns the ID of location index i.
func (g *Graph) ID(i int) string { return g.ids[i] }

// Location returns the location with index i.
func (g *Graph) Location(i int) Location { return g.locations[i] }

// ChangeKind says what a Change does. It is stored by name (see
// MarshalText), so a shared log stays readable.
type ChangeKind uint8

// The changes a graph takes. Each sets one piece of live state outright:
// a lane's factor, whether a lane is closed, whether a location is offline.
// They are independent: reopening a lane restores its factor, and a lane
// closed on its own stays closed while its location goes offline and comes
// back.
const (
	// SetFactor multiplies lane From→To's base weight by Factor (traffic:
	// 1.5 is 50% worse; 1 restores it).
	SetFactor ChangeKind = iota + 1
	// CloseLane takes lane From→To out of every path.
	CloseLane
	// OpenLane restores lane From→To.
	OpenLane
	// TakeOffline takes location Location, and every lane at it, out of
	// every path.
	TakeOffline
	// BringOnline brings location Location back.
	BringOnline
)

var changeKindNames = [...]string{"", "set_factor", "close_lane", "open_lane", "take_offline", "bring_online"}

// String returns the kind's name.
func (k ChangeKind) String() string {
	if k != 0 && int(k) < len(changeKindNames) {
		return changeKindNames[k]
	}
	return "ChangeKind(" + strconv.Itoa(int(k)) + ")"
}

// MarshalText returns the kind's name.
func (k ChangeKind) MarshalText() ([]byte, error) {
	if k == 0 || int(k) >= len(changeKindNames) {
		return nil, &InputError{Field: "Kind", Rule: "must be a known change kind"}
	}
	return []byte(changeKindNames[k]), nil
}

// UnmarshalText reads a kind's name.
func (k *ChangeKind) UnmarshalText(b []byte) error {
	for i, n := range changeKindNames {
		if i > 0 && n == string(b) {
			*k = ChangeKind(i)
			return nil
		}
	}
	return &InputError{Field: "Kind", Rule: "must be a known change kind, not " + strconv.Quote(string(b))}
}

// Change is a live change to a graph: one operation, Kind, on a lane (From,
// To) or a location. The helpers LaneFactor, LaneClosed, LaneOpened,
// LocationOffline and LocationOnline build each.
type Change struct {
	Kind ChangeKind `json:"kind"`
	// From and To name the lane of a lane change.
	From string `json:"from,omitempty"`
	To   string `json:"to,omitempty"`
	// Factor is SetFactor's multiplier: a finite number > 0.
	Factor float64 `json:"factor,omitempty"`
	// Location names the location of TakeOffline and BringOnline.
	Location string `json:"location,omitempty"`
}

// LaneFactor returns the change that sets lane from→to's factor.
func LaneFactor(from, to string, factor float64) Change {
	return Change{Kind: SetFactor, From: from, To: to, Factor: factor}
}

// LaneClosed returns the change that closes lane from→to.
func LaneClosed(from, to string) Change { return Change{Kind: CloseLane, From: from, To: to} }

// LaneOpened returns the change that reopens lane from→to.
func LaneOpened(from, to string) Change { return Change{Kind: OpenLane, From: from, To: to} }

// LocationOffline returns the change that takes location id offline.
func LocationOffline(id string) Change { return Change{Kind: TakeOffline, Location: id} }

// LocationOnline returns the change that brings location id back.
func LocationOnline(id string) Change { return Change{Kind: BringOnline, Location: id} }

// check validates a change's shape, without a graph: a known kind, the
// fields it uses set and the others empty.
func (c Change) check(field string) error {
	lane := c.Kind == SetFactor || c.Kind == CloseLane || c.Kind == OpenLane
	switch {
	case c.Kind == 0 || int(c.Kind) >= len(changeKindNames):
		return &InputError{Field: field + ".Kind", Rule: "must be a known change kind"}
	case lane && (c.From == "" || c.To == ""):
		return &InputError{Field: field, Rule: "must name a lane (From and To) for " + c.Kind.String()}
	case lane && c.Location != "":
		return &InputError{Field: field + ".Location", Rule: "must be empty for " + c.Kind.String()}
	case !lane && c.Location == "":
		return &InputError{Field: field + ".Location", Rule: "must be set for " + c.Kind.String()}
	case !lane && (c.From != "" || c.To != ""):
		return &InputError{Field: field, Rule: "must not name a lane for " + c.Kind.String()}
	case c.Kind == SetFactor && !(c.Factor > 0 && !math.IsInf(c.Factor, 0)):
		return &InputError{Field: field + ".Factor", Rule: "must be a finite number > 0"}
	case c.Kind != SetFactor && c.Factor != 0:
		return &InputError{Field: field + ".Factor", Rule: "must be 0 for " + c.Kind.String()}
	}
	return nil
}

// With returns a new snapshot with changes applied, sharing the structure
// with g, which is left as it was: readers of g are never blocked or
// disturbed. Changes apply in order, all or none.
func (g *Graph) With(changes ...Change) (*Graph, error) {
	next := *g
	next.weights = slices.Clone(g.weights)
	next.factors = slices.Clone(g.factors)
	next.closed = slices.Clone(g.closed)
	next.offline = slices.Clone(g.offline)
	next.version = g.version + 1
	for i, c := range changes {
		if err := next.apply(c, "Changes["+strconv.Itoa(i)+"]"); err != nil {
			return nil, err
		}
	}
	return &next, nil
}

// apply applies one change to a graph being built by With.
func (g *Graph) apply(c Change, field string) error {
	if err := c.check(field); err != nil {
		return err
	}
	if c.Kind == TakeOffline || c.Kind == BringOnline {
		v, ok := g.index[c.Location]
		if !ok {
			return &InputError{Field: field + ".Location", Rule: "must name a known location (" + strconv.Quote(c.Location) + " is unknown)"}
		}
		g.offline[v] = c.Kind == TakeOffline
		for e := range g.weights {
			if g.targets[e] == v || g.sources[e] == v {
				g.reweigh(e)
			}
		}
		return nil
	}
	e, ok := g.lane(c.From, c.To)
	if !ok {
		return &InputError{Field: field, Rule: "must name an existing lane (" + c.From + "→" + c.To + ")"}
	}
	switch c.Kind {
	case SetFactor:
		g.factors[e] = c.Factor
	case CloseLane:
		g.closed[e] = true
	case OpenLane:
		g.closed[e] = false
	}
	g.reweigh(e)
	return nil
}

// reweigh derives lane e's weight from its base weight and live state.
func (g *Graph) reweigh(e int) {
	if g.closed[e] || g.offline[g.sources[e]] || g.offline[g.targets[e]] {
		g.weights[e] = math.Inf(1)
		return
	}
	g.weights[e] = g.weight(g.lanes[e]) * g.factors[e]
}

// lane returns the index of lane from→to.
func (g *Graph) lane(from, to string) (int, bool) {
	f, ok1 := g.index[from]
	t, ok2 := g.index[to]
	if !ok1 || !ok2 {
		return 0, false
	}
	for e := g.offsets[f]; e < g.offsets[f+1]; e++ {
		if g.targets[e] == t {
			return int(e), true
		}
	}
	return 0, false
}

// Network holds the current Graph for many readers and few writers:
// readers Load a snapshot and keep using it; Apply publishes a new one.
type Network struct {
	cur atomic.Pointer[Graph]

	syncMu     sync.Mutex
	logVersion int64 // the Log version Sync last brought it to
}

// NewNetwork returns a Network serving g.
func NewNetwork(g *Graph) *Network {
	n := &Network{}
	n.cur.Store(g)
	return n
}

// Load returns the current snapshot (nil for a Network not made by
// NewNetwork).
func (n *Network) Load() *Graph { return n.cur.Load() }

// Apply publishes a snapshot with changes applied to the current one.
// Concurrent Apply calls are serialised by compare-and-swap; each change
// set is applied exactly once.
func (n *Network) Apply(changes ...Change) (*Graph, error) {
	for {
		cur := n.cur.Load()
		if cur == nil {
			return nil, &InputError{Field: "Network", Rule: "must be made with NewNetwork"}
		}
		next, err := cur.With(changes...)
		if err != nil {
			return nil, err
		}
		if n.cur.CompareAndSwap(cur, next) {
			return next, nil
		}
	}
}
