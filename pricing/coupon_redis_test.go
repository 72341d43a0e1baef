package pricing

import (
	"context"
	"strconv"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/shopkit/shopkit/internal/redistest"
)

// TestMalformedRecordsDoNotBlockLapses: index entries whose records are
// missing or unreadable (written by an older format, or by hand) are
// dropped by the lapse pass instead of staying due forever, so a real
// hold behind 150 of them still lapses.
//
// Regression: the pass looked at the first 100 due entries and kept any
// it could not parse, so 100 malformed holds stopped every other hold
// from lapsing.
func TestMalformedRecordsDoNotBlockLapses(t *testing.T) {
	client := redistest.Client(t)
	ctx := context.Background()
	s, err := NewRedisRedemptions(client, RedemptionsOptions{Prefix: redistest.Prefix(t, client)})
	if err != nil {
		t.Fatal(err)
	}
	k := s.keys("BLOCK")
	for i := range 150 {
		oid := "junk" + strconv.Itoa(i)
		if i%2 == 0 {
			if err := client.HSet(ctx, k[0], oid, "held|not a record").Err(); err != nil {
				t.Fatal(err)
			}
		}
		if err := client.ZAdd(ctx, k[1], redis.Z{Score: 0, Member: oid}).Err(); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := s.Reserve(ctx, "BLOCK", CouponLimits{Global: 1}, "alice", "real", 50*time.Millisecond); err != nil {
		t.Fatal(err)
	}
	time.Sleep(200 * time.Millisecond)
	for range 3 { // each call lapses at most 100 entries
		if _, err := s.Usage(ctx, "BLOCK", "alice"); err != nil {
			t.Fatal(err)
		}
	}
	if u, err := s.Usage(ctx, "BLOCK", "alice"); err != nil || u != (CouponUsage{}) {
		t.Fatalf("usage = %+v, %v; want the real hold lapsed", u, err)
	}
	if n, err := client.ZCard(ctx, k[1]).Result(); err != nil || n != 0 {
		t.Fatalf("%d index entries left, %v; want none", n, err)
	}
}
