package inventory_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/shopkit/shopkit/internal/redistest"
	"github.com/shopkit/shopkit/inventory"
)

// runLoad has workers reserve, commit and release against s until stop is
// closed, and returns every ID it attempted and the errors that were neither
// success nor shortage.
func runLoad(t *testing.T, s *inventory.Store, stop <-chan struct{}) (ids []string, failures []error) {
	t.Helper()
	var mu sync.Mutex
	var wg sync.WaitGroup
	for w := 0; w < 8; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			for i := 0; ; i++ {
				select {
				case <-stop:
					return
				default:
				}
				id := fmt.Sprintf("f%d-%d", w, i)
				mu.Lock()
				ids = append(ids, id)
				mu.Unlock()
				ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
				_, err := s.Reserve(ctx, inventory.Request{ID: id, TTL: time.Minute, Lines: []inventory.Line{
					{SKU: "a", Location: "wh1", Quantity: 1}, {SKU: "b", Location: "wh1", Quantity: 1},
				}})
				if err == nil {
					if i%2 == 0 {
						_, err = s.Commit(ctx, id)
					} else {
						_, err = s.Release(ctx, id)
					}
				}
				cancel()
				if err != nil && !errors.Is(err, inventory.ErrInsufficientStock) {
					mu.Lock()
					failures = append(failures, err)
					mu.Unlock()
					time.Sleep(5 * time.Millisecond)
				}
			}
		}(w)
	}
	wg.Wait()
	return ids, failures
}

// checkBooks verifies that, for items a and b started at initial, reserved
// equals what held reservations hold and on hand equals initial minus what
// committed ones took, counting IDs whose outcome was lost to the fault as
// whatever the store now says they are.
func checkBooks(t *testing.T, s *inventory.Store, initial int64, ids []string) {
	t.Helper()
	ctx := context.Background()
	var held, sold int64
	for _, id := range ids {
		r, err := s.Reservation(ctx, id)
		if errors.Is(err, inventory.ErrNotFound) {
			continue
		}
		if err != nil {
			t.Fatalf("Reservation(%s) after recovery: %v", id, err)
		}
		switch r.State {
		case inventory.Held:
			held++
		case inventory.Committed:
			sold++
		}
	}
	lv, err := s.Levels(ctx, inventory.Item{SKU: "a", Location: "wh1"}, inventory.Item{SKU: "b", Location: "wh1"})
	if err != nil {
		t.Fatal(err)
	}
	for _, l := range lv {
		if l.Reserved != held || l.OnHand != initial-sold || l.Reserved > l.OnHand {
			t.Fatalf("%s: on hand %d, reserved %d; want on hand %d, reserved %d", l.SKU, l.OnHand, l.Reserved, initial-sold, held)
		}
	}
	t.Logf("%d IDs tried, %d sold, %d held after recovery", len(ids), sold, held)
}

func stockAB(t *testing.T, s *inventory.Store, n int64) {
	t.Helper()
	for _, sku := range []string{"a", "b"} {
		if _, err := s.SetOnHand(context.Background(), inventory.Count{ID: "init-" + sku, SKU: sku, Location: "wh1", OnHand: n, Reason: inventory.ReasonCount}); err != nil {
			t.Fatal(err)
		}
	}
}

// TestRedisRestart stops the server in the middle of a run and starts it
// again: calls during the outage fail with wrapped network errors, never
// with a wrong answer, and the books balance afterwards.
func TestRedisRestart(t *testing.T) {
	m, client := redistest.Embedded(t)
	s, err := inventory.NewRedis(client, inventory.Options{Prefix: "fault"})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	const initial = 100000
	stockAB(t, s, initial)

	stop := make(chan struct{})
	var ids []string
	var failures []error
	done := make(chan struct{})
	go func() { ids, failures = runLoad(t, s, stop); close(done) }()
	time.Sleep(100 * time.Millisecond)
	m.Close()
	// Longer than each call's 2 s deadline: go-redis retries dials and
	// commands on its own (5 dial attempts, 3 retries, with backoff), so a
	// shorter outage can be ridden out by every call and show no failure.
	time.Sleep(2500 * time.Millisecond)
	if err := m.Restart(); err != nil {
		t.Fatal(err)
	}
	time.Sleep(100 * time.Millisecond)
	close(stop)
	<-done

	if len(failures) == 0 {
		t.Fatal("no call failed while the server was down")
	}
	waitReachable(t, client)
	for _, err := range failures {
		if errors.Is(err, inventory.ErrInvalidInput) || errors.Is(err, inventory.ErrIDConflict) || errors.Is(err, inventory.ErrNotHeld) {
			t.Fatalf("outage reported as a business error: %v", err)
		}
	}
	t.Logf("first outage error: %v", failures[0])
	checkBooks(t, s, initial, ids)
}

// TestRedisTimeout pauses a real server's clients past the client's read
// timeout mid-run. Needs REDIS_ADDR (CLIENT PAUSE is not in miniredis).
func TestRedisTimeout(t *testing.T) {
	addr := os.Getenv("REDIS_ADDR")
	if addr == "" {
		if redistest.InCI() {
			t.Fatal("CI=true but REDIS_ADDR is not set")
		}
		t.Skip("REDIS_ADDR not set: CLIENT PAUSE needs a real server")
	}
	admin := redistest.Client(t)
	client := redis.NewClient(&redis.Options{Addr: addr, ReadTimeout: 100 * time.Millisecond, MaxRetries: -1})
	defer client.Close()
	s, err := inventory.NewRedis(client, inventory.Options{Prefix: redistest.Prefix(t, admin)})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	const initial = 100000
	stockAB(t, s, initial)

	stop := make(chan struct{})
	var ids []string
	var failures []error
	done := make(chan struct{})
	go func() { ids, failures = runLoad(t, s, stop); close(done) }()
	time.Sleep(100 * time.Millisecond)
	if err := admin.Do(context.Background(), "CLIENT", "PAUSE", 400, "ALL").Err(); err != nil {
		t.Fatal(err)
	}
	time.Sleep(700 * time.Millisecond)
	close(stop)
	<-done
	if len(failures) == 0 {
		t.Fatal("no call timed out while clients were paused")
	}
	waitReachable(t, client)
	t.Logf("first timeout error: %v", failures[0])
	checkBooks(t, s, initial, ids)
}

// waitReachable waits for the client to reach the server again: after dial
// errors go-redis's pool only re-dials about once a second.
func waitReachable(t *testing.T, c redis.UniversalClient) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		err := c.Ping(context.Background()).Err()
		if err == nil {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("server still unreachable: %v", err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}
