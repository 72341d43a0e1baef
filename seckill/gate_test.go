package seckill_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/shopkit/shopkit/internal/redistest"
	"github.com/shopkit/shopkit/seckill"
)

// TestSoldOutSpreadsToOtherInstances: two gates share a Redis; once one
// sells the sale out, the other answers sold out from memory, and both
// reopen when an unpaid ticket expires.
func TestSoldOutSpreadsToOtherInstances(t *testing.T) {
	client := redistest.Client(t)
	prefix := redistest.Prefix(t, client)
	a, err := seckill.NewRedisGate(client, seckill.GateOptions{Prefix: prefix})
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	b, err := seckill.NewRedisGate(client, seckill.GateOptions{Prefix: prefix})
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	ctx := context.Background()
	now := time.Now()
	s := seckill.Sale{ID: "spread", SKU: "x", Units: 1, Start: now.Add(-time.Minute), End: now.Add(time.Hour), PerUserLimit: 1, PayWithin: 50 * time.Millisecond}
	if err := a.Open(ctx, s); err != nil {
		t.Fatal(err)
	}
	if adm, _ := a.Admit(ctx, seckill.AdmitRequest{SaleID: "spread", UserID: "u1", RequestID: "r1", Quantity: 1}); adm.Outcome != seckill.Admitted {
		t.Fatal(adm)
	}
	if adm, _ := a.Admit(ctx, seckill.AdmitRequest{SaleID: "spread", UserID: "u2", RequestID: "r2", Quantity: 1}); adm.Outcome != seckill.SoldOut {
		t.Fatal(adm)
	}
	// b learns it without asking Redis: its answer is sold out even for a
	// request that would otherwise be an error (an unknown user format is
	// not checked on the fast path).
	waitFor(t, func() bool {
		adm, err := b.Admit(ctx, seckill.AdmitRequest{SaleID: "spread", UserID: "u3", RequestID: "r3", Quantity: 1})
		return err == nil && adm.Outcome == seckill.SoldOut && !adm.Replayed
	})
	time.Sleep(100 * time.Millisecond)
	if n, err := a.Sweep(ctx, "spread"); err != nil || n != 1 {
		t.Fatalf("Sweep = %d, %v", n, err)
	}
	waitFor(t, func() bool {
		adm, err := b.Admit(ctx, seckill.AdmitRequest{SaleID: "spread", UserID: "u4", RequestID: fmt.Sprintf("r4-%d", time.Now().UnixNano()), Quantity: 1})
		return err == nil && adm.Outcome == seckill.Admitted
	})
}

func waitFor(t *testing.T, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatal("condition not met within 5s")
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// TestGateRedisRestart: the server restarts in the middle of a sale; calls
// fail meanwhile, and afterwards remaining + held + paid = units.
func TestGateRedisRestart(t *testing.T) {
	m, _ := redistest.Embedded(t)
	// No retries, so each call during the outage fails fast.
	client := redis.NewClient(&redis.Options{Addr: m.Addr(), MaxRetries: -1})
	defer client.Close()
	g, err := seckill.NewRedisGate(client, seckill.GateOptions{Prefix: "restart"})
	if err != nil {
		t.Fatal(err)
	}
	defer g.Close()
	ctx := context.Background()
	now := time.Now()
	if err := g.Open(ctx, seckill.Sale{ID: "s", SKU: "x", Units: 500, Start: now.Add(-time.Minute), End: now.Add(time.Hour), PerUserLimit: 1}); err != nil {
		t.Fatal(err)
	}
	failures := 0
	for i := 0; i < 600; i++ {
		if i == 200 {
			m.Close()
		}
		if i == 205 {
			if err := m.Restart(); err != nil {
				t.Fatal(err)
			}
			waitReachable(t, client)
		}
		user := fmt.Sprintf("u%d", i)
		if _, err := g.Admit(ctx, seckill.AdmitRequest{SaleID: "s", UserID: user, RequestID: user, Quantity: 1}); err != nil {
			failures++
		}
	}
	if failures == 0 {
		t.Fatal("no admission failed while the server was down")
	}
	st, err := g.Status(ctx, "s")
	if err != nil {
		t.Fatal(err)
	}
	if st.Remaining+st.Held+st.Paid != st.Units || st.Remaining < 0 {
		t.Fatalf("after restart: %+v", st)
	}
	t.Logf("%d admissions failed during the outage; status %+v", failures, st)
}

func waitReachable(t *testing.T, c redis.UniversalClient) {
	t.Helper()
	waitFor(t, func() bool { return c.Ping(context.Background()).Err() == nil })
}

// fixedSource allocates from a fixed stock once per sale.
type fixedSource struct {
	stock   int64
	given   map[string]int64
	settled map[string][2]int64
}

func (f *fixedSource) Allocate(_ context.Context, saleID, _ string, units int64) (int64, error) {
	if n, ok := f.given[saleID]; ok {
		return n, nil
	}
	n := min(units, f.stock)
	f.stock -= n
	f.given[saleID] = n
	return n, nil
}

// Settle returns the unsold units to the stock, once per sale.
func (f *fixedSource) Settle(_ context.Context, saleID, _ string, sold, unsold int64) error {
	if f.settled == nil {
		f.settled = map[string][2]int64{}
	}
	if _, done := f.settled[saleID]; !done {
		f.settled[saleID] = [2]int64{sold, unsold}
		f.stock += unsold
	}
	return nil
}

func TestOpenFrom(t *testing.T) {
	g := seckill.NewMemoryGate(seckill.GateOptions{})
	src := &fixedSource{stock: 60, given: map[string]int64{}}
	now := time.Now()
	s := seckill.Sale{ID: "warm", SKU: "x", Units: 100, Start: now.Add(-time.Minute), End: now.Add(time.Hour), PerUserLimit: 1}
	opened, err := g.OpenFrom(context.Background(), s, src)
	if err != nil || opened.Units != 60 {
		t.Fatalf("OpenFrom = %+v, %v; want 60 units, all the source had", opened, err)
	}
	// Idempotent: the source answers the same, the gate is already open.
	if again, err := g.OpenFrom(context.Background(), s, src); err != nil || again.Units != 60 {
		t.Fatalf("second OpenFrom = %+v, %v", again, err)
	}
	st, _ := g.Status(context.Background(), "warm")
	if st.Units != 60 || src.stock != 0 {
		t.Fatalf("status %+v, source left %d", st, src.stock)
	}
}
