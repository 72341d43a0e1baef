package seckill

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/shopkit/shopkit/internal/durable"
	"github.com/shopkit/shopkit/internal/opscript"
)

// runner runs the Redis backends' mutating scripts, each once per call
// (opscript) and waiting for the replicas the options ask for; a missing
// acknowledgement is ErrNotReplicated.
type runner struct {
	client durable.Scripter
	policy durable.Policy
}

// newRunner checks the replica options against client.
func newRunner(client durable.Scripter, replicas int, timeout time.Duration) (runner, error) {
	policy := durable.Policy{Replicas: replicas, Timeout: timeout}
	if rule := durable.CheckClient(client, policy); rule != "" {
		return runner{}, &InputError{Field: "WaitReplicas", Rule: rule}
	}
	return runner{client: client, policy: policy}, nil
}

func (r runner) run(ctx context.Context, script *opscript.Script, keys []string, args ...any) (*redis.Cmd, error) {
	return r.runAs(ctx, "", script, keys, args...)
}

// runAs is run as operation opID ("" for a fresh one).
func (r runner) runAs(ctx context.Context, opID string, script *opscript.Script, keys []string, args ...any) (*redis.Cmd, error) {
	cmd, err := durable.RunAs(ctx, r.client, r.policy, script, opID, keys, args...)
	if errors.Is(err, durable.ErrTimeout) {
		err = fmt.Errorf("%w (%w)", ErrNotReplicated, err)
	}
	return cmd, err
}

func int64Reply(cmd *redis.Cmd, err error) (int64, error) {
	if err != nil {
		return 0, err
	}
	return cmd.Int64()
}
