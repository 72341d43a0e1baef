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
	type cand struct {
		nodes []int
		cost  float64
	}
	accepted := []cand{{w.AppendPath(g, nil, int(d)), cost}}
	var pending []cand
	known := func(nodes []int) bool {
		for _, a := range accepted {
			if slices.Equal(a.nodes, nodes) {
				return true
			}
		}
		for _, p := range pending {
			if slices.Equal(p.nodes, nodes) {
				return true
			}
		}
		return false
	}
	for len(accepted) < k {
		last := accepted[len(accepted)-1].nodes
		rootCost := 0.0
		for j := 0; j < len(last)-1; j++ {
			spur, root := last[j], last[:j+1]
			w.prepare(g)                 // sizes the masks
			if w.block++; w.block == 0 { // wrapped: old marks would alias
				clear(w.blockedLane)
				clear(w.blockedNode)
				w.block = 1
			}
			for _, a := range accepted {
				if len(a.nodes) > j+1 && slices.Equal(a.nodes[:j+1], root) {
					if e, ok := g.laneIndex(int32(a.nodes[j]), int32(a.nodes[j+1])); ok {
						w.blockedLane[e] = w.block
					}
				}
			}
			for _, v := range root[:j] {
				w.blockedNode[v] = w.block
			}
			g.dijkstra(&w, int32(spur), int32(d), true)
			if w.done[d] == w.query {
				nodes := append(slices.Clone(root[:j]), w.AppendPath(g, nil, int(d))...)
				if !known(nodes) {
					pending = append(pending, cand{nodes, rootCost + w.dist[d]})
				}
			}
			if e, ok := g.laneIndex(int32(last[j]), int32(last[j+1])); ok {
				rootCost += g.weights[e]
			}
		}
		if len(pending) == 0 {
			break
		}
		best := 0
		for i, p := range pending[1:] {
			b := pending[best]
			if p.cost < b.cost || (p.cost == b.cost && slices.Compare(p.nodes, b.nodes) < 0) {
				best = i + 1
			}
		}
		next := pending[best]
		pending = slices.Delete(pending, best, best+1)
		if next.cost > maxCost {
			break
		}
		accepted = append(accepted, next)
	}
	out := make([]Path, len(accepted))
	for i, a := range accepted {
		out[i] = Path{Locations: g.names(a.nodes), Cost: a.cost}
	}
	return out, nil
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
