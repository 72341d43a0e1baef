package inventory

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/shopkit/shopkit/internal/redistest"
)

// hookedClient is a new client to the server c talks to, with h added.
func hookedClient(t *testing.T, c redis.UniversalClient, h redis.Hook) *redis.Client {
	t.Helper()
	rc, ok := c.(*redis.Client)
	if !ok {
		t.Skipf("needs a standalone client, have %T", c)
	}
	hc := redis.NewClient(rc.Options())
	hc.AddHook(h)
	t.Cleanup(func() { _ = hc.Close() })
	return hc
}

// commandCounter counts the commands a client sends, pipelined or not.
type commandCounter struct{ n atomic.Int64 }

func (h *commandCounter) DialHook(next redis.DialHook) redis.DialHook { return next }
func (h *commandCounter) ProcessHook(next redis.ProcessHook) redis.ProcessHook {
	return func(ctx context.Context, cmd redis.Cmder) error { h.n.Add(1); return next(ctx, cmd) }
}
func (h *commandCounter) ProcessPipelineHook(next redis.ProcessPipelineHook) redis.ProcessPipelineHook {
	return func(ctx context.Context, cmds []redis.Cmder) error { h.n.Add(int64(len(cmds))); return next(ctx, cmds) }
}

// TestSweepDropsStaleEntriesCheaply: reservations made in concurrent
// batches and committed leave index entries behind until their deadline;
// once due, one Sweep drops them all in a few script calls and expires
// nothing.
//
// Regression: Sweep touched every ID of every due entry with a read and a
// script (and commit never removed batch entries), so 96,000 committed
// reservations cost a Sweep of 37 s that expired nothing.
func TestSweepDropsStaleEntriesCheaply(t *testing.T) {
	base := redistest.Client(t)
	counter := &commandCounter{}
	client := hookedClient(t, base, counter)
	ctx := context.Background()
	s, err := NewRedis(client, Options{Prefix: redistest.Prefix(t, base)})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if _, err := s.Adjust(ctx, Adjustment{ID: "in", SKU: "sku", Location: "wh", Delta: 1 << 20, Reason: ReasonReceipt}); err != nil {
		t.Fatal(err)
	}
	const n = 2000
	var wg sync.WaitGroup
	sem := make(chan struct{}, 64)
	for i := range n {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			id := fmt.Sprintf("r%d", i)
			if _, err := s.Reserve(ctx, Request{ID: id, TTL: time.Second, Lines: []Line{{SKU: "sku", Location: "wh", Quantity: 1}}}); err != nil {
				t.Error(err)
				return
			}
			if _, err := s.Commit(ctx, id); err != nil {
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	time.Sleep(1200 * time.Millisecond) // every entry due
	before := counter.n.Load()
	expired, err := s.Sweep(ctx)
	if err != nil || expired != 0 {
		t.Fatalf("Sweep = %d, %v; want 0 expired", expired, err)
	}
	if cmds := counter.n.Load() - before; cmds > 10 {
		t.Fatalf("Sweep of %d committed reservations sent %d commands, want a few pages", n, cmds)
	}
	if left, err := base.ZCard(ctx, s.b.(*redisBackend).expKey).Result(); err != nil || left != 0 {
		t.Fatalf("%d index entries left, %v; want none", left, err)
	}
}

// actOnReply runs do once, right after the first command that mentions id
// (in its arguments or its reply): between a sweep's read of the index and
// what it does next.
type actOnReply struct {
	id    string
	armed atomic.Bool
	do    func()
}

func (h *actOnReply) DialHook(next redis.DialHook) redis.DialHook { return next }
func (h *actOnReply) ProcessHook(next redis.ProcessHook) redis.ProcessHook {
	return func(ctx context.Context, cmd redis.Cmder) error {
		err := next(ctx, cmd)
		if strings.Contains(cmd.String(), h.id) && h.armed.CompareAndSwap(true, false) {
			h.do()
		}
		return err
	}
}
func (h *actOnReply) ProcessPipelineHook(next redis.ProcessPipelineHook) redis.ProcessPipelineHook {
	return next
}

// TestSweepRacingIdenticalBatchKeepsHoldsIndexed: a stale batch entry
// "x y" (its reservations long finished and forgotten) is due; while a
// sweep is reading it, x and y are reserved again in one batch with one
// TTL, which scores that same member with their new deadline. The holds
// must keep their entry and expire once due.
//
// Regression: the sweep removed the member it had read after touching
// its IDs (held, not due: nothing to do), so the live holds lost their
// only index entry and no Sweep ever expired them.
func TestSweepRacingIdenticalBatchKeepsHoldsIndexed(t *testing.T) {
	base := redistest.Client(t)
	ctx := context.Background()
	hook := &actOnReply{}
	client := hookedClient(t, base, hook)
	s, err := NewRedis(client, Options{Prefix: redistest.Prefix(t, base)})
	if err != nil {
		t.Fatal(err)
	}
	hook.id = s.b.(*redisBackend).expKey // the sweep's first command that reads the index
	defer s.Close()
	if _, err := s.Adjust(ctx, Adjustment{ID: "in", SKU: "sku", Location: "wh", Delta: 5, Reason: ReasonReceipt}); err != nil {
		t.Fatal(err)
	}
	if err := base.ZAdd(ctx, s.b.(*redisBackend).expKey, redis.Z{Score: 1, Member: "race-x race-y"}).Err(); err != nil {
		t.Fatal(err)
	}
	hook.do = func() {
		// What one batch of x and y with one TTL leaves behind: their
		// records and the single member "race-x race-y" at their deadline.
		var deadline int64
		for _, id := range []string{"race-x", "race-y"} {
			r, err := s.Reserve(ctx, Request{ID: id, TTL: 100 * time.Millisecond, Lines: []Line{{SKU: "sku", Location: "wh", Quantity: 1}}})
			if err != nil {
				t.Errorf("Reserve: %v", err)
				return
			}
			deadline = r.Deadline.UnixMilli()
			base.ZRem(ctx, s.b.(*redisBackend).expKey, id)
		}
		base.ZAdd(ctx, s.b.(*redisBackend).expKey, redis.Z{Score: float64(deadline), Member: "race-x race-y"})
	}
	hook.armed.Store(true)
	if _, err := s.Sweep(ctx); err != nil {
		t.Fatal(err)
	}
	if hook.armed.Load() {
		t.Fatal("the sweep never read the index")
	}
	time.Sleep(200 * time.Millisecond)
	if n, err := s.Sweep(ctx); err != nil || n != 2 {
		t.Fatalf("Sweep after the holds' deadline = %d, %v; want 2", n, err)
	}
	lv, err := s.Levels(ctx, Item{SKU: "sku", Location: "wh"})
	if err != nil || lv[0].Reserved != 0 {
		t.Fatalf("levels %+v, %v; want nothing reserved", lv, err)
	}
}

// TestFinishedBatchIsOneMember: the records a batch of commits finishes
// share one member of the finished set, and forgetting a member forgets
// every record it names, so records still go after their retention.
//
// Regression: every finished record was its own member, a ZADD and a ZREM
// each; a member naming several IDs was taken for one ID, and its records
// were never forgotten.
func TestFinishedBatchIsOneMember(t *testing.T) {
	client := redistest.Client(t)
	ctx := context.Background()
	s, err := NewRedis(client, Options{Prefix: redistest.Prefix(t, client), Retention: 50 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	b := s.b.(*redisBackend)
	if _, err := s.Adjust(ctx, Adjustment{ID: "in", SKU: "sku", Location: "wh", Delta: 100, Reason: ReasonReceipt}); err != nil {
		t.Fatal(err)
	}
	var calls []*transitionCall
	for i := range 5 {
		id := fmt.Sprint("r", i)
		if _, err := s.Reserve(ctx, Request{ID: id, Lines: []Line{{SKU: "sku", Location: "wh", Quantity: 1}}, TTL: time.Minute}); err != nil {
			t.Fatal(err)
		}
		enc, lines, keys, _ := b.held.get(id)
		calls = append(calls, b.newTransitionCall("commit", id, enc, lines, keys, 0))
	}
	if _, err := b.transitions(ctx, calls); err != nil { // one batch of five commits
		t.Fatal(err)
	}
	members, err := client.ZRange(ctx, b.finKey, 0, -1).Result()
	if err != nil || len(members) != 1 || members[0] != "r0 r1 r2 r3 r4" {
		t.Fatalf("finished set = %q, %v; want one member naming the five", members, err)
	}
	time.Sleep(100 * time.Millisecond)
	// Any reservation forgets what is due.
	if _, err := s.Reserve(ctx, Request{ID: "later", Lines: []Line{{SKU: "sku", Location: "wh", Quantity: 1}}, TTL: time.Minute}); err != nil {
		t.Fatal(err)
	}
	left, err := client.HLen(ctx, b.resKey).Result()
	if err != nil || left != 1 {
		t.Fatalf("%d records left, %v; want only the new one", left, err)
	}
	if n, _ := client.ZCard(ctx, b.finKey).Result(); n != 0 {
		t.Fatalf("finished set has %d members after forgetting, want 0", n)
	}
}
