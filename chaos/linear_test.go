package chaos

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/anishathalye/porcupine"
	"github.com/redis/go-redis/v9"

	"github.com/shopkit/shopkit/inventory"
)

// The model: one SKU's on hand and reserved units and the reservations on
// it, each of one line.
type invInput struct {
	op  string // reserve, commit, release, levels
	id  string
	qty int64
}

// unknown is the output of a call that failed: it may or may not have
// taken effect.
const unknown = "unknown"

type invState struct {
	onHand, reserved int64
	res              map[string]resEntry
}

type resEntry struct {
	qty   int64
	state string // held, committed, released
}

func (s invState) with(id string, e resEntry, onHand, reserved int64) invState {
	res := maps.Clone(s.res)
	res[id] = e
	return invState{onHand: onHand, reserved: reserved, res: res}
}

// step applies in to s as the store's contract says, returning the output
// the store must give and the state after.
func (s invState) step(in invInput) (string, invState) {
	e, ok := s.res[in.id]
	switch in.op {
	case "reserve":
		if ok && e.qty != in.qty {
			return "conflict", s // the same ID for another request
		}
		if ok {
			return "replay:" + e.state, s
		}
		if s.onHand-s.reserved < in.qty {
			return "short", s
		}
		return "held", s.with(in.id, resEntry{in.qty, "held"}, s.onHand, s.reserved+in.qty)
	case "commit":
		switch {
		case !ok:
			return "notfound", s
		case e.state == "held":
			return "committed", s.with(in.id, resEntry{e.qty, "committed"}, s.onHand-e.qty, s.reserved-e.qty)
		case e.state == "committed":
			return "committed", s
		}
		return "notheld", s
	case "release":
		switch {
		case !ok:
			return "notfound", s
		case e.state == "held":
			return "released", s.with(in.id, resEntry{e.qty, "released"}, s.onHand, s.reserved-e.qty)
		case e.state == "released":
			return "released", s
		}
		return "notheld", s
	}
	return fmt.Sprintf("%d/%d", s.onHand, s.reserved), s
}

func (s invState) key() string {
	ids := slices.Sorted(maps.Keys(s.res))
	var b strings.Builder
	fmt.Fprintf(&b, "%d/%d", s.onHand, s.reserved)
	for _, id := range ids {
		fmt.Fprintf(&b, ";%s:%d:%s", id, s.res[id].qty, s.res[id].state)
	}
	return b.String()
}

func inventoryModel(stock int64) porcupine.Model {
	nm := porcupine.NondeterministicModel{
		Init: func() []any { return []any{invState{onHand: stock, res: map[string]resEntry{}}} },
		Step: func(state, input, output any) []any {
			s, in, out := state.(invState), input.(invInput), output.(string)
			want, next := s.step(in)
			if out == unknown {
				return []any{s, next} // it happened, or it did not
			}
			if out != want {
				return nil
			}
			return []any{next}
		},
		Equal:             func(a, b any) bool { return a.(invState).key() == b.(invState).key() },
		DescribeOperation: func(in, out any) string { return fmt.Sprintf("%+v -> %v", in, out) },
	}
	return nm.ToModel()
}

// callInventory runs in against s and describes the answer as the model
// does.
func callInventory(ctx context.Context, s *inventory.Store, in invInput) string {
	switch in.op {
	case "reserve":
		r, err := s.Reserve(ctx, inventory.Request{ID: in.id, TTL: time.Hour,
			Lines: []inventory.Line{{SKU: "hot", Location: "wh", Quantity: in.qty}}})
		switch {
		case errors.Is(err, inventory.ErrInsufficientStock):
			return "short"
		case errors.Is(err, inventory.ErrIDConflict):
			return "conflict"
		case err != nil:
			return unknown
		case r.Replayed:
			return "replay:" + r.State.String()
		}
		return "held"
	case "commit", "release":
		call := s.Commit
		if in.op == "release" {
			call = s.Release
		}
		_, err := call(ctx, in.id)
		switch {
		case errors.Is(err, inventory.ErrNotFound):
			return "notfound"
		case errors.Is(err, inventory.ErrNotHeld):
			return "notheld"
		case err != nil:
			return unknown
		}
		if in.op == "commit" {
			return "committed"
		}
		return "released"
	}
	lv, err := s.Levels(ctx, inventory.Item{SKU: "hot", Location: "wh"})
	if err != nil {
		return unknown
	}
	return fmt.Sprintf("%d/%d", lv[0].OnHand, lv[0].Reserved)
}

// TestInventoryLinearizable records the history of five clients reserving,
// committing, releasing and reading one hot SKU through a proxy that resets
// connections and delays replies past the read timeout, and checks it
// against the model with porcupine.
func TestInventoryLinearizable(t *testing.T) {
	srv := startServer(t, "--appendonly", "yes")
	px := newProxy(t, srv.addr())
	client := redis.NewClient(&redis.Options{Addr: px.addr()})
	t.Cleanup(func() { _ = client.Close() })
	ctx := context.Background()
	const stock = 12
	s, err := inventory.NewRedis(client, inventory.Options{Prefix: prefix() + ":lin"})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if _, err := s.Adjust(ctx, inventory.Adjustment{ID: "open", SKU: "hot", Location: "wh", Delta: stock, Reason: inventory.ReasonReceipt}); err != nil {
		t.Fatal(err)
	}
	checkLinearizable(t, px, "inventory", inventoryModel(stock), 100,
		func(rng *rand.Rand) any {
			return invInput{op: []string{"reserve", "reserve", "commit", "release", "levels"}[rng.IntN(5)],
				id: fmt.Sprintf("r%d", rng.IntN(15)), qty: 1 + rng.Int64N(3)}
		},
		func(ctx context.Context, in any) string { return callInventory(ctx, s, in.(invInput)) })
}
