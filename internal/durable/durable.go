// Package durable runs a mutating script and then waits for replicas to
// acknowledge it, so that a Redis failover cannot lose a write the caller
// was told succeeded.
//
// Redis replicates asynchronously: a master acknowledges a write before any
// replica has it, and a replica promoted by Sentinel (or by a Cluster
// failover) may not have it at all. WAIT n timeout blocks until n replicas
// have acknowledged every write the connection made, or the timeout passes,
// and returns how many did. It must run on the very connection that made
// the write, so Run sends the script and WAIT in one pipeline to the master
// that owns the script's first key: the client itself for a standalone or
// Sentinel-managed (failover) client, the slot's master for a Cluster.
//
// WAIT makes a write durable against the loss of the master, not
// linearizable: when fewer replicas acknowledge in time the write has still
// happened on the master, and may or may not survive a failover. Run then
// returns the script's reply together with an error wrapping ErrTimeout;
// callers report it as "outcome unknown, replay the ID".
package durable

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/shopkit/shopkit/internal/opscript"
)

// ErrTimeout is wrapped by the error Run returns when fewer replicas than
// asked acknowledged the write in time.
var ErrTimeout = errors.New("fewer replicas acknowledged the write than required")

// DefaultTimeout is how long Run waits for replicas when the caller gives
// no timeout: well under go-redis' default 3 s read timeout, so the WAIT
// reply always arrives before the client gives up on it.
const DefaultTimeout = time.Second

// Policy says how many replicas must acknowledge a write, and how long to
// wait for them. The zero value waits for none.
type Policy struct {
	Replicas int
	Timeout  time.Duration
}

// Check returns the rule p breaks, or "".
func (p Policy) Check() string {
	switch {
	case p.Replicas < 0:
		return "must be ≥ 0"
	case p.Timeout < 0:
		return "timeout must be ≥ 0"
	}
	return ""
}

// Scripter is the client Run needs: a standalone, failover or Cluster
// client.
type Scripter interface {
	redis.Scripter
	Pipelined(ctx context.Context, fn func(redis.Pipeliner) error) ([]redis.Cmder, error)
}

// Run runs s once for this call (see opscript) and, if p asks for
// replicas, waits for them. A reply and a nil error mean the write is on
// at least p.Replicas replicas. A reply and an error wrapping ErrTimeout
// mean it is on the master and fewer replicas.
func Run(ctx context.Context, c Scripter, p Policy, s *opscript.Script, keys []string, args ...any) (*redis.Cmd, error) {
	return RunAs(ctx, c, p, s, "", keys, args...)
}

// RunAs is Run for operation id (see opscript.Script.RunAs); "" draws a
// fresh one.
func RunAs(ctx context.Context, c Scripter, p Policy, s *opscript.Script, id string, keys []string, args ...any) (*redis.Cmd, error) {
	if p.Replicas == 0 {
		var cmd *redis.Cmd
		if id == "" {
			cmd = s.Run(ctx, c, keys, args...)
		} else {
			cmd = s.RunAs(ctx, c, id, keys, args...)
		}
		return cmd, cmd.Err()
	}
	node, err := master(ctx, c, keys[0])
	if err != nil {
		return nil, err
	}
	timeout := p.Timeout
	if timeout == 0 {
		timeout = DefaultTimeout
	}
	call := opscript.Call{Keys: keys, Args: args}
	cmd, acked, err := s.RunPipelinedThen(ctx, node, id, call, func(ctx context.Context, pl redis.Pipeliner) *redis.IntCmd {
		// go-redis' pipelines have Wait (which also stretches the read
		// timeout to cover the wait) though Pipeliner does not list it.
		return pl.(waiter).Wait(ctx, p.Replicas, timeout)
	})
	if err != nil {
		return cmd, err
	}
	if n, err := acked.Result(); err != nil {
		return cmd, fmt.Errorf("wait for replicas: %w", err)
	} else if n < int64(p.Replicas) {
		return cmd, fmt.Errorf("%w: %d of %d within %v", ErrTimeout, n, p.Replicas, timeout)
	}
	return cmd, nil
}

type waiter interface {
	Wait(ctx context.Context, numReplicas int, timeout time.Duration) *redis.IntCmd
}

var _ waiter = (*redis.Pipeline)(nil)

// master returns the client that talks to the master owning key.
func master(ctx context.Context, c Scripter, key string) (opscript.Pipeliner, error) {
	switch c := c.(type) {
	case *redis.ClusterClient:
		return c.MasterForKey(ctx, key)
	case *redis.Client:
		return c, nil
	}
	return nil, fmt.Errorf("durable: waiting for replicas needs a *redis.Client (standalone or failover) or a *redis.ClusterClient, not %T", c)
}

// CheckClient returns the rule a client breaks for policy p, or "": waiting
// for replicas needs to reach the master that made the write.
func CheckClient(c any, p Policy) string {
	if rule := p.Check(); rule != "" {
		return rule
	}
	if p.Replicas == 0 {
		return ""
	}
	switch c.(type) {
	case *redis.Client, *redis.ClusterClient:
		return ""
	}
	return "needs a *redis.Client (standalone or failover) or a *redis.ClusterClient"
}
