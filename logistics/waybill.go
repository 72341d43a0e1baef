package logistics

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"strconv"
	"sync"
	"time"

	"golang.org/x/sync/errgroup"

	"github.com/shopkit/shopkit/internal/keyspace"
)

// ErrWaybillInProgress is a result's error when another batch holds the
// order code's claim: it is creating that waybill now. Retry the batch
// after the claim's lease; the waybill will then be reused.
var ErrWaybillInProgress = errors.New("logistics: another batch is creating this waybill")

// WaybillExistsError is returned by Record when the order code already has
// another waybill: the first recorded stays.
type WaybillExistsError struct {
	Existing Waybill
}

// Error implements error.
func (e *WaybillExistsError) Error() string {
	return "logistics: order " + e.Existing.OrderCode + " already has waybill " + e.Existing.Number
}

// WaybillRequest asks a carrier for a waybill for one shipment. OrderCode
// identifies it: a retried batch never creates a second waybill for it.
type WaybillRequest struct {
	OrderCode string
	Service   string
	Recipient Recipient
	Parcel    Parcel
}

// Waybill is a carrier's shipping label.
type Waybill struct {
	OrderCode string
	Number    string
}

// WaybillResult is the outcome for one request of a batch.
type WaybillResult struct {
	OrderCode string
	Waybill   Waybill
	Err       error
	// Reused is true when the waybill was created by an earlier run.
	Reused bool
}

// Carrier is a carrier's waybill API. Create handles one chunk and returns
// one result per request, in order; some may fail while others succeed.
type Carrier interface {
	Create(ctx context.Context, reqs []WaybillRequest) []WaybillResult
	Cancel(ctx context.Context, number string) error
}

// WaybillRegistry remembers the waybills created per order code, so a
// retried batch reuses them. A *Registry from NewMemoryRegistry is the
// in-process one, from NewRedisRegistry the shared, durable one; a service
// may back the interface with its database. Record keeps the first waybill of an order code: recording
// another returns a *WaybillExistsError naming the first.
type WaybillRegistry interface {
	Lookup(ctx context.Context, orderCode string) (Waybill, bool, error)
	Record(ctx context.Context, w Waybill) error
}

// WaybillClaimer is a registry that also lets a batch claim an order code
// while it asks the carrier, so two batches running at once (two
// instances, or a retry racing a slow first run) never both create a
// waybill for one order. CreateWaybills claims each order code it sends
// when its registry is a WaybillClaimer; *Registry is one.
type WaybillClaimer interface {
	WaybillRegistry
	// Claim takes the order code for the request's owner until the lease
	// runs out, or renews the owner's claim. It holds nothing when the
	// order already has a waybill (returned) or another owner holds it.
	Claim(ctx context.Context, req ClaimRequest) (ClaimResult, error)
	// Unclaim lets go of the owner's claim, so a retry need not wait out
	// the lease; Record lets go of it too. Lease is ignored.
	Unclaim(ctx context.Context, req ClaimRequest) error
}

// ClaimRequest names an order code, who claims it and for how long.
type ClaimRequest struct {
	OrderCode string
	Owner     string
	Lease     time.Duration
}

// ClaimResult is the outcome of a Claim.
type ClaimResult struct {
	// Held is true when the owner holds the claim now.
	Held bool
	// HasWaybill is true when the order already has a waybill: Recorded.
	HasWaybill bool
	Recorded   Waybill
}

// BatchOptions configure CreateWaybills. The zero value means the defaults.
type BatchOptions struct {
	ChunkSize   int // requests per carrier call; default 50
	Concurrency int // carrier calls in flight; default 4
	// ClaimLease is how long a claim on an order code lasts when the
	// registry is a WaybillClaimer: longer than a carrier call may take.
	// Default 2 minutes.
	ClaimLease time.Duration
}

// CreateWaybills creates waybills for reqs in chunks, with bounded
// concurrency, and returns one result per request in order. Order codes
// already in the registry are not sent again; duplicates within reqs are
// sent once. A failed request has Err set; the others still succeed.
//
// With a WaybillClaimer registry each order code is claimed before it is
// sent (a code another batch holds gets ErrWaybillInProgress) and its
// claim let go when the carrier refuses it. Should a waybill still be
// created twice — a claim outlived by a carrier call slower than
// ClaimLease — the registry keeps the first, CreateWaybills cancels the
// second with the carrier and reports the first as Reused.
func CreateWaybills(ctx context.Context, c Carrier, reg WaybillRegistry, reqs []WaybillRequest, opts BatchOptions) []WaybillResult {
	if opts.ChunkSize <= 0 {
		opts.ChunkSize = 50
	}
	if opts.Concurrency <= 0 {
		opts.Concurrency = 4
	}
	if opts.ClaimLease <= 0 {
		opts.ClaimLease = 2 * time.Minute
	}
	claimer, _ := reg.(WaybillClaimer)
	owner := newOwner()
	results := make([]WaybillResult, len(reqs))
	var todo []int
	first := map[string]int{}
	for i, r := range reqs {
		results[i].OrderCode = r.OrderCode
		if rule := keyspace.CheckID(r.OrderCode); rule != "" {
			results[i].Err = &InputError{Field: "Requests[" + strconv.Itoa(i) + "].OrderCode", Rule: rule}
			continue
		}
		if j, dup := first[r.OrderCode]; dup {
			results[i].Err = fmt.Errorf("logistics: order %s is also request %d: %w", r.OrderCode, j, errDuplicate)
			continue
		}
		first[r.OrderCode] = i
		w, ok, err := reg.Lookup(ctx, r.OrderCode)
		switch {
		case err != nil:
			results[i].Err = err
		case ok:
			results[i].Waybill, results[i].Reused = w, true
		default:
			todo = append(todo, i)
		}
	}
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(opts.Concurrency)
	for start := 0; start < len(todo); start += opts.ChunkSize {
		chunk := todo[start:min(start+opts.ChunkSize, len(todo))]
		g.Go(func() error {
			if claimer != nil {
				chunk = claimChunk(gctx, claimer, owner, opts.ClaimLease, reqs, chunk, results)
				if len(chunk) == 0 {
					return nil
				}
			}
			batch := make([]WaybillRequest, len(chunk))
			for k, i := range chunk {
				batch[k] = reqs[i]
			}
			out := c.Create(gctx, batch)
			for k, i := range chunk {
				if k >= len(out) {
					results[i].Err = errors.New("logistics: carrier returned too few results")
				} else {
					results[i].Waybill, results[i].Err = out[k].Waybill, out[k].Err
				}
				if results[i].Err != nil {
					if claimer != nil {
						_ = claimer.Unclaim(gctx, ClaimRequest{OrderCode: reqs[i].OrderCode, Owner: owner}) // the lease lets go of it otherwise
					}
					continue
				}
				err := reg.Record(gctx, results[i].Waybill)
				var exists *WaybillExistsError
				if errors.As(err, &exists) {
					// Another batch's waybill won: ours is a duplicate.
					if cerr := c.Cancel(gctx, results[i].Waybill.Number); cerr != nil {
						err = fmt.Errorf("logistics: order %s got a second waybill %s that could not be cancelled: %w", reqs[i].OrderCode, results[i].Waybill.Number, cerr)
					} else {
						results[i].Waybill, results[i].Reused, err = exists.Existing, true, nil
					}
				}
				results[i].Err = err
			}
			return nil
		})
	}
	_ = g.Wait() // per-item errors are in results
	return results
}

var errDuplicate = errors.New("duplicate order code in batch")

// claimChunk claims the chunk's order codes and returns those it holds;
// the others get their result: Reused, ErrWaybillInProgress or the
// registry's error.
func claimChunk(ctx context.Context, claimer WaybillClaimer, owner string, lease time.Duration, reqs []WaybillRequest, chunk []int, results []WaybillResult) []int {
	held := chunk[:0:0]
	for _, i := range chunk {
		cr, err := claimer.Claim(ctx, ClaimRequest{OrderCode: reqs[i].OrderCode, Owner: owner, Lease: lease})
		switch {
		case err != nil:
			results[i].Err = err
		case cr.HasWaybill:
			results[i].Waybill, results[i].Reused = cr.Recorded, true
		case !cr.Held:
			results[i].Err = fmt.Errorf("logistics: order %s: %w", reqs[i].OrderCode, ErrWaybillInProgress)
		default:
			held = append(held, i)
		}
	}
	return held
}

// newOwner names one CreateWaybills call in the claims it takes.
func newOwner() string {
	var b [12]byte
	_, _ = rand.Read(b[:]) // crypto/rand.Read never fails (Go 1.24+)
	return hex.EncodeToString(b[:])
}

// FakeCarrier is a Carrier for tests and examples: it numbers waybills,
// fails the order codes in Fail (once each, unless Always), and refuses to
// create a second waybill for an order code, which makes idempotency bugs
// loud.
type FakeCarrier struct {
	Fail   map[string]bool
	Always bool

	mu       sync.Mutex
	seq      int
	created  map[string]string
	Calls    int // Create calls made
	Canceled []string
}

// Create implements Carrier.
func (f *FakeCarrier) Create(_ context.Context, reqs []WaybillRequest) []WaybillResult {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.Calls++
	if f.created == nil {
		f.created = map[string]string{}
	}
	out := make([]WaybillResult, len(reqs))
	for i, r := range reqs {
		out[i].OrderCode = r.OrderCode
		if f.Fail[r.OrderCode] {
			if !f.Always {
				delete(f.Fail, r.OrderCode)
			}
			out[i].Err = errors.New("fake carrier: address rejected for " + r.OrderCode)
			continue
		}
		if n, dup := f.created[r.OrderCode]; dup {
			out[i].Err = errors.New("fake carrier: second waybill requested for " + r.OrderCode + " (already " + n + ")")
			continue
		}
		f.seq++
		n := "FK" + strconv.Itoa(100000+f.seq)
		f.created[r.OrderCode] = n
		out[i].Waybill = Waybill{OrderCode: r.OrderCode, Number: n}
	}
	return out
}

// Cancel implements Carrier.
func (f *FakeCarrier) Cancel(_ context.Context, number string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.Canceled = append(f.Canceled, number)
	return nil
}

// Created returns how many waybills were created.
func (f *FakeCarrier) Created() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return len(f.created)
}
