package funnel_test

import (
	"context"
	"errors"
	"reflect"
	"testing"
	"time"

	"github.com/shopspring/decimal"

	"github.com/shopkit/shopkit/funnel"
	"github.com/shopkit/shopkit/internal/redistest"
)

var ctx = context.Background()

func TestFunnelValidate(t *testing.T) {
	ok := funnel.Funnel{Steps: steps("view", "cart", "pay")}
	tests := []struct {
		field string
		edit  func(*funnel.Funnel)
	}{
		{"Steps", func(f *funnel.Funnel) { f.Steps = nil }},
		{"Steps", func(f *funnel.Funnel) { f.Steps = make([]funnel.Step, funnel.MaxSteps+1) }},
		{"Steps[1].Event", func(f *funnel.Funnel) { f.Steps = steps("view", "a:b") }},
		{"Steps[1].Event", func(f *funnel.Funnel) { f.Order, f.Steps = funnel.AnyOrder, steps("view", "view") }},
		{"Window", func(f *funnel.Funnel) { f.Window = -time.Second }},
		{"Order", func(f *funnel.Funnel) { f.Order = 3 }},
		{"Count", func(f *funnel.Funnel) { f.Count = -1 }},
		{"Hold", func(f *funnel.Funnel) { f.Hold = 9 }},
		{"Exclusions[0].Event", func(f *funnel.Funnel) { f.Exclusions = []funnel.Exclusion{{Event: "cart", From: 0, To: 1}} }},
		{"Exclusions[0].Event", func(f *funnel.Funnel) { f.Exclusions = []funnel.Exclusion{{Event: "", From: 0, To: 1}} }},
		{"Exclusions[0]", func(f *funnel.Funnel) { f.Exclusions = []funnel.Exclusion{{Event: "x", From: 1, To: 1}} }},
		{"Exclusions[0]", func(f *funnel.Funnel) { f.Exclusions = []funnel.Exclusion{{Event: "x", From: 0, To: 3}} }},
	}
	for _, tt := range tests {
		f := ok
		tt.edit(&f)
		err := f.Validate()
		var ie *funnel.InputError
		if !errors.As(err, &ie) || ie.Field != tt.field || !errors.Is(err, funnel.ErrInvalidInput) {
			t.Errorf("%s: err = %v", tt.field, err)
		}
	}
	// Ordered funnels may repeat a step: two views before the cart.
	f := funnel.Funnel{Steps: steps("view", "view", "cart")}
	if err := f.Validate(); err != nil {
		t.Errorf("repeated step refused: %v", err)
	}
}

func TestQueryValidate(t *testing.T) {
	s := funnel.NewMemory(funnel.Options{})
	f := funnel.Funnel{Steps: steps("view")}
	now := time.Now()
	for _, q := range []funnel.Query{
		{},
		{From: now, To: now},
		{From: now, To: now.Add(time.Hour), Breakdown: 42},
		{From: now, To: now.Add(time.Hour), Interval: 5},
	} {
		if _, err := funnel.Analyze(ctx, s, f, q); !errors.Is(err, funnel.ErrInvalidInput) {
			t.Errorf("query %+v: err = %v", q, err)
		}
	}
}

func TestRedisOptions(t *testing.T) {
	client := redistest.Client(t)
	for _, o := range []funnel.Options{{Prefix: "a{b"}, {Shards: -1}, {Shards: funnel.MaxShards + 1}} {
		if _, err := funnel.NewRedis(client, o); !errors.Is(err, funnel.ErrInvalidInput) {
			t.Errorf("options %+v: err = %v", o, err)
		}
	}
	s := redisStore(t, client, funnel.Options{})
	now := time.Now()
	if _, err := s.Uniques(ctx, funnel.UniquesQuery{Name: "view", From: now.Add(-time.Hour), To: now, Approximate: true}); !errors.Is(err, funnel.ErrNoApproximation) {
		t.Errorf("approximate without HyperLogLog: err = %v", err)
	}
}

func TestDurations(t *testing.T) {
	var none funnel.Durations
	if none.Median() != 0 || none.Percentile(99) != 0 {
		t.Error("empty durations are not zero")
	}
	d := funnel.Durations{time.Second}
	if d.Median() != time.Second || d.Percentile(-5) != time.Second || d.Percentile(500) != time.Second {
		t.Error("one duration is every percentile")
	}
}

func TestDimensionString(t *testing.T) {
	if funnel.SKU.String() != "sku" || funnel.Dimension(99).String() != "Dimension(99)" {
		t.Errorf("got %q, %q", funnel.SKU, funnel.Dimension(99))
	}
}

// FuzzFunnel builds funnels and event streams from bytes: Analyze never
// panics, refuses bad funnels with an InputError, and answers valid ones
// with funnels whose counts never grow from one step to the next.
func FuzzFunnel(f *testing.F) {
	f.Add([]byte{3, 0, 1, 2, 30, 0, 0, 0}, []byte{0, 0, 0, 1, 1, 5, 2, 2, 9})
	f.Add([]byte{2, 1, 1, 9, 200, 1, 1, 1, 4, 0, 1}, []byte{1, 4, 0, 0, 1, 1, 1, 4, 2})
	f.Add([]byte{4, 3, 2, 1, 0, 10, 2, 0, 5}, []byte{})
	f.Fuzz(func(t *testing.T, def, stream []byte) {
		next := func() int {
			if len(def) == 0 {
				return 0
			}
			b := def[0]
			def = def[1:]
			return int(b)
		}
		names := []string{"a", "b", "c", "d", "x", ""}
		fn := funnel.Funnel{}
		for i, n := 0, next()%6; i < n; i++ {
			fn.Steps = append(fn.Steps, funnel.Step{Event: names[next()%len(names)]})
		}
		fn.Window = time.Duration(next()-20) * time.Minute
		fn.Order, fn.Count, fn.Hold = funnel.Order(next()%4), funnel.Counting(next()%3), funnel.Dimension(next()%7)
		if next()%2 == 1 {
			fn.Exclusions = append(fn.Exclusions, funnel.Exclusion{Event: names[next()%len(names)], From: next() % 4, To: next() % 5})
		}
		var events []funnel.Event
		day := time.Now().UTC().Truncate(24 * time.Hour).Add(-24 * time.Hour)
		for i := 0; i+2 < len(stream); i += 3 {
			events = append(events, funnel.Event{ID: "e" + string(rune('a'+i%26)) + string(rune('a'+i/26%26)),
				UserID: "u" + string(rune('0'+stream[i]%4)), Name: names[int(stream[i+1])%5],
				Time: day.Add(time.Duration(stream[i+2]) * time.Minute), SKU: string(rune('p' + stream[i]%2))})
		}
		s := funnel.NewMemory(funnel.Options{})
		if _, err := s.Ingest(ctx, events); err != nil {
			t.Fatal(err)
		}
		rep, err := funnel.Analyze(ctx, s, fn, funnel.Query{From: day, To: day.Add(3 * time.Hour), Breakdown: funnel.SKU})
		if err != nil {
			if !errors.Is(err, funnel.ErrInvalidInput) || fn.Validate() == nil {
				t.Fatalf("funnel %+v: unexpected error %v", fn, err)
			}
			return
		}
		checkMonotone(t, fn, rep)
	})
}

// FuzzIngest feeds arbitrary field values: an event is stored or refused
// with an InputError, never half-stored.
func FuzzIngest(f *testing.F) {
	f.Add("e1", "u1", "view", "12.50", "sku-1", int64(0))
	f.Add("e{1}", "u:1", "vi ew", "-1", "\x1f", int64(-1))
	f.Add("e1", "u1", "pay", "1e40", "", int64(1))
	f.Fuzz(func(t *testing.T, id, user, name, amount, sku string, offset int64) {
		e := funnel.Event{ID: id, UserID: user, Name: name, SKU: sku,
			Time: time.Now().Add(time.Duration(offset) * time.Minute)}
		if a, err := decimal.NewFromString(amount); err == nil {
			e.Amount = a
		}
		s := funnel.NewMemory(funnel.Options{})
		res, err := s.Ingest(ctx, []funnel.Event{e})
		if err != nil {
			if !errors.Is(err, funnel.ErrInvalidInput) {
				t.Fatal(err)
			}
			return
		}
		n := 0
		_ = s.Scan(ctx, funnel.ScanRequest{From: time.Unix(0, 0), To: time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC)}, func(_ string, evs []funnel.Event) error {
			n += len(evs)
			return nil
		})
		if n != res.Stored {
			t.Fatalf("ingest %+v, scan holds %d events", res, n)
		}
	})
}

// FuzzProps: properties that pass validation come back from their stored
// encoding exactly.
func FuzzProps(f *testing.F) {
	f.Add("plan", "pro", "price", "12.5")
	f.Add("a=b", "x\x1dy", "", "")
	f.Fuzz(func(t *testing.T, k1, v1, k2, v2 string) {
		props := map[string]string{k1: v1, k2: v2}
		s := funnel.NewMemory(funnel.Options{})
		e := funnel.Event{ID: "e", UserID: "u", Name: "view", Time: time.Now().UTC().Add(-time.Hour), Props: props}
		if _, err := s.Ingest(ctx, []funnel.Event{e}); err != nil {
			if !errors.Is(err, funnel.ErrInvalidInput) {
				t.Fatal(err)
			}
			return
		}
		var got map[string]string
		err := s.Scan(ctx, funnel.ScanRequest{From: e.Time.Add(-time.Minute), To: e.Time.Add(time.Minute)}, func(_ string, evs []funnel.Event) error {
			got = evs[0].Props
			return nil
		})
		if err != nil || !reflect.DeepEqual(got, props) {
			t.Fatalf("%q came back as %q (%v)", props, got, err)
		}
	})
}
