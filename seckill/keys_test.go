package seckill

import (
	"context"
	"strconv"
	"testing"
	"time"

	"github.com/shopkit/shopkit/internal/keyspace/keyspacetest"
	"github.com/shopkit/shopkit/internal/redistest"
)

// TestKeysInjective searches every Redis key the package writes for two
// owners sharing a key: sales and their buckets, buyers' limits per sale,
// plain limited keys, locks and fenced resources.
//
// Regression: bucket keys were "{<prefix>:S:b}" and prefixes may contain
// ':', so prefix "p:S" sale "1" was prefix "p" sale "S" bucket 1; and the
// gate limited sale "a.b" user "c" under the same key as sale "a" user
// "b.c". The search found both.
func TestKeysInjective(t *testing.T) {
	gate := func(p string, sale string) []string { return (&redisGate{prefix: p}).keys(sale) }
	lim := func(p, key string) []string { return []string{(&redisLimits{prefix: p}).key(key)} }
	keyspacetest.Injective(t,
		keyspacetest.Builder{Name: "sale", Arity: 1, Keys: func(p string, ids []string) []string { return gate(p, ids[0]) }},
		keyspacetest.Builder{Name: "bucket", Arity: 2, Keys: func(p string, ids []string) []string {
			// Bucket numbers are 1..1023; the search's IDs stand in for them.
			return gate(p, ids[0]+":"+ids[1])
		}},
		keyspacetest.Builder{Name: "limited key", Arity: 1, Keys: func(p string, ids []string) []string { return lim(p, ids[0]) }},
		keyspacetest.Builder{Name: "buyer limit", Arity: 2, Keys: func(p string, ids []string) []string { return lim(p, ids[0]+":"+ids[1]) }},
		keyspacetest.Builder{Name: "lock", Arity: 1, Keys: func(p string, ids []string) []string {
			l, f, r := (&redisLocks{prefix: p}).keys(ids[0])
			return []string{l, f, r}
		}},
		keyspacetest.Builder{Name: "fence", Arity: 1, Keys: func(p string, ids []string) []string {
			return (&redisFenced{prefix: p}).keys(ids[0])
		}},
	)
}

// TestTenantsDoNotShareSales: two gates whose prefixes differ only by what
// a sale ID and a bucket number could spell stay apart on a real Redis.
func TestTenantsDoNotShareSales(t *testing.T) {
	client := redistest.Client(t)
	base := redistest.Prefix(t, client)
	ctx := context.Background()
	a, err := NewRedisGate(client, GateOptions{Prefix: base})
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	b, err := NewRedisGate(client, GateOptions{Prefix: base + ":S"})
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	s := Sale{ID: "S", SKU: "x", Units: 4, PerUserLimit: 1, Buckets: 2}
	s.Start, s.End = time.Now().Add(-time.Minute), time.Now().Add(time.Hour)
	if err := a.Open(ctx, s); err != nil {
		t.Fatal(err)
	}
	// Tenant b never opened a sale "1"; on the old schema it was tenant a's
	// bucket 1 of sale S.
	for i := range 4 {
		u := "u" + strconv.Itoa(i)
		if _, err := b.Admit(ctx, AdmitRequest{SaleID: "1", UserID: u, RequestID: u, Quantity: 1}); err != ErrUnknownSale {
			t.Fatalf("tenant b admitted to a sale it never opened: err = %v, want ErrUnknownSale", err)
		}
	}
}
