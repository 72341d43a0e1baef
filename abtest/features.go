package abtest

import (
	"context"
	"encoding/json"
	"fmt"
	"strconv"
)

// Feature flags as GrowthBook serves them: a features payload maps each
// feature key to a default value and rules, evaluated per user in order —
// force rules (a value for the users a condition, a range or a coverage
// admits), experiment rules (a variation's value, assigned as Assign
// does), prerequisites on other features' values, filters and namespaces.
// CompileFeatures compiles a payload once; Assigner.EvalFeature evaluates
// one feature for one user.

// Features is a compiled features payload. It is immutable and safe for
// concurrent use.
type Features struct {
	byKey map[string]*compiledFeature
}

type compiledFeature struct {
	defaultValue any
	rules        []compiledRule
}

type compiledRule struct {
	id        string
	parents   []parentCondition
	filters   []compiledFilter
	condition *Condition
	// A force rule.
	force      any
	isForce    bool
	rollout    rollout
	experiment *Compiled // an experiment rule
	variations []any
	meta       []variationMeta
	echo       map[string]any // the experiment as GrowthBook reports it
	malformed  bool           // an experiment rule no SDK could run: skipped
	tracks     []Exposure     // reported when a force rule fires
}

type parentCondition struct {
	id        string
	condition *Condition
	gate      bool
}

// rollout is who a force rule reaches: a hash range, or a coverage.
type rollout struct {
	hashAttribute, fallback string
	hash                    seededHash
	validVersion            bool
	rng                     *Range
	coverage                *float64
}

type variationMeta struct {
	Key         string `json:"key"`
	Name        string `json:"name"`
	Passthrough bool   `json:"passthrough"`
}

// featureRuleJSON is a rule as GrowthBook's API writes it.
type featureRuleJSON struct {
	ID               string            `json:"id"`
	Condition        json.RawMessage   `json:"condition"`
	ParentConditions []json.RawMessage `json:"parentConditions"`
	Force            json.RawMessage   `json:"force"`
	Variations       []any             `json:"variations"`
	Weights          []float64         `json:"weights"`
	Key              string            `json:"key"`
	HashAttribute    string            `json:"hashAttribute"`
	Fallback         string            `json:"fallbackAttribute"`
	HashVersion      int               `json:"hashVersion"`
	Range            *[2]float64       `json:"range"`
	Ranges           [][2]float64      `json:"ranges"`
	Coverage         *float64          `json:"coverage"`
	Namespace        []any             `json:"namespace"`
	Filters          []struct {
		Seed        string       `json:"seed"`
		Attribute   string       `json:"attribute"`
		Ranges      [][2]float64 `json:"ranges"`
		HashVersion int          `json:"hashVersion"`
	} `json:"filters"`
	Seed                string          `json:"seed"`
	Meta                []variationMeta `json:"meta"`
	ContextualBanditRef string          `json:"contextualBanditRef"`
	Tracks              []struct {
		Experiment struct {
			Key string `json:"key"`
		} `json:"experiment"`
		Result struct {
			VariationID   int     `json:"variationId"`
			InExperiment  bool    `json:"inExperiment"`
			HashUsed      bool    `json:"hashUsed"`
			HashAttribute string  `json:"hashAttribute"`
			HashValue     any     `json:"hashValue"`
			Bucket        float64 `json:"bucket"`
		} `json:"result"`
	} `json:"tracks"`
	BucketVersion    int  `json:"bucketVersion"`
	MinBucketVersion int  `json:"minBucketVersion"`
	DisableSticky    bool `json:"disableStickyBucketing"`
}

// echoFields are the rule fields GrowthBook copies into the experiment it
// reports for an experiment rule.
var echoFields = []string{"variations", "coverage", "weights", "hashAttribute", "fallbackAttribute",
	"disableStickyBucketing", "bucketVersion", "minBucketVersion", "namespace", "meta", "ranges", "name",
	"phase", "seed", "hashVersion", "filters", "condition"}

// CompileFeatures compiles a features payload: a JSON object of feature
// key → {"defaultValue": …, "rules": […]}. Contextual-bandit rules
// ("contextualBanditRef") are skipped: GrowthBook's backend decides them.
func CompileFeatures(raw []byte) (*Features, error) {
	var payload map[string]json.RawMessage
	if err := json.Unmarshal(raw, &payload); err != nil {
		return nil, &InputError{Field: "Features", Rule: "must be a JSON object of features: " + err.Error()}
	}
	fs := &Features{byKey: make(map[string]*compiledFeature, len(payload))}
	for key, fraw := range payload {
		var f struct {
			DefaultValue any               `json:"defaultValue"`
			Rules        []json.RawMessage `json:"rules"`
		}
		if err := json.Unmarshal(fraw, &f); err != nil {
			return nil, &InputError{Field: "Features." + key, Rule: "must be a feature: " + err.Error()}
		}
		cf := &compiledFeature{defaultValue: f.DefaultValue}
		for i, rraw := range f.Rules {
			r, err := compileRule(key, rraw)
			if err != nil {
				return nil, &InputError{Field: fmt.Sprintf("Features.%s.rules[%d]", key, i), Rule: err.Error()}
			}
			cf.rules = append(cf.rules, r)
		}
		fs.byKey[key] = cf
	}
	return fs, nil
}

func compileRule(featureKey string, raw json.RawMessage) (compiledRule, error) {
	var rj featureRuleJSON
	if err := json.Unmarshal(raw, &rj); err != nil {
		return compiledRule{}, err
	}
	r := compiledRule{id: rj.ID}
	if len(rj.Condition) > 0 && string(rj.Condition) != "null" {
		c, err := CompileCondition(rj.Condition)
		if err != nil {
			return compiledRule{}, err
		}
		r.condition = c
	}
	for _, praw := range rj.ParentConditions {
		var p struct {
			ID        string          `json:"id"`
			Condition json.RawMessage `json:"condition"`
			Gate      bool            `json:"gate"`
		}
		if err := json.Unmarshal(praw, &p); err != nil {
			return compiledRule{}, err
		}
		pc := parentCondition{id: p.ID, gate: p.Gate}
		c, err := CompileCondition(p.Condition)
		if err != nil {
			// A condition that is not an object matches nothing.
			c = &Condition{root: malformedNode{}, malformed: true}
		}
		pc.condition = c
		r.parents = append(r.parents, pc)
	}
	for _, f := range rj.Filters {
		af := Filter{Seed: f.Seed, Attribute: f.Attribute, HashVersion: f.HashVersion}
		for _, rg := range f.Ranges {
			af.Ranges = append(af.Ranges, Range{rg[0], rg[1]})
		}
		cf, err := compileFilters([]Filter{af})
		if err != nil {
			return compiledRule{}, err
		}
		r.filters = append(r.filters, cf...)
	}
	hashAttr := rj.HashAttribute
	if hashAttr == "" {
		hashAttr = "id"
	}
	for _, tr := range rj.Tracks {
		res := Result{InExperiment: tr.Result.InExperiment, Variation: tr.Result.VariationID, HashUsed: tr.Result.HashUsed,
			HashAttribute: tr.Result.HashAttribute, HashValue: fmt.Sprint(tr.Result.HashValue), Bucket: tr.Result.Bucket}
		if tr.Result.HashValue == nil {
			res.HashValue = ""
		}
		r.tracks = append(r.tracks, Exposure{Experiment: tr.Experiment.Key, Result: res})
	}
	if len(rj.Force) > 0 {
		r.isForce = true
		if err := json.Unmarshal(rj.Force, &r.force); err != nil {
			return compiledRule{}, err
		}
		seed := rj.Seed
		if seed == "" {
			seed = featureKey
		}
		hv := rj.HashVersion
		if hv == 0 {
			hv = 1
		}
		r.rollout = rollout{hashAttribute: hashAttr, fallback: rj.Fallback, hash: newSeededHash(seed, hv),
			validVersion: hv == 1 || hv == 2, coverage: rj.Coverage}
		if rj.Range != nil {
			r.rollout.rng = &Range{rj.Range[0], rj.Range[1]}
		}
		return r, nil
	}
	if len(rj.Variations) == 0 || rj.ContextualBanditRef != "" {
		// Neither force nor experiment: skipped, as GrowthBook does. A
		// contextual-bandit rule is skipped too: GrowthBook's backend
		// decides those, and this package does not evaluate them.
		return r, nil
	}
	r.variations, r.meta = rj.Variations, rj.Meta
	key := rj.Key
	if key == "" {
		key = featureKey
	}
	e := Experiment{Key: key, Variations: len(rj.Variations), Weights: rj.Weights, Coverage: rj.Coverage,
		HashAttribute: rj.HashAttribute, FallbackAttribute: rj.Fallback, HashVersion: rj.HashVersion, Seed: rj.Seed,
		Condition: r.condition, BucketVersion: rj.BucketVersion, MinBucketVersion: rj.MinBucketVersion,
		DisableSticky: rj.DisableSticky}
	for _, rg := range rj.Ranges {
		e.Ranges = append(e.Ranges, Range{rg[0], rg[1]})
	}
	if len(rj.Namespace) == 3 {
		id, _ := rj.Namespace[0].(string)
		start, _ := rj.Namespace[1].(float64)
		end, _ := rj.Namespace[2].(float64)
		e.Namespace = &Namespace{ID: id, Start: start, End: end}
	}
	c, err := Compile(e)
	if err != nil {
		r.malformed = true // an experiment no SDK could run puts nobody in it
	} else {
		r.experiment = c
		if len(rj.Filters) > 0 {
			ef := make([]Filter, 0, len(rj.Filters))
			for _, f := range rj.Filters {
				af := Filter{Seed: f.Seed, Attribute: f.Attribute, HashVersion: f.HashVersion}
				for _, rg := range f.Ranges {
					af.Ranges = append(af.Ranges, Range{rg[0], rg[1]})
				}
				ef = append(ef, af)
			}
			e.Filters = ef
			if r.experiment, err = Compile(e); err != nil {
				r.experiment, r.malformed = nil, true
			}
		}
	}
	var all map[string]any
	if err := json.Unmarshal(raw, &all); err != nil {
		return compiledRule{}, err
	}
	r.echo = map[string]any{"key": key}
	for _, f := range echoFields {
		if v, ok := all[f]; ok {
			r.echo[f] = v
		}
	}
	return r, nil
}

// FeatureResult is a feature's value for a user and where it came from.
type FeatureResult struct {
	Value any
	// On is the value's truthiness as JavaScript sees it (null, false, 0
	// and "" are off); Off is its negation.
	On, Off bool
	// Source is "unknownFeature", "defaultValue", "force", "experiment",
	// "prerequisite" (a gating prerequisite failed) or
	// "cyclicPrerequisite".
	Source string
	// RuleID is the deciding rule's ID, if it has one.
	RuleID string
	// Experiment and ExperimentResult are set when an experiment rule
	// decided the value: the experiment as GrowthBook describes it, and
	// the user's assignment.
	Experiment       map[string]any
	ExperimentResult *ExperimentResult
}

// ExperimentResult is an experiment rule's assignment, in GrowthBook's
// terms.
type ExperimentResult struct {
	FeatureID        string   `json:"featureId"`
	Value            any      `json:"value"`
	VariationID      int      `json:"variationId"`
	InExperiment     bool     `json:"inExperiment"`
	HashUsed         bool     `json:"hashUsed"`
	HashAttribute    string   `json:"hashAttribute"`
	HashValue        any      `json:"hashValue"` // the attribute as the user has it
	Bucket           *float64 `json:"bucket,omitempty"`
	Key              string   `json:"key"`
	Name             string   `json:"name,omitempty"`
	Passthrough      bool     `json:"passthrough,omitempty"`
	StickyBucketUsed bool     `json:"stickyBucketUsed"`
}

// prerequisitesPass reports whether u meets every prerequisite.
func (a *Assigner) prerequisitesPass(ps []Prerequisite, u *User) bool {
	for _, p := range ps {
		var v any
		if a.Features != nil {
			r, _ := a.evalFeatureIn(context.Background(), a.Features, p.Feature, u, nil, nil)
			v = r.Value
		}
		if p.Condition != nil && !p.Condition.Eval(map[string]any{"value": v}, u.SavedGroups) {
			return false
		}
	}
	return true
}

// EvalFeature returns feature key's value for u.
func (a *Assigner) EvalFeature(fs *Features, key string, u *User) FeatureResult {
	r, _ := a.evalFeatureIn(context.Background(), fs, key, u, nil, nil)
	return r
}

// EvalFeatureSticky is EvalFeature with experiment rules assigned through
// the sticky store, as AssignUserSticky does: a user keeps the variation
// an experiment gave them while its bucket version stays the same.
func (a *Assigner) EvalFeatureSticky(ctx context.Context, fs *Features, key string, u *User, store *Sticky) (FeatureResult, error) {
	return a.evalFeatureIn(ctx, fs, key, u, store, nil)
}

func featureResult(v any, source, ruleID string) FeatureResult {
	on := truthy(v)
	return FeatureResult{Value: v, On: on, Off: !on, Source: source, RuleID: ruleID}
}

// evalFeatureIn evaluates key; stack holds the features being evaluated
// further up, to break prerequisite cycles; store may be nil.
func (a *Assigner) evalFeatureIn(ctx context.Context, fs *Features, key string, u *User, store *Sticky, stack []string) (FeatureResult, error) {
	for _, k := range stack {
		if k == key {
			return featureResult(nil, "cyclicPrerequisite", ""), nil
		}
	}
	f, ok := fs.byKey[key]
	if !ok {
		return featureResult(nil, "unknownFeature", ""), nil
	}
	var inner []string // stack with key, built only when a prerequisite needs it
rules:
	for _, r := range f.rules {
		for _, p := range r.parents {
			if inner == nil {
				inner = append(append(make([]string, 0, len(stack)+1), stack...), key)
			}
			parent, err := a.evalFeatureIn(ctx, fs, p.id, u, store, inner)
			if err != nil {
				return FeatureResult{}, err
			}
			if parent.Source == "cyclicPrerequisite" {
				return featureResult(nil, "cyclicPrerequisite", ""), nil
			}
			if !p.condition.Eval(map[string]any{"value": parent.Value}, u.SavedGroups) {
				if p.gate {
					return featureResult(nil, "prerequisite", ""), nil
				}
				continue rules
			}
		}
		if len(r.filters) > 0 && !(&Compiled{filters: r.filters}).passesFilters(u, u.str("id")) {
			continue
		}
		if r.isForce {
			if r.condition != nil && !r.condition.Eval(u.values(), u.SavedGroups) {
				continue
			}
			if !r.rollout.includes(u) {
				continue
			}
			if a.OnExposure != nil {
				// A rule that carries a finished experiment's rollout
				// tracks its users as that experiment's exposures.
				for _, tr := range r.tracks {
					a.OnExposure(tr)
				}
			}
			return a.used(key, featureResult(r.force, "force", r.id)), nil
		}
		if r.experiment == nil {
			continue
		}
		res, err := a.AssignUserSticky(ctx, r.experiment, u, store)
		if err != nil {
			return FeatureResult{}, err
		}
		er := r.result(key, res, u)
		if res.InExperiment && !er.Passthrough {
			out := featureResult(er.Value, "experiment", r.id)
			out.Experiment, out.ExperimentResult = r.echo, er
			return a.used(key, out), nil
		}
	}
	return a.used(key, featureResult(f.defaultValue, "defaultValue", "")), nil
}

// used reports a feature's evaluation to OnFeatureUsage.
func (a *Assigner) used(key string, r FeatureResult) FeatureResult {
	if a.OnFeatureUsage != nil {
		a.OnFeatureUsage(key, r)
	}
	return r
}

// result describes an assignment as GrowthBook reports it.
func (r compiledRule) result(featureKey string, res Result, u *User) *ExperimentResult {
	v := res.Variation
	var hashValue any = res.HashValue
	if raw, ok := u.Attributes[res.HashAttribute]; ok && res.HashValue != "" {
		hashValue = raw
	}
	er := &ExperimentResult{FeatureID: featureKey, Value: r.variations[v], VariationID: v,
		InExperiment: res.InExperiment, HashUsed: res.HashUsed, HashAttribute: res.HashAttribute,
		HashValue: hashValue, Key: strconv.Itoa(v), StickyBucketUsed: res.StickyUsed}
	if res.HashUsed {
		b := res.Bucket
		er.Bucket = &b
	}
	if v < len(r.meta) {
		m := r.meta[v]
		if m.Key != "" {
			er.Key = m.Key
		}
		er.Name, er.Passthrough = m.Name, m.Passthrough
	}
	return er
}

// includes reports whether a force rule's rollout reaches u.
func (ro rollout) includes(u *User) bool {
	if ro.rng == nil && ro.coverage == nil {
		return true
	}
	if ro.rng == nil && *ro.coverage == 0 {
		return false
	}
	value := u.str(ro.hashAttribute)
	if value == "" && ro.fallback != "" {
		value = u.str(ro.fallback)
	}
	if value == "" {
		return false
	}
	if !ro.validVersion {
		return false
	}
	n, _ := ro.hash.of(value)
	if ro.rng != nil {
		return n >= ro.rng.Start && n < ro.rng.End
	}
	return n < *ro.coverage
}
