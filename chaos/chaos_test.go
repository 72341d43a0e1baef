package chaos

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"flag"
	"fmt"
	mrand "math/rand/v2"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
)

var soak = flag.Duration("soak", 0, "run each scenario this long (default: a few seconds)")

// runFor is how long a scenario's workloads run.
func runFor() time.Duration {
	if *soak > 0 {
		return *soak
	}
	return 6 * time.Second
}

// workers is how many goroutines drive each workload.
const workers = 8

// builders make every workload over one env.
var builders = []func(context.Context, env) (workload, error){
	func(ctx context.Context, e env) (workload, error) { return newInventoryLoad(ctx, e, false) },
	func(ctx context.Context, e env) (workload, error) { return newInventoryLoad(ctx, e, true) },
	func(ctx context.Context, e env) (workload, error) { return newGateLoad(ctx, e) },
	func(ctx context.Context, e env) (workload, error) { return newLedgerLoad(ctx, e) },
	func(ctx context.Context, e env) (workload, error) { return newCouponLoad(ctx, e) },
	func(ctx context.Context, e env) (workload, error) { return newSharingLoad(ctx, e) },
	func(ctx context.Context, e env) (workload, error) { return newLockLoad(ctx, e) },
	func(ctx context.Context, e env) (workload, error) { return newLimiterLoad(ctx, e) },
	func(ctx context.Context, e env) (workload, error) { return newMergeLoad(ctx, e) },
	func(ctx context.Context, e env) (workload, error) { return newFunnelLoad(ctx, e) },
}

// scenario is one fault against one deployment.
type scenario struct {
	name string
	// durable is whether acknowledged writes must survive: false where
	// the fault may lose them by design (a failover without replica
	// acknowledgements for the stores that have no such option).
	durable func(workload) bool
	// inject runs the fault once, mid-run, and returns how many faults it
	// injected.
	inject func(t *testing.T) int
}

func prefix() string {
	var b [4]byte
	_, _ = rand.Read(b[:])
	return "chaos:" + hex.EncodeToString(b[:])
}

// run drives every workload from workers goroutines each while inject
// strikes once after a third of the run, then checks every workload.
func run(t *testing.T, e env, sc scenario) {
	ctx := context.Background()
	var loads []workload
	for _, b := range builders {
		w, err := b(ctx, e)
		if err != nil {
			t.Fatalf("setup: %v", err)
		}
		loads = append(loads, w)
	}
	deadline := time.Now().Add(runFor())
	var wg sync.WaitGroup
	for i, w := range loads {
		for j := range workers {
			wg.Add(1)
			go func() {
				defer wg.Done()
				rng := mrand.New(mrand.NewPCG(uint64(i), uint64(j)+uint64(time.Now().UnixNano())))
				for time.Now().Before(deadline) {
					w.step(ctx, rng)
				}
			}()
		}
	}
	time.Sleep(runFor() / 3)
	faults := sc.inject(t)
	wg.Wait()
	var ops, unknown, checks, violations int64
	for _, w := range loads {
		o, u := w.counts()
		ops, unknown = ops+o, unknown+u
		durable := sc.durable == nil || sc.durable(w)
		bad := w.check(ctx, durable)
		checks++
		violations += int64(len(bad))
		for i, b := range bad {
			if i == 10 {
				t.Errorf("%s: … %d more", w.name(), len(bad)-10)
				break
			}
			t.Errorf("%s: %s", w.name(), b)
		}
		t.Logf("%s: %d ops, %d unknown outcomes, durable checks %v", w.name(), o, u, durable)
	}
	line := fmt.Sprintf("chaos: %s: %d workloads, %d ops, %d unknown outcomes, %d faults, %d checks, %d violations",
		sc.name, len(loads), ops, unknown, faults, checks, violations)
	t.Log(line)
	report(line)
}

var reportMu sync.Mutex

// report appends a summary line to $CHAOS_REPORT, if set, for
// RELIABILITY.md.
func report(line string) {
	path := os.Getenv("CHAOS_REPORT")
	if path == "" {
		return
	}
	reportMu.Lock()
	defer reportMu.Unlock()
	f, err := os.OpenFile(path, os.O_APPEND|os.O_CREATE|os.O_WRONLY, 0o644)
	if err != nil {
		return
	}
	defer f.Close()
	fmt.Fprintln(f, line)
}

// TestStall pauses the server past go-redis' 3 s read timeout, twice:
// every client call in flight times out and is resent.
func TestStall(t *testing.T) {
	srv := startServer(t, "--appendonly", "yes")
	admin := srv.client(t)
	run(t, env{client: srv.client(t), prefix: prefix()}, scenario{name: "stall (CLIENT PAUSE 3.5 s, twice)", inject: func(t *testing.T) int {
		for range 2 {
			if err := admin.Do(context.Background(), "client", "pause", 3500, "all").Err(); err != nil {
				t.Fatal(err)
			}
			time.Sleep(4 * time.Second)
		}
		return 2
	}})
}

// TestKillRestart SIGKILLs the server and restarts it on its AOF (fsync
// always), twice.
func TestKillRestart(t *testing.T) {
	srv := startServer(t, "--appendonly", "yes", "--appendfsync", "always")
	run(t, env{client: srv.client(t), prefix: prefix()}, scenario{name: "SIGKILL + restart with AOF, twice", inject: func(t *testing.T) int {
		for range 2 {
			srv.kill()
			time.Sleep(300 * time.Millisecond)
			srv.start()
			time.Sleep(time.Second)
		}
		return 2
	}})
}

// TestResetsAndLatency sends the clients through a fault-injecting proxy:
// connection resets, then replies delayed past the read timeout.
func TestResetsAndLatency(t *testing.T) {
	srv := startServer(t, "--appendonly", "yes")
	px := newProxy(t, srv.addr())
	client := redis.NewClient(&redis.Options{Addr: px.addr()})
	t.Cleanup(func() { _ = client.Close() })
	run(t, env{client: client, prefix: prefix()}, scenario{name: "connection resets and 3.5 s latency (proxy)", inject: func(t *testing.T) int {
		n := 0
		for range 3 {
			px.toxic(t, "reset", `{"type":"reset_peer","stream":"upstream","attributes":{"timeout":0}}`, 300*time.Millisecond)
			n++
			time.Sleep(300 * time.Millisecond)
		}
		px.toxic(t, "slow", `{"type":"latency","stream":"downstream","attributes":{"latency":3500}}`, 2*time.Second)
		return n + 1
	}})
}

// TestSentinelFailover promotes the replica mid-run. The stores that can
// wait for a replica's acknowledgement (inventory, the gate, the ledger)
// do, and must lose nothing they acknowledged; the others are checked for
// safety only, since asynchronous replication may lose their last writes.
func TestSentinelFailover(t *testing.T) {
	set := startSentinelSet(t)
	durable := func(w workload) bool {
		switch w.name() {
		case "inventory", "inventory-spread", "gate", "ledger", "sharing":
			return true
		}
		return false
	}
	run(t, env{client: set.failoverClient(t), prefix: prefix(), replicas: 1}, scenario{name: "Sentinel failover (WaitReplicas 1)", durable: durable, inject: func(t *testing.T) int {
		set.failover(t)
		time.Sleep(time.Second)
		set.failover(t) // and back
		return 2
	}})
}

// TestSlotMigration moves the slots of the stores' hash tags to another
// Cluster master mid-run, key by key, as redis-cli --cluster reshard does.
func TestSlotMigration(t *testing.T) {
	addrs := os.Getenv("REDIS_CLUSTER_ADDRS")
	if addrs == "" {
		if os.Getenv("CI") == "true" {
			t.Fatal("chaos: CI=true but REDIS_CLUSTER_ADDRS is not set")
		}
		t.Skip("chaos: REDIS_CLUSTER_ADDRS not set")
	}
	client := redis.NewClusterClient(&redis.ClusterOptions{Addrs: strings.Split(addrs, ",")})
	t.Cleanup(func() { _ = client.Close() })
	p := prefix()
	// The slots of the single-slot stores (inventory, ledger, the rule and
	// coupon stores) and of a flash-sale bucket.
	tags := []string{"{" + p + ":inv}", "{" + p + ":pay}", "{" + p + ":coupon:SALE}", p + ":sale{flash}"}
	run(t, env{client: client, prefix: p}, scenario{name: "slot migration (4 slots, key by key)", inject: func(t *testing.T) int {
		for _, tag := range tags {
			migrateSlot(t, client, tag)
		}
		return len(tags)
	}})
}
