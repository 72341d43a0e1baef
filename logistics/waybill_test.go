package logistics_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/shopkit/shopkit/internal/redistest"
	"github.com/shopkit/shopkit/logistics"
)

func TestCreateWaybills(t *testing.T) {
	ctx := context.Background()
	carrier := &logistics.FakeCarrier{Fail: map[string]bool{"o007": true, "o042": true}}
	reg := logistics.NewMemoryRegistry(logistics.RegistryOptions{})
	var reqs []logistics.WaybillRequest
	for i := 0; i < 120; i++ {
		reqs = append(reqs, logistics.WaybillRequest{OrderCode: fmt.Sprintf("o%03d", i)})
	}
	reqs = append(reqs, logistics.WaybillRequest{OrderCode: "o001"}) // a duplicate in the batch

	res := logistics.CreateWaybills(ctx, carrier, reg, reqs, logistics.BatchOptions{ChunkSize: 25, Concurrency: 3})
	failed := 0
	for _, r := range res {
		if r.Err != nil {
			failed++
		}
	}
	if failed != 3 || carrier.Created() != 118 || carrier.Calls != 5 {
		t.Fatalf("failed %d, created %d, calls %d; want 3 (two rejected, one duplicate), 118, 5 chunks", failed, carrier.Created(), carrier.Calls)
	}
	if res[7].Err == nil || res[8].Err != nil || res[8].Waybill.Number == "" {
		t.Fatalf("per-item results out of place: %+v %+v", res[7], res[8])
	}

	// Retry the whole batch: only the two failures are sent, and nobody
	// gets a second waybill (the fake carrier would refuse).
	res = logistics.CreateWaybills(ctx, carrier, reg, reqs[:120], logistics.BatchOptions{ChunkSize: 25, Concurrency: 3})
	reused := 0
	for _, r := range res {
		if r.Err != nil {
			t.Fatalf("retry: %v", r.Err)
		}
		if r.Reused {
			reused++
		}
	}
	if reused != 118 || carrier.Created() != 120 {
		t.Fatalf("retry reused %d, created %d; want 118 and 120", reused, carrier.Created())
	}
}

// registries returns each backend of the waybill registry: Memory, Redis,
// Redis with every script resent, and Redis Cluster. fresh returns another
// registry over the same state, as a restarted instance sees it.
func registries(t *testing.T) map[string]func() logistics.WaybillClaimer {
	redisOn := func(c redis.UniversalClient) func() logistics.WaybillClaimer {
		prefix := redistest.Prefix(t, c)
		return func() logistics.WaybillClaimer {
			r, err := logistics.NewRedisRegistry(c, logistics.RegistryOptions{Prefix: prefix})
			if err != nil {
				t.Fatal(err)
			}
			return r
		}
	}
	mem := logistics.NewMemoryRegistry(logistics.RegistryOptions{})
	out := map[string]func() logistics.WaybillClaimer{
		"memory": func() logistics.WaybillClaimer { return mem },
		"redis":  redisOn(redistest.Client(t)),
	}
	if !testing.Short() {
		out["redis-resent"] = redisOn(redistest.Resending(t, redistest.Client(t)))
	}
	if os.Getenv("REDIS_CLUSTER_ADDRS") != "" || redistest.InCI() {
		out["cluster"] = redisOn(redistest.Cluster(t))
	}
	return out
}

// TestWaybillRegistry: the first waybill recorded stays; claims exclude
// other owners until let go or recorded; a recorded order cannot be
// claimed.
func TestWaybillRegistry(t *testing.T) {
	ctx := context.Background()
	for name, fresh := range registries(t) {
		t.Run(name, func(t *testing.T) {
			reg := fresh()
			if _, ok, err := reg.Lookup(ctx, "o1"); ok || err != nil {
				t.Fatalf("lookup before record: %v %v", ok, err)
			}
			if cr, err := reg.Claim(ctx, logistics.ClaimRequest{OrderCode: "o1", Owner: "a", Lease: time.Minute}); err != nil || !cr.Held {
				t.Fatalf("claim: %+v %v", cr, err)
			}
			if cr, err := reg.Claim(ctx, logistics.ClaimRequest{OrderCode: "o1", Owner: "b", Lease: time.Minute}); err != nil || cr.Held || cr.HasWaybill {
				t.Fatalf("second owner's claim: %+v %v; want busy", cr, err)
			}
			if err := reg.Unclaim(ctx, logistics.ClaimRequest{OrderCode: "o1", Owner: "b"}); err != nil {
				t.Fatal(err)
			}
			if cr, _ := reg.Claim(ctx, logistics.ClaimRequest{OrderCode: "o1", Owner: "a", Lease: time.Minute}); !cr.Held {
				t.Fatal("another owner's unclaim dropped a's claim")
			}
			if err := reg.Record(ctx, logistics.Waybill{OrderCode: "o1", Number: "W1"}); err != nil {
				t.Fatal(err)
			}
			if err := reg.Record(ctx, logistics.Waybill{OrderCode: "o1", Number: "W1"}); err != nil {
				t.Fatalf("recording the same waybill again: %v", err)
			}
			var exists *logistics.WaybillExistsError
			if err := reg.Record(ctx, logistics.Waybill{OrderCode: "o1", Number: "W2"}); !errors.As(err, &exists) || exists.Existing.Number != "W1" {
				t.Fatalf("recording a second waybill: %v", err)
			}
			if cr, err := reg.Claim(ctx, logistics.ClaimRequest{OrderCode: "o1", Owner: "b", Lease: time.Minute}); err != nil || cr.Held || !cr.HasWaybill || cr.Recorded.Number != "W1" {
				t.Fatalf("claim of a recorded order: %+v %v", cr, err)
			}
			if w, ok, err := fresh().Lookup(ctx, "o1"); !ok || err != nil || w.Number != "W1" {
				t.Fatalf("lookup from a fresh registry: %+v %v %v", w, ok, err)
			}
			// Unclaim lets another owner in at once; a lapsed lease does too.
			if cr, _ := reg.Claim(ctx, logistics.ClaimRequest{OrderCode: "o2", Owner: "a", Lease: time.Minute}); !cr.Held {
				t.Fatal("claim o2")
			}
			if err := reg.Unclaim(ctx, logistics.ClaimRequest{OrderCode: "o2", Owner: "a"}); err != nil {
				t.Fatal(err)
			}
			if cr, _ := reg.Claim(ctx, logistics.ClaimRequest{OrderCode: "o2", Owner: "b", Lease: 50 * time.Millisecond}); !cr.Held {
				t.Fatal("claim after unclaim")
			}
			time.Sleep(120 * time.Millisecond)
			if cr, _ := reg.Claim(ctx, logistics.ClaimRequest{OrderCode: "o2", Owner: "c", Lease: time.Minute}); !cr.Held {
				t.Fatal("claim after the lease lapsed")
			}
		})
	}
}

// TestCreateWaybillsAcrossInstances: two instances run the same batch at
// once against one carrier and a shared registry; no order gets two
// waybills (the fake carrier would refuse), each request either gets its
// waybill or ErrWaybillInProgress, and a retry from a restarted instance
// completes the batch without sending anything twice.
func TestCreateWaybillsAcrossInstances(t *testing.T) {
	ctx := context.Background()
	for name, fresh := range registries(t) {
		if name == "memory" {
			continue // one process: the memory registry is not shared across instances
		}
		t.Run(name, func(t *testing.T) {
			carrier := &slowCarrier{FakeCarrier: &logistics.FakeCarrier{}, delay: 20 * time.Millisecond}
			var reqs []logistics.WaybillRequest
			for i := range 60 {
				reqs = append(reqs, logistics.WaybillRequest{OrderCode: fmt.Sprintf("x%03d", i)})
			}
			var wg sync.WaitGroup
			runs := make([][]logistics.WaybillResult, 2)
			for k := range runs {
				wg.Go(func() {
					runs[k] = logistics.CreateWaybills(ctx, carrier, fresh(), reqs, logistics.BatchOptions{ChunkSize: 10, Concurrency: 2})
				})
			}
			wg.Wait()
			for k, res := range runs {
				for _, r := range res {
					if r.Err != nil && !errors.Is(r.Err, logistics.ErrWaybillInProgress) {
						t.Fatalf("instance %d, %s: %v", k, r.OrderCode, r.Err)
					}
				}
			}
			res := logistics.CreateWaybills(ctx, carrier, fresh(), reqs, logistics.BatchOptions{})
			for _, r := range res {
				if r.Err != nil || !r.Reused {
					t.Fatalf("retry, %s: %+v", r.OrderCode, r)
				}
			}
			if carrier.Created() != 60 {
				t.Fatalf("created %d waybills for 60 orders", carrier.Created())
			}
		})
	}
}

// TestCreateWaybillsCancelsDuplicate: when a carrier call outlasts the
// claim's lease and a second batch creates the same order's waybill, the
// registry keeps the first and the second batch cancels its own.
func TestCreateWaybillsCancelsDuplicate(t *testing.T) {
	ctx := context.Background()
	for name, fresh := range registries(t) {
		t.Run(name, func(t *testing.T) {
			reg := fresh()
			carrier := &lenientCarrier{}
			req := []logistics.WaybillRequest{{OrderCode: "d1"}}
			// A first batch claims, then stalls past its lease.
			if cr, _ := reg.Claim(ctx, logistics.ClaimRequest{OrderCode: "d1", Owner: "stalled", Lease: 30 * time.Millisecond}); !cr.Held {
				t.Fatal("claim")
			}
			time.Sleep(60 * time.Millisecond)
			res := logistics.CreateWaybills(ctx, carrier, reg, req, logistics.BatchOptions{})
			if res[0].Err != nil || res[0].Reused {
				t.Fatalf("second batch: %+v", res[0])
			}
			// The stalled batch's carrier call returns with its own waybill.
			var exists *logistics.WaybillExistsError
			if err := reg.Record(ctx, logistics.Waybill{OrderCode: "d1", Number: "LATE"}); !errors.As(err, &exists) {
				t.Fatalf("late record: %v", err)
			}
			// CreateWaybills cancels a duplicate it made itself.
			if err := reg.Record(ctx, logistics.Waybill{OrderCode: "d2", Number: "FIRST"}); err != nil {
				t.Fatal(err)
			}
			res = logistics.CreateWaybills(ctx, carrier, &blindRegistry{reg}, []logistics.WaybillRequest{{OrderCode: "d2"}}, logistics.BatchOptions{})
			if res[0].Err != nil || !res[0].Reused || res[0].Waybill.Number != "FIRST" || len(carrier.canceled) != 1 {
				t.Fatalf("duplicate: %+v, cancelled %v", res[0], carrier.canceled)
			}
		})
	}
}

// slowCarrier is a FakeCarrier whose calls take a while, so concurrent
// batches overlap.
type slowCarrier struct {
	*logistics.FakeCarrier
	delay time.Duration
}

func (s *slowCarrier) Create(ctx context.Context, reqs []logistics.WaybillRequest) []logistics.WaybillResult {
	time.Sleep(s.delay)
	return s.FakeCarrier.Create(ctx, reqs)
}

// lenientCarrier creates a waybill every time it is asked, as a real
// carrier without idempotency keys does.
type lenientCarrier struct {
	mu       sync.Mutex
	n        int
	canceled []string
}

func (c *lenientCarrier) Create(_ context.Context, reqs []logistics.WaybillRequest) []logistics.WaybillResult {
	c.mu.Lock()
	defer c.mu.Unlock()
	out := make([]logistics.WaybillResult, len(reqs))
	for i, r := range reqs {
		c.n++
		out[i] = logistics.WaybillResult{OrderCode: r.OrderCode, Waybill: logistics.Waybill{OrderCode: r.OrderCode, Number: fmt.Sprint("L", c.n)}}
	}
	return out
}

func (c *lenientCarrier) Cancel(_ context.Context, number string) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.canceled = append(c.canceled, number)
	return nil
}

// blindRegistry hides the recorded waybills from Lookup and Claim, as a
// registry does when another batch records between this batch's claim and
// its record.
type blindRegistry struct{ logistics.WaybillClaimer }

func (b *blindRegistry) Lookup(context.Context, string) (logistics.Waybill, bool, error) {
	return logistics.Waybill{}, false, nil
}

func (b *blindRegistry) Claim(context.Context, logistics.ClaimRequest) (logistics.ClaimResult, error) {
	return logistics.ClaimResult{Held: true}, nil
}
