package pricing

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/shopkit/shopkit/internal/keyspace"
	"github.com/shopkit/shopkit/internal/watch"
)

// ErrNoRules: nothing has been published to the source yet.
var ErrNoRules = errors.New("pricing: no rule set published")

// RuleSource is a versioned home for a shop's promotions, shared by every
// process that quotes. NewMemoryRuleSource and NewRedisRuleSource return
// one; both pass the same conformance suite (pricingtest.RunRuleSource).
//
// A RuleSource is safe for concurrent use.
type RuleSource struct {
	b       ruleSourceBackend
	observe Observer
	closed  atomic.Bool
}

// ruleSourceBackend is the storage under a RuleSource, on validated input.
type ruleSourceBackend interface {
	// publish stores data as the next version unless publishID is
	// known: then it returns the version that ID made, or ErrIDConflict
	// if that publish had another fingerprint.
	publish(ctx context.Context, publishID string, data []byte, fingerprint string) (version int64, replayed bool, err error)
	// load returns the latest version and its data, or ErrNoRules.
	load(ctx context.Context) (int64, []byte, error)
	// changed delivers versions published after it returns, until ctx
	// ends.
	changed(ctx context.Context) (<-chan int64, error)
}

// RuleSourceOptions configure a rule source. The zero value means the
// documented defaults.
type RuleSourceOptions struct {
	// Prefix starts the Redis keys (see NewRedisRuleSource). Default
	// "shopkit:pricing". Redis only.
	Prefix string
	// KeepPublishes is how many of the latest publish IDs are remembered,
	// so that Publish is idempotent by them. Default 1,000.
	KeepPublishes int
	// WaitReplicas, if positive, makes every Redis publish wait until that
	// many replicas have acknowledged it (WAIT), up to WaitTimeout
	// (default 1s); if they do not, Publish returns ErrNotReplicated.
	// Needs a *redis.Client (standalone or failover) or
	// *redis.ClusterClient. Redis only.
	WaitReplicas int
	// WaitTimeout bounds the wait for WaitReplicas. Default 1s.
	WaitTimeout time.Duration
	// Observer, if set, receives an Observation of every Publish and Load.
	Observer Observer
}

func (o RuleSourceOptions) withDefaults() RuleSourceOptions {
	if o.Prefix == "" {
		o.Prefix = "shopkit:pricing"
	}
	if o.KeepPublishes <= 0 {
		o.KeepPublishes = 1000
	}
	return o
}

func newRuleSource(b ruleSourceBackend, opts RuleSourceOptions) *RuleSource {
	return &RuleSource{b: b, observe: opts.Observer}
}

// Publish validates promos (an invalid set is an *InputError and writes
// nothing) and stores them as the next version. Publishing again under the
// same publishID returns the version the first call made and writes
// nothing; the same publishID with other promotions is ErrIDConflict.
// Publish IDs are remembered for the latest KeepPublishes publishes.
func (s *RuleSource) Publish(ctx context.Context, publishID string, promos []Promotion) (int64, error) {
	start := startTimer(s.observe)
	var v int64
	var replayed bool
	data, err := encodeRules(publishID, promos)
	if err == nil && s.closed.Load() {
		err = ErrClosed
	}
	if err == nil {
		v, replayed, err = s.b.publish(ctx, publishID, data, fingerprintRules(data))
	}
	if s.observe != nil {
		s.observe(Observation{Op: OpPublish, ID: publishID, Err: err, Took: since(start), Replayed: replayed, Version: v})
	}
	return v, err
}

// Load returns the latest version and its promotions, or ErrNoRules.
func (s *RuleSource) Load(ctx context.Context) (int64, []Promotion, error) {
	start := startTimer(s.observe)
	v, promos, err := s.loadRules(ctx)
	if s.observe != nil {
		s.observe(Observation{Op: OpLoad, Err: err, Took: since(start), Version: v})
	}
	return v, promos, err
}

func (s *RuleSource) loadRules(ctx context.Context) (int64, []Promotion, error) {
	if s.closed.Load() {
		return 0, nil, ErrClosed
	}
	v, data, err := s.b.load(ctx)
	if err != nil {
		return 0, nil, err
	}
	return decodeRules(v, data)
}

// Changed delivers the versions published after it returns, possibly
// coalesced (a reader reloads the latest, so skipping one is harmless),
// until ctx ends.
func (s *RuleSource) Changed(ctx context.Context) (<-chan int64, error) {
	if s.closed.Load() {
		return nil, ErrClosed
	}
	return s.b.changed(ctx)
}

// Close makes later calls return ErrClosed. It does not close the Redis
// client, which the caller owns.
func (s *RuleSource) Close() error {
	s.closed.Store(true)
	return nil
}

func encodeRules(publishID string, promos []Promotion) ([]byte, error) {
	if rule := keyspace.CheckID(publishID); rule != "" {
		return nil, &InputError{Field: "PublishID", Rule: rule}
	}
	if _, err := NewRuleSet(promos); err != nil {
		return nil, err
	}
	return json.Marshal(promos)
}

// fingerprintRules tells a replayed publish from a conflicting one.
func fingerprintRules(data []byte) string {
	sum := sha256.Sum256(data)
	return hex.EncodeToString(sum[:16])
}

func decodeRules(version int64, data []byte) (int64, []Promotion, error) {
	var promos []Promotion
	if err := json.Unmarshal(data, &promos); err != nil {
		return 0, nil, fmt.Errorf("pricing: rule set version %d: %w", version, err)
	}
	return version, promos, nil
}

// memoryRuleSource is the process-local backend.
type memoryRuleSource struct {
	opts    RuleSourceOptions
	mu      sync.Mutex
	version int64
	data    []byte
	byID    map[string]publishRecord
	ids     []string // the IDs in byID, oldest first
	changes watch.Broadcast
}

// publishRecord is what a remembered publish ID made.
type publishRecord struct {
	version     int64
	fingerprint string
}

var _ ruleSourceBackend = (*memoryRuleSource)(nil)

// NewMemoryRuleSource returns an empty source in process memory;
// opts.Prefix and the replica options do not apply.
func NewMemoryRuleSource(opts RuleSourceOptions) *RuleSource {
	opts = opts.withDefaults()
	return newRuleSource(&memoryRuleSource{opts: opts, byID: map[string]publishRecord{}}, opts)
}

func (m *memoryRuleSource) publish(_ context.Context, publishID string, data []byte, fp string) (int64, bool, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if rec, ok := m.byID[publishID]; ok {
		if rec.fingerprint != fp {
			return 0, false, ErrIDConflict
		}
		return rec.version, true, nil
	}
	m.version++
	m.data, m.byID[publishID] = data, publishRecord{m.version, fp}
	if m.ids = append(m.ids, publishID); len(m.ids) > m.opts.KeepPublishes {
		delete(m.byID, m.ids[0])
		m.ids = m.ids[1:]
	}
	m.changes.Send(m.version)
	return m.version, false, nil
}

func (m *memoryRuleSource) load(context.Context) (int64, []byte, error) {
	m.mu.Lock()
	v, data := m.version, m.data
	m.mu.Unlock()
	if v == 0 {
		return 0, nil, ErrNoRules
	}
	return v, data, nil
}

func (m *memoryRuleSource) changed(ctx context.Context) (<-chan int64, error) {
	return m.changes.Watch(ctx), nil
}
