package logistics

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"sync"

	"golang.org/x/sync/errgroup"
)

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
// retried batch reuses them. MemoryRegistry is the in-process one; a
// service backs it with its database.
type WaybillRegistry interface {
	Lookup(ctx context.Context, orderCode string) (Waybill, bool, error)
	Record(ctx context.Context, w Waybill) error
}

// MemoryRegistry is a process-local WaybillRegistry.
type MemoryRegistry struct {
	mu sync.Mutex
	m  map[string]Waybill
}

// Lookup implements WaybillRegistry.
func (r *MemoryRegistry) Lookup(_ context.Context, code string) (Waybill, bool, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	w, ok := r.m[code]
	return w, ok, nil
}

// Record implements WaybillRegistry.
func (r *MemoryRegistry) Record(_ context.Context, w Waybill) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.m == nil {
		r.m = map[string]Waybill{}
	}
	r.m[w.OrderCode] = w
	return nil
}

// BatchOptions configure CreateWaybills. The zero value means the defaults.
type BatchOptions struct {
	ChunkSize   int // requests per carrier call; default 50
	Concurrency int // carrier calls in flight; default 4
}

// CreateWaybills creates waybills for reqs in chunks, with bounded
// concurrency, and returns one result per request in order. Order codes
// already in the registry are not sent again; duplicates within reqs are
// sent once. A failed request has Err set; the others still succeed.
func CreateWaybills(ctx context.Context, c Carrier, reg WaybillRegistry, reqs []WaybillRequest, opts BatchOptions) []WaybillResult {
	if opts.ChunkSize <= 0 {
		opts.ChunkSize = 50
	}
	if opts.Concurrency <= 0 {
		opts.Concurrency = 4
	}
	results := make([]WaybillResult, len(reqs))
	var todo []int
	first := map[string]int{}
	for i, r := range reqs {
		results[i].OrderCode = r.OrderCode
		if r.OrderCode == "" {
			results[i].Err = &InputError{Field: "Requests[" + strconv.Itoa(i) + "].OrderCode", Rule: "must not be empty"}
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
			batch := make([]WaybillRequest, len(chunk))
			for k, i := range chunk {
				batch[k] = reqs[i]
			}
			out := c.Create(gctx, batch)
			for k, i := range chunk {
				if k >= len(out) {
					results[i].Err = errors.New("logistics: carrier returned too few results")
					continue
				}
				results[i].Waybill, results[i].Err = out[k].Waybill, out[k].Err
				if out[k].Err == nil {
					if err := reg.Record(gctx, out[k].Waybill); err != nil {
						results[i].Err = err
					}
				}
			}
			return nil
		})
	}
	_ = g.Wait() // per-item errors are in results
	return results
}

var errDuplicate = errors.New("duplicate order code in batch")

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
