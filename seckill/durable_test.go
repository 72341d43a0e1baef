package seckill_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/shopkit/shopkit/internal/redistest"
	"github.com/shopkit/shopkit/seckill"
)

// TestWaitReplicas: with WaitReplicas an admission is reported only once a
// replica has it; without a replica in time the buyer gets
// ErrNotReplicated, and replaying the request once the replica is back
// returns the ticket.
func TestWaitReplicas(t *testing.T) {
	master, replica := redistest.Replicated(t)
	ctx := context.Background()
	g, err := seckill.NewRedisGate(master, seckill.GateOptions{WaitReplicas: 1, WaitTimeout: 300 * time.Millisecond, Prefix: redistest.Prefix(t, master)})
	if err != nil {
		t.Fatal(err)
	}
	defer g.Close()
	now := time.Now()
	if err := g.Open(ctx, seckill.Sale{ID: "s", SKU: "x", Units: 5, PerUserLimit: 1, Start: now.Add(-time.Minute), End: now.Add(time.Hour)}); err != nil {
		t.Fatal(err)
	}
	if a, err := g.Admit(ctx, seckill.AdmitRequest{SaleID: "s", UserID: "u1", RequestID: "r1", Quantity: 1}); err != nil || a.Outcome != seckill.Admitted {
		t.Fatalf("Admit: %+v, %v", a, err)
	}
	reattach := redistest.Detach(t, master, replica)
	if _, err := g.Admit(ctx, seckill.AdmitRequest{SaleID: "s", UserID: "u2", RequestID: "r2", Quantity: 1}); !errors.Is(err, seckill.ErrNotReplicated) {
		t.Fatalf("Admit without a replica: %v, want ErrNotReplicated", err)
	}
	reattach()
	if a, err := g.Admit(ctx, seckill.AdmitRequest{SaleID: "s", UserID: "u2", RequestID: "r2", Quantity: 1}); err != nil || a.Outcome != seckill.Admitted || !a.Replayed {
		t.Fatalf("replay once the replica is back: %+v, %v; want admitted, replayed", a, err)
	}
}

// TestLockWaitReplicas: with WaitReplicas a lock is granted only once a
// replica has the grant (and its fencing token); without a replica in time
// Obtain returns ErrNotReplicated.
func TestLockWaitReplicas(t *testing.T) {
	master, replica := redistest.Replicated(t)
	ctx := context.Background()
	lk, err := seckill.NewRedisLocker(master, seckill.LockerOptions{Prefix: redistest.Prefix(t, master), WaitReplicas: 1, WaitTimeout: 300 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	l, err := lk.Obtain(ctx, "job", time.Minute, seckill.ObtainOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if err := l.Release(ctx); err != nil {
		t.Fatal(err)
	}
	redistest.Detach(t, master, replica)
	if _, err := lk.Obtain(ctx, "job", time.Minute, seckill.ObtainOptions{}); !errors.Is(err, seckill.ErrNotReplicated) {
		t.Fatalf("Obtain without a replica: %v, want ErrNotReplicated", err)
	}
}
