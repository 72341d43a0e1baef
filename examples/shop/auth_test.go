package main

import (
	"net/http/httptest"
	"net/netip"
	"testing"
	"time"
)

// TestBearerTokens: a token the shop minted names its user until it
// expires; a tampered, foreign, expired or missing one is refused, and the
// X-User-ID header means nothing without -insecure-user-header.
//
// Regression: X-User-ID was trusted as sent, so anyone could act as anyone.
func TestBearerTokens(t *testing.T) {
	now := time.Date(2026, 12, 4, 12, 0, 0, 0, time.UTC)
	a := auth{key: []byte("0123456789abcdef0123456789abcdef"), now: func() time.Time { return now }}
	other := auth{key: []byte("fedcba9876543210fedcba9876543210"), now: a.now}
	good := a.mint("ann", time.Hour)
	tampered := "bob" + good[len("ann"):]
	expired := a.mint("ann", -time.Second)
	tests := []struct {
		name, header, user, want string
	}{
		{"valid", "Bearer " + good, "", "ann"},
		{"another user's name on ann's signature", "Bearer " + tampered, "", "invalid_token"},
		{"signed by another shop", "Bearer " + other.mint("ann", time.Hour), "", "invalid_token"},
		{"expired", "Bearer " + expired, "", "invalid_token"},
		{"not a bearer token", "Basic YW5uOnB3", "", "missing_token"},
		{"garbage", "Bearer a~b~c~d", "", "invalid_token"},
		{"none, only the header", "", "ann", "missing_token"},
	}
	for _, tt := range tests {
		r := httptest.NewRequest("GET", "/orders/x", nil)
		if tt.header != "" {
			r.Header.Set("Authorization", tt.header)
		}
		if tt.user != "" {
			r.Header.Set("X-User-ID", tt.user)
		}
		user, err := a.user(r)
		got := user
		if err != nil {
			got = err.Code
		}
		if got != tt.want {
			t.Errorf("%s: got %q, want %q", tt.name, got, tt.want)
		}
	}
}

// TestOrderIDsUnguessable: order IDs derive from the user and key under
// the shop's secret, so another key gives other IDs and one shop's IDs
// stay the same across its restarts.
//
// Regression: an order ID was a plain hash of the user and the
// Idempotency-Key, so anyone could compute another user's order IDs.
func TestOrderIDsUnguessable(t *testing.T) {
	a := auth{key: []byte("0123456789abcdef0123456789abcdef")}
	b := auth{key: []byte("fedcba9876543210fedcba9876543210")}
	if a.derive("o-", "ann", "k1") == b.derive("o-", "ann", "k1") {
		t.Fatal("two keys derive the same order ID")
	}
	if a.derive("o-", "ann", "k1") != (&auth{key: a.key}).derive("o-", "ann", "k1") {
		t.Fatal("the same key derives different IDs")
	}
	if a.derive("o-", "ann", "k1") == a.derive("o-", "bob", "k1") {
		t.Fatal("two users' orders share an ID")
	}
}

// TestClientIP: X-Forwarded-For names the client only when the connection
// comes from a trusted proxy, and then the nearest untrusted hop.
//
// Regression: the per-IP limit keyed on RemoteAddr alone: behind a proxy
// every client shared one limit.
func TestClientIP(t *testing.T) {
	trusted := []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8")}
	tests := []struct {
		remote, xff, want string
	}{
		{"203.0.113.7:5000", "", "203.0.113.7"},
		{"203.0.113.7:5000", "198.51.100.1", "203.0.113.7"},                  // not from a proxy: the header is the client's word
		{"10.0.0.2:5000", "198.51.100.1", "198.51.100.1"},                    // from the proxy
		{"10.0.0.2:5000", "1.2.3.4, 198.51.100.1, 10.0.0.9", "198.51.100.1"}, // the nearest untrusted hop, not the client's claim
		{"10.0.0.2:5000", "not-an-ip", "10.0.0.2"},
	}
	for _, tt := range tests {
		r := httptest.NewRequest("GET", "/", nil)
		r.RemoteAddr = tt.remote
		if tt.xff != "" {
			r.Header.Set("X-Forwarded-For", tt.xff)
		}
		if got := clientIP(r, trusted); got != tt.want {
			t.Errorf("remote %s, X-Forwarded-For %q: %s, want %s", tt.remote, tt.xff, got, tt.want)
		}
	}
}
