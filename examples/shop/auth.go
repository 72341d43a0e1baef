package main

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"net"
	"net/http"
	"net/netip"
	"strconv"
	"strings"
	"time"
)

// auth decides who sent a request. By default a request carries a bearer
// token, "<user>~<expiry unix s>~<signature>", the signature an
// HMAC-SHA256 of the rest under the shop's key; -mint-token prints one.
// With -insecure-user-header the X-User-ID header is believed as sent,
// for local development and tests only.
//
// The same key makes order and refund IDs unguessable: they are HMACs of
// the user and the Idempotency-Key, so they stay the same across restarts
// and instances sharing the key, and nobody without it can predict them.
type auth struct {
	key            []byte
	insecureHeader bool
	now            func() time.Time
}

// devKey signs when no key is configured: fine for a laptop, not for a
// shop (anyone who reads this can mint tokens and predict order IDs).
var devKey = []byte("shopkit example shop: not a secret, set -token-key")

// newKey returns a random key, for a shop started without one: its
// tokens die with the process, and its order IDs differ across restarts.
func newKey() []byte {
	k := make([]byte, 32)
	_, _ = rand.Read(k)
	return k
}

func (a *auth) sign(msg string) []byte {
	m := hmac.New(sha256.New, a.key)
	m.Write([]byte(msg))
	return m.Sum(nil)
}

// mint returns a token for user, valid for ttl.
func (a *auth) mint(user string, ttl time.Duration) string {
	msg := user + "~" + strconv.FormatInt(a.now().Add(ttl).Unix(), 10)
	return msg + "~" + base64.RawURLEncoding.EncodeToString(a.sign("token\x00"+msg))
}

var (
	errNoToken  = &apiError{status: http.StatusUnauthorized, Code: "missing_token", Field: "Authorization", Message: "Authorization: Bearer <token> is required"}
	errBadToken = &apiError{status: http.StatusUnauthorized, Code: "invalid_token", Field: "Authorization", Message: "the token is malformed, expired or not signed by this shop"}
)

// user returns the user r was sent by.
func (a *auth) user(r *http.Request) (string, *apiError) {
	if a.insecureHeader {
		user := r.Header.Get("X-User-ID")
		switch {
		case user == "":
			return "", errNoUser
		case !validName(user):
			return "", errBadUser
		}
		return user, nil
	}
	h := r.Header.Get("Authorization")
	token, ok := strings.CutPrefix(h, "Bearer ")
	if h == "" || !ok {
		return "", errNoToken
	}
	// Neither a user nor a base64url signature contains '~', so the token
	// splits one way only.
	parts := strings.Split(token, "~")
	if len(parts) != 3 || !validName(parts[0]) {
		return "", errBadToken
	}
	sig, err := base64.RawURLEncoding.DecodeString(parts[2])
	if err != nil || !hmac.Equal(sig, a.sign("token\x00"+parts[0]+"~"+parts[1])) {
		return "", errBadToken
	}
	exp, err := strconv.ParseInt(parts[1], 10, 64)
	if err != nil || a.now().Unix() >= exp {
		return "", errBadToken
	}
	return parts[0], nil
}

// derive turns a user's Idempotency-Key into an ID for the packages: the
// same key always gives the same order, reservation and ledger IDs.
func (a *auth) derive(prefix, user, key string) string {
	return prefix + hex.EncodeToString(a.sign("id\x00" + user + "\x00" + key)[:12])
}

// clientIP is the address a request came from: the connection's peer, or,
// when that peer is a trusted proxy, the nearest address in
// X-Forwarded-For that is not one. A client cannot choose its own rate
// limit by sending the header through an untrusted path.
func clientIP(r *http.Request, trusted []netip.Prefix) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		host = r.RemoteAddr
	}
	peer, err := netip.ParseAddr(host)
	if err != nil || !isTrusted(peer, trusted) {
		return host
	}
	hops := strings.Split(strings.Join(r.Header.Values("X-Forwarded-For"), ","), ",")
	for i := len(hops) - 1; i >= 0; i-- {
		a, err := netip.ParseAddr(strings.TrimSpace(hops[i]))
		if err != nil {
			return host // a malformed hop: trust nothing beyond the proxy
		}
		if !isTrusted(a, trusted) {
			return a.String()
		}
	}
	return host
}

func isTrusted(a netip.Addr, trusted []netip.Prefix) bool {
	for _, p := range trusted {
		if p.Contains(a.Unmap()) {
			return true
		}
	}
	return false
}

// parsePrefixes reads a comma-separated list of CIDR prefixes or single
// addresses.
func parsePrefixes(s string) ([]netip.Prefix, error) {
	var out []netip.Prefix
	for _, f := range strings.Split(s, ",") {
		f = strings.TrimSpace(f)
		if f == "" {
			continue
		}
		if !strings.Contains(f, "/") {
			a, err := netip.ParseAddr(f)
			if err != nil {
				return nil, err
			}
			out = append(out, netip.PrefixFrom(a, a.BitLen()))
			continue
		}
		p, err := netip.ParsePrefix(f)
		if err != nil {
			return nil, err
		}
		out = append(out, p.Masked())
	}
	return out, nil
}
