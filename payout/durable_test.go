package payout_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/shopkit/shopkit/internal/redistest"
	"github.com/shopkit/shopkit/payout"
)

// TestWaitReplicas: with WaitReplicas a posting is reported only once a
// replica has it; without a replica in time the caller gets
// ErrNotReplicated, and replaying the ID once the replica is back returns
// the posting.
func TestWaitReplicas(t *testing.T) {
	master, replica := redistest.Replicated(t)
	ctx := context.Background()
	prefix := redistest.Prefix(t, master)
	l, err := payout.NewRedisLedger(master, payout.LedgerOptions{Prefix: prefix, WaitReplicas: 1, WaitTimeout: 300 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	tx := func(id string) payout.Transaction {
		return payout.Transaction{ID: id, Postings: []payout.Posting{{Account: "buyer", Amount: -100}, {Account: "shop", Amount: 100}}}
	}
	if _, err := l.Post(ctx, tx("t1")); err != nil {
		t.Fatal(err)
	}
	if n, err := replica.Exists(ctx, "{"+prefix+"}:tx:t1").Result(); err != nil || n != 1 {
		t.Fatalf("replica has the acknowledged posting: %d, %v; want 1", n, err)
	}
	reattach := redistest.Detach(t, master, replica)
	if _, err := l.Post(ctx, tx("t2")); !errors.Is(err, payout.ErrNotReplicated) {
		t.Fatalf("Post without a replica: %v, want ErrNotReplicated", err)
	}
	reattach()
	if p, err := l.Post(ctx, tx("t2")); err != nil || !p.Replayed {
		t.Fatalf("replay once the replica is back: %+v, %v; want the posting, replayed", p, err)
	}
}
