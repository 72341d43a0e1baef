package durable_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/shopkit/shopkit/internal/durable"
	"github.com/shopkit/shopkit/internal/opscript"
	"github.com/shopkit/shopkit/internal/redistest"
)

var incr = opscript.New(`return redis.call('INCR', KEYS[1])`)

func TestRunWaitsForReplicas(t *testing.T) {
	master, replica := redistest.Replicated(t)
	ctx := context.Background()
	key := "{" + redistest.Prefix(t, master) + "}:n"
	p := durable.Policy{Replicas: 1, Timeout: 500 * time.Millisecond}

	cmd, err := durable.Run(ctx, master, p, incr, []string{key})
	if err != nil || cmd.Val() != int64(1) {
		t.Fatalf("Run = %v, %v; want 1, nil", cmd.Val(), err)
	}
	// Acknowledged means the replica has it now, not eventually.
	if v, err := replica.Get(ctx, key).Int(); err != nil || v != 1 {
		t.Fatalf("replica has %d, %v; want 1", v, err)
	}

	// With the replica detached the write still happens on the master,
	// but the caller hears that its outcome is not durable.
	redistest.Detach(t, master, replica)
	start := time.Now()
	cmd, err = durable.Run(ctx, master, p, incr, []string{key})
	if !errors.Is(err, durable.ErrTimeout) || cmd.Val() != int64(2) {
		t.Fatalf("Run without a replica = %v, %v; want 2 and ErrTimeout", cmd.Val(), err)
	}
	if waited := time.Since(start); waited > 2*time.Second {
		t.Fatalf("Run took %v, want about the %v timeout at most", waited, p.Timeout)
	}
	if v, err := master.Get(ctx, key).Int(); err != nil || v != 2 {
		t.Fatalf("master has %d, %v; want 2", v, err)
	}
}

// TestRunWithoutReplicas: the zero policy is a plain script call.
func TestRunWithoutReplicas(t *testing.T) {
	c := redistest.Client(t)
	ctx := context.Background()
	key := "{" + redistest.Prefix(t, c) + "}:n"
	for want := int64(1); want <= 2; want++ {
		if cmd, err := durable.Run(ctx, c, durable.Policy{}, incr, []string{key}); err != nil || cmd.Val() != want {
			t.Fatalf("Run = %v, %v; want %d", cmd.Val(), err, want)
		}
	}
}

// TestRunCluster: on a Cluster the script and WAIT go to the key's master;
// the test Cluster has no replicas, so the wait times out after the write.
func TestRunCluster(t *testing.T) {
	c := redistest.Cluster(t)
	ctx := context.Background()
	for _, key := range []string{"{a}:n", "{b}:n", "{c}:n"} {
		key = redistest.Prefix(t, c) + key
		cmd, err := durable.Run(ctx, c.(durable.Scripter), durable.Policy{Replicas: 1, Timeout: 50 * time.Millisecond}, incr, []string{key})
		if !errors.Is(err, durable.ErrTimeout) || cmd.Val() != int64(1) {
			t.Fatalf("Run(%s) = %v, %v; want 1 and ErrTimeout", key, cmd.Val(), err)
		}
	}
}
