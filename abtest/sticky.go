package abtest

import (
	"context"
	"errors"
	"strconv"
	"sync"
	"time"
	"unicode/utf8"
)

// ErrClosed is returned by a sticky store after Close.
var ErrClosed = errors.New("abtest: sticky store closed")

// ErrNotReplicated means a Redis save was applied by the master but fewer
// than StickyOptions.WaitReplicas replicas acknowledged it within
// WaitTimeout, so a failover now could lose it: the outcome is unknown.
// Save again to learn it.
var ErrNotReplicated = errors.New("abtest: save not acknowledged by enough replicas; outcome unknown, save again")

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

// StickyOptions configure a sticky store. The zero value means the
// documented defaults.
type StickyOptions struct {
	// Prefix starts every Redis key. Default "shopkit:abtest". Redis only.
	Prefix string
	// TTL is how long a user's document lives after its last save: a user
	// who sees no new experiment for that long is bucketed afresh. Zero or
	// negative means the default, 90 days.
	TTL time.Duration
	// Now is the Memory store's clock. Default time.Now. Redis expires
	// documents by its own clock.
	Now func() time.Time
	// WaitReplicas, if positive, makes every Redis save wait until that
	// many replicas have acknowledged it (WAIT), up to WaitTimeout
	// (default 1s); if they do not, Save returns ErrNotReplicated. Needs a
	// *redis.Client (standalone or failover) or *redis.ClusterClient.
	// Redis only.
	WaitReplicas int
	// WaitTimeout bounds the wait for WaitReplicas. Default 1s.
	WaitTimeout time.Duration
}

// defaultStickyTTL is StickyOptions.TTL's default.
const defaultStickyTTL = 90 * 24 * time.Hour

func (o StickyOptions) withDefaults() StickyOptions {
	if o.Prefix == "" {
		o.Prefix = "shopkit:abtest"
	}
	if o.TTL <= 0 {
		o.TTL = defaultStickyTTL
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	return o
}

// MemorySticky is a process-local StickyStore.
type MemorySticky struct {
	opts StickyOptions

	mu     sync.Mutex
	closed bool
	docs   map[[2]string]*memDoc
	// saves lists saves in time order, so that documents past their TTL
	// are found at the front; an entry older than its document's last
	// save is skipped.
	saves []memSave
}

type memDoc struct {
	vars  map[string]int
	saved time.Time
}

type memSave struct {
	id [2]string
	at time.Time
}

// NewMemorySticky returns an empty in-memory sticky store; opts.Prefix and
// the replica options do not apply.
func NewMemorySticky(opts StickyOptions) *MemorySticky {
	return &MemorySticky{opts: opts.withDefaults(), docs: make(map[[2]string]*memDoc)}
}

// forgetLocked drops the documents not saved to for TTL.
func (m *MemorySticky) forgetLocked(now time.Time) {
	n := 0
	for ; n < len(m.saves) && !now.Before(m.saves[n].at.Add(m.opts.TTL)); n++ {
		if d := m.docs[m.saves[n].id]; d != nil && d.saved.Equal(m.saves[n].at) {
			delete(m.docs, m.saves[n].id)
		}
	}
	if n > 0 {
		m.saves = append(m.saves[:0:0], m.saves[n:]...)
	}
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
	m.forgetLocked(m.opts.Now())
	d := m.docs[[2]string{attribute, value}]
	if d == nil {
		return map[string]int{}, nil
	}
	out := make(map[string]int, len(d.vars))
	for k, v := range d.vars {
		out[k] = v
	}
	return out, nil
}

// Save implements StickyStore. A save that stores a variation restarts the
// document's TTL, as on Redis.
func (m *MemorySticky) Save(ctx context.Context, attribute, value, key string, variation int) (int, error) {
	if err := checkSticky(attribute, value, key, variation); err != nil {
		return 0, err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.closed {
		return 0, ErrClosed
	}
	now := m.opts.Now()
	m.forgetLocked(now)
	id := [2]string{attribute, value}
	d := m.docs[id]
	if d == nil {
		d = &memDoc{vars: make(map[string]int)}
		m.docs[id] = d
	}
	if v, ok := d.vars[key]; ok {
		return v, nil
	}
	d.vars[key] = variation
	d.saved = now
	m.saves = append(m.saves, memSave{id: id, at: now})
	return variation, nil
}

// Close implements StickyStore.
func (m *MemorySticky) Close() error {
	m.mu.Lock()
	m.closed = true
	m.mu.Unlock()
	return nil
}
