package chaos

import (
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
)

// server is a redis-server process this test started, which it may kill
// and restart on the same port with the same data directory.
type server struct {
	t    testing.TB
	port int
	dir  string
	args []string
	cmd  *exec.Cmd
}

// freePort returns a loopback port nothing listens on now.
func freePort(t testing.TB) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// redisServerPath finds redis-server, or skips t (fails it under CI).
func redisServerPath(t testing.TB) string {
	t.Helper()
	p, err := exec.LookPath("redis-server")
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatal("chaos: CI=true but redis-server is not installed")
		}
		t.Skip("chaos: redis-server not installed")
	}
	return p
}

// startServer starts redis-server on a free port with args added to a
// loopback-only base configuration.
func startServer(t testing.TB, args ...string) *server {
	t.Helper()
	s := &server{t: t, port: freePort(t), dir: t.TempDir(), args: args}
	s.start()
	t.Cleanup(s.stop)
	return s
}

func (s *server) addr() string { return "127.0.0.1:" + strconv.Itoa(s.port) }

func (s *server) start() {
	s.t.Helper()
	args := append([]string{"--port", strconv.Itoa(s.port), "--bind", "127.0.0.1", "--dir", s.dir,
		"--save", "", "--logfile", filepath.Join(s.dir, "redis.log")}, s.args...)
	if len(s.args) > 0 && s.args[0] == "--sentinel" {
		// A Sentinel reads (and rewrites) a config file given first.
		conf := filepath.Join(s.dir, "sentinel.conf")
		if _, err := os.Stat(conf); err != nil {
			if err := os.WriteFile(conf, []byte(strings.Join(s.args[1:], "\n")+"\n"), 0o600); err != nil {
				s.t.Fatal(err)
			}
		}
		args = []string{conf, "--sentinel", "--port", strconv.Itoa(s.port), "--bind", "127.0.0.1",
			"--dir", s.dir, "--logfile", filepath.Join(s.dir, "redis.log")}
	}
	s.cmd = exec.Command(redisServerPath(s.t), args...)
	// Its own process group, so kill reaches the children it forks (an
	// AOF rewrite, a replica's snapshot) too: a child left running keeps
	// writing into the test's directory while the test removes it.
	s.cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := s.cmd.Start(); err != nil {
		s.t.Fatal(err)
	}
	c := redis.NewClient(&redis.Options{Addr: s.addr(), MaxRetries: -1})
	defer c.Close()
	deadline := time.Now().Add(10 * time.Second)
	for c.Ping(context.Background()).Err() != nil {
		if time.Now().After(deadline) {
			log, _ := os.ReadFile(filepath.Join(s.dir, "redis.log"))
			s.t.Fatalf("chaos: redis-server on %d did not start:\n%s", s.port, log)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// kill sends SIGKILL to the server and every process it forked, and
// waits for the server to end.
func (s *server) kill() {
	if s.cmd == nil || s.cmd.Process == nil {
		return
	}
	_ = syscall.Kill(-s.cmd.Process.Pid, syscall.SIGKILL)
	_, _ = s.cmd.Process.Wait()
	s.cmd = nil
}

func (s *server) stop() { s.kill() }

// client returns a go-redis client with default options for s.
func (s *server) client(t testing.TB) *redis.Client {
	c := redis.NewClient(&redis.Options{Addr: s.addr()})
	t.Cleanup(func() { _ = c.Close() })
	return c
}

// sentinelSet is a master, a replica and three Sentinels watching them.
type sentinelSet struct {
	master, replica *server
	sentinels       []*server
	name            string
}

// startSentinelSet starts a replicated master and three Sentinels with a
// quick failure detection, so a test can fail the master over in seconds.
func startSentinelSet(t testing.TB) *sentinelSet {
	t.Helper()
	set := &sentinelSet{name: "chaos"}
	base := []string{"--appendonly", "yes", "--appendfsync", "everysec", "--repl-diskless-sync-delay", "0"}
	set.master = startServer(t, base...)
	set.replica = startServer(t, append(base, "--replicaof", "127.0.0.1", strconv.Itoa(set.master.port))...)
	waitLinked(t, set.replica.addr())
	for range 3 {
		set.sentinels = append(set.sentinels, startServer(t, "--sentinel",
			fmt.Sprintf("sentinel monitor %s 127.0.0.1 %d 2", set.name, set.master.port),
			fmt.Sprintf("sentinel down-after-milliseconds %s 1000", set.name),
			fmt.Sprintf("sentinel failover-timeout %s 5000", set.name),
			fmt.Sprintf("sentinel parallel-syncs %s 1", set.name)))
	}
	// Wait until every Sentinel knows the replica and the other Sentinels.
	deadline := time.Now().Add(20 * time.Second)
	for _, s := range set.sentinels {
		c := redis.NewSentinelClient(&redis.Options{Addr: s.addr()})
		for {
			m, err := c.Master(context.Background(), set.name).Result()
			if err == nil && m["num-slaves"] == "1" && m["num-other-sentinels"] == "2" {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("chaos: Sentinel %s never saw the set: %v %v", s.addr(), m, err)
			}
			time.Sleep(100 * time.Millisecond)
		}
		_ = c.Close()
	}
	return set
}

func (set *sentinelSet) sentinelAddrs() []string {
	var out []string
	for _, s := range set.sentinels {
		out = append(out, s.addr())
	}
	return out
}

// failoverClient is what users pass for a Sentinel-watched Redis: go-redis'
// failover client with default options.
func (set *sentinelSet) failoverClient(t testing.TB) *redis.Client {
	c := redis.NewFailoverClient(&redis.FailoverOptions{MasterName: set.name, SentinelAddrs: set.sentinelAddrs()})
	t.Cleanup(func() { _ = c.Close() })
	return c
}

// currentMaster asks a Sentinel for the master's address.
func (set *sentinelSet) currentMaster(ctx context.Context) (string, error) {
	c := redis.NewSentinelClient(&redis.Options{Addr: set.sentinels[0].addr()})
	defer c.Close()
	a, err := c.GetMasterAddrByName(ctx, set.name).Result()
	if err != nil {
		return "", err
	}
	return net.JoinHostPort(a[0], a[1]), nil
}

// failover asks the Sentinels to promote the replica and waits until a
// new master serves writes.
func (set *sentinelSet) failover(t testing.TB) {
	ctx := context.Background()
	before, err := set.currentMaster(ctx)
	if err != nil {
		t.Fatal(err)
	}
	c := redis.NewSentinelClient(&redis.Options{Addr: set.sentinels[0].addr()})
	defer c.Close()
	if err := c.Failover(ctx, set.name).Err(); err != nil {
		t.Fatalf("chaos: SENTINEL FAILOVER: %v", err)
	}
	deadline := time.Now().Add(30 * time.Second)
	for {
		now, err := set.currentMaster(ctx)
		if err == nil && now != before {
			m := redis.NewClient(&redis.Options{Addr: now})
			role, _ := m.Do(ctx, "role").Slice()
			_ = m.Close()
			if len(role) > 0 && role[0] == "master" {
				return
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("chaos: failover from %s did not complete", before)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// waitLinked waits until the replica at addr has its master link up.
func waitLinked(t testing.TB, addr string) {
	t.Helper()
	c := redis.NewClient(&redis.Options{Addr: addr})
	defer c.Close()
	deadline := time.Now().Add(20 * time.Second)
	for {
		info, err := c.Info(context.Background(), "replication").Result()
		if err == nil && strings.Contains(info, "master_link_status:up") {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("chaos: replica %s not linked: %v", addr, err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}
