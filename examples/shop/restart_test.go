package main

import (
	"context"
	"net"
	"os/exec"
	"strconv"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
)

// redisServer is a redis-server of the test's own, which it can kill -9
// and start again on the same port and data directory.
type redisServer struct {
	t    *testing.T
	port string
	dir  string
	args []string
	cmd  *exec.Cmd
}

func startRedisServer(t *testing.T, args ...string) *redisServer {
	t.Helper()
	if _, err := exec.LookPath("redis-server"); err != nil {
		t.Skip("redis-server is not installed")
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := strconv.Itoa(ln.Addr().(*net.TCPAddr).Port)
	_ = ln.Close()
	r := &redisServer{t: t, port: port, dir: t.TempDir(), args: args}
	r.start()
	t.Cleanup(r.kill)
	return r
}

func (r *redisServer) addr() string { return "127.0.0.1:" + r.port }

func (r *redisServer) start() {
	r.t.Helper()
	r.cmd = exec.Command("redis-server", append([]string{"--port", r.port, "--bind", "127.0.0.1", "--dir", r.dir, "--save", ""}, r.args...)...)
	if err := r.cmd.Start(); err != nil {
		r.t.Fatal(err)
	}
	c := redis.NewClient(&redis.Options{Addr: r.addr()})
	defer c.Close()
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		if c.Ping(context.Background()).Err() == nil {
			return
		}
		if time.Now().After(deadline) {
			r.t.Fatal("redis-server did not start")
		}
	}
}

func (r *redisServer) kill() {
	if r.cmd != nil && r.cmd.Process != nil {
		_ = r.cmd.Process.Kill()
		_ = r.cmd.Wait()
	}
}

// waitReady polls /readyz until it answers want, or fails after 20 s.
func (p *shopProc) waitReady(want int) {
	p.t.Helper()
	for deadline := time.Now().Add(20 * time.Second); ; time.Sleep(50 * time.Millisecond) {
		res, err := p.call("GET", "/readyz", "", "", nil)
		if err == nil && res.status == want {
			return
		}
		if time.Now().After(deadline) {
			p.t.Fatalf("/readyz never answered %d (last: %d %s %v)", want, res.status, res.body, err)
		}
	}
}

// TestRedisRestartWithAOF: Redis killed with SIGKILL and started again on
// its append-only file loses nothing the shop confirmed. While it is down
// the shop is not ready and answers 503 with Retry-After; once it is back
// the shop is ready again by itself, the paid order is still paid, and the
// order awaiting payment can be paid.
//
// Regression: orders lived in process memory, and the shop answered 500
// for everything during the outage.
func TestRedisRestartWithAOF(t *testing.T) {
	srv := startRedisServer(t, "--appendonly", "yes", "--appendfsync", "always")
	shop := startShop(t, nil, "-redis", srv.addr(), "-prefix", "aof")
	var paid, waiting orderRecord
	shop.must("POST", "/checkout", "ann", "co-1", testCart, 201, &paid)
	shop.must("POST", "/orders/"+paid.ID+"/pay", "ann", "pay-1", nil, 200, &paid)
	shop.must("POST", "/checkout", "ann", "co-2", plainCart, 201, &waiting)

	srv.kill()
	shop.waitReady(503)
	res, err := shop.call("POST", "/checkout", "bea", "co-1", plainCart)
	if err != nil || res.status != 503 || res.header.Get("Retry-After") == "" || res.errorCode(t) != "unavailable" {
		t.Fatalf("checkout while Redis is down: %d %s %v", res.status, res.body, err)
	}

	srv.start()
	shop.waitReady(200)
	var got orderRecord
	shop.must("GET", "/orders/"+paid.ID, "ann", "", nil, 200, &got)
	if got.State != statePaid || got.Payment == nil {
		t.Fatalf("the paid order after the restart: %s", got.State)
	}
	shop.must("POST", "/orders/"+waiting.ID+"/pay", "ann", "pay-2", nil, 200, &got)
	if got.State != statePaid {
		t.Fatalf("the waiting order, paid after the restart: %s", got.State)
	}
	client := redis.NewClient(&redis.Options{Addr: srv.addr()})
	defer client.Close()
	st, err := openRedis(client, "aof")
	if err != nil {
		t.Fatal(err)
	}
	defer st.closeAll()
	bs, err := st.ledger.Balances(context.Background(), accountClearing)
	if err != nil {
		t.Fatal(err)
	}
	if want := -(minorOf(paid.Total) + minorOf(got.Total)); bs[0].Total() != want {
		t.Fatalf("clearing account %d after two payments, want %d", bs[0].Total(), want)
	}
}
