package chaos

import (
	"context"
	"io"
	"strconv"
	"strings"
	"testing"
	"time"

	toxiproxy "github.com/Shopify/toxiproxy/v2"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/redis/go-redis/v9"
	"github.com/rs/zerolog"
)

// proxy is an in-process toxiproxy in front of one server.
type proxy struct {
	p *toxiproxy.Proxy
}

func newProxy(t testing.TB, upstream string) *proxy {
	t.Helper()
	srv := toxiproxy.NewServer(toxiproxy.NewMetricsContainer(prometheus.NewRegistry()), zerolog.New(io.Discard))
	p := toxiproxy.NewProxy(srv, "redis", "127.0.0.1:0", upstream)
	if err := p.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(p.Stop)
	return &proxy{p: p}
}

func (px *proxy) addr() string { return px.p.Listen }

// toxic adds a toxic (toxiproxy's JSON form) for d, then removes it.
func (px *proxy) toxic(t testing.TB, name, spec string, d time.Duration) {
	t.Helper()
	spec = `{"name":"` + name + `",` + strings.TrimPrefix(spec, "{")
	if _, err := px.p.Toxics.AddToxicJson(strings.NewReader(spec)); err != nil {
		t.Fatalf("chaos: toxic %s: %v", name, err)
	}
	time.Sleep(d)
	if err := px.p.Toxics.RemoveToxic(context.Background(), name); err != nil {
		t.Fatalf("chaos: remove toxic %s: %v", name, err)
	}
}

// migrateSlot moves the slot of key's hash tag from its master to another,
// key by key (CLUSTER SETSLOT IMPORTING/MIGRATING, MIGRATE, SETSLOT NODE),
// while clients keep using it: they follow ASK and MOVED redirects.
func migrateSlot(t testing.TB, c *redis.ClusterClient, key string) {
	t.Helper()
	ctx := context.Background()
	slot, err := c.ClusterKeySlot(ctx, key).Result()
	if err != nil {
		t.Fatal(err)
	}
	src, err := c.MasterForKey(ctx, key)
	if err != nil {
		t.Fatal(err)
	}
	var masters []*redis.Client
	_ = c.ForEachMaster(ctx, func(ctx context.Context, m *redis.Client) error {
		masters = append(masters, redis.NewClient(m.Options()))
		return nil
	})
	defer func() {
		for _, m := range masters {
			_ = m.Close()
		}
	}()
	var dst *redis.Client
	for _, m := range masters {
		if m.Options().Addr != src.Options().Addr {
			dst = m
			break
		}
	}
	srcID, err := src.ClusterMyID(ctx).Result()
	if err != nil {
		t.Fatal(err)
	}
	dstID, err := dst.ClusterMyID(ctx).Result()
	if err != nil {
		t.Fatal(err)
	}
	host, port, _ := strings.Cut(dst.Options().Addr, ":")
	p, _ := strconv.Atoi(port)
	must := func(err error) {
		if err != nil {
			t.Fatalf("chaos: migrate slot %d: %v", slot, err)
		}
	}
	must(dst.Do(ctx, "cluster", "setslot", slot, "importing", srcID).Err())
	must(src.Do(ctx, "cluster", "setslot", slot, "migrating", dstID).Err())
	for {
		keys, err := src.ClusterGetKeysInSlot(ctx, int(slot), 20).Result()
		must(err)
		if len(keys) == 0 {
			break
		}
		// A few keys at a time, with pauses, so clients meet the slot half
		// moved (ASK redirects, TRYAGAIN for scripts whose keys are split).
		args := []any{"migrate", host, p, "", 0, 5000, "keys"}
		for _, k := range keys {
			args = append(args, k)
		}
		if err := src.Do(ctx, args...).Err(); err != nil && !strings.Contains(err.Error(), "NOKEY") {
			must(err)
		}
		time.Sleep(2 * time.Millisecond)
	}
	for _, m := range masters {
		must(m.Do(ctx, "cluster", "setslot", slot, "node", dstID).Err())
	}
}
