package abtest

import (
	"encoding/json"
	"fmt"
	"math"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"unicode/utf16"
	"unicode/utf8"
)

// Targeting conditions: GrowthBook's condition language (a MongoDB-like
// query over the user's attributes), as every GrowthBook SDK evaluates it.
//
// A condition is compiled once (CompileCondition) into a tree that
// evaluates without allocating for the common operators. Attributes are
// JSON values as encoding/json decodes them: nil, bool, float64, string,
// []any and map[string]any. A missing attribute is null.
//
// Comparisons are typed, as GrowthBook's spec (version 0.7 and later)
// has them rather than JavaScript's coercions: $lt and the other orderings
// compare two numbers or two strings (UTF-16 order), and nothing else;
// $eq, $in and plain values match only values of the same type; an object
// or array never $eq-uals anything. An operator this package does not
// know makes its clause unknown: the condition fails unless the unknown
// clause cannot change the outcome (another clause of an $or passes, or
// a known operator beside it fails). A malformed condition ($and that is
// not a list, $type that is not a string, …) fails as a whole.

// SavedGroups are the saved groups conditions name, by ID, as GrowthBook's
// payload carries them.
type SavedGroups map[string]SavedGroup

// SavedGroup is one saved group: a legacy list of attribute values, which
// $inGroup and $notInGroup test the attribute they sit on against; or a
// typed entry, which the $savedGroup reference resolves — a list of
// values of a named attribute, a condition, or a remote group (membership
// resolved by GrowthBook's backend into the "__gb_remoteGroupIds"
// attribute). Decode one from GrowthBook's JSON, or build one with
// ListGroup, AttributeListGroup, ConditionGroup or RemoteGroup.
type SavedGroup struct {
	kind         string // "legacy", "list", "condition", "remote", another type, or "" (malformed)
	attributeKey string
	values       []any
	hasValues    bool
	condition    *Condition
}

// ListGroup is a legacy saved group: the values $inGroup looks for.
func ListGroup(values ...any) SavedGroup {
	return SavedGroup{kind: "legacy", values: values, hasValues: true}
}

// AttributeListGroup is a typed list: the users whose attribute (a dotted
// path) holds one of values.
func AttributeListGroup(attribute string, values ...any) SavedGroup {
	return SavedGroup{kind: "list", attributeKey: attribute, values: values, hasValues: true}
}

// ConditionGroup is the users a condition passes.
func ConditionGroup(c *Condition) SavedGroup { return SavedGroup{kind: "condition", condition: c} }

// RemoteGroup is a group whose members GrowthBook's backend resolves: a
// user is in it when their "__gb_remoteGroupIds" attribute lists its ID.
func RemoteGroup(attribute string) SavedGroup {
	return SavedGroup{kind: "remote", attributeKey: attribute}
}

// UnmarshalJSON decodes a saved group as GrowthBook's payload writes it. An
// entry that is neither a list nor an object decodes as malformed: it
// matches nobody.
func (g *SavedGroup) UnmarshalJSON(b []byte) error {
	var v any
	if err := json.Unmarshal(b, &v); err != nil {
		return err
	}
	*g = SavedGroup{}
	switch x := v.(type) {
	case []any:
		*g = ListGroup(x...)
	case map[string]any:
		kind, _ := x["type"].(string)
		g.kind = kind
		if kind == "" {
			g.kind = "unknown"
		}
		g.attributeKey, _ = x["attributeKey"].(string)
		if vals, ok := x["values"].([]any); ok {
			g.values, g.hasValues = vals, true
		}
		if cond, ok := x["condition"].(map[string]any); ok {
			c, err := CompileConditionValue(cond)
			if err == nil {
				g.condition = c
			}
		}
	}
	return nil
}

// Condition is a compiled targeting condition. Its zero value (and the
// compilation of an empty condition) passes every user. A Condition is
// immutable and safe for concurrent use.
type Condition struct {
	root      node
	malformed bool
}

// CompileCondition compiles a condition given as JSON.
func CompileCondition(raw []byte) (*Condition, error) {
	var v any
	if err := json.Unmarshal(raw, &v); err != nil {
		return nil, &InputError{Field: "Condition", Rule: "must be a JSON object: " + err.Error()}
	}
	if v == nil {
		return &Condition{}, nil
	}
	return CompileConditionValue(v)
}

// CompileConditionValue compiles a condition already decoded from JSON. A
// value that is not an object is an error; an object that breaks the
// language's rules compiles to a condition that fails every user (Eval
// returns false), as in every GrowthBook SDK, and Malformed reports it.
func CompileConditionValue(v any) (*Condition, error) {
	obj, ok := v.(map[string]any)
	if !ok {
		return nil, &InputError{Field: "Condition", Rule: "must be a JSON object"}
	}
	root, err := compileBase(obj)
	if err != nil {
		return &Condition{root: malformedNode{}, malformed: true}, nil
	}
	return &Condition{root: root, malformed: containsMalformed(root)}, nil
}

// Malformed reports whether part of the condition broke the language's
// rules, so that the condition (or that part) fails every user.
func (c *Condition) Malformed() bool { return c != nil && c.malformed }

// Eval reports whether attrs satisfy the condition. groups may be nil.
func (c *Condition) Eval(attrs map[string]any, groups SavedGroups) bool {
	if c == nil || c.root == nil {
		return true
	}
	r, ok := c.root.eval(attrs, groups, 0)
	return ok && r == pass
}

// result is a clause's outcome: an operator this package does not know
// is unknown, neither pass nor fail.
type result int8

const (
	fail result = iota
	pass
	unknown
)

func resultOf(b bool) result {
	if b {
		return pass
	}
	return fail
}

func (r result) not() result {
	switch r {
	case pass:
		return fail
	case fail:
		return pass
	}
	return unknown
}

// node is a compiled clause, evaluated against a value (the attributes at
// the top, an element inside $elemMatch). ok is false when evaluation
// reached a malformed part: the whole condition fails.
type node interface {
	eval(v any, groups SavedGroups, depth int) (r result, ok bool)
}

type malformedNode struct{}

func (malformedNode) eval(any, SavedGroups, int) (result, bool) { return fail, false }

func containsMalformed(n node) bool {
	switch n := n.(type) {
	case malformedNode:
		return true
	case andNode:
		for _, c := range n {
			if containsMalformed(c) {
				return true
			}
		}
	case orNode:
		for _, c := range n.clauses {
			if containsMalformed(c) {
				return true
			}
		}
	case notNode:
		return containsMalformed(n.clause)
	case fieldNode:
		return containsMalformed(n.test)
	}
	return false
}

// andNode passes when every clause passes; a failing clause decides it,
// else an unknown one makes it unknown.
type andNode []node

func (a andNode) eval(v any, g SavedGroups, d int) (result, bool) {
	out := pass
	for _, c := range a {
		r, ok := c.eval(v, g, d)
		if !ok {
			return fail, false
		}
		if r == fail {
			return fail, true
		}
		if r == unknown {
			out = unknown
		}
	}
	return out, true
}

// orNode passes when any clause passes (an empty $or passes); negated, it
// is $nor.
type orNode struct {
	clauses []node
	negate  bool
}

func (o orNode) eval(v any, g SavedGroups, d int) (result, bool) {
	out := fail
	if len(o.clauses) == 0 {
		out = pass
	}
	for _, c := range o.clauses {
		r, ok := c.eval(v, g, d)
		if !ok {
			return fail, false
		}
		if r == pass {
			out = pass
			break
		}
		if r == unknown {
			out = unknown
		}
	}
	if o.negate {
		return out.not(), true
	}
	return out, true
}

type notNode struct{ clause node }

func (n notNode) eval(v any, g SavedGroups, d int) (result, bool) {
	r, ok := n.clause.eval(v, g, d)
	return r.not(), ok
}

type constNode bool

func (c constNode) eval(any, SavedGroups, int) (result, bool) { return resultOf(bool(c)), true }

type unknownNode struct{}

func (unknownNode) eval(any, SavedGroups, int) (result, bool) { return unknown, true }

// fieldNode tests the value at a dotted path.
type fieldNode struct {
	path []string
	test node
}

func (f fieldNode) eval(v any, g SavedGroups, d int) (result, bool) {
	return f.test.eval(lookup(v, f.path), g, d)
}

// lookup follows path through objects (and arrays, by index or "length").
func lookup(v any, path []string) any {
	for _, part := range path {
		switch cur := v.(type) {
		case map[string]any:
			v = cur[part]
		case []any:
			if part == "length" {
				v = float64(len(cur))
				continue
			}
			i, err := strconv.Atoi(part)
			if err != nil || i < 0 || i >= len(cur) || strconv.Itoa(i) != part {
				return nil
			}
			v = cur[i]
		default:
			return nil
		}
	}
	return v
}

// compileBase compiles a condition object: logical operators first, then
// fields in name order, so evaluation order (which decides where a
// malformed part is reached) does not depend on map order.
func compileBase(obj map[string]any) (node, error) {
	keys := make([]string, 0, len(obj))
	for k := range obj {
		keys = append(keys, k)
	}
	rank := func(k string) int {
		switch k {
		case "$and":
			return 0
		case "$or":
			return 1
		case "$nor":
			return 2
		case "$not":
			return 3
		}
		return 4
	}
	sort.Slice(keys, func(i, j int) bool {
		if ri, rj := rank(keys[i]), rank(keys[j]); ri != rj {
			return ri < rj
		}
		return keys[i] < keys[j]
	})
	var out andNode
	for _, k := range keys {
		n, err := compileClause(k, obj[k])
		if err != nil {
			n = malformedNode{} // only this clause fails, once reached
		}
		out = append(out, n)
	}
	if len(out) == 1 {
		return out[0], nil
	}
	return out, nil
}

// compileList compiles the conditions of $and, $or and $nor.
func compileList(v any) ([]node, error) {
	list, ok := v.([]any)
	if !ok {
		return nil, fmt.Errorf("a list of conditions expected")
	}
	out := make([]node, 0, len(list))
	for _, item := range list {
		obj, ok := item.(map[string]any)
		if !ok {
			out = append(out, malformedNode{})
			continue
		}
		n, err := compileBase(obj)
		if err != nil {
			n = malformedNode{}
		}
		out = append(out, n)
	}
	return out, nil
}

func compileClause(key string, arg any) (node, error) {
	switch key {
	case "$and", "$or", "$nor":
		clauses, err := compileList(arg)
		if err != nil {
			return nil, err
		}
		if key == "$and" {
			return andNode(clauses), nil
		}
		return orNode{clauses: clauses, negate: key == "$nor"}, nil
	case "$not":
		obj, ok := arg.(map[string]any)
		if !ok {
			return nil, fmt.Errorf("$not takes a condition")
		}
		n, err := compileBase(obj)
		if err != nil {
			return nil, err
		}
		return notNode{n}, nil
	case "$savedGroups":
		return constNode(false), nil
	case "$savedGroup":
		ref, ok := arg.(map[string]any)
		if !ok {
			return constNode(false), nil
		}
		id, ok := ref["id"].(string)
		if !ok {
			return constNode(false), nil
		}
		n := savedGroupNode{id: id}
		if key, present := ref["attributeKey"]; present {
			k, ok := key.(string)
			if !ok {
				return constNode(false), nil
			}
			n.attributeKey, n.override = strings.Split(k, "."), k
		}
		return n, nil
	}
	test, err := compileValue(arg, false)
	if err != nil {
		return nil, err
	}
	return fieldNode{path: strings.Split(key, "."), test: test}, nil
}

// isOperatorObject reports whether every key of obj is an operator.
func isOperatorObject(obj map[string]any) bool {
	for k := range obj {
		if k == "" || k[0] != '$' {
			return false
		}
	}
	return true
}

// compileValue compiles what a field must be: an object of operators, or
// a plain value it must equal (case-insensitively for strings under
// $alli).
func compileValue(arg any, fold bool) (node, error) {
	obj, ok := arg.(map[string]any)
	if !ok || !isOperatorObject(obj) {
		if s, ok := arg.(string); ok && !fold {
			return eqStringNode(s), nil
		}
		return equalNode{want: arg, fold: fold}, nil
	}
	ops := make([]string, 0, len(obj))
	for k := range obj {
		ops = append(ops, k)
	}
	sort.Strings(ops)
	var out andNode
	for _, op := range ops {
		n, err := compileOp(op, obj[op])
		if err != nil {
			return nil, err
		}
		out = append(out, n)
	}
	if len(out) == 1 {
		return out[0], nil
	}
	return out, nil
}

func compileOp(op string, arg any) (node, error) {
	switch op {
	case "$eq", "$ne":
		return strictNode{want: arg, negate: op == "$ne"}, nil
	case "$lt", "$lte", "$gt", "$gte":
		if f, ok := arg.(float64); ok && !math.IsNaN(f) {
			return numberOrderNode{op: orderOps[op], want: f}, nil
		}
		return orderNode{op: op, want: arg}, nil
	case "$veq", "$vne", "$vgt", "$vgte", "$vlt", "$vlte":
		return versionNode{op: op, want: arg, padded: paddedVersion(arg)}, nil
	case "$in", "$nin", "$ini", "$nini":
		list, ok := arg.([]any)
		if !ok {
			return constNode(false), nil
		}
		var n node = inNode{list: list, fold: op == "$ini" || op == "$nini"}
		if strs, ok := allStrings(list); ok && op != "$ini" && op != "$nini" {
			n = inStringsNode(strs)
		}
		if op == "$nin" || op == "$nini" {
			return notNode{n}, nil
		}
		return n, nil
	case "$inGroup", "$notInGroup":
		id, ok := arg.(string)
		if !ok {
			return nil, fmt.Errorf("%s takes a group ID", op)
		}
		return groupNode{id: id, negate: op == "$notInGroup"}, nil
	case "$regex", "$regexi":
		pattern, ok := arg.(string)
		if !ok {
			return nil, fmt.Errorf("%s takes a string", op)
		}
		if op == "$regexi" {
			pattern = "(?i)" + pattern
		}
		re, err := regexp.Compile(pattern)
		if err != nil {
			return constNode(false), nil // a pattern Go cannot run matches nothing
		}
		return regexNode{re}, nil
	case "$size":
		n, err := compileValue(arg, false)
		if err != nil {
			return nil, err
		}
		return sizeNode{n}, nil
	case "$type":
		name, ok := arg.(string)
		if !ok {
			return nil, fmt.Errorf("$type takes a type name")
		}
		return typeNode(name), nil
	case "$exists":
		return existsNode(truthy(arg)), nil
	case "$elemMatch":
		obj, ok := arg.(map[string]any)
		if !ok {
			return nil, fmt.Errorf("$elemMatch takes an object")
		}
		if isOperatorObject(obj) && !hasLogical(obj) {
			n, err := compileValue(obj, false)
			if err != nil {
				return nil, err
			}
			return elemMatchNode{n}, nil
		}
		n, err := compileBase(obj)
		if err != nil {
			return nil, err
		}
		return elemMatchNode{n}, nil
	case "$all", "$alli":
		list, ok := arg.([]any)
		if !ok {
			return nil, fmt.Errorf("%s takes a list", op)
		}
		var each []node
		for _, item := range list {
			n, err := compileValue(item, op == "$alli")
			if err != nil {
				return nil, err
			}
			each = append(each, n)
		}
		return allNode(each), nil
	case "$not":
		n, err := compileValue(arg, false)
		if err != nil {
			return nil, err
		}
		return notNode{n}, nil
	case "$and", "$or", "$nor", "$savedGroup":
		return constNode(false), nil
	}
	return unknownNode{}, nil
}

func hasLogical(obj map[string]any) bool {
	for _, k := range []string{"$and", "$or", "$nor", "$savedGroup"} {
		if _, ok := obj[k]; ok {
			return true
		}
	}
	return false
}

// equalNode: the value equals want, deeply and with types; with fold,
// strings compare case-insensitively.
type equalNode struct {
	want any
	fold bool
}

func (e equalNode) eval(v any, _ SavedGroups, _ int) (result, bool) {
	if e.fold {
		if a, ok := v.(string); ok {
			if b, ok := e.want.(string); ok {
				return resultOf(strings.EqualFold(a, b)), true
			}
		}
	}
	return resultOf(deepEqual(v, e.want)), true
}

func deepEqual(a, b any) bool {
	switch x := a.(type) {
	case nil:
		return b == nil
	case bool:
		y, ok := b.(bool)
		return ok && x == y
	case float64:
		y, ok := b.(float64)
		return ok && x == y
	case string:
		y, ok := b.(string)
		return ok && x == y
	case []any:
		y, ok := b.([]any)
		if !ok || len(x) != len(y) {
			return false
		}
		for i := range x {
			if !deepEqual(x[i], y[i]) {
				return false
			}
		}
		return true
	case map[string]any:
		y, ok := b.(map[string]any)
		if !ok || len(x) != len(y) {
			return false
		}
		for k, xv := range x {
			yv, ok := y[k]
			if !ok || !deepEqual(xv, yv) {
				return false
			}
		}
		return true
	}
	return false
}

// strictEqual is JavaScript's ===: an object or array equals nothing
// parsed apart from it.
func strictEqual(a, b any) bool {
	switch a.(type) {
	case []any, map[string]any:
		return false
	}
	return deepEqual(a, b)
}

type strictNode struct {
	want   any
	negate bool
}

func (s strictNode) eval(v any, _ SavedGroups, _ int) (result, bool) {
	return resultOf(strictEqual(v, s.want) != s.negate), true
}

// eqStringNode: the value is this string. The common case of equalNode,
// without its type switch.
type eqStringNode string

func (n eqStringNode) eval(v any, _ SavedGroups, _ int) (result, bool) {
	s, ok := v.(string)
	return resultOf(ok && s == string(n)), true
}

// inStringsNode is inNode for a list of strings only.
type inStringsNode []string

func allStrings(list []any) ([]string, bool) {
	out := make([]string, len(list))
	for i, v := range list {
		s, ok := v.(string)
		if !ok {
			return nil, false
		}
		out[i] = s
	}
	return out, true
}

func (n inStringsNode) has(v any) bool {
	s, ok := v.(string)
	if !ok {
		return false
	}
	for _, w := range n {
		if s == w {
			return true
		}
	}
	return false
}

func (n inStringsNode) eval(v any, _ SavedGroups, _ int) (result, bool) {
	if arr, ok := v.([]any); ok {
		for _, e := range arr {
			if n.has(e) {
				return pass, true
			}
		}
		return fail, true
	}
	return resultOf(n.has(v)), true
}

// numberOrderNode is orderNode against a number.
type numberOrderNode struct {
	op   int // 0 <, 1 <=, 2 >, 3 >=
	want float64
}

var orderOps = map[string]int{"$lt": 0, "$lte": 1, "$gt": 2, "$gte": 3}

func (n numberOrderNode) eval(v any, _ SavedGroups, _ int) (result, bool) {
	x, ok := v.(float64)
	if !ok || math.IsNaN(x) {
		return fail, true
	}
	switch n.op {
	case 0:
		return resultOf(x < n.want), true
	case 1:
		return resultOf(x <= n.want), true
	case 2:
		return resultOf(x > n.want), true
	}
	return resultOf(x >= n.want), true
}

// orderNode compares two numbers or two strings.
type orderNode struct {
	op   string
	want any
}

func (o orderNode) eval(v any, _ SavedGroups, _ int) (result, bool) {
	c, ok := compareOrdered(v, o.want)
	if !ok {
		return fail, true
	}
	switch o.op {
	case "$lt":
		return resultOf(c < 0), true
	case "$lte":
		return resultOf(c <= 0), true
	case "$gt":
		return resultOf(c > 0), true
	}
	return resultOf(c >= 0), true
}

// compareOrdered compares a and b if both are numbers or both strings.
func compareOrdered(a, b any) (int, bool) {
	switch x := a.(type) {
	case float64:
		y, ok := b.(float64)
		if !ok || math.IsNaN(x) || math.IsNaN(y) {
			return 0, false
		}
		switch {
		case x < y:
			return -1, true
		case x > y:
			return 1, true
		}
		return 0, true
	case string:
		y, ok := b.(string)
		if !ok {
			return 0, false
		}
		return compareUTF16(x, y), true
	}
	return 0, false
}

// compareUTF16 orders strings by UTF-16 code units, as JavaScript does
// (it differs from byte order only beyond the Basic Multilingual Plane).
func compareUTF16(a, b string) int {
	for a != "" && b != "" {
		ra, na := utf8.DecodeRuneInString(a)
		rb, nb := utf8.DecodeRuneInString(b)
		if ra != rb {
			ua, ub := ra, rb
			if ra >= 0x10000 {
				ua, _ = utf16.EncodeRune(ra)
			}
			if rb >= 0x10000 {
				ub, _ = utf16.EncodeRune(rb)
			}
			if ua == ub {
				ua, ub = ra, rb
			}
			if ua < ub {
				return -1
			}
			return 1
		}
		a, b = a[na:], b[nb:]
	}
	switch {
	case len(a) < len(b):
		return -1
	case len(a) > len(b):
		return 1
	}
	return 0
}

// versionNode compares versions ("1.2.3-rc.1"), as GrowthBook's
// paddedVersionString orders them.
type versionNode struct {
	op     string
	want   any
	padded string
}

func (n versionNode) eval(v any, _ SavedGroups, _ int) (result, bool) {
	if _, ok := compareOrdered(v, n.want); !ok && !sameKind(v, n.want) {
		return resultOf(n.op == "$vne"), true
	}
	got := paddedVersion(v)
	switch n.op {
	case "$veq":
		return resultOf(got == n.padded), true
	case "$vne":
		return resultOf(got != n.padded), true
	case "$vgt":
		return resultOf(got > n.padded), true
	case "$vgte":
		return resultOf(got >= n.padded), true
	case "$vlt":
		return resultOf(got < n.padded), true
	}
	return resultOf(got <= n.padded), true
}

// sameKind reports whether a and b are both numbers or both strings.
func sameKind(a, b any) bool {
	switch a.(type) {
	case float64:
		_, ok := b.(float64)
		return ok
	case string:
		_, ok := b.(string)
		return ok
	}
	return false
}

// paddedVersion is GrowthBook's paddedVersionString: the leading "v" and
// build metadata dropped, parts split at "." and "-", a release (three
// parts) given the highest pre-release tag "~", and numeric parts padded
// to five places, so that string order is version order.
func paddedVersion(v any) string {
	var s string
	switch x := v.(type) {
	case string:
		s = x
	case float64:
		s = jsNumber(x)
	}
	if s == "" {
		s = "0"
	}
	s = strings.TrimPrefix(s, "v")
	if i := strings.IndexByte(s, '+'); i >= 0 {
		s = s[:i]
	}
	parts := strings.Split(strings.ReplaceAll(s, "-", "."), ".")
	if len(parts) == 3 {
		parts = append(parts, "~")
	}
	for i, p := range parts {
		if p != "" && strings.Trim(p, "0123456789") == "" && len(p) < 5 {
			parts[i] = strings.Repeat(" ", 5-len(p)) + p
		}
	}
	return strings.Join(parts, "-")
}

// jsNumber formats f as JavaScript's String(f) does for ordinary values.
func jsNumber(f float64) string {
	if f == math.Trunc(f) && math.Abs(f) < 1e21 {
		return strconv.FormatFloat(f, 'f', -1, 64)
	}
	return strconv.FormatFloat(f, 'g', -1, 64)
}

// inNode: the value (or, for an array, any of its elements) is in list.
type inNode struct {
	list []any
	fold bool
}

func (n inNode) eval(v any, _ SavedGroups, _ int) (result, bool) {
	if arr, ok := v.([]any); ok {
		for _, e := range arr {
			if n.contains(e) {
				return pass, true
			}
		}
		return fail, true
	}
	return resultOf(n.contains(v)), true
}

func (n inNode) contains(v any) bool {
	s, isString := v.(string)
	for _, w := range n.list {
		if n.fold && isString {
			if ws, ok := w.(string); ok && strings.EqualFold(s, ws) {
				return true
			}
			continue
		}
		if strictEqual(v, w) {
			return true
		}
	}
	return false
}

// groupNode: the value is (not) in a saved group ($inGroup,
// $notInGroup). A group not in the payload has no members; a list (legacy
// or typed) is tested against the value the operator sits on; a
// condition, a malformed entry or a list without values fails both ways
// (closed); a group type this package does not know is unknown.
type groupNode struct {
	id     string
	negate bool
}

func (n groupNode) eval(v any, g SavedGroups, _ int) (result, bool) {
	group, present := g[n.id]
	var in result
	switch {
	case !present:
		in = fail
	case group.kind == "legacy" || (group.kind == "list" && group.hasValues):
		in, _ = inNode{list: group.values}.eval(v, nil, 0)
	case group.kind == "list", group.kind == "condition", group.kind == "remote", group.kind == "":
		return fail, true
	default:
		return unknown, true
	}
	if n.negate {
		return in.not(), true
	}
	return in, true
}

// savedGroupNode is a $savedGroup reference: the user (or element) is in
// the typed group. Conditions nest; a chain deeper than
// maxGroupDepth is taken for a cycle and matches nobody.
type savedGroupNode struct {
	id           string
	attributeKey []string // an override of the entry's attribute
	override     string   // the override as written
}

const maxGroupDepth = 32

func (n savedGroupNode) eval(v any, g SavedGroups, d int) (result, bool) {
	group, ok := g[n.id]
	if !ok {
		return fail, true
	}
	switch group.kind {
	case "list":
		if !group.hasValues {
			return fail, true
		}
		path := n.attributeKey
		if path == nil {
			path = strings.Split(group.attributeKey, ".")
		}
		in, _ := inNode{list: group.values}.eval(lookup(v, path), nil, 0)
		return in, true
	case "condition":
		if group.condition == nil || group.condition.root == nil || d >= maxGroupDepth {
			return fail, true
		}
		r, ok := group.condition.root.eval(v, g, d+1)
		if !ok {
			return fail, true
		}
		return r, true
	case "remote":
		if n.attributeKey != nil && n.override != group.attributeKey {
			return fail, true // membership is resolved for the entry's attribute only
		}
		ids, _ := lookup(v, []string{"__gb_remoteGroupIds"}).([]any)
		for _, id := range ids {
			if id == n.id {
				return pass, true
			}
		}
		return fail, true
	case "legacy", "":
		return fail, true
	}
	return unknown, true
}

type regexNode struct{ re *regexp.Regexp }

func (n regexNode) eval(v any, _ SavedGroups, _ int) (result, bool) {
	s, ok := v.(string)
	return resultOf(ok && n.re.MatchString(s)), true
}

type sizeNode struct{ test node }

func (n sizeNode) eval(v any, g SavedGroups, d int) (result, bool) {
	arr, ok := v.([]any)
	if !ok {
		return fail, true
	}
	return n.test.eval(float64(len(arr)), g, d)
}

type typeNode string

func (n typeNode) eval(v any, _ SavedGroups, _ int) (result, bool) {
	var t string
	switch v.(type) {
	case nil:
		t = "null"
	case bool:
		t = "boolean"
	case float64:
		t = "number"
	case string:
		t = "string"
	case []any:
		t = "array"
	case map[string]any:
		t = "object"
	}
	return resultOf(t == string(n)), true
}

type existsNode bool

func (n existsNode) eval(v any, _ SavedGroups, _ int) (result, bool) {
	return resultOf((v != nil) == bool(n)), true
}

// truthy is JavaScript's truthiness of a JSON value.
func truthy(v any) bool {
	switch x := v.(type) {
	case nil:
		return false
	case bool:
		return x
	case float64:
		return x != 0 && !math.IsNaN(x)
	case string:
		return x != ""
	}
	return true
}

// elemMatchNode: some non-null element of the array passes.
type elemMatchNode struct{ test node }

func (n elemMatchNode) eval(v any, g SavedGroups, d int) (result, bool) {
	arr, ok := v.([]any)
	if !ok {
		return fail, true
	}
	out := fail
	for _, e := range arr {
		if e == nil {
			continue
		}
		r, ok := n.test.eval(e, g, d)
		if !ok {
			return fail, false
		}
		if r == pass {
			return pass, true
		}
		if r == unknown {
			out = unknown
		}
	}
	return out, true
}

// allNode: every test passes for some element of the array.
type allNode []node

func (n allNode) eval(v any, g SavedGroups, d int) (result, bool) {
	arr, ok := v.([]any)
	if !ok {
		return fail, true
	}
	out := pass
	for _, test := range n {
		found := fail
		for _, e := range arr {
			r, ok := test.eval(e, g, d)
			if !ok {
				return fail, false
			}
			if r == pass {
				found = pass
				break
			}
			if r == unknown {
				found = unknown
			}
		}
		if found == fail {
			return fail, true
		}
		if found == unknown {
			out = unknown
		}
	}
	return out, true
}
