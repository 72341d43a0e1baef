package routing_test

import (
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/shopkit/shopkit/routing"
)

func locs(ids ...string) []routing.Location {
	out := make([]routing.Location, len(ids))
	for i, id := range ids {
		out[i] = routing.Location{ID: id}
	}
	return out
}

// Yen's algorithm as worked in its Wikipedia article ("Yen's algorithm",
// Example): from C to H the three shortest loopless paths are C-E-F-H (5),
// C-E-G-H (7) and C-D-F-H (8).
func TestYenWikipedia(t *testing.T) {
	lanes := []routing.Lane{
		{From: "C", To: "D", Cost: 3}, {From: "C", To: "E", Cost: 2}, {From: "D", To: "F", Cost: 4},
		{From: "E", To: "D", Cost: 1}, {From: "E", To: "F", Cost: 2}, {From: "E", To: "G", Cost: 3},
		{From: "F", To: "G", Cost: 2}, {From: "F", To: "H", Cost: 1}, {From: "G", To: "H", Cost: 2},
	}
	g, err := routing.Build(locs("C", "D", "E", "F", "G", "H"), lanes, nil)
	if err != nil {
		t.Fatal(err)
	}
	paths, err := g.KShortest("C", "H", 3, math.Inf(1))
	if err != nil {
		t.Fatal(err)
	}
	want := []routing.Path{
		{Locations: []string{"C", "E", "F", "H"}, Cost: 5},
		{Locations: []string{"C", "E", "G", "H"}, Cost: 7},
		{Locations: []string{"C", "D", "F", "H"}, Cost: 8},
	}
	if fmt.Sprint(paths) != fmt.Sprint(want) {
		t.Fatalf("KShortest = %v, want %v", paths, want)
	}
	// A cost ceiling of 7 stops after the second.
	paths, _ = g.KShortest("C", "H", 3, 7)
	if len(paths) != 2 {
		t.Fatalf("with ceiling 7: %v", paths)
	}
	// Asking for more than exist returns all loopless paths, cheapest first.
	paths, _ = g.KShortest("C", "H", 100, math.Inf(1))
	for i := 1; i < len(paths); i++ {
		if paths[i].Cost < paths[i-1].Cost {
			t.Fatalf("paths out of order: %v", paths)
		}
	}
	if len(paths) != 7 {
		t.Fatalf("%d loopless C→H paths, want 7: %v", len(paths), paths)
	}
}

// Two routes of equal cost: A-B-D and A-C-D, both 2. The tie goes to the
// path through the location with the smaller index (B), whatever order the
// lanes were given in — the equal-cost case gonum's tests check.
func TestEqualCostTieBreak(t *testing.T) {
	lanes := []routing.Lane{{From: "A", To: "C", Cost: 1}, {From: "C", To: "D", Cost: 1}, {From: "A", To: "B", Cost: 1}, {From: "B", To: "D", Cost: 1}}
	for i := 0; i < 5; i++ {
		rand.Shuffle(len(lanes), func(a, b int) { lanes[a], lanes[b] = lanes[b], lanes[a] })
		g, err := routing.Build(locs("D", "C", "B", "A"), lanes, nil)
		if err != nil {
			t.Fatal(err)
		}
		p, err := g.Route("A", "D")
		if err != nil || !slices.Equal(p.Locations, []string{"A", "B", "D"}) || p.Cost != 2 {
			t.Fatalf("Route = %+v, %v", p, err)
		}
	}
}

func TestBuildInvalid(t *testing.T) {
	tests := []struct {
		name  string
		locs  []routing.Location
		lanes []routing.Lane
		field string
	}{
		{"empty ID", locs(""), nil, "Locations[0].ID"},
		{"duplicate location", locs("A", "A"), nil, "Locations"},
		{"unknown from", locs("A"), []routing.Lane{{From: "X", To: "A"}}, "Lanes[0].From"},
		{"unknown to", locs("A"), []routing.Lane{{From: "A", To: "X"}}, "Lanes[0].To"},
		{"self lane", locs("A"), []routing.Lane{{From: "A", To: "A"}}, "Lanes[0]"},
		{"duplicate lane", locs("A", "B"), []routing.Lane{{From: "A", To: "B"}, {From: "A", To: "B", Cost: 2}}, "Lanes[1]"},
		{"negative", locs("A", "B"), []routing.Lane{{From: "A", To: "B", Cost: -1}}, "Lanes[0]"},
		{"NaN", locs("A", "B"), []routing.Lane{{From: "A", To: "B", Cost: math.NaN()}}, "Lanes[0]"},
	}
	for _, tt := range tests {
		_, err := routing.Build(tt.locs, tt.lanes, nil)
		var ie *routing.InputError
		if !errors.As(err, &ie) || ie.Field != tt.field || !errors.Is(err, routing.ErrInvalidInput) {
			t.Errorf("%s: err = %v, want InputError on %s", tt.name, err, tt.field)
		}
	}
}

func TestLiveChanges(t *testing.T) {
	lanes := []routing.Lane{{From: "A", To: "B", Cost: 1, Hours: 10}, {From: "B", To: "D", Cost: 1, Hours: 10}, {From: "A", To: "C", Cost: 2, Hours: 1}, {From: "C", To: "D", Cost: 2, Hours: 1}}
	g, err := routing.Build(locs("A", "B", "C", "D"), lanes, nil)
	if err != nil {
		t.Fatal(err)
	}
	net := routing.NewNetwork(g)
	before := net.Load()
	p, _ := before.Route("A", "D")
	if !slices.Equal(p.Locations, []string{"A", "B", "D"}) {
		t.Fatal(p)
	}
	// Close A→B: the route moves to C; the old snapshot is untouched.
	after, err := net.Apply(routing.LaneClosed("A", "B"))
	if err != nil {
		t.Fatal(err)
	}
	if p, _ := after.Route("A", "D"); !slices.Equal(p.Locations, []string{"A", "C", "D"}) || p.Cost != 4 {
		t.Fatalf("after closing A→B: %+v", p)
	}
	if p, _ := before.Route("A", "D"); !slices.Equal(p.Locations, []string{"A", "B", "D"}) {
		t.Fatalf("the old snapshot changed: %+v", p)
	}
	if after.Version() != before.Version()+1 || net.Load() != after {
		t.Fatal("version or current snapshot not advanced")
	}
	// Reopen, then slow B→D by traffic: 1 × 5 = 5 > 4.
	g2, _ := net.Apply(routing.LaneOpened("A", "B"), routing.LaneFactor("B", "D", 5))
	if p, _ := g2.Route("A", "D"); !slices.Equal(p.Locations, []string{"A", "C", "D"}) {
		t.Fatalf("with traffic on B→D: %+v", p)
	}
	// C offline: back through B despite the traffic; D offline: no route.
	g3, _ := net.Apply(routing.LocationOffline("C"))
	if p, _ := g3.Route("A", "D"); !slices.Equal(p.Locations, []string{"A", "B", "D"}) || p.Cost != 6 {
		t.Fatalf("with C offline: %+v", p)
	}
	g4, _ := net.Apply(routing.LocationOffline("D"))
	if _, err := g4.Route("A", "D"); !errors.Is(err, routing.ErrNoPath) {
		t.Fatalf("with D offline: err = %v", err)
	}
	if _, err := net.Apply(routing.LaneClosed("A", "D")); !errors.Is(err, routing.ErrInvalidInput) {
		t.Fatalf("closing a lane that does not exist: err = %v", err)
	}
	// Close and Open at once is not a change: a Change is one operation.
	if _, err := net.Apply(routing.Change{Kind: routing.CloseLane, From: "A", To: "B", Location: "C"}); !errors.Is(err, routing.ErrInvalidInput) {
		t.Fatalf("a lane change naming a location: err = %v", err)
	}
	// A weight function that values time: 1 per cost unit + 1 per hour.
	gt, _ := routing.Build(locs("A", "B", "C", "D"), lanes, routing.Blend(1))
	if p, _ := gt.Route("A", "D"); !slices.Equal(p.Locations, []string{"A", "C", "D"}) || p.Cost != 6 {
		t.Fatalf("time-weighted: %+v", p)
	}
}

// bellmanFord is the reference: plain relaxation, no heap, no early exit.
func bellmanFord(n int, edges [][3]float64, src int) []float64 {
	dist := make([]float64, n)
	for i := range dist {
		dist[i] = math.Inf(1)
	}
	dist[src] = 0
	for i := 0; i < n; i++ {
		for _, e := range edges {
			u, v, w := int(e[0]), int(e[1]), e[2]
			if dist[u]+w < dist[v] {
				dist[v] = dist[u] + w
			}
		}
	}
	return dist
}

func TestAgainstBellmanFord(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	var w routing.Workspace
	for trial := 0; trial < 200; trial++ {
		n := 2 + rng.IntN(30)
		var ids []string
		for i := 0; i < n; i++ {
			ids = append(ids, fmt.Sprintf("n%03d", i))
		}
		var lanes []routing.Lane
		var edges [][3]float64
		seen := map[[2]int]bool{}
		for e := 0; e < n*3; e++ {
			u, v := rng.IntN(n), rng.IntN(n)
			if u == v || seen[[2]int{u, v}] {
				continue
			}
			seen[[2]int{u, v}] = true
			c := float64(rng.IntN(20))
			lanes = append(lanes, routing.Lane{From: ids[u], To: ids[v], Cost: c})
			edges = append(edges, [3]float64{float64(u), float64(v), c})
		}
		g, err := routing.Build(locs(ids...), lanes, nil)
		if err != nil {
			t.Fatal(err)
		}
		src := rng.IntN(n)
		want := bellmanFord(n, edges, src)
		g.ShortestFrom(&w, src)
		for v := 0; v < n; v++ {
			if got := w.Cost(v); got != want[v] {
				t.Fatalf("trial %d: cost %d→%d = %v, want %v", trial, src, v, got, want[v])
			}
		}
		dst := rng.IntN(n)
		cost, ok := g.ShortestPath(&w, src, dst)
		if ok != !math.IsInf(want[dst], 1) || (ok && cost != want[dst]) {
			t.Fatalf("trial %d: ShortestPath %d→%d = %v, %v; want %v", trial, src, dst, cost, ok, want[dst])
		}
		if ok {
			// The reconstructed path is made of real lanes and costs that much.
			path := w.AppendPath(g, nil, dst)
			sum := 0.0
			for i := 0; i+1 < len(path); i++ {
				found := false
				for _, e := range edges {
					if int(e[0]) == path[i] && int(e[1]) == path[i+1] {
						sum += e[2]
						found = true
					}
				}
				if !found {
					t.Fatalf("path %v uses a lane that does not exist", path)
				}
			}
			if sum != cost || path[0] != src || path[len(path)-1] != dst {
				t.Fatalf("path %v sums to %v, cost %v", path, sum, cost)
			}
		}
	}
}

func TestShortestPathAllocatesNothing(t *testing.T) {
	g, _ := routing.Build(locs("A", "B", "C", "D"), []routing.Lane{{From: "A", To: "B", Cost: 1}, {From: "B", To: "C", Cost: 1}, {From: "C", To: "D", Cost: 1}}, nil)
	var w routing.Workspace
	buf := make([]int, 0, 8)
	g.ShortestPath(&w, 0, 3) // grow the workspace
	if n := testing.AllocsPerRun(100, func() {
		g.ShortestPath(&w, 0, 3)
		buf = w.AppendPath(g, buf[:0], 3)
	}); n != 0 {
		t.Fatalf("%v allocations per query", n)
	}
}

// FuzzBuild: any definition builds or fails with an InputError; queries on
// what builds never panic.
func FuzzBuild(f *testing.F) {
	f.Add("A", "B", "C", 1.0, 2.0, -1.0)
	f.Add("", "A", "A", math.NaN(), math.Inf(1), 0.0)
	f.Fuzz(func(t *testing.T, a, b, c string, w1, w2, w3 float64) {
		lanes := []routing.Lane{{From: a, To: b, Cost: w1}, {From: b, To: c, Cost: w2}, {From: a, To: c, Cost: w3}}
		g, err := routing.Build(locs(a, b, c), lanes, nil)
		if err != nil {
			if !errors.Is(err, routing.ErrInvalidInput) {
				t.Fatal(err)
			}
			return
		}
		if _, err := g.Route(a, c); err != nil && !errors.Is(err, routing.ErrNoPath) {
			t.Fatal(err)
		}
		if _, err := g.KShortest(a, c, 3, math.Inf(1)); err != nil && !errors.Is(err, routing.ErrNoPath) {
			t.Fatal(err)
		}
	})
}

// TestChangesKeepStateApart: a lane's factor, its closure and its
// locations' availability are separate state, and no change undoes
// another's.
//
// Regression: changes set the lane's weight outright, so a lane closed on
// its own reopened when its location went offline and came back, and a
// reopened lane lost its traffic factor.
func TestChangesKeepStateApart(t *testing.T) {
	lanes := []routing.Lane{{From: "A", To: "B", Cost: 1}, {From: "B", To: "D", Cost: 1}, {From: "A", To: "C", Cost: 2}, {From: "C", To: "D", Cost: 2}}
	g, err := routing.Build(locs("A", "B", "C", "D"), lanes, nil)
	if err != nil {
		t.Fatal(err)
	}
	route := func(g *routing.Graph) string {
		p, err := g.Route("A", "D")
		if err != nil {
			return err.Error()
		}
		return fmt.Sprint(p.Locations, p.Cost)
	}
	tests := []struct {
		give []routing.Change
		want string
	}{
		// A→B closed on its own, then B offline and back: A→B stays closed.
		{[]routing.Change{routing.LaneClosed("A", "B"), routing.LocationOffline("B"), routing.LocationOnline("B")}, "[A C D] 4"},
		// Traffic on B→D (×5), closed and reopened: the factor stays.
		{[]routing.Change{routing.LaneFactor("B", "D", 5), routing.LaneClosed("B", "D"), routing.LaneOpened("B", "D")}, "[A C D] 4"},
		// Traffic set while the lane is closed applies once it reopens:
		// 1 + 1×1.5 = 2.5 < 4.
		{[]routing.Change{routing.LaneClosed("B", "D"), routing.LaneFactor("B", "D", 1.5), routing.LaneOpened("B", "D")}, "[A B D] 2.5"},
		// A factor of 1 restores the base weight.
		{[]routing.Change{routing.LaneFactor("A", "B", 9), routing.LaneFactor("A", "B", 1)}, "[A B D] 2"},
	}
	for _, tt := range tests {
		next, err := g.With(tt.give...)
		if err != nil {
			t.Fatal(err)
		}
		if got := route(next); got != tt.want {
			t.Errorf("after %v: route %s, want %s", tt.give, got, tt.want)
		}
	}
}
