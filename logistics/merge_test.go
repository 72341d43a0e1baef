package logistics_test

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/shopkit/shopkit/internal/redistest"
	"github.com/shopkit/shopkit/logistics"
	"github.com/shopkit/shopkit/logistics/logisticstest"
)

func TestMemoryMerge(t *testing.T) {
	logisticstest.Run(t, func(t *testing.T, window time.Duration) *logistics.Merge {
		return logistics.NewMemoryMerge(logistics.MergeOptions{Window: window})
	})
}

func newRedisMerge(client redis.UniversalClient) logisticstest.NewStore {
	return func(t *testing.T, window time.Duration) *logistics.Merge {
		s, err := logistics.NewRedisMerge(client, logistics.MergeOptions{Prefix: redistest.Prefix(t, client), Window: window})
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
}

func TestRedisMerge(t *testing.T) {
	logisticstest.Run(t, newRedisMerge(redistest.Client(t)))
}

func TestRedisClusterMerge(t *testing.T) {
	logisticstest.Run(t, newRedisMerge(redistest.Cluster(t)))
}

func TestNormalize(t *testing.T) {
	tests := []struct{ give, want string }{
		{"  12  Main   Street ", "12 main st"},
		{"１２　ＭＡＩＮ　ＳＴ．", "12 main st"},
		{"Apartment 5, Floor 3", "apt 5 fl 3"},
		{"北京市，朝阳区", "北京市 朝阳区"},
	}
	for _, tt := range tests {
		if got := logistics.NormalizeText(tt.give); got != tt.want {
			t.Errorf("NormalizeText(%q) = %q, want %q", tt.give, got, tt.want)
		}
	}
	for _, p := range []string{"+86 138-0000-1111", "138 0000 1111", "１３８００００１１１１"} {
		if got := logistics.NormalizePhone(p); got != "13800001111" {
			t.Errorf("NormalizePhone(%q) = %q", p, got)
		}
	}
}

func FuzzNormalize(f *testing.F) {
	f.Add("１２　ＭＡＩＮ　ＳＴ．")
	f.Add("\xff\x00 ,，")
	f.Fuzz(func(t *testing.T, s string) {
		n := logistics.NormalizeText(s)
		if logistics.NormalizeText(n) != n {
			t.Fatalf("not idempotent: %q → %q → %q", s, n, logistics.NormalizeText(n))
		}
	})
}

// TestRedisResentMerge runs the suite over a client that runs every script
// twice, as go-redis does when it resends a call whose reply timed out:
// every outcome the suite checks must survive the resend.
func TestRedisResentMerge(t *testing.T) {
	logisticstest.Run(t, newRedisMerge(redistest.Resending(t, redistest.Client(t))))
}

// testMergeRetention: a group is forgotten Retention after it closes, with
// its members, while a group still in retention is kept.
//
// Regression: Redis merge keys never expired and the Memory store never
// deleted a group.
func testMergeRetention(t *testing.T, s *logistics.Merge, wait func()) {
	ctx := context.Background()
	if _, err := s.Add(ctx, logistics.MergeOrder{Key: "alice", OrderID: "o1", Grams: 100}); err != nil {
		t.Fatal(err)
	}
	wait() // the first group closes and its retention passes
	if _, err := s.Add(ctx, logistics.MergeOrder{Key: "bob", OrderID: "o2", Grams: 200}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Group(ctx, logistics.MergeRef{Key: "alice", OrderID: "o1"}); !errors.Is(err, logistics.ErrNotFound) {
		t.Fatalf("order of a forgotten group: %v, want ErrNotFound", err)
	}
	if g, err := s.Group(ctx, logistics.MergeRef{Key: "bob", OrderID: "o2"}); err != nil || g.Grams != 200 {
		t.Fatalf("group in retention: %+v, %v", g, err)
	}
}

func TestMemoryMergeRetention(t *testing.T) {
	now := time.Unix(1_800_000_000, 0)
	s := logistics.NewMemoryMerge(logistics.MergeOptions{Window: time.Minute, Retention: time.Hour, Now: func() time.Time { return now }})
	testMergeRetention(t, s, func() { now = now.Add(time.Minute + time.Hour) })
}

func TestRedisMergeRetention(t *testing.T) {
	c := redistest.Client(t)
	prefix := redistest.Prefix(t, c)
	s, err := logistics.NewRedisMerge(c, logistics.MergeOptions{Prefix: prefix, Window: 100 * time.Millisecond, Retention: 200 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	testMergeRetention(t, s, func() { time.Sleep(400 * time.Millisecond) })
	if keys := redistest.KeysWithoutTTL(t, c, prefix); len(keys) > 0 {
		t.Fatalf("keys that never expire: %v", keys)
	}
	// A recipient who keeps ordering keeps its keys alive, but not its old
	// groups.
	ctx := context.Background()
	for i := range 4 {
		if _, err := s.Add(ctx, logistics.MergeOrder{Key: "carol", OrderID: fmt.Sprintf("c%d", i), Grams: 1}); err != nil {
			t.Fatal(err)
		}
		time.Sleep(350 * time.Millisecond)
	}
	if n, err := c.HLen(ctx, "{"+prefix+":carol}:groups").Result(); err != nil || n > 4 {
		t.Fatalf("carol's groups hash has %d fields, %v; want the live groups and counters only", n, err)
	}
}
