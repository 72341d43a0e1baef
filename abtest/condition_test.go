package abtest_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/shopkit/shopkit/abtest"
)

// benchCondition is a typical targeting condition: three clauses over a
// string, a list and a version.
const benchCondition = `{"country": {"$in": ["US", "CA", "GB"]}, "plan": "pro", "age": {"$gte": 18}}`

var benchAttrs = map[string]any{"id": "u-123", "country": "US", "plan": "pro", "age": 34.0, "version": "2.4.1"}

func TestConditionEvalDoesNotAllocate(t *testing.T) {
	c, err := abtest.CompileCondition([]byte(benchCondition))
	if err != nil {
		t.Fatal(err)
	}
	if !c.Eval(benchAttrs, nil) {
		t.Fatal("the benchmark's user does not match")
	}
	if n := testing.AllocsPerRun(100, func() { c.Eval(benchAttrs, nil) }); n != 0 {
		t.Fatalf("Eval allocates %v times", n)
	}
}

func TestConditionMalformed(t *testing.T) {
	for _, raw := range []string{`{"$and": {"a": 1}}`, `{"a": {"$type": 5}}`, `{"$or": [1]}`} {
		c, err := abtest.CompileCondition([]byte(raw))
		if err != nil {
			t.Fatalf("%s: %v", raw, err)
		}
		if !c.Malformed() || c.Eval(map[string]any{"a": 1.0}, nil) {
			t.Errorf("%s: malformed %v, passes %v", raw, c.Malformed(), c.Eval(map[string]any{"a": 1.0}, nil))
		}
	}
	if _, err := abtest.CompileCondition([]byte(`[1]`)); err == nil {
		t.Fatal("a list compiled as a condition")
	}
	var empty *abtest.Condition
	if !empty.Eval(nil, nil) {
		t.Fatal("a nil condition refused a user")
	}
}

func BenchmarkEvalCondition(b *testing.B) {
	c, err := abtest.CompileCondition([]byte(benchCondition))
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if !c.Eval(benchAttrs, nil) {
			b.Fatal("no match")
		}
	}
}

// benchFeatures is a flag with a three-clause condition and a 50% rollout.
const benchFeatures = `{"new-checkout": {"defaultValue": false, "rules": [
	{"id": "rollout", "condition": {"country": {"$in": ["US", "CA", "GB"]}, "plan": "pro", "age": {"$gte": 18}},
	 "force": true, "coverage": 0.5, "hashAttribute": "id"}]}}`

func TestEvalFeatureDoesNotAllocate(t *testing.T) {
	fs, err := abtest.CompileFeatures([]byte(benchFeatures))
	if err != nil {
		t.Fatal(err)
	}
	var a abtest.Assigner
	u := &abtest.User{Attributes: benchAttrs}
	r := a.EvalFeature(fs, "new-checkout", u)
	if r.Source == "unknownFeature" {
		t.Fatal("no such feature")
	}
	if n := testing.AllocsPerRun(100, func() { a.EvalFeature(fs, "new-checkout", u) }); n != 0 {
		t.Fatalf("EvalFeature allocates %v times", n)
	}
}

// TestLoadPayload: an encrypted features payload (the suite's decrypt
// case) opens with its key and evaluates; a wrong key is an error.
func TestLoadPayload(t *testing.T) {
	payload := []byte(`{"encryptedFeatures": "m5ylFM6ndyOJA2OPadubkw==.Uu7ViqgKEt/dWvCyhI46q088PkAEJbnXKf3KPZjf9IEQQ+A8fojNoxw4wIbPX3aj",
		"savedGroups": {"staff": ["u_1"]}}`)
	p, err := abtest.LoadPayload(payload, "Zvwv/+uhpFDznZ6SX28Yjg==")
	if err != nil {
		t.Fatal(err)
	}
	var a abtest.Assigner
	if r := a.EvalFeature(p.Features, "feature", &abtest.User{}); r.Value != true || r.Source != "defaultValue" {
		t.Fatalf("the decrypted feature: %+v", r)
	}
	if _, ok := p.SavedGroups["staff"]; !ok {
		t.Fatal("saved groups not loaded")
	}
	if _, err := abtest.LoadPayload(payload, "Zvwv/+uhpFDznZ6SX39Yjg=="); err == nil {
		t.Fatal("a wrong key opened the payload")
	}
}

// TestTrackingCallbacks: an experiment rule reports its exposure, a force
// rule reports the experiments it tracks, and every evaluation reports
// its use.
func TestTrackingCallbacks(t *testing.T) {
	fs, err := abtest.CompileFeatures([]byte(`{
		"exp-flag": {"defaultValue": 0, "rules": [{"key": "exp", "variations": [0, 1]}]},
		"rolled-out": {"defaultValue": false, "rules": [{"force": true,
			"tracks": [{"experiment": {"key": "old-exp"}, "result": {"variationId": 1, "inExperiment": true, "hashUsed": true, "hashAttribute": "id", "hashValue": "u1"}}]}]}}`))
	if err != nil {
		t.Fatal(err)
	}
	var exposures []string
	var used []string
	a := abtest.Assigner{
		OnExposure: func(e abtest.Exposure) {
			exposures = append(exposures, fmt.Sprintf("%s:%d", e.Experiment, e.Result.Variation))
		},
		OnFeatureUsage: func(key string, r abtest.FeatureResult) { used = append(used, key+":"+r.Source) },
	}
	u := &abtest.User{Attributes: map[string]any{"id": "u1"}}
	a.EvalFeature(fs, "exp-flag", u)
	a.EvalFeature(fs, "rolled-out", u)
	if got := fmt.Sprint(exposures); !strings.HasPrefix(got, "[exp:") || !strings.HasSuffix(got, " old-exp:1]") {
		t.Fatalf("exposures %v", exposures)
	}
	if fmt.Sprint(used) != "[exp-flag:experiment rolled-out:force]" {
		t.Fatalf("usage %v", used)
	}
}
