package payout

import (
	"context"
	"slices"
	"sync"
	"time"
)

var _ ledgerBackend = (*memoryLedger)(nil)

// memoryLedger is the process-local backend.
type memoryLedger struct {
	opts LedgerOptions

	mu       sync.Mutex
	txs      map[string]*Posted
	accounts map[string]*memAccount
	// posted lists transactions in posting order, so that records past
	// Retention are forgotten from the front.
	posted []postedID
}

type postedID struct {
	id string
	at int64 // Unix ms
}

type memAccount struct {
	allowNegative bool
	available     int64
	pending       int64
	due           []pendingEntry // by AvailableAt, earliest first
	history       []Entry        // oldest first
}

type pendingEntry struct {
	at     int64 // Unix ms
	amount int64
}

// NewMemoryLedger returns an empty in-memory ledger. One mutex guards it; a
// posting holds it for a few map operations per account. Times are kept to
// the millisecond, as in Redis, and come from opts.Now.
func NewMemoryLedger(opts LedgerOptions) *Ledger {
	opts = opts.withDefaults()
	return newLedger(&memoryLedger{opts: opts, txs: make(map[string]*Posted), accounts: make(map[string]*memAccount)}, opts)
}

func (m *memoryLedger) nowMillis() int64 { return m.opts.Now().UnixMilli() }

func (m *memoryLedger) post(_ context.Context, id string, postings []Posting, avail int64) (Posted, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.postLocked(id, postings, avail, "")
}

// forgetLocked drops the records of transactions posted Retention ago or
// earlier.
func (m *memoryLedger) forgetLocked(now int64) {
	keep := m.opts.Retention.Milliseconds()
	n := 0
	for n < len(m.posted) && m.posted[n].at+keep <= now {
		if p := m.txs[m.posted[n].id]; p != nil && p.PostedAt.UnixMilli() == m.posted[n].at {
			delete(m.txs, m.posted[n].id)
		}
		n++
	}
	if n > 0 {
		m.posted = append(m.posted[:0:0], m.posted[n:]...)
	}
}

func (m *memoryLedger) postLocked(id string, postings []Posting, avail int64, reverses string) (Posted, error) {
	m.forgetLocked(m.nowMillis())
	fp := fingerprint(postings, avail, reverses)
	if prev, ok := m.txs[id]; ok {
		if prev.fingerprint != fp {
			return Posted{}, ErrIDConflict
		}
		out := prev.clone()
		out.Replayed = true
		return out, nil
	}
	now := m.nowMillis()
	if avail == 0 {
		avail = now
	}
	// Check every account before changing any.
	for _, e := range postings {
		a := m.accounts[e.Account]
		var bal int64
		if a != nil {
			a.settle(now) // what has become available counts as available
			bal = a.available
			if avail > now {
				bal = a.pending
			}
		}
		if a != nil && exceedsLimit(bal, e.Amount) {
			return Posted{}, &BalanceLimitError{TransactionID: id, Account: e.Account}
		}
		if m.opts.GuardBalances && e.Amount < 0 && (a == nil || !a.allowNegative) && bal+e.Amount < 0 {
			return Posted{}, &InsufficientFundsError{TransactionID: id, Account: e.Account, Balance: bal, Amount: e.Amount}
		}
	}
	p := &Posted{ID: id, Postings: postings, AvailableAt: time.UnixMilli(avail), PostedAt: time.UnixMilli(now), Reverses: reverses, fingerprint: fp}
	for _, e := range postings {
		a := m.account(e.Account)
		if avail > now {
			a.pending += e.Amount
			i, _ := slices.BinarySearchFunc(a.due, avail+1, func(d pendingEntry, at int64) int { return int(d.at - at) })
			a.due = slices.Insert(a.due, i, pendingEntry{at: avail, amount: e.Amount})
		} else {
			a.available += e.Amount
		}
		a.history = append(a.history, Entry{TransactionID: id, Amount: e.Amount, PostedAt: p.PostedAt, AvailableAt: p.AvailableAt})
		if limit := m.opts.HistoryLength; len(a.history) >= 2*limit {
			// Keep the newest limit entries; compacting only at twice the
			// limit makes the copy cost one entry per posting.
			a.history = append(a.history[:0:0], a.history[len(a.history)-limit:]...)
		}
	}
	m.txs[id] = p
	m.posted = append(m.posted, postedID{id: id, at: now})
	return p.clone(), nil
}

func (m *memoryLedger) account(name string) *memAccount {
	a := m.accounts[name]
	if a == nil {
		a = &memAccount{}
		m.accounts[name] = a
	}
	return a
}

func (m *memoryLedger) reverse(_ context.Context, r ReverseRequest) (Posted, error) {
	id, reversalID := r.Transaction, r.ID
	m.mu.Lock()
	defer m.mu.Unlock()
	m.forgetLocked(m.nowMillis())
	orig, ok := m.txs[id]
	if !ok {
		return Posted{}, ErrNotFound
	}
	if orig.ReversedBy != "" && orig.ReversedBy != reversalID {
		return Posted{}, &ReversedError{ID: id, ReversedBy: orig.ReversedBy}
	}
	if orig.Reverses != "" {
		return Posted{}, &InputError{Field: "Transaction", Rule: "must not name a reversal"}
	}
	out, err := m.postLocked(reversalID, negate(orig.Postings), orig.AvailableAt.UnixMilli(), id)
	if err != nil {
		return Posted{}, err
	}
	orig.ReversedBy = reversalID
	return out, nil
}

func (m *memoryLedger) transaction(_ context.Context, id string) (Posted, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.forgetLocked(m.nowMillis())
	p, ok := m.txs[id]
	if !ok {
		return Posted{}, ErrNotFound
	}
	return p.clone(), nil
}

func (m *memoryLedger) balances(_ context.Context, accounts []string) ([]Balance, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	now := m.nowMillis()
	out := make([]Balance, len(accounts))
	for i, name := range accounts {
		out[i].Account = name
		a := m.accounts[name]
		if a == nil {
			continue
		}
		a.settle(now)
		out[i].Pending, out[i].Available = a.pending, a.available
	}
	return out, nil
}

func (m *memoryLedger) history(_ context.Context, account string, limit int) ([]Entry, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	a := m.accounts[account]
	if a == nil {
		return nil, nil
	}
	n := min(limit, len(a.history), m.opts.HistoryLength)
	out := make([]Entry, 0, n)
	for i := len(a.history) - 1; i >= len(a.history)-n; i-- {
		out = append(out, a.history[i])
	}
	return out, nil
}

func (p *Posted) clone() Posted {
	c := *p
	c.Postings = slices.Clone(p.Postings)
	return c
}

// settle moves what has become available by now from pending to
// available.
func (a *memAccount) settle(now int64) {
	n := 0
	for n < len(a.due) && a.due[n].at <= now {
		a.pending -= a.due[n].amount
		a.available += a.due[n].amount
		n++
	}
	a.due = a.due[n:]
}

func (m *memoryLedger) open(_ context.Context, o AccountOptions) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.account(o.Account).allowNegative = o.AllowNegative
	return nil
}
