package rediskeys_test

import (
	"context"
	"strconv"
	"testing"

	"github.com/redis/go-redis/v9"

	"github.com/shopkit/shopkit/internal/rediskeys"
	"github.com/shopkit/shopkit/internal/redistest"
)

// testDeleteMatching writes keys that hash to many different slots and
// checks that DeleteMatching removes every one of them and nothing else.
//
// Regression: a Cluster used to answer the page-wide UNLINK with CROSSSLOT,
// so every key survived and the test suite leaked about 1,200 keys a run.
func testDeleteMatching(t *testing.T, c redis.UniversalClient) {
	ctx := context.Background()
	p := redistest.Prefix(t, c)
	const n = 1200 // more than two pages
	for i := range n {
		if err := c.Set(ctx, p+":k{"+strconv.Itoa(i)+"}", "v", 0).Err(); err != nil {
			t.Fatal(err)
		}
	}
	keep := p + "keep"
	if err := c.Set(ctx, keep, "v", 0).Err(); err != nil {
		t.Fatal(err)
	}
	if err := rediskeys.DeleteMatching(ctx, c, p+":k*"); err != nil {
		t.Fatalf("DeleteMatching: %v", err)
	}
	for i := range n {
		k := p + ":k{" + strconv.Itoa(i) + "}"
		if got, err := c.Exists(ctx, k).Result(); err != nil || got != 0 {
			t.Fatalf("%s: Exists = %d, %v; want 0, nil", k, got, err)
		}
	}
	if got, err := c.Exists(ctx, keep).Result(); err != nil || got != 1 {
		t.Fatalf("key outside the pattern: Exists = %d, %v; want 1, nil", got, err)
	}
}

func TestDeleteMatchingRedis(t *testing.T)   { testDeleteMatching(t, redistest.Client(t)) }
func TestDeleteMatchingCluster(t *testing.T) { testDeleteMatching(t, redistest.Cluster(t)) }
