package routing

import "math"

// Workspace holds the scratch memory of shortest-path queries so repeated
// queries allocate nothing. A Workspace serves one query at a time; use
// one per goroutine (a sync.Pool works well). It adapts to any graph.
type Workspace struct {
	dist  []float64
	prev  []int32  // lane into the node on its best path; -1 at the source
	stamp []uint32 // node reached in query number stamp
	done  []uint32 // node settled in query number done
	pos   []int32  // node's place in heap while reached but not settled
	query uint32
	heap  []heapEntry // 4-ary min-heap by (dist, node)
	// Masks for Yen's algorithm: lanes and nodes left out of a query.
	blockedLane []uint32
	blockedNode []uint32
	block       uint32
}

// prepare sizes the workspace for g and starts a new query.
func (w *Workspace) prepare(g *Graph) {
	n, m := len(g.ids), len(g.targets)
	if len(w.dist) < n {
		w.dist = make([]float64, n)
		w.prev = make([]int32, n)
		w.stamp = make([]uint32, n)
		w.done = make([]uint32, n)
		w.pos = make([]int32, n)
		w.blockedNode = make([]uint32, n)
	}
	if len(w.blockedLane) < m {
		w.blockedLane = make([]uint32, m)
	}
	w.query++
	if w.query == 0 { // wrapped: stamps from 2^32 queries ago would alias
		clear(w.stamp)
		clear(w.done)
		w.query = 1
	}
	w.heap = w.heap[:0]
}

// heapEntry keeps the distance next to the node, so sifting compares
// contiguous memory instead of chasing into dist.
type heapEntry struct {
	d float64
	v int32
}

// less orders by distance, then node index, for deterministic ties.
func (a heapEntry) less(b heapEntry) bool {
	return a.d < b.d || (a.d == b.d && a.v < b.v)
}

// up moves the entry at heap position i towards the root.
func (w *Workspace) up(i int) {
	h := w.heap
	x := h[i]
	for i > 0 {
		p := (i - 1) / 4
		if !x.less(h[p]) {
			break
		}
		h[i] = h[p]
		w.pos[h[i].v] = int32(i)
		i = p
	}
	h[i] = x
	w.pos[x.v] = int32(i)
}

// popMin removes and returns the nearest unsettled node.
func (w *Workspace) popMin() int32 {
	h := w.heap
	top := h[0].v
	last := h[len(h)-1]
	h = h[:len(h)-1]
	w.heap = h
	if len(h) == 0 {
		return top
	}
	// Sift last down from the root.
	i := 0
	for {
		c := 4*i + 1
		if c >= len(h) {
			break
		}
		best := c
		for k := c + 1; k < c+4 && k < len(h); k++ {
			if h[k].less(h[best]) {
				best = k
			}
		}
		if !h[best].less(last) {
			break
		}
		h[i] = h[best]
		w.pos[h[i].v] = int32(i)
		i = best
	}
	h[i] = last
	w.pos[last.v] = int32(i)
	return top
}

// dijkstra runs from src until target is settled (target −1: all nodes),
// on an indexed 4-ary heap with decrease-key, so the heap never holds more
// than one entry per node. On equal distances the predecessor with the
// smaller node index wins, so results do not depend on the order lanes
// were given in.
func (g *Graph) dijkstra(w *Workspace, src, target int32, masked bool) {
	w.prepare(g)
	w.dist[src], w.prev[src], w.stamp[src] = 0, -1, w.query
	w.heap = append(w.heap, heapEntry{0, src})
	w.pos[src] = 0
	for len(w.heap) > 0 {
		u := w.popMin()
		w.done[u] = w.query
		if u == target {
			return
		}
		du := w.dist[u]
		for e := g.offsets[u]; e < g.offsets[u+1]; e++ {
			v := g.targets[e]
			wt := g.weights[e]
			if math.IsInf(wt, 1) || w.done[v] == w.query {
				continue
			}
			if masked && (w.blockedLane[e] == w.block || w.blockedNode[v] == w.block) {
				continue
			}
			nd := du + wt
			if w.stamp[v] != w.query {
				w.dist[v], w.prev[v], w.stamp[v] = nd, e, w.query
				w.heap = append(w.heap, heapEntry{nd, v})
				w.up(len(w.heap) - 1)
				continue
			}
			if old := w.dist[v]; nd < old || (nd == old && u < g.sources[w.prev[v]]) {
				w.dist[v], w.prev[v] = nd, e
				p := w.pos[v]
				w.heap[p].d = nd
				w.up(int(p))
			}
		}
	}
}

// ShortestPath finds the cheapest path from location index src to dst,
// stopping as soon as dst is settled. It returns the cost, or ok false if
// dst is unreachable. Read the path with w.AppendPath before the next
// query on w. It allocates nothing once w has grown to the graph.
func (g *Graph) ShortestPath(w *Workspace, src, dst int) (cost float64, ok bool) {
	if src < 0 || src >= len(g.ids) || dst < 0 || dst >= len(g.ids) {
		return 0, false
	}
	g.dijkstra(w, int32(src), int32(dst), false)
	if w.done[dst] != w.query {
		return 0, false
	}
	return w.dist[dst], true
}

// ShortestFrom computes the cheapest cost from src to every location; read
// them with w.Cost and paths with w.AppendPath.
func (g *Graph) ShortestFrom(w *Workspace, src int) {
	if src < 0 || src >= len(g.ids) {
		w.prepare(g)
		return
	}
	g.dijkstra(w, int32(src), -1, false)
}

// Cost returns the cost to node v found by the last query, or +Inf.
func (w *Workspace) Cost(v int) float64 {
	if v < 0 || v >= len(w.done) || w.done[v] != w.query {
		return math.Inf(1)
	}
	return w.dist[v]
}

// AppendPath appends the node indexes of the last query's path to v, from
// the source, to buf and returns it; nothing if v was not reached.
func (w *Workspace) AppendPath(g *Graph, buf []int, v int) []int {
	if v < 0 || v >= len(w.done) || w.done[v] != w.query {
		return buf
	}
	start := len(buf)
	for x := int32(v); ; {
		buf = append(buf, int(x))
		e := w.prev[x]
		if e < 0 {
			break
		}
		x = g.sources[e]
	}
	// Reverse the appended part in place.
	for i, j := start, len(buf)-1; i < j; i, j = i+1, j-1 {
		buf[i], buf[j] = buf[j], buf[i]
	}
	return buf
}

// Path is a route through the graph.
type Path struct {
	Locations []string
	Cost      float64
}

// Route returns the cheapest path between two locations by ID. It
// allocates; use ShortestPath with a Workspace on hot paths.
func (g *Graph) Route(from, to string) (Path, error) {
	s, ok1 := g.index[from]
	d, ok2 := g.index[to]
	if !ok1 || !ok2 {
		return Path{}, ErrUnknownLocation
	}
	var w Workspace
	cost, ok := g.ShortestPath(&w, int(s), int(d))
	if !ok {
		return Path{}, ErrNoPath
	}
	return Path{Locations: g.names(w.AppendPath(g, nil, int(d))), Cost: cost}, nil
}

func (g *Graph) names(idx []int) []string {
	out := make([]string, len(idx))
	for i, v := range idx {
		out[i] = g.ids[v]
	}
	return out
}
