// Package pricingtest is the conformance suite for *pricing.Redemptions.
package pricingtest

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/shopkit/shopkit/pricing"
)

// NewStore returns an empty store.
type NewStore func(t *testing.T) *pricing.Redemptions

var ctx = context.Background()

// Run runs the suite.
func Run(t *testing.T, newStore NewStore) {
	tests := []struct {
		name string
		fn   func(*testing.T, NewStore)
	}{
		{"Lifecycle", testLifecycle},
		{"Idempotent", testIdempotent},
		{"GlobalLimitUnderRace", testGlobalRace},
		{"CustomerLimitUnderRace", testCustomerRace},
		{"HoldExpiresOnce", testExpiry},
		{"SeparatorsInIDs", testSeparators},
		{"InvalidInputWritesNothing", testInvalid},
		{"BudgetLifecycle", testBudget},
		{"BudgetUnderRace", testBudgetRace},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) { tt.fn(t, newStore) })
	}
}

func usage(t *testing.T, s *pricing.Redemptions, coupon, customer string) pricing.CouponUsage {
	t.Helper()
	u, err := s.Usage(ctx, pricing.UsageQuery{Coupon: coupon, Customer: customer})
	if err != nil {
		t.Fatal(err)
	}
	return u
}

func testLifecycle(t *testing.T, newStore NewStore) {
	s := newStore(t)
	lim := pricing.CouponLimits{Global: 2, PerCustomer: 1}
	r, err := s.Reserve(ctx, pricing.HoldRequest{Coupon: "SAVE10", Limits: lim, Customer: "alice", OrderID: "o1", TTL: time.Minute})
	if err != nil || r.State != pricing.Held || r.Customer != "alice" || r.OrderID != "o1" || r.Coupon != "SAVE10" {
		t.Fatalf("reserve: %+v, %v", r, err)
	}
	if time.Until(r.ExpiresAt) < 50*time.Second || time.Until(r.ExpiresAt) > 61*time.Second {
		t.Fatalf("expires at %v, want about a minute from now", r.ExpiresAt)
	}
	if _, err := s.Reserve(ctx, pricing.HoldRequest{Coupon: "SAVE10", Limits: lim, Customer: "alice", OrderID: "o2", TTL: time.Minute}); !errors.Is(err, pricing.ErrCustomerLimit) {
		t.Fatalf("second use by alice: %v, want ErrCustomerLimit", err)
	}
	if _, err := s.Reserve(ctx, pricing.HoldRequest{Coupon: "SAVE10", Limits: lim, Customer: "bob", OrderID: "o3", TTL: time.Minute}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Reserve(ctx, pricing.HoldRequest{Coupon: "SAVE10", Limits: lim, Customer: "carol", OrderID: "o4", TTL: time.Minute}); !errors.Is(err, pricing.ErrGlobalLimit) {
		t.Fatalf("third use: %v, want ErrGlobalLimit", err)
	}
	if u := usage(t, s, "SAVE10", "alice"); u != (pricing.CouponUsage{Global: 2, Customer: 1}) {
		t.Fatalf("usage %+v", u)
	}
	if r, err := s.Commit(ctx, pricing.RedemptionRef{Coupon: "SAVE10", OrderID: "o1"}); err != nil || r.State != pricing.Committed {
		t.Fatalf("commit: %+v, %v", r, err)
	}
	// Bob cancels: his use returns and carol gets it.
	if r, err := s.Release(ctx, pricing.RedemptionRef{Coupon: "SAVE10", OrderID: "o3"}); err != nil || r.State != pricing.Released {
		t.Fatalf("release: %+v, %v", r, err)
	}
	if _, err := s.Commit(ctx, pricing.RedemptionRef{Coupon: "SAVE10", OrderID: "o3"}); !errors.Is(err, pricing.ErrNotHeld) {
		t.Fatalf("commit after release: %v, want ErrNotHeld", err)
	}
	if _, err := s.Reserve(ctx, pricing.HoldRequest{Coupon: "SAVE10", Limits: lim, Customer: "carol", OrderID: "o4", TTL: time.Minute}); err != nil {
		t.Fatal(err)
	}
	// A paid order cancelled later gives its use back too.
	if r, err := s.Release(ctx, pricing.RedemptionRef{Coupon: "SAVE10", OrderID: "o1"}); err != nil || r.State != pricing.Released {
		t.Fatalf("release committed: %+v, %v", r, err)
	}
	if u := usage(t, s, "SAVE10", "alice"); u != (pricing.CouponUsage{Global: 1, Customer: 0}) {
		t.Fatalf("usage after releases %+v", u)
	}
	if _, err := s.Commit(ctx, pricing.RedemptionRef{Coupon: "SAVE10", OrderID: "nope"}); !errors.Is(err, pricing.ErrNotFound) {
		t.Fatalf("commit unknown: %v", err)
	}
	if _, err := s.Release(ctx, pricing.RedemptionRef{Coupon: "OTHER", OrderID: "o1"}); !errors.Is(err, pricing.ErrNotFound) {
		t.Fatalf("release under another coupon: %v", err)
	}
	if u := usage(t, s, "UNUSED", "alice"); u != (pricing.CouponUsage{}) {
		t.Fatalf("unused coupon usage %+v", u)
	}
}

func testIdempotent(t *testing.T, newStore NewStore) {
	s := newStore(t)
	lim := pricing.CouponLimits{Global: 5, PerCustomer: 1}
	first, err := s.Reserve(ctx, pricing.HoldRequest{Coupon: "C", Limits: lim, Customer: "alice", OrderID: "o1", TTL: time.Minute})
	if err != nil {
		t.Fatal(err)
	}
	again, err := s.Reserve(ctx, pricing.HoldRequest{Coupon: "C", Limits: lim, Customer: "alice", OrderID: "o1", TTL: time.Minute})
	want := first
	want.Replayed = true
	if err != nil || first.Replayed || again != want {
		t.Fatalf("repeated reserve: %+v, %v; want %+v, replayed", again, err, first)
	}
	if _, err := s.Reserve(ctx, pricing.HoldRequest{Coupon: "C", Limits: lim, Customer: "bob", OrderID: "o1", TTL: time.Minute}); !errors.Is(err, pricing.ErrIDConflict) {
		t.Fatalf("same order, other customer: %v, want ErrIDConflict", err)
	}
	for i := 0; i < 2; i++ {
		if r, err := s.Commit(ctx, pricing.RedemptionRef{Coupon: "C", OrderID: "o1"}); err != nil || r.State != pricing.Committed || r.Replayed != (i == 1) {
			t.Fatalf("commit #%d: %+v, %v", i, r, err)
		}
	}
	for i := 0; i < 2; i++ {
		if r, err := s.Release(ctx, pricing.RedemptionRef{Coupon: "C", OrderID: "o1"}); err != nil || r.State != pricing.Released || r.Replayed != (i == 1) {
			t.Fatalf("release #%d: %+v, %v", i, r, err)
		}
	}
	if u := usage(t, s, "C", "alice"); u != (pricing.CouponUsage{}) {
		t.Fatalf("usage %+v: a repeated call counted twice", u)
	}
}

// testGlobalRace: 200 customers race for 25 uses; exactly 25 win.
func testGlobalRace(t *testing.T, newStore NewStore) {
	s := newStore(t)
	lim := pricing.CouponLimits{Global: 25, PerCustomer: 1}
	var won, limited atomic.Int64
	var wg sync.WaitGroup
	for i := 0; i < 200; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, err := s.Reserve(ctx, pricing.HoldRequest{Coupon: "FLASH", Limits: lim, Customer: fmt.Sprintf("c%d", i), OrderID: fmt.Sprintf("o%d", i), TTL: time.Minute})
			switch {
			case err == nil:
				won.Add(1)
			case errors.Is(err, pricing.ErrGlobalLimit):
				limited.Add(1)
			default:
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	if won.Load() != 25 || limited.Load() != 175 {
		t.Fatalf("won %d, limited %d; want 25 and 175", won.Load(), limited.Load())
	}
	if u := usage(t, s, "FLASH", "c0"); u.Global != 25 {
		t.Fatalf("usage %+v", u)
	}
}

// testCustomerRace: one customer opens 50 checkouts at once on a coupon
// allowed twice per customer; exactly two hold it.
func testCustomerRace(t *testing.T, newStore NewStore) {
	s := newStore(t)
	lim := pricing.CouponLimits{PerCustomer: 2}
	var won atomic.Int64
	var wg sync.WaitGroup
	for i := 0; i < 50; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, err := s.Reserve(ctx, pricing.HoldRequest{Coupon: "NEWUSER", Limits: lim, Customer: "mallory", OrderID: fmt.Sprintf("o%d", i), TTL: time.Minute})
			if err == nil {
				won.Add(1)
			} else if !errors.Is(err, pricing.ErrCustomerLimit) {
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	if won.Load() != 2 {
		t.Fatalf("%d checkouts hold the coupon, want 2", won.Load())
	}
}

func testExpiry(t *testing.T, newStore NewStore) {
	s := newStore(t)
	lim := pricing.CouponLimits{Global: 1}
	if _, err := s.Reserve(ctx, pricing.HoldRequest{Coupon: "ONE", Limits: lim, Customer: "alice", OrderID: "o1", TTL: 100 * time.Millisecond}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Reserve(ctx, pricing.HoldRequest{Coupon: "ONE", Limits: lim, Customer: "bob", OrderID: "o2", TTL: time.Minute}); !errors.Is(err, pricing.ErrGlobalLimit) {
		t.Fatalf("while held: %v, want ErrGlobalLimit", err)
	}
	time.Sleep(300 * time.Millisecond)
	if r, err := s.Commit(ctx, pricing.RedemptionRef{Coupon: "ONE", OrderID: "o1"}); !errors.Is(err, pricing.ErrNotHeld) || r.State != pricing.Expired {
		t.Fatalf("commit after expiry: %+v, %v; want Expired, ErrNotHeld", r, err)
	}
	// Release after expiry returns nothing more: the use came back once.
	if r, err := s.Release(ctx, pricing.RedemptionRef{Coupon: "ONE", OrderID: "o1"}); err != nil || r.State != pricing.Expired {
		t.Fatalf("release after expiry: %+v, %v", r, err)
	}
	if u := usage(t, s, "ONE", "alice"); u != (pricing.CouponUsage{}) {
		t.Fatalf("usage after expiry %+v", u)
	}
	if _, err := s.Reserve(ctx, pricing.HoldRequest{Coupon: "ONE", Limits: lim, Customer: "bob", OrderID: "o2", TTL: time.Minute}); err != nil {
		t.Fatalf("after expiry: %v", err)
	}
	if u := usage(t, s, "ONE", "bob"); u != (pricing.CouponUsage{Global: 1, Customer: 1}) {
		t.Fatalf("usage %+v", u)
	}
}

func testInvalid(t *testing.T, newStore NewStore) {
	s := newStore(t)
	ok := pricing.CouponLimits{Global: 1}
	tests := []struct {
		field string
		call  func() error
	}{
		{"Coupon", func() error {
			_, err := s.Reserve(ctx, pricing.HoldRequest{Coupon: "", Limits: ok, Customer: "a", OrderID: "o", TTL: time.Minute})
			return err
		}},
		{"Coupon", func() error {
			_, err := s.Reserve(ctx, pricing.HoldRequest{Coupon: "x{y}", Limits: ok, Customer: "a", OrderID: "o", TTL: time.Minute})
			return err
		}},
		{"Customer", func() error {
			_, err := s.Reserve(ctx, pricing.HoldRequest{Coupon: "C", Limits: ok, Customer: "a:b", OrderID: "o", TTL: time.Minute})
			return err
		}},
		{"OrderID", func() error {
			_, err := s.Reserve(ctx, pricing.HoldRequest{Coupon: "C", Limits: ok, Customer: "a", OrderID: "o 1", TTL: time.Minute})
			return err
		}},
		{"Limits.Global", func() error {
			_, err := s.Reserve(ctx, pricing.HoldRequest{Coupon: "C", Limits: pricing.CouponLimits{Global: -1}, Customer: "a", OrderID: "o", TTL: time.Minute})
			return err
		}},
		{"Limits.PerCustomer", func() error {
			_, err := s.Reserve(ctx, pricing.HoldRequest{Coupon: "C", Limits: pricing.CouponLimits{PerCustomer: -1}, Customer: "a", OrderID: "o", TTL: time.Minute})
			return err
		}},
		{"Limits.Budget", func() error {
			_, err := s.Reserve(ctx, pricing.HoldRequest{Coupon: "C", Limits: pricing.CouponLimits{Budget: -1}, Customer: "a", OrderID: "o", TTL: time.Minute})
			return err
		}},
		{"Amount", func() error {
			_, err := s.Reserve(ctx, pricing.HoldRequest{Coupon: "C", Limits: ok, Customer: "a", OrderID: "o", TTL: time.Minute, Amount: pricing.MaxHoldAmount + 1})
			return err
		}},
		{"TTL", func() error {
			_, err := s.Reserve(ctx, pricing.HoldRequest{Coupon: "C", Limits: ok, Customer: "a", OrderID: "o", TTL: 0})
			return err
		}},
		{"TTL", func() error {
			_, err := s.Reserve(ctx, pricing.HoldRequest{Coupon: "C", Limits: ok, Customer: "a", OrderID: "o", TTL: 25 * time.Hour})
			return err
		}},
		{"OrderID", func() error { _, err := s.Commit(ctx, pricing.RedemptionRef{Coupon: "C", OrderID: ""}); return err }},
		{"Coupon", func() error { _, err := s.Release(ctx, pricing.RedemptionRef{Coupon: "", OrderID: "o"}); return err }},
		{"Customer", func() error { _, err := s.Usage(ctx, pricing.UsageQuery{Coupon: "C", Customer: ""}); return err }},
	}
	for i, tt := range tests {
		var ie *pricing.InputError
		if err := tt.call(); !errors.As(err, &ie) || ie.Field != tt.field || !errors.Is(err, pricing.ErrInvalidInput) {
			t.Errorf("case %d: err = %v, want InputError on %s", i, err, tt.field)
		}
	}
	if u := usage(t, s, "C", "a"); u != (pricing.CouponUsage{}) {
		t.Fatalf("invalid calls wrote: usage %+v", u)
	}
	if _, err := s.Commit(ctx, pricing.RedemptionRef{Coupon: "C", OrderID: "o"}); !errors.Is(err, pricing.ErrNotFound) {
		t.Fatalf("invalid reserve left a redemption: %v", err)
	}
}

// testSeparators: customers and orders whose IDs hold the characters a
// record format might split on still hold, lapse, commit and release like
// any other, and their holds never stop others from lapsing.
//
// Regression: Redis records were "<state>|<customer>|<expires>" parsed
// with [^|]*, so a hold for customer "a|b" never lapsed, Reserve answered
// "malformed redemption", and 100 such holds stopped every other hold
// from lapsing.
func testSeparators(t *testing.T, newStore NewStore) {
	s := newStore(t)
	lim := pricing.CouponLimits{Global: 3, PerCustomer: 1}
	customers := []string{"a|b", "x|1|2", "|", "held|9|z", "c.d-e_f/g"}
	for i, c := range customers {
		r, err := s.Reserve(ctx, pricing.HoldRequest{Coupon: "SEP", Limits: pricing.CouponLimits{}, Customer: c, OrderID: fmt.Sprintf("o|%d|", i), TTL: 100 * time.Millisecond})
		if err != nil || r.Customer != c || r.State != pricing.Held {
			t.Fatalf("Reserve for %q = %+v, %v", c, r, err)
		}
		if u := usage(t, s, "SEP", c); u.Customer != 1 {
			t.Fatalf("usage of %q = %+v, want 1 use", c, u)
		}
	}
	time.Sleep(300 * time.Millisecond)
	for i, c := range customers {
		if u := usage(t, s, "SEP", c); u != (pricing.CouponUsage{}) {
			t.Fatalf("after the holds lapsed, usage of %q = %+v, want none", c, u)
		}
		if r, err := s.Commit(ctx, pricing.RedemptionRef{Coupon: "SEP", OrderID: fmt.Sprintf("o|%d|", i)}); !errors.Is(err, pricing.ErrNotHeld) || r.State != pricing.Expired || r.Customer != c {
			t.Fatalf("commit after lapse for %q = %+v, %v; want Expired, ErrNotHeld", c, r, err)
		}
	}
	r, err := s.Reserve(ctx, pricing.HoldRequest{Coupon: "SEP", Limits: lim, Customer: "a|b", OrderID: "fresh", TTL: time.Minute})
	if err != nil || r.Customer != "a|b" {
		t.Fatalf("Reserve after lapse = %+v, %v", r, err)
	}
	if _, err := s.Reserve(ctx, pricing.HoldRequest{Coupon: "SEP", Limits: lim, Customer: "a", OrderID: "fresh", TTL: time.Minute}); !errors.Is(err, pricing.ErrIDConflict) {
		t.Fatalf("same order, customer \"a\" instead of \"a|b\": %v, want ErrIDConflict", err)
	}
	if _, err := s.Commit(ctx, pricing.RedemptionRef{Coupon: "SEP", OrderID: "fresh"}); err != nil {
		t.Fatal(err)
	}
	if r, err := s.Release(ctx, pricing.RedemptionRef{Coupon: "SEP", OrderID: "fresh"}); err != nil || r.State != pricing.Released || r.Customer != "a|b" {
		t.Fatalf("Release = %+v, %v", r, err)
	}
}

// testBudget: a campaign's budget caps the amounts its live redemptions
// hold; a release or a lapse gives the amount back once, a commit keeps
// it, and a Reserve repeated with another amount is a conflict.
func testBudget(t *testing.T, newStore NewStore) {
	s := newStore(t)
	lim := pricing.CouponLimits{Budget: 100}
	hold := func(order string, amount int64, ttl time.Duration) (pricing.Redemption, error) {
		return s.Reserve(ctx, pricing.HoldRequest{Coupon: "SPRING", Limits: lim, Customer: "c-" + order, OrderID: order, TTL: ttl, Amount: amount})
	}
	if r, err := hold("o1", 60, time.Minute); err != nil || r.Amount != 60 {
		t.Fatalf("o1: %+v %v", r, err)
	}
	if _, err := hold("o2", 50, time.Minute); !errors.Is(err, pricing.ErrBudgetExhausted) {
		t.Fatalf("o2 over budget: %v, want ErrBudgetExhausted", err)
	}
	if r, err := hold("o2", 40, time.Minute); err != nil || r.Amount != 40 {
		t.Fatalf("o2 within budget: %+v %v", r, err)
	}
	if u := usage(t, s, "SPRING", "c-o1"); u.Spent != 100 || u.Global != 2 {
		t.Fatalf("usage %+v, want 100 spent by 2", u)
	}
	if r, err := hold("o1", 60, time.Minute); err != nil || !r.Replayed || r.Amount != 60 {
		t.Fatalf("replay: %+v %v", r, err)
	}
	if _, err := hold("o1", 61, time.Minute); !errors.Is(err, pricing.ErrIDConflict) {
		t.Fatalf("o1 with another amount: %v, want ErrIDConflict", err)
	}
	if r, err := s.Commit(ctx, pricing.RedemptionRef{Coupon: "SPRING", OrderID: "o2"}); err != nil || r.Amount != 40 {
		t.Fatalf("commit: %+v %v", r, err)
	}
	for range 2 { // the second release is a replay: the amount comes back once
		if r, err := s.Release(ctx, pricing.RedemptionRef{Coupon: "SPRING", OrderID: "o1"}); err != nil || r.Amount != 60 {
			t.Fatalf("release: %+v %v", r, err)
		}
	}
	if u := usage(t, s, "SPRING", "c-o1"); u.Spent != 40 {
		t.Fatalf("after release: %+v, want 40 spent", u)
	}
	if _, err := hold("o3", 60, 100*time.Millisecond); err != nil {
		t.Fatalf("o3: %v", err)
	}
	time.Sleep(300 * time.Millisecond)
	if u := usage(t, s, "SPRING", "c-o3"); u.Spent != 40 {
		t.Fatalf("after o3 lapsed: %+v, want 40 spent", u)
	}
	if _, err := hold("o4", 60, time.Minute); err != nil {
		t.Fatalf("o4 after the lapse: %v", err)
	}
}

// testBudgetRace: 60 checkouts of 7 each race for a budget of 100;
// exactly 14 hold it.
func testBudgetRace(t *testing.T, newStore NewStore) {
	s := newStore(t)
	var won, refused atomic.Int64
	var wg sync.WaitGroup
	for i := range 60 {
		wg.Go(func() {
			_, err := s.Reserve(ctx, pricing.HoldRequest{Coupon: "RACE", Limits: pricing.CouponLimits{Budget: 100}, Customer: fmt.Sprint("c", i),
				OrderID: fmt.Sprint("o", i), TTL: time.Minute, Amount: 7})
			switch {
			case err == nil:
				won.Add(1)
			case errors.Is(err, pricing.ErrBudgetExhausted):
				refused.Add(1)
			default:
				t.Error(err)
			}
		})
	}
	wg.Wait()
	if won.Load() != 14 || refused.Load() != 46 {
		t.Fatalf("won %d, refused %d; want 14 and 46", won.Load(), refused.Load())
	}
	if u := usage(t, s, "RACE", "c0"); u.Spent != 98 {
		t.Fatalf("usage %+v, want 98 spent", u)
	}
}
