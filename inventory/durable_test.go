package inventory_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/shopkit/shopkit/internal/redistest"
	"github.com/shopkit/shopkit/inventory"
)

// TestWaitReplicas: with WaitReplicas a reservation is reported only once
// a replica has it; without a replica in time the caller gets
// ErrNotReplicated, and replaying the ID once the replica is back returns
// the reservation.
func TestWaitReplicas(t *testing.T) {
	master, replica := redistest.Replicated(t)
	ctx := context.Background()
	prefix := redistest.Prefix(t, master)
	s, err := inventory.NewRedis(master, inventory.Options{Prefix: prefix, WaitReplicas: 1, WaitTimeout: 300 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if _, err := s.Adjust(ctx, inventory.Adjustment{ID: "in", SKU: "tee", Location: "wh", Delta: 10, Reason: inventory.ReasonReceipt}); err != nil {
		t.Fatal(err)
	}
	req := inventory.Request{ID: "r1", TTL: time.Minute, Lines: []inventory.Line{{SKU: "tee", Location: "wh", Quantity: 3}}}
	if _, err := s.Reserve(ctx, req); err != nil {
		t.Fatal(err)
	}
	if n, err := replica.HLen(ctx, "{"+prefix+"}:res").Result(); err != nil || n != 1 {
		t.Fatalf("replica holds %d records, %v; want the acknowledged reservation", n, err)
	}

	reattach := redistest.Detach(t, master, replica)
	req2 := inventory.Request{ID: "r2", TTL: time.Minute, Lines: []inventory.Line{{SKU: "tee", Location: "wh", Quantity: 2}}}
	if _, err := s.Reserve(ctx, req2); !errors.Is(err, inventory.ErrNotReplicated) {
		t.Fatalf("Reserve without a replica: %v, want ErrNotReplicated", err)
	}
	if _, err := s.Commit(ctx, "r1"); !errors.Is(err, inventory.ErrNotReplicated) {
		t.Fatalf("Commit without a replica: %v, want ErrNotReplicated", err)
	}

	reattach()
	if r, err := s.Reserve(ctx, req2); err != nil || !r.Replayed {
		t.Fatalf("replay once the replica is back: %+v, %v; want the reservation, replayed", r, err)
	}
	if r, err := s.Commit(ctx, "r1"); err != nil || r.State != inventory.Committed {
		t.Fatalf("commit replayed: %+v, %v", r, err)
	}
}

func TestWaitReplicasChecked(t *testing.T) {
	c := redistest.Client(t)
	if _, err := inventory.NewRedis(c, inventory.Options{WaitReplicas: 1}); err != nil {
		t.Fatalf("standalone client: %v", err)
	}
	if _, err := inventory.NewRedis(c, inventory.Options{WaitReplicas: -1}); !errors.Is(err, inventory.ErrInvalidInput) {
		t.Fatalf("WaitReplicas -1: %v, want an input error", err)
	}
	ring := redis.NewRing(&redis.RingOptions{Addrs: map[string]string{"a": "127.0.0.1:1"}})
	defer ring.Close()
	if _, err := inventory.NewRedis(ring, inventory.Options{WaitReplicas: 1}); !errors.Is(err, inventory.ErrInvalidInput) {
		t.Fatalf("a Ring with WaitReplicas: %v, want an input error", err)
	}
}

// TestWaitReplicasAfterPayment: Ship, Expect and Receive wait for a
// replica like every other write; without one in time the caller gets
// ErrNotReplicated, and a replay once the replica is back returns the
// first outcome.
func TestWaitReplicasAfterPayment(t *testing.T) {
	master, replica := redistest.Replicated(t)
	ctx := context.Background()
	s, err := inventory.NewRedis(master, inventory.Options{Prefix: redistest.Prefix(t, master), Shipping: true, WaitReplicas: 1, WaitTimeout: 300 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	line := []inventory.Line{{SKU: "tee", Location: "wh", Quantity: 2}}
	if _, err := s.Adjust(ctx, inventory.Adjustment{ID: "in", SKU: "tee", Location: "wh", Delta: 10, Reason: inventory.ReasonReceipt}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Reserve(ctx, inventory.Request{ID: "r1", TTL: time.Minute, Lines: line}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Commit(ctx, "r1"); err != nil {
		t.Fatal(err)
	}
	po := inventory.PurchaseOrder{ID: "po", ExpectedAt: time.Now().Add(time.Hour), Lines: line}
	if _, err := s.Expect(ctx, po); err != nil {
		t.Fatal(err)
	}

	reattach := redistest.Detach(t, master, replica)
	parcel := inventory.FulfilRequest{ID: "parcel", Reservation: "r1", Lines: line}
	if _, err := s.Ship(ctx, parcel); !errors.Is(err, inventory.ErrNotReplicated) {
		t.Fatalf("Ship without a replica: %v, want ErrNotReplicated", err)
	}
	delivery := inventory.ArrivalRequest{ID: "delivery", PurchaseOrder: "po", Lines: line}
	if _, err := s.Receive(ctx, delivery); !errors.Is(err, inventory.ErrNotReplicated) {
		t.Fatalf("Receive without a replica: %v, want ErrNotReplicated", err)
	}
	po2 := inventory.PurchaseOrder{ID: "po2", ExpectedAt: po.ExpectedAt, Lines: line}
	if _, err := s.Expect(ctx, po2); !errors.Is(err, inventory.ErrNotReplicated) {
		t.Fatalf("Expect without a replica: %v, want ErrNotReplicated", err)
	}

	reattach()
	if f, err := s.Ship(ctx, parcel); err != nil || !f.Replayed || !f.Complete {
		t.Fatalf("ship replayed: %+v, %v", f, err)
	}
	if in, err := s.Receive(ctx, delivery); err != nil || !in.Replayed || !in.Complete {
		t.Fatalf("receive replayed: %+v, %v", in, err)
	}
	if in, err := s.Expect(ctx, po2); err != nil || !in.Replayed {
		t.Fatalf("expect replayed: %+v, %v", in, err)
	}
	lv, err := s.Levels(ctx, inventory.Item{SKU: "tee", Location: "wh"})
	if err != nil || lv[0].OnHand != 10 || lv[0].Committed != 0 || lv[0].Incoming != 2 {
		t.Fatalf("levels %+v, %v; want on hand 10 (2 shipped, 2 received), nothing committed, 2 incoming", lv, err)
	}
}
