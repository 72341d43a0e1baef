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
	k := s.b.(*redisRedemptions).keys("BLOCK")
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
	if _, err := s.Reserve(ctx, HoldRequest{Coupon: "BLOCK", Limits: CouponLimits{Global: 1}, Customer: "alice", OrderID: "real", TTL: 50 * time.Millisecond}); err != nil {
		t.Fatal(err)
	}
	time.Sleep(200 * time.Millisecond)
	for range 3 { // each call lapses at most 100 entries
		if _, err := s.Usage(ctx, UsageQuery{Coupon: "BLOCK", Customer: "alice"}); err != nil {
			t.Fatal(err)
		}
	}
	if u, err := s.Usage(ctx, UsageQuery{Coupon: "BLOCK", Customer: "alice"}); err != nil || u != (CouponUsage{}) {
		t.Fatalf("usage = %+v, %v; want the real hold lapsed", u, err)
	}
	if n, err := client.ZCard(ctx, k[1]).Result(); err != nil || n != 0 {
		t.Fatalf("%d index entries left, %v; want none", n, err)
	}
}

// FuzzParseRedemption: every record redeem.lua can write — any state, any
// expiry, any customer the validator accepts — parses back to exactly what
// was written, so no customer ID can make a record ambiguous.
func FuzzParseRedemption(f *testing.F) {
	f.Add("held", int64(1700000000000), "a|b")
	f.Add("committed", int64(0), "x|1|2")
	f.Add("expired", int64(42), "|")
	f.Fuzz(func(t *testing.T, state string, expires int64, customer string) {
		if stateNames[state] == 0 || expires < 0 || checkUsage(UsageQuery{"C", customer}) != nil {
			return
		}
		rec := state + "|" + strconv.FormatInt(expires, 10) + "|" + customer
		r, err := parseRedemption("C", "o", rec)
		if err != nil || r.Customer != customer || r.State != stateNames[state] || r.ExpiresAt.UnixMilli() != expires {
			t.Fatalf("parseRedemption(%q) = %+v, %v", rec, r, err)
		}
	})
}
