package abtest

import (
	"context"
	"errors"
	"strconv"
	"sync"
	"sync/atomic"
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

// Sticky keeps users' variation assignments so they survive changes to an
// experiment's weights or coverage: once assigned, a user keeps the
// variation until the experiment's bucket version is bumped.
// NewMemorySticky and NewRedisSticky return one; both backends pass the
// same conformance suite (package abtesttest). Sticky validates input,
// checks Close and reports to the observer once, for every backend.
//
// Assignments are kept per identifying attribute (the hash attribute or the
// fallback attribute) and value, under "<experiment key>__<bucket version>",
// as GrowthBook's sticky bucket documents are. A Sticky is safe for
// concurrent use.
type Sticky struct {
	b       stickyBackend
	observe Observer
	closed  atomic.Bool
}

// stickyBackend is the storage under a Sticky, on validated input.
type stickyBackend interface {
	load(ctx context.Context, u StickyUser) (map[string]int, error)
	save(ctx context.Context, a StickyAssignment) (int, error)
}

// StickyUser names the user whose identifying attribute has Value.
type StickyUser struct {
	Attribute string // e.g. "id" or "deviceId": 1–128 bytes of UTF-8
	Value     string // 1–1024 bytes
}

// StickyAssignment is one user's variation of one experiment.
type StickyAssignment struct {
	Attribute string // as in StickyUser
	Value     string // as in StickyUser
	Key       string // AssignmentKey(experiment, bucket version): 1–256 bytes
	Variation int    // ≥ 0
}

// Observer receives an Observation of every call on a Sticky. It runs
// synchronously after the call and must not block for long; feed a metrics
// library or a log from it.
type Observer func(Observation)

// Op names the call an Observation reports.
type Op uint8

// The calls an Observer sees.
const (
	OpLoad Op = iota + 1 // Sticky.Load
	OpSave               // Sticky.Save
)

// String returns the op's name, as metric labels want it.
func (o Op) String() string {
	switch o {
	case OpLoad:
		return "load"
	case OpSave:
		return "save"
	}
	return "Op(" + strconv.Itoa(int(o)) + ")"
}

// Observation is one call, as an Observer sees it.
type Observation struct {
	Op Op
	// Err is the call's error; nil on success.
	Err error
	// Took is the call's wall time.
	Took time.Duration
	// Key is the assignment key a Save stored under.
	Key string
	// Variation is the variation a Save returned: the one stored, which
	// is an earlier writer's when one came first.
	Variation int
}

func newSticky(b stickyBackend, opts StickyOptions) *Sticky {
	return &Sticky{b: b, observe: opts.Observer}
}

// Load returns the stored assignments of user u: assignment key →
// variation. A user with none gets an empty map.
func (s *Sticky) Load(ctx context.Context, u StickyUser) (map[string]int, error) {
	start := s.start()
	var out map[string]int
	err := checkSticky(u.Attribute, u.Value, "-", 0)
	if err == nil && s.closed.Load() {
		err = ErrClosed
	}
	if err == nil {
		out, err = s.b.load(ctx, u)
	}
	if s.observe != nil {
		s.observe(Observation{Op: OpLoad, Err: err, Took: time.Since(start)})
	}
	return out, err
}

// Save stores a.Variation under a.Key for the user unless a variation is
// already stored there, and returns the one that is stored: the first
// writer wins, so concurrent requests agree. A save that stores a variation
// restarts the document's TTL.
func (s *Sticky) Save(ctx context.Context, a StickyAssignment) (int, error) {
	start := s.start()
	var v int
	err := checkSticky(a.Attribute, a.Value, a.Key, a.Variation)
	if err == nil && s.closed.Load() {
		err = ErrClosed
	}
	if err == nil {
		v, err = s.b.save(ctx, a)
	}
	if s.observe != nil {
		s.observe(Observation{Op: OpSave, Err: err, Took: time.Since(start), Key: a.Key, Variation: v})
	}
	return v, err
}

// Close makes later calls return ErrClosed. It does not close the Redis
// client, which the caller owns.
func (s *Sticky) Close() error {
	s.closed.Store(true)
	return nil
}

// start returns when a call started, or the zero time when nobody
// observes.
func (s *Sticky) start() time.Time {
	if s.observe == nil {
		return time.Time{}
	}
	return time.Now()
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

var _ stickyBackend = (*memorySticky)(nil)

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
	// Observer, if set, receives an Observation of every call.
	Observer Observer
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

// memorySticky is the process-local backend.
type memorySticky struct {
	opts StickyOptions

	mu   sync.Mutex
	docs map[[2]string]*memDoc
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

// NewMemorySticky returns an empty in-memory sticky store; time comes from
// opts.Now, and opts.Prefix and the replica options do not apply.
func NewMemorySticky(opts StickyOptions) *Sticky {
	opts = opts.withDefaults()
	return newSticky(&memorySticky{opts: opts, docs: make(map[[2]string]*memDoc)}, opts)
}

// forgetLocked drops the documents not saved to for TTL.
func (m *memorySticky) forgetLocked(now time.Time) {
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

func (m *memorySticky) load(_ context.Context, u StickyUser) (map[string]int, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.forgetLocked(m.opts.Now())
	d := m.docs[[2]string{u.Attribute, u.Value}]
	if d == nil {
		return map[string]int{}, nil
	}
	out := make(map[string]int, len(d.vars))
	for k, v := range d.vars {
		out[k] = v
	}
	return out, nil
}

func (m *memorySticky) save(_ context.Context, a StickyAssignment) (int, error) {
	key, variation := a.Key, a.Variation
	m.mu.Lock()
	defer m.mu.Unlock()
	now := m.opts.Now()
	m.forgetLocked(now)
	id := [2]string{a.Attribute, a.Value}
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
