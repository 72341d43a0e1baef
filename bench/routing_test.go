package bench

import (
	"math/rand/v2"
	"strconv"
	"testing"

	"gonum.org/v1/gonum/graph/path"
	"gonum.org/v1/gonum/graph/simple"

	"github.com/shopkit/shopkit/routing"
)

// randomNetwork is one random sparse graph, 10,000 locations and 50,000
// lanes with weights in [1, 100), built for both libraries.
func randomNetwork(b *testing.B) (*routing.Graph, *simple.WeightedDirectedGraph) {
	b.Helper()
	const nodes, lanes = 10000, 50000
	rng := rand.New(rand.NewPCG(10000, 50000))
	locs := make([]routing.Location, nodes)
	gn := simple.NewWeightedDirectedGraph(0, 0)
	for i := range locs {
		locs[i] = routing.Location{ID: "w" + strconv.Itoa(100000+i)} // sorts as it numbers
		gn.AddNode(simple.Node(i))
	}
	seen := map[[2]int]bool{}
	var ls []routing.Lane
	for len(ls) < lanes {
		u, v := rng.IntN(nodes), rng.IntN(nodes)
		if u == v || seen[[2]int{u, v}] {
			continue
		}
		seen[[2]int{u, v}] = true
		w := 1 + rng.Float64()*99
		ls = append(ls, routing.Lane{From: locs[u].ID, To: locs[v].ID, Cost: w})
		gn.SetWeightedEdge(simple.WeightedEdge{F: simple.Node(u), T: simple.Node(v), W: w})
	}
	g, err := routing.Build(locs, ls, nil)
	if err != nil {
		b.Fatal(err)
	}
	return g, gn
}

// BenchmarkShortestPath10k: one source to one target on the same graph.
//
//   - shopkit: routing.Graph.ShortestPath with a reused Workspace
//     (early exit; the path read with AppendPath into a reused buffer).
//   - gonum: path.DijkstraFromTo (gonum v0.17.0).
func BenchmarkShortestPath10k(b *testing.B) {
	g, gn := randomNetwork(b)
	src, dst := 17, 9001
	var w routing.Workspace
	cost, ok := g.ShortestPath(&w, src, dst)
	gp, gw := path.DijkstraFromTo(simple.Node(src), simple.Node(dst), gn)
	if !ok || len(gp) == 0 || abs(cost-gw) > 1e-9 {
		b.Fatalf("shopkit %v %v, gonum %v %v: the libraries disagree", cost, ok, gw, len(gp))
	}
	b.Run("shopkit", func(b *testing.B) {
		buf := make([]int, 0, 64)
		b.ReportAllocs()
		for b.Loop() {
			if _, ok := g.ShortestPath(&w, src, dst); !ok {
				b.Fatal("no path")
			}
			buf = w.AppendPath(g, buf[:0], dst)
		}
	})
	b.Run("gonum", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if p, _ := path.DijkstraFromTo(simple.Node(src), simple.Node(dst), gn); len(p) == 0 {
				b.Fatal("no path")
			}
		}
	})
}

// BenchmarkShortestPathAll10k: one source to every location.
//
//   - shopkit: routing.Graph.ShortestFrom with a reused Workspace.
//   - gonum: path.DijkstraFrom.
func BenchmarkShortestPathAll10k(b *testing.B) {
	g, gn := randomNetwork(b)
	var w routing.Workspace
	b.Run("shopkit", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			g.ShortestFrom(&w, 17)
		}
	})
	b.Run("gonum", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			path.DijkstraFrom(simple.Node(17), gn)
		}
	})
}

func abs(x float64) float64 {
	if x < 0 {
		return -x
	}
	return x
}
