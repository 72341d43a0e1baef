package abtest_test

import (
	"context"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/shopkit/shopkit/abtest"
	"github.com/shopkit/shopkit/abtest/abtesttest"
	"github.com/shopkit/shopkit/internal/redistest"
)

func TestMemorySticky(t *testing.T) {
	abtesttest.Run(t, func(t *testing.T) *abtest.Sticky {
		s := abtest.NewMemorySticky(abtest.StickyOptions{})
		t.Cleanup(func() { _ = s.Close() })
		return s
	})
}

func newRedisSticky(client redis.UniversalClient) abtesttest.NewStore {
	return func(t *testing.T) *abtest.Sticky {
		s, err := abtest.NewRedisSticky(client, abtest.StickyOptions{Prefix: redistest.Prefix(t, client)})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = s.Close() })
		return s
	}
}

func TestRedisSticky(t *testing.T) {
	abtesttest.Run(t, newRedisSticky(redistest.Client(t)))
}

func TestRedisClusterSticky(t *testing.T) {
	abtesttest.Run(t, newRedisSticky(redistest.Cluster(t)))
}

// TestRedisResentSticky runs the suite over a client that runs every script
// twice, as go-redis does when it resends a call whose reply timed out:
// every outcome the suite checks must survive the resend.
func TestRedisResentSticky(t *testing.T) {
	abtesttest.Run(t, newRedisSticky(redistest.Resending(t, redistest.Client(t))))
}

// testStickyTTL: a document outlives its TTL only if saved to again; by
// default documents expire (90 days), on Memory and Redis alike.
//
// Regression: sticky assignments defaulted to no TTL on Redis, and the
// Memory store kept every document forever.
func testStickyTTL(t *testing.T, s *abtest.Sticky, wait func()) {
	ctx := context.Background()
	if _, err := s.Save(ctx, abtest.StickyAssignment{Attribute: "id", Value: "u1", Key: "exp__0", Variation: 1}); err != nil {
		t.Fatal(err)
	}
	if got, err := s.Load(ctx, abtest.StickyUser{Attribute: "id", Value: "u1"}); err != nil || got["exp__0"] != 1 {
		t.Fatalf("Load = %v, %v", got, err)
	}
	wait()
	if got, err := s.Load(ctx, abtest.StickyUser{Attribute: "id", Value: "u1"}); err != nil || len(got) != 0 {
		t.Fatalf("Load after the TTL = %v, %v; want nothing", got, err)
	}
}

func TestMemoryStickyTTL(t *testing.T) {
	now := time.Unix(1_800_000_000, 0)
	s := abtest.NewMemorySticky(abtest.StickyOptions{TTL: time.Hour, Now: func() time.Time { return now }})
	testStickyTTL(t, s, func() { now = now.Add(time.Hour) })
}

func TestRedisStickyTTL(t *testing.T) {
	c := redistest.Client(t)
	prefix := redistest.Prefix(t, c)
	s, err := abtest.NewRedisSticky(c, abtest.StickyOptions{Prefix: prefix, TTL: 200 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	testStickyTTL(t, s, func() { time.Sleep(300 * time.Millisecond) })
	// With the default TTL, documents still expire.
	d, err := abtest.NewRedisSticky(c, abtest.StickyOptions{Prefix: prefix + ":default"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := d.Save(context.Background(), abtest.StickyAssignment{Attribute: "id", Value: "u2", Key: "exp__0", Variation: 0}); err != nil {
		t.Fatal(err)
	}
	if keys := redistest.KeysWithoutTTL(t, c, prefix); len(keys) > 0 {
		t.Fatalf("keys that never expire: %v", keys)
	}
}
