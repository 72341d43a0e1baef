package seckill

import (
	"context"
	"strconv"
	"sync"
	"time"
)

// NewMemoryGate returns a Gate whose sales live in this process; time comes
// from opts.Now (default time.Now).
func NewMemoryGate(opts GateOptions) *Gate {
	now := opts.Now
	if now == nil {
		now = time.Now
	}
	return newGate(&memoryGate{now: now, sales: map[string]*memSale{}, retention: retentionOf(opts)}, opts)
}

type memoryGate struct {
	now       func() time.Time
	retention time.Duration // how long a sale outlives End + PayWithin

	mu    sync.Mutex
	sales map[string]*memSale
}

type memSale struct {
	mu       sync.Mutex
	def      Sale
	settled  *[2]int64 // sold, unsold, once settled
	status   SaleStatus
	users    map[string]int64
	requests map[string]memRequest
	tickets  map[string]*memTicket
	seq      int64
	queue    []Ticket // admitted tickets in order; message ID = index + 1
	groups   map[string]*memGroup
}

type memGroup struct {
	next    int // index of the next undelivered ticket
	pending map[int]memDelivery
}

type memDelivery struct {
	consumer string
	at       time.Time
}

type memRequest struct {
	user string
	qty  int64
	adm  Admission
}

type memTicket struct {
	Ticket
	paid, expired bool
}

func (m *memoryGate) sale(id string) (*memSale, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	s := m.sales[id]
	if s == nil {
		return nil, ErrUnknownSale
	}
	if m.expired(s.def) {
		delete(m.sales, id)
		return nil, ErrUnknownSale
	}
	return s, nil
}

// expired reports whether a sale's retention has passed, as its Redis keys
// would have expired.
func (m *memoryGate) expired(def Sale) bool {
	return !m.now().Before(def.End.Add(def.PayWithin + m.retention))
}

func (m *memoryGate) open(_ context.Context, def Sale) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	// Opening is rare: drop every sale past its retention here, so sales
	// nobody asks about again do not stay forever.
	for id, s := range m.sales {
		if m.expired(s.def) {
			delete(m.sales, id)
		}
	}
	if s := m.sales[def.ID]; s != nil {
		if !sameSale(s.def, def) {
			return ErrSaleConflict
		}
		return nil
	}
	m.sales[def.ID] = &memSale{def: def, status: SaleStatus{Units: def.Units, Remaining: def.Units},
		users: map[string]int64{}, requests: map[string]memRequest{}, tickets: map[string]*memTicket{},
		groups: map[string]*memGroup{}}
	return nil
}

func sameSale(a, b Sale) bool {
	return a.SKU == b.SKU && a.Units == b.Units && a.Start.Equal(b.Start) && a.End.Equal(b.End) &&
		a.PerUserLimit == b.PerUserLimit && a.PayWithin == b.PayWithin && a.Buckets == b.Buckets
}

func (m *memoryGate) admit(_ context.Context, saleID, userID, requestID string, qty int64) (Admission, error) {
	s, err := m.sale(saleID)
	if err != nil {
		return Admission{}, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if r, ok := s.requests[requestID]; ok {
		if r.user != userID || r.qty != qty {
			return Admission{}, ErrRequestConflict
		}
		a := r.adm
		a.Replayed = true
		return a, nil
	}
	now := m.now()
	var a Admission
	switch {
	case now.Before(s.def.Start):
		a.Outcome = NotStarted
	case !now.Before(s.def.End):
		a.Outcome = Ended
	case s.users[userID]+qty > s.def.PerUserLimit:
		a.Outcome = LimitReached
	case s.status.Remaining < qty:
		a.Outcome = SoldOut
	default:
		s.status.Remaining -= qty
		s.status.Held += qty
		s.users[userID] += qty
		s.seq++
		t := Ticket{ID: "t" + strconv.FormatInt(s.seq, 10), SaleID: saleID, UserID: userID, Quantity: qty,
			Deadline: now.Add(s.def.PayWithin).Truncate(time.Millisecond)}
		s.tickets[t.ID] = &memTicket{Ticket: t}
		s.queue = append(s.queue, t)
		a = Admission{Outcome: Admitted, Ticket: t}
	}
	// Every outcome but "not started" and "sold out" is remembered: a buyer
	// who clicks before the start, or finds the sale sold out, may retry
	// the same request once the sale opens or stock returns.
	if a.Outcome != NotStarted && a.Outcome != SoldOut {
		s.requests[requestID] = memRequest{user: userID, qty: qty, adm: a}
	}
	return a, nil
}

func (m *memoryGate) replay(_ context.Context, saleID, userID, requestID string, qty int64) (Admission, bool, error) {
	s, err := m.sale(saleID)
	if err != nil {
		return Admission{}, false, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	r, ok := s.requests[requestID]
	if !ok {
		return Admission{}, false, nil
	}
	if r.user != userID || r.qty != qty {
		return Admission{}, false, ErrRequestConflict
	}
	a := r.adm
	a.Replayed = true
	return a, true, nil
}

func (m *memoryGate) pay(_ context.Context, saleID, ticketID string) (Ticket, error) {
	s, err := m.sale(saleID)
	if err != nil {
		return Ticket{}, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	t, err := m.ticketLocked(s, ticketID, m.now())
	if err != nil {
		return Ticket{}, err
	}
	if t.expired {
		return Ticket{}, ErrTicketExpired
	}
	if !t.paid {
		t.paid = true
		s.status.Held -= t.Quantity
		s.status.Paid += t.Quantity
	}
	return t.Ticket, nil
}

func (m *memoryGate) cancel(_ context.Context, saleID, ticketID string) (Ticket, error) {
	s, err := m.sale(saleID)
	if err != nil {
		return Ticket{}, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	t := s.tickets[ticketID]
	switch {
	case t == nil:
		return Ticket{}, ErrUnknownTicket
	case t.paid:
		return Ticket{}, ErrTicketPaid
	case !t.expired:
		m.expireLocked(s, t)
	}
	return t.Ticket, nil
}

func (m *memoryGate) extend(_ context.Context, saleID, ticketID string, within time.Duration) (Ticket, error) {
	s, err := m.sale(saleID)
	if err != nil {
		return Ticket{}, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	now := m.now()
	t, err := m.ticketLocked(s, ticketID, now)
	if err != nil {
		return Ticket{}, err
	}
	switch {
	case t.expired:
		return Ticket{}, ErrTicketExpired
	case t.paid:
		return Ticket{}, ErrTicketPaid
	}
	if d := now.Add(within); d.After(t.Deadline) {
		t.Deadline = d
	}
	return t.Ticket, nil
}

func (m *memoryGate) ended(_ context.Context, saleID string) (bool, error) {
	s, err := m.sale(saleID)
	if err != nil {
		return false, err
	}
	return !m.now().Before(s.def.End), nil
}

func (m *memoryGate) settle(_ context.Context, saleID string, sold, unsold int64) (int64, int64, error) {
	s, err := m.sale(saleID)
	if err != nil {
		return 0, 0, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.settled == nil {
		s.settled = &[2]int64{sold, unsold}
	}
	return s.settled[0], s.settled[1], nil
}

// ticketLocked returns the sale's ticket, lapsing it first if its deadline
// passed unpaid by now, or ErrUnknownTicket.
func (m *memoryGate) ticketLocked(s *memSale, ticketID string, now time.Time) (*memTicket, error) {
	t := s.tickets[ticketID]
	if t == nil {
		return nil, ErrUnknownTicket
	}
	if !t.paid && !t.expired && !now.Before(t.Deadline) {
		m.expireLocked(s, t)
	}
	return t, nil
}

func (m *memoryGate) expireLocked(s *memSale, t *memTicket) {
	t.expired = true
	s.status.Held -= t.Quantity
	s.status.Remaining += t.Quantity
	s.users[t.UserID] -= t.Quantity
}

func (m *memoryGate) sweep(_ context.Context, saleID string) (int, error) {
	s, err := m.sale(saleID)
	if err != nil {
		return 0, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	now := m.now()
	n := 0
	for _, t := range s.tickets {
		if !t.paid && !t.expired && !now.Before(t.Deadline) {
			m.expireLocked(s, t)
			n++
		}
	}
	return n, nil
}

func (m *memoryGate) status(_ context.Context, saleID string) (SaleStatus, error) {
	s, err := m.sale(saleID)
	if err != nil {
		return SaleStatus{}, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.status, nil
}

func (m *memoryGate) consume(_ context.Context, saleID, group, consumer string, count int, minIdle time.Duration) ([]QueuedTicket, error) {
	s, err := m.sale(saleID)
	if err != nil {
		return nil, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	g := s.groups[group]
	if g == nil {
		g = &memGroup{pending: map[int]memDelivery{}}
		s.groups[group] = g
	}
	now := m.now()
	var out []QueuedTicket
	deliver := func(i int) {
		g.pending[i] = memDelivery{consumer: consumer, at: now}
		out = append(out, QueuedTicket{MessageID: strconv.Itoa(i + 1), Ticket: s.queue[i]})
	}
	// Reclaim stale deliveries first, oldest message first.
	for i := 0; i < g.next && len(out) < count; i++ {
		if d, ok := g.pending[i]; ok && now.Sub(d.at) >= minIdle {
			deliver(i)
		}
	}
	for ; g.next < len(s.queue) && len(out) < count; g.next++ {
		deliver(g.next)
	}
	return out, nil
}

func (m *memoryGate) ack(_ context.Context, saleID, group string, ids []string) error {
	s, err := m.sale(saleID)
	if err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	g := s.groups[group]
	if g == nil {
		return nil
	}
	for _, id := range ids {
		if n, err := strconv.Atoi(id); err == nil {
			delete(g.pending, n-1)
		}
	}
	return nil
}

func (m *memoryGate) buckets(_ context.Context, saleID string) (int, error) {
	s, err := m.sale(saleID)
	if err != nil {
		return 0, err
	}
	return s.def.Buckets, nil
}

func (m *memoryGate) take(_ context.Context, saleID string, min int64, _ string) (int64, error) {
	s, err := m.sale(saleID)
	if err != nil {
		return 0, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.status.Remaining < min {
		return 0, nil
	}
	n := max(min, s.status.Remaining/2)
	s.status.Remaining -= n
	return n, nil
}

func (m *memoryGate) give(_ context.Context, saleID string, n int64, _ string) error {
	s, err := m.sale(saleID)
	if err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.status.Remaining += n
	return nil
}

// announce is a no-op: one process, one Gate.
func (m *memoryGate) announce(context.Context, string, bool) {}

func (m *memoryGate) close() error { return nil }
