package pricing

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/shopkit/shopkit/internal/keyspace"
)

// ErrNoRules: nothing has been published to the source yet.
var ErrNoRules = errors.New("pricing: no rule set published")

// RuleSource is a versioned home for a shop's promotions, shared by every
// process that quotes. Publish validates the promotions (an invalid set
// is an *InputError and writes nothing) and stores them as the next
// version; publishing again under the same publishID returns the version
// the first call made and writes nothing. Changed delivers the versions
// published after it was called, possibly coalesced (a reader reloads the
// latest, so skipping one is harmless), until ctx ends.
type RuleSource interface {
	Publish(ctx context.Context, publishID string, promos []Promotion) (version int64, err error)
	Load(ctx context.Context) (version int64, promos []Promotion, err error)
	Changed(ctx context.Context) (<-chan int64, error)
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

func decodeRules(version int64, data []byte) (int64, []Promotion, error) {
	var promos []Promotion
	if err := json.Unmarshal(data, &promos); err != nil {
		return 0, nil, fmt.Errorf("pricing: rule set version %d: %w", version, err)
	}
	return version, promos, nil
}

// MemoryRuleSource is a RuleSource in process memory.
type MemoryRuleSource struct {
	opts     RuleSourceOptions
	mu       sync.Mutex
	version  int64
	data     []byte
	byID     map[string]int64
	ids      []string // the IDs in byID, oldest first
	watchers map[chan int64]struct{}
}

// RuleSourceOptions configure a rule source. The zero value means the
// documented defaults.
type RuleSourceOptions struct {
	// Prefix starts the Redis keys (see RedisRuleSource). Default
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

var _ RuleSource = (*MemoryRuleSource)(nil)

// NewMemoryRuleSource returns an empty source; opts.Prefix and the replica
// options do not apply.
func NewMemoryRuleSource(opts RuleSourceOptions) *MemoryRuleSource {
	return &MemoryRuleSource{opts: opts.withDefaults(), byID: map[string]int64{}, watchers: map[chan int64]struct{}{}}
}

// Publish implements RuleSource.
func (m *MemoryRuleSource) Publish(_ context.Context, publishID string, promos []Promotion) (int64, error) {
	data, err := encodeRules(publishID, promos)
	if err != nil {
		return 0, err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if v, ok := m.byID[publishID]; ok {
		return v, nil
	}
	m.version++
	m.data, m.byID[publishID] = data, m.version
	if m.ids = append(m.ids, publishID); len(m.ids) > m.opts.KeepPublishes {
		delete(m.byID, m.ids[0])
		m.ids = m.ids[1:]
	}
	for w := range m.watchers {
		notify(w, m.version)
	}
	return m.version, nil
}

// notify sends v on a one-slot channel, replacing an unread older version.
func notify(w chan int64, v int64) {
	for {
		select {
		case w <- v:
			return
		default:
			select {
			case <-w:
			default:
			}
		}
	}
}

// Load implements RuleSource.
func (m *MemoryRuleSource) Load(context.Context) (int64, []Promotion, error) {
	m.mu.Lock()
	v, data := m.version, m.data
	m.mu.Unlock()
	if v == 0 {
		return 0, nil, ErrNoRules
	}
	return decodeRules(v, data)
}

// Changed implements RuleSource.
func (m *MemoryRuleSource) Changed(ctx context.Context) (<-chan int64, error) {
	w := make(chan int64, 1)
	m.mu.Lock()
	m.watchers[w] = struct{}{}
	m.mu.Unlock()
	go func() {
		<-ctx.Done()
		m.mu.Lock()
		delete(m.watchers, w)
		m.mu.Unlock()
	}()
	return w, nil
}

// Engine quotes with the current rule set and swaps in new versions
// atomically: a quote runs entirely on the version it started with.
type Engine struct {
	current atomic.Pointer[versionedRules]
}

type versionedRules struct {
	version int64
	rules   *RuleSet
}

// Swap installs rules as version, unless a version at least as new is
// already installed; it reports whether it did.
func (e *Engine) Swap(version int64, rules *RuleSet) bool {
	next := &versionedRules{version, rules}
	for {
		cur := e.current.Load()
		if cur != nil && cur.version >= version {
			return false
		}
		if e.current.CompareAndSwap(cur, next) {
			return true
		}
	}
}

// Version is the installed version, 0 before the first.
func (e *Engine) Version() int64 {
	if cur := e.current.Load(); cur != nil {
		return cur.version
	}
	return 0
}

// Quote prices cart with the installed rule set and reports its version.
func (e *Engine) Quote(cart Cart) (Quote, int64, error) {
	cur := e.current.Load()
	if cur == nil {
		return Quote{}, 0, ErrNoRules
	}
	q, err := cur.rules.Quote(cart)
	return q, cur.version, err
}

// Reload loads the source's current version and installs it.
func (e *Engine) Reload(ctx context.Context, src RuleSource) error {
	v, promos, err := src.Load(ctx)
	if err != nil {
		return err
	}
	if v <= e.Version() {
		return nil
	}
	rs, err := NewRuleSet(promos)
	if err != nil {
		return fmt.Errorf("pricing: rule set version %d: %w", v, err)
	}
	e.Swap(v, rs)
	return nil
}

// Follow keeps the engine on the source's latest version until ctx ends:
// it loads once, then reloads on every change notification and, in case
// a notification was lost, every poll interval (0: 30s). Errors after
// the first load go to onError (nil: dropped) and the engine keeps the
// version it has.
func (e *Engine) Follow(ctx context.Context, src RuleSource, poll time.Duration, onError func(error)) error {
	changed, err := src.Changed(ctx)
	if err != nil {
		return err
	}
	if err := e.Reload(ctx, src); err != nil && !errors.Is(err, ErrNoRules) {
		return err
	}
	if poll <= 0 {
		poll = 30 * time.Second
	}
	go func() {
		tick := time.NewTicker(poll)
		defer tick.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-changed:
			case <-tick.C:
			}
			if err := e.Reload(ctx, src); err != nil && !errors.Is(err, ErrNoRules) && onError != nil && ctx.Err() == nil {
				onError(err)
			}
		}
	}()
	return nil
}
