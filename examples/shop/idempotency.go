package main

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"net/http"
	"sync"
	"time"

	"github.com/redis/go-redis/v9"
)

// Idempotency-Key handling: a client that retries a request (a timeout, a
// double click, a load balancer's retry to another instance) gets the
// first answer instead of a second order. Keys are scoped per user and
// route. A key used for a different request is refused; a request still
// running is waited for, up to idemWait, then answered 409 so the client
// retries. Only final answers are remembered: a server error, or a request
// refused before it did anything (a 400: bad JSON, a field that breaks a
// rule; a 429), is not, so a retry — with the body fixed — runs again,
// which is safe, because every store call below is idempotent by an ID
// derived from the key.
//
// The records live in an idemStore: in process memory (bounded) or in
// Redis, where every instance sees them and they expire after idemKeep.
type idemStore interface {
	// claim returns the remembered answer to id, or claims id for owner
	// for lease (a claim whose owner died lapses, so another may run the
	// request).
	claim(ctx context.Context, id, fingerprint, owner string, lease time.Duration) (idemClaim, error)
	// finish remembers owner's final answer to id.
	finish(ctx context.Context, id, owner string, status int, body []byte) error
	// drop forgets owner's claim on id: the answer was not final.
	drop(ctx context.Context, id, owner string) error
}

// idemClaim is what claim found.
type idemClaim struct {
	outcome idemOutcome
	status  int
	body    []byte
}

type idemOutcome int

const (
	idemClaimed  idemOutcome = 1 // run the request
	idemReused   idemOutcome = 2 // the key belongs to a different request
	idemAnswered idemOutcome = 3 // replay status and body
	idemRunning  idemOutcome = 4 // another attempt is running: wait
)

const (
	idemKeep  = 24 * time.Hour   // how long an answer is remembered
	idemLease = 6 * time.Second  // how long a claim outlives its owner's last renewal (every idemLease/3)
	idemWait  = 10 * time.Second // how long a duplicate waits for the first attempt
)

// final reports whether a response is a final answer worth remembering.
func final(status int) bool {
	return status < 500 && status != http.StatusBadRequest && status != http.StatusTooManyRequests
}

var errInProgress = &apiError{status: http.StatusConflict, Code: "request_in_progress", Field: "Idempotency-Key",
	Message: "a request with this Idempotency-Key is still running; retry it in a moment"}

// runOnce runs fn once per id and replays its answer.
func (s *shop) runOnce(w http.ResponseWriter, r *http.Request, id, fingerprint string, fn func() (int, []byte)) {
	ctx := r.Context()
	owner := newOwner()
	waitUntil := time.Now().Add(idemWait)
	for pause := 10 * time.Millisecond; ; pause = min(2*pause, 200*time.Millisecond) {
		c, err := s.st.idem.claim(ctx, id, fingerprint, owner, idemLease)
		if err != nil {
			s.fail(w, r, err)
			return
		}
		switch c.outcome {
		case idemReused:
			writeError(w, errKeyReused)
			return
		case idemAnswered:
			w.Header().Set("Idempotent-Replayed", "true")
			writeRaw(w, c.status, c.body)
			return
		case idemClaimed:
			stopRenewing := s.renewClaim(ctx, id, fingerprint, owner)
			status, body := fn()
			stopRenewing()
			// A store error here only costs the replay: the claim lapses
			// and a retry runs the (idempotent) request again.
			if final(status) {
				err = s.st.idem.finish(context.WithoutCancel(ctx), id, owner, status, body)
			} else {
				err = s.st.idem.drop(context.WithoutCancel(ctx), id, owner)
			}
			if err != nil {
				s.warn("idempotency", "idempotency store: %v", err)
			}
			writeRaw(w, status, body)
			return
		}
		if time.Now().After(waitUntil) {
			writeError(w, errInProgress)
			return
		}
		select {
		case <-ctx.Done():
			s.fail(w, r, ctx.Err())
			return
		case <-time.After(pause):
		}
	}
}

// renewClaim keeps owner's claim on id alive while its request runs, so
// a slow request keeps its key while a crashed owner's claim lapses
// within idemLease. It returns the function that stops it.
func (s *shop) renewClaim(ctx context.Context, id, fingerprint, owner string) (stop func()) {
	ctx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() {
		defer close(done)
		t := time.NewTicker(idemLease / 3)
		defer t.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-t.C:
				if _, err := s.st.idem.claim(ctx, id, fingerprint, owner, idemLease); err != nil && ctx.Err() == nil {
					s.warn("idempotency", "renewing an Idempotency-Key claim: %v", err)
				}
			}
		}
	}()
	return func() {
		cancel()
		<-done
	}
}

func newOwner() string {
	var b [12]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// memoryIdempotency is the idemStore of a shop in one process. It keeps at
// most maxIdemEntries answers, forgetting the oldest first, and none past
// idemKeep: memory stays bounded whatever keys clients send.
type memoryIdempotency struct {
	mu      sync.Mutex
	entries map[string]*idemEntry
	order   []string // entry IDs, oldest first, as a ring of maxIdemEntries
	next    int
	now     func() time.Time
}

// maxIdemEntries bounds the remembered answers: about 2 KB each with its
// body, so some 100 MB at most.
const maxIdemEntries = 50_000

type idemEntry struct {
	at          time.Time
	fingerprint string
	owner       string    // "" once answered
	leaseUntil  time.Time // while owned
	status      int
	body        []byte
}

func newMemoryIdempotency() *memoryIdempotency {
	return &memoryIdempotency{entries: make(map[string]*idemEntry), order: make([]string, maxIdemEntries), now: time.Now}
}

func (m *memoryIdempotency) claim(_ context.Context, id, fingerprint, owner string, lease time.Duration) (idemClaim, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	now := m.now()
	e, ok := m.entries[id]
	if ok && now.Sub(e.at) > idemKeep {
		delete(m.entries, id)
		ok = false
	}
	switch {
	case !ok:
		m.rememberLocked(id, &idemEntry{at: now, fingerprint: fingerprint, owner: owner, leaseUntil: now.Add(lease)})
		return idemClaim{outcome: idemClaimed}, nil
	case e.fingerprint != fingerprint:
		return idemClaim{outcome: idemReused}, nil
	case e.owner == "":
		return idemClaim{outcome: idemAnswered, status: e.status, body: e.body}, nil
	case e.owner == owner || now.After(e.leaseUntil):
		e.owner, e.leaseUntil = owner, now.Add(lease)
		return idemClaim{outcome: idemClaimed}, nil
	}
	return idemClaim{outcome: idemRunning}, nil
}

// rememberLocked adds an entry in the slot of the oldest, which it forgets.
// A forgotten entry still running only loses its replay: its request is
// idempotent by its key anyway.
func (m *memoryIdempotency) rememberLocked(id string, e *idemEntry) {
	if old := m.order[m.next]; old != "" && old != id {
		delete(m.entries, old)
	}
	m.order[m.next] = id
	m.next = (m.next + 1) % maxIdemEntries
	m.entries[id] = e
}

func (m *memoryIdempotency) finish(_ context.Context, id, owner string, status int, body []byte) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if e, ok := m.entries[id]; ok && e.owner == owner {
		e.owner, e.status, e.body = "", status, body
	}
	return nil
}

func (m *memoryIdempotency) drop(_ context.Context, id, owner string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if e, ok := m.entries[id]; ok && e.owner == owner {
		delete(m.entries, id)
	}
	return nil
}

// redisIdempotency is the idemStore on Redis: one hash per key, hash-tagged
// by itself so keys spread over a Cluster, expiring idemLease after a claim
// and idemKeep after the answer.
type redisIdempotency struct {
	client redis.UniversalClient
	prefix string
}

func (r *redisIdempotency) key(id string) string {
	sum := sha256.Sum256([]byte(id))
	return r.prefix + ":idem:{" + hex.EncodeToString(sum[:16]) + "}"
}

// claimIdem claims a key or returns what it holds. The owner claiming
// again renews its lease; so does a resend of the first claim.
//
// KEYS: the key's hash
// ARGV: fingerprint, owner, lease in ms
// Reply: {1} claimed, {2} reused, {3, status, body} answered, {4} running
var claimIdem = redis.NewScript(`
local h = redis.call('HMGET', KEYS[1], 'fp', 'owner', 'status', 'body')
if not h[1] then
  redis.call('HSET', KEYS[1], 'fp', ARGV[1], 'owner', ARGV[2])
  redis.call('PEXPIRE', KEYS[1], ARGV[3])
  return {1}
end
if h[1] ~= ARGV[1] then return {2} end
if h[3] then return {3, tonumber(h[3]), h[4]} end
if h[2] == ARGV[2] then
  redis.call('PEXPIRE', KEYS[1], ARGV[3])
  return {1}
end
return {4}
`)

// finishIdem stores the answer if owner still holds the key; a resend
// finds it stored and does the same.
//
// KEYS: the key's hash
// ARGV: owner, status, body, keep in ms
var finishIdem = redis.NewScript(`
if redis.call('HGET', KEYS[1], 'owner') ~= ARGV[1] then return 0 end
redis.call('HSET', KEYS[1], 'status', ARGV[2], 'body', ARGV[3])
redis.call('PEXPIRE', KEYS[1], ARGV[4])
return 1
`)

// dropIdem deletes owner's unanswered claim.
//
// KEYS: the key's hash
// ARGV: owner
var dropIdem = redis.NewScript(`
if redis.call('HGET', KEYS[1], 'owner') == ARGV[1] and redis.call('HEXISTS', KEYS[1], 'status') == 0 then
  return redis.call('DEL', KEYS[1])
end
return 0
`)

func (r *redisIdempotency) claim(ctx context.Context, id, fingerprint, owner string, lease time.Duration) (idemClaim, error) {
	v, err := claimIdem.Run(ctx, r.client, []string{r.key(id)}, fingerprint, owner, lease.Milliseconds()).Slice()
	if err != nil {
		return idemClaim{}, err
	}
	out, ok := v[0].(int64)
	if !ok {
		return idemClaim{}, errors.New("idempotency store: unexpected reply")
	}
	c := idemClaim{outcome: idemOutcome(out)}
	if c.outcome == idemAnswered && len(v) == 3 {
		status, _ := v[1].(int64)
		body, _ := v[2].(string)
		c.status, c.body = int(status), []byte(body)
	}
	return c, nil
}

func (r *redisIdempotency) finish(ctx context.Context, id, owner string, status int, body []byte) error {
	return finishIdem.Run(ctx, r.client, []string{r.key(id)}, owner, status, body, idemKeep.Milliseconds()).Err()
}

func (r *redisIdempotency) drop(ctx context.Context, id, owner string) error {
	return dropIdem.Run(ctx, r.client, []string{r.key(id)}, owner).Err()
}
