// Package abtesttest is the conformance suite for *abtest.Sticky.
//
// Every backend runs it from its own test file:
//
//	func TestMemorySticky(t *testing.T) {
//		abtesttest.Run(t, func(t *testing.T) *abtest.Sticky {
//			return abtest.NewMemorySticky(abtest.StickyOptions{})
//		})
//	}
//
// Besides the store's own contract it runs GrowthBook's sticky-bucket
// cases (packages/sdk-js/test/cases.json, "stickyBucket") through
// Assigner.AssignSticky on the store.
package abtesttest

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"sync"
	"testing"

	"github.com/shopkit/shopkit/abtest"
)

// NewStore returns an empty store for one test; it should register Close
// with t.Cleanup.
type NewStore func(t *testing.T) *abtest.Sticky

var ctx = context.Background()

// Run runs the conformance suite against stores made by newStore.
func Run(t *testing.T, newStore NewStore) {
	tests := []struct {
		name string
		fn   func(*testing.T, *abtest.Sticky)
	}{
		{"SaveAndLoad", testSaveLoad},
		{"FirstWriteWins", testFirstWriteWins},
		{"ConcurrentFirstWriteWins", testConcurrent},
		{"ValuesCannotForgeKeys", testForging},
		{"InvalidInput", testInvalid},
		{"GrowthBookStickyCases", testGrowthBookCases},
		{"StickinessSurvivesWeightChanges", testWeightChange},
		{"Closed", testClosed},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) { tt.fn(t, newStore(t)) })
	}
}

func testSaveLoad(t *testing.T, s *abtest.Sticky) {
	got, err := s.Load(ctx, abtest.StickyUser{Attribute: "id", Value: "u1"})
	if err != nil || len(got) != 0 {
		t.Fatalf("Load of a new user = %v, %v; want empty", got, err)
	}
	if v, err := s.Save(ctx, abtest.StickyAssignment{Attribute: "id", Value: "u1", Key: "exp__0", Variation: 2}); err != nil || v != 2 {
		t.Fatalf("Save = %d, %v", v, err)
	}
	if v, err := s.Save(ctx, abtest.StickyAssignment{Attribute: "id", Value: "u1", Key: "other__1", Variation: 0}); err != nil || v != 0 {
		t.Fatalf("Save = %d, %v", v, err)
	}
	got, err = s.Load(ctx, abtest.StickyUser{Attribute: "id", Value: "u1"})
	if err != nil || len(got) != 2 || got["exp__0"] != 2 || got["other__1"] != 0 {
		t.Fatalf("Load = %v, %v", got, err)
	}
	// Other users and other attributes are separate documents.
	for _, k := range [][2]string{{"id", "u2"}, {"deviceId", "u1"}} {
		if got, err := s.Load(ctx, abtest.StickyUser{Attribute: k[0], Value: k[1]}); err != nil || len(got) != 0 {
			t.Fatalf("Load(%s=%s) = %v, %v; want empty", k[0], k[1], got, err)
		}
	}
}

func testFirstWriteWins(t *testing.T, s *abtest.Sticky) {
	if v, _ := s.Save(ctx, abtest.StickyAssignment{Attribute: "id", Value: "u1", Key: "exp__0", Variation: 1}); v != 1 {
		t.Fatalf("first Save = %d", v)
	}
	if v, err := s.Save(ctx, abtest.StickyAssignment{Attribute: "id", Value: "u1", Key: "exp__0", Variation: 0}); err != nil || v != 1 {
		t.Fatalf("second Save = %d, %v; want the first variation, 1", v, err)
	}
}

func testConcurrent(t *testing.T, s *abtest.Sticky) {
	const workers = 32
	results := make([]int, workers)
	var wg sync.WaitGroup
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			v, err := s.Save(ctx, abtest.StickyAssignment{Attribute: "id", Value: "racer", Key: "exp__0", Variation: w % 4})
			if err != nil {
				t.Error(err)
			}
			results[w] = v
		}(w)
	}
	wg.Wait()
	for _, v := range results {
		if v != results[0] {
			t.Fatalf("concurrent saves disagree: %v", results)
		}
	}
	got, _ := s.Load(ctx, abtest.StickyUser{Attribute: "id", Value: "racer"})
	if got["exp__0"] != results[0] {
		t.Fatalf("stored %v, saves returned %d", got, results[0])
	}
}

func testForging(t *testing.T, s *abtest.Sticky) {
	values := []string{"a:b", "a}{b", "{a}", "a b", "用户", "a\x00b", "a"}
	for i, v := range values {
		if _, err := s.Save(ctx, abtest.StickyAssignment{Attribute: "id", Value: v, Key: "exp__0", Variation: i}); err != nil {
			t.Fatalf("Save(%q): %v", v, err)
		}
	}
	for i, v := range values {
		got, err := s.Load(ctx, abtest.StickyUser{Attribute: "id", Value: v})
		if err != nil || len(got) != 1 || got["exp__0"] != i {
			t.Fatalf("Load(%q) = %v, %v; want only variation %d", v, got, err, i)
		}
	}
}

func testInvalid(t *testing.T, s *abtest.Sticky) {
	tests := []struct {
		name      string
		err       error
		wantField string
	}{
		{"empty attribute", second(s.Save(ctx, abtest.StickyAssignment{Attribute: "", Value: "u", Key: "k", Variation: 0})), "Attribute"},
		{"empty value", second(s.Save(ctx, abtest.StickyAssignment{Attribute: "id", Value: "", Key: "k", Variation: 0})), "Value"},
		{"empty key", second(s.Save(ctx, abtest.StickyAssignment{Attribute: "id", Value: "u", Key: "", Variation: 0})), "Key"},
		{"negative variation", second(s.Save(ctx, abtest.StickyAssignment{Attribute: "id", Value: "u", Key: "k", Variation: -1})), "Variation"},
		{"load empty value", second(s.Load(ctx, abtest.StickyUser{Attribute: "id", Value: ""})), "Value"},
	}
	for _, tt := range tests {
		var ie *abtest.InputError
		if !errors.As(tt.err, &ie) || ie.Field != tt.wantField {
			t.Errorf("%s: err = %v, want InputError on %s", tt.name, tt.err, tt.wantField)
		}
	}
	if got, _ := s.Load(ctx, abtest.StickyUser{Attribute: "id", Value: "u"}); len(got) != 0 {
		t.Fatalf("a refused save was stored: %v", got)
	}
}

func second[T any](_ T, err error) error { return err }

// GrowthBook's sticky-bucket cases for the "feature-exp" rule: hash v2,
// seed "feature-exp", hash attribute "id" with fallback "deviceId", three
// variations weighted 0.3334/0.3333/0.3333.
func featureExp(bucketVersion, minBucketVersion int, disable bool) abtest.Experiment {
	return abtest.Experiment{Key: "feature-exp", Seed: "feature-exp", HashAttribute: "id", FallbackAttribute: "deviceId",
		HashVersion: 2, Variations: 3, Weights: []float64{0.3334, 0.3333, 0.3333},
		BucketVersion: bucketVersion, MinBucketVersion: minBucketVersion, DisableSticky: disable}
}

func testGrowthBookCases(t *testing.T, s *abtest.Sticky) {
	var a abtest.Assigner
	run := func(name string, e abtest.Experiment, attrs abtest.Attributes) abtest.Result {
		t.Helper()
		c, err := abtest.Compile(e)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		r, err := a.AssignSticky(ctx, c, attrs, s)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		return r
	}
	want := func(name string, got abtest.Result, variation int, sticky bool) {
		t.Helper()
		if !got.InExperiment || got.Variation != variation || got.StickyUsed != sticky {
			t.Fatalf("%s: %+v; want variation %d, sticky %v", name, got, variation, sticky)
		}
	}
	wantDoc := func(name, attr, value string, doc map[string]int) {
		t.Helper()
		got, err := s.Load(ctx, abtest.StickyUser{Attribute: attr, Value: value})
		if err != nil || fmt.Sprint(got) != fmt.Sprint(doc) {
			t.Fatalf("%s: document %s=%s is %v, %v; want %v", name, attr, value, got, err, doc)
		}
	}

	// "use fallbackAttribute when missing hashAttribute"
	r := run("fallback", abtest.Experiment{Key: "feature", Variations: 4, HashAttribute: "id", FallbackAttribute: "anonymousId"},
		abtest.Attributes{"anonymousId": "123"})
	want("use fallbackAttribute when missing hashAttribute", r, 3, false)
	wantDoc("use fallbackAttribute when missing hashAttribute", "anonymousId", "123", map[string]int{"feature__0": 3})

	// "performs evaluation without sticky bucket"
	r = run("no sticky", featureExp(0, 0, false), abtest.Attributes{"deviceId": "d123", "anonymousId": "ses123"})
	want("performs evaluation without sticky bucket", r, 1, false)
	wantDoc("performs evaluation without sticky bucket", "deviceId", "d123", map[string]int{"feature-exp__0": 1})

	// "evaluates based on stored sticky bucket": d124 stored 2 beforehand.
	if _, err := s.Save(ctx, abtest.StickyAssignment{Attribute: "deviceId", Value: "d124", Key: "feature-exp__0", Variation: 2}); err != nil {
		t.Fatal(err)
	}
	r = run("stored", featureExp(0, 0, false), abtest.Attributes{"deviceId": "d124"})
	want("evaluates based on stored sticky bucket", r, 2, true)

	// "favors a sticky bucket doc based on hashAttribute over fallbackAttribute"
	if _, err := s.Save(ctx, abtest.StickyAssignment{Attribute: "deviceId", Value: "d125", Key: "feature-exp__0", Variation: 2}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Save(ctx, abtest.StickyAssignment{Attribute: "id", Value: "i125", Key: "feature-exp__0", Variation: 1}); err != nil {
		t.Fatal(err)
	}
	r = run("favors", featureExp(0, 0, false), abtest.Attributes{"id": "i125", "deviceId": "d125"})
	want("favors a sticky bucket doc based on hashAttribute over fallbackAttribute", r, 1, true)

	// An assignment found only under the fallback moves to the hash
	// attribute once the user has one.
	r = run("upgrade", featureExp(0, 0, false), abtest.Attributes{"id": "i124", "deviceId": "d124"})
	want("upgrades a sticky bucket doc from a fallbackAttribute to a hashAttribute", r, 2, true)
	wantDoc("upgrade", "id", "i124", map[string]int{"feature-exp__0": 2})

	// "resets sticky bucketing when the bucketVersion changes": i123 held 1
	// at version 0; at version 3 it is hashed again (bucket 0.9943 → 2).
	if _, err := s.Save(ctx, abtest.StickyAssignment{Attribute: "id", Value: "i123", Key: "feature-exp__0", Variation: 1}); err != nil {
		t.Fatal(err)
	}
	r = run("reset", featureExp(3, 0, false), abtest.Attributes{"id": "i123"})
	want("resets sticky bucketing when the bucketVersion changes", r, 2, false)
	wantDoc("reset", "id", "i123", map[string]int{"feature-exp__0": 1, "feature-exp__3": 2})

	// "stops test enrollment when and existing sticky bucket is blocked by version"
	if _, err := s.Save(ctx, abtest.StickyAssignment{Attribute: "id", Value: "i126", Key: "feature-exp__0", Variation: 1}); err != nil {
		t.Fatal(err)
	}
	c, _ := abtest.Compile(featureExp(3, 3, false))
	if r, err := a.AssignSticky(ctx, c, abtest.Attributes{"id": "i126"}, s); err != nil || r.InExperiment {
		t.Fatalf("blocked by version: %+v, %v; want not in experiment", r, err)
	}

	// "disables sticky bucketing when disabled by experiment"
	if _, err := s.Save(ctx, abtest.StickyAssignment{Attribute: "id", Value: "i127", Key: "feature-exp__1", Variation: 1}); err != nil {
		t.Fatal(err)
	}
	r = run("disabled", featureExp(1, 0, true), abtest.Attributes{"id": "i127"})
	if r.StickyUsed {
		t.Fatalf("sticky used although disabled: %+v", r)
	}
	wantDoc("disabled", "id", "i127", map[string]int{"feature-exp__1": 1})
}

// testWeightChange: users keep their variation when the weights change
// under the same bucket version, and only then.
func testWeightChange(t *testing.T, s *abtest.Sticky) {
	before, _ := abtest.Compile(abtest.Experiment{Key: "price", Variations: 2, Weights: []float64{0.5, 0.5}})
	after, _ := abtest.Compile(abtest.Experiment{Key: "price", Variations: 2, Weights: []float64{0.1, 0.9}})
	var a abtest.Assigner
	first := map[string]int{}
	for i := 0; i < 200; i++ {
		id := "u" + strconv.Itoa(i)
		r, err := a.AssignSticky(ctx, before, abtest.Attributes{"id": id}, s)
		if err != nil {
			t.Fatal(err)
		}
		first[id] = r.Variation
	}
	moved := 0
	for id, v := range first {
		r, err := a.AssignSticky(ctx, after, abtest.Attributes{"id": id}, s)
		if err != nil {
			t.Fatal(err)
		}
		if r.Variation != v {
			t.Fatalf("%s moved from %d to %d after a weight change", id, v, r.Variation)
		}
		if a.Assign(after, abtest.Attributes{"id": id}).Variation != v {
			moved++
		}
	}
	if moved == 0 {
		t.Fatal("the weight change moved nobody without stickiness; the test proves nothing")
	}
}

func testClosed(t *testing.T, s *abtest.Sticky) {
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Save(ctx, abtest.StickyAssignment{Attribute: "id", Value: "u", Key: "k", Variation: 0}); !errors.Is(err, abtest.ErrClosed) {
		t.Fatalf("Save after Close: %v", err)
	}
	if _, err := s.Load(ctx, abtest.StickyUser{Attribute: "id", Value: "u"}); !errors.Is(err, abtest.ErrClosed) {
		t.Fatalf("Load after Close: %v", err)
	}
}
