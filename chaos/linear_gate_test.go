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

	"github.com/shopkit/shopkit/seckill"
)

// The model of a one-bucket sale with a per-buyer limit of one unit:
// admissions (one unit each) and status reads.
type gateInput struct {
	op        string // admit, status
	user, req string
}

type gateState struct {
	remaining, held int64
	users           map[string]int64  // units admitted per buyer
	reqs            map[string]string // request → "user|outcome", remembered outcomes
}

func (s gateState) step(in gateInput) (string, gateState) {
	if in.op == "status" {
		return fmt.Sprintf("%d/%d", s.remaining, s.held), s
	}
	if rec, ok := s.reqs[in.req]; ok {
		user, outcome, _ := strings.Cut(rec, "|")
		if user != in.user {
			return "conflict", s
		}
		return "replay:" + outcome, s
	}
	next := gateState{remaining: s.remaining, held: s.held, users: maps.Clone(s.users), reqs: maps.Clone(s.reqs)}
	switch {
	case s.users[in.user]+1 > 1:
		next.reqs[in.req] = in.user + "|limit reached"
		return "limit reached", next
	case s.remaining < 1:
		return "sold out", s // not remembered
	}
	next.remaining--
	next.held++
	next.users[in.user]++
	next.reqs[in.req] = in.user + "|admitted"
	return "admitted", next
}

func (s gateState) key() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%d/%d", s.remaining, s.held)
	for _, u := range slices.Sorted(maps.Keys(s.users)) {
		fmt.Fprintf(&b, ";%s=%d", u, s.users[u])
	}
	for _, r := range slices.Sorted(maps.Keys(s.reqs)) {
		fmt.Fprintf(&b, ";%s:%s", r, s.reqs[r])
	}
	return b.String()
}

func gateModel(units int64) porcupine.Model {
	nm := porcupine.NondeterministicModel{
		Init: func() []any {
			return []any{gateState{remaining: units, users: map[string]int64{}, reqs: map[string]string{}}}
		},
		Step: func(state, input, output any) []any {
			s, in, out := state.(gateState), input.(gateInput), output.(string)
			want, next := s.step(in)
			if out == unknown {
				return []any{s, next}
			}
			if out != want {
				return nil
			}
			return []any{next}
		},
		Equal:             func(a, b any) bool { return a.(gateState).key() == b.(gateState).key() },
		DescribeOperation: func(in, out any) string { return fmt.Sprintf("%+v -> %v", in, out) },
	}
	return nm.ToModel()
}

func callGate(ctx context.Context, g *seckill.Gate, in gateInput) string {
	if in.op == "status" {
		st, err := g.Status(ctx, "lin")
		if err != nil {
			return unknown
		}
		return fmt.Sprintf("%d/%d", st.Remaining, st.Held)
	}
	a, err := g.Admit(ctx, seckill.AdmitRequest{SaleID: "lin", UserID: in.user, RequestID: in.req, Quantity: 1})
	switch {
	case errors.Is(err, seckill.ErrRequestConflict):
		return "conflict"
	case err != nil:
		return unknown
	case a.Replayed:
		return "replay:" + a.Outcome.String()
	}
	return a.Outcome.String()
}

// TestGateLinearizable records five clients admitting buyers to one sale
// and reading its status through connection resets and latency, and
// checks the history against the model with porcupine.
func TestGateLinearizable(t *testing.T) {
	srv := startServer(t, "--appendonly", "yes")
	px := newProxy(t, srv.addr())
	client := redis.NewClient(&redis.Options{Addr: px.addr()})
	t.Cleanup(func() { _ = client.Close() })
	ctx := context.Background()
	const units = 10
	// Recheck at once: the sold-out flag is a cache, and the model has none.
	g, err := seckill.NewRedisGate(client, seckill.GateOptions{SoldOutRecheck: time.Nanosecond, Prefix: prefix() + ":lin"})
	if err != nil {
		t.Fatal(err)
	}
	defer g.Close()
	now := time.Now()
	if err := g.Open(ctx, seckill.Sale{ID: "lin", SKU: "x", Units: units, PerUserLimit: 1, Start: now.Add(-time.Minute), End: now.Add(time.Hour)}); err != nil {
		t.Fatal(err)
	}
	checkLinearizable(t, px, "gate", gateModel(units), 80,
		func(rng *rand.Rand) any {
			if rng.IntN(5) == 0 {
				return gateInput{op: "status"}
			}
			return gateInput{op: "admit", user: fmt.Sprintf("u%d", rng.IntN(14)), req: fmt.Sprintf("q%d", rng.IntN(25))}
		},
		func(ctx context.Context, in any) string { return callGate(ctx, g, in.(gateInput)) })
}
