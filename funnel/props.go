package funnel

import (
	"sort"
	"strconv"
	"strings"

	"github.com/shopspring/decimal"

	"github.com/shopkit/shopkit/internal/keyspace"
)

// Bounds on an event's properties.
const (
	MaxProps        = 16  // properties per event
	MaxPropKeyLen   = 40  // bytes in a property's name
	MaxPropValueLen = 200 // bytes in a property's value
)

// Separators of encoded properties: control characters, which keys and
// values may not hold.
const (
	propPairSep = "\x1d"
	propKVSep   = "\x1e"
)

// checkProps validates an event's properties: at most MaxProps, names that
// are valid IDs without '=' of at most MaxPropKeyLen bytes, values of at
// most MaxPropValueLen bytes without control characters.
func checkProps(props map[string]string) *InputError {
	if len(props) > MaxProps {
		return &InputError{Field: "Props", Rule: "must hold at most " + strconv.Itoa(MaxProps) + " properties"}
	}
	for k, v := range props {
		f := "Props[" + strconv.Quote(k) + "]"
		if rule := keyspace.CheckID(k); rule != "" {
			return &InputError{Field: f, Rule: "name " + rule}
		}
		if len(k) > MaxPropKeyLen || strings.ContainsRune(k, '=') {
			return &InputError{Field: f, Rule: "name must be at most " + strconv.Itoa(MaxPropKeyLen) + " bytes, without '='"}
		}
		if len(v) > MaxPropValueLen {
			return &InputError{Field: f, Rule: "must be at most " + strconv.Itoa(MaxPropValueLen) + " bytes"}
		}
		for i := 0; i < len(v); i++ {
			if v[i] < 0x20 || v[i] == 0x7f {
				return &InputError{Field: f, Rule: "must not contain control characters"}
			}
		}
	}
	return nil
}

// encodeProps writes properties sorted by name, so one event always
// encodes one way: "name\x1evalue\x1dname\x1evalue".
func encodeProps(props map[string]string) string {
	if len(props) == 0 {
		return ""
	}
	keys := make([]string, 0, len(props))
	for k := range props {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var b strings.Builder
	for i, k := range keys {
		if i > 0 {
			b.WriteString(propPairSep)
		}
		b.WriteString(k)
		b.WriteString(propKVSep)
		b.WriteString(props[k])
	}
	return b.String()
}

// decodeProps reads what encodeProps wrote; "" is no properties.
func decodeProps(s string) map[string]string {
	if s == "" {
		return nil
	}
	out := make(map[string]string, strings.Count(s, propPairSep)+1)
	for pair := range strings.SplitSeq(s, propPairSep) {
		k, v, _ := strings.Cut(pair, propKVSep)
		out[k] = v
	}
	return out
}

// Comparison is how a Filter compares a property.
type Comparison int

// The comparisons. Eq, In and Contains compare text; the numeric ones
// compare the value as a decimal number, and a value that is not one
// fails them.
const (
	Eq       Comparison = iota // equal to Values[0]
	In                         // equal to any of Values
	Contains                   // contains Values[0]
	Lt                         // < Values[0], numerically
	Le                         // ≤
	Gt                         // >
	Ge                         // ≥
	NotEq                      // not equal to Values[0] (a missing property is not equal)
)

// Filter is a condition on one property of an event.
type Filter struct {
	Property string
	Op       Comparison
	Values   []string
}

func (f *Filter) check(field string) error {
	if rule := keyspace.CheckID(f.Property); rule != "" {
		return &InputError{Field: field + ".Property", Rule: rule}
	}
	if f.Op < Eq || f.Op > NotEq {
		return &InputError{Field: field + ".Op", Rule: "must be a known Comparison"}
	}
	if len(f.Values) == 0 || (f.Op != In && len(f.Values) != 1) {
		return &InputError{Field: field + ".Values", Rule: "must hold one value (In: one or more)"}
	}
	if f.Op >= Lt && f.Op <= Ge {
		if _, err := decimal.NewFromString(f.Values[0]); err != nil {
			return &InputError{Field: field + ".Values", Rule: "must be a number for a numeric comparison"}
		}
	}
	return nil
}

// compiledFilter is a Filter with its number parsed once.
type compiledFilter struct {
	Filter
	num decimal.Decimal
}

func compileFilters(fs []Filter) []compiledFilter {
	if len(fs) == 0 {
		return nil
	}
	out := make([]compiledFilter, len(fs))
	for i, f := range fs {
		out[i].Filter = f
		if f.Op >= Lt && f.Op <= Ge {
			out[i].num = decimal.RequireFromString(f.Values[0])
		}
	}
	return out
}

// match reports whether props pass every filter.
func match(fs []compiledFilter, props map[string]string) bool {
	for i := range fs {
		f := &fs[i]
		v, ok := props[f.Property]
		switch f.Op {
		case Eq:
			if !ok || v != f.Values[0] {
				return false
			}
		case NotEq:
			if ok && v == f.Values[0] {
				return false
			}
		case In:
			found := false
			for _, w := range f.Values {
				found = found || (ok && v == w)
			}
			if !found {
				return false
			}
		case Contains:
			if !ok || !strings.Contains(v, f.Values[0]) {
				return false
			}
		default:
			if !ok {
				return false
			}
			n, err := decimal.NewFromString(v)
			if err != nil {
				return false
			}
			c := n.Cmp(f.num)
			if (f.Op == Lt && c >= 0) || (f.Op == Le && c > 0) || (f.Op == Gt && c <= 0) || (f.Op == Ge && c < 0) {
				return false
			}
		}
	}
	return true
}
