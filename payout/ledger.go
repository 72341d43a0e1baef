package payout

import (
	"errors"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/shopkit/shopkit/internal/keyspace"
)

// Ledger limits.
const (
	// MaxPostings is the most postings one transaction may carry.
	MaxPostings = 256
	// MaxAmount is the largest absolute posting: 2^53−1 minor units, which
	// keeps every figure exact wherever it travels (Lua, JSON).
	MaxAmount = 1<<53 - 1
)

// ErrAlreadyReversed means a transaction was already reversed by another
// reversal ID; the *ReversedError names it.
var ErrAlreadyReversed = errors.New("payout: transaction already reversed")

// ReversedError reports a second reversal of one transaction.
type ReversedError struct {
	ID         string // the transaction
	ReversedBy string // the reversal that already reversed it
}

// Error implements error.
func (e *ReversedError) Error() string {
	return "payout: transaction " + e.ID + " already reversed by " + e.ReversedBy
}

// Is makes errors.Is(err, ErrAlreadyReversed) true.
func (e *ReversedError) Is(target error) bool { return target == ErrAlreadyReversed }

// Posting moves Amount minor units into Account (positive, a credit) or out
// of it (negative, a debit).
type Posting struct {
	Account string
	Amount  int64
}

// Transaction is a balanced set of postings, posted atomically.
type Transaction struct {
	// ID makes Post idempotent.
	ID string
	// Postings must sum to zero. Postings to the same account are merged.
	Postings []Posting
	// AvailableAt is when the postings become available (settlement at
	// T+N); until then they count as pending. Zero means at once.
	AvailableAt time.Time
}

// Posted is a transaction as the ledger holds it.
type Posted struct {
	ID string
	// Postings are merged by account and sorted by account.
	Postings    []Posting
	AvailableAt time.Time // when the postings became or become available
	PostedAt    time.Time // when the ledger accepted it
	// Reverses is the ID of the transaction this one reverses, if any.
	Reverses string
	// ReversedBy is the ID of the reversal of this transaction, if any.
	ReversedBy string
	// Replayed is true when Post or Reverse found the ID already posted
	// and returned it instead of posting again.
	Replayed bool

	fingerprint string // the request, to tell a replay from a conflict
}

// Balance is an account's money: Pending until its availability date, then
// Available.
type Balance struct {
	Account   string
	Pending   int64
	Available int64
}

// Total returns Pending + Available.
func (b Balance) Total() int64 { return b.Pending + b.Available }

// Entry is one posting in an account's history.
type Entry struct {
	TransactionID string
	Amount        int64
	PostedAt      time.Time
	AvailableAt   time.Time
}

// LedgerOptions configure a ledger. The zero value means the defaults.
type LedgerOptions struct {
	// Prefix starts every Redis key, as the hash tag "{Prefix}", so all keys
	// of one ledger share a Cluster slot. Default "shopkit:payout". Redis
	// only.
	Prefix string
	// Now is the Memory ledger's clock. Default time.Now. The Redis ledger
	// uses the server's TIME.
	Now func() time.Time
	// WaitReplicas, if positive, makes every Redis posting wait until that
	// many replicas have acknowledged it (WAIT), up to WaitTimeout (default
	// 1s), before Post or Reverse reports success; if they do not, the call
	// returns ErrNotReplicated. See the package doc on durability. Needs a
	// *redis.Client (standalone or failover) or *redis.ClusterClient.
	WaitReplicas int
	// WaitTimeout bounds the wait for WaitReplicas. Default 1s.
	WaitTimeout time.Duration
	// HistoryLength is how many entries each account's History keeps, the
	// newest; older ones are dropped as new ones come. Default 10,000.
	// Balances are kept whole whatever the length.
	HistoryLength int
	// Observer, if set, receives an Observation of every call.
	Observer Observer
	// Retention is how long a transaction's record is kept after it is
	// posted, to answer replays, Transaction and Reverse; after that its
	// ID is unknown (ErrNotFound) and may be posted anew. Default 400
	// days, past a year of chargebacks.
	Retention time.Duration
	// GuardBalances refuses any posting or reversal that would take an
	// account's balance below zero (*InsufficientFundsError), as a
	// processor reverses a transfer only when the connected account
	// covers it — except on accounts opened with AllowNegative
	// (OpenAccount): the platform's clearing and fee accounts, whose
	// balances are the other side of everyone else's. Off by default.
	GuardBalances bool
}

// AccountOptions open an account: say how the balance guard treats it.
type AccountOptions struct {
	Account string
	// AllowNegative lets postings take the account below zero under
	// LedgerOptions.GuardBalances.
	AllowNegative bool
}

// Ledger retention defaults.
const (
	defaultHistoryLength = 10_000
	defaultRetention     = 400 * 24 * time.Hour
)

func (o LedgerOptions) withDefaults() LedgerOptions {
	if o.Prefix == "" {
		o.Prefix = "shopkit:payout"
	}
	if o.HistoryLength <= 0 {
		o.HistoryLength = defaultHistoryLength
	}
	if o.Retention <= 0 {
		o.Retention = defaultRetention
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	return o
}

func checkID(field, s string) error {
	if rule := keyspace.CheckID(s); rule != "" {
		return &InputError{Field: field, Rule: rule}
	}
	return nil
}

// normalizePostings validates t and returns its postings merged by account
// and sorted, the canonical form stored and compared on replay.
func normalizePostings(t Transaction) ([]Posting, error) {
	if err := checkID("ID", t.ID); err != nil {
		return nil, err
	}
	if len(t.Postings) < 2 {
		return nil, &InputError{Field: "Postings", Rule: "must have at least 2 postings"}
	}
	if len(t.Postings) > MaxPostings {
		return nil, &InputError{Field: "Postings", Rule: "must have at most " + strconv.Itoa(MaxPostings) + " postings"}
	}
	if !t.AvailableAt.IsZero() && t.AvailableAt.UnixMilli() <= 0 {
		return nil, &InputError{Field: "AvailableAt", Rule: "must be zero or after 1970"}
	}
	var sum int64
	for i, p := range t.Postings {
		field := "Postings[" + strconv.Itoa(i) + "]"
		if err := checkID(field+".Account", p.Account); err != nil {
			return nil, err
		}
		if p.Amount == 0 || p.Amount > MaxAmount || p.Amount < -MaxAmount {
			return nil, &InputError{Field: field + ".Amount", Rule: "must be non-zero and within ±(2^53-1)"}
		}
		sum += p.Amount // |sum| ≤ 100·2^53: no overflow
	}
	if sum != 0 {
		return nil, &InputError{Field: "Postings", Rule: "must sum to zero (sum is " + strconv.FormatInt(sum, 10) + ")"}
	}
	merged := slices.Clone(t.Postings)
	slices.SortStableFunc(merged, func(a, b Posting) int { return strings.Compare(a.Account, b.Account) })
	out := merged[:0]
	for _, p := range merged {
		if n := len(out); n > 0 && out[n-1].Account == p.Account {
			out[n-1].Amount += p.Amount
			continue
		}
		out = append(out, p)
	}
	kept := out[:0]
	for _, p := range out {
		if p.Amount != 0 {
			kept = append(kept, p)
		}
	}
	if len(kept) == 0 {
		return nil, &InputError{Field: "Postings", Rule: "must move money between at least two accounts"}
	}
	for _, p := range kept {
		if p.Amount > MaxAmount || p.Amount < -MaxAmount {
			return nil, &InputError{Field: "Postings", Rule: "merged amount for " + p.Account + " must be within ±(2^53-1)"}
		}
	}
	return kept, nil
}

func checkAccounts(accounts []string) error {
	for i, a := range accounts {
		if err := checkID("Accounts["+strconv.Itoa(i)+"]", a); err != nil {
			return err
		}
	}
	return nil
}

// availableMillis is t's availability in Unix milliseconds; 0 means at once.
func availableMillis(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.UnixMilli()
}

func negate(ps []Posting) []Posting {
	out := make([]Posting, len(ps))
	for i, p := range ps {
		out[i] = Posting{Account: p.Account, Amount: -p.Amount}
	}
	return out
}

// encodePostings is the canonical text of normalized postings:
// "account\tamount\n" each. Accounts cannot contain tabs or newlines.
func encodePostings(ps []Posting) string {
	var b strings.Builder
	for _, p := range ps {
		b.WriteString(p.Account)
		b.WriteByte('\t')
		b.WriteString(strconv.FormatInt(p.Amount, 10))
		b.WriteByte('\n')
	}
	return b.String()
}

func decodePostings(s string) ([]Posting, error) {
	var out []Posting
	for rest := s; rest != ""; {
		row, tail, ok := strings.Cut(rest, "\n")
		if !ok {
			return nil, errors.New("malformed postings")
		}
		rest = tail
		acct, amt, ok := strings.Cut(row, "\t")
		n, err := strconv.ParseInt(amt, 10, 64)
		if !ok || err != nil {
			return nil, errors.New("malformed postings")
		}
		out = append(out, Posting{Account: acct, Amount: n})
	}
	return out, nil
}

// fingerprint identifies a posting request: the same ID must always come
// with the same fingerprint.
func fingerprint(ps []Posting, requestedAvail int64, reverses string) string {
	return encodePostings(ps) + "|" + strconv.FormatInt(requestedAvail, 10) + "|" + reverses
}
