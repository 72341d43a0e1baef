package funnel

import (
	"context"
	"strconv"
	"time"
)

// Store keeps events and hands them back per user. NewMemory and NewRedis
// return one; both backends pass one conformance suite (package
// funneltest). Store validates input and reports to the observer once, for
// every backend, and Analyze and Measure evaluate funnels and KPIs over any
// Store, so the answers cannot differ between backends. A Store is safe for
// concurrent use.
type Store struct {
	b       backend
	observe Observer
}

// backend is the storage under a Store, on validated input.
type backend interface {
	ingest(ctx context.Context, events []Event) (Ingested, error)
	scan(ctx context.Context, req scanQuery, fn func(userID string, events []Event) error) error
	// approxUniques answers an approximate Uniques (validated): from
	// HyperLogLogs covering the UTC days the range touches, exactly, or
	// ErrNoApproximation.
	approxUniques(ctx context.Context, q UniquesQuery) (int64, error)
}

// ScanRequest selects events for Store.Scan.
type ScanRequest struct {
	// Names lists the event names to return; nil returns every name.
	Names []string
	// From (inclusive) and To (exclusive) bound the events' times.
	From, To time.Time
}

// scanQuery is a ScanRequest as a backend gets it.
type scanQuery struct {
	ScanRequest
	// withoutAmounts lets a backend leave Amount zero: funnels never read
	// it, and decoding amounts is a good part of a scan's cost.
	withoutAmounts bool
}

// UniquesQuery asks how many distinct users had an event.
type UniquesQuery struct {
	// Name is the event name.
	Name string
	// From (inclusive) and To (exclusive) bound the events' times.
	From, To time.Time
	// Approximate lets a store answer from a HyperLogLog (standard error
	// 0.81%) covering the whole UTC days the range touches, if it keeps
	// them (Options.HyperLogLog on Redis; else ErrNoApproximation). Memory
	// always answers exactly.
	Approximate bool
}

// Observer receives an Observation of every call on a Store. It runs
// synchronously after the call and must not block for long; feed a metrics
// library or a log from it.
type Observer func(Observation)

// Op names the call an Observation reports.
type Op uint8

// The calls an Observer sees.
const (
	OpIngest  Op = iota + 1 // Store.Ingest
	OpScan                  // Store.Scan, and the scans of Analyze and Measure
	OpUniques               // Store.Uniques
)

// String returns the op's name, as metric labels want it.
func (o Op) String() string {
	switch o {
	case OpIngest:
		return "ingest"
	case OpScan:
		return "scan"
	case OpUniques:
		return "uniques"
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
	// Ingested is what an Ingest did with its events: stored, duplicates
	// replayed by clients, events arriving too late.
	Ingested Ingested
}

func newStore(b backend, opts Options) *Store {
	return &Store{b: b, observe: opts.Observer}
}

// Ingest stores a batch of events. The batch is validated first: an
// invalid event fails the whole call with an *InputError naming its index
// and field, and nothing is stored. Replaying events is safe: an ID already
// stored for the same UTC day is a duplicate.
func (s *Store) Ingest(ctx context.Context, events []Event) (Ingested, error) {
	start := s.start()
	var res Ingested
	err := checkEvents(events)
	if err == nil {
		res, err = s.b.ingest(ctx, events)
	}
	s.report(Observation{Op: OpIngest, Err: err, Took: since(start), Ingested: res})
	return res, err
}

// Scan calls fn once per user that has a selected event, with that user's
// selected events ordered by Time and then ID. The slice is only valid
// during the call; fn must not call the store. An error from fn stops the
// scan and is returned.
func (s *Store) Scan(ctx context.Context, req ScanRequest, fn func(userID string, events []Event) error) error {
	return s.scan(ctx, scanQuery{ScanRequest: req}, fn)
}

func (s *Store) scan(ctx context.Context, q scanQuery, fn func(userID string, events []Event) error) error {
	start := s.start()
	err := checkScan(&q.ScanRequest)
	if err == nil {
		err = s.b.scan(ctx, q, fn)
	}
	s.report(Observation{Op: OpScan, Err: err, Took: since(start)})
	return err
}

// Uniques counts the distinct users with an event named q.Name in
// [q.From, q.To).
func (s *Store) Uniques(ctx context.Context, q UniquesQuery) (int64, error) {
	start := s.start()
	n, err := s.uniques(ctx, q)
	s.report(Observation{Op: OpUniques, Err: err, Took: since(start)})
	return n, err
}

func (s *Store) uniques(ctx context.Context, q UniquesQuery) (int64, error) {
	req := ScanRequest{Names: []string{q.Name}, From: q.From, To: q.To}
	if err := checkScan(&req); err != nil {
		return 0, err
	}
	if q.Approximate {
		return s.b.approxUniques(ctx, q)
	}
	return exactUniques(ctx, s.b, req)
}

// exactUniques counts the users a scan of req finds.
func exactUniques(ctx context.Context, b backend, req ScanRequest) (int64, error) {
	var n int64
	err := b.scan(ctx, scanQuery{ScanRequest: req, withoutAmounts: true}, func(string, []Event) error {
		n++
		return nil
	})
	return n, err
}

func (s *Store) start() time.Time {
	if s.observe == nil {
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

func (s *Store) report(e Observation) {
	if s.observe != nil {
		s.observe(e)
	}
}
