package seckill

import (
	"context"
	"testing"
	"time"

	"github.com/shopkit/shopkit/internal/redistest"
)

// TestMissedReopenRecovers: a gate that misses the announcement that a
// sold-out sale reopened admits buyers again within its recheck interval
// (the default, 1 s).
//
// Regression: the sold-out flag stayed until an announcement cleared it,
// so a message missed during a pub/sub reconnect kept a gate answering
// "sold out" while stock existed.
func TestMissedReopenRecovers(t *testing.T) {
	client := redistest.Client(t)
	prefix := redistest.Prefix(t, client)
	ctx := context.Background()
	b, err := NewRedisGate(client, GateOptions{Prefix: prefix})
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	// a shares b's sales but announces where b does not listen: every
	// announcement of a is one b missed.
	ra := &redisGate{client: client, prefix: prefix, channel: prefix + ":elsewhere"}
	a := newGate(ra, GateOptions{})
	ra.listen(a)
	defer a.Close()

	now := time.Now()
	s := Sale{ID: "s", SKU: "x", Units: 1, PerUserLimit: 1, Start: now.Add(-time.Minute), End: now.Add(time.Hour), PayWithin: 50 * time.Millisecond}
	if err := b.Open(ctx, s); err != nil {
		t.Fatal(err)
	}
	if adm, err := b.Admit(ctx, AdmitRequest{SaleID: "s", UserID: "u1", RequestID: "r1", Quantity: 1}); err != nil || adm.Outcome != Admitted {
		t.Fatalf("first buyer: %+v, %v", adm, err)
	}
	if adm, err := b.Admit(ctx, AdmitRequest{SaleID: "s", UserID: "u2", RequestID: "r2", Quantity: 1}); err != nil || adm.Outcome != SoldOut {
		t.Fatalf("second buyer: %+v, %v; want sold out", adm, err)
	}
	time.Sleep(100 * time.Millisecond)
	if n, err := a.Sweep(ctx, "s"); err != nil || n != 1 {
		t.Fatalf("Sweep = %d, %v; want the unpaid ticket expired", n, err)
	}
	start := time.Now()
	for {
		adm, err := b.Admit(ctx, AdmitRequest{SaleID: "s", UserID: "u3", RequestID: "r3", Quantity: 1})
		if err != nil {
			t.Fatal(err)
		}
		if adm.Outcome == Admitted {
			break
		}
		if waited := time.Since(start); waited > defaultSoldOutRecheck+500*time.Millisecond {
			t.Fatalf("still %v after %v with the unit back in stock", adm.Outcome, waited)
		}
		time.Sleep(20 * time.Millisecond)
	}
}
