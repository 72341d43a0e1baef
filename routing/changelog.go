package routing

import (
	"context"
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

func checkBatch(id string, changes []Change) error {
	if rule := keyspace.CheckID(id); rule != "" {
		return &InputError{Field: "ID", Rule: rule}
	}
	if len(changes) == 0 {
		return &InputError{Field: "Changes", Rule: "must not be empty"}
	}
	return nil
}

// MemoryLog is a process-local ChangeLog.
type MemoryLog struct {
	mu      sync.Mutex
	batches [][]Change
	ids     map[string]uint64
	changed chan struct{}
}

// NewMemoryLog returns an empty log.
func NewMemoryLog() *MemoryLog {
	return &MemoryLog{ids: map[string]uint64{}, changed: make(chan struct{}, 1)}
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
	v := uint64(len(m.batches))
	m.ids[id] = v
	select {
	case m.changed <- struct{}{}:
	default:
	}
	return v, nil
}

// Since implements ChangeLog.
func (m *MemoryLog) Since(_ context.Context, v uint64) ([]Change, uint64, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	var out []Change
	for _, b := range m.batches[min(v, uint64(len(m.batches))):] {
		out = append(out, b...)
	}
	return out, uint64(len(m.batches)), nil
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
// interval in case a signal was missed. Sync errors are passed to onError
// (may be nil) and retried at the next signal or poll.
func (n *Network) Follow(log ChangeLog, poll time.Duration, onError func(error)) (stop func()) {
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
