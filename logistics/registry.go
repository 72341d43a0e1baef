package logistics

import (
	"context"
	"sync"
	"sync/atomic"
	"time"

	"github.com/shopkit/shopkit/internal/keyspace"
)

// Registry is a WaybillClaimer: the waybills created per order code, and
// the claims of batches creating them now. NewMemoryRegistry keeps them in
// the process; NewRedisRegistry on Redis or Redis Cluster, shared by every
// instance and kept across restarts. Both pass the same tests. The first
// waybill recorded for an order code stays; recording another is a
// *WaybillExistsError naming it. A Registry is safe for concurrent use.
type Registry struct {
	b       registryBackend
	observe Observer
	closed  atomic.Bool
}

var _ WaybillClaimer = (*Registry)(nil)

// registryBackend is the storage under a Registry, on validated input.
type registryBackend interface {
	lookup(ctx context.Context, code string) (Waybill, bool, error)
	record(ctx context.Context, w Waybill) error
	claim(ctx context.Context, req ClaimRequest) (ClaimResult, error)
	unclaim(ctx context.Context, req ClaimRequest) error
}

// RegistryOptions configure a waybill registry. The zero value means the
// documented defaults.
type RegistryOptions struct {
	// Prefix starts every Redis key. Default "shopkit:waybill". Redis
	// only.
	Prefix string
	// Retention is how long a recorded waybill is kept: a batch retried
	// within it reuses the waybill. Default 180 days, longer than carriers
	// keep a label claimable.
	Retention time.Duration
	// Now is the Memory registry's clock. Default time.Now. Redis expires
	// keys by its own clock.
	Now func() time.Time
	// WaitReplicas, if positive, makes every Redis write wait until that
	// many replicas have acknowledged it, up to WaitTimeout (default 1s),
	// or return ErrNotReplicated. Needs a *redis.Client (standalone or
	// failover) or *redis.ClusterClient. Redis only.
	WaitReplicas int
	// WaitTimeout bounds the wait for WaitReplicas. Default 1s.
	WaitTimeout time.Duration
	// Observer, if set, receives an Observation of every call.
	Observer Observer
}

func (o RegistryOptions) withDefaults() RegistryOptions {
	if o.Prefix == "" {
		o.Prefix = "shopkit:waybill"
	}
	if o.Retention <= 0 {
		o.Retention = 180 * 24 * time.Hour
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	return o
}

// NewMemoryRegistry returns a registry in this process.
func NewMemoryRegistry(opts RegistryOptions) *Registry {
	opts = opts.withDefaults()
	return &Registry{b: &memoryRegistry{opts: opts, m: map[string]memoryWaybill{}, claims: map[string]memoryClaim{}}, observe: opts.Observer}
}

// Lookup implements WaybillRegistry.
func (r *Registry) Lookup(ctx context.Context, orderCode string) (Waybill, bool, error) {
	start := r.start()
	var w Waybill
	var ok bool
	err := r.check(orderCode)
	if err == nil {
		w, ok, err = r.b.lookup(ctx, orderCode)
	}
	r.report(OpLookup, orderCode, start, err)
	return w, ok, err
}

// Record implements WaybillRegistry: the first waybill recorded for an
// order code stays, and recording the same one again renews its
// retention; recording another is a *WaybillExistsError. It lets go of
// any claim on the order code.
func (r *Registry) Record(ctx context.Context, w Waybill) error {
	start := r.start()
	err := r.check(w.OrderCode)
	if err == nil && w.Number == "" {
		err = &InputError{Field: "Number", Rule: "must not be empty"}
	}
	if err == nil {
		err = r.b.record(ctx, w)
	}
	r.report(OpRecord, w.OrderCode, start, err)
	return err
}

// Claim implements WaybillClaimer.
func (r *Registry) Claim(ctx context.Context, req ClaimRequest) (ClaimResult, error) {
	start := r.start()
	var res ClaimResult
	err := r.checkClaim(req, true)
	if err == nil {
		res, err = r.b.claim(ctx, req)
	}
	r.report(OpClaim, req.OrderCode, start, err)
	return res, err
}

// Unclaim implements WaybillClaimer.
func (r *Registry) Unclaim(ctx context.Context, req ClaimRequest) error {
	start := r.start()
	err := r.checkClaim(req, false)
	if err == nil {
		err = r.b.unclaim(ctx, req)
	}
	r.report(OpUnclaim, req.OrderCode, start, err)
	return err
}

// Close makes later calls return ErrClosed. It does not close the Redis
// client, which the caller owns.
func (r *Registry) Close() error {
	r.closed.Store(true)
	return nil
}

func (r *Registry) check(code string) error {
	if rule := keyspace.CheckID(code); rule != "" {
		return &InputError{Field: "OrderCode", Rule: rule}
	}
	if r.closed.Load() {
		return ErrClosed
	}
	return nil
}

func (r *Registry) checkClaim(req ClaimRequest, lease bool) error {
	if err := r.check(req.OrderCode); err != nil {
		return err
	}
	if rule := keyspace.CheckID(req.Owner); rule != "" {
		return &InputError{Field: "Owner", Rule: rule}
	}
	if lease && req.Lease < time.Millisecond {
		return &InputError{Field: "Lease", Rule: "must be at least 1ms"}
	}
	return nil
}

func (r *Registry) start() time.Time {
	if r.observe == nil {
		return time.Time{}
	}
	return time.Now()
}

func (r *Registry) report(op Op, id string, start time.Time, err error) {
	if r.observe != nil {
		r.observe(Observation{Op: op, ID: id, Err: err, Took: time.Since(start)})
	}
}

// memoryRegistry is the in-process backend.
type memoryRegistry struct {
	opts    RegistryOptions
	mu      sync.Mutex
	m       map[string]memoryWaybill
	claims  map[string]memoryClaim
	records int // since the last sweep
}

type memoryWaybill struct {
	w       Waybill
	expires time.Time
}

type memoryClaim struct {
	owner   string
	expires time.Time
}

func (r *memoryRegistry) lookup(_ context.Context, code string) (Waybill, bool, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	mw, ok := r.m[code]
	if !ok || !r.opts.Now().Before(mw.expires) {
		return Waybill{}, false, nil
	}
	return mw.w, true, nil
}

func (r *memoryRegistry) record(_ context.Context, w Waybill) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	now := r.opts.Now()
	if mw, ok := r.m[w.OrderCode]; ok && now.Before(mw.expires) && mw.w.Number != w.Number {
		return &WaybillExistsError{Existing: mw.w}
	}
	r.m[w.OrderCode] = memoryWaybill{w: w, expires: now.Add(r.opts.Retention)}
	delete(r.claims, w.OrderCode)
	// Sweep the expired once per as many records as are kept: amortised
	// O(1) per record, and the map never holds more than twice the live
	// waybills.
	if r.records++; r.records >= len(r.m) {
		r.records = 0
		for code, mw := range r.m {
			if !now.Before(mw.expires) {
				delete(r.m, code)
			}
		}
		for code, c := range r.claims {
			if !now.Before(c.expires) {
				delete(r.claims, code)
			}
		}
	}
	return nil
}

func (r *memoryRegistry) claim(_ context.Context, req ClaimRequest) (ClaimResult, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	now := r.opts.Now()
	if mw, ok := r.m[req.OrderCode]; ok && now.Before(mw.expires) {
		return ClaimResult{HasWaybill: true, Recorded: mw.w}, nil
	}
	if c, ok := r.claims[req.OrderCode]; ok && c.owner != req.Owner && now.Before(c.expires) {
		return ClaimResult{}, nil
	}
	r.claims[req.OrderCode] = memoryClaim{owner: req.Owner, expires: now.Add(req.Lease)}
	return ClaimResult{Held: true}, nil
}

func (r *memoryRegistry) unclaim(_ context.Context, req ClaimRequest) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if c, ok := r.claims[req.OrderCode]; ok && c.owner == req.Owner {
		delete(r.claims, req.OrderCode)
	}
	return nil
}
