package routing

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/shopkit/shopkit/internal/keyspace"
	"github.com/shopkit/shopkit/internal/watch"
)

// Change log errors.
var (
	// ErrNotReplicated means a Redis append was applied by the master but
	// fewer than LogOptions.WaitReplicas replicas acknowledged it within
	// WaitTimeout, so a failover now could lose it: the outcome is
	// unknown. Append the same ID again to learn it.
	ErrNotReplicated = errors.New("routing: append not acknowledged by enough replicas; outcome unknown, append the same ID again")
	// ErrIDConflict means a batch ID was appended before with other
	// changes; nothing was recorded.
	ErrIDConflict = errors.New("routing: batch ID already used for other changes")
	// ErrClosed is returned by calls on a log after Close.
	ErrClosed = errors.New("routing: change log closed")
)

// Log is a shared, versioned log of live network changes, so every instance
// of a service applies the same lane closures and traffic factors in the
// same order. NewMemoryLog and NewRedisLog return one; both backends pass
// the same conformance suite (package routingtest). A Log is safe for
// concurrent use.
type Log struct {
	b       logBackend
	observe Observer
	closed  atomic.Bool
}

// logBackend is the storage under a Log, on validated input.
type logBackend interface {
	// append records body (the batch, JSON) as the next version unless id
	// is known: then it returns that batch's version, or ErrIDConflict if
	// it had another fingerprint.
	append(ctx context.Context, id string, changes []Change, body []byte, fingerprint string) (version int64, replayed bool, err error)
	since(ctx context.Context, v int64) ([]Change, int64, error)
	// changed delivers a value whenever the log may have advanced, until
	// ctx ends.
	changed(ctx context.Context) (<-chan int64, error)
	close() error
}

// Observer receives an Observation of every call on a Log. It runs
// synchronously after the call and must not block for long; feed a metrics
// library or a log from it.
type Observer func(Observation)

// Op names the call an Observation reports.
type Op uint8

// The calls an Observer sees.
const (
	OpAppend Op = iota + 1 // Log.Append
	OpSince                // Log.Since
)

// String returns the op's name, as metric labels want it.
func (o Op) String() string {
	switch o {
	case OpAppend:
		return "append"
	case OpSince:
		return "since"
	}
	return "Op(" + strconv.Itoa(int(o)) + ")"
}

// Observation is one call, as an Observer sees it.
type Observation struct {
	Op Op
	// ID is an Append's batch ID.
	ID string
	// Err is the call's error; nil on success.
	Err error
	// Took is the call's wall time.
	Took time.Duration
	// Replayed is true when Append found the batch ID already recorded.
	Replayed bool
	// Version is the version an Append recorded or a Since read up to.
	Version int64
}

func newLog(b logBackend, opts LogOptions) *Log {
	return &Log{b: b, observe: opts.Observer}
}

// Append records a batch of changes as the next version and returns it.
// The ID makes it idempotent: appending the same ID with the same changes
// again returns the first version and records nothing; with other changes
// it is ErrIDConflict. Each change's shape is checked (Change.Kind and its
// fields); whether it names a lane or location of a graph is checked when
// a Network applies it.
func (l *Log) Append(ctx context.Context, id string, changes []Change) (int64, error) {
	start := l.start()
	var v int64
	var replayed bool
	body, err := encodeBatch(id, changes)
	if err == nil && l.closed.Load() {
		err = ErrClosed
	}
	if err == nil {
		sum := sha256.Sum256(body)
		v, replayed, err = l.b.append(ctx, id, changes, body, hex.EncodeToString(sum[:16]))
	}
	l.report(Observation{Op: OpAppend, ID: id, Err: err, Took: since(start), Replayed: replayed, Version: v})
	return v, err
}

// Since returns the batches after version v, flattened in order, and the
// current version.
func (l *Log) Since(ctx context.Context, v int64) ([]Change, int64, error) {
	start := l.start()
	var out []Change
	var cur int64
	var err error
	if v < 0 {
		err = &InputError{Field: "Version", Rule: "must be ≥ 0"}
	} else if l.closed.Load() {
		err = ErrClosed
	} else {
		out, cur, err = l.b.since(ctx, v)
	}
	l.report(Observation{Op: OpSince, Err: err, Took: since(start), Version: cur})
	return out, cur, err
}

// Changed delivers a value whenever the log may have advanced (a hint:
// Since tells what changed), possibly coalesced, until ctx ends.
func (l *Log) Changed(ctx context.Context) (<-chan int64, error) {
	if l.closed.Load() {
		return nil, ErrClosed
	}
	return l.b.changed(ctx)
}

// Close releases the log; later calls return ErrClosed. It does not close
// the Redis client, which the caller owns.
func (l *Log) Close() error {
	if l.closed.Swap(true) {
		return nil
	}
	return l.b.close()
}

func (l *Log) start() time.Time {
	if l.observe == nil {
		return time.Time{}
	}
	return time.Now()
}

func since(start time.Time) time.Duration {
	if start.IsZero() {
		return 0
	}
	return time.Since(start)
}

func (l *Log) report(o Observation) {
	if l.observe != nil {
		l.observe(o)
	}
}

// encodeBatch validates a batch and returns its JSON.
func encodeBatch(id string, changes []Change) ([]byte, error) {
	if rule := keyspace.CheckID(id); rule != "" {
		return nil, &InputError{Field: "ID", Rule: rule}
	}
	if len(changes) == 0 {
		return nil, &InputError{Field: "Changes", Rule: "must not be empty"}
	}
	for i, c := range changes {
		if err := c.check("Changes[" + strconv.Itoa(i) + "]"); err != nil {
			return nil, err
		}
	}
	return json.Marshal(changes)
}

func decodeBatch(row string) ([]Change, error) {
	var batch []Change
	if err := json.Unmarshal([]byte(row), &batch); err != nil {
		return nil, err
	}
	return batch, nil
}

// LogOptions configure a change log. The zero value means the documented
// defaults.
type LogOptions struct {
	// Prefix starts the Redis keys (see NewRedisLog). Default
	// "shopkit:routing". Redis only.
	Prefix string
	// MaxBatches bounds the batches the log keeps whole (default 1,000).
	// Past it, the older half is folded into a compacted base: the last
	// change of each piece of live state (a lane's factor, a lane's
	// closure, a location's availability), which applies to the same
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
	// Observer, if set, receives an Observation of every call.
	Observer Observer
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

// memoryLog is the process-local backend.
type memoryLog struct {
	opts LogOptions

	mu          sync.Mutex
	base        []Change // the compacted changes of versions 1..baseVersion
	baseVersion int64
	batches     [][]Change // versions baseVersion+1.., in order
	batchIDs    []string   // the ID of each batch in batches
	ids         map[string]loggedBatch
	changes     watch.Broadcast
}

// loggedBatch is what the log remembers of a batch ID.
type loggedBatch struct {
	version     int64
	fingerprint string
}

// NewMemoryLog returns an empty log in process memory; opts.Prefix and the
// replica options do not apply.
func NewMemoryLog(opts LogOptions) *Log {
	opts = opts.withDefaults()
	return newLog(&memoryLog{opts: opts, ids: map[string]loggedBatch{}}, opts)
}

var _ logBackend = (*memoryLog)(nil)

func (m *memoryLog) append(_ context.Context, id string, changes []Change, _ []byte, fp string) (int64, bool, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if b, ok := m.ids[id]; ok {
		if b.fingerprint != fp {
			return 0, false, ErrIDConflict
		}
		return b.version, true, nil
	}
	m.batches = append(m.batches, append([]Change(nil), changes...))
	m.batchIDs = append(m.batchIDs, id)
	v := m.baseVersion + int64(len(m.batches))
	m.ids[id] = loggedBatch{v, fp}
	if len(m.batches) > m.opts.MaxBatches {
		m.foldLocked(len(m.batches) / 2)
	}
	m.changes.Send(v)
	return v, false, nil
}

// foldLocked folds the oldest k batches into the base.
func (m *memoryLog) foldLocked(k int) {
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
	m.baseVersion += int64(k)
}

func (m *memoryLog) since(_ context.Context, v int64) ([]Change, int64, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	cur := m.baseVersion + int64(len(m.batches))
	var out []Change
	from := int64(0)
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

func (m *memoryLog) changed(ctx context.Context) (<-chan int64, error) {
	return m.changes.Watch(ctx), nil
}

func (m *memoryLog) close() error { return nil }

// DefaultFollowPoll is how often Follow syncs when FollowOptions.Poll is
// not set, in case a change notification was lost.
const DefaultFollowPoll = time.Second

// FollowOptions configure Network.Follow. The zero value means the
// documented defaults.
type FollowOptions struct {
	// Poll is how often Follow syncs besides on every change
	// notification, in case one was lost. Default DefaultFollowPoll.
	Poll time.Duration
	// OnError receives the errors of syncs after the first; they are
	// retried at the next notification or poll. Default: dropped.
	OnError func(error)
}

// Sync brings the network up to date with log: it applies, as one new
// snapshot, every change after the version it last synced to.
func (n *Network) Sync(ctx context.Context, log *Log) error {
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

// Follow keeps the network in sync with log until ctx ends, as
// http.Server.Serve serves until it is shut down: it subscribes to the
// log's changes and syncs once, returning at once if either fails; then it
// syncs on every change notification and every opts.Poll, and returns nil
// when ctx ends. Run it in its own goroutine.
func (n *Network) Follow(ctx context.Context, log *Log, opts FollowOptions) error {
	changed, err := log.Changed(ctx)
	if err != nil {
		return err
	}
	if err := n.Sync(ctx, log); err != nil {
		return err
	}
	poll := opts.Poll
	if poll <= 0 {
		poll = DefaultFollowPoll // time.NewTicker panics on a poll of 0
	}
	t := time.NewTicker(poll)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-changed:
		case <-t.C:
		}
		if err := n.Sync(ctx, log); err != nil && opts.OnError != nil && ctx.Err() == nil {
			opts.OnError(err)
		}
	}
}
