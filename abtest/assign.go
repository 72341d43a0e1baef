package abtest

// Attributes are a user's attributes by name, as strings: the hash
// attribute and any filter attributes. GrowthBook hashes numbers by their
// decimal form, so pass 123 as "123".
type Attributes map[string]string

// Result is the outcome of assigning a user to an experiment.
type Result struct {
	// InExperiment reports whether the user is in the experiment. When it
	// is false, show the control (variation 0).
	InExperiment bool
	// Variation is the assigned variation, 0 when not in the experiment.
	Variation int
	// HashUsed reports whether the variation came from the hash rather
	// than being forced.
	HashUsed bool
	// HashAttribute and HashValue are the attribute that was hashed and
	// its value.
	HashAttribute string
	HashValue     string
	// Bucket is the user's hash in [0, 1), when HashUsed.
	Bucket float64
}

// Exposure is what an Assigner reports to its exposure hook.
type Exposure struct {
	Experiment string
	Result     Result
}

// Assigner assigns users to experiments. Its zero value is ready to use;
// set its fields before use and do not change them while it is in use. It
// is safe for concurrent use.
type Assigner struct {
	// Forced maps experiment keys to variations every user gets, for QA and
	// for rolling a winner out. A forced variation applies even to draft
	// experiments.
	Forced map[string]int
	// QAMode assigns nobody except through forced variations.
	QAMode bool
	// Disabled assigns nobody.
	Disabled bool
	// OnExposure, if set, is called once for every assignment that puts a
	// user in an experiment, so the exposure can be logged for analysis.
	// It runs synchronously and must not block for long.
	OnExposure func(Exposure)
}

// Assign returns the variation for the user with attrs, following
// GrowthBook's experiment evaluation: forced variations, status, hash
// attribute with fallback, filters or namespace, bucket ranges, forced
// experiment variation, QA mode, stopped status. Targeting conditions are
// the caller's: call Assign only for users the experiment targets.
// Assign does not allocate.
func (a *Assigner) Assign(c *Compiled, attrs Attributes) Result {
	r := a.assign(c, attrs)
	if r.InExperiment && a.OnExposure != nil {
		a.OnExposure(Exposure{Experiment: c.key, Result: r})
	}
	return r
}

func (a *Assigner) assign(c *Compiled, attrs Attributes) Result {
	if a.Disabled {
		return Result{}
	}
	if v, ok := a.Forced[c.key]; ok && v >= 0 && v < len(c.ranges) {
		r := Result{InExperiment: true, Variation: v}
		r.HashAttribute, r.HashValue = c.hashValue(attrs)
		return r
	}
	if c.status == Draft {
		return Result{}
	}
	attr, value := c.hashValue(attrs)
	if value == "" {
		return Result{}
	}
	if len(c.filters) > 0 {
		if !c.passesFilters(attrs, value) {
			return Result{}
		}
	} else if c.namespace != nil && !InNamespace(value, *c.namespace) {
		return Result{}
	}
	n, _ := Hash(c.seed, value, c.hashVersion) // version checked by Compile
	v := ChooseVariation(n, c.ranges)
	if v < 0 {
		return Result{}
	}
	if c.force >= 0 {
		return Result{InExperiment: true, Variation: c.force, HashAttribute: attr, HashValue: value}
	}
	if a.QAMode || c.status == Stopped {
		return Result{}
	}
	return Result{InExperiment: true, Variation: v, HashUsed: true, HashAttribute: attr, HashValue: value, Bucket: n}
}

// hashValue returns the attribute to hash and its value, falling back to
// the fallback attribute when the hash attribute is missing or empty.
func (c *Compiled) hashValue(attrs Attributes) (string, string) {
	if v := attrs[c.hashAttribute]; v != "" || c.fallback == "" {
		return c.hashAttribute, v
	}
	return c.fallback, attrs[c.fallback]
}

func (c *Compiled) passesFilters(attrs Attributes, value string) bool {
	for _, f := range c.filters {
		v := value
		if f.Attribute != "" {
			v = attrs[f.Attribute]
		}
		if v == "" {
			return false
		}
		n, _ := Hash(f.Seed, v, f.HashVersion)
		if ChooseVariation(n, f.Ranges) < 0 {
			return false
		}
	}
	return true
}
