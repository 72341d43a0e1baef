package routing

import (
	"math"
	"slices"
)

// KShortest returns up to k loopless paths from one location to another in
// order of cost (Yen's algorithm), stopping early at the first path costing
// more than maxCost (use +Inf for no ceiling). Equal-cost paths come in
// order of their location indexes, so the answer is deterministic. Use it
// for fallback routes when the best lane closes.
func (g *Graph) KShortest(from, to string, k int, maxCost float64) ([]Path, error) {
	if k <= 0 {
		return nil, &InputError{Field: "K", Rule: "must be > 0"}
	}
	if math.IsNaN(maxCost) {
		return nil, &InputError{Field: "MaxCost", Rule: "must be a number"}
	}
	s, ok1 := g.index[from]
	d, ok2 := g.index[to]
	if !ok1 || !ok2 {
		return nil, ErrUnknownLocation
	}
	var w Workspace
	cost, ok := g.ShortestPath(&w, int(s), int(d))
	if !ok {
		return nil, ErrNoPath
	}
	if cost > maxCost {
		return nil, nil
	}
	y := yen{g: g, w: &w, dest: int(d), accepted: []yenPath{{w.AppendPath(g, nil, int(d)), cost}}}
	for len(y.accepted) < k {
		y.addSpurPaths(y.accepted[len(y.accepted)-1].nodes)
		next, ok := y.popCheapest()
		if !ok || next.cost > maxCost {
			break
		}
		y.accepted = append(y.accepted, next)
	}
	out := make([]Path, len(y.accepted))
	for i, a := range y.accepted {
		out[i] = Path{Locations: g.names(a.nodes), Cost: a.cost}
	}
	return out, nil
}

// yen is one run of Yen's algorithm: the paths accepted so far, in cost
// order, and the candidates found but not yet accepted.
type yen struct {
	g        *Graph
	w        *Workspace
	dest     int
	accepted []yenPath
	pending  []yenPath
}

type yenPath struct {
	nodes []int
	cost  float64
}

// addSpurPaths adds, for each node of last but the destination, the
// cheapest path that follows last up to that node (the root) and then
// leaves it by a lane no accepted path with the same root took.
func (y *yen) addSpurPaths(last []int) {
	g, w := y.g, y.w
	rootCost := 0.0
	for j := 0; j < len(last)-1; j++ {
		spur, root := last[j], last[:j+1]
		y.block(root)
		g.dijkstra(w, int32(spur), int32(y.dest), true)
		if w.done[y.dest] == w.query {
			nodes := append(slices.Clone(root[:j]), w.AppendPath(g, nil, y.dest)...)
			if !y.known(nodes) {
				y.pending = append(y.pending, yenPath{nodes, rootCost + w.dist[y.dest]})
			}
		}
		if e, ok := g.laneIndex(int32(last[j]), int32(last[j+1])); ok {
			rootCost += g.weights[e]
		}
	}
}

// block marks, for the next search, the lanes accepted paths sharing root
// take out of its last node, and root's other nodes, so the spur path
// neither repeats a path nor loops back through the root.
func (y *yen) block(root []int) {
	g, w := y.g, y.w
	j := len(root) - 1
	w.prepare(g)                 // sizes the masks
	if w.block++; w.block == 0 { // wrapped: old marks would alias
		clear(w.blockedLane)
		clear(w.blockedNode)
		w.block = 1
	}
	for _, a := range y.accepted {
		if len(a.nodes) > j+1 && slices.Equal(a.nodes[:j+1], root) {
			if e, ok := g.laneIndex(int32(a.nodes[j]), int32(a.nodes[j+1])); ok {
				w.blockedLane[e] = w.block
			}
		}
	}
	for _, v := range root[:j] {
		w.blockedNode[v] = w.block
	}
}

// known reports whether nodes is already accepted or pending.
func (y *yen) known(nodes []int) bool {
	for _, a := range y.accepted {
		if slices.Equal(a.nodes, nodes) {
			return true
		}
	}
	for _, p := range y.pending {
		if slices.Equal(p.nodes, nodes) {
			return true
		}
	}
	return false
}

// popCheapest removes and returns the cheapest pending path, ties going
// to the smaller location indexes.
func (y *yen) popCheapest() (yenPath, bool) {
	if len(y.pending) == 0 {
		return yenPath{}, false
	}
	best := 0
	for i, p := range y.pending[1:] {
		b := y.pending[best]
		if p.cost < b.cost || (p.cost == b.cost && slices.Compare(p.nodes, b.nodes) < 0) {
			best = i + 1
		}
	}
	next := y.pending[best]
	y.pending = slices.Delete(y.pending, best, best+1)
	return next, true
}

// laneIndex returns the open lane u→v.
func (g *Graph) laneIndex(u, v int32) (int, bool) {
	for e := g.offsets[u]; e < g.offsets[u+1]; e++ {
		if g.targets[e] == v {
			return int(e), !math.IsInf(g.weights[e], 1)
		}
	}
	return 0, false
}
