package redistest

import (
	"bufio"
	"context"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
)

// CPU measures what a benchmark's timed loop costs in CPU: on the Redis
// server (the main thread of every master behind the client, from INFO's
// used_cpu_user_main_thread + used_cpu_sys_main_thread) and in this
// process (getrusage). On a machine where Redis shares cores with its
// callers, wall time mixes the two; server CPU per operation is the figure
// that carries over to a Redis with cores of its own.
//
//	cpu := redistest.StartCPU(b, client) // after setup, before the loop
//	b.ResetTimer()
//	… the loop …
//	cpu.Report(b)                        // reports redis-cpu-ns/op, go-cpu-ns/op
type CPU struct {
	client redis.UniversalClient
	redis  time.Duration
	hasCPU bool // the server reports its main thread's CPU (miniredis does not)
	self   time.Duration
}

// StartCPU reads both counters. Call it after the benchmark's setup. A nil
// client (an in-memory store) measures this process only.
func StartCPU(b testing.TB, client redis.UniversalClient) *CPU {
	b.Helper()
	c := &CPU{client: client}
	if client != nil {
		c.redis, c.hasCPU = serverCPU(client)
	}
	c.self = processCPU()
	return c
}

// Report reads the counters again and reports their growth per operation
// of b: redis-cpu-ns/op (when the server tells) and go-cpu-ns/op.
func (c *CPU) Report(b *testing.B) {
	b.Helper()
	if b.N == 0 {
		return
	}
	self := processCPU() - c.self
	b.ReportMetric(float64(self.Nanoseconds())/float64(b.N), "go-cpu-ns/op")
	if c.hasCPU {
		if r, ok := serverCPU(c.client); ok {
			b.ReportMetric(float64((r-c.redis).Nanoseconds())/float64(b.N), "redis-cpu-ns/op")
		}
	}
}

// serverCPU sums the main-thread CPU of every master behind client.
func serverCPU(client redis.UniversalClient) (time.Duration, bool) {
	ctx := context.Background()
	if cc, ok := client.(*redis.ClusterClient); ok {
		var mu sync.Mutex
		var total time.Duration
		all := true
		err := cc.ForEachMaster(ctx, func(ctx context.Context, m *redis.Client) error {
			d, ok := nodeCPU(ctx, m)
			mu.Lock()
			total += d
			all = all && ok
			mu.Unlock()
			return nil
		})
		return total, err == nil && all
	}
	return nodeCPU(ctx, client)
}

func nodeCPU(ctx context.Context, c redis.Cmdable) (time.Duration, bool) {
	info, err := c.Info(ctx, "cpu").Result()
	if err != nil {
		return 0, false
	}
	var total time.Duration
	found := 0
	sc := bufio.NewScanner(strings.NewReader(info))
	for sc.Scan() {
		k, v, ok := strings.Cut(strings.TrimSpace(sc.Text()), ":")
		if !ok || (k != "used_cpu_user_main_thread" && k != "used_cpu_sys_main_thread") {
			continue
		}
		sec, err := strconv.ParseFloat(v, 64)
		if err != nil {
			return 0, false
		}
		total += time.Duration(sec * float64(time.Second))
		found++
	}
	return total, found == 2
}

// processCPU is this process's user and system CPU so far.
func processCPU() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// MasterCPU returns each Cluster master's main-thread CPU so far, by
// address, to show how a benchmark's server work spread over the masters.
func MasterCPU(client *redis.ClusterClient) (map[string]time.Duration, error) {
	var mu sync.Mutex
	out := make(map[string]time.Duration)
	err := client.ForEachMaster(context.Background(), func(ctx context.Context, m *redis.Client) error {
		d, ok := nodeCPU(ctx, m)
		if !ok {
			return fmt.Errorf("redistest: %s reports no main-thread CPU", m.Options().Addr)
		}
		mu.Lock()
		out[m.Options().Addr] = d
		mu.Unlock()
		return nil
	})
	return out, err
}
