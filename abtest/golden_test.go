package abtest_test

import (
	"math"
	"testing"

	"github.com/shopkit/shopkit/abtest"
)

// The cases below are transcribed from GrowthBook's cross-SDK test suite
// (packages/sdk-js/test/cases.json, spec 0.5.x), which every GrowthBook SDK
// must pass. Names are the suite's.

func TestGoldenHash(t *testing.T) {
	tests := []struct {
		seed, value string
		version     int
		want        float64
		ok          bool
	}{
		{"", "a", 1, 0.22, true},
		{"", "b", 1, 0.077, true},
		{"b", "a", 1, 0.946, true},
		{"ef", "d", 1, 0.652, true},
		{"asdf", "8952klfjas09ujk", 1, 0.549, true},
		{"", "123", 1, 0.011, true},
		{"", "___)((*\":&", 1, 0.563, true},
		{"seed", "a", 2, 0.0505, true},
		{"seed", "b", 2, 0.2696, true},
		{"foo", "ab", 2, 0.2575, true},
		{"foo", "def", 2, 0.2019, true},
		{"89123klj", "8952klfjas09ujkasdf", 2, 0.124, true},
		{"90850943850283058242805", "123", 2, 0.7516, true},
		{"()**(%$##$%#$#", "___)((*\":&", 2, 0.0128, true},
		{"abc", "def", 99, 0, false},
	}
	for _, tt := range tests {
		got, ok := abtest.Hash(tt.seed, tt.value, tt.version)
		if ok != tt.ok || math.Abs(got-tt.want) > 1e-12 {
			t.Errorf("Hash(%q, %q, %d) = %v, %v; want %v, %v", tt.seed, tt.value, tt.version, got, ok, tt.want, tt.ok)
		}
	}
}

func TestGoldenBucketRanges(t *testing.T) {
	r := func(pairs ...float64) []abtest.Range {
		var out []abtest.Range
		for i := 0; i < len(pairs); i += 2 {
			out = append(out, abtest.Range{Start: pairs[i], End: pairs[i+1]})
		}
		return out
	}
	tests := []struct {
		name     string
		n        int
		coverage float64
		weights  []float64
		want     []abtest.Range
	}{
		{"normal 50/50", 2, 1, nil, r(0, 0.5, 0.5, 1)},
		{"reduced coverage", 2, 0.5, nil, r(0, 0.25, 0.5, 0.75)},
		{"zero coverage", 2, 0, nil, r(0, 0, 0.5, 0.5)},
		{"4 variations", 4, 1, nil, r(0, 0.25, 0.25, 0.5, 0.5, 0.75, 0.75, 1)},
		{"uneven weights", 2, 1, []float64{0.4, 0.6}, r(0, 0.4, 0.4, 1)},
		{"uneven weights, 3 variations", 3, 1, []float64{0.2, 0.3, 0.5}, r(0, 0.2, 0.2, 0.5, 0.5, 1)},
		{"uneven weights, reduced coverage, 3 variations", 3, 0.2, []float64{0.2, 0.3, 0.5}, r(0, 0.04, 0.2, 0.26, 0.5, 0.6)},
		{"negative coverage", 2, -0.2, nil, r(0, 0, 0.5, 0.5)},
		{"coverage above 1", 2, 1.5, nil, r(0, 0.5, 0.5, 1)},
		{"weights sum below 1", 2, 1, []float64{0.4, 0.1}, r(0, 0.5, 0.5, 1)},
		{"weights sum above 1", 2, 1, []float64{0.7, 0.6}, r(0, 0.5, 0.5, 1)},
		{"weights.length not equal to num variations", 4, 1, []float64{0.4, 0.4, 0.2}, r(0, 0.25, 0.25, 0.5, 0.5, 0.75, 0.75, 1)},
		{"weights sum almost equals 1", 2, 1, []float64{0.4, 0.5999}, r(0, 0.4, 0.4, 0.9999)},
	}
	for _, tt := range tests {
		got := abtest.BucketRanges(tt.n, tt.coverage, tt.weights)
		if len(got) != len(tt.want) {
			t.Errorf("%s: %v, want %v", tt.name, got, tt.want)
			continue
		}
		for i := range got {
			// The suite compares to 6 decimals.
			if math.Abs(got[i].Start-tt.want[i].Start) > 1e-6 || math.Abs(got[i].End-tt.want[i].End) > 1e-6 {
				t.Errorf("%s: %v, want %v", tt.name, got, tt.want)
				break
			}
		}
	}
}

func TestGoldenChooseVariation(t *testing.T) {
	even := []abtest.Range{{0, 0.5}, {0.5, 1}}
	reduced := []abtest.Range{{0, 0.25}, {0.5, 0.75}}
	zero := []abtest.Range{{0, 0.5}, {0.5, 0.5}, {0.5, 1}}
	tests := []struct {
		name   string
		n      float64
		ranges []abtest.Range
		want   int
	}{
		{"even range, 0.2", 0.2, even, 0},
		{"even range, 0.4", 0.4, even, 0},
		{"even range, 0.6", 0.6, even, 1},
		{"even range, 0.8", 0.8, even, 1},
		{"even range, 0", 0, even, 0},
		{"even range, 0.5", 0.5, even, 1},
		{"reduced range, 0.2", 0.2, reduced, 0},
		{"reduced range, 0.4", 0.4, reduced, -1},
		{"reduced range, 0.6", 0.6, reduced, 1},
		{"reduced range, 0.8", 0.8, reduced, -1},
		{"reduced range, 0.25", 0.25, reduced, -1},
		{"reduced range, 0.5", 0.5, reduced, 1},
		{"zero range", 0.5, zero, 2},
	}
	for _, tt := range tests {
		if got := abtest.ChooseVariation(tt.n, tt.ranges); got != tt.want {
			t.Errorf("%s: %d, want %d", tt.name, got, tt.want)
		}
	}
}

func TestGoldenInNamespace(t *testing.T) {
	tests := []struct {
		id   string
		ns   abtest.Namespace
		want bool
	}{
		{"1", abtest.Namespace{ID: "namespace1", Start: 0, End: 0.4}, false},
		{"1", abtest.Namespace{ID: "namespace1", Start: 0.4, End: 1}, true},
		{"1", abtest.Namespace{ID: "namespace2", Start: 0, End: 0.4}, false},
		{"1", abtest.Namespace{ID: "namespace2", Start: 0.4, End: 1}, true},
		{"2", abtest.Namespace{ID: "namespace1", Start: 0, End: 0.4}, false},
		{"2", abtest.Namespace{ID: "namespace1", Start: 0.4, End: 1}, true},
		{"2", abtest.Namespace{ID: "namespace2", Start: 0, End: 0.4}, false},
		{"2", abtest.Namespace{ID: "namespace2", Start: 0.4, End: 1}, true},
		{"3", abtest.Namespace{ID: "namespace1", Start: 0, End: 0.4}, false},
		{"3", abtest.Namespace{ID: "namespace1", Start: 0.4, End: 1}, true},
		{"3", abtest.Namespace{ID: "namespace2", Start: 0, End: 0.4}, true},
		{"3", abtest.Namespace{ID: "namespace2", Start: 0.4, End: 1}, false},
		{"4", abtest.Namespace{ID: "namespace1", Start: 0, End: 0.4}, false},
		{"4", abtest.Namespace{ID: "namespace1", Start: 0.4, End: 1}, true},
		{"4", abtest.Namespace{ID: "namespace2", Start: 0, End: 0.4}, true},
		{"4", abtest.Namespace{ID: "namespace2", Start: 0.4, End: 1}, false},
	}
	for _, tt := range tests {
		if got := abtest.InNamespace(tt.id, tt.ns); got != tt.want {
			t.Errorf("InNamespace(%q, %+v) = %v, want %v", tt.id, tt.ns, got, tt.want)
		}
	}
}

func TestGoldenEqualWeights(t *testing.T) {
	tests := []struct {
		n    int
		want []float64
	}{
		{-1, nil}, {0, nil}, {1, []float64{1}}, {2, []float64{0.5, 0.5}},
		{3, []float64{0.33333333, 0.33333333, 0.33333333}}, {4, []float64{0.25, 0.25, 0.25, 0.25}},
	}
	for _, tt := range tests {
		got := abtest.EqualWeights(tt.n)
		if len(got) != len(tt.want) {
			t.Fatalf("EqualWeights(%d) = %v", tt.n, got)
		}
		for i := range got {
			if math.Abs(got[i]-tt.want[i]) > 1e-8 {
				t.Fatalf("EqualWeights(%d) = %v, want %v", tt.n, got, tt.want)
			}
		}
	}
}

func ptr[T any](v T) *T { return &v }

// TestGoldenRun covers the suite's "run" cases that do not depend on
// targeting conditions, URLs or features (which are the caller's here), and
// the experiment results its "feature" and "stickyBucket" cases expect
// before any sticky assignment is stored.
func TestGoldenRun(t *testing.T) {
	id1 := abtest.Attributes{"id": "1"}
	two := 2
	tests := []struct {
		name     string
		assigner abtest.Assigner
		attrs    abtest.Attributes
		exp      abtest.Experiment
		want     int
		inExp    bool
		hashUsed bool
		bucket   float64 // checked when hashUsed and non-zero
	}{
		{"custom hashAttribute", abtest.Assigner{}, abtest.Attributes{"id": "2", "companyId": "1"},
			abtest.Experiment{Key: "my-test", Variations: two, HashAttribute: "companyId"}, 1, true, true, 0},
		{"globally disabled", abtest.Assigner{Disabled: true}, id1,
			abtest.Experiment{Key: "my-test", Variations: two}, 0, false, false, 0},
		{"run active experiments", abtest.Assigner{}, id1,
			abtest.Experiment{Key: "my-test", Variations: two}, 1, true, true, 0},
		{"skip inactive experiments", abtest.Assigner{}, id1,
			abtest.Experiment{Key: "my-test", Variations: two, Status: abtest.Draft}, 0, false, false, 0},
		{"coverage take precendence over forced", abtest.Assigner{}, id1,
			abtest.Experiment{Key: "my-test", Variations: two, Force: ptr(1), Coverage: ptr(0.01)}, 0, false, false, 0},
		{"JSON values for experiments", abtest.Assigner{}, id1,
			abtest.Experiment{Key: "my-test", Variations: two}, 1, true, true, 0},
		{"Force variation from context", abtest.Assigner{Forced: map[string]int{"my-test": 0}}, id1,
			abtest.Experiment{Key: "my-test", Variations: two}, 0, true, false, 0},
		{"Skips experiments in QA mode", abtest.Assigner{QAMode: true}, id1,
			abtest.Experiment{Key: "my-test", Variations: two}, 0, false, false, 0},
		{"Works in QA mode if forced in context", abtest.Assigner{QAMode: true, Forced: map[string]int{"my-test": 1}}, id1,
			abtest.Experiment{Key: "my-test", Variations: two}, 1, true, false, 0},
		{"Works in QA mode if forced in experiment", abtest.Assigner{QAMode: true}, id1,
			abtest.Experiment{Key: "my-test", Variations: two, Force: ptr(1)}, 1, true, false, 0},
		{"Experiment namespace - pass", abtest.Assigner{}, id1,
			abtest.Experiment{Key: "my-test", Variations: two, Namespace: &abtest.Namespace{ID: "namespace", Start: 0.1, End: 1}}, 1, true, true, 0},
		{"Experiment namespace - fail", abtest.Assigner{}, id1,
			abtest.Experiment{Key: "my-test", Variations: two, Namespace: &abtest.Namespace{ID: "namespace", Start: 0, End: 0.1}}, 0, false, false, 0},
		{"Experiment coverage - Works when 0", abtest.Assigner{}, id1,
			abtest.Experiment{Key: "no-coverage", Variations: two, Coverage: ptr(0.0)}, 0, false, false, 0},
		{"Filtered, included", abtest.Assigner{}, abtest.Attributes{"id": "1", "anonId": "fsdafsda"},
			abtest.Experiment{Key: "filtered", Variations: two, Filters: []abtest.Filter{
				{Seed: "seed", Ranges: []abtest.Range{{0, 0.1}, {0.2, 0.4}}},
				{Seed: "seed", Attribute: "anonId", Ranges: []abtest.Range{{0.8, 1.0}}},
			}}, 1, true, true, 0},
		{"Filtered, excluded", abtest.Assigner{}, abtest.Attributes{"id": "1", "anonId": "fsdafsda"},
			abtest.Experiment{Key: "filtered", Variations: two, Filters: []abtest.Filter{
				{Seed: "seed", Ranges: []abtest.Range{{0, 0.1}, {0.2, 0.4}}},
				{Seed: "seed", Attribute: "anonId", Ranges: []abtest.Range{{0.6, 0.8}}},
			}}, 0, false, false, 0},
		{"Filtered, ignore namespace", abtest.Assigner{}, id1,
			abtest.Experiment{Key: "filtered", Variations: two,
				Filters:   []abtest.Filter{{Seed: "seed", Ranges: []abtest.Range{{0, 0.1}, {0.2, 0.4}}}},
				Namespace: &abtest.Namespace{ID: "test", Start: 0, End: 0.001}}, 1, true, true, 0},
		{"Ranges, ignore coverage and weights", abtest.Assigner{}, id1,
			abtest.Experiment{Key: "ranges", Variations: two, Ranges: []abtest.Range{{0.99, 1.0}, {0.0, 0.99}},
				Coverage: ptr(0.01), Weights: []float64{0.99, 0.01}}, 1, true, true, 0},
		{"Ranges, partial coverage", abtest.Assigner{}, id1,
			abtest.Experiment{Key: "configs", Variations: two, Ranges: []abtest.Range{{0, 0.1}, {0.9, 1.0}}}, 0, false, false, 0},
		{"Uses seed and hash version", abtest.Assigner{}, id1,
			abtest.Experiment{Key: "key", Seed: "foo", HashVersion: 2, Variations: two, Ranges: []abtest.Range{{0, 0.5}, {0.5, 1.0}}}, 1, true, true, 0},
		{"Uses seed with default weights/coverage", abtest.Assigner{}, id1,
			abtest.Experiment{Key: "key", Seed: "foo", HashVersion: 2, Variations: two}, 1, true, true, 0},
		{"Uses seed with weights/coverage", abtest.Assigner{}, id1,
			abtest.Experiment{Key: "key", Seed: "foo", HashVersion: 2, Variations: two, Weights: []float64{0.5, 0.5}, Coverage: ptr(0.99)}, 1, true, true, 0},
		// feature: "empty experiment rule - c / a / b"
		{"empty experiment rule - c", abtest.Assigner{}, abtest.Attributes{"id": "123"},
			abtest.Experiment{Key: "feature", Variations: 3}, 2, true, true, 0.863},
		{"empty experiment rule - a", abtest.Assigner{}, abtest.Attributes{"id": "456"},
			abtest.Experiment{Key: "feature", Variations: 3}, 0, true, true, 0.178},
		{"empty experiment rule - b", abtest.Assigner{}, abtest.Attributes{"id": "fds"},
			abtest.Experiment{Key: "feature", Variations: 3}, 1, true, true, 0.514},
		// feature: "creates experiments properly" (its condition holds)
		{"creates experiments properly", abtest.Assigner{}, abtest.Attributes{"anonId": "123"},
			abtest.Experiment{Key: "hello", Seed: "feature", HashVersion: 2, HashAttribute: "anonId", Variations: two,
				Coverage: ptr(0.99), Ranges: []abtest.Range{{0, 0.1}, {0.1, 1.0}}, Weights: []float64{0.1, 0.9},
				Filters:   []abtest.Filter{{Attribute: "anonId", Seed: "pricing", Ranges: []abtest.Range{{0, 1}}}},
				Namespace: &abtest.Namespace{ID: "pricing", Start: 0, End: 1}}, 1, true, true, 0.5231},
		// stickyBucket: "use fallbackAttribute when missing hashAttribute"
		{"use fallbackAttribute when missing hashAttribute", abtest.Assigner{}, abtest.Attributes{"anonymousId": "123"},
			abtest.Experiment{Key: "feature", Variations: 4, HashAttribute: "id", FallbackAttribute: "anonymousId"}, 3, true, true, 0.863},
		// stickyBucket: "performs evaluation without sticky bucket"
		{"performs evaluation without sticky bucket", abtest.Assigner{}, abtest.Attributes{"deviceId": "d123", "anonymousId": "ses123"},
			abtest.Experiment{Key: "feature-exp", Seed: "feature-exp", HashAttribute: "id", FallbackAttribute: "deviceId", HashVersion: 2,
				Variations: 3, Weights: []float64{0.3334, 0.3333, 0.3333}, Coverage: ptr(1.0)}, 1, true, true, 0.6468},
		// stickyBucket: "resets sticky bucketing when the bucketVersion changes"
		{"resets sticky bucketing when the bucketVersion changes", abtest.Assigner{}, abtest.Attributes{"id": "i123"},
			abtest.Experiment{Key: "feature-exp", Seed: "feature-exp", HashAttribute: "id", FallbackAttribute: "deviceId", HashVersion: 2,
				Variations: 3, Weights: []float64{0.3334, 0.3333, 0.3333}}, 2, true, true, 0.9943},
	}
	for _, tt := range tests {
		c, err := abtest.Compile(tt.exp)
		if err != nil {
			t.Errorf("%s: Compile: %v", tt.name, err)
			continue
		}
		got := tt.assigner.Assign(c, tt.attrs)
		if got.Variation != tt.want || got.InExperiment != tt.inExp || got.HashUsed != tt.hashUsed {
			t.Errorf("%s: %+v; want variation %d, in experiment %v, hash used %v", tt.name, got, tt.want, tt.inExp, tt.hashUsed)
		}
		if tt.bucket != 0 && math.Abs(got.Bucket-tt.bucket) > 1e-9 {
			t.Errorf("%s: bucket %v, want %v", tt.name, got.Bucket, tt.bucket)
		}
	}
}
