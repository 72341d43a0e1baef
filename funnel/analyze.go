package funnel

import (
	"context"
	"math"
	"slices"
	"sort"
	"strconv"
	"time"

	"github.com/shopkit/shopkit/internal/keyspace"
)

// Order says how a funnel's steps must follow each other.
type Order int

// The orders.
const (
	// Ordered: the steps in order; other events may come in between.
	Ordered Order = iota
	// Strict: each step must be the user's next funnel event after the
	// previous step (an event named like any step of the funnel); any
	// other funnel event in between ends the attempt where it is.
	Strict
	// AnyOrder: the steps in any order; reaching step k means having done
	// k+1 distinct steps within the window.
	AnyOrder
)

// Counting says what a step counts.
type Counting int

// The countings. Each tool's default for unique users differs in which of
// a user's entries counts; the three Uniques modes name them:
//
//   - Uniques is Amplitude's "earliest-longest" path, and the furthest
//     level ClickHouse's windowFunnel finds, which PostHog's funnels are
//     built on: any entry may carry the user furthest.
//   - UniquesFirstEntry is Mixpanel's classic Unique users default: only
//     the first entry in the range counts, and later first-step events do
//     not restart its window (A at 1:00, A at 1:30, B at 1:45, C at 2:15
//     with a one-hour window reaches B, not C).
//   - UniquesReentry is Mixpanel's Optimized Re-entry: every entry is
//     tried, as with Uniques, and the counted attempt starts at the most
//     recent first-step event before its second step (A, A′, A″, B
//     records A″ → B, and the time to convert from A″).
const (
	// Uniques counts users: each user once per group, at the furthest
	// step any of their attempts reached; the earliest such attempt
	// supplies the times.
	Uniques Counting = iota
	// Totals counts entries: every attempt counts. A user re-enters only
	// after the attempt in progress converted, timed out or was dropped
	// by an exclusion. With Hold, each held value (each SKU) has its own
	// attempts: one in progress for a SKU does not block another's.
	Totals
	// UniquesFirstEntry counts users by their first entry in the range
	// only (per group): how far that attempt got, within its own window.
	// A later entry neither restarts the window nor counts.
	UniquesFirstEntry
	// UniquesReentry counts users at the furthest step any entry reached,
	// as Uniques does, and of the earliest attempt that got there takes
	// the most recent entry before its second step as its start (for the
	// times to convert, and the group).
	UniquesReentry
)

// String returns the counting's name.
func (c Counting) String() string {
	switch c {
	case Uniques:
		return "uniques"
	case Totals:
		return "totals"
	case UniquesFirstEntry:
		return "uniques-first-entry"
	case UniquesReentry:
		return "uniques-reentry"
	}
	return "Counting(" + strconv.Itoa(int(c)) + ")"
}

// Interval buckets answers by the time of each attempt's entry.
type Interval int

// The intervals.
const (
	Whole Interval = iota // one bucket for the whole range
	Hourly
	Daily
)

// MaxSteps is the most steps a funnel may have.
const MaxSteps = 32

// DefaultWindow is the conversion window of a Funnel whose Window is zero.
const DefaultWindow = 24 * time.Hour

// Step is one step of a funnel: an event name.
type Step struct {
	Event string
	// AnyOf lists more event names that also count as this step: "viewed
	// a product or searched" as one step.
	AnyOf []string
	// Where filters the step's events by their properties (Event.Props):
	// all must hold.
	Where []Filter
	// Within, if positive, is this step's own window: it must come at
	// most that long after the previous step, as well as within the
	// funnel's Window of the entry. Ordered and Strict only; not on the
	// first step.
	Within time.Duration
	// Optional lets an attempt skip this step: later steps count with or
	// without it, and the step itself counts the attempts that did it on
	// their way to their furthest step (so it may count fewer than the
	// step after it). Ordered only; not the first or last step.
	Optional bool
}

// Exclusion drops an attempt in which the named event happens after the
// attempt reached step From and before it reached step To (step indexes,
// 0-based). A dropped attempt counts at no step.
type Exclusion struct {
	Event    string
	From, To int
	// Where filters the excluded events by their properties.
	Where []Filter
}

// Funnel defines a conversion funnel.
type Funnel struct {
	Steps []Step
	// Window is the time from an attempt's entry (its first step) within
	// which later steps count; zero means DefaultWindow.
	Window time.Duration
	Order  Order
	Count  Counting
	// Exclusions drop attempts; an exclusion's event may not be a step.
	Exclusions []Exclusion
	// Hold, when set, keeps a property constant across steps: an
	// attempt's later steps only match events with its entry event's
	// value (the same SKU from view to pay), and events with other values
	// are invisible to it, in Strict order too.
	Hold Dimension
	// HoldProperty holds one of Event.Props constant instead of a
	// Dimension (set one of Hold and HoldProperty).
	HoldProperty string
}

func (f *Funnel) window() time.Duration {
	if f.Window == 0 {
		return DefaultWindow
	}
	return f.Window
}

// Validate reports the first rule f breaks, as an *InputError.
func (f *Funnel) Validate() error {
	if len(f.Steps) == 0 || len(f.Steps) > MaxSteps {
		return &InputError{Field: "Steps", Rule: "must have 1 to " + strconv.Itoa(MaxSteps) + " steps"}
	}
	seen := make(map[string]bool, len(f.Steps))
	for i, s := range f.Steps {
		field := "Steps[" + strconv.Itoa(i) + "].Event"
		if rule := keyspace.CheckID(s.Event); rule != "" {
			return &InputError{Field: field, Rule: rule}
		}
		if seen[s.Event] && f.Order == AnyOrder {
			return &InputError{Field: field, Rule: "must not repeat a step in AnyOrder"}
		}
		for j, name := range s.AnyOf {
			af := "Steps[" + strconv.Itoa(i) + "].AnyOf[" + strconv.Itoa(j) + "]"
			if rule := keyspace.CheckID(name); rule != "" {
				return &InputError{Field: af, Rule: rule}
			}
			if f.Order == AnyOrder && seen[name] {
				return &InputError{Field: af, Rule: "must not repeat a step in AnyOrder"}
			}
			seen[name] = true
		}
		for j := range s.Where {
			if err := s.Where[j].check("Steps[" + strconv.Itoa(i) + "].Where[" + strconv.Itoa(j) + "]"); err != nil {
				return err
			}
		}
		if s.Optional && (i == 0 || i == len(f.Steps)-1 || f.Order != Ordered) {
			return &InputError{Field: "Steps[" + strconv.Itoa(i) + "].Optional", Rule: "must be false on the first and last step and outside Ordered"}
		}
		if s.Within < 0 || (s.Within > 0 && (i == 0 || f.Order == AnyOrder)) {
			return &InputError{Field: "Steps[" + strconv.Itoa(i) + "].Within", Rule: "must be ≥ 0, and 0 on the first step and in AnyOrder"}
		}
		seen[s.Event] = true
	}
	if f.Window < 0 {
		return &InputError{Field: "Window", Rule: "must not be negative"}
	}
	if f.Order < Ordered || f.Order > AnyOrder {
		return &InputError{Field: "Order", Rule: "must be Ordered, Strict or AnyOrder"}
	}
	if f.Count < Uniques || f.Count > UniquesReentry {
		return &InputError{Field: "Count", Rule: "must be Uniques, Totals, UniquesFirstEntry or UniquesReentry"}
	}
	if !f.Hold.valid() {
		return &InputError{Field: "Hold", Rule: "must be a known Dimension"}
	}
	if f.HoldProperty != "" {
		if rule := keyspace.CheckID(f.HoldProperty); rule != "" {
			return &InputError{Field: "HoldProperty", Rule: rule}
		}
		if f.Hold != NoDimension {
			return &InputError{Field: "HoldProperty", Rule: "must not be set with Hold"}
		}
	}
	for i, x := range f.Exclusions {
		field := "Exclusions[" + strconv.Itoa(i) + "]"
		if rule := keyspace.CheckID(x.Event); rule != "" {
			return &InputError{Field: field + ".Event", Rule: rule}
		}
		if seen[x.Event] {
			return &InputError{Field: field + ".Event", Rule: "must not be one of the steps"}
		}
		if x.From < 0 || x.To <= x.From || x.To >= len(f.Steps) {
			return &InputError{Field: field, Rule: "must have 0 <= From < To < len(Steps)"}
		}
		for j := range x.Where {
			if err := x.Where[j].check(field + ".Where[" + strconv.Itoa(j) + "]"); err != nil {
				return err
			}
		}
	}
	return nil
}

// Query says which attempts to count and how to group them.
type Query struct {
	// From (inclusive) and To (exclusive) bound the entry times of the
	// attempts counted. Their later steps may fall up to the window after
	// To, and events up to a window before From are read too, so that an
	// attempt in progress at From blocks re-entry as it would have.
	From, To time.Time
	// Breakdown groups attempts by their entry event's value of a
	// dimension. With Uniques a user counts once per value.
	Breakdown Dimension
	// Interval buckets attempts by entry time, in Location (nil: UTC).
	// With Uniques a user counts once per bucket.
	Interval Interval
	Location *time.Location
	// Users, if set, counts only these users (from CohortUsers).
	Users *Users
	// BreakdownProperty breaks down by one of Event.Props instead of a
	// Dimension (set one of Breakdown and BreakdownProperty).
	BreakdownProperty string
	// Attribution says which event of an attempt supplies its Breakdown
	// value: the entry (FirstTouch, the default), the furthest step
	// reached (LastTouch), or step AttributionStep (AtStep; attempts that
	// stop before it are grouped under the empty value).
	Attribution     Attribution
	AttributionStep int
}

// Attribution picks the event whose value an attempt is broken down by.
type Attribution int

// The attributions.
const (
	FirstTouch Attribution = iota // the entry event
	LastTouch                     // the furthest step's event
	AtStep                        // the event of Query.AttributionStep
)

func (q *Query) validate() error {
	if q.From.IsZero() || q.To.IsZero() {
		return &InputError{Field: "Query.From/To", Rule: "must be set"}
	}
	if !q.To.After(q.From) {
		return &InputError{Field: "Query.To", Rule: "must be after From"}
	}
	if !q.Breakdown.valid() {
		return &InputError{Field: "Query.Breakdown", Rule: "must be a known Dimension"}
	}
	if q.Interval < Whole || q.Interval > Daily {
		return &InputError{Field: "Query.Interval", Rule: "must be Whole, Hourly or Daily"}
	}
	if q.BreakdownProperty != "" {
		if rule := keyspace.CheckID(q.BreakdownProperty); rule != "" {
			return &InputError{Field: "Query.BreakdownProperty", Rule: rule}
		}
		if q.Breakdown != NoDimension {
			return &InputError{Field: "Query.BreakdownProperty", Rule: "must not be set with Breakdown"}
		}
	}
	if q.Attribution < FirstTouch || q.Attribution > AtStep {
		return &InputError{Field: "Query.Attribution", Rule: "must be FirstTouch, LastTouch or AtStep"}
	}
	return nil
}

// Report is a funnel's answer: one Group per bucket and breakdown value
// that has at least one entry, ordered by Start and then Key.
type Report struct {
	Groups []Group
}

// Group is the funnel for one bucket and breakdown value.
type Group struct {
	Start time.Time // the bucket's start; zero with Whole
	Key   string    // the breakdown value; "" without a Breakdown
	Steps []StepResult
}

// StepResult is one step of a Group.
type StepResult struct {
	Event string
	// Count is the users (Uniques) or entries (Totals) that reached this
	// step.
	Count int64
	// Conversion is Count over the previous step's Count (1 for the
	// first step); Overall is Count over the first step's Count.
	Conversion, Overall float64
	// TimeToConvert holds, for each user or entry counted, the time from
	// its entry to this step, in ascending order (empty for the first
	// step).
	TimeToConvert Durations
}

// Durations is a sorted list of durations.
type Durations []time.Duration

// Percentile returns the p-th percentile (0 ≤ p ≤ 100), interpolating
// linearly between the closest ranks, as spreadsheets and NumPy do; zero
// when empty.
func (d Durations) Percentile(p float64) time.Duration {
	if len(d) == 0 || math.IsNaN(p) {
		return 0
	}
	p = math.Max(0, math.Min(100, p))
	rank := p / 100 * float64(len(d)-1)
	lo := int(rank)
	if lo >= len(d)-1 {
		return d[len(d)-1]
	}
	frac := rank - float64(lo)
	return d[lo] + time.Duration(math.Round(frac*float64(d[lo+1]-d[lo])))
}

// Median is the 50th percentile: the mean of the middle two for an even
// count.
func (d Durations) Median() time.Duration { return d.Percentile(50) }

// Analyze evaluates funnel f over the events in s for query q.
func Analyze(ctx context.Context, s *Store, f Funnel, q Query) (*Report, error) {
	if err := f.Validate(); err != nil {
		return nil, err
	}
	if err := q.validate(); err != nil {
		return nil, err
	}
	if q.Attribution == AtStep && (q.AttributionStep < 0 || q.AttributionStep >= len(f.Steps)) {
		return nil, &InputError{Field: "Query.AttributionStep", Rule: "must name a step of the funnel"}
	}
	ev := newEvaluator(&f, &q)
	w := f.window()
	req := scanQuery{ScanRequest{Names: ev.names, From: q.From.Add(-w), To: q.To.Add(w + time.Microsecond)}, true}
	if err := s.scan(ctx, req, func(user string, events []Event) error {
		if q.Users.Contains(user) {
			ev.user(events)
		}
		return nil
	}); err != nil {
		return nil, err
	}
	return ev.report(), nil
}

// evaluator runs one funnel over users' events, one user at a time.
type evaluator struct {
	f        *Funnel
	q        *Query
	window   int64 // microseconds
	from, to int64
	names    []string
	rank     map[string]int // step index of a name, len(Steps) for exclusions
	groups   map[groupKey]*groupAcc
	// per-user scratch, reused
	evs     []fev
	best    map[groupKey]attempt
	taken   map[groupKey]bool // UniquesFirstEntry: groups whose first entry was followed
	scratch []int64
	// stepWindows: some step has its own window (Step.Within), so an
	// Ordered attempt is searched (followWindows) rather than matched
	// greedily: the earliest match for a step can miss a later step's
	// window that a later match would meet.
	stepWindows bool
	optional    bool    // some step is Optional
	latest      []int64 // followWindows scratch: per step, the latest feasible time
	forcedAt    []int64 // followWindows scratch for the runs that force an optional step
	forcedLast  []int64
	// filtered: some step has AnyOf or Where, or some exclusion Where, so
	// events match steps through isStep and rankOf rather than by name.
	filtered  bool
	holding   bool               // Hold or HoldProperty is set
	where     [][]compiledFilter // per step
	exclWhere [][]compiledFilter // per exclusion
}

// bestAt returns a slice to copy a new best attempt's times into, reusing
// the one it replaces.
func (ev *evaluator) bestAt(k groupKey) []int64 {
	if b, ok := ev.best[k]; ok {
		return b.at[:0]
	}
	return make([]int64, 0, len(ev.f.Steps))
}

// fev is an event reduced to what the funnel needs.
type fev struct {
	t    int64 // microseconds
	rank int   // first step index with this name, or len(Steps) for an exclusion
	name string
	id   string
	hold string
	key  string // breakdown value
	// props are the event's properties, read when steps or exclusions
	// filter on them.
	props map[string]string
}

type groupKey struct {
	bucket int64 // bucket start, unix seconds; 0 with Whole
	key    string
}

type groupAcc struct {
	counts []int64
	times  [][]time.Duration
}

// attempt is one path through the funnel from an entry.
type attempt struct {
	start   int     // index of the entry event
	reached int     // furthest step index reached; -1 if dropped
	at      []int64 // time of each step reached (microseconds)
	key     string  // the breakdown value, by the query's Attribution
}

func newEvaluator(f *Funnel, q *Query) *evaluator {
	ev := &evaluator{
		f: f, q: q,
		window:  int64(f.window() / time.Microsecond),
		from:    q.From.UnixMicro(),
		to:      q.To.UnixMicro(),
		rank:    make(map[string]int),
		groups:  make(map[groupKey]*groupAcc),
		best:    make(map[groupKey]attempt),
		scratch: make([]int64, 0, len(f.Steps)),
	}
	for i, s := range f.Steps {
		for _, name := range append([]string{s.Event}, s.AnyOf...) {
			if _, ok := ev.rank[name]; !ok {
				ev.rank[name] = i
				ev.names = append(ev.names, name)
			}
		}
		ev.where = append(ev.where, compileFilters(s.Where))
		ev.filtered = ev.filtered || len(s.AnyOf) > 0 || len(s.Where) > 0
	}
	ev.holding = f.Hold != NoDimension || f.HoldProperty != ""
	for _, x := range f.Exclusions {
		ev.exclWhere = append(ev.exclWhere, compileFilters(x.Where))
		ev.filtered = ev.filtered || len(x.Where) > 0
	}
	for _, x := range f.Exclusions {
		if _, ok := ev.rank[x.Event]; !ok {
			ev.rank[x.Event] = len(f.Steps)
			ev.names = append(ev.names, x.Event)
		}
	}
	for _, s := range f.Steps {
		ev.stepWindows = ev.stepWindows || s.Within > 0 || s.Optional
		ev.optional = ev.optional || s.Optional
	}
	return ev
}

// user evaluates one user's events (sorted by time).
func (ev *evaluator) user(events []Event) {
	evs := ev.evs[:0]
	for i := range events {
		e := &events[i]
		r, ok := ev.rank[e.Name]
		if !ok {
			continue
		}
		if ev.filtered {
			// The first step the event matches, name and filters; or an
			// exclusion it matches; or none, and it is not a funnel event.
			if r = ev.rankOf(e); r < 0 {
				continue
			}
		}
		fe := fev{t: e.Time.UnixMicro(), rank: r, name: e.Name, id: e.ID,
			hold: ev.f.Hold.Of(e), key: ev.q.Breakdown.Of(e), props: e.Props}
		if ev.f.HoldProperty != "" {
			fe.hold = e.Props[ev.f.HoldProperty]
		}
		if ev.q.BreakdownProperty != "" {
			fe.key = e.Props[ev.q.BreakdownProperty]
		}
		evs = append(evs, fe)
	}
	ev.evs = evs
	// Ties in time go by step order, then by ID, so every backend and
	// every ingest order gives the same answer.
	if !sort.SliceIsSorted(evs, func(i, j int) bool { return fevLess(&evs[i], &evs[j]) }) {
		sort.Slice(evs, func(i, j int) bool { return fevLess(&evs[i], &evs[j]) })
	}
	if ev.f.Count == Totals {
		if !ev.holding {
			ev.totals()
			return
		}
		// Attempts for different held values (different SKUs) do not
		// block each other: count each value's attempts on its own
		// events, which are all an attempt for it can see anyway.
		sort.SliceStable(evs, func(i, j int) bool { return evs[i].hold < evs[j].hold })
		for lo := 0; lo < len(evs); {
			hi := lo + 1
			for hi < len(evs) && evs[hi].hold == evs[lo].hold {
				hi++
			}
			ev.evs = evs[lo:hi]
			ev.totals()
			lo = hi
		}
		ev.evs = evs
		return
	}
	clear(ev.best)
	firstOnly := ev.f.Count == UniquesFirstEntry
	if firstOnly {
		if ev.taken == nil {
			ev.taken = map[groupKey]bool{}
		}
		clear(ev.taken)
	}
	for i := range evs {
		if !ev.enters(i) || evs[i].t < ev.from || evs[i].t >= ev.to {
			continue
		}
		if firstOnly {
			// The first entry per bucket and entry value counts, however
			// the attempt is then attributed.
			if tk := ev.groupOf(i); ev.taken[tk] {
				continue // it may have been dropped
			} else {
				ev.taken[tk] = true
			}
		}
		a, _ := ev.follow(i)
		k := ev.q.group(a.at[0], a.key)
		if b, ok := ev.best[k]; a.reached >= 0 && (!ok || a.reached > b.reached) {
			a.at = append(ev.bestAt(k), a.at...)
			ev.best[k] = a
		}
	}
	for k, a := range ev.best {
		if ev.f.Count == UniquesReentry && a.reached >= 1 {
			a = ev.latestEntry(k, a)
		}
		ev.record(a)
	}
}

// latestEntry returns, for an attempt a of group k that reached step 1 or
// further, the attempt from the most recent entry of the same group (and
// held value) before a's second step that reaches as far — a itself when
// none does. Optimized re-entry counts that one.
func (ev *evaluator) latestEntry(k groupKey, a attempt) attempt {
	evs, entry := ev.evs, &ev.evs[a.start]
	second := a.at[1]
	for s := 2; second < 0 && s <= a.reached; s++ {
		second = a.at[s] // the first step done after the entry
	}
	// before reports whether event j comes before a's second step: earlier,
	// or at the same instant and sorted ahead of it (a first-step event
	// sorts ahead of a later step's at the same instant).
	before := func(j int) bool {
		return evs[j].t < second || (evs[j].t == second && ev.f.Order != AnyOrder && evs[j].rank == 0)
	}
	eligible := func(j int) bool {
		e := &evs[j]
		return ev.enters(j) && e.t >= ev.from && e.t < ev.to &&
			(!ev.holding || e.hold == entry.hold)
	}
	last := a.start
	for j := a.start + 1; j < len(evs) && before(j); j++ {
		if eligible(j) {
			last = j
		}
	}
	// The latest entry normally reaches as far (its window ends later);
	// Strict order or an exclusion between may stop it, so check, and
	// fall back to earlier ones.
	for j := last; j > a.start; j-- {
		if !eligible(j) {
			continue
		}
		if b, _ := ev.follow(j); b.reached >= a.reached && ev.q.group(b.at[0], b.key) == k {
			b.at = append(a.at[:0], b.at...)
			return b
		}
	}
	return a
}

// totals counts every attempt in ev.evs: a new one enters only once the
// one in progress converted, timed out or was dropped.
func (ev *evaluator) totals() {
	evs := ev.evs
	for i := 0; i < len(evs); {
		if !ev.enters(i) {
			i++
			continue
		}
		a, next := ev.follow(i)
		if a.reached >= 0 && evs[i].t >= ev.from && evs[i].t < ev.to {
			ev.record(a)
		}
		i = next
	}
}

func fevLess(a, b *fev) bool {
	if a.t != b.t {
		return a.t < b.t
	}
	if a.rank != b.rank {
		return a.rank < b.rank
	}
	return a.id < b.id
}

// enters reports whether event i may start an attempt.
func (ev *evaluator) enters(i int) bool {
	r := ev.evs[i].rank
	if ev.f.Order == AnyOrder {
		return r < len(ev.f.Steps)
	}
	return r == 0
}

// follow runs the attempt entered at event i and returns it with the index
// from which the next entry may be looked for (Totals).
func (ev *evaluator) follow(i int) (attempt, int) {
	if ev.stepWindows && ev.f.Order == Ordered {
		a, next := ev.followWindows(i, -1, len(ev.evs), ev.scratch[:0], &ev.latest)
		if ev.optional && a.reached > 0 {
			// An optional step counts only if some path to the furthest
			// step did it: search again with it required, within the
			// same attempt's events.
			for k := 1; k < a.reached; k++ {
				if !ev.f.Steps[k].Optional || a.at[k] < 0 {
					continue
				}
				if b, _ := ev.followWindows(i, k, next, ev.forcedAt[:0], &ev.forcedLast); b.reached < a.reached {
					a.at[k] = -1
				}
			}
		}
		return a, next
	}
	evs, steps := ev.evs, ev.f.Steps
	entry := &evs[i]
	// Step times go into one scratch slice: most attempts are recorded or
	// dropped at once, and the few kept as a user's best are copied.
	a := attempt{start: i, reached: 0, at: append(ev.scratch[:0], 0)}
	a.at[0] = entry.t
	attribution := ev.q.Attribution
	switch {
	case attribution == FirstTouch, attribution == LastTouch,
		attribution == AtStep && ev.q.AttributionStep == 0:
		a.key = entry.key
	}
	var done uint64 // AnyOrder: steps done, by index
	if ev.f.Order == AnyOrder {
		done = 1 << entry.rank
	}
	deadline := entry.t + ev.window
	last := len(steps) - 1
	if a.reached == last {
		return a, i + 1
	}
	// stepDeadline is when the next step's own window (Step.Within) ends.
	stepDeadline := func() int64 {
		if w := steps[a.reached+1].Within; w > 0 {
			return a.at[a.reached] + int64(w/time.Microsecond)
		}
		return math.MaxInt64
	}
	next := stepDeadline()
	for j := i + 1; j < len(evs); j++ {
		e := &evs[j]
		switch ev.screen(e, entry, &a, min(deadline, next)) {
		case timedOut:
			return a, j // this event may enter anew
		case dropped:
			return a, j + 1
		case invisible:
			continue
		}
		// Steps may repeat a name in Ordered and Strict, so matching goes
		// by name (and filters) rather than by rank.
		switch ev.f.Order {
		case Ordered:
			if !ev.isStep(a.reached+1, e) {
				continue
			}
		case Strict:
			if !ev.isStep(a.reached+1, e) {
				return a, j // broken; this event may enter anew
			}
		case AnyOrder:
			if done&(1<<e.rank) != 0 {
				continue
			}
			done |= 1 << e.rank
		}
		a.reached++
		a.at = append(a.at, e.t)
		if attribution == LastTouch || (attribution == AtStep && a.reached == ev.q.AttributionStep) {
			a.key = e.key
		}
		if a.reached == last {
			return a, j + 1
		}
		next = stepDeadline()
	}
	return a, len(evs)
}

// verdict is what screen makes of an event for an attempt in progress.
type verdict uint8

const (
	candidate verdict = iota // a step event the attempt may take
	invisible                // another held value's, or an exclusion that does not apply
	timedOut                 // past the attempt's end
	dropped                  // an exclusion that drops the attempt (a.reached is -1)
)

// screen does what every way of following an attempt does first with its
// next event: time out after end, skip other held values, and apply
// exclusions.
func (ev *evaluator) screen(e, entry *fev, a *attempt, end int64) verdict {
	switch {
	case e.t > end:
		return timedOut
	case ev.holding && e.hold != entry.hold:
		return invisible
	case e.rank == len(ev.f.Steps): // an exclusion event
		if ev.excluded(e, a.reached) {
			a.reached = -1
			return dropped
		}
		return invisible
	}
	return candidate
}

// excluded reports whether an exclusion event named name drops an attempt
// at step reached.
func (ev *evaluator) excluded(e *fev, reached int) bool {
	for i, x := range ev.f.Exclusions {
		if x.Event == e.name && x.From <= reached && reached < x.To && (!ev.filtered || match(ev.exclWhere[i], e.props)) {
			return true
		}
	}
	return false
}

// isStep reports whether e counts as step s: by name, or with AnyOf and
// Where, by any of its names and every filter.
func (ev *evaluator) isStep(s int, e *fev) bool {
	if !ev.filtered {
		return ev.f.Steps[s].Event == e.name
	}
	st := &ev.f.Steps[s]
	if st.Event != e.name && !slices.Contains(st.AnyOf, e.name) {
		return false
	}
	return match(ev.where[s], e.props)
}

// rankOf is an event's rank when steps have filters or alternatives: the
// first step it counts as, len(Steps) when it is only an exclusion it
// matches, -1 when neither.
func (ev *evaluator) rankOf(e *Event) int {
	fe := fev{name: e.Name, props: e.Props}
	for s := range ev.f.Steps {
		if ev.isStep(s, &fe) {
			return s
		}
	}
	for i, x := range ev.f.Exclusions {
		if x.Event == e.Name && match(ev.exclWhere[i], e.Props) {
			return len(ev.f.Steps)
		}
	}
	return -1
}

func (ev *evaluator) groupOf(i int) groupKey {
	e := &ev.evs[i]
	return ev.q.group(e.t, e.key)
}

func (q *Query) location() *time.Location {
	if q.Location == nil {
		return time.UTC
	}
	return q.Location
}

// group returns the bucket and breakdown group of an event at micros with
// breakdown value key.
func (q *Query) group(micros int64, key string) groupKey {
	k := groupKey{key: key}
	if q.Interval != Whole {
		loc := q.location()
		t := time.UnixMicro(micros).In(loc)
		y, m, d := t.Date()
		h := 0
		if q.Interval == Hourly {
			h = t.Hour()
		}
		k.bucket = time.Date(y, m, d, h, 0, 0, 0, loc).Unix()
	}
	return k
}

func (ev *evaluator) record(a attempt) {
	k := ev.q.group(a.at[0], a.key)
	g := ev.groups[k]
	if g == nil {
		n := len(ev.f.Steps)
		g = &groupAcc{counts: make([]int64, n), times: make([][]time.Duration, n)}
		ev.groups[k] = g
	}
	for s := 0; s <= a.reached; s++ {
		if a.at[s] < 0 {
			continue // an optional step the attempt skipped
		}
		g.counts[s]++
		if s > 0 {
			g.times[s] = append(g.times[s], time.Duration(a.at[s]-a.at[0])*time.Microsecond)
		}
	}
}

func (ev *evaluator) report() *Report {
	keys := make([]groupKey, 0, len(ev.groups))
	for k := range ev.groups {
		keys = append(keys, k)
	}
	sort.Slice(keys, func(i, j int) bool {
		if keys[i].bucket != keys[j].bucket {
			return keys[i].bucket < keys[j].bucket
		}
		return keys[i].key < keys[j].key
	})
	loc := ev.q.location()
	r := &Report{Groups: make([]Group, 0, len(keys))}
	for _, k := range keys {
		acc := ev.groups[k]
		g := Group{Key: k.key, Steps: make([]StepResult, len(ev.f.Steps))}
		if ev.q.Interval != Whole {
			g.Start = time.Unix(k.bucket, 0).In(loc)
		}
		for s := range g.Steps {
			d := Durations(acc.times[s])
			sort.Slice(d, func(i, j int) bool { return d[i] < d[j] })
			g.Steps[s] = StepResult{Event: ev.f.Steps[s].Event, Count: acc.counts[s],
				Conversion: 1, Overall: ratio(acc.counts[s], acc.counts[0]), TimeToConvert: d}
			if s > 0 {
				g.Steps[s].Conversion = ratio(acc.counts[s], acc.counts[s-1])
			}
		}
		r.Groups = append(r.Groups, g)
	}
	return r
}

func ratio(a, b int64) float64 {
	if b == 0 {
		return 0
	}
	return float64(a) / float64(b)
}

// followWindows is follow for an Ordered funnel with step windows. It
// tracks, per step, the latest time the step can be reached on a valid
// path so far: an event of step s+1 is reachable when step s was reached
// before it, no longer ago than step s+1's window — and the latest such
// step-s time is the best predecessor. A step's reported time is the
// earliest at which it became reachable, which is what greedy matching
// reports when no step has a window of its own. The attempt times out at
// the funnel's window, or once no reachable step can still be followed by
// its next within that step's window.
//
// With optional steps, a step is satisfied by doing it or, if it is
// optional (and not the one forced, required for this run), by its
// predecessor being satisfied; the next step follows the latest
// satisfaction. A step skipped has time -1 in a.at. The search reads
// events before bound only.
func (ev *evaluator) followWindows(i, forced, bound int, at []int64, latestBuf *[]int64) (attempt, int) {
	evs, steps := ev.evs, ev.f.Steps
	entry := &evs[i]
	a := attempt{start: i, reached: 0, at: append(at, entry.t)}
	attribution := ev.q.Attribution
	if attribution != AtStep || ev.q.AttributionStep == 0 {
		a.key = entry.key
	}
	last := len(steps) - 1
	if last == 0 {
		return a, i + 1
	}
	latest := (*latestBuf)[:0]
	for range steps {
		latest = append(latest, -1)
	}
	*latestBuf = latest
	latest[0] = entry.t
	deadline := entry.t + ev.window
	// satisfied is the latest time step s was done or, when it may be
	// skipped, its predecessor satisfied; -1 if neither.
	satisfied := func(s int) int64 {
		t := latest[s]
		for k := s; k > 0 && steps[k].Optional && k != forced; k-- {
			t = max(t, latest[k-1])
		}
		return t
	}
	// stuck is when no satisfied step can be followed any more: the
	// latest end of the next step's window over the satisfied steps.
	stuck := func() int64 {
		end := int64(-1)
		for s := 0; s < last; s++ {
			t := satisfied(s) // a skipped optional step is satisfied beyond reached
			if t < 0 {
				continue
			}
			w := steps[s+1].Within
			if w == 0 {
				return math.MaxInt64
			}
			end = max(end, t+int64(w/time.Microsecond))
		}
		return end
	}
	until := stuck()
	for j := i + 1; j < bound; j++ {
		e := &evs[j]
		switch ev.screen(e, entry, &a, min(deadline, until)) {
		case timedOut:
			return a, j // this event may enter anew
		case dropped:
			return a, j + 1
		case invisible:
			continue
		}
		// Highest step first, so one event serves as one step only.
		changed := false
		for s := last - 1; s >= 0; s-- {
			pred := satisfied(s)
			if pred < 0 || !ev.isStep(s+1, e) {
				continue
			}
			if w := steps[s+1].Within; w > 0 && e.t-pred > int64(w/time.Microsecond) {
				continue
			}
			first := latest[s+1] < 0
			latest[s+1] = e.t
			changed = true
			if s+1 > a.reached {
				for len(a.at) < s+1 {
					a.at = append(a.at, -1) // skipped optional steps
				}
				a.reached = s + 1
				a.at = append(a.at, e.t)
				if attribution == LastTouch || (attribution == AtStep && a.reached == ev.q.AttributionStep) {
					a.key = e.key
				}
			} else if first && a.at[s+1] < 0 {
				a.at[s+1] = e.t // an optional step done after a later one was reached
				if attribution == AtStep && s+1 == ev.q.AttributionStep {
					a.key = e.key
				}
			}
		}
		if a.reached == last {
			return a, j + 1
		}
		if changed {
			until = stuck()
		}
	}
	return a, bound
}
