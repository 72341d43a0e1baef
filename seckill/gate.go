package seckill

import (
	"context"
	"errors"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/shopkit/shopkit/internal/keyspace"
)

// Gate errors.
var (
	// ErrUnknownSale means no sale has the given ID.
	ErrUnknownSale = errors.New("seckill: unknown sale")
	// ErrSaleConflict means a sale ID was opened again with a different
	// definition.
	ErrSaleConflict = errors.New("seckill: sale ID already used for a different sale")
	// ErrRequestConflict means a request ID was reused with different
	// parameters.
	ErrRequestConflict = errors.New("seckill: request ID already used for a different request")
	// ErrUnknownTicket means no ticket has the given ID.
	ErrUnknownTicket = errors.New("seckill: unknown ticket")
	// ErrTicketExpired means a ticket's payment deadline passed and its
	// units went back to the sale.
	ErrTicketExpired = errors.New("seckill: ticket expired")
)

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

// SaleStatus is a sale's counters. Remaining + Held + Paid = Units, always.
type SaleStatus struct {
	Units     int64
	Remaining int64 // not yet admitted, or returned by expired tickets
	Held      int64 // admitted, awaiting payment
	Paid      int64
}

// gateBackend is the state of sales: MemoryGate and RedisGate implement it.
type gateBackend interface {
	open(ctx context.Context, s Sale) error
	admit(ctx context.Context, saleID, userID, requestID string, qty int64) (Admission, error)
	pay(ctx context.Context, saleID, ticketID string) (Ticket, error)
	sweep(ctx context.Context, saleID string) (int, error)
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

	// soldOut is the set of sales this gate knows are sold out: a map that
	// is replaced, never changed, so Admit reads it with one atomic load.
	mu      sync.Mutex
	soldOut atomic.Pointer[map[string]struct{}]
}

// GateOptions configure a Gate. The zero value means no rate limit.
type GateOptions struct {
	// Limiter, if set, limits each user's admission attempts to PerUser;
	// refused attempts return RateLimited without touching the sale.
	Limiter *Limiter
	PerUser Limit
}

func newGate(b gateBackend, opts GateOptions) *Gate {
	g := &Gate{backend: b, limiter: opts.Limiter, limit: opts.PerUser}
	g.soldOut.Store(&map[string]struct{}{})
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
	if err := checkSale(&s); err != nil {
		return err
	}
	return g.backend.open(ctx, s)
}

// Admit asks for qty units of sale saleID for userID. The request ID makes
// it idempotent: replaying it returns the first outcome.
func (g *Gate) Admit(ctx context.Context, saleID, userID, requestID string, qty int64) (Admission, error) {
	// The sold-out fast path: no allocation, no I/O.
	if _, out := (*g.soldOut.Load())[saleID]; out {
		return Admission{Outcome: SoldOut}, nil
	}
	for _, f := range [...]struct{ name, v string }{{"SaleID", saleID}, {"UserID", userID}, {"RequestID", requestID}} {
		if rule := keyspace.CheckID(f.v); rule != "" {
			return Admission{}, &InputError{Field: f.name, Rule: rule}
		}
	}
	if qty <= 0 {
		return Admission{}, &InputError{Field: "Quantity", Rule: "must be > 0"}
	}
	if g.limiter != nil {
		res, err := g.limiter.Allow(ctx, saleID+"."+userID, g.limit)
		if err != nil {
			return Admission{}, err
		}
		if res.Allowed == 0 {
			return Admission{Outcome: RateLimited}, nil
		}
	}
	a, err := g.backend.admit(ctx, saleID, userID, requestID, qty)
	if err == nil && a.Outcome == SoldOut {
		g.markSoldOut(saleID, true)
	}
	return a, err
}

// Pay marks a ticket paid: its units are sold for good. Paying again is a
// no-op; paying after the deadline is ErrTicketExpired.
func (g *Gate) Pay(ctx context.Context, saleID, ticketID string) (Ticket, error) {
	if rule := keyspace.CheckID(saleID); rule != "" {
		return Ticket{}, &InputError{Field: "SaleID", Rule: rule}
	}
	if rule := keyspace.CheckID(ticketID); rule != "" {
		return Ticket{}, &InputError{Field: "TicketID", Rule: rule}
	}
	t, err := g.backend.pay(ctx, saleID, ticketID)
	if errors.Is(err, ErrTicketExpired) {
		g.markSoldOut(saleID, false) // its units went back
	}
	return t, err
}

// Sweep returns the units of every unpaid ticket past its deadline to the
// sale, exactly once each, and reopens a sold-out sale. It returns how
// many tickets expired. Schedule it, e.g. every few seconds during a sale.
func (g *Gate) Sweep(ctx context.Context, saleID string) (int, error) {
	if rule := keyspace.CheckID(saleID); rule != "" {
		return 0, &InputError{Field: "SaleID", Rule: rule}
	}
	n, err := g.backend.sweep(ctx, saleID)
	if err == nil && n > 0 {
		g.markSoldOut(saleID, false)
	}
	return n, err
}

// Status returns a sale's counters.
func (g *Gate) Status(ctx context.Context, saleID string) (SaleStatus, error) {
	if rule := keyspace.CheckID(saleID); rule != "" {
		return SaleStatus{}, &InputError{Field: "SaleID", Rule: rule}
	}
	return g.backend.status(ctx, saleID)
}

// Close stops background work (the Redis gate's sold-out subscription).
func (g *Gate) Close() error { return g.backend.close() }

// markSoldOut sets or clears the local sold-out flag, copying the set.
func (g *Gate) markSoldOut(saleID string, out bool) {
	g.mu.Lock()
	defer g.mu.Unlock()
	cur := *g.soldOut.Load()
	if _, ok := cur[saleID]; ok == out {
		return
	}
	next := make(map[string]struct{}, len(cur)+1)
	for k := range cur {
		next[k] = struct{}{}
	}
	if out {
		next[saleID] = struct{}{}
	} else {
		delete(next, saleID)
	}
	g.soldOut.Store(&next)
}
