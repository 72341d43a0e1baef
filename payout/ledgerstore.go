package payout

import (
	"context"
	"strconv"
	"sync/atomic"
	"time"
)

// Ledger is a double-entry settlement ledger. NewMemoryLedger and
// NewRedisLedger return one; both backends pass the same conformance suite
// (package payouttest). Ledger validates input, checks Close and reports to
// the observer once, for every backend.
//
// Every transaction sums to zero, so the balances of all accounts always
// sum to zero. Posting is atomic and idempotent by transaction ID. A Ledger
// is safe for concurrent use.
type Ledger struct {
	b       ledgerBackend
	observe Observer
	closed  atomic.Bool
	guarded bool
}

// ledgerBackend is the storage under a Ledger, on validated input.
type ledgerBackend interface {
	// post records postings (normalized) under id; reverses names the
	// transaction a reversal reverses.
	post(ctx context.Context, id string, postings []Posting, avail int64) (Posted, error)
	// reverse posts the opposite of r.Transaction under r.ID.
	reverse(ctx context.Context, r ReverseRequest) (Posted, error)
	transaction(ctx context.Context, id string) (Posted, error)
	balances(ctx context.Context, accounts []string) ([]Balance, error)
	history(ctx context.Context, account string, limit int) ([]Entry, error)
	// open records how the balance guard treats an account.
	open(ctx context.Context, a AccountOptions) error
}

// ReverseRequest asks to reverse a whole transaction.
type ReverseRequest struct {
	// ID identifies the reversal, a transaction of its own, and makes
	// Reverse idempotent.
	ID string
	// Transaction is the ID of the transaction to reverse. It must not be
	// a reversal itself.
	Transaction string
}

// Observer receives an Observation of every call on a Ledger. It runs
// synchronously after the call, and must not block for long; feed a metrics
// library or a log from it.
type Observer func(Observation)

// Op names the call an Observation reports.
type Op uint8

// The calls an Observer sees.
const (
	OpPost        Op = iota + 1 // a call to Post
	OpReverse                   // a call to Reverse
	OpTransaction               // a call to Transaction
	OpBalances                  // a call to Balances
	OpHistory                   // a call to History
	OpOpen                      // a call to OpenAccount
)

var opNames = [...]string{"", "post", "reverse", "transaction", "balances", "history", "open"}

// String returns the op's name in snake case, as metric labels want it.
func (o Op) String() string {
	if o != 0 && int(o) < len(opNames) {
		return opNames[o]
	}
	return "Op(" + strconv.Itoa(int(o)) + ")"
}

// Observation is one call, as an Observer sees it.
type Observation struct {
	Op Op
	// ID is the call's transaction ID, if it has one (for Reverse, the
	// reversal's).
	ID string
	// Err is the call's error; nil on success.
	Err error
	// Took is the call's wall time.
	Took time.Duration
	// Replayed is true when Post or Reverse found the ID already posted.
	Replayed bool
	// Posted is the transaction Post, Reverse or Transaction returned.
	Posted Posted
}

func newLedger(b ledgerBackend, opts LedgerOptions) *Ledger {
	return &Ledger{b: b, observe: opts.Observer, guarded: opts.GuardBalances}
}

// GuardsBalances reports whether the ledger was made with
// LedgerOptions.GuardBalances.
func (l *Ledger) GuardsBalances() bool { return l.guarded }

// Post records t. Replaying an ID returns the first result; the same ID with
// different postings or availability is ErrIDConflict.
func (l *Ledger) Post(ctx context.Context, t Transaction) (Posted, error) {
	start := l.start()
	p, err := l.post(ctx, t)
	l.report(Observation{Op: OpPost, ID: t.ID, Err: err, Took: since(start), Replayed: p.Replayed, Posted: p})
	return p, err
}

func (l *Ledger) post(ctx context.Context, t Transaction) (Posted, error) {
	postings, err := normalizePostings(t)
	if err != nil {
		return Posted{}, err
	}
	if l.closed.Load() {
		return Posted{}, ErrClosed
	}
	return l.b.post(ctx, t.ID, postings, availableMillis(t.AvailableAt))
}

// Reverse posts the opposite of transaction r.Transaction under r.ID, with
// the original's availability date, so pending money is cancelled while
// pending and available money is taken back at once. A transaction is
// reversed at most once (*ReversedError). For a partial refund post a new
// transaction with amounts from a Reversal.
func (l *Ledger) Reverse(ctx context.Context, r ReverseRequest) (Posted, error) {
	start := l.start()
	p, err := l.reverse(ctx, r)
	l.report(Observation{Op: OpReverse, ID: r.ID, Err: err, Took: since(start), Replayed: p.Replayed, Posted: p})
	return p, err
}

func (l *Ledger) reverse(ctx context.Context, r ReverseRequest) (Posted, error) {
	if err := checkID("ID", r.ID); err != nil {
		return Posted{}, err
	}
	if err := checkID("Transaction", r.Transaction); err != nil {
		return Posted{}, err
	}
	if r.ID == r.Transaction {
		return Posted{}, &InputError{Field: "ID", Rule: "must differ from Transaction"}
	}
	if l.closed.Load() {
		return Posted{}, ErrClosed
	}
	return l.b.reverse(ctx, r)
}

// Transaction returns a posted transaction.
func (l *Ledger) Transaction(ctx context.Context, id string) (Posted, error) {
	start := l.start()
	p, err := l.transaction(ctx, id)
	l.report(Observation{Op: OpTransaction, ID: id, Err: err, Took: since(start), Posted: p})
	return p, err
}

func (l *Ledger) transaction(ctx context.Context, id string) (Posted, error) {
	if err := checkID("ID", id); err != nil {
		return Posted{}, err
	}
	if l.closed.Load() {
		return Posted{}, ErrClosed
	}
	return l.b.transaction(ctx, id)
}

// Balances returns each account's balance, in order; an account never
// posted to has a zero balance.
func (l *Ledger) Balances(ctx context.Context, accounts ...string) ([]Balance, error) {
	start := l.start()
	out, err := l.balances(ctx, accounts)
	l.report(Observation{Op: OpBalances, Err: err, Took: since(start)})
	return out, err
}

func (l *Ledger) balances(ctx context.Context, accounts []string) ([]Balance, error) {
	if err := checkAccounts(accounts); err != nil {
		return nil, err
	}
	if l.closed.Load() {
		return nil, ErrClosed
	}
	return l.b.balances(ctx, accounts)
}

// OpenAccount records how the balance guard (LedgerOptions.GuardBalances)
// treats an account: AllowNegative exempts it. Accounts need no opening
// otherwise, and an account never opened is guarded. Opening again
// replaces the setting; it is kept as long as the ledger.
func (l *Ledger) OpenAccount(ctx context.Context, a AccountOptions) error {
	start := l.start()
	err := checkID("Account", a.Account)
	if err == nil && l.closed.Load() {
		err = ErrClosed
	}
	if err == nil {
		err = l.b.open(ctx, a)
	}
	l.report(Observation{Op: OpOpen, ID: a.Account, Err: err, Took: since(start)})
	return err
}

// History returns up to limit of an account's entries, newest first.
func (l *Ledger) History(ctx context.Context, account string, limit int) ([]Entry, error) {
	start := l.start()
	out, err := l.history(ctx, account, limit)
	l.report(Observation{Op: OpHistory, Err: err, Took: since(start)})
	return out, err
}

func (l *Ledger) history(ctx context.Context, account string, limit int) ([]Entry, error) {
	if err := checkID("Account", account); err != nil {
		return nil, err
	}
	if limit <= 0 {
		return nil, &InputError{Field: "Limit", Rule: "must be > 0"}
	}
	if l.closed.Load() {
		return nil, ErrClosed
	}
	return l.b.history(ctx, account, limit)
}

// Close releases the ledger; calls after it return ErrClosed. It does not
// close the Redis client, which the caller owns.
func (l *Ledger) Close() error {
	l.closed.Store(true)
	return nil
}

// start returns when a call started, or the zero time when nobody observes.
func (l *Ledger) start() time.Time {
	if l.observe == nil {
		return time.Time{}
	}
	return time.Now()
}

func since(start time.Time) time.Duration {
	if start.IsZero() {
		return 0
	}
	return time.Since(start)
}

func (l *Ledger) report(e Observation) {
	if l.observe != nil {
		l.observe(e)
	}
}
