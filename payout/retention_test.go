package payout_test

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/shopkit/shopkit/internal/redistest"
	"github.com/shopkit/shopkit/payout"
)

// testRetention posts 12 transactions through account "a" on a ledger
// keeping 5 history entries, then checks History keeps the newest 5, and
// that after Retention the records are gone while balances stay whole.
//
// Regression: history lists were never trimmed and transaction records
// never forgotten, on Memory and Redis.
func testRetention(t *testing.T, l *payout.Ledger, wait func()) {
	ctx := context.Background()
	for i := range 12 {
		tx := payout.Transaction{ID: fmt.Sprintf("t%d", i), Postings: []payout.Posting{{Account: "a", Amount: -10}, {Account: "b", Amount: 10}}}
		if _, err := l.Post(ctx, tx); err != nil {
			t.Fatal(err)
		}
	}
	h, err := l.History(ctx, "a", 100)
	if err != nil || len(h) != 5 || h[0].TransactionID != "t11" || h[4].TransactionID != "t7" {
		t.Fatalf("History = %+v, %v; want t11..t7", h, err)
	}
	wait()
	if _, err := l.Transaction(ctx, "t11"); !errors.Is(err, payout.ErrNotFound) {
		t.Fatalf("after the retention: %v, want ErrNotFound", err)
	}
	b, err := l.Balances(ctx, "a", "b")
	if err != nil || b[0].Available != -120 || b[1].Available != 120 {
		t.Fatalf("balances %+v, %v; want -120 and 120", b, err)
	}
}

func TestMemoryRetention(t *testing.T) {
	now := time.Unix(1_800_000_000, 0)
	l := payout.NewMemoryLedger(payout.LedgerOptions{HistoryLength: 5, Retention: time.Hour, Now: func() time.Time { return now }})
	testRetention(t, l, func() { now = now.Add(time.Hour) })
}

func TestRedisRetention(t *testing.T) {
	c := redistest.Client(t)
	prefix := redistest.Prefix(t, c)
	l, err := payout.NewRedisLedger(c, payout.LedgerOptions{Prefix: prefix, HistoryLength: 5, Retention: 300 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	testRetention(t, l, func() { time.Sleep(400 * time.Millisecond) })
	if n, err := c.LLen(context.Background(), "{"+prefix+"}:h:a").Result(); err != nil || n != 5 {
		t.Fatalf("history list holds %d entries, %v; want 5", n, err)
	}
}
