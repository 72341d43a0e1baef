package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/shopkit/shopkit/internal/rediskeys"
	"github.com/shopkit/shopkit/internal/redistest"
	"github.com/shopkit/shopkit/inventory"
	"github.com/shopkit/shopkit/logistics"
	"github.com/shopkit/shopkit/pricing"
	"github.com/shopkit/shopkit/seckill"
)

// The end-to-end suite drives the server over HTTP, on each backend.
func TestShopMemory(t *testing.T) { runShop(t, func(t *testing.T) *stores { return openMemory() }) }

func TestShopRedis(t *testing.T) {
	client := redistest.Client(t)
	runShop(t, redisStores(client))
}

func TestShopRedisCluster(t *testing.T) {
	client := redistest.Cluster(t)
	runShop(t, redisStores(client))
}

func redisStores(client redis.UniversalClient) func(*testing.T) *stores {
	return func(t *testing.T) *stores {
		st, err := openRedis(client, redistest.Prefix(t, client))
		if err != nil {
			t.Fatal(err)
		}
		return st
	}
}

func runShop(t *testing.T, open func(*testing.T) *stores) {
	for _, tt := range []struct {
		name string
		fn   func(*testing.T, *harness)
		hold time.Duration // how long checkout holds stock
	}{
		{"Checkout", testCheckout, time.Minute},
		{"OrdersSharedAcrossInstances", testOrdersShared, time.Minute},
		{"Admin", testAdmin, time.Minute},
		{"FlashCancelReturnsTheUnit", testFlashCancelReturnsTheUnit, time.Minute},
		{"Dashboard", testDashboard, time.Minute},
		{"SettleAfterTheSaleEnded", testSettleAfterEnd, time.Minute},
		{"ResumerFinishesAPayment", testResumerFinishesPayment, time.Minute},
		{"RefundFinishedWithItsAmounts", testRefundFinishedWithItsAmounts, time.Minute},
		{"PaymentBegunAfterHoldLapsedExpires", testNoExpiryOncePaymentBegan, 500 * time.Millisecond},
		{"PartialRefunds", testRefunds, time.Minute},
		{"AbandonedCartExpires", testExpiry, 300 * time.Millisecond},
		{"PaymentResumesAfterAFailedStep", testPaymentResumes, time.Minute},
		{"CouponBelowMinimumSpendIsNotHeld", testCouponBelowMinimum, time.Minute},
		{"OpeningStockReceivedOnce", testOpeningStockOnce, time.Minute},
		{"CheckoutReplayAfterRestartKeepsItsPlan", testCheckoutReplayAfterRestart, time.Minute},
		{"IdempotencyKeysFinalAnswersOnly", testIdempotencyFinalAnswers, time.Minute},
		{"BearerTokensRequired", testBearerTokens, time.Minute},
		{"CancelReleases", testCancel, time.Minute},
		{"FlashSaleConcurrentBuyers", testFlashSale, time.Minute},
		{"Replays", testReplays, time.Minute},
		{"MalformedRequests", testMalformed, time.Minute},
		{"RateLimitPerIP", testRateLimit, time.Minute},
		{"MetricsAndHealth", testMetrics, time.Minute},
	} {
		t.Run(tt.name, func(t *testing.T) {
			st := open(t)
			t.Cleanup(st.closeAll)
			tt.fn(t, newHarness(t, st, tt.hold))
		})
	}
}

// harness is a running shop and a client for it.
type harness struct {
	t    *testing.T
	shop *shop
	url  string
}

func newHarness(t *testing.T, st *stores, hold time.Duration) *harness {
	s, err := newShop(st, hold)
	if err != nil {
		t.Fatal(err)
	}
	s.perIP = seckill.PerSecond(10000, 10000) // tests come from one address
	s.auth.insecureHeader = true              // the tests name their users in X-User-ID
	s.logf = t.Logf
	ctx, cancel := context.WithCancel(context.Background())
	if err := s.start(ctx); err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(s.routes())
	done := make(chan struct{})
	go func() {
		defer close(done)
		s.background(ctx, 50*time.Millisecond)
	}()
	t.Cleanup(func() {
		srv.Close()
		cancel()
		<-done
	})
	return &harness{t: t, shop: s, url: srv.URL}
}

type response struct {
	status int
	header http.Header
	body   []byte
}

// call sends a request with the smoke session's client; body may be
// nil, a string (sent as is) or a value to encode.
func (h *harness) call(method, path, user, key string, body any) response {
	h.t.Helper()
	status, header, b, err := client{base: h.url}.send(method, path, user, key, body)
	if err != nil {
		h.t.Fatal(err)
	}
	return response{status: status, header: header, body: b}
}

// must wants status and decodes the body into v.
func (r response) must(t *testing.T, status int, v any) {
	t.Helper()
	if r.status != status {
		t.Fatalf("status %d, want %d: %s", r.status, status, r.body)
	}
	if v != nil {
		if err := json.Unmarshal(r.body, v); err != nil {
			t.Fatalf("decode %s: %v", r.body, err)
		}
	}
}

// errorCode returns the error code of an error response.
func (r response) errorCode(t *testing.T) string {
	t.Helper()
	var e struct {
		Error apiError `json:"error"`
	}
	if err := json.Unmarshal(r.body, &e); err != nil || e.Error.Code == "" {
		t.Fatalf("not an error response (%d): %s", r.status, r.body)
	}
	return e.Error.Code
}

var testCart = map[string]any{
	"lines":  []map[string]any{{"sku": "tea-longjing", "quantity": 2}, {"sku": "cup-celadon", "quantity": 1}},
	"coupon": "WELCOME20", "zone": "east",
	"recipient": map[string]string{"name": "Ann Li", "phone": "13800001111", "address": "12 Main Street"},
}

func (h *harness) available(sku, warehouse string) int64 {
	h.t.Helper()
	var cat struct {
		Products []catalogueItem `json:"products"`
	}
	h.call("GET", "/products", "", "", nil).must(h.t, 200, &cat)
	for _, p := range cat.Products {
		if p.SKU == sku {
			return p.Available[warehouse]
		}
	}
	h.t.Fatalf("no product %s", sku)
	return 0
}

// checkout places testCart for user and returns the order.
func (h *harness) checkout(user, key string) orderRecord {
	h.t.Helper()
	var o orderRecord
	h.call("POST", "/checkout", user, key, testCart).must(h.t, 201, &o)
	return o
}

func (h *harness) balances() map[string]int64 {
	h.t.Helper()
	bs, err := h.shop.st.ledger.Balances(context.Background(), accountClearing, accountPlatform, accountProcessor, accountMerchant)
	if err != nil {
		h.t.Fatal(err)
	}
	out := map[string]int64{}
	var sum int64
	for _, b := range bs {
		out[b.Account] = b.Total()
		sum += b.Total()
	}
	if sum != 0 {
		h.t.Fatalf("ledger does not balance: %v", out)
	}
	return out
}

func testCheckout(t *testing.T, h *harness) {
	before := h.available("tea-longjing", "wh-hangzhou")
	var q quoteView
	h.call("POST", "/cart/quote", "ann", "", map[string]any{"lines": testCart["lines"], "coupon": "WELCOME20"}).must(t, 200, &q)
	if q.Total.StringFixed(2) != "311.40" || len(q.Promotions) == 0 {
		t.Fatalf("quote = %+v", q)
	}
	o := h.checkout("ann", "c1")
	if o.State != stateAwaitingPayment || o.Total.StringFixed(2) != "311.40" || o.Fulfilment[0].Warehouse != "wh-hangzhou" {
		t.Fatalf("order = %+v", o)
	}
	if got := h.available("tea-longjing", "wh-hangzhou"); got != before-2 {
		t.Fatalf("available after checkout = %d, want %d", got, before-2)
	}
	h.call("POST", "/orders/"+o.ID+"/pay", "ann", "p1", nil).must(t, 200, &o)
	if o.State != statePaid || o.Payment == nil || len(o.Parcels) != 1 || o.Parcels[0].Carrier == "" {
		t.Fatalf("paid order = %+v", o)
	}
	if got := h.available("tea-longjing", "wh-hangzhou"); got != before-2 {
		t.Fatalf("available after payment = %d, want %d (sold)", got, before-2)
	}
	b := h.balances()
	if b[accountClearing] != -31140 || b[accountPlatform] != 1557 || b[accountMerchant] != 31140-1557-187 {
		t.Fatalf("balances = %v", b)
	}
	// A second paid order for the same recipient merges into one parcel.
	var o2 orderRecord
	h.call("POST", "/checkout", "ann", "c2", map[string]any{"lines": []map[string]any{{"sku": "cup-celadon", "quantity": 1}},
		"zone": "east", "recipient": map[string]string{"name": "ANN LI", "phone": "+86 138 0000 1111", "address": "12 main st."}}).must(t, 201, &o2)
	h.call("POST", "/orders/"+o2.ID+"/pay", "ann", "p2", nil).must(t, 200, &o2)
	if o2.Parcels[0].MergeGroup != o.Parcels[0].MergeGroup || len(o2.Parcels[0].MergedOrders) != 2 {
		t.Fatalf("parcels did not merge: %+v then %+v", o.Parcels, o2.Parcels)
	}
}

func testRefunds(t *testing.T, h *harness) {
	o := h.checkout("ann", "c1")
	h.call("POST", "/orders/"+o.ID+"/pay", "ann", "p1", nil).must(t, 200, &o)
	for i, amount := range []string{"100.01", "0.03", "211.36"} {
		var r refund
		h.call("POST", "/orders/"+o.ID+"/refunds", "ann", fmt.Sprintf("r%d", i), map[string]string{"amount": amount}).must(t, 201, &r)
	}
	h.call("GET", "/orders/"+o.ID, "ann", "", nil).must(t, 200, &o)
	if o.State != stateRefunded || len(o.Refunds) != 3 {
		t.Fatalf("order after refunds = %+v", o)
	}
	// Refunded in full: every share is back to the fen.
	for acct, v := range h.balances() {
		if v != 0 {
			t.Errorf("%s = %d after a full refund, want 0", acct, v)
		}
	}
	res := h.call("POST", "/orders/"+o.ID+"/refunds", "ann", "r9", map[string]string{"amount": "0.01"})
	if res.status != 409 || res.errorCode(t) != "order_not_refundable" {
		t.Fatalf("refund after full refund: %d %s", res.status, res.body)
	}
	o2 := h.checkout("bea", "c1")
	h.call("POST", "/orders/"+o2.ID+"/pay", "bea", "p1", nil).must(t, 200, nil)
	res = h.call("POST", "/orders/"+o2.ID+"/refunds", "bea", "big", map[string]string{"amount": "311.41"})
	if res.status != 422 || res.errorCode(t) != "refund_exceeds_payment" {
		t.Fatalf("refund above the payment: %d %s", res.status, res.body)
	}
}

// testPaymentResumes: a payment whose stock is sold but a later step
// fails (here the merge store) is neither expired nor booked twice; the
// next attempt, hours later, finishes it.
//
// Regression: the retry posted a ledger transaction "different" from the
// first (its availability counted from the retry), got 500 for ever, and
// the expiry loop then released nothing (the stock was sold), returned the
// coupon and marked the paid order expired.
func testPaymentResumes(t *testing.T, h *harness) {
	o := h.checkout("ann", "co-1")
	working := h.shop.st.merges
	broken := logistics.NewMemoryMerge(logistics.MergeOptions{})
	_ = broken.Close() // every call now fails
	h.shop.st.merges = broken
	if res := h.call("POST", "/orders/"+o.ID+"/pay", "ann", "pay-1", nil); res.status < 500 {
		t.Fatalf("pay with the merge store down: %d %s, want a 5xx", res.status, res.body)
	}
	// Hours pass: the stock hold's deadline too.
	later := time.Now().Add(3 * time.Hour)
	h.shop.now = func() time.Time { return later }
	h.shop.resumeUnfinished(context.Background(), resumeGrace)
	var got orderRecord
	h.call("GET", "/orders/"+o.ID, "ann", "", nil).must(t, 200, &got)
	if got.State != stateAwaitingPayment {
		t.Fatalf("a payment under way became %s", got.State)
	}
	h.shop.st.merges = working
	h.call("POST", "/orders/"+o.ID+"/pay", "ann", "pay-2", nil).must(t, 200, &got)
	if got.State != statePaid || got.Payment == nil {
		t.Fatalf("after the retry: %+v", got)
	}
	use, err := h.shop.st.coupons.Usage(context.Background(), pricing.UsageQuery{Coupon: "WELCOME20", Customer: "ann"})
	if err != nil || use.Customer != 1 {
		t.Fatalf("coupon use after the payment: %+v, %v", use, err)
	}
	b := h.balances()
	if b[accountClearing] != -(b[accountPlatform]+b[accountProcessor]+b[accountMerchant]) || b[accountClearing] == 0 {
		t.Fatalf("ledger after one payment: %v", b)
	}
}

// testBearerTokens: without -insecure-user-header, X-User-ID names
// nobody; a token the shop minted does.
func testBearerTokens(t *testing.T, h *harness) {
	h.shop.auth.insecureHeader = false
	if res := h.call("POST", "/checkout", "ann", "k1", testCart); res.status != 401 || res.errorCode(t) != "missing_token" {
		t.Fatalf("X-User-ID alone: %d %s", res.status, res.body)
	}
	req, err := http.NewRequest("POST", h.url+"/checkout", strings.NewReader(`{"lines":[{"sku":"tea-puer","quantity":1}],"zone":"east","recipient":{"name":"a","phone":"1","address":"x"}}`))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+h.shop.auth.mint("ann", time.Minute))
	req.Header.Set("Idempotency-Key", "k2")
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	var o orderRecord
	if err := json.NewDecoder(res.Body).Decode(&o); err != nil || res.StatusCode != 201 || o.User != "ann" {
		t.Fatalf("with a token: %d %+v %v", res.StatusCode, o, err)
	}
}

// testIdempotencyFinalAnswers: the same request encoded differently
// (whitespace, key order) is a replay, and a request refused as invalid
// is not remembered, so the client can fix it under the same key.
//
// Regression: the fingerprint was the body's bytes (other whitespace gave
// 422 idempotency_key_reused), and a 400 was remembered (the fixed body
// then gave 422 too).
func testIdempotencyFinalAnswers(t *testing.T, h *harness) {
	body := `{"zone":"east","coupon":"WELCOME20",
	  "recipient":{"address":"12 Main Street","phone":"13800001111","name":"Ann Li"},
	  "lines":[{"quantity":2,"sku":"tea-longjing"},{"sku":"cup-celadon","quantity":1}]}`
	first := h.call("POST", "/checkout", "gus", "k1", testCart)
	again := h.call("POST", "/checkout", "gus", "k1", body)
	if first.status != 201 || again.status != 201 || !bytes.Equal(first.body, again.body) || again.header.Get("Idempotent-Replayed") != "true" {
		t.Fatalf("the same request re-encoded: %d / %d %s", first.status, again.status, again.body)
	}
	bad := map[string]any{"lines": []map[string]any{{"sku": "tea-longjing", "quantity": 0}}, "zone": "east", "recipient": testCart["recipient"]}
	if res := h.call("POST", "/checkout", "gus", "k2", bad); res.status != 400 {
		t.Fatalf("invalid cart: %d %s", res.status, res.body)
	}
	fixed := map[string]any{"lines": []map[string]any{{"sku": "tea-longjing", "quantity": 1}}, "zone": "east", "recipient": testCart["recipient"]}
	h.call("POST", "/checkout", "gus", "k2", fixed).must(t, 201, nil)
}

// testCheckoutReplayAfterRestart: a checkout replayed after the shop
// restarted (its orders and idempotency table were in the process) gets
// the order it was placed with, though the stock moved and planning anew
// would pick other warehouses.
//
// Regression: the replay planned again on current stock, asked the
// inventory for other lines under the same order ID and got 500 "ID
// already used for a different request".
func testCheckoutReplayAfterRestart(t *testing.T, h *harness) {
	first := h.checkout("ann", "co-restart")
	// The stock moves: the first order's warehouses run dry for others.
	ctx := context.Background()
	for _, f := range first.Fulfilment {
		for _, l := range f.Lines {
			lv, err := h.shop.st.stock.Levels(ctx, inventory.Item{SKU: l.SKU, Location: f.Warehouse})
			if err != nil {
				t.Fatal(err)
			}
			if _, err := h.shop.st.stock.SetOnHand(ctx, inventory.Count{ID: "drain-" + f.Warehouse + "-" + l.SKU,
				SKU: l.SKU, Location: f.Warehouse, OnHand: lv[0].Reserved, Reason: inventory.ReasonCount}); err != nil {
				t.Fatal(err)
			}
		}
	}
	// A new process on the same stores.
	restarted := newHarness(t, h.shop.st, time.Minute)
	var again orderRecord
	restarted.call("POST", "/checkout", "ann", "co-restart", testCart).must(t, 201, &again)
	if again.ID != first.ID || fmt.Sprint(again.Fulfilment) != fmt.Sprint(first.Fulfilment) {
		t.Fatalf("replayed checkout: %s %v, want %s %v", again.ID, again.Fulfilment, first.ID, first.Fulfilment)
	}
}

// testOpeningStockOnce: a restart after the receipts' idempotency records
// were forgotten (the inventory store keeps them a day) receives nothing
// again.
//
// Regression: opening stock was received again on every restart a day
// after the first, adding the whole opening stock each time.
func testOpeningStockOnce(t *testing.T, h *harness) {
	before := h.available("tea-longjing", "wh-hangzhou")
	if c := h.shop.st.redis; c != nil {
		// What a day's retention does: the receipts' records are gone.
		ctx := context.Background()
		if err := rediskeys.DeleteMatching(ctx, c, "{"+h.shop.st.prefix+":inventory}:a:*"); err != nil {
			t.Fatal(err)
		}
	}
	if err := h.shop.receiveOpeningStock(context.Background()); err != nil {
		t.Fatal(err)
	}
	if after := h.available("tea-longjing", "wh-hangzhou"); after != before {
		t.Fatalf("available %d after a restart, want %d", after, before)
	}
}

// testCouponBelowMinimumSpend: a coupon the quote does not apply (the
// cart is below its minimum spend) is not held at checkout, nor used at
// payment.
//
// Regression: checkout held every coupon presented, and payment committed
// it, spending a use the customer never got.
func testCouponBelowMinimum(t *testing.T, h *harness) {
	cart := map[string]any{"lines": []map[string]any{{"sku": "cup-celadon", "quantity": 1}}, // 59 < 100
		"coupon": "WELCOME20", "zone": "east", "recipient": testCart["recipient"]}
	var o orderRecord
	h.call("POST", "/checkout", "bo", "co-1", cart).must(t, 201, &o)
	if o.Coupon != "" || o.Discount.Decimal.IsPositive() {
		t.Fatalf("order %+v: want no coupon and no discount", o)
	}
	h.call("POST", "/orders/"+o.ID+"/pay", "bo", "pay-1", nil).must(t, 200, &o)
	use, err := h.shop.st.coupons.Usage(context.Background(), pricing.UsageQuery{Coupon: "WELCOME20", Customer: "bo"})
	if err != nil || use.Customer != 0 {
		t.Fatalf("coupon use: %+v, %v; want none", use, err)
	}
}

func testExpiry(t *testing.T, h *harness) {
	before := h.available("tea-longjing", "wh-hangzhou")
	o := h.checkout("cy", "c1")
	if got := h.available("tea-longjing", "wh-hangzhou"); got != before-2 {
		t.Fatalf("available while held = %d, want %d", got, before-2)
	}
	deadline := time.Now().Add(10 * time.Second)
	for o.State == stateAwaitingPayment && time.Now().Before(deadline) {
		time.Sleep(50 * time.Millisecond)
		h.call("GET", "/orders/"+o.ID, "cy", "", nil).must(t, 200, &o)
	}
	if o.State != stateExpired {
		t.Fatalf("abandoned order is %s, want expired", o.State)
	}
	if got := h.available("tea-longjing", "wh-hangzhou"); got != before {
		t.Fatalf("available after expiry = %d, want %d back", got, before)
	}
	use, err := h.shop.st.coupons.Usage(context.Background(), pricing.UsageQuery{Coupon: "WELCOME20", Customer: "cy"})
	if err != nil || use.Customer != 0 {
		t.Fatalf("coupon use after expiry = %+v, %v", use, err)
	}
	res := h.call("POST", "/orders/"+o.ID+"/pay", "cy", "p1", nil)
	if res.status != 409 || res.errorCode(t) != "order_not_payable" {
		t.Fatalf("paying an expired order: %d %s", res.status, res.body)
	}
	// The coupon is usable again.
	h.checkout("cy", "c2")
}

func testCancel(t *testing.T, h *harness) {
	before := h.available("cup-celadon", "wh-hangzhou")
	o := h.checkout("dan", "c1")
	h.call("POST", "/orders/"+o.ID+"/cancel", "dan", "x1", nil).must(t, 200, &o)
	if o.State != stateCancelled || h.available("cup-celadon", "wh-hangzhou") != before {
		t.Fatalf("cancelled order %+v; stock not back", o)
	}
	res := h.call("POST", "/orders/"+o.ID+"/pay", "dan", "p1", nil)
	if res.status != 409 {
		t.Fatalf("paying a cancelled order: %d %s", res.status, res.body)
	}
	paid := h.checkout("dan", "c2")
	h.call("POST", "/orders/"+paid.ID+"/pay", "dan", "p2", nil).must(t, 200, nil)
	if res := h.call("POST", "/orders/"+paid.ID+"/cancel", "dan", "x2", nil); res.status != 409 || res.errorCode(t) != "order_not_cancellable" {
		t.Fatalf("cancelling a paid order: %d %s", res.status, res.body)
	}
}

func testFlashSale(t *testing.T, h *harness) {
	// One per buyer: a buyer who tries again is told the order they hold,
	// and one who keeps trying is rate limited (the gate allows three
	// tries at once, then one a second).
	var tries []string
	for i := 0; i < 5; i++ {
		var a admissionView
		_ = json.Unmarshal(h.call("POST", "/flash/admit", "eager", fmt.Sprintf("try-%d", i), nil).body, &a)
		tries = append(tries, a.Outcome)
	}
	if got := strings.Join(tries, " "); got != "admitted admitted admitted rate_limited rate_limited" {
		t.Fatalf("repeated tries: %s", got)
	}
	const buyers = 60
	var wg sync.WaitGroup
	var mu sync.Mutex
	outcomes := map[string]int{}
	var orders []string
	for i := 0; i < buyers; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			user := fmt.Sprintf("buyer-%d", i)
			res := h.call("POST", "/flash/admit", user, "try-1", nil)
			var a admissionView
			if err := json.Unmarshal(res.body, &a); err != nil {
				t.Error(err)
				return
			}
			mu.Lock()
			defer mu.Unlock()
			outcomes[a.Outcome]++
			if a.Outcome == "admitted" {
				orders = append(orders, user+" "+a.Order)
			}
		}(i)
	}
	wg.Wait()
	if outcomes["admitted"] != flashUnits-1 || outcomes["sold_out"] != buyers-flashUnits+1 {
		t.Fatalf("outcomes = %v, want %d admitted and the rest sold out", outcomes, flashUnits-1)
	}
	for _, uo := range orders[:5] {
		user, id, _ := strings.Cut(uo, " ")
		var o orderRecord
		h.call("POST", "/orders/"+id+"/pay", user, "p1", nil).must(t, 200, &o)
		if o.State != statePaid || o.Total.StringFixed(2) != "199.00" {
			t.Fatalf("flash order = %+v", o)
		}
	}
	var status map[string]any
	h.call("GET", "/flash", "", "", nil).must(t, 200, &status)
	if status["remaining"].(float64) != 0 || status["paid"].(float64) != 5 || status["held"].(float64) != flashUnits-5 {
		t.Fatalf("status = %v", status)
	}
	// A winner asking again after the sale sold out, under a new key (a
	// reload), is told their order. Regression: they were told sold_out.
	user, id, _ := strings.Cut(orders[0], " ")
	var again admissionView
	h.call("POST", "/flash/admit", user, "reload", nil).must(t, 200, &again)
	if again.Outcome != "admitted" || again.Order != id {
		t.Fatalf("a winner's reload after the sell-out: %+v, want their order %s", again, id)
	}
}

func testReplays(t *testing.T, h *harness) {
	first := h.call("POST", "/checkout", "eve", "c1", testCart)
	again := h.call("POST", "/checkout", "eve", "c1", testCart)
	if first.status != 201 || again.status != 201 || !bytes.Equal(first.body, again.body) || again.header.Get("Idempotent-Replayed") != "true" {
		t.Fatalf("checkout replay: %d %s / %d %s", first.status, first.body, again.status, again.body)
	}
	var o orderRecord
	first.must(t, 201, &o)
	// The same key for a different cart is refused, not silently replayed.
	other := map[string]any{"lines": []map[string]any{{"sku": "tea-puer", "quantity": 1}}, "zone": "east", "recipient": testCart["recipient"]}
	if res := h.call("POST", "/checkout", "eve", "c1", other); res.status != 422 || res.errorCode(t) != "idempotency_key_reused" {
		t.Fatalf("key reused: %d %s", res.status, res.body)
	}
	// Another user's key is another request.
	h.call("POST", "/checkout", "fay", "c1", testCart).must(t, 201, nil)

	pay1 := h.call("POST", "/orders/"+o.ID+"/pay", "eve", "p1", nil)
	pay2 := h.call("POST", "/orders/"+o.ID+"/pay", "eve", "p1", nil)
	pay3 := h.call("POST", "/orders/"+o.ID+"/pay", "eve", "p2", nil) // a new key, the same payment
	if pay1.status != 200 || !bytes.Equal(pay1.body, pay2.body) || pay3.status != 200 {
		t.Fatalf("pay replays: %d / %d / %d", pay1.status, pay2.status, pay3.status)
	}
	paid := h.balances()
	r1 := h.call("POST", "/orders/"+o.ID+"/refunds", "eve", "r1", map[string]string{"amount": "10.00"})
	r2 := h.call("POST", "/orders/"+o.ID+"/refunds", "eve", "r1", map[string]string{"amount": "10.00"})
	if r1.status != 201 || !bytes.Equal(r1.body, r2.body) {
		t.Fatalf("refund replay: %d %s / %s", r1.status, r1.body, r2.body)
	}
	if got := h.balances(); got[accountClearing] != paid[accountClearing]+1000 {
		t.Fatalf("a replayed refund moved money twice: %v → %v", paid, got)
	}
	var c orderRecord // without the coupon, which eve has used
	h.call("POST", "/checkout", "eve", "c3", other).must(t, 201, &c)
	x1 := h.call("POST", "/orders/"+c.ID+"/cancel", "eve", "x1", nil)
	x2 := h.call("POST", "/orders/"+c.ID+"/cancel", "eve", "x1", nil)
	if x1.status != 200 || !bytes.Equal(x1.body, x2.body) {
		t.Fatalf("cancel replay: %d / %d", x1.status, x2.status)
	}
	a1 := h.call("POST", "/flash/admit", "gus", "f1", nil)
	a2 := h.call("POST", "/flash/admit", "gus", "f1", nil)
	if a1.status != 201 || !bytes.Equal(a1.body, a2.body) {
		t.Fatalf("admit replay: %d %s / %d %s", a1.status, a1.body, a2.status, a2.body)
	}
}

func testMalformed(t *testing.T, h *harness) {
	o := h.checkout("hal", "c1")
	cases := []struct {
		name, method, path, user, key string
		body                          any
		status                        int
		code                          string
	}{
		{"no user", "POST", "/checkout", "", "k", testCart, 401, "missing_user"},
		{"bad user", "POST", "/checkout", "a b", "k", testCart, 400, "invalid_user"},
		{"no key", "POST", "/checkout", "hal", "", testCart, 400, "missing_idempotency_key"},
		{"not JSON", "POST", "/checkout", "hal", "k1", "{", 400, "invalid_json"},
		{"trailing data", "POST", "/checkout", "hal", "k2", `{"zone":"east"} {}`, 400, "invalid_json"},
		{"unknown field", "POST", "/checkout", "hal", "k3", `{"zone":"east","discount":"100"}`, 400, "invalid_json"},
		{"wrong type", "POST", "/checkout", "hal", "k4", `{"lines":[{"sku":"tea-puer","quantity":"two"}]}`, 400, "invalid_request"},
		{"no lines", "POST", "/checkout", "hal", "k5", map[string]any{"zone": "east"}, 400, "invalid_request"},
		{"unknown sku", "POST", "/cart/quote", "hal", "", map[string]any{"lines": []map[string]any{{"sku": "nope", "quantity": 1}}}, 400, "invalid_request"},
		{"bad coupon", "POST", "/cart/quote", "hal", "", map[string]any{"lines": testCart["lines"], "coupon": "FREE"}, 400, "invalid_request"},
		{"bad zone", "POST", "/checkout", "hal", "k6", map[string]any{"lines": testCart["lines"], "zone": "moon", "recipient": testCart["recipient"]}, 400, "invalid_request"},
		{"too much", "POST", "/checkout", "hal", "k7", map[string]any{"lines": []map[string]any{{"sku": "pot-yixing", "quantity": 99}}, "zone": "east", "recipient": testCart["recipient"]}, 409, "out_of_stock"},
		{"huge body", "POST", "/checkout", "hal", "k8", `{"zone":"` + strings.Repeat("x", maxBody) + `"}`, 413, "body_too_large"},
		{"negative refund", "POST", "/orders/" + o.ID + "/refunds", "hal", "k9", map[string]string{"amount": "-1"}, 400, "invalid_request"},
		{"refund in fractions of a fen", "POST", "/orders/" + o.ID + "/refunds", "hal", "k10", map[string]string{"amount": "1.005"}, 400, "invalid_request"},
		{"refund as a number", "POST", "/orders/" + o.ID + "/refunds", "hal", "k11", `{"amount": 1}`, 400, "invalid_json"},
		{"control character in the recipient", "POST", "/checkout", "hal", "k12", map[string]any{"lines": testCart["lines"], "zone": "east",
			"recipient": map[string]string{"name": "Ann\x1b[31m Li", "phone": "1", "address": "a"}}, 400, "invalid_request"},
		{"bidirectional override in the recipient", "POST", "/checkout", "hal", "k13", map[string]any{"lines": testCart["lines"], "zone": "east",
			"recipient": map[string]string{"name": "Ann", "phone": "1", "address": "12 \u202eteertS niaM"}}, 400, "invalid_request"},
		{"unknown order", "GET", "/orders/o-nope", "hal", "", nil, 404, "not_found"},
		{"someone else's order", "GET", "/orders/" + o.ID, "ivy", "", nil, 404, "not_found"},
	}
	for _, c := range cases {
		res := h.call(c.method, c.path, c.user, c.key, c.body)
		if res.status != c.status || res.errorCode(t) != c.code {
			t.Errorf("%s: %d %s, want %d %s", c.name, res.status, res.body, c.status, c.code)
		}
	}
	if res := h.call("GET", "/nowhere", "hal", "", nil); res.status != 404 || res.errorCode(t) != "no_such_endpoint" {
		t.Errorf("unknown route: %d %s", res.status, res.body)
	}
	// A route under another method is 405 with Allow.
	if res := h.call("GET", "/checkout", "hal", "", nil); res.status != 405 || res.header.Get("Allow") != "POST" || res.errorCode(t) != "method_not_allowed" {
		t.Errorf("GET /checkout: %d %s (Allow %q)", res.status, res.body, res.header.Get("Allow"))
	}
	// Errors name the field as validation does: lines[0].quantity, not
	// the Go field; a long name counts characters, not bytes.
	var e struct {
		Error apiError `json:"error"`
	}
	h.call("POST", "/checkout", "hal", "k14", `{"lines":[{"sku":"tea-puer","quantity":"two"}]}`).must(t, 400, &e)
	if e.Error.Field != "lines[0].quantity" {
		t.Errorf("wrong type: field %q, want lines[0].quantity", e.Error.Field)
	}
	name := strings.Repeat("李", 150) // 150 characters, 450 bytes
	h.call("POST", "/checkout", "hal", "k15", map[string]any{"lines": []map[string]any{{"sku": "tea-puer", "quantity": 1}}, "zone": "east",
		"recipient": map[string]string{"name": name, "phone": "1", "address": "a"}}).must(t, 201, nil)
	h.call("POST", "/checkout", "hal", "k16", map[string]any{"lines": []map[string]any{{"sku": "tea-puer", "quantity": 1}}, "zone": "moon",
		"recipient": testCart["recipient"]}).must(t, 400, &e)
	if strings.Contains(e.Error.Message, "map[") {
		t.Errorf("a message prints Go syntax: %s", e.Error.Message)
	}
	short := h.call("POST", "/checkout", "hal", "k17", map[string]any{"lines": []map[string]any{{"sku": "pot-yixing", "quantity": 99}}, "zone": "east", "recipient": testCart["recipient"]})
	if strings.Contains(string(short.body), "map[") {
		t.Errorf("a message prints Go syntax: %s", short.body)
	}
}

func testRateLimit(t *testing.T, h *harness) {
	h.shop.perIP = seckill.PerSecond(1, 3)
	codes := map[int]int{}
	var retryAfter string
	for i := 0; i < 6; i++ {
		res := h.call("GET", "/products", "", "", nil)
		codes[res.status]++
		if res.status == 429 {
			retryAfter = res.header.Get("Retry-After")
		}
	}
	if codes[200] != 3 || codes[429] != 3 || retryAfter == "" {
		t.Fatalf("statuses = %v, Retry-After %q; want 3 served and 3 refused", codes, retryAfter)
	}
	if res := h.call("GET", "/healthz", "", "", nil); res.status != 200 {
		t.Fatalf("health checks are not rate limited: %d", res.status)
	}
}

func testMetrics(t *testing.T, h *harness) {
	h.call("GET", "/products", "jo", "", nil).must(t, 200, nil)
	h.call("POST", "/cart/quote", "jo", "", map[string]any{"lines": testCart["lines"]}).must(t, 200, nil)
	o := h.checkout("jo", "c1")
	h.call("POST", "/orders/"+o.ID+"/pay", "jo", "p1", nil).must(t, 200, nil)
	// The coupon's one use per customer is spent: the store refuses.
	if res := h.call("POST", "/checkout", "jo", "c2", testCart); res.status != 409 {
		t.Fatalf("a second use of the coupon: %d %s", res.status, res.body)
	}
	res := h.call("GET", "/metrics", "", "", nil)
	text := string(res.body)
	for _, want := range []string{`step="view"} 1`, `step="pay"} 1`, `shop_gmv_yuan{variant=`, `} 311.40`,
		`shop_http_requests_total{route="POST /checkout",code="201"} 1`,
		`shop_http_request_seconds_bucket{route="POST /orders/{id}/pay",le="+Inf"} 1`,
		`shop_http_request_seconds_count{route="GET /products"} 1`,
		`shop_store_calls_total{store="ledger",op="post"} 1`,
		`shop_store_errors_total{store="coupons",op="reserve"} 1`} {
		if !strings.Contains(text, want) {
			t.Errorf("metrics lack %q:\n%s", want, text)
		}
	}
	// The profiler is on the admin listener, not on the API.
	admin := httptest.NewServer(h.shop.adminRoutes())
	defer admin.Close()
	if res, err := http.Get(admin.URL + "/debug/pprof/goroutine?debug=1"); err != nil || res.StatusCode != 200 {
		t.Fatalf("pprof on the admin listener: %v %v", res, err)
	} else {
		res.Body.Close()
	}
	if res := h.call("GET", "/debug/pprof/", "", "", nil); res.status != 404 {
		t.Fatalf("pprof on the API: %d", res.status)
	}
	var health map[string]string
	h.call("GET", "/healthz", "", "", nil).must(t, 200, &health)
	if health["status"] != "ok" {
		t.Fatalf("health = %v", health)
	}
}

// FuzzRequests sends arbitrary bodies to every endpoint that reads one:
// the answer is never a server error, and the server never panics.
func FuzzRequests(f *testing.F) {
	f.Add(0, `{"lines":[{"sku":"tea-longjing","quantity":2}],"zone":"east","recipient":{"name":"a","phone":"1","address":"x"}}`)
	f.Add(1, `{"lines":[{"sku":"cup-celadon","quantity":1e9}],"coupon":"WELCOME20"}`)
	f.Add(2, `{"amount":"-0.001"}`)
	f.Add(2, `{"amount":"99999999999999999999999"}`)
	f.Add(0, `{"lines":null,"zone":"east"}`)
	f.Add(1, "\x00\xff")
	st := openMemory()
	defer st.closeAll()
	s, err := newShop(st, time.Minute)
	if err != nil {
		f.Fatal(err)
	}
	s.perIP = seckill.PerSecond(10000, 10000)
	s.auth.insecureHeader = true
	s.logf = func(string, ...any) {}
	if err := s.start(context.Background()); err != nil {
		f.Fatal(err)
	}
	h := s.routes()
	// A paid order to refund (a few fen at a time, as the fuzzer finds).
	var o orderRecord
	rec := httptest.NewRecorder()
	req := httptest.NewRequest("POST", "/checkout", strings.NewReader(`{"lines":[{"sku":"pot-yixing","quantity":1}],"zone":"north","recipient":{"name":"a","phone":"1","address":"x"}}`))
	req.Header.Set("X-User-ID", "fuzz")
	req.Header.Set("Idempotency-Key", "setup")
	h.ServeHTTP(rec, req)
	if err := json.Unmarshal(rec.Body.Bytes(), &o); err != nil || o.ID == "" {
		f.Fatalf("setup checkout: %d %s", rec.Code, rec.Body)
	}
	rec = httptest.NewRecorder()
	req = httptest.NewRequest("POST", "/orders/"+o.ID+"/pay", nil)
	req.Header.Set("X-User-ID", "fuzz")
	req.Header.Set("Idempotency-Key", "setup-pay")
	if h.ServeHTTP(rec, req); rec.Code != 200 {
		f.Fatalf("setup payment: %d %s", rec.Code, rec.Body)
	}
	paths := []string{"/checkout", "/cart/quote", "/orders/" + o.ID + "/refunds"}
	n := 0
	f.Fuzz(func(t *testing.T, which int, body string) {
		n++
		if which < 0 {
			which = -which
		}
		req := httptest.NewRequest("POST", paths[which%len(paths)], strings.NewReader(body))
		req.Header.Set("X-User-ID", "fuzz")
		req.Header.Set("Idempotency-Key", fmt.Sprintf("k%d", n))
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		if rec.Code >= 500 {
			t.Fatalf("%s %q: %d %s", req.URL.Path, body, rec.Code, rec.Body)
		}
	})
}

// TestGracefulShutdown stops a serving shop: the request in flight is
// answered, the background loop ends, serve returns.
func TestGracefulShutdown(t *testing.T) {
	st := openMemory()
	defer st.closeAll()
	s, err := newShop(st, time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	s.logf = t.Logf
	ctx, stop := context.WithCancel(context.Background())
	if err := s.start(ctx); err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	served := make(chan error, 1)
	go func() { served <- s.serve(ctx, ln) }()
	c := client{base: "http://" + ln.Addr().String()}
	if err := c.do("GET", "/healthz", "", "", nil, 200, nil); err != nil {
		t.Fatal(err)
	}
	stop()
	select {
	case err := <-served:
		if err != nil {
			t.Fatalf("serve = %v", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("serve did not return after the stop signal")
	}
	if err := c.do("GET", "/healthz", "", "", nil, 200, nil); err == nil {
		t.Fatal("still serving after shutdown")
	}
}
