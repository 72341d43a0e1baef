package routing

import (
	"math/rand/v2"
	"testing"
)

// TestCompactKeepsTheState applies random change sequences and their
// compaction to the same graph and compares every lane's weight.
func TestCompactKeepsTheState(t *testing.T) {
	locs := []string{"A", "B", "C", "D"}
	g, lanes := completeGraph(t, locs)
	rng := rand.New(rand.NewPCG(1, 2))
	for round := range 2000 {
		var changes []Change
		for range rng.IntN(12) {
			switch rng.IntN(5) {
			case 0:
				changes = append(changes, LocationOffline(locs[rng.IntN(4)]))
			case 1:
				changes = append(changes, LocationOnline(locs[rng.IntN(4)]))
			default:
				l := lanes[rng.IntN(len(lanes))]
				switch rng.IntN(3) {
				case 0:
					changes = append(changes, LaneClosed(l.From, l.To))
				case 1:
					changes = append(changes, LaneOpened(l.From, l.To))
				default:
					changes = append(changes, LaneFactor(l.From, l.To, float64(1+rng.IntN(4))))
				}
			}
		}
		full, err1 := g.With(changes...)
		short, err2 := g.With(compact(changes)...)
		if err1 != nil || err2 != nil {
			t.Fatal(err1, err2)
		}
		for e := range full.weights {
			if full.weights[e] != short.weights[e] {
				t.Fatalf("round %d: lane %d weighs %v after %v, %v after its compaction %v", round, e, full.weights[e], changes, short.weights[e], compact(changes))
			}
		}
	}
}

// completeGraph builds a graph with a lane between every two of locs, each
// of its own cost.
func completeGraph(t *testing.T, locs []string) (*Graph, []Lane) {
	t.Helper()
	var locations []Location
	var lanes []Lane
	for i, f := range locs {
		locations = append(locations, Location{ID: f})
		for j, to := range locs {
			if f != to {
				lanes = append(lanes, Lane{From: f, To: to, Cost: float64(1 + i + 2*j)})
			}
		}
	}
	g, err := Build(locations, lanes, ByCost)
	if err != nil {
		t.Fatal(err)
	}
	return g, lanes
}
