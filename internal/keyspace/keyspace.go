// Package keyspace validates the caller-supplied strings that become part of
// Redis key names, so that no ID can forge another key's name or hash tag.
//
// Every shopkit package builds keys as "{prefix}:kind:id[:id]". The braces make
// the prefix the key's hash tag: every key of one store lands in one Cluster
// slot, so a script may touch all of them. An ID therefore must not contain a
// brace (it would move the hash tag), a colon (it would collide with the
// separator), whitespace or control characters (they would break the
// line encodings scripts use), and must be valid UTF-8.
package keyspace

import (
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"
)

// MaxIDLen is the longest ID, in bytes, that any package accepts.
const MaxIDLen = 128

// CheckID returns the rule s breaks as an ID, or "" when s is a valid ID.
func CheckID(s string) string {
	if s == "" {
		return "must not be empty"
	}
	if len(s) > MaxIDLen {
		return "must be at most " + strconv.Itoa(MaxIDLen) + " bytes"
	}
	// Fast path for ASCII, which nearly every ID is: same rules, same
	// first violation, without decoding runes.
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c >= utf8.RuneSelf:
			return checkRunes(s)
		case c == '{' || c == '}':
			return "must not contain '{' or '}'"
		case c == ':':
			return "must not contain ':'"
		case c <= ' ' || c == 0x7f:
			return "must not contain whitespace or control characters"
		}
	}
	return ""
}

func checkRunes(s string) string {
	if !utf8.ValidString(s) {
		return "must be valid UTF-8"
	}
	for _, r := range s {
		switch {
		case r == '{' || r == '}':
			return "must not contain '{' or '}'"
		case r == ':':
			return "must not contain ':'"
		case unicode.IsSpace(r) || unicode.IsControl(r):
			return "must not contain whitespace or control characters"
		}
	}
	return ""
}

// CheckPrefix returns the rule s breaks as a key prefix, or "" when s is valid.
// A prefix may contain colons (for readable namespaces such as "shop1:inv")
// but no braces, whitespace or control characters.
func CheckPrefix(s string) string {
	if s == "" {
		return "must not be empty"
	}
	if len(s) > MaxIDLen {
		return "must be at most " + strconv.Itoa(MaxIDLen) + " bytes"
	}
	if !utf8.ValidString(s) {
		return "must be valid UTF-8"
	}
	if strings.ContainsAny(s, "{}") {
		return "must not contain '{' or '}'"
	}
	for _, r := range s {
		if unicode.IsSpace(r) || unicode.IsControl(r) {
			return "must not contain whitespace or control characters"
		}
	}
	return ""
}

// Tag returns the hash-tagged form of prefix, "{prefix}", that starts every
// key of a store whose keys all share one slot. It is injective: a prefix
// holds no brace, so the first '}' ends it.
func Tag(prefix string) string { return "{" + prefix + "}" }

// IDTag returns "prefix{id1:id2:…}": the hash tag of keys that belong to
// one ID (a sale, a lock, a limited key), so that different IDs spread over
// a Cluster's slots. It is injective over every valid prefix and ID tuple
// of any length: a prefix holds no '{', so the first '{' ends it, and an
// ID holds no ':' or '}', so the colons inside the braces split the IDs
// back out. (Putting the prefix inside the braces, "{prefix:id}", is not:
// a prefix may contain ':', so "{p:S:1}" is both prefix p with IDs S, 1
// and prefix "p:S" with ID 1.)
func IDTag(prefix string, ids ...string) string {
	n := len(prefix) + 2 + len(ids)
	for _, id := range ids {
		n += len(id)
	}
	b := make([]byte, 0, n)
	b = append(b, prefix...)
	b = append(b, '{')
	for i, id := range ids {
		if i > 0 {
			b = append(b, ':')
		}
		b = append(b, id...)
	}
	b = append(b, '}')
	return string(b)
}
