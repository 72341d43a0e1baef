package seckill_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/shopkit/shopkit/internal/redistest"
	"github.com/shopkit/shopkit/seckill"
)

// TestRedisSaleKeysExpire: every key a sale leaves in Redis — the sale,
// its buyers, requests, tickets, unpaid index and order queue, on every
// bucket — expires after the sale's end, payment window and Retention.
//
// Regression: requests, users, tickets, the unpaid set and the queue
// stream had no TTL and stayed forever.
func TestRedisSaleKeysExpire(t *testing.T) {
	client := redistest.Client(t)
	prefix := redistest.Prefix(t, client)
	ctx := context.Background()
	g, err := seckill.NewRedisGate(client, seckill.GateOptions{Retention: time.Hour, Prefix: prefix})
	if err != nil {
		t.Fatal(err)
	}
	defer g.Close()
	now := time.Now()
	s := seckill.Sale{ID: "s", SKU: "x", Units: 4, Buckets: 2, PerUserLimit: 1, Start: now.Add(-time.Minute), End: now.Add(time.Hour), PayWithin: 50 * time.Millisecond}
	if err := g.Open(ctx, s); err != nil {
		t.Fatal(err)
	}
	var tickets []seckill.Ticket
	for _, u := range []string{"a", "b", "c", "d", "e"} {
		a, err := g.Admit(ctx, seckill.AdmitRequest{SaleID: "s", UserID: u, RequestID: u, Quantity: 1})
		if err != nil {
			t.Fatal(err)
		}
		if a.Outcome == seckill.Admitted {
			tickets = append(tickets, a.Ticket)
		}
	}
	if _, err := g.Pay(ctx, seckill.TicketRef{SaleID: "s", TicketID: tickets[0].ID}); err != nil {
		t.Fatal(err)
	}
	time.Sleep(100 * time.Millisecond)
	if _, err := g.Sweep(ctx, "s"); err != nil {
		t.Fatal(err)
	}
	if _, err := g.Consume(ctx, seckill.ConsumeRequest{SaleID: "s", Group: "orders", Consumer: "c1", Count: 10, MinIdle: time.Minute}); err != nil {
		t.Fatal(err)
	}
	if keys := redistest.KeysWithoutTTL(t, client, prefix); len(keys) > 0 {
		t.Fatalf("keys that never expire: %v", keys)
	}
	ttl, err := client.PTTL(ctx, prefix+"{s}:sale").Result()
	if want := time.Until(s.End.Add(s.PayWithin + time.Hour)); err != nil || ttl < want-time.Minute || ttl > want+time.Second {
		t.Fatalf("sale TTL %v, %v; want about %v", ttl, err, want)
	}
}

// TestMemorySalesForgotten: a Memory gate drops a sale once its end,
// payment window and Retention have passed.
func TestMemorySalesForgotten(t *testing.T) {
	ctx := context.Background()
	now := time.Unix(1_800_000_000, 0)
	g := seckill.NewMemoryGate(seckill.GateOptions{Retention: time.Hour, Now: func() time.Time { return now }})
	defer g.Close()
	s := seckill.Sale{ID: "s", SKU: "x", Units: 4, PerUserLimit: 1, Start: now.Add(-time.Minute), End: now.Add(time.Hour), PayWithin: time.Minute}
	if err := g.Open(ctx, s); err != nil {
		t.Fatal(err)
	}
	now = now.Add(2*time.Hour + time.Minute - time.Millisecond)
	if _, err := g.Status(ctx, "s"); err != nil {
		t.Fatalf("just before the retention ends: %v", err)
	}
	now = now.Add(time.Millisecond)
	if _, err := g.Status(ctx, "s"); !errors.Is(err, seckill.ErrUnknownSale) {
		t.Fatalf("after the retention: %v, want ErrUnknownSale", err)
	}
}
