// Package payouttest is the conformance suite for *payout.Ledger.
//
// Every backend runs it from its own test file:
//
//	func TestMemoryLedger(t *testing.T) {
//		payouttest.Run(t, func(t *testing.T, opts payout.LedgerOptions) *payout.Ledger {
//			return payout.NewMemoryLedger(opts)
//		})
//	}
//
// Availability cases use real time with delays of tens of milliseconds,
// because the Redis ledger decides by the server's clock.
package payouttest

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/shopkit/shopkit/payout"
)

// NewLedger returns an empty ledger for one test, configured with opts plus
// whatever the backend needs (a client, a unique prefix). It should register
// Close with t.Cleanup.
type NewLedger func(t *testing.T, opts payout.LedgerOptions) *payout.Ledger

var ctx = context.Background()

// Run runs the conformance suite against ledgers made by newLedger.
func Run(t *testing.T, newLedger NewLedger) {
	tests := []struct {
		name string
		fn   func(*testing.T, *payout.Ledger)
	}{
		{"PostAndBalances", testPost},
		{"Replay", testReplay},
		{"PendingUntilAvailable", testPending},
		{"Reverse", testReverse},
		{"ReversePending", testReversePending},
		{"History", testHistory},
		{"InvalidInputWritesNothing", testInvalid},
		{"ConcurrentPostings", testConcurrent},
		{"BalanceLimitWritesNothing", testBalanceLimit},
		{"Closed", testClosed},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) { tt.fn(t, newLedger(t, payout.LedgerOptions{})) })
	}
	t.Run("Observer", func(t *testing.T) { testObserver(t, newLedger) })
	t.Run("BalanceGuard", func(t *testing.T) { testGuard(t, newLedger(t, payout.LedgerOptions{GuardBalances: true})) })
	t.Run("ProfitSharing", func(t *testing.T) { testSharing(t, newLedger(t, payout.LedgerOptions{GuardBalances: true})) })
}

// testObserver checks that every call reaches the observer once, with its
// op, ID, outcome and whether it was a replay.
func testObserver(t *testing.T, newLedger NewLedger) {
	var mu sync.Mutex
	var got []string
	l := newLedger(t, payout.LedgerOptions{Observer: func(e payout.Observation) {
		mu.Lock()
		defer mu.Unlock()
		s := e.Op.String() + ":" + e.ID
		if e.Replayed {
			s += ":replay"
		}
		if e.Err != nil {
			s += ":" + e.Err.Error()
		}
		got = append(got, s)
	}})
	pay := []payout.Posting{{Account: "buyer", Amount: -100}, {Account: "shop", Amount: 100}}
	post(t, l, "order-1", time.Time{}, pay...)
	post(t, l, "order-1", time.Time{}, pay...)
	if _, err := l.Reverse(ctx, payout.ReverseRequest{ID: "refund-1", Transaction: "order-1"}); err != nil {
		t.Fatal(err)
	}
	if _, err := l.Transaction(ctx, "nope"); !errors.Is(err, payout.ErrNotFound) {
		t.Fatalf("Transaction(nope) = %v, want ErrNotFound", err)
	}
	wantBalances(t, l, "shop", 0, 0)
	want := []string{"post:order-1", "post:order-1:replay", "reverse:refund-1", "transaction:nope:" + payout.ErrNotFound.Error(), "balances:"}
	mu.Lock()
	defer mu.Unlock()
	if !slices.Equal(got, want) {
		t.Fatalf("events = %q, want %q", got, want)
	}
}

func post(t *testing.T, l *payout.Ledger, id string, avail time.Time, ps ...payout.Posting) payout.Posted {
	t.Helper()
	p, err := l.Post(ctx, payout.Transaction{ID: id, Postings: ps, AvailableAt: avail})
	if err != nil {
		t.Fatalf("Post(%s): %v", id, err)
	}
	return p
}

func pp(account string, amount int64) payout.Posting {
	return payout.Posting{Account: account, Amount: amount}
}

// wantBalances checks each account's available and pending amounts, given
// as account, available, pending triples.
func wantBalances(t *testing.T, l *payout.Ledger, want ...any) {
	t.Helper()
	var accounts []string
	for i := 0; i < len(want); i += 3 {
		accounts = append(accounts, want[i].(string))
	}
	got, err := l.Balances(ctx, accounts...)
	if err != nil {
		t.Fatalf("Balances: %v", err)
	}
	for i := range accounts {
		wa, wp := int64(want[3*i+1].(int)), int64(want[3*i+2].(int))
		if got[i].Account != accounts[i] || got[i].Available != wa || got[i].Pending != wp {
			t.Fatalf("balance of %s = available %d, pending %d; want %d, %d", accounts[i], got[i].Available, got[i].Pending, wa, wp)
		}
	}
}

// A 100.00 order paid by a buyer: platform 5.00, provider 10.00, merchant
// 85.00.
func split() []payout.Posting {
	return []payout.Posting{pp("buyer", -10000), pp("platform", 500), pp("provider", 1000), pp("merchant", 8500)}
}

func testPost(t *testing.T, l *payout.Ledger) {
	wantBalances(t, l, "buyer", 0, 0) // never posted to
	p := post(t, l, "order-1", time.Time{}, split()...)
	if p.ID != "order-1" || p.Replayed || len(p.Postings) != 4 || p.Postings[0].Account != "buyer" {
		t.Fatalf("Post = %+v", p)
	}
	if p.AvailableAt.Before(p.PostedAt) || p.AvailableAt.After(p.PostedAt.Add(time.Second)) {
		t.Fatalf("immediate posting: available %v, posted %v", p.AvailableAt, p.PostedAt)
	}
	wantBalances(t, l, "buyer", -10000, 0, "platform", 500, 0, "provider", 1000, 0, "merchant", 8500, 0)
	got, err := l.Transaction(ctx, "order-1")
	if err != nil || !slices.Equal(got.Postings, p.Postings) || !got.PostedAt.Equal(p.PostedAt) {
		t.Fatalf("Transaction = %+v, %v; want %+v", got, err, p)
	}
	// Postings to one account are merged: -3 and -2 are one debit of 5.
	p = post(t, l, "merge", time.Time{}, pp("a", -3), pp("b", 5), pp("a", -2))
	if !slices.Equal(p.Postings, []payout.Posting{pp("a", -5), pp("b", 5)}) {
		t.Fatalf("merged postings = %+v", p.Postings)
	}
	_, err = l.Transaction(ctx, "nope")
	if !errors.Is(err, payout.ErrNotFound) {
		t.Fatalf("Transaction(nope) err = %v", err)
	}
}

func testReplay(t *testing.T, l *payout.Ledger) {
	first := post(t, l, "order-1", time.Time{}, split()...)
	for i := 0; i < 3; i++ {
		again := post(t, l, "order-1", time.Time{}, split()...)
		if !again.Replayed || !again.PostedAt.Equal(first.PostedAt) {
			t.Fatalf("replay = %+v, want the first result %+v", again, first)
		}
	}
	wantBalances(t, l, "buyer", -10000, 0, "merchant", 8500, 0)
	_, err := l.Post(ctx, payout.Transaction{ID: "order-1", Postings: []payout.Posting{pp("buyer", -1), pp("merchant", 1)}})
	if !errors.Is(err, payout.ErrIDConflict) {
		t.Fatalf("same ID, other postings: err = %v", err)
	}
	_, err = l.Post(ctx, payout.Transaction{ID: "order-1", Postings: split(), AvailableAt: time.Now().Add(time.Hour)})
	if !errors.Is(err, payout.ErrIDConflict) {
		t.Fatalf("same ID, other availability: err = %v", err)
	}
	wantBalances(t, l, "buyer", -10000, 0, "merchant", 8500, 0)
}

func testPending(t *testing.T, l *payout.Ledger) {
	avail := time.Now().Add(80 * time.Millisecond).Truncate(time.Millisecond)
	p := post(t, l, "order-1", avail, split()...)
	if !p.AvailableAt.Equal(avail) {
		t.Fatalf("AvailableAt = %v, want %v", p.AvailableAt, avail)
	}
	wantBalances(t, l, "buyer", 0, -10000, "merchant", 0, 8500)
	post(t, l, "now", time.Time{}, pp("merchant", -100), pp("platform", 100))
	wantBalances(t, l, "merchant", -100, 8500, "platform", 100, 500)
	time.Sleep(time.Until(avail) + 50*time.Millisecond)
	// Settled exactly once, however often it is read.
	for i := 0; i < 3; i++ {
		wantBalances(t, l, "buyer", -10000, 0, "merchant", 8400, 0, "platform", 600, 0)
	}
}

func testReverse(t *testing.T, l *payout.Ledger) {
	post(t, l, "order-1", time.Time{}, split()...)
	r, err := l.Reverse(ctx, payout.ReverseRequest{ID: "refund-1", Transaction: "order-1"})
	if err != nil || r.Reverses != "order-1" || r.Replayed {
		t.Fatalf("Reverse = %+v, %v", r, err)
	}
	if !slices.Equal(r.Postings, []payout.Posting{pp("buyer", 10000), pp("merchant", -8500), pp("platform", -500), pp("provider", -1000)}) {
		t.Fatalf("reversal postings = %+v", r.Postings)
	}
	wantBalances(t, l, "buyer", 0, 0, "platform", 0, 0, "provider", 0, 0, "merchant", 0, 0)
	// Replaying the reversal changes nothing.
	again, err := l.Reverse(ctx, payout.ReverseRequest{ID: "refund-1", Transaction: "order-1"})
	if err != nil || !again.Replayed {
		t.Fatalf("replayed Reverse = %+v, %v", again, err)
	}
	wantBalances(t, l, "buyer", 0, 0, "merchant", 0, 0)
	// A second reversal under another ID is refused.
	_, err = l.Reverse(ctx, payout.ReverseRequest{ID: "refund-2", Transaction: "order-1"})
	var re *payout.ReversedError
	if !errors.As(err, &re) || re.ReversedBy != "refund-1" || !errors.Is(err, payout.ErrAlreadyReversed) {
		t.Fatalf("second reversal: err = %v", err)
	}
	orig, err := l.Transaction(ctx, "order-1")
	if err != nil || orig.ReversedBy != "refund-1" {
		t.Fatalf("original after reversal = %+v, %v", orig, err)
	}
	_, err = l.Reverse(ctx, payout.ReverseRequest{ID: "refund-3", Transaction: "refund-1"})
	if !errors.Is(err, payout.ErrInvalidInput) {
		t.Fatalf("reversing a reversal: err = %v", err)
	}
	_, err = l.Reverse(ctx, payout.ReverseRequest{ID: "refund-4", Transaction: "nope"})
	if !errors.Is(err, payout.ErrNotFound) {
		t.Fatalf("reversing an unknown ID: err = %v", err)
	}
	wantBalances(t, l, "buyer", 0, 0, "merchant", 0, 0)
}

func testReversePending(t *testing.T, l *payout.Ledger) {
	avail := time.Now().Add(80 * time.Millisecond)
	post(t, l, "order-1", avail, split()...)
	if _, err := l.Reverse(ctx, payout.ReverseRequest{ID: "refund-1", Transaction: "order-1"}); err != nil {
		t.Fatal(err)
	}
	// The reversal is pending with the original, so nothing ever becomes
	// available to the merchant.
	wantBalances(t, l, "merchant", 0, 0, "buyer", 0, 0)
	time.Sleep(time.Until(avail) + 50*time.Millisecond)
	wantBalances(t, l, "merchant", 0, 0, "buyer", 0, 0)
}

func testHistory(t *testing.T, l *payout.Ledger) {
	post(t, l, "t1", time.Time{}, pp("a", -1), pp("b", 1))
	post(t, l, "t2", time.Time{}, pp("a", -2), pp("c", 2))
	post(t, l, "t3", time.Time{}, pp("b", -3), pp("a", 3))
	h, err := l.History(ctx, "a", 10)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, e := range h {
		got = append(got, fmt.Sprintf("%s:%d", e.TransactionID, e.Amount))
	}
	if want := []string{"t3:3", "t2:-2", "t1:-1"}; !slices.Equal(got, want) {
		t.Fatalf("History(a) = %v, want %v (newest first)", got, want)
	}
	h, err = l.History(ctx, "a", 1)
	if err != nil || len(h) != 1 || h[0].TransactionID != "t3" {
		t.Fatalf("History(a, 1) = %+v, %v", h, err)
	}
	if h, err := l.History(ctx, "never", 5); err != nil || len(h) != 0 {
		t.Fatalf("History(never) = %+v, %v", h, err)
	}
}

func testInvalid(t *testing.T, l *payout.Ledger) {
	post(t, l, "ok", time.Time{}, pp("a", -1), pp("b", 1))
	tooMany := make([]payout.Posting, payout.MaxPostings+1)
	for i := range tooMany {
		tooMany[i] = pp(fmt.Sprintf("acct%d", i), 0)
	}
	tests := []struct {
		name      string
		give      payout.Transaction
		wantField string
	}{
		{"empty ID", payout.Transaction{Postings: []payout.Posting{pp("a", -1), pp("b", 1)}}, "ID"},
		{"forged ID", payout.Transaction{ID: "x}{y", Postings: []payout.Posting{pp("a", -1), pp("b", 1)}}, "ID"},
		{"one posting", payout.Transaction{ID: "t", Postings: []payout.Posting{pp("a", 0)}}, "Postings"},
		{"unbalanced", payout.Transaction{ID: "t", Postings: []payout.Posting{pp("a", -1), pp("b", 2)}}, "Postings"},
		{"zero amount", payout.Transaction{ID: "t", Postings: []payout.Posting{pp("a", 0), pp("b", 0)}}, "Postings[0].Amount"},
		{"huge amount", payout.Transaction{ID: "t", Postings: []payout.Posting{pp("a", -payout.MaxAmount-1), pp("b", payout.MaxAmount+1)}}, "Postings[0].Amount"},
		{"bad account", payout.Transaction{ID: "t", Postings: []payout.Posting{pp("a:b", -1), pp("b", 1)}}, "Postings[0].Account"},
		{"self transfer", payout.Transaction{ID: "t", Postings: []payout.Posting{pp("a", -1), pp("a", 1)}}, "Postings"},
		{"too many", payout.Transaction{ID: "t", Postings: tooMany}, "Postings"},
		{"before 1970", payout.Transaction{ID: "t", Postings: []payout.Posting{pp("a", -1), pp("b", 1)}, AvailableAt: time.Unix(-5, 0)}, "AvailableAt"},
	}
	for _, tt := range tests {
		_, err := l.Post(ctx, tt.give)
		var ie *payout.InputError
		if !errors.As(err, &ie) || ie.Field != tt.wantField || !errors.Is(err, payout.ErrInvalidInput) {
			t.Errorf("%s: err = %v, want InputError on %s", tt.name, err, tt.wantField)
		}
	}
	if _, err := l.Balances(ctx, "ok", "{x}"); !errors.Is(err, payout.ErrInvalidInput) {
		t.Errorf("Balances with a bad account: err = %v", err)
	}
	if _, err := l.History(ctx, "a", 0); !errors.Is(err, payout.ErrInvalidInput) {
		t.Errorf("History limit 0: err = %v", err)
	}
	if _, err := l.Reverse(ctx, payout.ReverseRequest{ID: "ok", Transaction: "ok"}); !errors.Is(err, payout.ErrInvalidInput) {
		t.Errorf("Reverse onto itself: err = %v", err)
	}
	if _, err := l.Transaction(ctx, "t"); !errors.Is(err, payout.ErrNotFound) {
		t.Errorf("a refused transaction was written: %v", err)
	}
	wantBalances(t, l, "a", -1, 0, "b", 1, 0)
}

// testConcurrent: goroutines post random transfers among a few accounts,
// replaying some IDs; afterwards every balance equals the sum of the
// postings that succeeded, and all balances sum to zero.
func testConcurrent(t *testing.T, l *payout.Ledger) {
	accounts := []string{"a", "b", "c", "d", "e"}
	const workers, each = 16, 25
	var mu sync.Mutex
	want := map[string]int64{}
	var wg sync.WaitGroup
	errs := make(chan error, workers)
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			rng := rand.New(rand.NewPCG(uint64(w), 3))
			for i := 0; i < each; i++ {
				from, to := accounts[rng.IntN(5)], accounts[rng.IntN(5)]
				if from == to {
					continue
				}
				amt := int64(1 + rng.IntN(1000))
				// Workers 0 and 1 post the same IDs: half their posts are
				// replays racing the originals.
				id := fmt.Sprintf("w%d-%d", w, i)
				if w < 2 {
					id = fmt.Sprintf("shared-%d", i)
					from, to, amt = accounts[i%5], accounts[(i+1)%5], int64(i+1)
				}
				p, err := l.Post(ctx, payout.Transaction{ID: id, Postings: []payout.Posting{pp(from, -amt), pp(to, amt)}})
				if err != nil {
					errs <- err
					return
				}
				if !p.Replayed {
					mu.Lock()
					want[from] -= amt
					want[to] += amt
					mu.Unlock()
				}
			}
		}(w)
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	got, err := l.Balances(ctx, accounts...)
	if err != nil {
		t.Fatal(err)
	}
	var sum int64
	for _, b := range got {
		if b.Total() != want[b.Account] {
			t.Fatalf("%s: balance %d, want %d", b.Account, b.Total(), want[b.Account])
		}
		sum += b.Total()
	}
	if sum != 0 {
		t.Fatalf("balances sum to %d, want 0", sum)
	}
}

func testClosed(t *testing.T, l *payout.Ledger) {
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := l.Post(ctx, payout.Transaction{ID: "t", Postings: []payout.Posting{pp("a", -1), pp("b", 1)}}); !errors.Is(err, payout.ErrClosed) {
		t.Fatalf("Post after Close: err = %v", err)
	}
	if _, err := l.Balances(ctx, "a"); !errors.Is(err, payout.ErrClosed) {
		t.Fatalf("Balances after Close: err = %v", err)
	}
}

// testBalanceLimit: a posting that would take any balance beyond
// ±MaxAmount is refused with ErrBalanceLimit before anything is written —
// not even the accounts checked before the one that breaks the limit —
// and postings back towards zero still go through.
//
// Regression: post.lua incremented balances before it wrote the
// transaction, so an overflow left a partial posting on Redis; Memory
// silently wrapped.
func testBalanceLimit(t *testing.T, l *payout.Ledger) {
	const max = payout.MaxAmount
	post(t, l, "fill", time.Time{}, pp("big", max), pp("sink", -max))
	for _, tx := range []payout.Transaction{
		{ID: "over", Postings: []payout.Posting{pp("a-first", -1), pp("big", 1)}},
		{ID: "under", Postings: []payout.Posting{pp("sink", -1), pp("z-last", 1)}},
		{ID: "pending-over", Postings: []payout.Posting{pp("a-first", -1), pp("big", 1)}, AvailableAt: time.Now().Add(time.Hour)},
	} {
		_, err := l.Post(ctx, tx)
		if tx.ID == "pending-over" {
			// Pending balances are separate: big has none pending yet.
			if err != nil {
				t.Fatalf("Post(%s): %v", tx.ID, err)
			}
			continue
		}
		var le *payout.BalanceLimitError
		if !errors.Is(err, payout.ErrBalanceLimit) || !errors.As(err, &le) || le.TransactionID != tx.ID {
			t.Fatalf("Post(%s) = %v, want a *BalanceLimitError", tx.ID, err)
		}
		if _, err := l.Transaction(ctx, tx.ID); !errors.Is(err, payout.ErrNotFound) {
			t.Fatalf("refused %s was recorded: %v", tx.ID, err)
		}
	}
	wantBalances(t, l, "big", max, 1, "sink", -max, 0, "a-first", 0, -1, "z-last", 0, 0)
	post(t, l, "drain", time.Time{}, pp("big", -max), pp("sink", max))
	wantBalances(t, l, "big", 0, 1, "sink", 0, 0)
}

// testGuard: with GuardBalances, no posting or reversal takes an account
// below zero unless it was opened with AllowNegative; a refused call
// writes nothing, and what has become available counts.
func testGuard(t *testing.T, l *payout.Ledger) {
	for _, a := range []string{"platform", "bank"} {
		if err := l.OpenAccount(ctx, payout.AccountOptions{Account: a, AllowNegative: true}); err != nil {
			t.Fatal(err)
		}
	}
	post := func(id string, avail time.Time, ps ...payout.Posting) error {
		_, err := l.Post(ctx, payout.Transaction{ID: id, Postings: ps, AvailableAt: avail})
		return err
	}
	if err := post("sale", time.Time{}, payout.Posting{Account: "platform", Amount: -100}, payout.Posting{Account: "seller", Amount: 100}); err != nil {
		t.Fatalf("platform may go negative: %v", err)
	}
	err := post("payout-1", time.Time{}, payout.Posting{Account: "seller", Amount: -150}, payout.Posting{Account: "bank", Amount: 150})
	var ife *payout.InsufficientFundsError
	if !errors.As(err, &ife) || !errors.Is(err, payout.ErrInsufficientFunds) || ife.Account != "seller" || ife.Balance != 100 || ife.Amount != -150 {
		t.Fatalf("payout beyond the balance: %v", err)
	}
	if _, err := l.Transaction(ctx, "payout-1"); !errors.Is(err, payout.ErrNotFound) {
		t.Fatalf("a refused posting was recorded: %v", err)
	}
	if err := post("payout-2", time.Time{}, payout.Posting{Account: "seller", Amount: -100}, payout.Posting{Account: "bank", Amount: 100}); err != nil {
		t.Fatalf("payout of the whole balance: %v", err)
	}
	// The seller was paid out: reversing the sale would take it below zero.
	_, err = l.Reverse(ctx, payout.ReverseRequest{ID: "refund-sale", Transaction: "sale"})
	if !errors.As(err, &ife) || ife.Account != "seller" || ife.Balance != 0 {
		t.Fatalf("reversal the seller cannot cover: %v", err)
	}
	if p, err := l.Transaction(ctx, "sale"); err != nil || p.ReversedBy != "" {
		t.Fatalf("refused reversal marked the original: %+v %v", p, err)
	}
	// An account never opened is guarded.
	if err := post("gift", time.Time{}, payout.Posting{Account: "customer", Amount: -5}, payout.Posting{Account: "seller", Amount: 5}); !errors.Is(err, payout.ErrInsufficientFunds) {
		t.Fatalf("unopened account below zero: %v", err)
	}
	// Pending funds cannot be paid out until they are available.
	soon := time.Now().Add(80 * time.Millisecond)
	if err := post("sale-2", soon, payout.Posting{Account: "platform", Amount: -30}, payout.Posting{Account: "seller", Amount: 30}); err != nil {
		t.Fatal(err)
	}
	if err := post("payout-3", time.Time{}, payout.Posting{Account: "seller", Amount: -30}, payout.Posting{Account: "bank", Amount: 30}); !errors.Is(err, payout.ErrInsufficientFunds) {
		t.Fatalf("payout of pending funds: %v", err)
	}
	time.Sleep(200 * time.Millisecond)
	if err := post("payout-4", time.Time{}, payout.Posting{Account: "seller", Amount: -30}, payout.Posting{Account: "bank", Amount: 30}); err != nil {
		t.Fatalf("payout once available: %v", err)
	}
	bs, err := l.Balances(ctx, "seller", "platform", "bank")
	if err != nil || bs[0].Total() != 0 || bs[1].Total() != -130 || bs[2].Total() != 130 {
		t.Fatalf("balances %+v %v", bs, err)
	}
	// Withdrawing the exemption guards the account again.
	if err := l.OpenAccount(ctx, payout.AccountOptions{Account: "platform"}); err != nil {
		t.Fatal(err)
	}
	if err := post("sale-3", time.Time{}, payout.Posting{Account: "platform", Amount: -1}, payout.Posting{Account: "seller", Amount: 1}); !errors.Is(err, payout.ErrInsufficientFunds) {
		t.Fatalf("platform after its exemption was withdrawn: %v", err)
	}
	var ie *payout.InputError
	if err := l.OpenAccount(ctx, payout.AccountOptions{Account: ""}); !errors.As(err, &ie) {
		t.Fatalf("empty account: %v", err)
	}
}

// testSharing runs an order through profit sharing: freeze net of the fee,
// two instructions, a refund, a return, an unfreeze; with the guard
// refusing a share beyond what is frozen, a return beyond the share and a
// personal receiver past its monthly cap, each writing nothing; and every
// call idempotent by its ID.
func testSharing(t *testing.T, l *payout.Ledger) {
	s, err := payout.NewSharing(ctx, l, payout.SharingOptions{PersonalMonthlyCap: 3000})
	if err != nil {
		t.Fatal(err)
	}
	sharable := func(want int64) {
		t.Helper()
		if got, err := s.Sharable(ctx, "o1"); err != nil || got != want {
			t.Fatalf("sharable %d (%v), want %d", got, err, want)
		}
	}
	if _, err := s.Freeze(ctx, payout.FreezeRequest{ID: "pay-o1", OrderID: "o1", Amount: 10000, Fee: 60}); err != nil {
		t.Fatal(err)
	}
	sharable(9940)
	first := payout.ShareRequest{ID: "share-1", OrderID: "o1", Receivers: []payout.Receiver{
		{Account: "shop-b", Amount: 4000}, {Account: "kol-1", Amount: 2000, Personal: true}}}
	for range 2 { // the second is a replay
		if _, err := s.Share(ctx, first); err != nil {
			t.Fatal(err)
		}
	}
	sharable(3940)
	// The personal receiver has 1000 of its 3000 left this month.
	_, err = s.Share(ctx, payout.ShareRequest{ID: "share-2", OrderID: "o1", Receivers: []payout.Receiver{{Account: "kol-1", Amount: 1500, Personal: true}}})
	if !errors.Is(err, payout.ErrMonthlyCap) {
		t.Fatalf("past the monthly cap: %v", err)
	}
	sharable(3940)
	// More than is frozen.
	if _, err := s.Share(ctx, payout.ShareRequest{ID: "share-3", OrderID: "o1", Receivers: []payout.Receiver{{Account: "shop-c", Amount: 3941}}}); !errors.Is(err, payout.ErrInsufficientFunds) {
		t.Fatalf("beyond what is frozen: %v", err)
	}
	if _, err := s.Refund(ctx, payout.RefundRequest{ID: "refund-1", OrderID: "o1", Amount: 940}); err != nil {
		t.Fatal(err)
	}
	sharable(3000)
	// A return beyond what kol-1 got from share-1 is refused; within it,
	// the money is frozen again.
	if _, err := s.Return(ctx, payout.ReturnRequest{ID: "ret-1", OrderID: "o1", ShareID: "share-1", Receiver: "kol-1", Amount: 2001}); !errors.Is(err, payout.ErrInsufficientFunds) {
		t.Fatalf("return beyond the share: %v", err)
	}
	if _, err := s.Return(ctx, payout.ReturnRequest{ID: "ret-2", OrderID: "o1", ShareID: "share-1", Receiver: "kol-1", Amount: 500}); err != nil {
		t.Fatal(err)
	}
	sharable(3500)
	u, err := s.Unfreeze(ctx, payout.UnfreezeRequest{ID: "unfreeze-o1", OrderID: "o1", Merchant: "merchant"})
	if err != nil {
		t.Fatal(err)
	}
	if again, err := s.Unfreeze(ctx, payout.UnfreezeRequest{ID: "unfreeze-o1", OrderID: "o1", Merchant: "merchant"}); err != nil || !again.Replayed || again.ID != u.ID {
		t.Fatalf("unfreeze replay: %+v %v", again, err)
	}
	sharable(0)
	bs, err := l.Balances(ctx, "shop-b", "kol-1", "merchant", "sharing.fees", "sharing.clearing")
	if err != nil {
		t.Fatal(err)
	}
	want := []int64{4000, 1500, 3500, 60, -9060}
	for i, b := range bs {
		if b.Available != want[i] {
			t.Fatalf("%s has %d, want %d", b.Account, b.Available, want[i])
		}
	}
	var ie *payout.InputError
	if _, err := s.Share(ctx, payout.ShareRequest{ID: "x", OrderID: "o1", Receivers: []payout.Receiver{{Account: "a", Amount: 1}, {Account: "a", Amount: 1}}}); !errors.As(err, &ie) {
		t.Fatalf("duplicate receiver: %v", err)
	}
	if _, err := payout.NewSharing(ctx, payout.NewMemoryLedger(payout.LedgerOptions{}), payout.SharingOptions{}); !errors.As(err, &ie) || ie.Field != "Ledger" {
		t.Fatalf("unguarded ledger: %v", err)
	}
}
