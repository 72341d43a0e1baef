package funnel_test

import (
	"context"
	"errors"
	"math"
	"os"
	"strconv"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/shopkit/shopkit/funnel"
	"github.com/shopkit/shopkit/funnel/funneltest"
	"github.com/shopkit/shopkit/internal/redistest"
)

func TestMemory(t *testing.T) {
	funneltest.Run(t, func(t *testing.T, opts funnel.Options) *funnel.Store {
		return funnel.NewMemory(opts)
	})
}

func newRedis(client redis.UniversalClient) funneltest.NewStore {
	return func(t *testing.T, opts funnel.Options) *funnel.Store { return redisStore(t, client, opts) }
}

func redisStore(tb testing.TB, client redis.UniversalClient, opts funnel.Options) *funnel.Store {
	opts.Prefix = redistest.Prefix(tb, client)
	s, err := funnel.NewRedis(client, opts)
	if err != nil {
		tb.Fatal(err)
	}
	return s
}

func TestRedis(t *testing.T) {
	funneltest.Run(t, newRedis(redistest.Client(t)))
}

func TestRedisCluster(t *testing.T) {
	funneltest.Run(t, newRedis(redistest.Cluster(t)))
}

func TestMemoryPrunesExpiredDays(t *testing.T) {
	now := time.Date(2026, 3, 10, 12, 0, 0, 0, time.UTC)
	m := funnel.NewMemory(funnel.Options{Retention: 24 * time.Hour, Now: func() time.Time { return now }})
	ev := funnel.Event{ID: "e1", UserID: "u1", Name: "view", Time: now.Add(-time.Hour)}
	if res, _ := m.Ingest(ctx, []funnel.Event{ev}); res.Stored != 1 {
		t.Fatalf("ingest = %+v", res)
	}
	now = now.Add(36 * time.Hour) // the day ended 24h+ ago
	if res, _ := m.Ingest(ctx, []funnel.Event{ev}); res.Expired != 1 {
		t.Fatalf("replay after retention = %+v, want expired", res)
	}
	n, _ := m.Uniques(ctx, funnel.UniquesQuery{Name: "view", From: now.Add(-72 * time.Hour), To: now, Approximate: false})
	if n != 0 {
		t.Fatalf("uniques after retention = %d, want 0", n)
	}
}

// The embedded miniredis adds up PFCOUNT over several keys instead of
// counting their union, so the union over days is checked on a real
// server only (CI always has one).
func TestRedisApproximateUniquesAcrossDays(t *testing.T) {
	if os.Getenv("REDIS_ADDR") == "" && !redistest.InCI() {
		t.Skip("needs a real Redis: REDIS_ADDR not set")
	}
	for name, client := range map[string]redis.UniversalClient{"standalone": redistest.Client(t), "cluster": clusterOrNil(t)} {
		if client == nil {
			continue
		}
		t.Run(name, func(t *testing.T) {
			s := newRedis(client)(t, funnel.Options{HyperLogLog: true})
			day := time.Now().UTC().Truncate(24 * time.Hour).Add(-72 * time.Hour)
			var events []funnel.Event
			const users = 2000
			for i := 0; i < users; i++ {
				u := "user-" + strconv.Itoa(i)
				events = append(events,
					funnel.Event{ID: u + "-1", UserID: u, Name: "view", Time: day.Add(time.Hour)},
					funnel.Event{ID: u + "-2", UserID: u, Name: "view", Time: day.Add(25 * time.Hour)})
			}
			if _, err := s.Ingest(ctx, events); err != nil {
				t.Fatal(err)
			}
			n, err := s.Uniques(ctx, funnel.UniquesQuery{Name: "view", From: day, To: day.Add(48 * time.Hour), Approximate: true})
			if err != nil {
				t.Fatal(err)
			}
			if d := math.Abs(float64(n-users)) / users; d > 0.03 {
				t.Errorf("approximate over two days = %d, %.2f%% off %d", n, 100*d, users)
			}
		})
	}
}

func clusterOrNil(t *testing.T) redis.UniversalClient {
	if os.Getenv("REDIS_CLUSTER_ADDRS") == "" && !redistest.InCI() {
		return nil
	}
	return redistest.Cluster(t)
}

func TestMemoryNameTableIsBounded(t *testing.T) {
	m := funnel.NewMemory(funnel.Options{})
	at := time.Now().Add(-time.Hour)
	batch := make([]funnel.Event, 0, 4096)
	for i := 0; i < funnel.MaxMemoryNames; i++ {
		n := "n" + strconv.Itoa(i)
		batch = append(batch, funnel.Event{ID: n, UserID: "u", Name: n, Time: at})
		if len(batch) == cap(batch) || i == funnel.MaxMemoryNames-1 {
			if _, err := m.Ingest(ctx, batch); err != nil {
				t.Fatal(err)
			}
			batch = batch[:0]
		}
	}
	over := []funnel.Event{{ID: "a", UserID: "v", Name: "n1", Time: at}, {ID: "b", UserID: "u", Name: "one-too-many", Time: at}}
	if _, err := m.Ingest(ctx, over); !errors.Is(err, funnel.ErrTooManyNames) {
		t.Fatalf("err = %v, want ErrTooManyNames", err)
	}
	if n, _ := m.Uniques(ctx, funnel.UniquesQuery{Name: "n1", From: at.Add(-time.Hour), To: at.Add(time.Hour), Approximate: false}); n != 1 {
		t.Fatalf("the refused batch wrote something: %d users did n1", n)
	}
}

// TestRedisResent runs the suite over a client that runs every script
// twice, as go-redis does when it resends a call whose reply timed out:
// every outcome the suite checks must survive the resend.
func TestRedisResent(t *testing.T) {
	funneltest.Run(t, newRedis(redistest.Resending(t, redistest.Client(t))))
}

// TestRedisWaitReplicas: with WaitReplicas an ingest is reported only once
// a replica has it; without a replica in time it is ErrNotReplicated, and
// ingesting the batch again once the replica is back stores each event
// once.
func TestRedisWaitReplicas(t *testing.T) {
	master, replica := redistest.Replicated(t)
	ctx := context.Background()
	s, err := funnel.NewRedis(master, funnel.Options{Prefix: redistest.Prefix(t, master), Shards: 4, WaitReplicas: 1, WaitTimeout: 300 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	batch := []funnel.Event{{ID: "e1", UserID: "u1", Name: "view", Time: now}, {ID: "e2", UserID: "u2", Name: "view", Time: now}}
	if res, err := s.Ingest(ctx, batch[:1]); err != nil || res.Stored != 1 {
		t.Fatalf("Ingest = %+v, %v", res, err)
	}
	reattach := redistest.Detach(t, master, replica)
	if _, err := s.Ingest(ctx, batch); !errors.Is(err, funnel.ErrNotReplicated) {
		t.Fatalf("Ingest without a replica: %v, want ErrNotReplicated", err)
	}
	reattach()
	// The failed call may have stored some of the batch: the replay
	// stores the rest, and a third call finds every event stored once.
	if res, err := s.Ingest(ctx, batch); err != nil || res.Stored+res.Duplicates != 2 {
		t.Fatalf("Ingest again = %+v, %v; want both events accounted for", res, err)
	}
	if res, err := s.Ingest(ctx, batch); err != nil || res.Stored != 0 || res.Duplicates != 2 {
		t.Fatalf("Ingest a third time = %+v, %v; want both events duplicates", res, err)
	}
}
