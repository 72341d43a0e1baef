package main

import (
	"crypto/sha256"
	"encoding/hex"
	"net/http"
	"sync"
	"time"
)

// idempotency remembers the response to each Idempotency-Key, so a client
// that retries a request (a timeout, a double click) gets the first answer
// instead of a second order. Keys are scoped per user and route. A request
// with a key already used for a different request is refused; one still in
// progress is waited for. Server errors are not remembered, so a retry
// after one runs again — which is safe, because every package call below
// is idempotent by an ID derived from the key.
type idempotency struct {
	mu      sync.Mutex
	entries map[string]*idemEntry
}

type idemEntry struct {
	at          time.Time
	fingerprint string
	done        chan struct{}
	status      int
	body        []byte
}

func newIdempotency() *idempotency { return &idempotency{entries: make(map[string]*idemEntry)} }

// derive turns a user's key into an ID for the packages: the same key
// always gives the same order, reservation and ledger IDs.
func derive(prefix, user, key string) string {
	h := sha256.Sum256([]byte(user + "\x00" + key))
	return prefix + hex.EncodeToString(h[:8])
}

// do runs fn once per scope and key and replays its response.
func (s *idempotency) do(w http.ResponseWriter, scope, key, fingerprint string, fn func() (int, []byte)) {
	id := scope + "\x00" + key
	s.mu.Lock()
	e, seen := s.entries[id]
	if !seen {
		e = &idemEntry{at: time.Now(), fingerprint: fingerprint, done: make(chan struct{})}
		s.entries[id] = e
	}
	s.mu.Unlock()
	if seen {
		if e.fingerprint != fingerprint {
			writeError(w, errKeyReused)
			return
		}
		<-e.done
		if e.status == 0 { // the first attempt failed on the server: run again
			s.do(w, scope, key, fingerprint, fn)
			return
		}
		w.Header().Set("Idempotent-Replayed", "true")
		writeRaw(w, e.status, e.body)
		return
	}
	status, body := fn()
	s.mu.Lock()
	if status >= 500 {
		delete(s.entries, id)
	} else {
		e.status, e.body = status, body
	}
	s.mu.Unlock()
	close(e.done)
	writeRaw(w, status, body)
}

// purge forgets the responses to requests made before cutoff.
func (s *idempotency) purge(cutoff time.Time) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for id, e := range s.entries {
		select {
		case <-e.done:
			if e.at.Before(cutoff) {
				delete(s.entries, id)
			}
		default: // still running
		}
	}
}
