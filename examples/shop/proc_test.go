package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/shopkit/shopkit/internal/redistest"
	"github.com/shopkit/shopkit/inventory"
	"github.com/shopkit/shopkit/pricing"
)

// The suites in this file run the shop as users run it: built, as
// separate processes, killed with SIGKILL, on a real Redis.

var (
	buildOnce sync.Once
	binPath   string
	buildErr  error
)

// shopBinary builds the shop once per test run.
func shopBinary(t *testing.T) string {
	t.Helper()
	buildOnce.Do(func() {
		dir, err := os.MkdirTemp("", "shop-bin-")
		if err != nil {
			buildErr = err
			return
		}
		binPath = filepath.Join(dir, "shop")
		out, err := exec.Command("go", "build", "-o", binPath, ".").CombinedOutput()
		if err != nil {
			buildErr = err
			binPath = string(out)
		}
	})
	if buildErr != nil {
		t.Fatalf("build the shop: %v\n%s", buildErr, binPath)
	}
	return binPath
}

// shopProc is a shop process.
type shopProc struct {
	t    *testing.T
	cmd  *exec.Cmd
	url  string
	mu   sync.Mutex
	logs bytes.Buffer
	done chan struct{}
}

func (p *shopProc) Write(b []byte) (int, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.logs.Write(b)
}

func (p *shopProc) output() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.logs.String()
}

// startShop runs the shop with args (after -listen on a free port and
// -insecure-user-header) and env, and waits until it serves.
func startShop(t *testing.T, env []string, args ...string) *shopProc {
	t.Helper()
	p := &shopProc{t: t, done: make(chan struct{})}
	p.cmd = exec.Command(shopBinary(t), append([]string{"-listen", "127.0.0.1:0", "-insecure-user-header"}, args...)...)
	p.cmd.Env = append(os.Environ(), env...)
	p.cmd.Stderr = p
	stdout, err := p.cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := p.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	urls := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			line := sc.Text()
			_, _ = p.Write([]byte(line + "\n"))
			if rest, ok := strings.CutPrefix(line, "shop on "); ok {
				urls <- strings.Fields(rest)[0]
			}
		}
		_ = p.cmd.Wait()
		close(p.done)
	}()
	t.Cleanup(func() {
		_ = p.cmd.Process.Kill()
		<-p.done
		if t.Failed() {
			t.Logf("shop %s output:\n%s", p.url, p.output())
		}
	})
	select {
	case p.url = <-urls:
	case <-p.done:
		t.Fatalf("the shop exited while starting:\n%s", p.output())
	case <-time.After(30 * time.Second):
		t.Fatalf("the shop did not start in 30 s:\n%s", p.output())
	}
	return p
}

// waitExit waits for the process to die (by its own SIGKILL).
func (p *shopProc) waitExit() {
	p.t.Helper()
	select {
	case <-p.done:
	case <-time.After(10 * time.Second):
		p.t.Fatal("the shop did not exit")
	}
}

func (p *shopProc) call(method, path, user, key string, body any) (response, error) {
	status, header, b, err := client{base: p.url}.send(method, path, user, key, body)
	return response{status: status, header: header, body: b}, err
}

func (p *shopProc) must(method, path, user, key string, body any, status int, into any) response {
	p.t.Helper()
	res, err := p.call(method, path, user, key, body)
	if err != nil {
		p.t.Fatalf("%s %s: %v", method, path, err)
	}
	res.must(p.t, status, into)
	return res
}

// redisArgs returns the flags that put a shop on the test Redis under a
// prefix of the test's own, and a client on it. The address is the
// client's own: without REDIS_ADDR it is the embedded server's.
func redisArgs(t *testing.T) (redis.UniversalClient, []string) {
	client := redistest.Client(t)
	addr := client.(*redis.Client).Options().Addr
	return client, []string{"-redis", addr, "-prefix", redistest.Prefix(t, client)}
}

var plainCart = map[string]any{
	"lines": []map[string]any{{"sku": "cup-celadon", "quantity": 2}}, "zone": "south",
	"recipient": map[string]string{"name": "Bo Wu", "phone": "13900002222", "address": "8 Pearl Road"},
}

// TestTwoInstances: two shop processes on one Redis are one shop:
// checkout on one, pay on the other, replays across them, a race for one
// key across both, and a flash-sale winner recognised by either.
func TestTwoInstances(t *testing.T) {
	t.Run("Redis", func(t *testing.T) {
		_, args := redisArgs(t)
		twoInstances(t, args)
	})
	t.Run("RedisCluster", func(t *testing.T) {
		client := redistest.Cluster(t)
		twoInstances(t, []string{"-cluster", os.Getenv("REDIS_CLUSTER_ADDRS"), "-prefix", redistest.Prefix(t, client)})
	})
}

func twoInstances(t *testing.T, args []string) {
	a := startShop(t, nil, args...)
	b := startShop(t, nil, args...)
	var o, again, paid orderRecord
	a.must("POST", "/checkout", "ann", "co-1", testCart, 201, &o)
	res := b.must("POST", "/checkout", "ann", "co-1", testCart, 201, &again)
	if again.ID != o.ID || res.header.Get("Idempotent-Replayed") != "true" {
		t.Fatalf("checkout replayed on the other instance: %s replayed=%q", again.ID, res.header.Get("Idempotent-Replayed"))
	}
	b.must("POST", "/orders/"+o.ID+"/pay", "ann", "pay-1", nil, 200, &paid)
	res = a.must("POST", "/orders/"+o.ID+"/pay", "ann", "pay-1", nil, 200, nil)
	if res.header.Get("Idempotent-Replayed") != "true" {
		t.Fatal("pay replayed on the first instance ran again")
	}
	a.must("POST", "/orders/"+o.ID+"/refunds", "ann", "r-1", map[string]string{"amount": "10.00"}, 201, nil)
	var seen orderRecord
	b.must("GET", "/orders/"+o.ID, "ann", "", nil, 200, &seen)
	if seen.State != statePaid || len(seen.Refunds) != 1 || seen.Refunds[0].Status != refundSucceeded {
		t.Fatalf("the order seen from the other instance: %s %+v", seen.State, seen.Refunds)
	}

	// One key, sixteen concurrent attempts spread over both instances:
	// one order, and every attempt answered with it.
	var wg sync.WaitGroup
	ids := make(chan string, 16)
	for i := range 16 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			p := []*shopProc{a, b}[i%2]
			for {
				res, err := p.call("POST", "/checkout", "bea", "co-race", plainCart)
				if err != nil {
					t.Error(err)
					return
				}
				if res.status == 409 && res.errorCode(t) == "request_in_progress" {
					time.Sleep(20 * time.Millisecond)
					continue
				}
				var o orderRecord
				if res.status != 201 || json.Unmarshal(res.body, &o) != nil {
					t.Errorf("racing checkout: %d %s", res.status, res.body)
					return
				}
				ids <- o.ID
				return
			}
		}()
	}
	wg.Wait()
	close(ids)
	first := ""
	for id := range ids {
		if first == "" {
			first = id
		}
		if id != first {
			t.Fatalf("racing checkouts made orders %s and %s", first, id)
		}
	}

	// A flash-sale winner asking the other instance under a new key is
	// told the order they hold.
	var won, told admissionView
	a.must("POST", "/flash/admit", "cy", "f-1", nil, 201, &won)
	b.must("POST", "/flash/admit", "cy", "f-2", nil, 200, &told)
	if told.Order != won.Order || told.Outcome != "admitted" {
		t.Fatalf("winner asking the other instance: %+v, won %+v", told, won)
	}
}

// TestCrashBetweenSteps kills the shop with SIGKILL at every boundary
// between the saga's store calls, restarts it on the same Redis and
// checks that the restarted shop alone (its resumer) finished what was
// under way, that the client's retries then complete the flow, and that
// the orders, the stock, the coupon uses and the ledger agree.
func TestCrashBetweenSteps(t *testing.T) {
	for _, point := range crashPoints {
		t.Run(strings.ReplaceAll(point, ":", "_"), func(t *testing.T) {
			t.Parallel() // each waits for its crashed claim to lapse
			client, args := redisArgs(t)
			ids := auth{key: devKey}
			first, second := ids.derive("o-", "ann", "co-1"), ids.derive("o-", "ann", "co-2")
			steps := []struct {
				method, path, key string
				body              any
				status            int
			}{
				{"POST", "/checkout", "co-1", testCart, 201},
				{"POST", "/orders/" + first + "/pay", "pay-1", nil, 200},
				{"POST", "/orders/" + first + "/refunds", "r-1", map[string]string{"amount": "100.01"}, 201},
				{"POST", "/checkout", "co-2", plainCart, 201},
				{"POST", "/orders/" + second + "/cancel", "x-2", nil, 200},
			}
			a := startShop(t, []string{"SHOP_CRASH_AT=" + point}, args...)
			crashed := -1
			for i, st := range steps {
				res, err := a.call(st.method, st.path, "ann", st.key, st.body)
				if err != nil {
					crashed = i
					break
				}
				res.must(t, st.status, nil)
			}
			if crashed < 0 {
				t.Fatalf("the shop never reached %s", point)
			}
			a.waitExit()

			b := startShop(t, nil, args...)
			// The restarted shop's resumer finished the interrupted step
			// before the client came back.
			var o orderRecord
			switch {
			case strings.HasPrefix(point, "pay:"):
				b.must("GET", "/orders/"+first, "ann", "", nil, 200, &o)
				if o.State != statePaid || o.Pending != "" {
					t.Fatalf("after a crash at %s the order is %s (pending %q), want paid", point, o.State, o.Pending)
				}
			case strings.HasPrefix(point, "refund:"):
				b.must("GET", "/orders/"+first, "ann", "", nil, 200, &o)
				if o.Pending != "" || len(o.Refunds) != 1 || o.Refunds[0].Status != refundSucceeded {
					t.Fatalf("after a crash at %s: pending %q, refunds %+v", point, o.Pending, o.Refunds)
				}
			case strings.HasPrefix(point, "cancel:"):
				b.must("GET", "/orders/"+second, "ann", "", nil, 200, &o)
				if o.State != stateCancelled || o.Pending != "" {
					t.Fatalf("after a crash at %s the order is %s (pending %q), want cancelled", point, o.State, o.Pending)
				}
			}
			// The client retries what failed, then goes on.
			for _, st := range steps[crashed:] {
				b.must(st.method, st.path, "ann", st.key, st.body, st.status, nil)
			}
			checkConsistent(t, client, args[3], first, second)
		})
	}
}

// checkConsistent checks that the flow of TestCrashBetweenSteps ended as
// it would have without a crash: the first order paid with one refund of
// 100.01, the second cancelled, and the stock, the coupon uses and the
// ledger agreeing with them.
func checkConsistent(t *testing.T, client redis.UniversalClient, prefix, first, second string) {
	t.Helper()
	ctx := context.Background()
	st, err := openRedis(client, prefix)
	if err != nil {
		t.Fatal(err)
	}
	defer st.closeAll()
	paid, err := st.orders.get(ctx, first)
	if err != nil {
		t.Fatal(err)
	}
	cancelled, err := st.orders.get(ctx, second)
	if err != nil {
		t.Fatal(err)
	}
	if paid.State != statePaid || paid.Pending != "" || len(paid.Refunds) != 1 || paid.Refunds[0].Status != refundSucceeded {
		t.Fatalf("first order: %s pending %q refunds %+v", paid.State, paid.Pending, paid.Refunds)
	}
	if cancelled.State != stateCancelled || cancelled.Pending != "" {
		t.Fatalf("second order: %s pending %q", cancelled.State, cancelled.Pending)
	}
	// Stock: what the paid order took left on-hand stock; nothing else is
	// held but the flash sale's units.
	sold := map[inventory.Item]int64{}
	for _, f := range paid.Fulfilment {
		for _, l := range f.Lines {
			sold[inventory.Item{SKU: l.SKU, Location: f.Warehouse}] += l.Quantity
		}
	}
	for _, wh := range warehouses {
		for sku, opening := range openingStock[wh] {
			item := inventory.Item{SKU: sku, Location: wh}
			lv, err := st.stock.Levels(ctx, item)
			if err != nil {
				t.Fatal(err)
			}
			var held int64
			if sku == flashSKU && wh == flashWarehse {
				held = flashUnits
			}
			if lv[0].OnHand != opening-sold[item] || lv[0].Reserved != held {
				t.Errorf("%s at %s: on hand %d, reserved %d; want %d, %d", sku, wh, lv[0].OnHand, lv[0].Reserved, opening-sold[item], held)
			}
		}
	}
	use, err := st.coupons.Usage(ctx, pricing.UsageQuery{Coupon: "WELCOME20", Customer: "ann"})
	if err != nil || use.Customer != 1 || use.Global != 1 {
		t.Errorf("coupon uses: %+v, %v; want one", use, err)
	}
	bs, err := st.ledger.Balances(ctx, accountClearing, accountPlatform, accountProcessor, accountMerchant)
	if err != nil {
		t.Fatal(err)
	}
	var sum int64
	for _, b := range bs {
		sum += b.Total()
		if b.Account == accountClearing && b.Total() != -(minorOf(paid.Total)-10001) {
			t.Errorf("clearing account %d, want %d", b.Total(), -(minorOf(paid.Total) - 10001))
		}
	}
	if sum != 0 {
		t.Errorf("ledger does not balance: %+v", bs)
	}
}

// TestCrashDuringExpiry kills the shop while its background loop expires
// an unpaid order: the restarted shop finishes the expiry, and the stock
// and the coupon are back.
func TestCrashDuringExpiry(t *testing.T) {
	for _, point := range expiryCrashPoints {
		t.Run(strings.ReplaceAll(point, ":", "_"), func(t *testing.T) {
			t.Parallel()
			client, args := redisArgs(t)
			args = append(args, "-hold", "1s")
			a := startShop(t, []string{"SHOP_CRASH_AT=" + point}, args...)
			var o orderRecord
			a.must("POST", "/checkout", "ann", "co-1", testCart, 201, &o)
			a.waitExit() // the loop expires the order a second later, and dies
			b := startShop(t, nil, args...)
			var got orderRecord
			b.must("GET", "/orders/"+o.ID, "ann", "", nil, 200, &got)
			if got.State != stateExpired || got.Pending != "" {
				t.Fatalf("after a crash at %s the order is %s (pending %q), want expired", point, got.State, got.Pending)
			}
			ctx := context.Background()
			st, err := openRedis(client, args[3])
			if err != nil {
				t.Fatal(err)
			}
			defer st.closeAll()
			for _, f := range o.Fulfilment {
				for _, l := range f.Lines {
					lv, err := st.stock.Levels(ctx, inventory.Item{SKU: l.SKU, Location: f.Warehouse})
					if err != nil {
						t.Fatal(err)
					}
					if lv[0].OnHand != openingStock[f.Warehouse][l.SKU] || (lv[0].Reserved != 0 && l.SKU != flashSKU) {
						t.Errorf("%s at %s after the expiry: %+v", l.SKU, f.Warehouse, lv[0])
					}
				}
			}
			use, err := st.coupons.Usage(ctx, pricing.UsageQuery{Coupon: "WELCOME20", Customer: "ann"})
			if err != nil || use.Customer != 0 {
				t.Errorf("coupon uses after the expiry: %+v, %v", use, err)
			}
		})
	}
}
