package funnel_test

import (
	"fmt"
	"math/rand"
	"reflect"
	"slices"
	"sort"
	"strconv"
	"testing"
	"time"

	"github.com/shopkit/shopkit/funnel"
	"github.com/shopkit/shopkit/internal/redistest"
)

var (
	propDay  = time.Now().UTC().Truncate(24 * time.Hour).Add(-48 * time.Hour)
	propQery = funnel.Query{From: propDay, To: propDay.Add(3 * time.Hour)}
	names    = []string{"a", "b", "c", "d"}
)

// randomStream returns events of a few users over about four hours, on a
// minute grid so that ties in time are common.
func randomStream(r *rand.Rand) []funnel.Event {
	var out []funnel.Event
	users := 1 + r.Intn(6)
	for u := 0; u < users; u++ {
		for i, n := 0, r.Intn(12); i < n; i++ {
			name := names[r.Intn(len(names))]
			if r.Intn(8) == 0 {
				name = "x"
			}
			out = append(out, funnel.Event{
				ID:     fmt.Sprintf("u%d-%d", u, i),
				UserID: "u" + strconv.Itoa(u), Name: name,
				Time:    propDay.Add(time.Duration(r.Intn(240)-30) * time.Minute),
				SKU:     []string{"p", "q"}[r.Intn(2)],
				Variant: []string{"A", "B"}[r.Intn(2)],
			})
			if r.Intn(2) == 0 {
				out[len(out)-1].Props = map[string]string{"plan": []string{"free", "pro"}[r.Intn(2)], "price": strconv.Itoa(1 + r.Intn(100))}
			}
		}
	}
	return out
}

func randomFunnel(r *rand.Rand, order funnel.Order) funnel.Funnel {
	f := funnel.Funnel{Order: order, Window: time.Duration(10+r.Intn(90)) * time.Minute}
	perm := r.Perm(len(names))
	for i, n := 0, 1+r.Intn(4); i < n; i++ {
		name := names[perm[i]]
		if order != funnel.AnyOrder && r.Intn(4) == 0 {
			name = names[r.Intn(len(names))] // repeated steps are allowed in order
		}
		st := funnel.Step{Event: name}
		if i > 0 && order != funnel.AnyOrder && r.Intn(3) == 0 {
			st.Within = time.Duration(1+r.Intn(40)) * time.Minute
		}
		if order != funnel.AnyOrder && r.Intn(4) == 0 {
			st.AnyOf = []string{names[r.Intn(len(names))]}
		}
		if order == funnel.Ordered && i > 0 && r.Intn(3) == 0 {
			st.Optional = true // cleared below on the last step
		}
		if r.Intn(4) == 0 {
			st.Where = []funnel.Filter{
				{Property: "plan", Op: funnel.Eq, Values: []string{"pro"}},
				{Property: "price", Op: funnel.Gt, Values: []string{"50"}},
				{Property: "plan", Op: funnel.In, Values: []string{"free", "team"}},
				{Property: "price", Op: funnel.Le, Values: []string{"30"}},
			}[r.Intn(4):][:1]
		}
		f.Steps = append(f.Steps, st)
	}
	f.Steps[len(f.Steps)-1].Optional = false
	switch r.Intn(4) {
	case 0, 1:
		f.Hold = funnel.SKU
	case 2:
		f.HoldProperty = "plan"
	}
	return f
}

// refStep reports whether e counts as step s of f: by its name or one of
// AnyOf, and every filter.
func refStep(f funnel.Funnel, s int, e funnel.Event) bool {
	st := f.Steps[s]
	if e.Name != st.Event && !slices.Contains(st.AnyOf, e.Name) {
		return false
	}
	for _, w := range st.Where {
		v, ok := e.Props[w.Property]
		if !ok {
			return false
		}
		switch w.Op {
		case funnel.Eq:
			if v != w.Values[0] {
				return false
			}
		case funnel.In:
			if !slices.Contains(w.Values, v) {
				return false
			}
		default:
			n, _ := strconv.Atoi(v)
			lim, _ := strconv.Atoi(w.Values[0])
			if (w.Op == funnel.Gt && n <= lim) || (w.Op == funnel.Le && n > lim) {
				return false
			}
		}
	}
	return true
}

// refRank is the first step e counts as, or -1.
func refRank(f funnel.Funnel, e funnel.Event) int {
	for s := range f.Steps {
		if refStep(f, s, e) {
			return s
		}
	}
	return -1
}

// refHold is the value f holds constant of e.
func refHold(f funnel.Funnel, e funnel.Event) string {
	if f.HoldProperty != "" {
		return e.Props[f.HoldProperty]
	}
	return e.SKU
}

// reach is the brute-force reference for the Uniques modes: for each
// user and breakdown value, the furthest step of any attempt entered in
// the query range (of the first such attempt only, with
// UniquesFirstEntry), by the definitions in the package doc, searched
// exhaustively; attempts are grouped by q.Breakdown (Variant or none) of
// the event q.Attribution picks. UniquesReentry counts as Uniques does; it
// differs in the attempt's start. The result maps each breakdown value to
// its step counts.
func reach(f funnel.Funnel, q funnel.Query, events []funnel.Event) map[string][]int64 {
	byUser := map[string][]funnel.Event{}
	for _, e := range events {
		if refRank(f, e) >= 0 {
			byUser[e.UserID] = append(byUser[e.UserID], e)
		}
	}
	keyOf := func(e funnel.Event) string {
		if q.Breakdown == funnel.Variant {
			return e.Variant
		}
		return ""
	}
	out := map[string][]int64{}
	for _, evs := range byUser {
		sort.Slice(evs, func(i, j int) bool {
			a, b := evs[i], evs[j]
			if !a.Time.Equal(b.Time) {
				return a.Time.Before(b.Time)
			}
			if ra, rb := refRank(f, a), refRank(f, b); ra != rb {
				return ra < rb
			}
			return a.ID < b.ID
		})
		type best struct {
			reached int
			did     uint32
		}
		bests := map[string]best{}
		taken := map[string]bool{}
		for i, e := range evs {
			if e.Time.Before(q.From) || !e.Time.Before(q.To) {
				continue
			}
			if f.Order != funnel.AnyOrder && !refStep(f, 0, e) {
				continue
			}
			if f.Count == funnel.UniquesFirstEntry {
				if taken[keyOf(e)] {
					continue
				}
				taken[keyOf(e)] = true
			}
			// Per group, the earliest attempt that gets furthest counts
			// (and says which optional steps the user did).
			at := reachFrom(f, evs, i)
			k := keyOf(e)
			switch q.Attribution {
			case funnel.LastTouch:
				k = keyOf(evs[at.lastIdx])
			case funnel.AtStep:
				k = ""
				if j, ok := at.stepIdx[q.AttributionStep]; ok {
					k = keyOf(evs[j])
				}
			}
			if b, ok := bests[k]; !ok || at.reached > b.reached {
				bests[k] = best{at.reached, at.did}
			}
		}
		for k, b := range bests {
			counts := out[k]
			if counts == nil {
				counts = make([]int64, len(f.Steps))
				out[k] = counts
			}
			for s := 0; s <= b.reached; s++ {
				if f.Steps[s].Optional && b.did&(1<<s) == 0 {
					continue
				}
				counts[s]++
			}
		}
	}
	return out
}

// refAttempt is one attempt as the reference sees it: how far it got,
// the steps it did on a path there, the index of the event at which it
// first got there, and per step the first event that did it.
type refAttempt struct {
	reached int
	did     uint32
	lastIdx int
	stepIdx map[int]int
}

// reachFrom follows the attempt entered at evs[i]. A converting attempt
// ends at the earliest event that completes the funnel.
func reachFrom(f funnel.Funnel, evs []funnel.Event, i int) refAttempt {
	if f.Order != funnel.Ordered {
		return reachFromUnordered(f, evs, i)
	}
	entry := evs[i]
	deadline := entry.Time.Add(f.Window)
	visible := func(e funnel.Event) bool {
		return !e.Time.After(deadline) && ((f.Hold == funnel.NoDimension && f.HoldProperty == "") || refHold(f, e) == refHold(f, entry))
	}
	// Every path: each step done by a later event within the windows, or
	// skipped when optional; recorded at each step it does.
	type path struct {
		final, idx int
		done       uint32
	}
	var paths []path
	last := len(f.Steps) - 1
	var walk func(j, s int, done uint32)
	walk = func(j, s int, done uint32) {
		if done&(1<<s) != 0 {
			paths = append(paths, path{s, j, done})
		}
		t := s + 1
		if t > last {
			return
		}
		for k := j + 1; k < len(evs); k++ {
			if visible(evs[k]) && refStep(f, t, evs[k]) && withinStep(f, t, evs[j], evs[k]) {
				walk(k, t, done|1<<t)
			}
		}
		if f.Steps[t].Optional {
			walk(j, t, done)
		}
	}
	walk(i, 0, 1)
	at := refAttempt{lastIdx: len(evs), stepIdx: map[int]int{}}
	end := len(evs)
	for _, p := range paths {
		at.reached = max(at.reached, p.final)
	}
	for _, p := range paths {
		if p.final == at.reached {
			at.lastIdx = min(at.lastIdx, p.idx)
		}
	}
	if at.reached == last {
		end = at.lastIdx
	}
	for _, p := range paths {
		if p.final == at.reached && p.idx <= end {
			at.did |= p.done
		}
		// The first event to do each step, on any path within the attempt.
		if p.idx <= end {
			if j, ok := at.stepIdx[p.final]; !ok || p.idx < j {
				at.stepIdx[p.final] = p.idx
			}
		}
	}
	return at
}

// reachFromUnordered is reachFrom for Strict and AnyOrder funnels: one
// deterministic pass.
func reachFromUnordered(f funnel.Funnel, evs []funnel.Event, i int) refAttempt {
	entry := evs[i]
	deadline := entry.Time.Add(f.Window)
	visible := func(e funnel.Event) bool {
		return !e.Time.After(deadline) && ((f.Hold == funnel.NoDimension && f.HoldProperty == "") || refHold(f, e) == refHold(f, entry))
	}
	at := refAttempt{did: ^uint32(0), lastIdx: i, stepIdx: map[int]int{0: i}}
	switch f.Order {
	case funnel.Strict:
		prev := entry
		for k := i + 1; k < len(evs) && at.reached+1 < len(f.Steps); k++ {
			if evs[k].Time.After(deadline) || !withinStep(f, at.reached+1, prev, evs[k]) {
				break
			}
			if !visible(evs[k]) {
				continue
			}
			if !refStep(f, at.reached+1, evs[k]) {
				break
			}
			at.reached, prev, at.lastIdx = at.reached+1, evs[k], k
			at.stepIdx[at.reached] = k
		}
	default:
		done := map[int]bool{refRank(f, entry): true}
		for k := i + 1; k < len(evs) && at.reached+1 < len(f.Steps); k++ {
			if visible(evs[k]) && !done[refRank(f, evs[k])] {
				done[refRank(f, evs[k])] = true
				at.reached, at.lastIdx = at.reached+1, k
				at.stepIdx[at.reached] = k
			}
		}
	}
	return at
}

func TestMatchesBruteForce(t *testing.T) {
	r := rand.New(rand.NewSource(1))
	for iter := 0; iter < 600; iter++ {
		events := randomStream(r)
		s := funnel.NewMemory(funnel.Options{})
		if _, err := s.Ingest(ctx, events); err != nil {
			t.Fatal(err)
		}
		for _, order := range []funnel.Order{funnel.Ordered, funnel.Strict, funnel.AnyOrder} {
			f := randomFunnel(r, order)
			f.Count = []funnel.Counting{funnel.Uniques, funnel.UniquesFirstEntry, funnel.UniquesReentry}[r.Intn(3)]
			if f.Count == funnel.UniquesReentry && slices.ContainsFunc(f.Steps, func(st funnel.Step) bool { return st.Optional }) {
				// Re-entry moves the counted attempt's start, which can
				// change the optional steps it did; the reference does
				// not model that.
				f.Count = funnel.Uniques
			}
			rep, err := funnel.Analyze(ctx, s, f, propQery)
			if err != nil {
				t.Fatal(err)
			}
			if want, got := reach(f, propQery, events), reportCounts(rep); !reflect.DeepEqual(got, want) {
				t.Fatalf("iteration %d, funnel %+v:\ngot  %v\nwant %v\nevents %+v", iter, f, got, want, events)
			}
			// Broken down by variant, by the entry, the furthest step or
			// a chosen step.
			q := propQery
			q.Breakdown = funnel.Variant
			q.Attribution = funnel.Attribution(r.Intn(3))
			q.AttributionStep = r.Intn(len(f.Steps))
			if f.Count == funnel.UniquesReentry {
				f.Count = funnel.Uniques // re-entry may take another entry's value
			}
			rep, err = funnel.Analyze(ctx, s, f, q)
			if err != nil {
				t.Fatal(err)
			}
			if want, got := reach(f, q, events), reportCounts(rep); !reflect.DeepEqual(got, want) {
				t.Fatalf("iteration %d, funnel %+v, attribution %d step %d:\ngot  %v\nwant %v\nevents %+v", iter, f, q.Attribution, q.AttributionStep, got, want, events)
			}
		}
	}
}

// reportCounts maps a report's breakdown values to their step counts.
func reportCounts(rep *funnel.Report) map[string][]int64 {
	out := map[string][]int64{}
	for _, g := range rep.Groups {
		for _, st := range g.Steps {
			out[g.Key] = append(out[g.Key], st.Count)
		}
	}
	return out
}

// TestBackendsAgree runs random funnels with every option over the same
// random streams on Memory and Redis and wants identical reports.
func TestBackendsAgree(t *testing.T) {
	client := redistest.Client(t)
	r := rand.New(rand.NewSource(2))
	for iter := 0; iter < 40; iter++ {
		events := randomStream(r)
		mem := funnel.NewMemory(funnel.Options{})
		red := newRedis(client)(t, funnel.Options{})
		for _, s := range []*funnel.Store{mem, red} {
			if _, err := s.Ingest(ctx, events); err != nil {
				t.Fatal(err)
			}
		}
		for _, order := range []funnel.Order{funnel.Ordered, funnel.Strict, funnel.AnyOrder} {
			f := randomFunnel(r, order)
			f.Count = funnel.Counting(r.Intn(4))
			if len(f.Steps) > 1 && r.Intn(2) == 0 {
				f.Exclusions = []funnel.Exclusion{{Event: "x", From: 0, To: len(f.Steps) - 1}}
			}
			q := propQery
			q.Breakdown = funnel.Variant
			q.Interval = funnel.Hourly
			want, err := funnel.Analyze(ctx, mem, f, q)
			if err != nil {
				t.Fatal(err)
			}
			got, err := funnel.Analyze(ctx, red, f, q)
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, want) {
				t.Fatalf("funnel %+v: Redis %+v, Memory %+v", f, got, want)
			}
			checkMonotone(t, f, want)
		}
	}
}

// checkMonotone wants no step counted more than the required step before
// it (an optional step may count fewer than the step after it).
func checkMonotone(t *testing.T, f funnel.Funnel, rep *funnel.Report) {
	t.Helper()
	for _, g := range rep.Groups {
		prev := 0
		for i := 1; i < len(g.Steps); i++ {
			if g.Steps[i].Count > g.Steps[prev].Count || int64(len(g.Steps[i].TimeToConvert)) != g.Steps[i].Count {
				t.Fatalf("group %+v is not a funnel", g)
			}
			if !f.Steps[i].Optional {
				prev = i
			}
		}
	}
}

// withinStep reports whether e may be step s after the previous step's
// event prev, by step s's own window.
func withinStep(f funnel.Funnel, s int, prev, e funnel.Event) bool {
	w := f.Steps[s].Within
	return w == 0 || !e.Time.After(prev.Time.Add(w))
}
