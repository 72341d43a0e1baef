package chaos

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/shopkit/shopkit/funnel"
	"github.com/shopkit/shopkit/inventory"
	"github.com/shopkit/shopkit/logistics"
	"github.com/shopkit/shopkit/payout"
	"github.com/shopkit/shopkit/pricing"
	"github.com/shopkit/shopkit/seckill"
)

// A workload runs random operations against one store from many
// goroutines, remembers what each caller was told, and checks the store's
// final state against it: nothing oversold, no acknowledged write lost,
// nothing stuck.
type workload interface {
	name() string
	// step runs one random operation. An error is an unknown outcome
	// (the operation may or may not have happened); the workload records
	// only what it was told for sure.
	step(ctx context.Context, rng *rand.Rand)
	// check returns the invariants the final state breaks. With durable
	// false acknowledged writes may have been lost (a failover without
	// replica acknowledgements), so only safety is checked.
	check(ctx context.Context, durable bool) []string
	counts() (ops, unknown int64)
}

// tally counts operations and unknown outcomes.
type tally struct{ ops, unknown atomic.Int64 }

func (c *tally) counts() (int64, int64) { return c.ops.Load(), c.unknown.Load() }

func (c *tally) done(err error) bool {
	c.ops.Add(1)
	if err != nil {
		c.unknown.Add(1)
		return false
	}
	return true
}

// env is what a scenario hands each workload: a client with go-redis'
// default options and how many replicas writes wait for.
type env struct {
	client   redis.UniversalClient
	prefix   string
	replicas int
}

// retry runs f until it succeeds or 30 s pass: setup and final checks must
// get through the fault's aftermath.
func retry(ctx context.Context, f func() error) error {
	deadline := time.Now().Add(30 * time.Second)
	for {
		err := f()
		if err == nil || time.Now().After(deadline) {
			return err
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// ---- inventory ----

type inventoryLoad struct {
	tally
	label        string
	recoverAfter time.Duration // a spread store's Spread.RecoverAfter, else 0
	s            *inventory.Store
	skus         []string
	start        int64

	mu        sync.Mutex
	requests  map[string]inventory.Request
	reserved  map[string]bool // acknowledged reservations
	committed map[string]bool // acknowledged commits
	released  map[string]bool // acknowledged releases
	ids       []string
	moves     []*unitMove // every Ship, Return, Receive and CancelIncoming sent
}

// ordered is how many units of each SKU the workload's purchase orders
// bring.
const ordered = 1000

// backorderSKU sells up to backorderLimit units beyond on hand: receipts,
// releases, expiries and returns then fill its backorders, oldest first,
// under every fault.
const (
	backorderSKU   = "cap"
	backorderLimit = 40
)

// unitMove is one Ship, Return, Receive or CancelIncoming the workload
// sent, and what it learned. A call refused with one of refused wrote
// nothing (a replay may yet apply it); one that failed otherwise has an
// unknown outcome until a replay answers.
type unitMove struct {
	id      string
	send    func(context.Context) error
	refused []error
	// effect adds what the call did to the levels, once it applied.
	effect  func(want map[string]*inventory.Level)
	applied bool
	unknown bool
}

// newInventoryLoad runs the workload on one store (NewRedis), or, when
// spread, on a store whose three SKUs live in three stock groups
// (Options.Spread), so that every reservation of two lines is a spread
// reservation and the faults fall between its steps. Its recovery sweep
// runs with every Sweep the workload sends and takes holds older than two
// seconds, so it races the workload's own slow calls too.
const spreadRecoverAfter = 2 * time.Second

func newInventoryLoad(ctx context.Context, e env, spread bool) (*inventoryLoad, error) {
	opts := inventory.Options{Prefix: e.prefix + ":inv", WaitReplicas: e.replicas, Shipping: true}
	s, err := inventory.NewRedis(e.client, opts)
	name := "inventory"
	if spread {
		opts.Prefix = e.prefix + ":spread"
		name = "inventory-spread"
		opts.Spread = inventory.Spread{Groups: 3, RecoverAfter: spreadRecoverAfter,
			Group: func(it inventory.Item) int { return map[string]int{"tee": 0, "mug": 1, "cap": 2}[it.SKU] }}
		s, err = inventory.NewRedis(e.client, opts)
	}
	if err != nil {
		return nil, err
	}
	w := &inventoryLoad{s: s, label: name, skus: []string{"tee", "mug", "cap"}, start: 300,
		requests: map[string]inventory.Request{}, reserved: map[string]bool{}, committed: map[string]bool{}, released: map[string]bool{}}
	for _, sku := range w.skus {
		a := inventory.Adjustment{ID: "open-" + sku, SKU: sku, Location: "wh", Delta: w.start, Reason: inventory.ReasonReceipt}
		if err := retry(ctx, func() error { _, err := s.Adjust(ctx, a); return err }); err != nil {
			return nil, err
		}
		po := inventory.PurchaseOrder{ID: "po-" + sku, ExpectedAt: time.Now().Add(72 * time.Hour).Truncate(time.Millisecond),
			Lines: []inventory.Line{{SKU: sku, Location: "wh", Quantity: ordered}}}
		if err := retry(ctx, func() error { _, err := s.Expect(ctx, po); return err }); err != nil {
			return nil, err
		}
	}
	p := inventory.Policy{SKU: backorderSKU, Location: "wh", Backorder: backorderLimit}
	if err := retry(ctx, func() error { return s.SetPolicy(ctx, p) }); err != nil {
		return nil, err
	}
	if spread {
		w.recoverAfter = spreadRecoverAfter
	}
	return w, nil
}

func (w *inventoryLoad) name() string { return w.label }

func (w *inventoryLoad) pick(rng *rand.Rand) (string, bool) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if len(w.ids) == 0 {
		return "", false
	}
	return w.ids[rng.IntN(len(w.ids))], true
}

func (w *inventoryLoad) step(ctx context.Context, rng *rand.Rand) {
	switch p := rng.IntN(100); {
	case p < 50:
		id := fmt.Sprintf("r%d", rng.Int64())
		ttl := time.Minute
		if rng.IntN(4) == 0 {
			ttl = 300 * time.Millisecond // some lapse and are swept
		}
		req := inventory.Request{ID: id, TTL: ttl}
		for _, i := range rng.Perm(len(w.skus))[:1+rng.IntN(2)] {
			req.Lines = append(req.Lines, inventory.Line{SKU: w.skus[i], Location: "wh", Quantity: 1 + rng.Int64N(3)})
		}
		w.mu.Lock()
		w.requests[id] = req
		w.ids = append(w.ids, id)
		w.mu.Unlock()
		_, err := w.s.Reserve(ctx, req)
		if w.done(ignore(err, inventory.ErrInsufficientStock)) && err == nil {
			w.mu.Lock()
			w.reserved[id] = true
			w.mu.Unlock()
		}
	case p < 60:
		id, ok := w.pick(rng)
		if !ok {
			return
		}
		w.mu.Lock()
		req := w.requests[id]
		w.mu.Unlock()
		_, err := w.s.Reserve(ctx, req) // a replay: same request
		w.done(ignore(err, inventory.ErrInsufficientStock))
	case p < 80:
		id, ok := w.pick(rng)
		if !ok {
			return
		}
		_, err := w.s.Commit(ctx, id)
		if w.done(ignore(err, inventory.ErrNotHeld, inventory.ErrNotFound)) && err == nil {
			w.mu.Lock()
			w.committed[id] = true
			w.mu.Unlock()
		}
	case p < 88:
		w.fulfil(ctx, rng)
	case p < 91:
		w.arrive(ctx, rng)
	case p < 95:
		id, ok := w.pick(rng)
		if !ok {
			return
		}
		_, err := w.s.Release(ctx, id)
		if w.done(ignore(err, inventory.ErrNotHeld, inventory.ErrNotFound)) && err == nil {
			w.mu.Lock()
			w.released[id] = true
			w.mu.Unlock()
		}
	default:
		_, err := w.s.Sweep(ctx)
		w.done(err)
	}
}

// fulfil ships or returns part of a reservation (committed or not: the
// store refuses what it must), or replays an earlier call.
func (w *inventoryLoad) fulfil(ctx context.Context, rng *rand.Rand) {
	w.move(ctx, rng, func() *unitMove {
		id, ok := w.pick(rng)
		if !ok {
			return nil
		}
		w.mu.Lock()
		lines := w.requests[id].Lines
		w.mu.Unlock()
		l := lines[rng.IntN(len(lines))]
		l.Quantity = 1 + rng.Int64N(l.Quantity)
		ship := rng.IntN(4) > 0
		req := inventory.FulfilRequest{ID: fmt.Sprintf("f%d", rng.Int64()), Reservation: id, Lines: []inventory.Line{l}}
		send := w.s.Return
		if ship {
			send = w.s.Ship
		}
		return &unitMove{id: req.ID,
			send:    func(ctx context.Context) error { _, err := send(ctx, req); return err },
			refused: []error{inventory.ErrNotCommitted, inventory.ErrNotHeld, inventory.ErrNotFound},
			effect: func(want map[string]*inventory.Level) {
				if ship {
					want[l.SKU].OnHand -= l.Quantity
				}
				want[l.SKU].Committed -= l.Quantity
			}}
	})
}

// arrive receives or cancels a few units of a SKU's purchase order, or
// replays an earlier call.
func (w *inventoryLoad) arrive(ctx context.Context, rng *rand.Rand) {
	w.move(ctx, rng, func() *unitMove {
		sku := w.skus[rng.IntN(len(w.skus))]
		l := inventory.Line{SKU: sku, Location: "wh", Quantity: 1 + rng.Int64N(3)}
		receive := rng.IntN(4) > 0
		req := inventory.ArrivalRequest{ID: fmt.Sprintf("g%d", rng.Int64()), PurchaseOrder: "po-" + sku, Lines: []inventory.Line{l}}
		send := w.s.CancelIncoming
		if receive {
			send = w.s.Receive
		}
		return &unitMove{id: req.ID,
			send:    func(ctx context.Context) error { _, err := send(ctx, req); return err },
			refused: []error{inventory.ErrNotIncoming},
			effect: func(want map[string]*inventory.Level) {
				if receive {
					want[l.SKU].OnHand += l.Quantity
				}
				want[l.SKU].Incoming -= l.Quantity
			}}
	})
}

// move replays an earlier unit move one time in five, else sends the one
// newMove makes (nil: nothing to do).
func (w *inventoryLoad) move(ctx context.Context, rng *rand.Rand, newMove func() *unitMove) {
	var m *unitMove
	w.mu.Lock()
	if n := len(w.moves); n > 0 && rng.IntN(5) == 0 {
		m = w.moves[rng.IntN(n)]
	}
	w.mu.Unlock()
	if m == nil {
		if m = newMove(); m == nil {
			return
		}
		w.mu.Lock()
		w.moves = append(w.moves, m)
		w.mu.Unlock()
	}
	w.done(ignore(w.send(ctx, m), m.refused...))
}

// send makes m's call and records what it learned.
func (w *inventoryLoad) send(ctx context.Context, m *unitMove) error {
	err := m.send(ctx)
	w.mu.Lock()
	defer w.mu.Unlock()
	switch {
	case err == nil:
		m.applied, m.unknown = true, false
	case ignore(err, m.refused...) == nil:
		// Refused, nothing written.
	default:
		m.unknown = !m.applied
	}
	return err
}

// check: every reservation's final state agrees with what its callers were
// told, and per SKU on hand = opening − shipped + received units, reserved
// = held units, committed = units committed and neither shipped nor
// returned, incoming = ordered − received − cancelled units, and
// backordered = the units the reservations say they wait for, with
// 0 ≤ reserved + committed ≤ on hand + backordered, backordered within
// the policy's limit, and nothing available while a unit waits. Ship, Return, Receive and
// CancelIncoming calls whose outcome a fault hid are replayed first: each
// then reports whether it applied, once.
func (w *inventoryLoad) check(ctx context.Context, durable bool) []string {
	bad := w.replayUnknown(ctx)
	if w.recoverAfter > 0 {
		// A spread reservation whose client died between its steps holds
		// stock no reservation accounts for until recovery resolves it:
		// let every hold come of age, and sweep.
		time.Sleep(w.recoverAfter)
		if err := retry(ctx, func() error { _, err := w.s.Sweep(ctx); return err }); err != nil {
			bad = append(bad, "recovery sweep: "+err.Error())
		}
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	want := w.wantFromCalls()
	bad = append(bad, w.addReservations(ctx, durable, want)...)
	for _, sku := range w.skus {
		var lv []inventory.Level
		if err := retry(ctx, func() error {
			var err error
			lv, err = w.s.Levels(ctx, inventory.Item{SKU: sku, Location: "wh"})
			return err
		}); err != nil {
			bad = append(bad, "levels: "+err.Error())
			continue
		}
		l, wl := lv[0], want[sku]
		limit := int64(0)
		if sku == backorderSKU {
			limit = backorderLimit
		}
		if l.Reserved < 0 || l.Committed < 0 || l.OnHand < 0 || l.Reserved+l.Committed > l.OnHand+l.Backordered ||
			l.Backordered < 0 || l.Backordered > limit || l.Backordered > 0 && l.Available() != 0 {
			bad = append(bad, fmt.Sprintf("%s oversold: %+v", sku, l))
		}
		if l.OnHand != wl.OnHand || l.Reserved != wl.Reserved || l.Committed != wl.Committed || l.Incoming != wl.Incoming || l.Backordered != wl.Backordered {
			bad = append(bad, fmt.Sprintf("%s: %+v, want on hand %d, reserved %d, committed %d, incoming %d and backordered %d from the reservations, shipments and deliveries",
				sku, l, wl.OnHand, wl.Reserved, wl.Committed, wl.Incoming, wl.Backordered))
		}
	}
	return bad
}

// replayUnknown sends again every unit move whose outcome a fault hid, so
// that each reports whether it applied.
func (w *inventoryLoad) replayUnknown(ctx context.Context) []string {
	var bad []string
	w.mu.Lock()
	moves := w.moves
	w.mu.Unlock()
	for _, m := range moves {
		if !m.unknown {
			continue
		}
		if err := retry(ctx, func() error { return ignore(w.send(ctx, m), m.refused...) }); err != nil {
			bad = append(bad, "replaying "+m.id+": "+err.Error())
		}
	}
	return bad
}

// wantFromCalls returns each SKU's level as the applied unit moves leave
// it, before the reservations' units are added. The caller holds w.mu.
func (w *inventoryLoad) wantFromCalls() map[string]*inventory.Level {
	want := map[string]*inventory.Level{}
	for _, sku := range w.skus {
		want[sku] = &inventory.Level{OnHand: w.start, Incoming: ordered}
	}
	for _, m := range w.moves {
		if m.applied {
			m.effect(want)
		}
	}
	return want
}

// addReservations reads every reservation back, checks it against what
// its callers were told, and adds its units to want. The caller holds
// w.mu.
func (w *inventoryLoad) addReservations(ctx context.Context, durable bool, want map[string]*inventory.Level) []string {
	var bad []string
	for _, id := range w.ids {
		var r inventory.Reservation
		err := retry(ctx, func() error {
			var err error
			r, err = w.s.Reservation(ctx, id)
			return ignore(err, inventory.ErrNotFound)
		})
		switch {
		case err == nil && r.ID == "":
			if durable && w.reserved[id] {
				bad = append(bad, "acknowledged reservation "+id+" lost")
			}
			continue
		case err != nil:
			bad = append(bad, "reservation "+id+": "+err.Error())
			continue
		}
		if durable && w.committed[id] && r.State != inventory.Committed {
			bad = append(bad, fmt.Sprintf("acknowledged commit of %s lost: %v", id, r.State))
		}
		if durable && w.released[id] && r.State == inventory.Committed {
			bad = append(bad, "released "+id+" ended committed")
		}
		for _, l := range r.Lines {
			switch r.State {
			case inventory.Committed:
				want[l.SKU].Committed += l.Quantity
			case inventory.Held:
				want[l.SKU].Reserved += l.Quantity
			}
		}
		for _, b := range r.Backorders {
			want[b.SKU].Backordered += b.Quantity
		}
	}
	return bad
}

// ignore treats the expected business outcomes as answers, not faults.
func ignore(err error, expected ...error) error {
	for _, e := range expected {
		if errors.Is(err, e) {
			return nil
		}
	}
	return err
}

// ---- flash-sale gate ----

type gateLoad struct {
	tally
	g     *seckill.Gate
	units int64

	mu        sync.Mutex
	firsts    map[string]seckill.Admission // request → acknowledged first outcome
	users     map[string]string            // request → user
	tickets   []string                     // acknowledged admitted tickets
	paid      map[string]bool              // acknowledged payments
	cancelled map[string]bool              // acknowledged cancellations
	broken    []string                     // replays that changed their answer
}

func newGateLoad(ctx context.Context, e env) (*gateLoad, error) {
	g, err := seckill.NewRedisGate(e.client, seckill.GateOptions{WaitReplicas: e.replicas, Prefix: e.prefix + ":sale"})
	if err != nil {
		return nil, err
	}
	w := &gateLoad{g: g, units: 120, firsts: map[string]seckill.Admission{}, users: map[string]string{}, paid: map[string]bool{}, cancelled: map[string]bool{}}
	now := time.Now()
	s := seckill.Sale{ID: "flash", SKU: "phone", Units: w.units, Buckets: 4, PerUserLimit: 2,
		Start: now.Add(-time.Minute), End: now.Add(time.Hour), PayWithin: 400 * time.Millisecond}
	if err := retry(ctx, func() error { return g.Open(ctx, s) }); err != nil {
		return nil, err
	}
	return w, nil
}

func (w *gateLoad) name() string { return "gate" }

func (w *gateLoad) step(ctx context.Context, rng *rand.Rand) {
	switch p := rng.IntN(100); {
	case p < 70:
		user := fmt.Sprintf("u%d", rng.IntN(400))
		req := fmt.Sprintf("q%d", rng.Int64())
		a, err := w.g.Admit(ctx, seckill.AdmitRequest{SaleID: "flash", UserID: user, RequestID: req, Quantity: 1})
		if w.done(err) {
			w.mu.Lock()
			w.firsts[req], w.users[req] = a, user
			if a.Outcome == seckill.Admitted {
				w.tickets = append(w.tickets, a.Ticket.ID)
			}
			w.mu.Unlock()
		}
	case p < 85:
		w.mu.Lock()
		var req string
		for r := range w.firsts { // map order is random enough
			req = r
			break
		}
		first, user := w.firsts[req], w.users[req]
		w.mu.Unlock()
		if req == "" {
			return
		}
		a, err := w.g.Admit(ctx, seckill.AdmitRequest{SaleID: "flash", UserID: user, RequestID: req, Quantity: 1})
		// "Sold out" is an answer, not a remembered outcome: a replay of
		// it may be admitted once stock returns. Every other outcome
		// must come back as first given.
		if w.done(err) && first.Outcome != seckill.SoldOut && (a.Outcome != first.Outcome || a.Ticket.ID != first.Ticket.ID) {
			w.mu.Lock()
			w.broken = append(w.broken, fmt.Sprintf("replay of %s: %v %s, first %v %s", req, a.Outcome, a.Ticket.ID, first.Outcome, first.Ticket.ID))
			w.mu.Unlock()
		}
	case p < 97:
		w.mu.Lock()
		if len(w.tickets) == 0 {
			w.mu.Unlock()
			return
		}
		t := w.tickets[rng.IntN(len(w.tickets))]
		w.mu.Unlock()
		ref := seckill.TicketRef{SaleID: "flash", TicketID: t}
		switch q := rng.IntN(10); {
		case q < 6:
			_, err := w.g.Pay(ctx, ref)
			if w.done(ignore(err, seckill.ErrTicketExpired)) && err == nil {
				w.mu.Lock()
				w.paid[t] = true
				w.mu.Unlock()
			}
		case q < 8:
			// A cancelled ticket's unit goes back at once; paying it
			// afterwards must fail.
			_, err := w.g.Cancel(ctx, ref)
			if w.done(ignore(err, seckill.ErrTicketPaid)) && err == nil {
				w.mu.Lock()
				w.cancelled[t] = true
				w.mu.Unlock()
			}
		default:
			_, err := w.g.Extend(ctx, seckill.ExtendRequest{SaleID: "flash", TicketID: t, PayWithin: 300 * time.Millisecond})
			w.done(ignore(err, seckill.ErrTicketExpired, seckill.ErrTicketPaid))
		}
	default:
		_, err := w.g.Sweep(ctx, "flash")
		w.done(err)
	}
}

// check: replays returned their first outcome; every acknowledged payment
// is still paid; no ticket was acknowledged both cancelled and paid; the
// books balance (Remaining + Held + Paid = Units) and paid units never
// exceed them.
func (w *gateLoad) check(ctx context.Context, durable bool) []string {
	w.mu.Lock()
	defer w.mu.Unlock()
	bad := append([]string(nil), w.broken...)
	for t := range w.cancelled {
		if w.paid[t] {
			bad = append(bad, "ticket "+t+" acknowledged both cancelled and paid")
		}
	}
	if durable {
		for t := range w.paid {
			if err := retry(ctx, func() error { _, err := w.g.Pay(ctx, seckill.TicketRef{SaleID: "flash", TicketID: t}); return err }); err != nil {
				bad = append(bad, "acknowledged payment of "+t+" lost: "+err.Error())
			}
		}
	}
	var st seckill.SaleStatus
	if err := retry(ctx, func() error {
		var err error
		st, err = w.g.Status(ctx, "flash")
		return err
	}); err != nil {
		return append(bad, "status: "+err.Error())
	}
	if st.Units != w.units || st.Remaining+st.Held+st.Paid != st.Units || st.Remaining < 0 || st.Held < 0 {
		bad = append(bad, fmt.Sprintf("books broken: %+v", st))
	}
	if durable && int64(len(w.paid)) > st.Paid {
		bad = append(bad, fmt.Sprintf("%d payments acknowledged, %d units paid", len(w.paid), st.Paid))
	}
	return bad
}

// ---- ledger ----

type ledgerLoad struct {
	tally
	l        *payout.Ledger
	accounts []string

	mu       sync.Mutex
	acked    map[string]payout.Transaction
	reversed map[string]string // acknowledged reversals: original → reversal
	ids      []string
}

func newLedgerLoad(_ context.Context, e env) (*ledgerLoad, error) {
	l, err := payout.NewRedisLedger(e.client, payout.LedgerOptions{Prefix: e.prefix + ":pay", WaitReplicas: e.replicas})
	if err != nil {
		return nil, err
	}
	return &ledgerLoad{l: l, accounts: []string{"buyer", "shop", "platform", "courier", "referrer"},
		acked: map[string]payout.Transaction{}, reversed: map[string]string{}}, nil
}

func (w *ledgerLoad) name() string { return "ledger" }

func (w *ledgerLoad) step(ctx context.Context, rng *rand.Rand) {
	if rng.IntN(10) == 0 {
		w.mu.Lock()
		if len(w.ids) == 0 {
			w.mu.Unlock()
			return
		}
		id := w.ids[rng.IntN(len(w.ids))]
		w.mu.Unlock()
		_, err := w.l.Reverse(ctx, payout.ReverseRequest{ID: "rev-" + id, Transaction: id})
		if w.done(ignore(err, payout.ErrAlreadyReversed, payout.ErrNotFound, payout.ErrInvalidInput)) && err == nil {
			w.mu.Lock()
			w.reversed[id] = "rev-" + id
			w.mu.Unlock()
		}
		return
	}
	a, b := rng.Perm(len(w.accounts))[0], rng.Perm(len(w.accounts))[1]
	if a == b {
		b = (a + 1) % len(w.accounts)
	}
	amount := 1 + rng.Int64N(10_000)
	tx := payout.Transaction{ID: fmt.Sprintf("t%d", rng.Int64()), Postings: []payout.Posting{
		{Account: w.accounts[a], Amount: -amount}, {Account: w.accounts[b], Amount: amount}}}
	_, err := w.l.Post(ctx, tx)
	if w.done(err) {
		w.mu.Lock()
		w.acked[tx.ID] = tx
		w.ids = append(w.ids, tx.ID)
		w.mu.Unlock()
	}
}

// check: balances sum to zero, every acknowledged posting and reversal is
// there, and a transaction's balances match what it posted.
func (w *ledgerLoad) check(ctx context.Context, durable bool) []string {
	var bad []string
	var bs []payout.Balance
	if err := retry(ctx, func() error {
		var err error
		bs, err = w.l.Balances(ctx, w.accounts...)
		return err
	}); err != nil {
		return []string{"balances: " + err.Error()}
	}
	var sum int64
	for _, b := range bs {
		sum += b.Available + b.Pending
	}
	if sum != 0 {
		bad = append(bad, fmt.Sprintf("balances sum to %d, not 0", sum))
	}
	if !durable {
		return bad
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	for id := range w.acked {
		var p payout.Posted
		if err := retry(ctx, func() error {
			var err error
			p, err = w.l.Transaction(ctx, id)
			return ignore(err, payout.ErrNotFound)
		}); err != nil || p.ID != id {
			bad = append(bad, fmt.Sprintf("acknowledged posting %s lost: %v", id, err))
		} else if rev, ok := w.reversed[id]; ok && p.ReversedBy != rev {
			bad = append(bad, fmt.Sprintf("acknowledged reversal of %s lost", id))
		}
	}
	return bad
}

// ---- coupon redemptions ----

type couponLoad struct {
	tally
	r      *pricing.Redemptions
	limits pricing.CouponLimits

	mu     sync.Mutex
	orders []string
	over   []string
}

func newCouponLoad(_ context.Context, e env) (*couponLoad, error) {
	r, err := pricing.NewRedisRedemptions(e.client, pricing.RedemptionsOptions{Prefix: e.prefix + ":coupon"})
	if err != nil {
		return nil, err
	}
	// The budget binds before the use count does at the mean amount (30):
	// both limits are exercised.
	return &couponLoad{r: r, limits: pricing.CouponLimits{Global: 25, PerCustomer: 2, Budget: 500}}, nil
}

func (w *couponLoad) name() string { return "coupons" }

func (w *couponLoad) step(ctx context.Context, rng *rand.Rand) {
	switch p := rng.IntN(100); {
	case p < 60:
		order := fmt.Sprintf("o%d", rng.Int64())
		ttl := time.Minute
		if rng.IntN(3) == 0 {
			ttl = 300 * time.Millisecond
		}
		cust := fmt.Sprintf("c%d", rng.IntN(40))
		_, err := w.r.Reserve(ctx, pricing.HoldRequest{Coupon: "SALE", Limits: w.limits, Customer: cust, OrderID: order, TTL: ttl, Amount: 1 + rng.Int64N(60)})
		if w.done(ignore(err, pricing.ErrGlobalLimit, pricing.ErrCustomerLimit, pricing.ErrBudgetExhausted)) && err == nil {
			w.mu.Lock()
			w.orders = append(w.orders, order)
			w.mu.Unlock()
			if u, err := w.r.Usage(ctx, pricing.UsageQuery{Coupon: "SALE", Customer: cust}); err == nil && (u.Global > w.limits.Global || u.Customer > w.limits.PerCustomer || u.Spent > w.limits.Budget) {
				w.mu.Lock()
				w.over = append(w.over, fmt.Sprintf("usage %+v over the limits", u))
				w.mu.Unlock()
			}
		}
	default:
		w.mu.Lock()
		if len(w.orders) == 0 {
			w.mu.Unlock()
			return
		}
		order := w.orders[rng.IntN(len(w.orders))]
		w.mu.Unlock()
		var err error
		if p < 80 {
			_, err = w.r.Commit(ctx, pricing.RedemptionRef{Coupon: "SALE", OrderID: order})
		} else {
			_, err = w.r.Release(ctx, pricing.RedemptionRef{Coupon: "SALE", OrderID: order})
		}
		w.done(ignore(err, pricing.ErrNotHeld, pricing.ErrNotFound))
	}
}

// check: uses and the amount spent never went past the limits, and stay
// within them.
func (w *couponLoad) check(ctx context.Context, _ bool) []string {
	w.mu.Lock()
	bad := append([]string(nil), w.over...)
	w.mu.Unlock()
	var u pricing.CouponUsage
	if err := retry(ctx, func() error {
		var err error
		u, err = w.r.Usage(ctx, pricing.UsageQuery{Coupon: "SALE", Customer: "c0"})
		return err
	}); err != nil {
		return append(bad, "usage: "+err.Error())
	}
	if u.Global < 0 || u.Global > w.limits.Global || u.Customer < 0 || u.Customer > w.limits.PerCustomer || u.Spent < 0 || u.Spent > w.limits.Budget {
		bad = append(bad, fmt.Sprintf("final usage %+v outside the limits", u))
	}
	return bad
}

// ---- locks with fencing ----

type lockLoad struct {
	tally
	lk    *seckill.Locker
	fence *seckill.FencedStore

	mu     sync.Mutex
	writes []fencedWrite // accepted writes
	tokens map[int64]int // grants acknowledged per token, readers' and writers'
}

type fencedWrite struct {
	token      int64
	start, end time.Time
}

func newLockLoad(_ context.Context, e env) (*lockLoad, error) {
	lk, err := seckill.NewRedisLocker(e.client, seckill.LockerOptions{Prefix: e.prefix + ":lock"})
	if err != nil {
		return nil, err
	}
	f, err := seckill.NewRedisFencedStore(e.client, seckill.FencedStoreOptions{Prefix: e.prefix + ":fence"})
	if err != nil {
		return nil, err
	}
	return &lockLoad{lk: lk, fence: f, tokens: map[int64]int{}}, nil
}

func (w *lockLoad) name() string { return "locks" }

func (w *lockLoad) step(ctx context.Context, rng *rand.Rand) {
	if rng.IntN(5) < 2 {
		// A reader: shared grants beside other readers, none beside a
		// writer; its token comes from the writers' sequence.
		l, err := w.lk.ObtainShared(ctx, "stock-count", 300*time.Millisecond, seckill.ObtainOptions{})
		if !w.done(ignore(err, seckill.ErrNotObtained)) || l == nil {
			return
		}
		w.mu.Lock()
		w.tokens[l.Token()]++
		w.mu.Unlock()
		_, err = w.fence.Read(ctx, "stock-count")
		w.done(err)
		w.done(ignore(l.Release(ctx), seckill.ErrNotHeld))
		return
	}
	l, err := w.lk.Obtain(ctx, "stock-count", 300*time.Millisecond, seckill.ObtainOptions{})
	if !w.done(ignore(err, seckill.ErrNotObtained)) || l == nil {
		return
	}
	w.mu.Lock()
	w.tokens[l.Token()]++
	w.mu.Unlock()
	start := time.Now()
	err = w.fence.Write(ctx, seckill.FencedWrite{Resource: "stock-count", Token: l.Token(), Value: fmt.Sprint(rng.Int())})
	end := time.Now()
	if w.done(ignore(err, seckill.ErrStaleToken)) && err == nil {
		w.mu.Lock()
		w.writes = append(w.writes, fencedWrite{token: l.Token(), start: start, end: end})
		w.mu.Unlock()
	}
	w.done(ignore(l.Release(ctx), seckill.ErrNotHeld))
}

// check: an accepted write never carries a smaller token than a write
// accepted before it began (fencing holds even when leases overlap), and
// no two grants, shared or exclusive, were given one token.
func (w *lockLoad) check(_ context.Context, durable bool) []string {
	if !durable {
		return nil // a failover can take the token counter back
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	var bad []string
	for t, n := range w.tokens {
		if n > 1 {
			bad = append(bad, fmt.Sprintf("token %d granted %d times", t, n))
		}
	}
	for _, a := range w.writes {
		for _, b := range w.writes {
			if b.start.After(a.end) && b.token < a.token {
				bad = append(bad, fmt.Sprintf("write with token %d accepted after one with %d", b.token, a.token))
			}
		}
	}
	return bad
}

// ---- rate limiter ----

type limiterLoad struct {
	tally
	l       *seckill.Limiter
	limit   seckill.Limit
	began   time.Time
	allowed atomic.Int64
}

func newLimiterLoad(_ context.Context, e env) (*limiterLoad, error) {
	l, err := seckill.NewRedisLimiter(e.client, seckill.LimiterOptions{Prefix: e.prefix + ":rate"})
	if err != nil {
		return nil, err
	}
	return &limiterLoad{l: l, limit: seckill.Limit{Rate: 100, Period: time.Second, Burst: 20}, began: time.Now()}, nil
}

func (w *limiterLoad) name() string { return "limiter" }

func (w *limiterLoad) step(ctx context.Context, _ *rand.Rand) {
	r, err := w.l.Allow(ctx, "checkout", w.limit)
	if w.done(err) && r.Allowed > 0 {
		w.allowed.Add(int64(r.Allowed))
	}
}

// check: the limiter never allowed more than its burst plus its rate over
// the run.
func (w *limiterLoad) check(_ context.Context, durable bool) []string {
	most := int64(float64(w.limit.Burst) + w.limit.Rate*time.Since(w.began).Seconds())
	if !durable {
		most += int64(w.limit.Burst) // a restart may forget one burst
	}
	if n := w.allowed.Load(); n > most {
		return []string{fmt.Sprintf("allowed %d events, at most %d possible", n, most)}
	}
	return nil
}

// ---- merge windows ----

type mergeLoad struct {
	tally
	m *logistics.Merge

	mu    sync.Mutex
	added map[string]string // acknowledged order → key
	grams map[string]int64
}

func newMergeLoad(_ context.Context, e env) (*mergeLoad, error) {
	m, err := logistics.NewRedisMerge(e.client, logistics.MergeOptions{Prefix: e.prefix + ":merge", Window: time.Minute})
	if err != nil {
		return nil, err
	}
	return &mergeLoad{m: m, added: map[string]string{}, grams: map[string]int64{}}, nil
}

func (w *mergeLoad) name() string { return "merge" }

func (w *mergeLoad) step(ctx context.Context, rng *rand.Rand) {
	key := fmt.Sprintf("k%d", rng.IntN(20))
	order := fmt.Sprintf("m%d", rng.Int64())
	grams := 1 + rng.Int64N(5000)
	_, err := w.m.Add(ctx, logistics.MergeOrder{Key: key, OrderID: order, Grams: grams})
	if w.done(err) {
		w.mu.Lock()
		w.added[order], w.grams[order] = key, grams
		w.mu.Unlock()
	}
}

// check: every acknowledged order is in one group of its key, and each
// group weighs what its orders weigh.
func (w *mergeLoad) check(ctx context.Context, durable bool) []string {
	w.mu.Lock()
	defer w.mu.Unlock()
	var bad []string
	for order, key := range w.added {
		var g logistics.Group
		err := retry(ctx, func() error {
			var err error
			g, err = w.m.Group(ctx, logistics.MergeRef{Key: key, OrderID: order})
			return ignore(err, logistics.ErrNotFound)
		})
		if err != nil || g.ID == "" {
			if durable {
				bad = append(bad, fmt.Sprintf("acknowledged order %s lost: %v", order, err))
			}
			continue
		}
		var sum int64
		for _, o := range g.Orders {
			sum += o.Grams
		}
		if sum != g.Grams {
			bad = append(bad, fmt.Sprintf("group %s weighs %d, its orders %d", g.ID, g.Grams, sum))
		}
	}
	return bad
}

// ---- funnel ingest ----

type funnelLoad struct {
	tally
	s    *funnel.Store
	from time.Time

	mu    sync.Mutex
	acked map[string]bool
	sent  map[string]bool
}

func newFunnelLoad(_ context.Context, e env) (*funnelLoad, error) {
	s, err := funnel.NewRedis(e.client, funnel.Options{Prefix: e.prefix + ":funnel", Shards: 4})
	if err != nil {
		return nil, err
	}
	return &funnelLoad{s: s, from: time.Now().Add(-time.Minute), acked: map[string]bool{}, sent: map[string]bool{}}, nil
}

func (w *funnelLoad) name() string { return "funnel" }

func (w *funnelLoad) step(ctx context.Context, rng *rand.Rand) {
	var batch []funnel.Event
	for range 1 + rng.IntN(8) {
		// Event n is always the same event, so drawing n again is a
		// replay, as a client resending a batch would make.
		n := rng.IntN(20_000)
		batch = append(batch, funnel.Event{ID: fmt.Sprintf("e%d", n), UserID: fmt.Sprintf("v%d", n%50),
			Name: []string{"view", "cart", "order"}[n%3], Time: w.from.Add(time.Duration(n) * time.Millisecond)})
	}
	w.mu.Lock()
	for _, e := range batch {
		w.sent[e.ID] = true
	}
	w.mu.Unlock()
	_, err := w.s.Ingest(ctx, batch)
	if w.done(err) {
		w.mu.Lock()
		for _, e := range batch {
			w.acked[e.ID] = true
		}
		w.mu.Unlock()
	}
}

// check: every acknowledged event is stored exactly once, and nothing that
// was never sent is.
func (w *funnelLoad) check(ctx context.Context, durable bool) []string {
	seen := map[string]int{}
	err := retry(ctx, func() error {
		clear(seen)
		return w.s.Scan(ctx, funnel.ScanRequest{From: w.from, To: time.Now().Add(time.Minute)}, func(_ string, events []funnel.Event) error {
			for _, e := range events {
				seen[e.ID]++
			}
			return nil
		})
	})
	if err != nil {
		return []string{"scan: " + err.Error()}
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	var bad []string
	for id, n := range seen {
		if n > 1 {
			bad = append(bad, fmt.Sprintf("event %s stored %d times", id, n))
		}
		if !w.sent[id] {
			bad = append(bad, "event "+id+" was never sent")
		}
	}
	if durable {
		for id := range w.acked {
			if seen[id] == 0 {
				bad = append(bad, "acknowledged event "+id+" lost")
			}
		}
	}
	return bad
}

// ---- profit sharing on a guarded ledger ----

type sharingLoad struct {
	tally
	l *payout.Ledger
	s *payout.Sharing

	mu       sync.Mutex
	orders   []string
	shares   []sharedTo // acknowledged shares
	accounts map[string]bool
}

type sharedTo struct{ order, share, receiver string }

var sharingReceivers = []string{"brand-a", "brand-b", "kol-1", "kol-2"}

func newSharingLoad(ctx context.Context, e env) (*sharingLoad, error) {
	l, err := payout.NewRedisLedger(e.client, payout.LedgerOptions{Prefix: e.prefix + ":share", WaitReplicas: e.replicas, GuardBalances: true})
	if err != nil {
		return nil, err
	}
	var s *payout.Sharing
	if err := retry(ctx, func() error {
		s, err = payout.NewSharing(ctx, l, payout.SharingOptions{PersonalMonthlyCap: 200_000})
		return err
	}); err != nil {
		return nil, err
	}
	w := &sharingLoad{l: l, s: s, accounts: map[string]bool{"sharing.clearing": true, "sharing.fees": true, "sharing.control": true, "merchant": true}}
	for _, r := range sharingReceivers {
		w.accounts[r] = true
		w.accounts["sharing.cap."+r+"."+time.Now().UTC().Format("200601")] = true
	}
	return w, nil
}

func (w *sharingLoad) name() string { return "sharing" }

func (w *sharingLoad) pickOrder(rng *rand.Rand) (string, bool) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if len(w.orders) == 0 {
		return "", false
	}
	return w.orders[rng.IntN(len(w.orders))], true
}

func (w *sharingLoad) step(ctx context.Context, rng *rand.Rand) {
	id := fmt.Sprintf("x%d", rng.Int64())
	switch p := rng.IntN(100); {
	case p < 25:
		order := "o" + id
		w.mu.Lock()
		w.accounts["sharing.frozen."+order] = true
		w.mu.Unlock()
		_, err := w.s.Freeze(ctx, payout.FreezeRequest{ID: "pay-" + id, OrderID: order, Amount: 1000 + rng.Int64N(9000), Fee: rng.Int64N(60)})
		if w.done(err) {
			w.mu.Lock()
			w.orders = append(w.orders, order)
			w.mu.Unlock()
		}
	case p < 65:
		order, ok := w.pickOrder(rng)
		if !ok {
			return
		}
		var rs []payout.Receiver
		for _, i := range rng.Perm(len(sharingReceivers))[:1+rng.IntN(3)] {
			rs = append(rs, payout.Receiver{Account: sharingReceivers[i], Amount: 1 + rng.Int64N(2000), Personal: strings.HasPrefix(sharingReceivers[i], "kol")})
		}
		w.mu.Lock()
		for _, r := range rs {
			w.accounts["sharing.ret."+strconv.Itoa(len(id))+"."+id+"."+r.Account] = true
		}
		w.mu.Unlock()
		_, err := w.s.Share(ctx, payout.ShareRequest{ID: id, OrderID: order, Receivers: rs})
		if w.done(ignore(err, payout.ErrInsufficientFunds, payout.ErrMonthlyCap)) && err == nil {
			w.mu.Lock()
			for _, r := range rs {
				w.shares = append(w.shares, sharedTo{order: order, share: id, receiver: r.Account})
			}
			w.mu.Unlock()
		}
	case p < 75:
		order, ok := w.pickOrder(rng)
		if !ok {
			return
		}
		_, err := w.s.Refund(ctx, payout.RefundRequest{ID: id, OrderID: order, Amount: 1 + rng.Int64N(3000)})
		w.done(ignore(err, payout.ErrInsufficientFunds))
	case p < 90:
		w.mu.Lock()
		if len(w.shares) == 0 {
			w.mu.Unlock()
			return
		}
		sh := w.shares[rng.IntN(len(w.shares))]
		w.mu.Unlock()
		_, err := w.s.Return(ctx, payout.ReturnRequest{ID: id, OrderID: sh.order, ShareID: sh.share, Receiver: sh.receiver, Amount: 1 + rng.Int64N(1500)})
		w.done(ignore(err, payout.ErrInsufficientFunds))
	default:
		order, ok := w.pickOrder(rng)
		if !ok {
			return
		}
		_, err := w.s.Unfreeze(ctx, payout.UnfreezeRequest{ID: id, OrderID: order, Merchant: "merchant"})
		w.done(ignore(err, payout.ErrNothingFrozen, payout.ErrInsufficientFunds))
	}
}

// check: no guarded account is below zero and the books sum to zero;
// durable: every acknowledged share is in the ledger.
func (w *sharingLoad) check(ctx context.Context, durable bool) []string {
	w.mu.Lock()
	accounts := make([]string, 0, len(w.accounts))
	for a := range w.accounts {
		accounts = append(accounts, a)
	}
	shares := append([]sharedTo(nil), w.shares...)
	w.mu.Unlock()
	var bad []string
	var sum int64
	for i := 0; i < len(accounts); i += 200 {
		part := accounts[i:min(i+200, len(accounts))]
		var bs []payout.Balance
		if err := retry(ctx, func() error {
			var err error
			bs, err = w.l.Balances(ctx, part...)
			return err
		}); err != nil {
			return append(bad, "balances: "+err.Error())
		}
		for _, b := range bs {
			sum += b.Total()
			guarded := b.Account != "sharing.clearing" && b.Account != "sharing.control"
			if guarded && (b.Available < 0 || b.Pending < 0) {
				bad = append(bad, fmt.Sprintf("%s below zero: %+v", b.Account, b))
			}
		}
	}
	if sum != 0 {
		bad = append(bad, fmt.Sprintf("sharing books sum to %d, not 0", sum))
	}
	if durable {
		for _, sh := range shares {
			if err := retry(ctx, func() error {
				_, err := w.l.Transaction(ctx, sh.share)
				return err
			}); err != nil {
				bad = append(bad, fmt.Sprintf("acknowledged share %s lost: %v", sh.share, err))
			}
		}
	}
	return bad
}
