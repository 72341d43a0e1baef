package main

import (
	"net/http/httptest"
	"strconv"
	"testing"
)

// TestIdempotencyBounded: 200,000 distinct keys leave at most
// maxIdemEntries answers in memory.
//
// Regression: every key was kept until the day-old purge; 100,000 keys
// from one user grew the shop from 19 to 112 MB.
func TestIdempotencyBounded(t *testing.T) {
	s := newIdempotency()
	body := make([]byte, 512)
	for i := range 200_000 {
		s.do(httptest.NewRecorder(), "u POST /checkout", "k"+strconv.Itoa(i), "f", func() (int, []byte) { return 201, body })
	}
	if n := len(s.entries); n > maxIdemEntries {
		t.Fatalf("%d answers kept, want at most %d", n, maxIdemEntries)
	}
	// The newest answers are the ones kept.
	rec := httptest.NewRecorder()
	s.do(rec, "u POST /checkout", "k199999", "f", func() (int, []byte) { t.Fatal("ran again"); return 0, nil })
	if rec.Header().Get("Idempotent-Replayed") != "true" {
		t.Fatal("the newest answer was not replayed")
	}
}
