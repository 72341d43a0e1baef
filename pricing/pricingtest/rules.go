package pricingtest

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/shopspring/decimal"

	"github.com/shopkit/shopkit/pricing"
)

// NewRuleSource returns an empty rule source.
type NewRuleSource func(t *testing.T) *pricing.RuleSource

// RunRuleSource runs the suite for *pricing.RuleSource, with an Engine
// following the source.
func RunRuleSource(t *testing.T, newSource NewRuleSource) {
	tests := []struct {
		name string
		fn   func(*testing.T, NewRuleSource)
	}{
		{"RoundTrip", testRoundTrip},
		{"PublishIdempotent", testPublishIdempotent},
		{"InvalidWritesNothing", testPublishInvalid},
		{"EngineFollows", testEngineFollows},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) { tt.fn(t, newSource) })
	}
}

var dec = decimal.RequireFromString

func rulesV1() []pricing.Promotion {
	return []pricing.Promotion{
		{ID: "every100", Kind: pricing.Threshold, Threshold: dec("100"), Off: dec("10"), Repeat: true, Cap: dec("30"),
			Target: pricing.Target{Tags: []string{"kitchen"}}},
		{ID: "gold", Kind: pricing.MemberPrice, MemberTier: "gold", Prices: map[string]decimal.Decimal{"tea": dec("42.50")}, Priority: -1},
		{ID: "tiers", Kind: pricing.Tiered, Tiers: []pricing.Tier{{Threshold: dec("50"), Off: dec("5")}, {Threshold: dec("200"), Off: dec("25")}},
			Group: "g", Priority: 2},
		{ID: "coupon", Kind: pricing.FixedOff, Amount: dec("7.77"), Coupon: "SAVE", MinSpend: dec("99.99"), Priority: 3,
			Starts: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC), Ends: time.Date(2027, 1, 1, 0, 0, 0, 0, time.UTC)},
	}
}

var sample = pricing.Cart{Scale: 2, Customer: pricing.Customer{Tier: "gold"}, Coupons: []string{"SAVE"},
	At: time.Date(2026, 6, 1, 0, 0, 0, 0, time.UTC), Lines: []pricing.Line{
		{SKU: "wok", UnitPrice: dec("129.90"), Quantity: 2, Tags: []string{"kitchen"}},
		{SKU: "tea", UnitPrice: dec("58.00"), Quantity: 1},
	}}

func quoteString(t *testing.T, promos []pricing.Promotion) string {
	t.Helper()
	rs, err := pricing.NewRuleSet(promos)
	if err != nil {
		t.Fatal(err)
	}
	q, err := rs.Quote(sample)
	if err != nil {
		t.Fatal(err)
	}
	return q.String()
}

func testRoundTrip(t *testing.T, newSource NewRuleSource) {
	src := newSource(t)
	if _, _, err := src.Load(ctx); !errors.Is(err, pricing.ErrNoRules) {
		t.Fatalf("load before publish: %v, want ErrNoRules", err)
	}
	v, err := src.Publish(ctx, "p1", rulesV1())
	if err != nil || v != 1 {
		t.Fatalf("publish: %d, %v", v, err)
	}
	got, promos, err := src.Load(ctx)
	if err != nil || got != 1 {
		t.Fatalf("load: %d, %v", got, err)
	}
	// The loaded rules price a cart to the same receipt, reasons and all.
	if want, have := quoteString(t, rulesV1()), quoteString(t, promos); want != have {
		t.Fatalf("loaded rules quote\n%s\nwant\n%s", have, want)
	}
	if v, err := src.Publish(ctx, "p2", rulesV1()[:1]); err != nil || v != 2 {
		t.Fatalf("second publish: %d, %v", v, err)
	}
	if v, promos, err := src.Load(ctx); err != nil || v != 2 || len(promos) != 1 {
		t.Fatalf("load v2: %d, %d promos, %v", v, len(promos), err)
	}
}

// testPublishIdempotent: a repeated publish answers with the first one's
// version; the same publish ID with other promotions is ErrIDConflict (it
// was once answered as a replay, silently dropping the new rules). Neither
// writes.
func testPublishIdempotent(t *testing.T, newSource NewRuleSource) {
	src := newSource(t)
	v1, _ := src.Publish(ctx, "deploy-41", rulesV1())
	again, err := src.Publish(ctx, "deploy-41", rulesV1())
	if err != nil || again != v1 {
		t.Fatalf("repeated publish: %d, %v; want %d", again, err, v1)
	}
	if _, err := src.Publish(ctx, "deploy-41", rulesV1()[:1]); !errors.Is(err, pricing.ErrIDConflict) {
		t.Fatalf("same publish ID, other rules: %v, want ErrIDConflict", err)
	}
	if v, promos, _ := src.Load(ctx); v != v1 || len(promos) != len(rulesV1()) {
		t.Fatalf("repeated publish wrote: version %d, %d promos", v, len(promos))
	}
}

func testPublishInvalid(t *testing.T, newSource NewRuleSource) {
	src := newSource(t)
	if _, err := src.Publish(ctx, "ok", rulesV1()); err != nil {
		t.Fatal(err)
	}
	bad := append(rulesV1(), pricing.Promotion{ID: "neg", Kind: pricing.PercentOff, Percent: dec("-5")})
	var ie *pricing.InputError
	if _, err := src.Publish(ctx, "bad", bad); !errors.As(err, &ie) || ie.Promotion != "neg" || ie.Field != "Percent" {
		t.Fatalf("invalid rules: %v", err)
	}
	if _, err := src.Publish(ctx, "has space", rulesV1()); !errors.As(err, &ie) || ie.Field != "PublishID" {
		t.Fatalf("invalid publish ID: %v", err)
	}
	if v, _, _ := src.Load(ctx); v != 1 {
		t.Fatalf("invalid publishes wrote: version %d", v)
	}
}

func testEngineFollows(t *testing.T, newSource NewRuleSource) {
	src := newSource(t)
	var e pricing.Engine
	if _, _, err := e.Quote(sample); !errors.Is(err, pricing.ErrNoRules) {
		t.Fatalf("quote before any rules: %v", err)
	}
	fctx, cancel := context.WithCancel(ctx)
	followed := make(chan error, 1)
	// A long poll: the change notification (or the first load, for a
	// publish that beats the subscription) must do the work.
	go func() {
		followed <- e.Follow(fctx, src, pricing.FollowOptions{Poll: time.Hour, OnError: func(err error) { t.Error(err) }})
	}()
	// Follow blocks until its context ends, then returns nil.
	defer func() {
		cancel()
		select {
		case err := <-followed:
			if err != nil {
				t.Errorf("Follow returned %v after its context ended, want nil", err)
			}
		case <-time.After(5 * time.Second):
			t.Error("Follow did not return after its context ended")
		}
	}()
	waitVersion := func(want int64) {
		t.Helper()
		deadline := time.Now().Add(5 * time.Second)
		for e.Version() != want {
			if time.Now().After(deadline) {
				t.Fatalf("engine at version %d, want %d", e.Version(), want)
			}
			time.Sleep(5 * time.Millisecond)
		}
	}
	if _, err := src.Publish(ctx, "v1", rulesV1()); err != nil {
		t.Fatal(err)
	}
	waitVersion(1)
	q1, v, err := e.Quote(sample)
	if err != nil || v != 1 {
		t.Fatalf("quote: v%d, %v", v, err)
	}
	if _, err := src.Publish(ctx, "v2", rulesV1()[:1]); err != nil {
		t.Fatal(err)
	}
	waitVersion(2)
	q2, v, _ := e.Quote(sample)
	if v != 2 || q2.Total.Equal(q1.Total) {
		t.Fatalf("after v2: version %d, total %s (v1 total %s)", v, q2.Total, q1.Total)
	}
	rs, _ := pricing.NewRuleSet(nil)
	if e.Swap(1, rs) || e.Version() != 2 {
		t.Fatal("an older version replaced a newer one")
	}
}
