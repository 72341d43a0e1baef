// Package redistest hands tests a Redis to run against.
//
// Client returns a standalone client: the real server named by REDIS_ADDR, or
// else an embedded miniredis so that `go test ./...` works on a fresh machine.
// Cluster returns a client for the Redis Cluster named by REDIS_CLUSTER_ADDRS
// (comma-separated seed addresses) and skips the test when none is given.
// Under CI=true a missing server fails the test instead: CI must never report
// green because the Redis tests quietly skipped.
//
// Tests against one real server may run in parallel from several packages, so
// nothing here flushes a database. Each test gets its own key prefix from
// Prefix, and the keys under it are deleted when the test ends.
package redistest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/alicebob/miniredis/v2"
	"github.com/redis/go-redis/v9"

	"github.com/shopkit/shopkit/internal/rediskeys"
)

// InCI reports whether the tests run under CI, where a missing Redis is a
// failure rather than a skip.
func InCI() bool { return os.Getenv("CI") == "true" }

// Client returns a standalone Redis client for t: REDIS_ADDR if set, else a
// fresh embedded miniredis (which fails the test under CI=true, where a real
// server is required). The client is closed when t ends.
func Client(t testing.TB) redis.UniversalClient {
	t.Helper()
	addr := os.Getenv("REDIS_ADDR")
	if addr == "" {
		if InCI() {
			t.Fatal("redistest: CI=true but REDIS_ADDR is not set")
		}
		_, c := Embedded(t)
		return c
	}
	c := redis.NewClient(&redis.Options{Addr: addr})
	t.Cleanup(func() { _ = c.Close() })
	if err := c.Ping(context.Background()).Err(); err != nil {
		t.Fatalf("redistest: ping %s: %v", addr, err)
	}
	return c
}

// Embedded starts a miniredis for t and returns it with a client for it. Fault
// tests use it to stop and restart the server mid-run.
//
// miniredis only expires keys when told time has passed, so a goroutine
// advances its clock with the wall clock until t ends: key TTLs then behave
// as on a real server.
func Embedded(t testing.TB) (*miniredis.Miniredis, redis.UniversalClient) {
	t.Helper()
	m := miniredis.RunT(t)
	c := redis.NewClient(&redis.Options{Addr: m.Addr()})
	stop := make(chan struct{})
	done := make(chan struct{})
	go func() {
		defer close(done)
		const step = 5 * time.Millisecond
		tick := time.NewTicker(step)
		defer tick.Stop()
		last := time.Now()
		for {
			select {
			case <-stop:
				return
			case now := <-tick.C:
				m.FastForward(now.Sub(last))
				last = now
			}
		}
	}()
	t.Cleanup(func() {
		close(stop)
		<-done
		_ = c.Close()
	})
	return m, c
}

// Cluster returns a client for the Redis Cluster named by REDIS_CLUSTER_ADDRS.
// Without one it skips t, or fails it under CI=true.
func Cluster(t testing.TB) redis.UniversalClient {
	t.Helper()
	addrs := os.Getenv("REDIS_CLUSTER_ADDRS")
	if addrs == "" {
		if InCI() {
			t.Fatal("redistest: CI=true but REDIS_CLUSTER_ADDRS is not set")
		}
		t.Skip("redistest: REDIS_CLUSTER_ADDRS not set; skipping Redis Cluster test")
	}
	c := redis.NewClusterClient(&redis.ClusterOptions{Addrs: strings.Split(addrs, ",")})
	t.Cleanup(func() { _ = c.Close() })
	if err := c.Ping(context.Background()).Err(); err != nil {
		t.Fatalf("redistest: ping cluster %s: %v", addrs, err)
	}
	return c
}

// Replicated returns clients for a master and its replica, named by
// REDIS_REPLICATED_ADDRS ("master,replica"): a pair no Sentinel watches, so
// tests may detach and reattach the replica. Without one it skips t, or
// fails it under CI=true. The replica is attached again when t ends.
func Replicated(t testing.TB) (master, replica *redis.Client) {
	t.Helper()
	addrs := strings.Split(os.Getenv("REDIS_REPLICATED_ADDRS"), ",")
	if len(addrs) != 2 {
		if InCI() {
			t.Fatal("redistest: CI=true but REDIS_REPLICATED_ADDRS is not set to master,replica")
		}
		t.Skip("redistest: REDIS_REPLICATED_ADDRS not set; skipping replication test")
	}
	master = redis.NewClient(&redis.Options{Addr: addrs[0]})
	replica = redis.NewClient(&redis.Options{Addr: addrs[1]})
	// Packages' tests run in parallel processes, and a test may detach the
	// replica: one test at a time holds the pair.
	ctx := context.Background()
	var token [8]byte
	_, _ = rand.Read(token[:])
	deadline := time.Now().Add(2 * time.Minute)
	for {
		ok, err := master.SetNX(ctx, replicationLock, hex.EncodeToString(token[:]), time.Minute).Result()
		if err != nil {
			t.Fatalf("redistest: lock %s: %v", addrs[0], err)
		}
		if ok {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("redistest: the replicated pair stayed busy for 2 minutes")
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Cleanup(func() {
		host, port, _ := strings.Cut(addrs[0], ":")
		_ = replica.ReplicaOf(ctx, host, port).Err()
		WaitReplicaLinked(t, master, replica)
		_ = master.Del(ctx, replicationLock).Err()
		_ = master.Close()
		_ = replica.Close()
	})
	WaitReplicaLinked(t, master, replica)
	return master, replica
}

// Detach takes replica off master, so that writes on master go
// unacknowledged, and returns a function that attaches it again and waits
// until it acknowledges. Replicated attaches it again when t ends anyway.
func Detach(t testing.TB, master, replica *redis.Client) (reattach func()) {
	t.Helper()
	ctx := context.Background()
	if err := replica.ReplicaOf(ctx, "no", "one").Err(); err != nil {
		t.Fatalf("redistest: detach replica: %v", err)
	}
	return func() {
		t.Helper()
		host, port, _ := strings.Cut(master.Options().Addr, ":")
		if err := replica.ReplicaOf(ctx, host, port).Err(); err != nil {
			t.Fatalf("redistest: reattach replica: %v", err)
		}
		WaitReplicaLinked(t, master, replica)
	}
}

// replicationLock is the key that marks the replicated pair in use.
const replicationLock = "redistest:replicated:lock"

// WaitReplicaLinked waits (up to 20 s) until master's replica is linked
// and acknowledging: the replica reports its link up, and a write on master
// is acknowledged by it (WAIT). The replica's own view comes first; the
// master counts it a little later, and a test that waits for replicas
// right after a reattach must not race that.
func WaitReplicaLinked(t testing.TB, master, replica *redis.Client) {
	t.Helper()
	ctx := context.Background()
	deadline := time.Now().Add(20 * time.Second)
	for {
		info, err := replica.Info(ctx, "replication").Result()
		if err == nil && strings.Contains(info, "master_link_status:up") {
			if err = master.Set(ctx, "redistest:replicated:probe", "1", time.Minute).Err(); err == nil {
				if n, err := master.Wait(ctx, 1, 200*time.Millisecond).Result(); err == nil && n >= 1 {
					return
				}
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("redistest: replica not acknowledging: %v\n%s", err, info)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// Prefix returns a key prefix unique to this call, and deletes every key that
// contains it from c when t ends; a failed cleanup fails t, so no test
// leaves keys behind unnoticed.
func Prefix(t testing.TB, c redis.UniversalClient) string {
	t.Helper()
	var b [6]byte
	_, _ = rand.Read(b[:])
	p := "test:" + hex.EncodeToString(b[:])
	t.Cleanup(func() {
		if err := rediskeys.DeleteMatching(context.Background(), c, "*"+p+"*"); err != nil {
			t.Errorf("redistest: delete keys of %s: %v", p, err)
		}
	})
	return p
}

// Resending returns a new client to the same server (or Cluster) as c that
// runs every script call twice and hands the caller the second reply: what
// the server sees when go-redis resends a call whose first reply was lost
// to a timeout or a reset connection, after the first copy already ran.
// A retry-safe script gives the caller the same outcome either way.
func Resending(t testing.TB, c redis.UniversalClient) redis.UniversalClient {
	t.Helper()
	var rc redis.UniversalClient
	switch c := c.(type) {
	case *redis.Client:
		rc = redis.NewClient(c.Options())
	case *redis.ClusterClient:
		rc = redis.NewClusterClient(c.Options())
	default:
		t.Fatalf("redistest: Resending: unsupported client %T", c)
	}
	rc.AddHook(resendHook{})
	t.Cleanup(func() { _ = rc.Close() })
	return rc
}

// resendHook runs script commands twice.
type resendHook struct{}

func (resendHook) DialHook(next redis.DialHook) redis.DialHook { return next }

func (resendHook) ProcessHook(next redis.ProcessHook) redis.ProcessHook {
	return func(ctx context.Context, cmd redis.Cmder) error {
		switch cmd.Name() {
		case "eval", "evalsha", "fcall":
			if err := next(ctx, cmd); err != nil {
				return err // not run, or run and failed: nothing to resend
			}
		}
		return next(ctx, cmd)
	}
}

func (resendHook) ProcessPipelineHook(next redis.ProcessPipelineHook) redis.ProcessPipelineHook {
	return func(ctx context.Context, cmds []redis.Cmder) error {
		for _, cmd := range cmds {
			switch cmd.Name() {
			case "eval", "evalsha", "fcall":
				if err := next(ctx, cmds); err != nil {
					return err
				}
				return next(ctx, cmds)
			}
		}
		return next(ctx, cmds)
	}
}

// KeysWithoutTTL returns the keys containing prefix that would never
// expire: what a retention test must find none of (or only the few a
// package documents as kept).
func KeysWithoutTTL(t testing.TB, c redis.UniversalClient, prefix string) []string {
	t.Helper()
	ctx := context.Background()
	var out []string
	scan := func(ctx context.Context, node *redis.Client) error {
		iter := node.Scan(ctx, 0, "*"+prefix+"*", 1000).Iterator()
		for iter.Next(ctx) {
			ttl, err := node.PTTL(ctx, iter.Val()).Result()
			if err != nil {
				return err
			}
			if ttl == -1 {
				out = append(out, iter.Val())
			}
		}
		return iter.Err()
	}
	var err error
	switch c := c.(type) {
	case *redis.ClusterClient:
		err = c.ForEachMaster(ctx, scan)
	case *redis.Client:
		err = scan(ctx, c)
	}
	if err != nil {
		t.Fatalf("redistest: scan %s: %v", prefix, err)
	}
	return out
}
