package seckill_test

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/alicebob/miniredis/v2"
	"github.com/redis/go-redis/v9"

	"github.com/shopkit/shopkit/seckill"
)

// A flash sale of 2 units, at most 1 per buyer: the third buyer finds it
// sold out, and a buyer retrying the same request gets the same ticket.
func Example() {
	ctx := context.Background()
	start := time.Date(2026, 11, 11, 0, 0, 0, 0, time.UTC)
	gate := seckill.NewMemoryGate(seckill.GateOptions{Now: func() time.Time { return start.Add(time.Second) }})
	defer gate.Close()

	err := gate.Open(ctx, seckill.Sale{ID: "1111", SKU: "phone", Units: 2, PerUserLimit: 1,
		Start: start, End: start.Add(time.Hour), PayWithin: 10 * time.Minute})
	if err != nil {
		panic(err)
	}
	for _, user := range []string{"ann", "bob", "cy"} {
		a, err := gate.Admit(ctx, seckill.AdmitRequest{SaleID: "1111", UserID: user, RequestID: "req-" + user, Quantity: 1})
		if err != nil {
			panic(err)
		}
		fmt.Println(user, a.Outcome)
	}
	again, _ := gate.Admit(ctx, seckill.AdmitRequest{SaleID: "1111", UserID: "ann", RequestID: "req-ann", Quantity: 1})
	fmt.Println("ann again:", again.Outcome, "replayed:", again.Replayed)

	paid, err := gate.Pay(ctx, seckill.TicketRef{SaleID: "1111", TicketID: again.Ticket.ID})
	if err != nil {
		panic(err)
	}
	st, _ := gate.Status(ctx, "1111")
	fmt.Printf("paid %d; units %d, held %d, paid %d, remaining %d\n", paid.Quantity, st.Units, st.Held, st.Paid, st.Remaining)
	// Output:
	// ann admitted
	// bob admitted
	// cy sold out
	// ann again: admitted replayed: true
	// paid 1; units 2, held 1, paid 1, remaining 0
}

// The same sale on Redis (here an embedded miniredis): every admission is
// one Lua script, so any number of gate instances share the stock.
func ExampleNewRedisGate() {
	ctx := context.Background()
	srv := miniredis.NewMiniRedis()
	if err := srv.Start(); err != nil {
		panic(err)
	}
	defer srv.Close()
	client := redis.NewClient(&redis.Options{Addr: srv.Addr()})
	defer client.Close()

	gate, err := seckill.NewRedisGate(client, seckill.GateOptions{Prefix: "shop:sale"})
	if err != nil {
		panic(err)
	}
	defer gate.Close()
	// Redis decides the window by its own clock.
	now := time.Now()
	if err := gate.Open(ctx, seckill.Sale{ID: "1111", SKU: "phone", Units: 1, PerUserLimit: 1,
		Start: now.Add(-time.Minute), End: now.Add(time.Hour)}); err != nil {
		panic(err)
	}
	for _, user := range []string{"ann", "bob"} {
		a, err := gate.Admit(ctx, seckill.AdmitRequest{SaleID: "1111", UserID: user, RequestID: "req-" + user, Quantity: 1})
		if err != nil {
			panic(err)
		}
		fmt.Println(user, a.Outcome)
	}
	_, err = gate.Admit(ctx, seckill.AdmitRequest{SaleID: "9999", UserID: "cy", RequestID: "req-cy", Quantity: 1})
	fmt.Println("unknown sale:", errors.Is(err, seckill.ErrNotFound))
	// Output:
	// ann admitted
	// bob sold out
	// unknown sale: true
}

// A lock with a fencing token: the holder whose lease lapsed is refused by
// the store even though it still believes it holds the lock.
func ExampleLocker() {
	ctx := context.Background()
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	clock := func() time.Time { return now }
	locker := seckill.NewMemoryLocker(seckill.LockerOptions{Now: clock})
	store := seckill.NewMemoryFencedStore(seckill.FencedStoreOptions{})

	a, err := locker.Obtain(ctx, "stock-sync", 10*time.Second, seckill.ObtainOptions{})
	if err != nil {
		panic(err)
	}
	now = now.Add(11 * time.Second) // A stalls past its lease
	b, err := locker.Obtain(ctx, "stock-sync", 10*time.Second, seckill.ObtainOptions{})
	if err != nil {
		panic(err)
	}
	fmt.Println("tokens:", a.Token(), b.Token())
	fmt.Println("B writes:", store.Write(ctx, seckill.FencedWrite{Resource: "sku-1", Token: b.Token(), Value: "42"}))
	err = store.Write(ctx, seckill.FencedWrite{Resource: "sku-1", Token: a.Token(), Value: "41"})
	fmt.Println("A writes late:", errors.Is(err, seckill.ErrStaleToken))
	v, _ := store.Read(ctx, "sku-1")
	fmt.Println("value:", v)
	// Output:
	// tokens: 1 2
	// B writes: <nil>
	// A writes late: true
	// value: 42
}

// A GCRA limit of 2 requests a second with a burst of 2: the third request
// at once is refused and told when to retry.
func ExampleLimiter() {
	ctx := context.Background()
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	limiter := seckill.NewMemoryLimiter(seckill.LimiterOptions{Now: func() time.Time { return now }})
	limit := seckill.PerSecond(2, 2)
	for i := 0; i < 3; i++ {
		r, err := limiter.Allow(ctx, "ip-203.0.113.7", limit)
		if err != nil {
			panic(err)
		}
		fmt.Printf("allowed %d, retry after %v\n", r.Allowed, r.RetryAfter)
	}
	// One request every 500ms refills the burst, so the third, at once,
	// waits 500ms.
	// Output:
	// allowed 1, retry after 0s
	// allowed 1, retry after 0s
	// allowed 0, retry after 500ms
}

// Example_allowAtMost sends a batch of notifications under a per-user
// limit, as much of it as the limit allows now: the rest waits for the
// next round.
func Example_allowAtMost() {
	ctx := context.Background()
	now := time.Date(2026, 11, 11, 0, 0, 0, 0, time.UTC)
	limiter := seckill.NewMemoryLimiter(seckill.LimiterOptions{Now: func() time.Time { return now }})
	limit := seckill.PerMinute(10, 10) // ten a minute, ten at once
	for _, batch := range []int{4, 8, 8} {
		res, err := limiter.AllowAtMost(ctx, "user-42", limit, batch)
		if err != nil {
			panic(err)
		}
		fmt.Printf("asked %d, sent %d, %d left\n", batch, res.Allowed, res.Remaining)
	}
	// Output:
	// asked 4, sent 4, 6 left
	// asked 8, sent 6, 0 left
	// asked 8, sent 0, 0 left
}

// Example_resetLimit gives a user back their full burst, as support might
// after a mistaken lockout.
func Example_resetLimit() {
	ctx := context.Background()
	now := time.Date(2026, 11, 11, 0, 0, 0, 0, time.UTC)
	limiter := seckill.NewMemoryLimiter(seckill.LimiterOptions{Now: func() time.Time { return now }})
	limit := seckill.PerMinute(3, 3)
	res, _ := limiter.AllowN(ctx, "login-ann", limit, 3)
	fmt.Println("allowed", res.Allowed, "remaining", res.Remaining)
	res, _ = limiter.Allow(ctx, "login-ann", limit)
	fmt.Println("then allowed", res.Allowed)
	if err := limiter.Reset(ctx, "login-ann"); err != nil {
		panic(err)
	}
	res, _ = limiter.Allow(ctx, "login-ann", limit)
	fmt.Println("after reset allowed", res.Allowed, "remaining", res.Remaining)
	// Output:
	// allowed 3 remaining 0
	// then allowed 0
	// after reset allowed 1 remaining 2
}

// Example_cancelTicket: a buyer who changes their mind gives the unit back
// at once, and the next buyer gets it.
func Example_cancelTicket() {
	ctx := context.Background()
	start := time.Date(2026, 11, 11, 0, 0, 0, 0, time.UTC)
	gate := seckill.NewMemoryGate(seckill.GateOptions{Now: func() time.Time { return start.Add(time.Second) }})
	defer gate.Close()
	if err := gate.Open(ctx, seckill.Sale{ID: "lamp", SKU: "lamp-1", Units: 1, Start: start, End: start.Add(time.Hour), PerUserLimit: 1}); err != nil {
		panic(err)
	}
	ann, _ := gate.Admit(ctx, seckill.AdmitRequest{SaleID: "lamp", UserID: "ann", RequestID: "a1", Quantity: 1})
	bob, _ := gate.Admit(ctx, seckill.AdmitRequest{SaleID: "lamp", UserID: "bob", RequestID: "b1", Quantity: 1})
	fmt.Println("ann:", ann.Outcome, "bob:", bob.Outcome)
	if _, err := gate.Cancel(ctx, seckill.TicketRef{SaleID: "lamp", TicketID: ann.Ticket.ID}); err != nil {
		panic(err)
	}
	bob, _ = gate.Admit(ctx, seckill.AdmitRequest{SaleID: "lamp", UserID: "bob", RequestID: "b2", Quantity: 1})
	fmt.Println("after ann cancels, bob:", bob.Outcome)
	// Output:
	// ann: admitted bob: sold out
	// after ann cancels, bob: admitted
}

// Example_extendTicket: a payment still under way when the ticket's
// deadline nears gets more time.
func Example_extendTicket() {
	ctx := context.Background()
	start := time.Date(2026, 11, 11, 0, 0, 0, 0, time.UTC)
	now := start.Add(time.Second)
	gate := seckill.NewMemoryGate(seckill.GateOptions{Now: func() time.Time { return now }})
	defer gate.Close()
	if err := gate.Open(ctx, seckill.Sale{ID: "lamp", SKU: "lamp-1", Units: 1, Start: start, End: start.Add(time.Hour),
		PerUserLimit: 1, PayWithin: 5 * time.Minute}); err != nil {
		panic(err)
	}
	a, _ := gate.Admit(ctx, seckill.AdmitRequest{SaleID: "lamp", UserID: "ann", RequestID: "a1", Quantity: 1})
	fmt.Println("pay by", a.Ticket.Deadline.Format("15:04:05"))
	now = now.Add(4 * time.Minute) // the bank asks for a second factor
	t, err := gate.Extend(ctx, seckill.ExtendRequest{SaleID: "lamp", TicketID: a.Ticket.ID, PayWithin: 5 * time.Minute})
	if err != nil {
		panic(err)
	}
	fmt.Println("now pay by", t.Deadline.Format("15:04:05"))
	now = now.Add(3 * time.Minute) // past the first deadline
	if _, err := gate.Pay(ctx, seckill.TicketRef{SaleID: "lamp", TicketID: a.Ticket.ID}); err != nil {
		panic(err)
	}
	fmt.Println("paid")
	// Output:
	// pay by 00:05:01
	// now pay by 00:09:01
	// paid
}

// lampStock is a StockSource: a warehouse's lamps, set aside for a sale
// and settled once.
type lampStock struct {
	onHand, setAside int64
	settled          map[string]bool
}

func (l *lampStock) Allocate(_ context.Context, _, _ string, units int64) (int64, error) {
	n := min(units, l.onHand)
	l.setAside += n
	return n, nil
}

func (l *lampStock) Settle(_ context.Context, saleID, _ string, sold, unsold int64) error {
	if l.settled[saleID] {
		return nil // told again: already applied
	}
	l.settled[saleID] = true
	l.setAside -= sold + unsold
	l.onHand -= sold
	return nil
}

// Example_settleSale: when the sale is over, the units it sold leave the
// stock for good and the rest go back.
func Example_settleSale() {
	ctx := context.Background()
	start := time.Date(2026, 11, 11, 0, 0, 0, 0, time.UTC)
	now := start.Add(time.Second)
	gate := seckill.NewMemoryGate(seckill.GateOptions{Now: func() time.Time { return now }})
	defer gate.Close()
	stock := &lampStock{onHand: 10, settled: map[string]bool{}}
	sale, err := gate.OpenFrom(ctx, seckill.Sale{ID: "lamp", SKU: "lamp-1", Units: 3, Start: start,
		End: start.Add(time.Hour), PerUserLimit: 1}, stock)
	if err != nil {
		panic(err)
	}
	a, _ := gate.Admit(ctx, seckill.AdmitRequest{SaleID: "lamp", UserID: "ann", RequestID: "a1", Quantity: 1})
	if _, err := gate.Pay(ctx, seckill.TicketRef{SaleID: "lamp", TicketID: a.Ticket.ID}); err != nil {
		panic(err)
	}
	if _, err := gate.Settle(ctx, sale, stock); errors.Is(err, seckill.ErrSaleNotOver) {
		fmt.Println("not yet: the sale runs for another hour")
	}
	now = start.Add(2 * time.Hour)
	s, err := gate.Settle(ctx, sale, stock)
	if err != nil {
		panic(err)
	}
	fmt.Printf("sold %d, returned %d; on hand %d, set aside %d\n", s.Sold, s.Returned, stock.onHand, stock.setAside)
	// Output:
	// not yet: the sale runs for another hour
	// sold 1, returned 2; on hand 9, set aside 0
}

// Example_rwLock: price readers share the catalogue lock while a repricing
// job waits for exclusive use; every grant's token comes from one rising
// sequence, so a reader that stalled past the writer cannot publish what
// it read: the fenced store has seen the writer's larger token.
func Example_rwLock() {
	ctx := context.Background()
	locker := seckill.NewMemoryLocker(seckill.LockerOptions{})
	store := seckill.NewMemoryFencedStore(seckill.FencedStoreOptions{})

	r1, _ := locker.ObtainShared(ctx, "catalog", time.Minute, seckill.ObtainOptions{})
	r2, _ := locker.ObtainShared(ctx, "catalog", time.Minute, seckill.ObtainOptions{})
	_, err := locker.Obtain(ctx, "catalog", time.Minute, seckill.ObtainOptions{})
	fmt.Println("writer while two read:", errors.Is(err, seckill.ErrNotObtained))
	_ = r1.Release(ctx)
	_ = r2.Release(ctx)
	w, err := locker.Obtain(ctx, "catalog", time.Minute, seckill.ObtainOptions{})
	if err != nil {
		panic(err)
	}
	_, err = locker.ObtainShared(ctx, "catalog", time.Minute, seckill.ObtainOptions{})
	fmt.Println("reader while one writes:", errors.Is(err, seckill.ErrNotObtained))
	fmt.Println("tokens:", r1.Token(), r2.Token(), w.Token())
	fmt.Println("writer publishes:", store.Write(ctx, seckill.FencedWrite{Resource: "price-list", Token: w.Token(), Value: "v2"}))
	err = store.Write(ctx, seckill.FencedWrite{Resource: "price-list", Token: r2.Token(), Value: "v1-cache"})
	fmt.Println("stale reader publishes:", errors.Is(err, seckill.ErrStaleToken))
	// Output:
	// writer while two read: true
	// reader while one writes: true
	// tokens: 1 2 3
	// writer publishes: <nil>
	// stale reader publishes: true
}
