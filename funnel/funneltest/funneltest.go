// Package funneltest is the conformance suite for *funnel.Store. Its cases
// are the funnel semantics themselves, evaluated by funnel.Analyze and
// funnel.Measure over the store, so every backend answers every question
// the same way.
package funneltest

import (
	"context"
	"errors"
	"fmt"
	"math"
	"reflect"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/shopspring/decimal"

	"github.com/shopkit/shopkit/funnel"
)

// NewStore returns an empty store configured by opts (Retention and
// HyperLogLog); the backend chooses its own prefix and clock.
type NewStore func(t *testing.T, opts funnel.Options) *funnel.Store

var ctx = context.Background()

// Run runs the suite.
func Run(t *testing.T, newStore NewStore) {
	tests := []struct {
		name string
		fn   func(*testing.T, NewStore)
	}{
		{"IngestIsIdempotent", testIdempotent},
		{"ObserverSeesIngests", testObserver},
		{"InvalidBatchWritesNothing", testInvalid},
		{"ScanSelectsAndOrders", testScan},
		{"ScanStopsOnError", testScanError},
		{"RetentionExpiresOldDays", testRetention},
		{"ConcurrentIngestStoresOnce", testConcurrent},
		{"OrderedAllowsEventsBetween", testOrdered},
		{"OrderedIgnoresStepsOutOfOrder", testOutOfOrder},
		{"WindowCutsUserOff", testWindow},
		{"StrictBreaksOnOtherFunnelEvents", testStrict},
		{"AnyOrderCountsDistinctSteps", testAnyOrder},
		{"ExclusionsDropAttempts", testExclusions},
		{"TotalsReenterAfterConversionOrTimeout", testTotals},
		{"HoldKeepsPropertyConstant", testHold},
		{"BreakdownAndBuckets", testBreakdown},
		{"TimeToConvert", testTimeToConvert},
		{"SameInstantGoesByStepOrder", testTies},
		{"EntriesOnlyInRange", testRange},
		{"KPIs", testKPIs},
		{"Uniques", testUniques},
		{"CountingModesAsTheToolsDocument", testCountingModes},
		{"RetentionByCohort", testRetentionReport},
		{"TrendsPerPeriod", testTrends},
		{"CohortsFilterEveryReport", testCohorts},
		{"BreakdownAttribution", testAttribution},
		{"StepWindows", testStepWindows},
		{"EventProperties", testProperties},
		{"OptionalSteps", testOptionalSteps},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) { tt.fn(t, newStore) })
	}
}

// base is a recent instant (well within the default retention, by both
// the test's and the server's clock) at 10:00 UTC.
func base() time.Time {
	return time.Now().UTC().Truncate(24 * time.Hour).Add(-3*24*time.Hour + 10*time.Hour)
}

// builder makes events with unique IDs at offsets from base.
type builder struct {
	at     time.Time
	n      int
	events []funnel.Event
}

func newBuilder() *builder { return &builder{at: base()} }

// add appends an event of user named name at base+d, changed by opts.
func (b *builder) add(user, name string, d time.Duration, opts ...func(*funnel.Event)) *builder {
	b.n++
	e := funnel.Event{ID: "e" + strconv.Itoa(b.n), UserID: user, Name: name, Time: b.at.Add(d)}
	for _, o := range opts {
		o(&e)
	}
	b.events = append(b.events, e)
	return b
}

func variant(v string) func(*funnel.Event) { return func(e *funnel.Event) { e.Variant = v } }
func sku(v string) func(*funnel.Event)     { return func(e *funnel.Event) { e.SKU = v } }
func channel(v string) func(*funnel.Event) { return func(e *funnel.Event) { e.Channel = v } }
func order(id, amount string) func(*funnel.Event) {
	return func(e *funnel.Event) { e.OrderID, e.Amount = id, decimal.RequireFromString(amount) }
}

func ingest(t *testing.T, s *funnel.Store, events []funnel.Event) funnel.Ingested {
	t.Helper()
	res, err := s.Ingest(ctx, events)
	if err != nil {
		t.Fatal(err)
	}
	return res
}

// store returns a store holding b's events.
func (b *builder) store(t *testing.T, newStore NewStore) *funnel.Store {
	t.Helper()
	s := newStore(t, funnel.Options{})
	if res := ingest(t, s, b.events); res.Stored != len(b.events) {
		t.Fatalf("ingest = %+v, want %d stored", res, len(b.events))
	}
	return s
}

func steps(names ...string) []funnel.Step {
	out := make([]funnel.Step, len(names))
	for i, n := range names {
		out[i] = funnel.Step{Event: n}
	}
	return out
}

// wholeDay is a query over the test day (and the next), without grouping.
func wholeDay() funnel.Query {
	b := base().Truncate(24 * time.Hour)
	return funnel.Query{From: b, To: b.Add(48 * time.Hour)}
}

func analyze(t *testing.T, s *funnel.Store, f funnel.Funnel, q funnel.Query) *funnel.Report {
	t.Helper()
	rep, err := funnel.Analyze(ctx, s, f, q)
	if err != nil {
		t.Fatal(err)
	}
	return rep
}

// counts returns the step counts of a report with one group (nil when
// there is none).
func counts(t *testing.T, rep *funnel.Report) []int64 {
	t.Helper()
	switch len(rep.Groups) {
	case 0:
		return nil
	case 1:
	default:
		t.Fatalf("report has %d groups, want 1", len(rep.Groups))
	}
	var out []int64
	for _, s := range rep.Groups[0].Steps {
		out = append(out, s.Count)
	}
	return out
}

func wantCounts(t *testing.T, s *funnel.Store, f funnel.Funnel, want ...int64) {
	t.Helper()
	if got := counts(t, analyze(t, s, f, wholeDay())); !reflect.DeepEqual(got, want) {
		t.Errorf("counts = %v, want %v", got, want)
	}
}

func scanAll(t *testing.T, s *funnel.Store, req funnel.ScanRequest) map[string][]funnel.Event {
	t.Helper()
	out := make(map[string][]funnel.Event)
	if err := s.Scan(ctx, req, func(user string, events []funnel.Event) error {
		if _, dup := out[user]; dup {
			t.Errorf("user %s handed over twice", user)
		}
		out[user] = append([]funnel.Event(nil), events...)
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	return out
}

func dayRequest() funnel.ScanRequest {
	q := wholeDay()
	return funnel.ScanRequest{From: q.From, To: q.To}
}

func testIdempotent(t *testing.T, newStore NewStore) {
	s := newStore(t, funnel.Options{})
	b := newBuilder().add("u1", "view", 0).add("u1", "cart", time.Minute).add("u2", "view", 0)
	if res := ingest(t, s, b.events); res != (funnel.Ingested{Stored: 3}) {
		t.Fatalf("first ingest = %+v", res)
	}
	replay := append([]funnel.Event(nil), b.events...)
	replay = append(replay, replay[0]) // a duplicate inside the batch too
	if res := ingest(t, s, replay); res != (funnel.Ingested{Duplicates: 4}) {
		t.Fatalf("replay = %+v, want 4 duplicates", res)
	}
	// The same ID on another day is another event.
	next := b.events[0]
	next.Time = next.Time.Add(24 * time.Hour)
	if res := ingest(t, s, []funnel.Event{next}); res.Stored != 1 {
		t.Fatalf("same ID next day = %+v, want stored", res)
	}
	got := scanAll(t, s, dayRequest())
	if len(got["u1"]) != 3 || len(got["u2"]) != 1 {
		t.Fatalf("scan = %v", got)
	}
}

func testInvalid(t *testing.T, newStore NewStore) {
	s := newStore(t, funnel.Options{})
	good := newBuilder().add("u1", "view", 0).events[0]
	cases := []struct {
		field string
		edit  func(*funnel.Event)
	}{
		{"events[1].ID", func(e *funnel.Event) { e.ID = "" }},
		{"events[1].UserID", func(e *funnel.Event) { e.UserID = "a:b" }},
		{"events[1].Name", func(e *funnel.Event) { e.Name = "{x}" }},
		{"events[1].Time", func(e *funnel.Event) { e.Time = time.Time{} }},
		{"events[1].Amount", func(e *funnel.Event) { e.Amount = decimal.NewFromInt(-1) }},
		{"events[1].Amount", func(e *funnel.Event) { e.Amount = decimal.New(1, 40) }},
		{"events[1].SKU", func(e *funnel.Event) { e.SKU = "a b" }},
		{"events[1].Variant", func(e *funnel.Event) { e.Variant = "x\x1fy" }},
	}
	for _, c := range cases {
		bad := good
		bad.ID = "other"
		c.edit(&bad)
		_, err := s.Ingest(ctx, []funnel.Event{good, bad})
		var ie *funnel.InputError
		if !errors.As(err, &ie) || ie.Field != c.field || !errors.Is(err, funnel.ErrInvalidInput) {
			t.Errorf("%s: err = %v, want an InputError for it", c.field, err)
		}
	}
	if got := scanAll(t, s, dayRequest()); len(got) != 0 {
		t.Fatalf("a refused batch wrote %v", got)
	}
	if err := s.Scan(ctx, funnel.ScanRequest{From: base(), To: base()}, func(string, []funnel.Event) error { return nil }); !errors.Is(err, funnel.ErrInvalidInput) {
		t.Errorf("empty scan range: err = %v", err)
	}
}

func testScan(t *testing.T, newStore NewStore) {
	s := newStore(t, funnel.Options{})
	b := newBuilder()
	b.add("u1", "pay", 2*time.Hour, order("o1", "1234567890123.45"), channel("app"))
	b.add("u1", "view", time.Hour+1234*time.Nanosecond, variant("B"), sku("sku-1"))
	b.add("u1", "cart", time.Hour+1234*time.Nanosecond) // same µs: ordered by ID
	b.add("u2", "view", 30*time.Hour)
	b.add("u3", "view", -2*time.Hour) // before the range
	ingest(t, s, b.events)
	q := wholeDay()
	got := scanAll(t, s, funnel.ScanRequest{From: base(), To: q.To})
	if len(got) != 2 {
		t.Fatalf("users = %v, want u1 and u2", got)
	}
	u1 := got["u1"]
	if len(u1) != 3 || u1[0].ID != "e2" || u1[1].ID != "e3" || u1[2].ID != "e1" {
		t.Fatalf("u1 events = %+v, want e2, e3, e1", u1)
	}
	if !u1[0].Time.Equal(base().Add(time.Hour + time.Microsecond)) {
		t.Errorf("time = %v, want truncated to the microsecond", u1[0].Time)
	}
	if u1[0].Variant != "B" || u1[0].SKU != "sku-1" || u1[0].Name != "view" {
		t.Errorf("dimensions lost: %+v", u1[0])
	}
	if p := u1[2]; p.Amount.String() != "1234567890123.45" || p.OrderID != "o1" || p.Channel != "app" {
		t.Errorf("pay event = %+v", p)
	}
	only := scanAll(t, s, funnel.ScanRequest{Names: []string{"view"}, From: base(), To: q.To})
	if len(only) != 2 || len(only["u1"]) != 1 || only["u1"][0].Name != "view" {
		t.Errorf("names filter: %v", only)
	}
	early := scanAll(t, s, funnel.ScanRequest{From: base().Add(-3 * time.Hour), To: base().Add(time.Hour)})
	if len(early) != 1 || len(early["u3"]) != 1 {
		t.Errorf("range filter: %v", early)
	}
}

func testScanError(t *testing.T, newStore NewStore) {
	b := newBuilder()
	for i := 0; i < 20; i++ {
		b.add("u"+strconv.Itoa(i), "view", 0)
	}
	s := b.store(t, newStore)
	stop := errors.New("stop")
	calls := 0
	err := s.Scan(ctx, dayRequest(), func(string, []funnel.Event) error {
		calls++
		return stop
	})
	if !errors.Is(err, stop) || calls != 1 {
		t.Fatalf("err = %v after %d calls, want the callback's error after 1", err, calls)
	}
}

func testRetention(t *testing.T, newStore NewStore) {
	s := newStore(t, funnel.Options{Retention: 48 * time.Hour})
	now := time.Now().UTC()
	events := []funnel.Event{
		{ID: "old", UserID: "u1", Name: "view", Time: now.Add(-5 * 24 * time.Hour)},
		{ID: "new", UserID: "u1", Name: "view", Time: now.Add(-time.Hour)},
	}
	if res := ingest(t, s, events); res != (funnel.Ingested{Stored: 1, Expired: 1}) {
		t.Fatalf("ingest = %+v, want 1 stored and 1 expired", res)
	}
	got := scanAll(t, s, funnel.ScanRequest{From: now.Add(-10 * 24 * time.Hour), To: now.Add(time.Hour)})
	if len(got["u1"]) != 1 || got["u1"][0].ID != "new" {
		t.Fatalf("scan = %v, want only the recent event", got)
	}
}

func testConcurrent(t *testing.T, newStore NewStore) {
	s := newStore(t, funnel.Options{})
	b := newBuilder()
	for i := 0; i < 400; i++ {
		b.add("u"+strconv.Itoa(i%37), "view", time.Duration(i)*time.Second)
	}
	var wg sync.WaitGroup
	var mu sync.Mutex
	var total funnel.Ingested
	for g := 0; g < 8; g++ {
		wg.Add(1)
		go func(g int) {
			defer wg.Done()
			// Overlapping halves: every event is sent by four goroutines.
			part := b.events[(g%2)*200 : (g%2)*200+200]
			res, err := s.Ingest(ctx, part)
			if err != nil {
				t.Error(err)
				return
			}
			mu.Lock()
			total.Stored += res.Stored
			total.Duplicates += res.Duplicates
			mu.Unlock()
		}(g)
	}
	wg.Wait()
	if total.Stored != 400 || total.Duplicates != 1200 {
		t.Fatalf("total = %+v, want 400 stored and 1200 duplicates", total)
	}
	n := 0
	for _, evs := range scanAll(t, s, dayRequest()) {
		n += len(evs)
	}
	if n != 400 {
		t.Fatalf("scan holds %d events, want 400", n)
	}
}

var viewCartPay = steps("view", "cart", "pay")

func testOrdered(t *testing.T, newStore NewStore) {
	b := newBuilder()
	// Repeats and other events between steps do not matter.
	b.add("u1", "view", 0).add("u1", "search", time.Minute).add("u1", "view", 2*time.Minute).
		add("u1", "cart", 3*time.Minute).add("u1", "view", 4*time.Minute).add("u1", "pay", 5*time.Minute)
	b.add("u2", "view", 0).add("u2", "cart", time.Minute)
	b.add("u3", "view", 0)
	b.add("u4", "cart", 0).add("u4", "pay", time.Minute) // never entered
	s := b.store(t, newStore)
	wantCounts(t, s, funnel.Funnel{Steps: viewCartPay}, 3, 2, 1)
	rep := analyze(t, s, funnel.Funnel{Steps: viewCartPay}, wholeDay())
	st := rep.Groups[0].Steps
	if math.Abs(st[1].Conversion-2.0/3) > 1e-12 || st[2].Conversion != 0.5 || math.Abs(st[2].Overall-1.0/3) > 1e-12 || st[0].Conversion != 1 {
		t.Errorf("conversions = %+v", st)
	}
}

func testOutOfOrder(t *testing.T, newStore NewStore) {
	b := newBuilder()
	b.add("u1", "cart", 0).add("u1", "view", time.Minute).add("u1", "pay", 2*time.Minute)
	b.add("u2", "view", 0).add("u2", "pay", time.Minute).add("u2", "cart", 2*time.Minute)
	s := b.store(t, newStore)
	wantCounts(t, s, funnel.Funnel{Steps: viewCartPay}, 2, 1, 0)
}

func testWindow(t *testing.T, newStore NewStore) {
	b := newBuilder()
	b.add("u1", "view", 0).add("u1", "cart", 30*time.Minute).add("u1", "pay", 61*time.Minute)
	b.add("u2", "view", 0).add("u2", "cart", time.Hour).add("u2", "pay", time.Hour) // at the edge: in
	// A later entry that fits the window counts for the user.
	b.add("u3", "view", 0).add("u3", "view", 2*time.Hour).add("u3", "cart", 2*time.Hour+time.Minute).add("u3", "pay", 2*time.Hour+2*time.Minute)
	s := b.store(t, newStore)
	wantCounts(t, s, funnel.Funnel{Steps: viewCartPay, Window: time.Hour}, 3, 3, 2)
}

func testStrict(t *testing.T, newStore NewStore) {
	b := newBuilder()
	b.add("u1", "view", 0).add("u1", "search", time.Minute).add("u1", "cart", 2*time.Minute).add("u1", "pay", 3*time.Minute)
	b.add("u2", "view", 0).add("u2", "pay", time.Minute).add("u2", "cart", 2*time.Minute)
	// A repeated view breaks the first attempt, but the repeat enters anew.
	b.add("u3", "view", 0).add("u3", "view", time.Minute).add("u3", "cart", 2*time.Minute)
	s := b.store(t, newStore)
	f := funnel.Funnel{Steps: viewCartPay, Order: funnel.Strict}
	wantCounts(t, s, f, 3, 2, 1)
	f.Order = funnel.Ordered
	wantCounts(t, s, f, 3, 3, 1)
}

func testAnyOrder(t *testing.T, newStore NewStore) {
	b := newBuilder()
	b.add("u1", "pay", 0).add("u1", "view", time.Minute).add("u1", "cart", 2*time.Minute)
	b.add("u2", "cart", 0).add("u2", "cart", time.Minute).add("u2", "view", 2*time.Minute)
	b.add("u3", "pay", 0).add("u3", "view", 2*time.Hour) // outside the window
	s := b.store(t, newStore)
	f := funnel.Funnel{Steps: viewCartPay, Order: funnel.AnyOrder, Window: time.Hour}
	wantCounts(t, s, f, 3, 2, 1)
}

func testExclusions(t *testing.T, newStore NewStore) {
	b := newBuilder()
	// Cancels between cart and pay: dropped entirely.
	b.add("u1", "view", 0).add("u1", "cart", time.Minute).add("u1", "cancel", 2*time.Minute).add("u1", "pay", 3*time.Minute)
	// Cancels before cart: outside the exclusion's steps, so it counts.
	b.add("u2", "view", 0).add("u2", "cancel", time.Minute).add("u2", "cart", 2*time.Minute).add("u2", "pay", 3*time.Minute)
	// Cancels after converting: counts.
	b.add("u3", "view", 0).add("u3", "cart", time.Minute).add("u3", "pay", 2*time.Minute).add("u3", "cancel", 3*time.Minute)
	// Dropped first attempt, clean second one.
	b.add("u4", "view", 0).add("u4", "cart", time.Minute).add("u4", "cancel", 2*time.Minute).
		add("u4", "view", 10*time.Minute).add("u4", "cart", 11*time.Minute)
	s := b.store(t, newStore)
	f := funnel.Funnel{Steps: viewCartPay, Exclusions: []funnel.Exclusion{{Event: "cancel", From: 1, To: 2}}}
	wantCounts(t, s, f, 3, 3, 2)
}

func testTotals(t *testing.T, newStore NewStore) {
	b := newBuilder()
	// Converts twice: two entries, two conversions.
	b.add("u1", "view", 0).add("u1", "cart", time.Minute).add("u1", "view", 2*time.Minute).add("u1", "cart", 3*time.Minute)
	// A view while an attempt is in progress is not a new entry...
	b.add("u2", "view", 0).add("u2", "view", 10*time.Minute).add("u2", "cart", 20*time.Minute)
	// ...but one after a timeout is.
	b.add("u3", "view", 0).add("u3", "view", 2*time.Hour).add("u3", "cart", 2*time.Hour+time.Minute)
	s := b.store(t, newStore)
	f := funnel.Funnel{Steps: steps("view", "cart"), Window: time.Hour, Count: funnel.Totals}
	wantCounts(t, s, f, 5, 4)
	f.Count = funnel.Uniques
	wantCounts(t, s, f, 3, 3)
}

func testHold(t *testing.T, newStore NewStore) {
	b := newBuilder()
	b.add("u1", "view", 0, sku("a")).add("u1", "cart", time.Minute, sku("b")).add("u1", "pay", 2*time.Minute, sku("b"))
	b.add("u2", "view", 0, sku("a")).add("u2", "view", time.Minute, sku("b")).add("u2", "cart", 2*time.Minute, sku("b")).add("u2", "pay", 3*time.Minute, sku("b"))
	// In Strict order, events for other SKUs are invisible to the attempt.
	b.add("u3", "view", 0, sku("a")).add("u3", "view", time.Minute, sku("b")).add("u3", "cart", 2*time.Minute, sku("a"))
	s := b.store(t, newStore)
	f := funnel.Funnel{Steps: viewCartPay, Hold: funnel.SKU}
	wantCounts(t, s, f, 3, 2, 1)
	f.Order = funnel.Strict
	wantCounts(t, s, f, 3, 2, 1)
	f.Hold = funnel.NoDimension
	wantCounts(t, s, f, 3, 3, 2)
	// Counting entries, each SKU has its own attempts: u2's and u3's views
	// of b enter while their attempts for a are still open (u1 a, u2 a
	// and b, u3 a and b: five entries).
	f.Order, f.Count, f.Hold = funnel.Ordered, funnel.Totals, funnel.SKU
	wantCounts(t, s, f, 5, 2, 1)
}

func testBreakdown(t *testing.T, newStore NewStore) {
	b := newBuilder()
	b.add("u1", "view", 0, variant("A")).add("u1", "cart", time.Minute)
	b.add("u2", "view", 0, variant("B"))
	b.add("u3", "view", 90*time.Minute, variant("B")).add("u3", "cart", 91*time.Minute)
	b.add("u4", "view", 95*time.Minute, variant("B"))
	s := b.store(t, newStore)
	f := funnel.Funnel{Steps: steps("view", "cart")}
	q := wholeDay()
	q.Breakdown = funnel.Variant
	rep := analyze(t, s, f, q)
	got := fmt.Sprint(summarise(rep))
	if want := "[A:[1 1] B:[3 1]]"; got != want {
		t.Errorf("by variant = %s, want %s", got, want)
	}
	q.Interval = funnel.Hourly
	rep = analyze(t, s, f, q)
	got = fmt.Sprint(summarise(rep))
	if want := "[10:A:[1 1] 10:B:[1 0] 11:B:[2 1]]"; got != want {
		t.Errorf("by hour and variant = %s, want %s", got, want)
	}
	if !rep.Groups[0].Start.Equal(base()) {
		t.Errorf("first bucket starts %v, want %v", rep.Groups[0].Start, base())
	}
	// Buckets in a location: 10:00 UTC is 18:00 in Shanghai.
	q.Location = time.FixedZone("CST", 8*3600)
	q.Breakdown = funnel.NoDimension
	rep = analyze(t, s, f, q)
	got = fmt.Sprint(summarise(rep))
	if want := "[18::[2 1] 19::[2 1]]"; got != want {
		t.Errorf("by hour in CST = %s, want %s", got, want)
	}
	q.Interval = funnel.Daily
	rep = analyze(t, s, f, q)
	if len(rep.Groups) != 1 || rep.Groups[0].Start.Hour() != 0 || rep.Groups[0].Start.Location() != q.Location {
		t.Errorf("daily bucket in CST = %+v", rep.Groups)
	}
}

func summarise(rep *funnel.Report) []string {
	var out []string
	for _, g := range rep.Groups {
		var c []int64
		for _, s := range g.Steps {
			c = append(c, s.Count)
		}
		prefix := ""
		if !g.Start.IsZero() {
			prefix = strconv.Itoa(g.Start.Hour()) + ":"
		}
		out = append(out, fmt.Sprintf("%s%s:%v", prefix, g.Key, c))
	}
	return out
}

func testTimeToConvert(t *testing.T, newStore NewStore) {
	b := newBuilder()
	for i, d := range []time.Duration{1, 2, 3, 10} {
		u := "u" + strconv.Itoa(i)
		b.add(u, "view", 0).add(u, "cart", d*time.Minute).add(u, "pay", 2*d*time.Minute)
	}
	s := b.store(t, newStore)
	rep := analyze(t, s, funnel.Funnel{Steps: viewCartPay}, wholeDay())
	cart, pay := rep.Groups[0].Steps[1].TimeToConvert, rep.Groups[0].Steps[2].TimeToConvert
	if cart.Median() != 150*time.Second || pay.Median() != 5*time.Minute {
		t.Errorf("medians = %v, %v; want 2m30s, 5m", cart.Median(), pay.Median())
	}
	if p := pay.Percentile(90); p != 15*time.Minute+48*time.Second { // 6m + 0.7 × 14m
		t.Errorf("p90 = %v, want 15m48s", p)
	}
	if len(rep.Groups[0].Steps[0].TimeToConvert) != 0 || pay.Percentile(100) != 20*time.Minute || pay.Percentile(0) != 2*time.Minute {
		t.Errorf("times = %v", pay)
	}
}

func testTies(t *testing.T, newStore NewStore) {
	b := newBuilder()
	b.add("u1", "cart", 0).add("u1", "view", 0) // same instant, cart ingested first
	s := b.store(t, newStore)
	wantCounts(t, s, funnel.Funnel{Steps: steps("view", "cart")}, 1, 1)
}

func testRange(t *testing.T, newStore NewStore) {
	b := newBuilder()
	b.add("u1", "view", -30*time.Minute).add("u1", "cart", 10*time.Minute) // entered before From
	b.add("u2", "view", 50*time.Minute).add("u2", "cart", 70*time.Minute)  // converts after To
	b.add("u3", "view", 70*time.Minute)                                    // entered after To
	s := b.store(t, newStore)
	q := funnel.Query{From: base(), To: base().Add(time.Hour)}
	rep := analyze(t, s, funnel.Funnel{Steps: steps("view", "cart"), Window: time.Hour}, q)
	if got := counts(t, rep); !reflect.DeepEqual(got, []int64{1, 1}) {
		t.Errorf("counts = %v, want [1 1]", got)
	}
	// With Totals, the attempt in progress at From blocks a re-entry.
	b = newBuilder()
	b.add("u1", "view", -30*time.Minute).add("u1", "view", 10*time.Minute).add("u1", "cart", 20*time.Minute)
	s = b.store(t, newStore)
	rep = analyze(t, s, funnel.Funnel{Steps: steps("view", "cart"), Window: time.Hour, Count: funnel.Totals}, q)
	if got := counts(t, rep); got != nil {
		t.Errorf("totals = %v, want no entry in range", got)
	}
}

func testKPIs(t *testing.T, newStore NewStore) {
	b := newBuilder()
	b.add("u1", "view", 0, channel("app"))
	b.add("u1", "order", time.Minute, order("o1", "100.00"), channel("app"))
	b.add("u1", "pay", 2*time.Minute, order("o1", "100.00"), channel("app"))
	b.add("u1", "pay", 3*time.Minute, order("o1", "100.00"), channel("app")) // a second notice: counts once
	b.add("u1", "order", time.Hour, order("o2", "50.10"), channel("app"))
	b.add("u1", "pay", time.Hour+time.Minute, order("o2", "50.10"), channel("app"))
	b.add("u1", "refund", 2*time.Hour, order("o2", "20.05"), channel("app"))
	b.add("u2", "order", 0, order("o3", "33.33"), channel("web"))
	b.add("u2", "pay", time.Minute, order("o3", "33.33"), channel("web"))
	b.add("u3", "view", 0, channel("web"))
	b.add("u4", "order", 0, order("o4", "10"), channel("web")) // never paid
	s := b.store(t, newStore)
	q := funnel.KPIQuery{From: wholeDay().From, To: wholeDay().To}
	measure := func(q funnel.KPIQuery) []funnel.KPIs {
		t.Helper()
		k, err := funnel.Measure(ctx, s, q)
		if err != nil {
			t.Fatal(err)
		}
		return k
	}
	k := measure(q)
	if len(k) != 1 {
		t.Fatalf("groups = %+v", k)
	}
	paid := k[0]
	if paid.GMV.String() != "183.43" || paid.Orders != 3 || paid.Buyers != 2 || paid.RepeatBuyers != 1 || paid.ActiveUsers != 4 {
		t.Errorf("paid = %+v", paid)
	}
	if paid.AOV(2).String() != "61.14" || paid.ARPU(2).String() != "45.86" || paid.ARPPU(3).String() != "91.715" || paid.RepeatRate() != 0.5 {
		t.Errorf("AOV %v ARPU %v ARPPU %v repeat %v", paid.AOV(2), paid.ARPU(2), paid.ARPPU(3), paid.RepeatRate())
	}
	q.Basis = funnel.Placed
	if p := measure(q)[0]; p.GMV.String() != "193.43" || p.Orders != 4 || p.Buyers != 3 {
		t.Errorf("placed = %+v", p)
	}
	q.Basis = funnel.Net
	if n := measure(q)[0]; n.GMV.String() != "163.38" || n.Refunds.String() != "20.05" || n.Orders != 3 {
		t.Errorf("net = %+v", n)
	}
	q.Basis = funnel.Paid
	q.Breakdown = funnel.Channel
	byChannel := measure(q)
	if len(byChannel) != 2 || byChannel[0].Key != "app" || byChannel[0].GMV.String() != "150.1" ||
		byChannel[1].Key != "web" || byChannel[1].GMV.String() != "33.33" || byChannel[1].ActiveUsers != 3 {
		t.Errorf("by channel = %+v", byChannel)
	}
	if _, err := funnel.Measure(ctx, s, funnel.KPIQuery{From: q.From, To: q.To, Basis: 7}); !errors.Is(err, funnel.ErrInvalidInput) {
		t.Errorf("bad basis: err = %v", err)
	}
}

func testUniques(t *testing.T, newStore NewStore) {
	s := newStore(t, funnel.Options{HyperLogLog: true})
	b := newBuilder()
	const users = 3000
	for i := 0; i < users; i++ {
		u := "user-" + strconv.Itoa(i)
		b.add(u, "view", time.Duration(i)*time.Second).add(u, "view", 25*time.Hour)
		if i%3 == 0 {
			b.add(u, "pay", time.Hour)
		}
	}
	for i := 0; i < len(b.events); i += 1000 {
		ingest(t, s, b.events[i:min(i+1000, len(b.events))])
	}
	q := wholeDay()
	exact, err := s.Uniques(ctx, funnel.UniquesQuery{Name: "view", From: q.From, To: q.To, Approximate: false})
	if err != nil || exact != users {
		t.Fatalf("exact = %d, %v; want %d", exact, err, users)
	}
	if n, _ := s.Uniques(ctx, funnel.UniquesQuery{Name: "pay", From: q.From, To: q.To, Approximate: false}); n != users/3 {
		t.Errorf("exact pay = %d, want %d", n, users/3)
	}
	// One day: the first views. (Ranges over several days are checked
	// against a real Redis only; see the Redis tests.)
	day := base().Truncate(24 * time.Hour)
	approx, err := s.Uniques(ctx, funnel.UniquesQuery{Name: "view", From: day, To: day.Add(24 * time.Hour), Approximate: true})
	if err != nil {
		t.Fatal(err)
	}
	// 0.81% standard error: 3% is well beyond three standard errors.
	if d := math.Abs(float64(approx-users)) / users; d > 0.03 {
		t.Errorf("approximate = %d, %.2f%% off %d", approx, 100*d, users)
	}
}

func testObserver(t *testing.T, newStore NewStore) {
	var mu sync.Mutex
	var seen []string
	s := newStore(t, funnel.Options{Observer: func(o funnel.Observation) {
		mu.Lock()
		defer mu.Unlock()
		if o.Op == funnel.OpIngest {
			seen = append(seen, fmt.Sprintf("%+v %v", o.Ingested, o.Err != nil))
		}
	}})
	b := newBuilder().add("u1", "view", 0).add("u2", "view", 0)
	ingest(t, s, b.events)
	ingest(t, s, b.events[:1])
	_, _ = s.Ingest(ctx, []funnel.Event{{ID: "x"}})
	want := []string{"{Stored:2 Duplicates:0 Expired:0} false", "{Stored:0 Duplicates:1 Expired:0} false",
		"{Stored:0 Duplicates:0 Expired:0} true"}
	if !reflect.DeepEqual(seen, want) {
		t.Fatalf("Observer saw %q, want %q", seen, want)
	}
}

// testCountingModes runs the cases the tools' documentation works through
// under each Uniques mode.
func testCountingModes(t *testing.T, newStore NewStore) {
	type want struct {
		counts []int64
		ttc    []time.Duration // time to convert of each step after the first
	}
	m := time.Minute
	for _, tc := range []struct {
		name   string
		steps  []string
		window time.Duration
		events []struct {
			name string
			at   time.Duration
		}
		uniques, firstEntry, reentry want
	}{
		{
			// Mixpanel: "the conversion window starts on the first instance
			// of the first event, and will not be updated by later versions
			// of the same event": A 1:00, A 1:30, B 1:45, C 2:15, one hour.
			name: "mixpanel window from the first A", steps: []string{"A", "B", "C"}, window: time.Hour,
			events: []struct {
				name string
				at   time.Duration
			}{{"A", 0}, {"A", 30 * m}, {"B", 45 * m}, {"C", 75 * m}},
			uniques:    want{[]int64{1, 1, 1}, []time.Duration{15 * m, 45 * m}},
			firstEntry: want{[]int64{1, 1, 0}, []time.Duration{45 * m}},
			reentry:    want{[]int64{1, 1, 1}, []time.Duration{15 * m, 45 * m}},
		},
		{
			// Optimized re-entry: A → A's window ends → A′ → B converts.
			name: "re-entry after the window", steps: []string{"A", "B"}, window: time.Hour,
			events: []struct {
				name string
				at   time.Duration
			}{{"A", 0}, {"A", 90 * m}, {"B", 100 * m}},
			uniques:    want{[]int64{1, 1}, []time.Duration{10 * m}},
			firstEntry: want{[]int64{1, 0}, nil},
			reentry:    want{[]int64{1, 1}, []time.Duration{10 * m}},
		},
		{
			// A → A′ → A's window ends → B: converts from A′.
			name: "re-entry within the window", steps: []string{"A", "B"}, window: time.Hour,
			events: []struct {
				name string
				at   time.Duration
			}{{"A", 0}, {"A", 30 * m}, {"B", 70 * m}},
			uniques:    want{[]int64{1, 1}, []time.Duration{40 * m}},
			firstEntry: want{[]int64{1, 0}, nil},
			reentry:    want{[]int64{1, 1}, []time.Duration{40 * m}},
		},
		{
			// A → A′ → A″ → B, all within the window: re-entry records
			// A″ → B; the earliest-longest path is A → B.
			name: "most recent entry before step two", steps: []string{"A", "B"}, window: time.Hour,
			events: []struct {
				name string
				at   time.Duration
			}{{"A", 0}, {"A", 10 * m}, {"A", 20 * m}, {"B", 30 * m}},
			uniques:    want{[]int64{1, 1}, []time.Duration{30 * m}},
			firstEntry: want{[]int64{1, 1}, []time.Duration{30 * m}},
			reentry:    want{[]int64{1, 1}, []time.Duration{10 * m}},
		},
		{
			// A → B → A′ → B′: two conversions; the first counts.
			name: "first conversion counts", steps: []string{"A", "B"}, window: time.Hour,
			events: []struct {
				name string
				at   time.Duration
			}{{"A", 0}, {"B", 5 * m}, {"A", 80 * m}, {"B", 90 * m}},
			uniques:    want{[]int64{1, 1}, []time.Duration{5 * m}},
			firstEntry: want{[]int64{1, 1}, []time.Duration{5 * m}},
			reentry:    want{[]int64{1, 1}, []time.Duration{5 * m}},
		},
		{
			// Amplitude: step 1 on Jan 1, 5 and 20, step 2 on Jan 2 and 6,
			// a one-day window: converted (the earliest-longest path).
			name: "amplitude earliest-longest", steps: []string{"A", "B"}, window: 24 * time.Hour,
			events: []struct {
				name string
				at   time.Duration
			}{{"A", 0}, {"B", 20 * time.Hour}, {"A", 96 * time.Hour}, {"B", 116 * time.Hour}, {"A", 456 * time.Hour}},
			uniques:    want{[]int64{1, 1}, []time.Duration{20 * time.Hour}},
			firstEntry: want{[]int64{1, 1}, []time.Duration{20 * time.Hour}},
			reentry:    want{[]int64{1, 1}, []time.Duration{20 * time.Hour}},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			b := newBuilder()
			b.at = base().Add(-20 * 24 * time.Hour) // three weeks of events, all in the past
			for _, e := range tc.events {
				b.add("u1", e.name, e.at)
			}
			s := b.store(t, newStore)
			day := b.at.Truncate(24 * time.Hour)
			q := funnel.Query{From: day, To: day.Add(30 * 24 * time.Hour)}
			for _, mode := range []struct {
				c funnel.Counting
				w want
			}{{funnel.Uniques, tc.uniques}, {funnel.UniquesFirstEntry, tc.firstEntry}, {funnel.UniquesReentry, tc.reentry}} {
				rep := analyze(t, s, funnel.Funnel{Steps: steps(tc.steps...), Window: tc.window, Count: mode.c}, q)
				if got := counts(t, rep); !reflect.DeepEqual(got, mode.w.counts) {
					t.Errorf("%v: counts %v, want %v", mode.c, got, mode.w.counts)
					continue
				}
				var ttc []time.Duration
				for _, st := range rep.Groups[0].Steps[1:] {
					ttc = append(ttc, st.TimeToConvert...)
				}
				if !reflect.DeepEqual(ttc, mode.w.ttc) {
					t.Errorf("%v: times to convert %v, want %v", mode.c, ttc, mode.w.ttc)
				}
			}
		})
	}
}

// testRetentionReport: cohorts by the day of the first signup, N-day and
// unbounded, with a breakdown by the cohort event's variant.
func testRetentionReport(t *testing.T, newStore NewStore) {
	b := newBuilder()
	b.at = base().Add(-6 * 24 * time.Hour)
	d := 24 * time.Hour
	b.add("u1", "signup", 0, variant("A")).add("u1", "view", d).add("u1", "pay", 3*d)
	b.add("u2", "signup", time.Hour, variant("B")).add("u2", "signup", 2*d).add("u2", "view", 2*d+time.Hour)
	b.add("u3", "signup", d, variant("A")).add("u3", "view", 2*d)
	b.add("u4", "signup", d+time.Hour, variant("A"))
	b.add("u5", "view", 0) // never signs up: in no cohort
	s := b.store(t, newStore)
	day := b.at.Truncate(24 * time.Hour)
	q := funnel.RetentionQuery{StartEvent: "signup", From: day, To: day.Add(2 * d), Periods: 3}
	type row struct {
		start    time.Time
		users    int64
		retained []int64
	}
	check := func(q funnel.RetentionQuery, want []row) {
		t.Helper()
		got, err := funnel.Retention(ctx, s, q)
		if err != nil {
			t.Fatal(err)
		}
		if len(got) != len(want) {
			t.Fatalf("mode %v: %d cohorts %+v, want %d", q.Mode, len(got), got, len(want))
		}
		for i, w := range want {
			if !got[i].Start.Equal(w.start) || got[i].Users != w.users || !reflect.DeepEqual(got[i].Retained, w.retained) {
				t.Errorf("mode %v cohort %d: %+v, want %+v", q.Mode, i, got[i], w)
			}
		}
	}
	// Day 0: u1 (back on days 1 and 3) and u2 (back on day 2: a second
	// signup counts as coming back). Day 1: u3 (back on day 2), u4.
	check(q, []row{{day, 2, []int64{2, 1, 1, 1}}, {day.Add(d), 2, []int64{2, 1, 0, 0}}})
	q.Mode = funnel.Unbounded
	check(q, []row{{day, 2, []int64{2, 2, 2, 1}}, {day.Add(d), 2, []int64{2, 1, 0, 0}}})
	// Coming back means paying: only u1, on day 3.
	q.Mode, q.ReturnEvent = funnel.NDay, "pay"
	check(q, []row{{day, 2, []int64{2, 0, 0, 1}}, {day.Add(d), 2, []int64{2, 0, 0, 0}}})
	q.ReturnEvent, q.Breakdown = "", funnel.Variant
	got, err := funnel.Retention(ctx, s, q)
	if err != nil || len(got) != 3 || got[0].Key != "A" || got[1].Key != "B" || got[2].Key != "A" || got[2].Users != 2 {
		t.Fatalf("by variant: %+v %v", got, err)
	}
	if c := got[2]; c.Rate(1) != 0.5 {
		t.Errorf("day-1 rate of the day-1 A cohort = %v, want 0.5", c.Rate(1))
	}
	if _, err := funnel.Retention(ctx, s, funnel.RetentionQuery{From: day, To: day.Add(d)}); !errors.Is(err, funnel.ErrInvalidInput) {
		t.Errorf("no Periods: %v", err)
	}
}

// testTrends: counts and unique users of an event per day, by variant.
func testTrends(t *testing.T, newStore NewStore) {
	b := newBuilder()
	b.at = base().Add(-5 * 24 * time.Hour)
	d := 24 * time.Hour
	b.add("u1", "view", 0, variant("A")).add("u1", "view", time.Hour, variant("A")).add("u1", "view", d, variant("A"))
	b.add("u2", "view", 2*time.Hour, variant("B")).add("u2", "cart", 3*time.Hour, variant("B"))
	s := b.store(t, newStore)
	day := b.at.Truncate(24 * time.Hour)
	pts, err := funnel.Trends(ctx, s, funnel.TrendsQuery{Event: "view", From: day, To: day.Add(2 * d), Interval: funnel.Daily})
	if err != nil {
		t.Fatal(err)
	}
	want := []funnel.TrendPoint{{Start: day, Count: 3, Uniques: 2}, {Start: day.Add(d), Count: 1, Uniques: 1}}
	if len(pts) != 2 || !pts[0].Start.Equal(want[0].Start) || pts[0].Count != 3 || pts[0].Uniques != 2 || pts[1].Count != 1 || pts[1].Uniques != 1 {
		t.Fatalf("daily: %+v, want %+v", pts, want)
	}
	pts, err = funnel.Trends(ctx, s, funnel.TrendsQuery{Event: "view", From: day, To: day.Add(2 * d), Breakdown: funnel.Variant})
	if err != nil || len(pts) != 2 || pts[0].Key != "A" || pts[0].Count != 3 || pts[0].Uniques != 1 || pts[1].Key != "B" || pts[1].Count != 1 {
		t.Fatalf("by variant: %+v %v", pts, err)
	}
}

// testCohorts: the users who did (or did not) search, as a filter on a
// funnel, retention, trends and KPIs.
func testCohorts(t *testing.T, newStore NewStore) {
	b := newBuilder()
	b.at = base().Add(-5 * 24 * time.Hour)
	d := 24 * time.Hour
	b.add("u1", "search", 0).add("u1", "view", time.Minute).add("u1", "pay", time.Hour, order("o1", "10.00")).add("u1", "view", d)
	b.add("u2", "view", 0).add("u2", "pay", time.Hour, order("o2", "30.00"))
	b.add("u3", "search", 0).add("u3", "view", 2*time.Minute)
	s := b.store(t, newStore)
	day := b.at.Truncate(24 * time.Hour)
	searched, err := funnel.CohortUsers(ctx, s, funnel.CohortQuery{Event: "search", From: day, To: day.Add(d)})
	if err != nil || searched.Len() != 2 || !searched.Contains("u1") || !searched.Contains("u3") || searched.Contains("u2") {
		t.Fatalf("searched: %+v %v", searched, err)
	}
	didNot, err := funnel.CohortUsers(ctx, s, funnel.CohortQuery{Event: "search", From: day, To: day.Add(d), Not: true})
	if err != nil || didNot.Len() != 1 || !didNot.Contains("u2") {
		t.Fatalf("did not search: %+v %v", didNot, err)
	}
	q := funnel.Query{From: day, To: day.Add(d), Users: searched}
	if got := counts(t, analyze(t, s, funnel.Funnel{Steps: steps("view", "pay")}, q)); !reflect.DeepEqual(got, []int64{2, 1}) {
		t.Errorf("funnel of searchers = %v, want [2 1]", got)
	}
	kpis, err := funnel.Measure(ctx, s, funnel.KPIQuery{From: day, To: day.Add(2 * d), Users: didNot})
	if err != nil || len(kpis) != 1 || kpis[0].Orders != 1 || !kpis[0].GMV.Equal(decimal.RequireFromString("30")) {
		t.Errorf("KPIs of non-searchers: %+v %v", kpis, err)
	}
	ret, err := funnel.Retention(ctx, s, funnel.RetentionQuery{StartEvent: "view", From: day, To: day.Add(d), Periods: 1, Users: searched})
	if err != nil || len(ret) != 1 || ret[0].Users != 2 || ret[0].Retained[1] != 1 {
		t.Errorf("retention of searchers: %+v %v", ret, err)
	}
	pts, err := funnel.Trends(ctx, s, funnel.TrendsQuery{Event: "pay", From: day, To: day.Add(d), Users: searched})
	if err != nil || len(pts) != 1 || pts[0].Count != 1 || pts[0].Uniques != 1 {
		t.Errorf("pay trend of searchers: %+v %v", pts, err)
	}
}

// testAttribution: the breakdown value comes from the entry (first
// touch), the furthest step (last touch) or a chosen step.
func testAttribution(t *testing.T, newStore NewStore) {
	b := newBuilder()
	b.add("u1", "view", 0, channel("ads")).add("u1", "cart", time.Minute, channel("email")).add("u1", "pay", 2*time.Minute, channel("direct"))
	b.add("u2", "view", 0, channel("ads")).add("u2", "cart", time.Minute, channel("social"))
	b.add("u3", "view", 0, channel("social"))
	s := b.store(t, newStore)
	f := funnel.Funnel{Steps: viewCartPay}
	for _, tc := range []struct {
		attr funnel.Attribution
		step int
		want map[string][]int64
	}{
		{funnel.FirstTouch, 0, map[string][]int64{"ads": {2, 2, 1}, "social": {1, 0, 0}}},
		{funnel.LastTouch, 0, map[string][]int64{"direct": {1, 1, 1}, "social": {2, 1, 0}}},
		{funnel.AtStep, 1, map[string][]int64{"": {1, 0, 0}, "email": {1, 1, 1}, "social": {1, 1, 0}}},
	} {
		for _, count := range []funnel.Counting{funnel.Uniques, funnel.Totals, funnel.UniquesFirstEntry, funnel.UniquesReentry} {
			q := wholeDay()
			q.Breakdown, q.Attribution, q.AttributionStep = funnel.Channel, tc.attr, tc.step
			f.Count = count
			rep := analyze(t, s, f, q)
			got := map[string][]int64{}
			for _, g := range rep.Groups {
				for _, st := range g.Steps {
					got[g.Key] = append(got[g.Key], st.Count)
				}
			}
			if !reflect.DeepEqual(got, tc.want) {
				t.Errorf("attribution %d (step %d), %v: %v, want %v", tc.attr, tc.step, count, got, tc.want)
			}
		}
	}
	q := wholeDay()
	q.Attribution, q.AttributionStep = funnel.AtStep, 3
	if _, err := funnel.Analyze(ctx, s, f, q); !errors.Is(err, funnel.ErrInvalidInput) {
		t.Errorf("step beyond the funnel: %v", err)
	}
}

// testStepWindows: a step's own window runs from the previous step; a
// later match of the previous step may meet it where the earliest does
// not.
func testStepWindows(t *testing.T, newStore NewStore) {
	b := newBuilder()
	b.add("u1", "view", 0).add("u1", "cart", 5*time.Minute).add("u1", "cart", 30*time.Minute).add("u1", "pay", 35*time.Minute)
	b.add("u2", "view", 0).add("u2", "cart", 5*time.Minute).add("u2", "pay", 20*time.Minute)
	s := b.store(t, newStore)
	f := funnel.Funnel{Steps: []funnel.Step{{Event: "view"}, {Event: "cart"}, {Event: "pay", Within: 10 * time.Minute}}}
	rep := analyze(t, s, f, wholeDay())
	if got := counts(t, rep); !reflect.DeepEqual(got, []int64{2, 2, 1}) {
		t.Fatalf("counts %v, want [2 2 1]: u1 pays 5 minutes after its second cart, u2 15 after its only one", got)
	}
	if cart, pay := rep.Groups[0].Steps[1].TimeToConvert, rep.Groups[0].Steps[2].TimeToConvert; cart.Median() != 5*time.Minute || pay.Median() != 35*time.Minute {
		t.Errorf("times to convert %v and %v", cart, pay)
	}
	f.Steps[1].Within = 2 * time.Minute // the cart must follow the view within 2 minutes: nobody
	if got := counts(t, analyze(t, s, f, wholeDay())); !reflect.DeepEqual(got, []int64{2, 0, 0}) {
		t.Errorf("tight cart window: %v", got)
	}
	f.Count = funnel.Totals
	f.Steps[1].Within = 0
	// Totals: u2's attempt is over 10 minutes after its cart, so its pay
	// cannot re-enter (not a first step), and u1's converts.
	if got := counts(t, analyze(t, s, f, wholeDay())); !reflect.DeepEqual(got, []int64{2, 2, 1}) {
		t.Errorf("totals: %v", got)
	}
	bad := funnel.Funnel{Steps: []funnel.Step{{Event: "view", Within: time.Minute}, {Event: "cart"}}}
	if err := bad.Validate(); !errors.Is(err, funnel.ErrInvalidInput) {
		t.Errorf("window on the first step: %v", err)
	}
}

func props(kv ...string) func(*funnel.Event) {
	return func(e *funnel.Event) {
		e.Props = map[string]string{}
		for i := 0; i+1 < len(kv); i += 2 {
			e.Props[kv[i]] = kv[i+1]
		}
	}
}

// testProperties: events carry arbitrary properties, stored and read back
// by every backend; steps filter on them (text and numbers), a step may
// be any of several events, exclusions filter too, and breakdowns and
// held properties may be any property.
func testProperties(t *testing.T, newStore NewStore) {
	b := newBuilder()
	b.add("u1", "view", 0, props("plan", "pro", "price", "120")).add("u1", "cart", time.Minute, props("price", "120", "coupon", "SPRING-10")).add("u1", "pay", 2*time.Minute)
	b.add("u2", "search", 0, props("plan", "pro", "price", "80")).add("u2", "cart", time.Minute, props("price", "80")).add("u2", "pay", 2*time.Minute)
	b.add("u3", "view", 0, props("plan", "free", "price", "120")).add("u3", "cart", time.Minute, props("price", "99"))
	b.add("u4", "view", 0, props("plan", "pro", "price", "300")).add("u4", "support", 30*time.Second, props("topic", "refund")).add("u4", "cart", time.Minute, props("price", "300"))
	s := b.store(t, newStore)

	got := scanAll(t, s, dayRequest())
	if p := got["u1"][1].Props; p["coupon"] != "SPRING-10" || p["price"] != "120" || len(p) != 2 {
		t.Fatalf("properties read back as %v", p)
	}
	if len(got["u1"][2].Props) != 0 {
		t.Fatalf("an event without properties read back with %v", got["u1"][2].Props)
	}
	f := funnel.Funnel{Steps: []funnel.Step{
		{Event: "view", AnyOf: []string{"search"}, Where: []funnel.Filter{{Property: "plan", Op: funnel.Eq, Values: []string{"pro"}}}},
		{Event: "cart", Where: []funnel.Filter{{Property: "price", Op: funnel.Ge, Values: []string{"100"}}}},
		{Event: "pay"},
	}}
	// u1: pro view, cart at 120, pay. u2: a search counts as the view, but
	// its cart is at 80. u3 is on the free plan. u4: pro, 300, no pay.
	wantCounts(t, s, f, 3, 2, 1)
	f.Exclusions = []funnel.Exclusion{{Event: "support", From: 0, To: 1, Where: []funnel.Filter{{Property: "topic", Op: funnel.In, Values: []string{"refund", "cancel"}}}}}
	wantCounts(t, s, f, 2, 1, 1) // u4's refund question drops its attempt
	f.Exclusions = nil
	q := wholeDay()
	q.BreakdownProperty = "plan"
	f.Steps[0].Where = nil
	rep := analyze(t, s, f, q)
	byPlan := map[string][]int64{}
	for _, g := range rep.Groups {
		for _, st := range g.Steps {
			byPlan[g.Key] = append(byPlan[g.Key], st.Count)
		}
	}
	if !reflect.DeepEqual(byPlan, map[string][]int64{"pro": {3, 2, 1}, "free": {1, 0, 0}}) {
		t.Errorf("by plan: %v", byPlan)
	}
	// Holding the price constant: u3's cart is at another price than its
	// view.
	hold := funnel.Funnel{Steps: steps("view", "cart"), HoldProperty: "price"}
	wantCounts(t, s, hold, 3, 2)
	for _, bad := range []funnel.Funnel{
		{Steps: []funnel.Step{{Event: "view", Where: []funnel.Filter{{Property: "price", Op: funnel.Gt, Values: []string{"cheap"}}}}}},
		{Steps: []funnel.Step{{Event: "view", AnyOf: []string{"a b"}}}},
		{Steps: steps("view"), Hold: funnel.SKU, HoldProperty: "plan"},
	} {
		if err := bad.Validate(); !errors.Is(err, funnel.ErrInvalidInput) {
			t.Errorf("%+v: Validate = %v", bad, err)
		}
	}
	tooMany := funnel.Event{ID: "x", UserID: "u", Name: "view", Time: base(), Props: map[string]string{}}
	for i := range funnel.MaxProps + 1 {
		tooMany.Props["p"+strconv.Itoa(i)] = "v"
	}
	if _, err := s.Ingest(ctx, []funnel.Event{tooMany}); !errors.Is(err, funnel.ErrInvalidInput) {
		t.Errorf("%d properties: %v", funnel.MaxProps+1, err)
	}
	ctl := funnel.Event{ID: "y", UserID: "u", Name: "view", Time: base(), Props: map[string]string{"note": "a\x1fb"}}
	if _, err := s.Ingest(ctx, []funnel.Event{ctl}); !errors.Is(err, funnel.ErrInvalidInput) {
		t.Errorf("a control character in a value: %v", err)
	}
}

// testOptionalSteps: an optional step may be skipped; it counts the
// attempts that did it on their way, so it may count fewer than the step
// after it.
func testOptionalSteps(t *testing.T, newStore NewStore) {
	b := newBuilder()
	b.add("u1", "view", 0).add("u1", "coupon", time.Minute).add("u1", "pay", 2*time.Minute)
	b.add("u2", "view", 0).add("u2", "pay", 2*time.Minute)
	b.add("u3", "view", 0).add("u3", "coupon", time.Minute)
	b.add("u4", "view", 0).add("u4", "pay", time.Minute).add("u4", "coupon", 2*time.Minute) // the coupon came after paying
	s := b.store(t, newStore)
	f := funnel.Funnel{Steps: []funnel.Step{{Event: "view"}, {Event: "coupon", Optional: true}, {Event: "pay"}}}
	for _, c := range []funnel.Counting{funnel.Uniques, funnel.Totals, funnel.UniquesFirstEntry, funnel.UniquesReentry} {
		f.Count = c
		rep := analyze(t, s, f, wholeDay())
		if got := counts(t, rep); !reflect.DeepEqual(got, []int64{4, 2, 3}) {
			t.Errorf("%v: counts %v, want [4 2 3]", c, got)
			continue
		}
		if pay := rep.Groups[0].Steps[2]; len(pay.TimeToConvert) != 3 || rep.Groups[0].Steps[1].TimeToConvert.Median() != time.Minute {
			t.Errorf("%v: times %v and %v", c, rep.Groups[0].Steps[1].TimeToConvert, pay.TimeToConvert)
		}
	}
	for _, bad := range []funnel.Funnel{
		{Steps: []funnel.Step{{Event: "view", Optional: true}, {Event: "pay"}}},
		{Steps: []funnel.Step{{Event: "view"}, {Event: "pay", Optional: true}}},
		{Steps: []funnel.Step{{Event: "view"}, {Event: "coupon", Optional: true}, {Event: "pay"}}, Order: funnel.Strict},
	} {
		if err := bad.Validate(); !errors.Is(err, funnel.ErrInvalidInput) {
			t.Errorf("%+v: Validate = %v", bad, err)
		}
	}
}
