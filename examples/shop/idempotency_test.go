package main

import (
	"context"
	"strconv"
	"testing"
	"time"
)

// TestIdempotencyBounded: 200,000 distinct keys leave at most
// maxIdemEntries answers in memory.
//
// Regression: every key was kept until the day-old purge; 100,000 keys
// from one user grew the shop from 19 to 112 MB.
func TestIdempotencyBounded(t *testing.T) {
	ctx := context.Background()
	m := newMemoryIdempotency()
	body := make([]byte, 512)
	for i := range 200_000 {
		id := "u POST /checkout k" + strconv.Itoa(i)
		c, err := m.claim(ctx, id, "f", "owner", time.Minute)
		if err != nil || c.outcome != idemClaimed {
			t.Fatalf("claim %d: %+v %v", i, c, err)
		}
		if err := m.finish(ctx, id, "owner", 201, body); err != nil {
			t.Fatal(err)
		}
	}
	if n := len(m.entries); n > maxIdemEntries {
		t.Fatalf("%d answers kept, want at most %d", n, maxIdemEntries)
	}
	// The newest answers are the ones kept.
	c, err := m.claim(ctx, "u POST /checkout k199999", "f", "another", time.Minute)
	if err != nil || c.outcome != idemAnswered || c.status != 201 {
		t.Fatalf("the newest answer: %+v %v", c, err)
	}
}
