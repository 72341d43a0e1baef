package seckill

import (
	"context"
	"errors"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/shopkit/shopkit/internal/redistest"
)

// failGiveOnce fails the first call of a move's give, as a connection
// reset or a Redis restart between the take and the give would.
type failGiveOnce struct{ failed atomic.Bool }

func (h *failGiveOnce) DialHook(next redis.DialHook) redis.DialHook { return next }
func (h *failGiveOnce) ProcessHook(next redis.ProcessHook) redis.ProcessHook {
	return func(ctx context.Context, cmd redis.Cmder) error {
		if strings.HasPrefix(cmd.Name(), "eval") && slices.Contains(cmd.Args(), any("give")) && h.failed.CompareAndSwap(false, true) {
			err := errors.New("injected: connection reset before the give")
			cmd.SetErr(err)
			return err
		}
		return next(ctx, cmd)
	}
}
func (h *failGiveOnce) ProcessPipelineHook(next redis.ProcessPipelineHook) redis.ProcessPipelineHook {
	return next
}

// TestFailedGiveIsRetried: a move whose give fails after its take went
// through is completed by retrying the give (under the same operation ID),
// so the buyer is admitted and no unit goes missing.
//
// Regression: the gate returned the give's error and the taken units were
// lost to the sale: the chaos suite's SIGKILL run ended with 119 of 120
// units accounted for.
func TestFailedGiveIsRetried(t *testing.T) {
	base := redistest.Client(t)
	rc, ok := base.(*redis.Client)
	if !ok {
		t.Skipf("needs a *redis.Client, have %T", base)
	}
	client := redis.NewClient(rc.Options())
	hook := &failGiveOnce{}
	client.AddHook(hook)
	defer client.Close()
	ctx := context.Background()
	g, err := NewRedisGate(client, redistest.Prefix(t, base), GateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer g.Close()
	now := time.Now()
	if err := g.Open(ctx, Sale{ID: "s", SKU: "x", Units: 2, Buckets: 2, PerUserLimit: 1, Start: now.Add(-time.Minute), End: now.Add(time.Hour)}); err != nil {
		t.Fatal(err)
	}
	// Two buyers served by bucket 0, which holds one unit: the second one's
	// admission moves bucket 1's unit over.
	var users []string
	for i := 0; len(users) < 2; i++ {
		if u := "u" + string(rune('a'+i)); bucketOf(u, 2) == 0 {
			users = append(users, u)
		}
	}
	for _, u := range users {
		if a, err := g.Admit(ctx, "s", u, u, 1); err != nil || a.Outcome != Admitted {
			t.Fatalf("Admit(%s) = %+v, %v; want admitted", u, a, err)
		}
	}
	if !hook.failed.Load() {
		t.Fatal("no give was sent")
	}
	if st, err := g.Status(ctx, "s"); err != nil || st != (SaleStatus{Units: 2, Held: 2}) {
		t.Fatalf("status %+v, %v; want both units held", st, err)
	}
}
