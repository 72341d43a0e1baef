package abtest

import (
	"context"
	"errors"
	"strconv"
	"sync"
	"unicode/utf8"
)

// ErrClosed is returned by a sticky store after Close.
var ErrClosed = errors.New("abtest: sticky store closed")

// StickyStore keeps users' variation assignments so they survive changes to
// an experiment's weights or coverage: once assigned, a user keeps the
// variation until the experiment's bucket version is bumped. Memory and
// Redis implement it and pass the same conformance suite (package
// abtesttest).
//
// Assignments are kept per identifying attribute (the hash attribute or the
// fallback attribute) and value, under "<experiment key>__<bucket version>",
// as GrowthBook's sticky bucket documents are.
type StickyStore interface {
	// Load returns the stored assignments of the user whose attribute has
	// value: assignment key → variation. A user with none gets an empty map.
	Load(ctx context.Context, attribute, value string) (map[string]int, error)
	// Save stores variation under key for the user unless a variation is
	// already stored there, and returns the one that is stored: the first
	// writer wins, so concurrent requests agree.
	Save(ctx context.Context, attribute, value, key string, variation int) (int, error)
	// Close releases the store.
	Close() error
}

// AssignmentKey is the key of an experiment's assignment at a bucket
// version: "<key>__<version>".
func AssignmentKey(experiment string, bucketVersion int) string {
	return experiment + "__" + strconv.Itoa(bucketVersion)
}

func checkSticky(attribute, value, key string, variation int) error {
	switch {
	case attribute == "" || len(attribute) > 128 || !utf8.ValidString(attribute):
		return &InputError{Field: "Attribute", Rule: "must be 1–128 bytes of UTF-8"}
	case value == "" || len(value) > 1024:
		return &InputError{Field: "Value", Rule: "must be 1–1024 bytes"}
	case key == "" || len(key) > 256:
		return &InputError{Field: "Key", Rule: "must be 1–256 bytes"}
	case variation < 0:
		return &InputError{Field: "Variation", Rule: "must be ≥ 0"}
	}
	return nil
}

var _ StickyStore = (*MemorySticky)(nil)

// MemorySticky is a process-local StickyStore.
type MemorySticky struct {
	mu     sync.Mutex
	closed bool
	docs   map[[2]string]map[string]int
}

// NewMemorySticky returns an empty in-memory sticky store.
func NewMemorySticky() *MemorySticky {
	return &MemorySticky{docs: make(map[[2]string]map[string]int)}
}

// Load implements StickyStore.
func (m *MemorySticky) Load(ctx context.Context, attribute, value string) (map[string]int, error) {
	if err := checkSticky(attribute, value, "-", 0); err != nil {
		return nil, err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.closed {
		return nil, ErrClosed
	}
	out := make(map[string]int, len(m.docs[[2]string{attribute, value}]))
	for k, v := range m.docs[[2]string{attribute, value}] {
		out[k] = v
	}
	return out, nil
}

// Save implements StickyStore.
func (m *MemorySticky) Save(ctx context.Context, attribute, value, key string, variation int) (int, error) {
	if err := checkSticky(attribute, value, key, variation); err != nil {
		return 0, err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.closed {
		return 0, ErrClosed
	}
	id := [2]string{attribute, value}
	doc := m.docs[id]
	if doc == nil {
		doc = make(map[string]int)
		m.docs[id] = doc
	}
	if v, ok := doc[key]; ok {
		return v, nil
	}
	doc[key] = variation
	return variation, nil
}

// Close implements StickyStore.
func (m *MemorySticky) Close() error {
	m.mu.Lock()
	m.closed = true
	m.mu.Unlock()
	return nil
}
