package main

import (
	"fmt"
	"net/http"
	"testing"
	"time"

	"github.com/shopkit/shopkit/internal/redistest"
)

// TestRedisOutage: while Redis is down the shop answers 503 with
// Retry-After (not 500) where it needs a store, stays live, is not ready,
// and lets requests past the rate limiter; when Redis comes back empty
// (restarted without persistence) the background loop puts the opening
// stock and the flash sale back and the shop is ready again.
//
// Regression: every endpoint answered 500, the limiter failed closed,
// /healthz said ok throughout, and after an empty restart the shop never
// recovered (unknown sale for ever).
func TestRedisOutage(t *testing.T) {
	m, client := redistest.Embedded(t)
	st, err := openRedis(client, "outage")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(st.closeAll)
	h := newHarness(t, st, time.Minute)
	h.call("GET", "/readyz", "", "", nil).must(t, 200, nil)

	m.Close()
	for _, c := range []struct{ method, path, user string }{
		{"GET", "/products", ""},
		{"POST", "/checkout", "ann"},
		{"GET", "/readyz", ""},
	} {
		var body any
		if c.method == "POST" {
			body = testCart
		}
		res := h.call(c.method, c.path, c.user, "k1", body)
		if res.status != http.StatusServiceUnavailable || res.header.Get("Retry-After") == "" {
			t.Errorf("%s %s with Redis down: %d %q, want 503 with Retry-After", c.method, c.path, res.status, res.body)
		}
	}
	h.call("GET", "/healthz", "", "", nil).must(t, 200, nil)

	if err := m.Restart(); err != nil {
		t.Fatal(err)
	}
	m.FlushAll() // it came back without its data
	deadline := time.Now().Add(10 * time.Second)
	for h.call("GET", "/readyz", "", "", nil).status != 200 {
		if time.Now().After(deadline) {
			t.Fatal("the shop did not become ready after Redis came back empty")
		}
		time.Sleep(50 * time.Millisecond)
	}
	if got := h.available("tea-longjing", "wh-hangzhou"); got != openingStock["wh-hangzhou"]["tea-longjing"] {
		t.Fatalf("available after recovery: %d, want the opening %d", got, openingStock["wh-hangzhou"]["tea-longjing"])
	}
	h.call("POST", "/checkout", "ann", "after", testCart).must(t, 201, nil)
}

type fakeRedisError string

func (e fakeRedisError) Error() string { return string(e) }
func (fakeRedisError) RedisError()     {}

// TestClusterTroubleIsUnavailable: the errors a Cluster or a failover
// answers while a node is down or a replica is promoted are 503s, not
// 500s.
//
// Regression: a Cluster node failure gave 500s.
func TestClusterTroubleIsUnavailable(t *testing.T) {
	for _, msg := range []string{"CLUSTERDOWN The cluster is down", "TRYAGAIN Multiple keys request during rehashing of slot",
		"LOADING Redis is loading the dataset in memory", "MASTERDOWN Link with MASTER is down", "READONLY You can't write against a read only replica."} {
		if got := toAPIError(fmt.Errorf("reserve: %w", fakeRedisError(msg))); got.status != http.StatusServiceUnavailable {
			t.Errorf("%s: %d %s, want 503", msg, got.status, got.Code)
		}
	}
	if got := toAPIError(fakeRedisError("ERR unknown command")); got.status != http.StatusInternalServerError {
		t.Errorf("a Redis error that is a bug: %d, want 500", got.status)
	}
}
