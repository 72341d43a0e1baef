package seckill

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/shopkit/shopkit/internal/keyspace"
)

// Gate errors. ErrNotFound and ErrIDConflict are the kinds every package
// of the module shares; the errors below them say which ID.
var (
	// ErrNotFound is matched by ErrUnknownSale and ErrUnknownTicket.
	ErrNotFound = errors.New("seckill: not found")
	// ErrIDConflict is matched by ErrSaleConflict and ErrRequestConflict:
	// an ID was used again for something different.
	ErrIDConflict = errors.New("seckill: ID already used for something different")
	// ErrUnknownSale means no sale has the given ID. It matches
	// ErrNotFound.
	ErrUnknownSale error = &kindError{"seckill: unknown sale", ErrNotFound}
	// ErrSaleConflict means a sale ID was opened again with a different
	// definition. It matches ErrIDConflict.
	ErrSaleConflict error = &kindError{"seckill: sale ID already used for a different sale", ErrIDConflict}
	// ErrRequestConflict means a request ID was reused with different
	// parameters. It matches ErrIDConflict.
	ErrRequestConflict error = &kindError{"seckill: request ID already used for a different request", ErrIDConflict}
	// ErrUnknownTicket means no ticket has the given ID. It matches
	// ErrNotFound.
	ErrUnknownTicket error = &kindError{"seckill: unknown ticket", ErrNotFound}
	// ErrTicketExpired means a ticket's payment deadline passed and its
	// units went back to the sale.
	ErrTicketExpired = errors.New("seckill: ticket expired")
	// ErrTicketPaid means a ticket was paid, so it cannot be cancelled:
	// its units are sold.
	ErrTicketPaid = errors.New("seckill: ticket already paid")
	// ErrNotReplicated means a Redis write was applied by the master but
	// fewer than GateOptions.WaitReplicas replicas acknowledged it within
	// WaitTimeout, so a failover now could lose it: the outcome is unknown.
	// Replay the same request (or pay the same ticket) to learn it.
	ErrNotReplicated = errors.New("seckill: write not acknowledged by enough replicas; outcome unknown, replay the request")
)

// kindError is a sentinel that also matches a broader kind with errors.Is.
type kindError struct {
	msg  string
	kind error
}

func (e *kindError) Error() string        { return e.msg }
func (e *kindError) Is(target error) bool { return target == e.kind }

// AdmitRequest asks for units of a sale.
type AdmitRequest struct {
	SaleID string
	UserID string
	// RequestID makes Admit idempotent.
	RequestID string
	// Quantity is how many units: > 0.
	Quantity int64
}

// TicketRef names a ticket of a sale.
type TicketRef struct {
	SaleID   string
	TicketID string
}

// ExtendRequest gives an unpaid ticket more time: its deadline moves to
// PayWithin from now, unless it is later already.
type ExtendRequest struct {
	SaleID    string
	TicketID  string
	PayWithin time.Duration // > 0, at most MaxPayWithin
}

// MaxPayWithin bounds ExtendRequest.PayWithin: a ticket holds units other
// buyers are waiting for.
const MaxPayWithin = 24 * time.Hour

// Sale defines a flash sale.
type Sale struct {
	ID    string
	SKU   string
	Units int64 // units on sale, pre-warmed into the gate
	// Start and End bound the sale window: [Start, End).
	Start, End time.Time
	// PerUserLimit is the most units one user may be admitted for.
	PerUserLimit int64
	// PayWithin is how long an admitted buyer has to pay before the units
	// return to the sale. Default 15 minutes.
	PayWithin time.Duration
	// Buckets splits the stock over this many buckets (default 1). On
	// Redis each bucket has its own hash tag, so a hot sale spreads over a
	// Cluster's nodes instead of pinning one. Each buyer is served by one
	// bucket (chosen by a hash of the user ID, which keeps the per-buyer
	// limit exact); when it runs dry, stock moves from the others. At most
	// Units are ever sold; stock in transit during a crash is lost to the
	// sale rather than sold twice.
	Buckets int
}

// Outcome is the result of an admission attempt.
type Outcome int

// Admission outcomes.
const (
	Admitted Outcome = iota + 1
	SoldOut
	LimitReached
	NotStarted
	Ended
	RateLimited
)

// String returns the outcome's name.
func (o Outcome) String() string {
	switch o {
	case Admitted:
		return "admitted"
	case SoldOut:
		return "sold out"
	case LimitReached:
		return "limit reached"
	case NotStarted:
		return "not started"
	case Ended:
		return "ended"
	case RateLimited:
		return "rate limited"
	}
	return "Outcome(" + strconv.Itoa(int(o)) + ")"
}

// Ticket is an admitted buyer's claim on units, to be paid before Deadline.
type Ticket struct {
	ID       string
	SaleID   string
	UserID   string
	Quantity int64
	Deadline time.Time
}

// Admission is the answer to Admit.
type Admission struct {
	Outcome Outcome
	// Ticket is set when Outcome is Admitted.
	Ticket Ticket
	// Replayed is true when the request ID was seen before and this is its
	// first outcome.
	Replayed bool
}

// SaleStatus is a sale's counters. Remaining + Held + Paid = Units, except
// while stock moves between a sale's buckets (see Gate.Status).
type SaleStatus struct {
	Units     int64
	Remaining int64 // not yet admitted, or returned by expired tickets
	Held      int64 // admitted, awaiting payment
	Paid      int64
}

// gateBackend is the state of sales: memoryGate and redisGate implement it.
type gateBackend interface {
	// open opens one bucket; s.ID is the bucket's ID and s.Units its share.
	open(ctx context.Context, s Sale) error
	// buckets returns how many buckets sale saleID (bucket 0's ID) has.
	buckets(ctx context.Context, saleID string) (int, error)
	// admit admits in one bucket. A sold-out outcome is not remembered
	// for the request, so it can be retried after stock moves in.
	admit(ctx context.Context, saleID, userID, requestID string, qty int64) (Admission, error)
	// replay returns a request's recorded outcome (found false if it has
	// none) without changing anything: the sold-out path's one read.
	replay(ctx context.Context, saleID, userID, requestID string, qty int64) (a Admission, found bool, err error)
	// take removes up to half of a bucket's remaining stock, at least min,
	// returning what it took (0 if it has less than min); give adds stock.
	// Each is an operation (opID) the gate may repeat after an error: on
	// Redis it applies once however often it is sent.
	take(ctx context.Context, saleID string, min int64, opID string) (int64, error)
	give(ctx context.Context, saleID string, n int64, opID string) error
	// announce tells other instances a sale sold out or reopened.
	announce(ctx context.Context, saleID string, soldOut bool)
	pay(ctx context.Context, saleID, ticketID string) (Ticket, error)
	sweep(ctx context.Context, saleID string) (int, error)
	// cancel returns a held ticket's units at once; cancelling a ticket
	// already expired or cancelled returns nothing more.
	cancel(ctx context.Context, saleID, ticketID string) (Ticket, error)
	// ended reports whether the sale (a bucket 0 ID) has ended, by the
	// backend's clock (the Memory gate's Now, this process's on Redis).
	ended(ctx context.Context, saleID string) (bool, error)
	// settle records a sale's settlement once and returns the recorded
	// one: the first call's numbers, whatever later calls pass.
	settle(ctx context.Context, saleID string, sold, unsold int64) (int64, int64, error)
	// extend moves a held ticket's deadline to within from now, if later.
	extend(ctx context.Context, saleID, ticketID string, within time.Duration) (Ticket, error)
	status(ctx context.Context, saleID string) (SaleStatus, error)
	consume(ctx context.Context, saleID, group, consumer string, count int, minIdle time.Duration) ([]QueuedTicket, error)
	ack(ctx context.Context, saleID, group string, ids []string) error
	close() error
}

// Gate admits buyers to flash sales: one atomic step checks the window,
// the stock and the buyer's limit, takes the units, records the buyer and
// issues a ticket to pay within the sale's PayWithin. Once a sale is sold
// out, this Gate answers SoldOut from memory without touching the backend
// until stock returns (an unpaid ticket expires). Every Admit is
// idempotent by its request ID. A Gate is safe for concurrent use.
type Gate struct {
	backend gateBackend
	limiter *Limiter
	limit   Limit
	observe Observer

	// soldOut maps the sales this gate believes sold out to when it stops
	// believing it (unix ns): a map that is replaced, never changed, so
	// Admit reads it with one atomic load.
	mu      sync.Mutex
	soldOut atomic.Pointer[map[string]int64]
	recheck time.Duration

	bucketCount sync.Map // sale ID -> number of buckets (immutable per sale)
}

// GateOptions configure a Gate. The zero value means no rate limit and the
// documented defaults.
type GateOptions struct {
	// Prefix starts every Redis key. Default "shopkit:sale". Redis only.
	Prefix string
	// Now is the Memory gate's clock. Default time.Now. A Redis gate
	// uses the server's TIME.
	Now func() time.Time
	// Observer, if set, receives an Observation of every call.
	Observer Observer
	// Limiter, if set, limits each user's admission attempts to PerUser;
	// refused attempts return RateLimited without touching the sale.
	Limiter *Limiter
	PerUser Limit
	// SoldOutRecheck bounds how long the gate trusts its own "sold out"
	// flag for a sale (default 1s). Redis gates clear the flag when
	// another instance announces a reopen over pub/sub; an announcement
	// missed during a reconnect would otherwise keep the sale shut while
	// stock exists. After SoldOutRecheck the next Admit asks the backend
	// again, which sets the flag anew if the sale is still sold out.
	SoldOutRecheck time.Duration
	// WaitReplicas, if positive, makes every write of a Redis gate (open,
	// admissions, payment, stock moves) wait until that many replicas have
	// acknowledged it (WAIT), up to WaitTimeout (default 1s), before the
	// call reports success; if they do not, it returns ErrNotReplicated.
	// See the package doc on durability. Needs a *redis.Client (standalone
	// or failover) or *redis.ClusterClient. Memory gates ignore it.
	WaitReplicas int
	// WaitTimeout bounds the wait for WaitReplicas. Default 1s.
	WaitTimeout time.Duration
	// Retention is how long a sale's records (its buyers, requests,
	// tickets and order queue) are kept after the sale ends and its last
	// payment deadline passes; then they are deleted (Redis expires the
	// keys; Memory drops the sale) and the sale is unknown. Default 7
	// days.
	Retention time.Duration
}

// defaultRetention is GateOptions.Retention's default.
const defaultRetention = 7 * 24 * time.Hour

func retentionOf(opts GateOptions) time.Duration {
	if opts.Retention <= 0 {
		return defaultRetention
	}
	return opts.Retention
}

// defaultSoldOutRecheck is GateOptions.SoldOutRecheck's default: long
// enough that a sold-out storm costs the backend one admission per
// second, short enough that a missed reopen is over quickly.
const defaultSoldOutRecheck = time.Second

func newGate(b gateBackend, opts GateOptions) *Gate {
	g := &Gate{backend: b, limiter: opts.Limiter, limit: opts.PerUser, recheck: opts.SoldOutRecheck, observe: opts.Observer}
	if g.recheck <= 0 {
		g.recheck = defaultSoldOutRecheck
	}
	g.soldOut.Store(&map[string]int64{})
	return g
}

func checkSale(s *Sale) error {
	if rule := keyspace.CheckID(s.ID); rule != "" {
		return &InputError{Field: "ID", Rule: rule}
	}
	if rule := keyspace.CheckID(s.SKU); rule != "" {
		return &InputError{Field: "SKU", Rule: rule}
	}
	switch {
	case s.Units <= 0 || s.Units > 1<<53-1:
		return &InputError{Field: "Units", Rule: "must be in 1..2^53-1"}
	case s.PerUserLimit <= 0:
		return &InputError{Field: "PerUserLimit", Rule: "must be > 0"}
	case s.Start.IsZero() || s.End.IsZero() || !s.End.After(s.Start):
		return &InputError{Field: "End", Rule: "must be after Start (both set)"}
	case s.PayWithin < 0:
		return &InputError{Field: "PayWithin", Rule: "must be ≥ 0"}
	case s.Buckets < 0 || s.Buckets > 1024:
		return &InputError{Field: "Buckets", Rule: "must be in 0..1024"}
	case int64(s.Buckets) > s.Units:
		return &InputError{Field: "Buckets", Rule: "must not exceed Units"}
	}
	if s.Buckets == 0 {
		s.Buckets = 1
	}
	if s.PayWithin == 0 {
		s.PayWithin = 15 * time.Minute
	}
	if s.PayWithin < time.Millisecond {
		return &InputError{Field: "PayWithin", Rule: "must be at least 1ms"}
	}
	return nil
}

// Open starts accepting a sale. Opening the same sale again is a no-op;
// the same ID with another definition is ErrSaleConflict.
func (g *Gate) Open(ctx context.Context, s Sale) error {
	start := startTimer(g.observe)
	err := g.open(ctx, s)
	g.report(Observation{Op: OpOpen, ID: s.ID, Err: err, Took: since(start)})
	return err
}

func (g *Gate) open(ctx context.Context, s Sale) error {
	if err := checkSale(&s); err != nil {
		return err
	}
	n := int64(s.Buckets)
	for b := int64(0); b < n; b++ {
		part := s
		part.ID = bucketID(s.ID, int(b))
		part.Units = s.Units / n
		if b < s.Units%n {
			part.Units++
		}
		if err := g.backend.open(ctx, part); err != nil {
			return err
		}
	}
	g.bucketCount.Store(s.ID, s.Buckets)
	return nil
}

// Admit asks for qty units of sale saleID for userID. The request ID makes
// it idempotent: replaying it returns the first outcome, on every path.
// Once this gate knows the sale is sold out it answers SoldOut without
// running the admission: it only reads the request's record (a map lookup
// in memory, one HGET in Redis), so a buyer whose first reply was lost
// still gets the ticket it holds.
func (g *Gate) Admit(ctx context.Context, r AdmitRequest) (Admission, error) {
	start := startTimer(g.observe)
	a, err := g.admit(ctx, r.SaleID, r.UserID, r.RequestID, r.Quantity)
	g.report(Observation{Op: OpAdmit, ID: r.RequestID, Err: err, Took: since(start), Replayed: a.Replayed, Admission: a})
	return a, err
}

func (g *Gate) admit(ctx context.Context, saleID, userID, requestID string, qty int64) (Admission, error) {
	for _, f := range [...]struct{ name, v string }{{"SaleID", saleID}, {"UserID", userID}, {"RequestID", requestID}} {
		if rule := keyspace.CheckID(f.v); rule != "" {
			return Admission{}, &InputError{Field: f.name, Rule: rule}
		}
	}
	if qty <= 0 {
		return Admission{}, &InputError{Field: "Quantity", Rule: "must be > 0"}
	}
	if until, out := (*g.soldOut.Load())[saleID]; out && time.Now().UnixNano() < until {
		return g.admitSoldOut(ctx, saleID, userID, requestID, qty)
	}
	if g.limiter != nil {
		res, err := g.limiter.allowPair(ctx, saleID, userID, g.limit)
		if err != nil {
			return Admission{}, err
		}
		if res.Allowed == 0 {
			return Admission{Outcome: RateLimited}, nil
		}
	}
	n, err := g.buckets(ctx, saleID)
	if err != nil {
		return Admission{}, err
	}
	b := bucketOf(userID, n)
	a, err := g.backend.admit(ctx, bucketID(saleID, b), userID, requestID, qty)
	if err == nil && a.Outcome == SoldOut && n > 1 && !a.Replayed {
		a, err = g.rebalanceAndRetry(ctx, saleID, b, n, userID, requestID, qty)
	}
	if err != nil {
		return Admission{}, err
	}
	if a.Outcome == SoldOut && !a.Replayed {
		// Sold out for this quantity; the fast path only takes over once
		// nothing at all is left. Remaining reads 0 too while the last
		// units are in transit between buckets (they are in no bucket
		// then, so the books fall short of Units); flagging the sale then
		// turned buyers away for SoldOutRecheck while those units landed.
		if st, err := g.status(ctx, saleID); err == nil && st.Remaining == 0 && st.Held+st.Paid == st.Units {
			g.markSoldOut(saleID, true)
			g.backend.announce(ctx, saleID, true)
		}
	}
	return inSale(a, saleID, b), nil
}

// admitSoldOut answers a request to a sale this gate knows is sold out:
// its recorded outcome if it has one, else SoldOut (not recorded, so the
// request may still be admitted once stock returns).
func (g *Gate) admitSoldOut(ctx context.Context, saleID, userID, requestID string, qty int64) (Admission, error) {
	n, err := g.buckets(ctx, saleID)
	if err != nil {
		return Admission{}, err
	}
	b := bucketOf(userID, n)
	a, found, err := g.backend.replay(ctx, bucketID(saleID, b), userID, requestID, qty)
	if err != nil {
		return Admission{}, err
	}
	if !found {
		return Admission{Outcome: SoldOut}, nil
	}
	return inSale(a, saleID, b), nil
}

// inSale turns bucket b's admission into the sale's: an admitted ticket
// gets the sale's ID and an ID unique across its buckets.
func inSale(a Admission, saleID string, b int) Admission {
	if a.Outcome == Admitted {
		a.Ticket.SaleID = saleID
		a.Ticket.ID = ticketID(b, a.Ticket.ID)
	}
	return a
}

// Pay marks a ticket paid: its units are sold for good. Paying again is a
// no-op; paying after the deadline is ErrTicketExpired.
func (g *Gate) Pay(ctx context.Context, r TicketRef) (Ticket, error) {
	start := startTimer(g.observe)
	t, err := g.pay(ctx, r.SaleID, r.TicketID)
	g.report(Observation{Op: OpPay, ID: r.TicketID, Err: err, Took: since(start)})
	return t, err
}

func (g *Gate) pay(ctx context.Context, saleID, ticketID string) (Ticket, error) {
	if rule := keyspace.CheckID(saleID); rule != "" {
		return Ticket{}, &InputError{Field: "SaleID", Rule: rule}
	}
	if rule := keyspace.CheckID(ticketID); rule != "" {
		return Ticket{}, &InputError{Field: "TicketID", Rule: rule}
	}
	b, id := splitTicketID(ticketID)
	t, err := g.backend.pay(ctx, bucketID(saleID, b), id)
	if errors.Is(err, ErrTicketExpired) {
		g.markSoldOut(saleID, false) // its units went back
		g.backend.announce(ctx, saleID, false)
	}
	if err != nil {
		return Ticket{}, err
	}
	t.SaleID, t.ID = saleID, ticketID
	return t, nil
}

// Extend gives an unpaid ticket until PayWithin from now to be paid (a
// deadline already later stays): for a payment that is under way when the
// deadline nears. A ticket past its deadline is ErrTicketExpired (its
// units went back), a paid one ErrTicketPaid.
func (g *Gate) Extend(ctx context.Context, r ExtendRequest) (Ticket, error) {
	start := startTimer(g.observe)
	t, err := g.extend(ctx, r)
	g.report(Observation{Op: OpExtend, ID: r.TicketID, Err: err, Took: since(start)})
	return t, err
}

func (g *Gate) extend(ctx context.Context, r ExtendRequest) (Ticket, error) {
	if rule := keyspace.CheckID(r.SaleID); rule != "" {
		return Ticket{}, &InputError{Field: "SaleID", Rule: rule}
	}
	if rule := keyspace.CheckID(r.TicketID); rule != "" {
		return Ticket{}, &InputError{Field: "TicketID", Rule: rule}
	}
	if r.PayWithin < time.Millisecond || r.PayWithin > MaxPayWithin {
		return Ticket{}, &InputError{Field: "PayWithin", Rule: "must be between 1ms and 24h"}
	}
	b, id := splitTicketID(r.TicketID)
	t, err := g.backend.extend(ctx, bucketID(r.SaleID, b), id, r.PayWithin)
	if errors.Is(err, ErrTicketExpired) {
		g.markSoldOut(r.SaleID, false) // its units went back
		g.backend.announce(ctx, r.SaleID, false)
	}
	if err != nil {
		return Ticket{}, err
	}
	t.SaleID, t.ID = r.SaleID, r.TicketID
	return t, nil
}

// Settle ends a sale with its stock source, exactly once: once no ticket
// awaits payment (the sweep expires the lapsed ones first) and the sale
// has ended or sold out, the units sold and the units left are recorded
// with the sale, and src.Settle is told them. Settling again — after a
// crash between the two steps, or from another instance — tells src the
// same numbers, so a source idempotent by sale ID applies them once. It
// returns ErrSaleNotOver while the sale can still change.
func (g *Gate) Settle(ctx context.Context, s Sale, src StockSource) (Settlement, error) {
	if rule := keyspace.CheckID(s.ID); rule != "" {
		return Settlement{}, &InputError{Field: "ID", Rule: rule}
	}
	if _, err := g.sweep(ctx, s.ID); err != nil {
		return Settlement{}, err
	}
	st, err := g.status(ctx, s.ID)
	if err != nil {
		return Settlement{}, err
	}
	ended, err := g.backend.ended(ctx, bucketID(s.ID, 0))
	if err != nil {
		return Settlement{}, err
	}
	if st.Held > 0 || (st.Remaining > 0 && !ended) {
		return Settlement{}, ErrSaleNotOver
	}
	sold, unsold, err := g.backend.settle(ctx, bucketID(s.ID, 0), st.Paid, st.Units-st.Paid)
	if err != nil {
		return Settlement{}, err
	}
	if err := src.Settle(ctx, s.ID, s.SKU, sold, unsold); err != nil {
		return Settlement{}, fmt.Errorf("seckill: settle %s with its stock source: %w", s.ID, err)
	}
	return Settlement{SaleID: s.ID, Sold: sold, Returned: unsold}, nil
}

// Cancel gives up an unpaid ticket: its units go back to the sale and the
// buyer's quota at once, exactly once, and a sold-out sale reopens.
// Cancelling again, or cancelling a ticket that expired, is a no-op;
// cancelling a paid ticket is ErrTicketPaid; paying a cancelled one is
// ErrTicketExpired.
func (g *Gate) Cancel(ctx context.Context, r TicketRef) (Ticket, error) {
	start := startTimer(g.observe)
	t, err := g.cancel(ctx, r.SaleID, r.TicketID)
	g.report(Observation{Op: OpCancel, ID: r.TicketID, Err: err, Took: since(start)})
	return t, err
}

func (g *Gate) cancel(ctx context.Context, saleID, ticketID string) (Ticket, error) {
	if rule := keyspace.CheckID(saleID); rule != "" {
		return Ticket{}, &InputError{Field: "SaleID", Rule: rule}
	}
	if rule := keyspace.CheckID(ticketID); rule != "" {
		return Ticket{}, &InputError{Field: "TicketID", Rule: rule}
	}
	b, id := splitTicketID(ticketID)
	t, err := g.backend.cancel(ctx, bucketID(saleID, b), id)
	if err != nil {
		return Ticket{}, err
	}
	g.markSoldOut(saleID, false) // its units went back
	g.backend.announce(ctx, saleID, false)
	t.SaleID, t.ID = saleID, ticketID
	return t, nil
}

// Sweep returns the units of every unpaid ticket past its deadline to the
// sale, exactly once each, and reopens a sold-out sale. It returns how
// many tickets expired; a Redis gate expires at most 10,000 a bucket per
// call, leaving the rest to the next. Schedule it, e.g. every few seconds
// during a sale.
func (g *Gate) Sweep(ctx context.Context, saleID string) (int, error) {
	start := startTimer(g.observe)
	n, err := g.sweep(ctx, saleID)
	g.report(Observation{Op: OpSweep, ID: saleID, Err: err, Took: since(start), Expired: n})
	return n, err
}

func (g *Gate) sweep(ctx context.Context, saleID string) (int, error) {
	if rule := keyspace.CheckID(saleID); rule != "" {
		return 0, &InputError{Field: "SaleID", Rule: rule}
	}
	buckets, err := g.buckets(ctx, saleID)
	if err != nil {
		return 0, err
	}
	total := 0
	for b := 0; b < buckets; b++ {
		n, err := g.backend.sweep(ctx, bucketID(saleID, b))
		total += n
		if err != nil {
			return total, err
		}
	}
	if total > 0 {
		g.markSoldOut(saleID, false)
		g.backend.announce(ctx, saleID, false)
	}
	return total, nil
}

// Status returns a sale's counters. Units is exact. A sale with several
// buckets is read bucket by bucket, each read atomic: while stock moves
// between buckets Remaining may read low by the units in transit (never
// high), so Remaining + Held + Paid ≤ Units, with equality whenever no
// move is under way.
func (g *Gate) Status(ctx context.Context, saleID string) (SaleStatus, error) {
	start := startTimer(g.observe)
	st, err := g.status(ctx, saleID)
	g.report(Observation{Op: OpStatus, ID: saleID, Err: err, Took: since(start)})
	return st, err
}

func (g *Gate) status(ctx context.Context, saleID string) (SaleStatus, error) {
	if rule := keyspace.CheckID(saleID); rule != "" {
		return SaleStatus{}, &InputError{Field: "SaleID", Rule: rule}
	}
	buckets, err := g.buckets(ctx, saleID)
	if err != nil {
		return SaleStatus{}, err
	}
	var sum SaleStatus
	for b := 0; b < buckets; b++ {
		st, err := g.backend.status(ctx, bucketID(saleID, b))
		if err != nil {
			return SaleStatus{}, err
		}
		sum.Units += st.Units
		sum.Remaining += st.Remaining
		sum.Held += st.Held
		sum.Paid += st.Paid
	}
	// A bucket read before a move's take and another after its give would
	// count the moved units twice.
	sum.Remaining = min(sum.Remaining, sum.Units-sum.Held-sum.Paid)
	return sum, nil
}

// Close stops background work (the Redis gate's sold-out subscription).
func (g *Gate) Close() error { return g.backend.close() }

// markSoldOut sets the local sold-out flag for the next recheck interval,
// or clears it, copying the set. Flags that have lapsed are dropped while
// copying, so the set holds only sales sold out lately.
func (g *Gate) markSoldOut(saleID string, out bool) {
	g.mu.Lock()
	defer g.mu.Unlock()
	now := time.Now().UnixNano()
	cur := *g.soldOut.Load()
	if until, ok := cur[saleID]; !out && !ok || out && ok && until-now > g.recheck.Nanoseconds()/2 {
		return // nothing to clear, or set recently enough
	}
	next := make(map[string]int64, len(cur)+1)
	for k, until := range cur {
		if until > now {
			next[k] = until
		}
	}
	if out {
		next[saleID] = now + g.recheck.Nanoseconds()
	} else {
		delete(next, saleID)
	}
	g.soldOut.Store(&next)
}

// StockSource hands stock to a sale before it opens, for example by
// reserving it in an inventory so the units cannot also be sold elsewhere.
// The gate declares this interface so it depends on no inventory package;
// the caller adapts its own.
type StockSource interface {
	// Allocate sets aside up to units of sku for the sale and returns how
	// many it set aside. It must be idempotent by saleID: calling it again
	// returns the first answer.
	Allocate(ctx context.Context, saleID, sku string, units int64) (int64, error)
	// Settle closes the sale's allocation: sold units are sold for good,
	// unsold ones go back to the source. Gate.Settle calls it with the
	// same numbers however often it runs, so it must be idempotent by
	// saleID.
	Settle(ctx context.Context, saleID, sku string, sold, unsold int64) error
}

// Settlement is how a sale ended: the units sold and the units returned to
// the stock source.
type Settlement struct {
	SaleID         string
	Sold, Returned int64
}

// ErrSaleNotOver means a sale cannot be settled yet: it has units left to
// sell before its end, or tickets awaiting payment.
var ErrSaleNotOver = errors.New("seckill: sale not over: units left before its end, or tickets awaiting payment")

// OpenFrom pre-warms a sale from src: it allocates up to s.Units of s.SKU
// and opens the sale with what it got. It returns the sale as opened.
func (g *Gate) OpenFrom(ctx context.Context, s Sale, src StockSource) (Sale, error) {
	if err := checkSale(&s); err != nil {
		return Sale{}, err
	}
	got, err := src.Allocate(ctx, s.ID, s.SKU, s.Units)
	if err != nil {
		return Sale{}, err
	}
	if got <= 0 {
		return Sale{}, &InputError{Field: "Units", Rule: "must be available in the stock source"}
	}
	s.Units = min(got, s.Units)
	if int64(s.Buckets) > s.Units {
		s.Buckets = int(s.Units)
	}
	return s, g.Open(ctx, s)
}
