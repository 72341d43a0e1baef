package routing

import "slices"

// compact returns changes reduced to those that decide the final state,
// in their original order: the last change of each lane and the last
// change of each location.
//
// Every change sets weights outright: a lane change sets that lane's
// weight, a location change sets the weight of every lane at the location.
// So a lane's final weight comes from the last change that touches it,
// which is either the last change of the lane or the last change of one of
// its two locations — never a change that a later change of the same lane
// or location follows. Keeping exactly those, in order, applies to the
// same graph; a change that names no lane or location of a graph fails on
// it either way.
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

// changeTarget is what a change sets: a location, or a lane.
func changeTarget(c Change) [3]string {
	if c.Location != "" {
		return [3]string{"location", c.Location, ""}
	}
	return [3]string{"lane", c.From, c.To}
}
