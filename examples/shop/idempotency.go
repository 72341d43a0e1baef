package main

import (
	"net/http"
	"sync"
	"time"
)

// idempotency remembers the response to each Idempotency-Key, so a client
// that retries a request (a timeout, a double click) gets the first answer
// instead of a second order. Keys are scoped per user and route. A request
// with a key already used for a different request is refused; one still in
// progress is waited for. Only final answers are remembered: a server
// error, or a request refused before it did anything (a 400: bad JSON, a
// field that breaks a rule; a 429), is not, so a retry — with the body
// fixed — runs again, which is safe, because every package call below is
// idempotent by an ID derived from the key.
//
// It keeps at most maxIdemEntries answers, forgetting the oldest first, and
// none past a day (purge): memory stays bounded whatever keys clients send.
type idempotency struct {
	mu      sync.Mutex
	entries map[string]*idemEntry
	order   []string // entry IDs, oldest first, as a ring of maxIdemEntries
	next    int
}

// maxIdemEntries bounds the remembered answers: about 2 KB each with its
// body, so some 100 MB at most.
const maxIdemEntries = 50_000

type idemEntry struct {
	at          time.Time
	fingerprint string
	done        chan struct{}
	status      int
	body        []byte
}

func newIdempotency() *idempotency {
	return &idempotency{entries: make(map[string]*idemEntry), order: make([]string, maxIdemEntries)}
}

// remember adds an entry, forgetting the oldest one whose slot it takes
// if that one is finished (one still running keeps its place: its caller
// holds it).
func (s *idempotency) rememberLocked(id string, e *idemEntry) {
	if old := s.order[s.next]; old != "" {
		if oe := s.entries[old]; oe != nil && oe.finished() {
			delete(s.entries, old)
		}
	}
	s.order[s.next] = id
	s.next = (s.next + 1) % maxIdemEntries
	s.entries[id] = e
}

func (e *idemEntry) finished() bool {
	select {
	case <-e.done:
		return true
	default:
		return false
	}
}

// final reports whether a response is a final answer worth remembering.
func final(status int) bool {
	return status < 500 && status != http.StatusBadRequest && status != http.StatusTooManyRequests
}

// do runs fn once per scope and key and replays its response.
func (s *idempotency) do(w http.ResponseWriter, scope, key, fingerprint string, fn func() (int, []byte)) {
	id := scope + "\x00" + key
	s.mu.Lock()
	e, seen := s.entries[id]
	if !seen {
		e = &idemEntry{at: time.Now(), fingerprint: fingerprint, done: make(chan struct{})}
		s.rememberLocked(id, e)
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
	if !final(status) {
		if s.entries[id] == e {
			delete(s.entries, id)
		}
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
