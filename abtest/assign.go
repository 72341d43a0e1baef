package abtest

import (
	"context"
	"math"
)

// Attributes are a user's attributes by name, as strings: the hash
// attribute and any filter attributes. GrowthBook hashes numbers by their
// decimal form, so pass 123 as "123". For targeting conditions over
// numbers, lists or objects, use User and AssignUser.
type Attributes map[string]string

// User is a user as GrowthBook's SDKs see one: attributes as JSON values
// (nil, bool, float64, string, []any, map[string]any), which conditions
// read and whose hash attribute is hashed in its string form (a number in
// its decimal form); the saved groups conditions name; and the URL of the
// request, whose query string may force a variation, as in every
// GrowthBook SDK (?<experiment key>=<variation index>). URL may be empty.
type User struct {
	Attributes  map[string]any
	SavedGroups SavedGroups
	URL         string
	// RemoteGroupIDs, if not nil (even empty), are the remote saved groups
	// GrowthBook's backend resolved the user into; they replace the
	// "__gb_remoteGroupIds" attribute.
	RemoteGroupIDs []string
}

// values returns the attributes conditions read.
func (u *User) values() map[string]any {
	if u.RemoteGroupIDs == nil {
		return u.Attributes
	}
	out := make(map[string]any, len(u.Attributes)+1)
	for k, v := range u.Attributes {
		out[k] = v
	}
	ids := make([]any, len(u.RemoteGroupIDs))
	for i, id := range u.RemoteGroupIDs {
		ids[i] = id
	}
	out["__gb_remoteGroupIds"] = ids
	return out
}

// attrSource is where assign reads attributes: Attributes, or a User's
// JSON values.
type attrSource interface {
	// str returns the attribute as the hash sees it ("" when missing).
	str(name string) string
	// target reports whether cond passes the user.
	target(cond *Condition) bool
	// user returns the attributes as a User.
	user() *User
}

func (a Attributes) str(name string) string { return a[name] }

func (a Attributes) target(cond *Condition) bool { return cond.Eval(a.user().Attributes, nil) }

func (a Attributes) user() *User {
	values := make(map[string]any, len(a))
	for k, v := range a {
		values[k] = v
	}
	return &User{Attributes: values}
}

func (u *User) user() *User { return u }

// str is the attribute as GrowthBook hashes it: a string, or a number in
// its decimal form; 0, booleans, lists and objects count as missing, as in
// GrowthBook's SDK suite.
func (u *User) str(name string) string {
	switch v := u.Attributes[name].(type) {
	case string:
		return v
	case float64:
		if v == 0 || math.IsNaN(v) {
			return ""
		}
		return jsNumber(v)
	}
	return ""
}

func (u *User) target(cond *Condition) bool { return cond.Eval(u.values(), u.SavedGroups) }

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
	// StickyUsed reports whether the variation came from a stored sticky
	// assignment.
	StickyUsed bool
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
	// Features are the feature flags experiments' Prerequisites read.
	Features *Features
	// OnFeatureUsage, if set, is called with every feature evaluation's
	// result (GrowthBook's onFeatureUsage), prerequisites included.
	OnFeatureUsage func(key string, r FeatureResult)
	// OnExposure, if set, is called once for every assignment that puts a
	// user in an experiment, so the exposure can be logged for analysis.
	// It runs synchronously and must not block for long.
	OnExposure func(Exposure)
}

// Assign returns the variation for the user with attrs, following
// GrowthBook's experiment evaluation: forced variations, status, hash
// attribute with fallback, filters or namespace, the targeting condition,
// bucket ranges, forced experiment variation, QA mode, stopped status.
// Assign does not allocate unless the experiment has a Condition, which
// it evaluates over attrs as strings; AssignUser reads typed attributes.
func (a *Assigner) Assign(c *Compiled, attrs Attributes) (r Result) {
	// Filling the caller's result in place, rather than returning it
	// through two calls, saves copying it twice: a quarter of the time.
	a.assign(&r, c, attrs)
	if r.InExperiment && a.OnExposure != nil {
		a.OnExposure(Exposure{Experiment: c.key, Result: r})
	}
	return r
}

// AssignUser is Assign for a User: attributes as JSON values, saved
// groups for the condition, and a URL whose query string may force a
// variation (before anything else, as GrowthBook's SDKs do, so a QA link
// works on a draft experiment too).
func (a *Assigner) AssignUser(c *Compiled, u *User) (r Result) {
	if u.URL != "" && !a.Disabled {
		if v, ok := QueryStringOverride(c.key, u.URL, len(c.ranges)); ok {
			r.InExperiment, r.Variation = true, v
			r.HashAttribute, r.HashValue = c.hashValue(u)
			a.expose(c, r)
			return r
		}
	}
	a.assign(&r, c, u)
	a.expose(c, r)
	return r
}

// assign fills r, which is zero, with c's assignment of attrs.
func (a *Assigner) assign(r *Result, c *Compiled, attrs attrSource) {
	if a.Disabled {
		return
	}
	if len(a.Forced) > 0 { // a lookup in an empty map still costs a call
		if v, ok := a.Forced[c.key]; ok && v >= 0 && v < len(c.ranges) {
			r.InExperiment, r.Variation = true, v
			r.HashAttribute, r.HashValue = c.hashValue(attrs)
			return
		}
	}
	if c.status == Draft {
		return
	}
	attr, value := c.hashValue(attrs)
	if value == "" {
		return
	}
	if len(c.filters) > 0 {
		if !c.passesFilters(attrs, value) {
			return
		}
	} else if c.namespace != nil {
		if n, _ := c.namespaceHash.of(value); n < c.namespace.Start || n >= c.namespace.End {
			return
		}
	}
	if c.condition != nil && !attrs.target(c.condition) {
		return
	}
	if len(c.prereqs) > 0 && !a.prerequisitesPass(c.prereqs, attrs.user()) {
		return
	}
	n, _ := c.seed.of(value) // version checked by Compile
	v := ChooseVariation(n, c.ranges)
	if v < 0 {
		return
	}
	if c.force >= 0 {
		r.InExperiment, r.Variation, r.HashAttribute, r.HashValue = true, c.force, attr, value
		return
	}
	if a.QAMode || c.status == Stopped {
		return
	}
	r.InExperiment, r.Variation, r.HashUsed, r.HashAttribute, r.HashValue, r.Bucket = true, v, true, attr, value, n
}

// hashValue returns the attribute to hash and its value, falling back to
// the fallback attribute when the hash attribute is missing or empty.
func (c *Compiled) hashValue(attrs attrSource) (string, string) {
	if v := attrs.str(c.hashAttribute); v != "" || c.fallback == "" {
		return c.hashAttribute, v
	}
	return c.fallback, attrs.str(c.fallback)
}

func (c *Compiled) passesFilters(attrs attrSource, value string) bool {
	for _, f := range c.filters {
		v := value
		if f.Attribute != "" {
			v = attrs.str(f.Attribute)
		}
		if v == "" {
			return false
		}
		n, _ := f.hash.of(v)
		if ChooseVariation(n, f.Ranges) < 0 {
			return false
		}
	}
	return true
}

// AssignSticky is Assign with sticky assignments kept in store: a user who
// was assigned keeps the variation while the experiment's bucket version
// stays the same, whatever happens to its weights or coverage, and a user
// holding an assignment older than MinBucketVersion is kept out. The
// hash-attribute document is preferred to the fallback-attribute one, and
// an assignment found only under the fallback is copied to the hash
// attribute once the user has one, as GrowthBook does. Forced variations
// are never stored.
func (a *Assigner) AssignSticky(ctx context.Context, c *Compiled, attrs Attributes, store *Sticky) (Result, error) {
	return a.assignSticky(ctx, c, attrs, store)
}

// AssignUserSticky is AssignSticky for a User (see AssignUser).
func (a *Assigner) AssignUserSticky(ctx context.Context, c *Compiled, u *User, store *Sticky) (Result, error) {
	if u.URL != "" && !a.Disabled {
		if _, ok := QueryStringOverride(c.key, u.URL, len(c.ranges)); ok {
			return a.AssignUser(c, u), nil // a URL override is never stored
		}
	}
	return a.assignSticky(ctx, c, u, store)
}

// plain assigns without a sticky store.
func (a *Assigner) plain(c *Compiled, attrs attrSource) Result {
	var r Result
	a.assign(&r, c, attrs)
	a.expose(c, r)
	return r
}

func (a *Assigner) assignSticky(ctx context.Context, c *Compiled, attrs attrSource, store *Sticky) (Result, error) {
	if c.noSticky || store == nil || a.Disabled {
		return a.plain(c, attrs), nil
	}
	if v, ok := a.Forced[c.key]; ok && v >= 0 && v < len(c.ranges) {
		return a.plain(c, attrs), nil
	}
	if c.status == Draft {
		return Result{}, nil
	}
	attr, value := c.hashValue(attrs)
	if value == "" {
		return Result{}, nil
	}
	docs, err := a.loadSticky(ctx, c, attrs, store)
	if err != nil {
		return Result{}, err
	}
	key := AssignmentKey(c.key, c.bucketVersion)
	for v := 0; v < c.minVersion; v++ {
		if _, ok := docs.merged[AssignmentKey(c.key, v)]; ok {
			return Result{}, nil // blocked: held an assignment from a retired version
		}
	}
	if stored, ok := docs.merged[key]; ok && stored < len(c.ranges) {
		if _, inHashDoc := docs.hash[key]; !inHashDoc && attrs.str(c.hashAttribute) != "" {
			if _, err := store.Save(ctx, StickyAssignment{Attribute: c.hashAttribute, Value: attrs.str(c.hashAttribute), Key: key, Variation: stored}); err != nil {
				return Result{}, err
			}
		}
		if c.force >= 0 || a.QAMode || c.status == Stopped {
			return a.plain(c, attrs), nil
		}
		n, _ := c.seed.of(value)
		r := Result{InExperiment: true, Variation: stored, HashUsed: true, HashAttribute: attr, HashValue: value, Bucket: n, StickyUsed: true}
		a.expose(c, r)
		return r, nil
	}
	var r Result
	a.assign(&r, c, attrs)
	if r.InExperiment && r.HashUsed {
		stored, err := store.Save(ctx, StickyAssignment{Attribute: attr, Value: value, Key: key, Variation: r.Variation})
		if err != nil {
			return Result{}, err
		}
		if stored != r.Variation && stored < len(c.ranges) {
			// A concurrent request stored first; agree with it.
			r.Variation, r.StickyUsed = stored, true
		}
	}
	a.expose(c, r)
	return r, nil
}

func (a *Assigner) expose(c *Compiled, r Result) {
	if r.InExperiment && a.OnExposure != nil {
		a.OnExposure(Exposure{Experiment: c.key, Result: r})
	}
}

type stickyDocs struct {
	hash   map[string]int // the hash attribute's document
	merged map[string]int // fallback's, overridden by the hash attribute's
}

func (a *Assigner) loadSticky(ctx context.Context, c *Compiled, attrs attrSource, store *Sticky) (stickyDocs, error) {
	var d stickyDocs
	d.merged = map[string]int{}
	if c.fallback != "" {
		if v := attrs.str(c.fallback); v != "" {
			fb, err := store.Load(ctx, StickyUser{Attribute: c.fallback, Value: v})
			if err != nil {
				return d, err
			}
			for k, x := range fb {
				d.merged[k] = x
			}
		}
	}
	if v := attrs.str(c.hashAttribute); v != "" {
		h, err := store.Load(ctx, StickyUser{Attribute: c.hashAttribute, Value: v})
		if err != nil {
			return d, err
		}
		d.hash = h
		for k, x := range h {
			d.merged[k] = x
		}
	}
	return d, nil
}
