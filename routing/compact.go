package routing

import "slices"

// compact returns changes reduced to those that decide the final state,
// in their original order: the last change of each lane and the last
// change of each location.
//
// Every change sets one piece of live state outright: SetFactor a lane's
// factor, CloseLane and OpenLane whether a lane is closed, TakeOffline and
// BringOnline whether a location is offline; a lane's weight derives from
// its pieces. So the final state is decided by the last change of each
// piece, and keeping exactly those, in order, applies to the same graph; a
// change that names no lane or location of a graph fails on it either way.
func compact(changes []Change) []Change {
	last := make(map[[3]string]int, len(changes)) // (kind, a, b) → index of its last change
	for i, c := range changes {
		last[changeTarget(c)] = i
	}
	keep := make([]int, 0, len(last))
	for _, i := range last {
		keep = append(keep, i)
	}
	slices.Sort(keep)
	out := make([]Change, len(keep))
	for j, i := range keep {
		out[j] = changes[i]
	}
	return out
}

// changeTarget is the piece of state a change sets.
func changeTarget(c Change) [3]string {
	switch c.Kind {
	case TakeOffline, BringOnline:
		return [3]string{"offline", c.Location, ""}
	case SetFactor:
		return [3]string{"factor", c.From, c.To}
	}
	return [3]string{"closed", c.From, c.To}
}
