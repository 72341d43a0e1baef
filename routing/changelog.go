package routing

import (
	"context"
	"errors"
	"sync"
	"time"

	"github.com/shopkit/shopkit/internal/keyspace"
)

// ChangeLog is a shared, versioned log of live network changes, so every
// instance of a service applies the same lane closures and traffic factors
// in the same order. Memory and Redis implement it and pass the same
// conformance suite (package routingtest).
type ChangeLog interface {
	// Append records a batch of changes as the next version and returns
	// it. The ID makes it idempotent: appending the same ID again returns
	// the first version and records nothing.
	Append(ctx context.Context, id string, changes []Change) (uint64, error)
	// Since returns the batches after version v, flattened in order, and
	// the current version.
	Since(ctx context.Context, v uint64) ([]Change, uint64, error)
	// Changed returns a channel that receives a value whenever the log
	// may have advanced (a hint: Since tells what changed).
	Changed() <-chan struct{}
	// Close releases the log.
	Close() error
}

// DefaultFollowPoll is how often Follow polls the log when given no
// interval.
const DefaultFollowPoll = time.Second

// ErrNotReplicated means a Redis append was applied by the master but fewer
// than LogOptions.WaitReplicas replicas acknowledged it within WaitTimeout,
// so a failover now could lose it: the outcome is unknown. Append the same
// ID again to learn it.
var ErrNotReplicated = errors.New("routing: append not acknowledged by enough replicas; outcome unknown, append the same ID again")

func checkBatch(id string, changes []Change) error {
	if rule := keyspace.CheckID(id); rule != "" {
		return &InputError{Field: "ID", Rule: rule}
	}
	if len(changes) == 0 {
		return &InputError{Field: "Changes", Rule: "must not be empty"}
	}
	return nil
}

// LogOptions configure a change log. The zero value means the documented
// defaults.
type LogOptions struct {
	// Prefix starts the Redis keys (see RedisLog). Default
	// "shopkit:routing". Redis only.
	Prefix string
	// MaxBatches bounds the batches the log keeps whole (default 1,000).
	// Past it, the older half is folded into a compacted base: the last
	// change of each lane and of each location, which applies to the same
	// network. A follower behind the base gets the base and every batch
	// after it. A batch ID is remembered (Append is idempotent by it)
	// while its batch is kept whole.
	MaxBatches int
	// WaitReplicas, if positive, makes every Redis append wait until that
	// many replicas have acknowledged it (WAIT), up to WaitTimeout
	// (default 1s); if they do not, Append returns ErrNotReplicated.
	// Needs a *redis.Client (standalone or failover) or
	// *redis.ClusterClient. Redis only.
	WaitReplicas int
	// WaitTimeout bounds the wait for WaitReplicas. Default 1s.
	WaitTimeout time.Duration
}

func (o LogOptions) withDefaults() LogOptions {
	if o.Prefix == "" {
		o.Prefix = "shopkit:routing"
	}
	if o.MaxBatches <= 0 {
		o.MaxBatches = 1000
	}
	return o
}

// MemoryLog is a process-local ChangeLog.
type MemoryLog struct {
	opts LogOptions

	mu          sync.Mutex
	base        []Change // the compacted changes of versions 1..baseVersion
	baseVersion uint64
	batches     [][]Change // versions baseVersion+1.., in order
	batchIDs    []string   // the ID of each batch in batches
	ids         map[string]uint64
	changed     chan struct{}
}

// NewMemoryLog returns an empty log; opts.Prefix and the replica options
// do not apply.
func NewMemoryLog(opts LogOptions) *MemoryLog {
	return &MemoryLog{opts: opts.withDefaults(), ids: map[string]uint64{}, changed: make(chan struct{}, 1)}
}

var _ ChangeLog = (*MemoryLog)(nil)

// Append implements ChangeLog.
func (m *MemoryLog) Append(_ context.Context, id string, changes []Change) (uint64, error) {
	if err := checkBatch(id, changes); err != nil {
		return 0, err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if v, ok := m.ids[id]; ok {
		return v, nil
	}
	m.batches = append(m.batches, append([]Change(nil), changes...))
	m.batchIDs = append(m.batchIDs, id)
	v := m.baseVersion + uint64(len(m.batches))
	m.ids[id] = v
	if len(m.batches) > m.opts.MaxBatches {
		m.foldLocked(len(m.batches) / 2)
	}
	select {
	case m.changed <- struct{}{}:
	default:
	}
	return v, nil
}

// foldLocked folds the oldest k batches into the base.
func (m *MemoryLog) foldLocked(k int) {
	folded := m.base
	for _, b := range m.batches[:k] {
		folded = append(folded, b...)
	}
	m.base = compact(folded)
	for _, id := range m.batchIDs[:k] {
		delete(m.ids, id)
	}
	m.batches = append(m.batches[:0:0], m.batches[k:]...)
	m.batchIDs = append(m.batchIDs[:0:0], m.batchIDs[k:]...)
	m.baseVersion += uint64(k)
}

// Since implements ChangeLog.
func (m *MemoryLog) Since(_ context.Context, v uint64) ([]Change, uint64, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	cur := m.baseVersion + uint64(len(m.batches))
	var out []Change
	from := uint64(0)
	if v < m.baseVersion {
		out = append(out, m.base...)
	} else {
		from = min(v, cur) - m.baseVersion
	}
	for _, b := range m.batches[from:] {
		out = append(out, b...)
	}
	return out, cur, nil
}

// Changed implements ChangeLog.
func (m *MemoryLog) Changed() <-chan struct{} { return m.changed }

// Close implements ChangeLog.
func (m *MemoryLog) Close() error { return nil }

// Sync brings the network up to date with log: it applies, as one new
// snapshot, every change after the version it last synced to.
func (n *Network) Sync(ctx context.Context, log ChangeLog) error {
	n.syncMu.Lock()
	defer n.syncMu.Unlock()
	changes, v, err := log.Since(ctx, n.logVersion)
	if err != nil {
		return err
	}
	if len(changes) > 0 {
		if _, err := n.Apply(changes...); err != nil {
			return err
		}
	}
	n.logVersion = v
	return nil
}

// Follow keeps the network in sync with log until the returned stop is
// called: it syncs whenever the log signals a change, and every poll
// interval (DefaultFollowPoll if poll is not positive) in case a signal was
// missed. Sync errors are passed to onError (may be nil) and retried at the
// next signal or poll.
func (n *Network) Follow(log ChangeLog, poll time.Duration, onError func(error)) (stop func()) {
	if poll <= 0 {
		poll = DefaultFollowPoll // time.NewTicker panics on a poll of 0
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		t := time.NewTicker(poll)
		defer t.Stop()
		for {
			if err := n.Sync(ctx, log); err != nil && onError != nil && ctx.Err() == nil {
				onError(err)
			}
			select {
			case <-ctx.Done():
				return
			case <-log.Changed():
			case <-t.C:
			}
		}
	}()
	return func() {
		cancel()
		<-done
	}
}
