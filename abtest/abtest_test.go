package abtest_test

import (
	"errors"
	"math"
	"strconv"
	"testing"
	"unicode/utf16"

	"github.com/shopkit/shopkit/abtest"
)

// referenceFNV is FNV-1a over the UTF-16 code units of the strings, each
// converted on its own as JavaScript holds them, written the obvious way to
// check the streaming version.
func referenceFNV(parts ...string) uint32 {
	h := uint32(0x811c9dc5)
	for _, s := range parts {
		for _, u := range utf16.Encode([]rune(s)) {
			h ^= uint32(u)
			h *= 16777619
		}
	}
	return h
}

func FuzzHash(f *testing.F) {
	f.Add("seed", "user-1")
	f.Add("", "😀 ünïcode")
	f.Add("实验", "用户42")
	f.Fuzz(func(t *testing.T, seed, value string) {
		n1, ok1 := abtest.Hash(seed, value, 1)
		n2, ok2 := abtest.Hash(seed, value, 2)
		if !ok1 || !ok2 || n1 < 0 || n1 >= 1 || n2 < 0 || n2 >= 1 {
			t.Fatalf("Hash(%q, %q) = %v %v, %v %v", seed, value, n1, ok1, n2, ok2)
		}
		// Each string is decoded on its own, invalid UTF-8 as U+FFFD, as
		// JavaScript would have received it.
		if want := float64(referenceFNV(value, seed)%1000) / 1000; n1 != want {
			t.Fatalf("v1 Hash(%q, %q) = %v, want %v", seed, value, n1, want)
		}
		inner := referenceFNV(seed, value)
		if want := float64(referenceFNV(strconv.FormatUint(uint64(inner), 10))%10000) / 10000; n2 != want {
			t.Fatalf("v2 Hash(%q, %q) = %v, want %v", seed, value, n2, want)
		}
	})
}

// TestUniformBucketing: 100,000 sequential IDs land in a 20/30/50 split
// within 1 percentage point, and version 2 passes a chi-square test at the
// 0.001 level (critical value 13.816 for 2 degrees of freedom).
func TestUniformBucketing(t *testing.T) {
	for _, hv := range []int{1, 2} {
		c, err := abtest.Compile(abtest.Experiment{Key: "uniform", Variations: 3, Weights: []float64{0.2, 0.3, 0.5}, HashVersion: hv})
		if err != nil {
			t.Fatal(err)
		}
		var a abtest.Assigner
		counts := make([]float64, 3)
		const users = 100000
		attrs := abtest.Attributes{}
		for i := 0; i < users; i++ {
			attrs["id"] = "user-" + strconv.Itoa(i)
			counts[a.Assign(c, attrs).Variation]++
		}
		weights := []float64{0.2, 0.3, 0.5}
		chi := 0.0
		for i, w := range weights {
			if math.Abs(counts[i]/users-w) > 0.01 {
				t.Errorf("hash v%d: variation %d got %.4f of users, want %.2f", hv, i, counts[i]/users, w)
			}
			e := w * users
			chi += (counts[i] - e) * (counts[i] - e) / e
		}
		if hv == 2 && chi > 13.816 {
			t.Errorf("hash v2: chi-square %.2f exceeds 13.816", chi)
		}
	}
}

// TestCoverageIncreaseKeepsAssignments: raising coverage only adds users;
// nobody already in the experiment changes variation.
func TestCoverageIncreaseKeepsAssignments(t *testing.T) {
	low, _ := abtest.Compile(abtest.Experiment{Key: "ramp", Variations: 2, Coverage: ptr(0.2), HashVersion: 2})
	high, _ := abtest.Compile(abtest.Experiment{Key: "ramp", Variations: 2, Coverage: ptr(0.8), HashVersion: 2})
	var a abtest.Assigner
	for i := 0; i < 20000; i++ {
		attrs := abtest.Attributes{"id": strconv.Itoa(i)}
		before, after := a.Assign(low, attrs), a.Assign(high, attrs)
		if before.InExperiment && (!after.InExperiment || after.Variation != before.Variation) {
			t.Fatalf("user %d moved from %+v to %+v", i, before, after)
		}
	}
}

func TestNamespacesExclusive(t *testing.T) {
	a1, _ := abtest.Compile(abtest.Experiment{Key: "a", Variations: 2, Namespace: &abtest.Namespace{ID: "checkout", Start: 0, End: 0.5}})
	a2, _ := abtest.Compile(abtest.Experiment{Key: "b", Variations: 2, Namespace: &abtest.Namespace{ID: "checkout", Start: 0.5, End: 1}})
	var a abtest.Assigner
	in := 0
	for i := 0; i < 10000; i++ {
		attrs := abtest.Attributes{"id": strconv.Itoa(i)}
		r1, r2 := a.Assign(a1, attrs), a.Assign(a2, attrs)
		if r1.InExperiment && r2.InExperiment {
			t.Fatalf("user %d is in both experiments of one namespace", i)
		}
		if r1.InExperiment || r2.InExperiment {
			in++
		}
	}
	if in != 10000 {
		t.Fatalf("%d of 10000 users in one of the experiments, want all", in)
	}
}

func TestExposureHook(t *testing.T) {
	var exposures []abtest.Exposure
	a := abtest.Assigner{OnExposure: func(e abtest.Exposure) { exposures = append(exposures, e) }}
	c, _ := abtest.Compile(abtest.Experiment{Key: "my-test", Variations: 2})
	out, _ := abtest.Compile(abtest.Experiment{Key: "none", Variations: 2, Coverage: ptr(0.0)})
	a.Assign(c, abtest.Attributes{"id": "1"})
	a.Assign(out, abtest.Attributes{"id": "1"})
	a.Assign(c, abtest.Attributes{})
	if len(exposures) != 1 || exposures[0].Experiment != "my-test" || exposures[0].Result.Variation != 1 {
		t.Fatalf("exposures = %+v, want one for my-test variation 1", exposures)
	}
}

func TestStoppedExperiment(t *testing.T) {
	c, _ := abtest.Compile(abtest.Experiment{Key: "my-test", Variations: 2, Status: abtest.Stopped})
	var a abtest.Assigner
	if r := a.Assign(c, abtest.Attributes{"id": "1"}); r.InExperiment {
		t.Fatalf("stopped experiment assigned %+v", r)
	}
	a.Forced = map[string]int{"my-test": 1}
	if r := a.Assign(c, abtest.Attributes{"id": "1"}); !r.InExperiment || r.Variation != 1 {
		t.Fatalf("forced variation on a stopped experiment = %+v", r)
	}
}

func TestCompileInvalid(t *testing.T) {
	tests := []struct {
		name      string
		exp       abtest.Experiment
		wantField string
	}{
		{"no key", abtest.Experiment{Variations: 2}, "Key"},
		{"one variation", abtest.Experiment{Key: "k", Variations: 1}, "Variations"},
		{"hash version", abtest.Experiment{Key: "k", Variations: 2, HashVersion: 3}, "HashVersion"},
		{"force out of range", abtest.Experiment{Key: "k", Variations: 2, Force: ptr(2)}, "Force"},
		{"ranges count", abtest.Experiment{Key: "k", Variations: 2, Ranges: []abtest.Range{{0, 1}}}, "Ranges"},
		{"range order", abtest.Experiment{Key: "k", Variations: 2, Ranges: []abtest.Range{{0.5, 0.2}, {0, 1}}}, "Ranges[0]"},
		{"coverage NaN", abtest.Experiment{Key: "k", Variations: 2, Coverage: ptr(math.NaN())}, "Coverage"},
		{"namespace", abtest.Experiment{Key: "k", Variations: 2, Namespace: &abtest.Namespace{Start: 0, End: 1}}, "Namespace"},
		{"status", abtest.Experiment{Key: "k", Variations: 2, Status: 7}, "Status"},
	}
	for _, tt := range tests {
		_, err := abtest.Compile(tt.exp)
		var ie *abtest.InputError
		if !errors.As(err, &ie) || ie.Field != tt.wantField || !errors.Is(err, abtest.ErrInvalidInput) {
			t.Errorf("%s: err = %v, want InputError on %s", tt.name, err, tt.wantField)
		}
	}
	// NaN weights fall back to equal weights rather than failing.
	c, err := abtest.Compile(abtest.Experiment{Key: "k", Variations: 2, Weights: []float64{math.NaN(), 1}})
	if err != nil || c.Ranges()[0] != (abtest.Range{Start: 0, End: 0.5}) {
		t.Fatalf("NaN weights: %v, %v", c.Ranges(), err)
	}
}

func TestAssignAllocatesNothing(t *testing.T) {
	c, _ := abtest.Compile(abtest.Experiment{Key: "checkout-button", Variations: 2, HashVersion: 2,
		Namespace: &abtest.Namespace{ID: "checkout", Start: 0, End: 1}})
	var a abtest.Assigner
	attrs := abtest.Attributes{"id": "user-8472"}
	if n := testing.AllocsPerRun(1000, func() { a.Assign(c, attrs) }); n != 0 {
		t.Fatalf("Assign allocates %v times per call", n)
	}
}
