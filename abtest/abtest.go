package abtest

import (
	"errors"
	"math"
	"strconv"
)

// Errors callers branch on.
var (
	// ErrInvalidInput is matched by every *InputError.
	ErrInvalidInput = errors.New("abtest: invalid input")
)

// InputError reports an experiment definition that breaks a rule.
type InputError struct {
	Field string
	Rule  string
}

// Error implements error.
func (e *InputError) Error() string { return "abtest: " + e.Field + " " + e.Rule }

// Is makes errors.Is(err, ErrInvalidInput) true.
func (e *InputError) Is(target error) bool { return target == ErrInvalidInput }

// Range is a half-open interval [Start, End) of the hash space [0, 1).
type Range struct {
	Start, End float64
}

// Namespace makes experiments mutually exclusive: users whose namespace
// hash falls in [Start, End) of namespace ID may enter. Experiments given
// disjoint ranges of one namespace never share a user.
type Namespace struct {
	ID         string
	Start, End float64
}

// Filter admits users whose hash of Attribute (default: the experiment's
// hash attribute) under Seed falls in any of Ranges. Experiments use
// filters, when given, instead of a namespace.
type Filter struct {
	Seed        string
	Attribute   string
	Ranges      []Range
	HashVersion int // default 2
}

// compiledFilter is a Filter with its seed's hash prepared.
type compiledFilter struct {
	Filter
	hash seededHash
}

// Status is an experiment's life-cycle state.
type Status int

const (
	// Running experiments assign users. The zero value.
	Running Status = iota
	// Draft experiments assign nobody, except forced variations.
	Draft
	// Stopped experiments assign nobody: users are bucketed, then
	// excluded, as GrowthBook does.
	Stopped
)

// String returns the status name GrowthBook uses.
func (s Status) String() string {
	switch s {
	case Running:
		return "running"
	case Draft:
		return "draft"
	case Stopped:
		return "stopped"
	}
	return "Status(" + strconv.Itoa(int(s)) + ")"
}

// Experiment defines an experiment as GrowthBook does. Only Key and
// Variations are required.
type Experiment struct {
	// Key names the experiment; it is also the default hash seed.
	Key string
	// Variations is how many variations there are (≥ 2); variation 0 is
	// usually the control. What each variation means is the caller's.
	Variations int
	// Weights split traffic among variations. Missing or bad weights (wrong
	// count, sum outside [0.99, 1.01], NaN) fall back to equal weights, as
	// in every GrowthBook SDK.
	Weights []float64
	// Coverage is the fraction of users included, clamped to [0, 1].
	// Nil means 1.
	Coverage *float64
	// Ranges, if set, are the bucket ranges of the variations, overriding
	// Weights and Coverage.
	Ranges []Range
	// HashAttribute names the attribute to hash. Default "id".
	HashAttribute string
	// FallbackAttribute is hashed when HashAttribute is missing or empty.
	FallbackAttribute string
	// HashVersion is 1 (default, GrowthBook's original) or 2.
	HashVersion int
	// Seed is the hash seed. Default Key.
	Seed string
	// Namespace, if set, limits the experiment to part of a namespace.
	Namespace *Namespace
	// Filters, if set, limit the experiment to users in all of them.
	Filters []Filter
	// Force, if set, gives every user in range this variation.
	Force *int
	// Status defaults to Running.
	Status Status
	// BucketVersion tags sticky assignments; bump it to re-randomise
	// everyone on purpose. Used by AssignSticky.
	BucketVersion int
	// MinBucketVersion, if positive, keeps out users who hold a sticky
	// assignment from an older version, rather than re-randomising them.
	MinBucketVersion int
	// DisableSticky makes AssignSticky behave as Assign.
	DisableSticky bool
	// Condition, if set, targets the experiment: users it refuses are not
	// in it. It is evaluated after filters and namespace, as GrowthBook
	// does.
	Condition *Condition
	// Prerequisites, if set, admit only users for whom other features
	// (in the Assigner's Features) have the values the conditions ask.
	Prerequisites []Prerequisite
}

// Prerequisite asks that a feature's value pass a condition, written over
// {"value": <the feature's value>} as in GrowthBook.
type Prerequisite struct {
	Feature   string
	Condition *Condition
}

// Compiled is a validated experiment with its bucket ranges worked out,
// ready for Assign. It is immutable and safe for concurrent use.
type Compiled struct {
	key           string
	seed          seededHash
	hashAttribute string
	fallback      string
	ranges        []Range
	namespace     *Namespace
	namespaceHash seededHash // version 1 under "__"+namespace ID
	filters       []compiledFilter
	force         int // -1: none
	status        Status
	bucketVersion int
	minVersion    int
	noSticky      bool
	condition     *Condition
	prereqs       []Prerequisite
}

// Key returns the experiment key.
func (c *Compiled) Key() string { return c.key }

// Ranges returns the variations' bucket ranges.
func (c *Compiled) Ranges() []Range { return append([]Range(nil), c.ranges...) }

// Compile validates e and works out its bucket ranges.
func Compile(e Experiment) (*Compiled, error) {
	if e.Key == "" {
		return nil, &InputError{Field: "Key", Rule: "must not be empty"}
	}
	if e.Variations < 2 {
		return nil, &InputError{Field: "Variations", Rule: "must be ≥ 2"}
	}
	hv := e.HashVersion
	if hv == 0 {
		hv = 1
	}
	if hv != 1 && hv != 2 {
		return nil, &InputError{Field: "HashVersion", Rule: "must be 1 or 2"}
	}
	if e.Status < Running || e.Status > Stopped {
		return nil, &InputError{Field: "Status", Rule: "must be Running, Draft or Stopped"}
	}
	if e.BucketVersion < 0 || e.MinBucketVersion < 0 || e.MinBucketVersion > e.BucketVersion {
		return nil, &InputError{Field: "MinBucketVersion", Rule: "must satisfy 0 ≤ MinBucketVersion ≤ BucketVersion"}
	}
	seed := e.Seed
	if seed == "" {
		seed = e.Key
	}
	c := &Compiled{key: e.Key, seed: newSeededHash(seed, hv), hashAttribute: e.HashAttribute, fallback: e.FallbackAttribute,
		status: e.Status, force: -1, bucketVersion: e.BucketVersion,
		minVersion: e.MinBucketVersion, noSticky: e.DisableSticky, condition: e.Condition,
		prereqs: append([]Prerequisite(nil), e.Prerequisites...)}
	if c.hashAttribute == "" {
		c.hashAttribute = "id"
	}
	if e.Force != nil {
		if *e.Force < 0 || *e.Force >= e.Variations {
			return nil, &InputError{Field: "Force", Rule: "must name a variation"}
		}
		c.force = *e.Force
	}
	var err error
	if c.ranges, err = compileRanges(e); err != nil {
		return nil, err
	}
	if ns := e.Namespace; ns != nil {
		if ns.ID == "" || !validRange(Range{ns.Start, ns.End}) {
			return nil, &InputError{Field: "Namespace", Rule: "must have an ID and 0 ≤ Start ≤ End ≤ 1"}
		}
		cp := *ns
		c.namespace = &cp
		c.namespaceHash = newSeededHash("__"+ns.ID, 1)
	}
	if c.filters, err = compileFilters(e.Filters); err != nil {
		return nil, err
	}
	return c, nil
}

// compileRanges returns the variations' bucket ranges: e.Ranges as given,
// or worked out from the coverage and weights.
func compileRanges(e Experiment) ([]Range, error) {
	if e.Ranges == nil {
		coverage := 1.0
		if e.Coverage != nil {
			coverage = *e.Coverage
			if math.IsNaN(coverage) {
				return nil, &InputError{Field: "Coverage", Rule: "must be a number"}
			}
		}
		return BucketRanges(e.Variations, coverage, e.Weights), nil
	}
	if len(e.Ranges) != e.Variations {
		return nil, &InputError{Field: "Ranges", Rule: "must have one range per variation"}
	}
	for i, r := range e.Ranges {
		if !validRange(r) {
			return nil, &InputError{Field: "Ranges[" + strconv.Itoa(i) + "]", Rule: "must satisfy 0 ≤ Start ≤ End ≤ 1"}
		}
	}
	return append([]Range(nil), e.Ranges...), nil
}

// compileFilters validates filters and seeds their hashes.
func compileFilters(filters []Filter) ([]compiledFilter, error) {
	var out []compiledFilter
	for i, f := range filters {
		if f.HashVersion == 0 {
			f.HashVersion = 2
		}
		if f.HashVersion != 1 && f.HashVersion != 2 {
			return nil, &InputError{Field: "Filters[" + strconv.Itoa(i) + "].HashVersion", Rule: "must be 1 or 2"}
		}
		for _, r := range f.Ranges {
			if !validRange(r) {
				return nil, &InputError{Field: "Filters[" + strconv.Itoa(i) + "].Ranges", Rule: "must satisfy 0 ≤ Start ≤ End ≤ 1"}
			}
		}
		f.Ranges = append([]Range(nil), f.Ranges...)
		out = append(out, compiledFilter{Filter: f, hash: newSeededHash(f.Seed, f.HashVersion)})
	}
	return out, nil
}

func validRange(r Range) bool {
	return r.Start >= 0 && r.Start <= r.End && r.End <= 1
}

// EqualWeights returns n weights of 1/n; none for n ≤ 0.
func EqualWeights(n int) []float64 {
	if n <= 0 {
		return []float64{}
	}
	w := make([]float64, n)
	for i := range w {
		w[i] = 1 / float64(n)
	}
	return w
}

// BucketRanges turns weights and coverage into one range per variation, as
// GrowthBook does: coverage is clamped to [0, 1]; weights of the wrong
// count, summing outside [0.99, 1.01] or not finite become equal weights;
// variation i gets [start_i, start_i + coverage·w_i), where start_i is the
// sum of the weights before it, so raising coverage later never moves a
// user to another variation.
func BucketRanges(n int, coverage float64, weights []float64) []Range {
	coverage = max(0, min(1, coverage))
	if len(weights) != n || !plausibleWeights(weights) {
		weights = EqualWeights(n)
	}
	out := make([]Range, len(weights))
	cumulative := 0.0
	for i, w := range weights {
		start := cumulative
		cumulative += w
		out[i] = Range{Start: start, End: start + coverage*w}
	}
	return out
}

func plausibleWeights(w []float64) bool {
	total := 0.0
	for _, x := range w {
		if math.IsNaN(x) || math.IsInf(x, 0) {
			return false
		}
		total += x
	}
	return total >= 0.99 && total <= 1.01
}

// ChooseVariation returns the index of the first range holding n, or -1.
func ChooseVariation(n float64, ranges []Range) int {
	for i, r := range ranges {
		if n >= r.Start && n < r.End {
			return i
		}
	}
	return -1
}

// InNamespace reports whether a user with hash value id falls in ns.
func InNamespace(id string, ns Namespace) bool {
	n := hash3v1(id, "__", ns.ID)
	return n >= ns.Start && n < ns.End
}
