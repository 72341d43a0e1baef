package funnel

import (
	"context"
	"hash/maphash"
	"math"
	"sort"
	"sync"
	"time"
)

// DefaultRetention is how long a store keeps a day's events when
// Options.Retention is zero: 90 days after the day ends.
const DefaultRetention = 90 * 24 * time.Hour

// Options configure a store. The zero value means the defaults.
type Options struct {
	// Retention is how long events are kept after the end of their UTC
	// day; events already past it are counted as expired and not stored.
	// Zero means DefaultRetention.
	Retention time.Duration
	// Now is the Memory store's clock (default time.Now); Redis uses the
	// server's TIME.
	Now func() time.Time
	// Prefix starts every Redis key (default "shopkit:funnel").
	Prefix string
	// Shards is how many hash tags a Redis store spreads users over
	// (default 16, at most 1024). It must stay the same for a prefix's
	// lifetime: a user's events are found in the shard of their ID.
	Shards int
	// HyperLogLog makes a Redis store keep a HyperLogLog of users per day
	// and event name, for approximate Uniques.
	HyperLogLog bool
	// Observer, if set, receives an Observation of every call: for Ingest,
	// what it did (events stored, duplicates replayed by clients, events
	// arriving too late) and its error.
	Observer Observer
	// WaitReplicas, if positive, makes every Redis ingest wait until that
	// many replicas have acknowledged each shard's write (WAIT), up to
	// WaitTimeout (default 1s); if they do not, Ingest returns
	// ErrNotReplicated (replay the batch: stored events count as
	// duplicates). Needs a *redis.Client (standalone or failover) or
	// *redis.ClusterClient. Redis only.
	WaitReplicas int
	// WaitTimeout bounds the wait for WaitReplicas. Default 1s.
	WaitTimeout time.Duration
}

func (o *Options) retention() int64 {
	if o.Retention <= 0 {
		return int64(DefaultRetention / time.Microsecond)
	}
	return int64(o.Retention / time.Microsecond)
}

// memory is the process-local backend.
type memory struct {
	mu    sync.RWMutex
	days  map[int64]*memDay
	users map[string]*userLog
	slab  userSlab  // where the userLogs live
	text  textArena // the records' strings
	// moved counts the user logs whose records moved to a new array since
	// the last compaction: scattered arrays cost analysis a cache miss
	// each, so past a point scan lays them out in order again.
	moved     int
	seed      maphash.Seed
	retention int64 // microseconds
	now       func() time.Time
	pruned    int64 // days before this one have been dropped
	daySize   int   // events in the largest day so far
	// Event names, numbered: records hold the number, so filtering by
	// name never reads the text arena.
	names     []string
	nameIndex map[string]uint16
	nameNums  []uint16 // scratch: the name number of each event of a batch
}

// MaxMemoryNames is how many distinct event names a Memory store holds.
const MaxMemoryNames = 1 << 16

var _ backend = (*memory)(nil)

// NewMemory returns an empty store in process memory. Each user keeps
// their events in time order in pointer-free arenas of their own (see
// userLog), so the garbage collector skips them and analysis reads memory
// in order. Each UTC day keeps the set of its event IDs, and its events
// are dropped once its retention has passed. Time comes from opts.Now.
func NewMemory(opts Options) *Store {
	now := opts.Now
	if now == nil {
		now = time.Now
	}
	return newStore(&memory{
		days:      make(map[int64]*memDay),
		users:     make(map[string]*userLog),
		nameIndex: make(map[string]uint16),
		seed:      maphash.MakeSeed(),
		retention: opts.retention(),
		now:       now,
	}, opts)
}

// firstLiveDay is the earliest UTC day whose events are still kept.
func (m *memory) firstLiveDay() int64 {
	return dayOf(m.now().UnixMicro() - m.retention)
}

func (m *memory) ingest(ctx context.Context, events []Event) (Ingested, error) {
	if err := ctx.Err(); err != nil {
		return Ingested{}, err
	}
	var res Ingested
	m.mu.Lock()
	defer m.mu.Unlock()
	live := m.firstLiveDay()
	if live > m.pruned {
		m.prune(live)
	}
	// Number every event's name first, so a batch that would overflow
	// the name table is refused before anything is written.
	nums := m.nameNums[:0]
	var fresh map[string]uint16
	for i := range events {
		name := events[i].Name
		n, ok := m.nameIndex[name]
		if !ok {
			if n, ok = fresh[name]; !ok {
				if len(m.names)+len(fresh) >= MaxMemoryNames {
					return Ingested{}, ErrTooManyNames
				}
				if fresh == nil {
					fresh = make(map[string]uint16)
				}
				n = uint16(len(m.names) + len(fresh))
				fresh[name] = n
			}
		}
		nums = append(nums, n)
	}
	m.nameNums = nums
	m.names = append(m.names, make([]string, len(fresh))...)
	for name, n := range fresh {
		m.nameIndex[name] = n
		m.names[n] = name
	}
	var day *memDay
	dayNum := int64(math.MinInt64)
	for i := range events {
		e := &events[i]
		micros := e.Time.UnixMicro()
		if d := dayOf(micros); d != dayNum {
			if d < live {
				res.Expired++
				continue
			}
			if day, dayNum = m.days[d], d; day == nil {
				// Days are alike: size the new ID set like the largest
				// day so far rather than growing it step by step.
				day = newMemDay(m.daySize)
				m.days[d] = day
			}
		}
		u := m.users[e.UserID]
		if u == nil {
			u = m.slab.alloc(e.UserID)
			m.users[e.UserID] = u
		}
		if !day.addID(m.seed, e.ID, dayNum*dayMicros, u, &m.slab, &m.text) {
			if len(u.recs) == 0 { // a new user whose only event was a duplicate
				delete(m.users, e.UserID)
				m.slab.release(u)
			}
			res.Duplicates++
			continue
		}
		if u.add(e, micros, nums[i], &m.text) {
			m.moved++
		}
		day.n++
		m.daySize = max(m.daySize, day.n)
		res.Stored++
	}
	return res, nil
}

// prune drops every day before live.
func (m *memory) prune(live int64) {
	for d := range m.days {
		if d < live {
			delete(m.days, d)
		}
	}
	for id, u := range m.users {
		// Records are in time order, so the dropped days are a prefix.
		u.dropBefore(live * dayMicros)
		if len(u.recs) == 0 {
			delete(m.users, id)
			m.slab.release(u)
		}
	}
	m.compact() // frees the forgotten events' strings
	m.pruned = live
}

// scan runs fn under the store's read lock.
func (m *memory) scan(ctx context.Context, req scanQuery, fn func(string, []Event) error) error {
	m.mu.RLock()
	scattered := m.scattered()
	m.mu.RUnlock()
	if scattered {
		m.mu.Lock()
		if m.scattered() {
			m.compact()
		}
		m.mu.Unlock()
	}
	m.mu.RLock()
	defer m.mu.RUnlock()
	var want []bool // by name number; nil selects every name
	if req.Names != nil {
		want = make([]bool, len(m.names))
		for _, n := range req.Names {
			if i, ok := m.nameIndex[n]; ok {
				want[i] = true
			}
		}
	}
	from, to := req.From.UnixMicro(), req.To.UnixMicro()
	from = max(from, m.firstLiveDay()*dayMicros)
	var buf []Event
	n := 0
	for _, chunk := range m.slab.chunks {
		for j := range chunk {
			if err := m.scanUser(&chunk[j], from, to, want, req.withoutAmounts, &buf, fn); err != nil {
				return err
			}
			if n++; n%1024 == 0 {
				if err := ctx.Err(); err != nil {
					return err
				}
			}
		}
	}
	return nil
}

// scanUser hands fn u's events in [from, to) whose names want selects.
func (m *memory) scanUser(u *userLog, from, to int64, want []bool, withoutAmounts bool, buf *[]Event, fn func(string, []Event) error) error {
	if u.user == "" {
		return nil // a free slot
	}
	recs := u.recs
	i := sort.Search(len(recs), func(i int) bool { return recs[i].micros >= from })
	b := (*buf)[:0]
	for ; i < len(recs); i++ {
		r := &recs[i]
		if r.micros >= to {
			break
		}
		if want == nil || want[r.name] {
			b = append(b, m.text.event(r, u.user, m.names[r.name], withoutAmounts))
		}
	}
	*buf = b
	if len(b) == 0 {
		return nil
	}
	return fn(u.user, b)
}

// compactMoves is how many moved user logs (beyond a quarter of the
// users) make a scan compact the store first: a compaction copies every
// record once, which a scan of a store that size repays.
var compactMoves = 1024

func (m *memory) scattered() bool { return m.moved > len(m.users)/4+compactMoves }

// compact lays every user's records out in slab order in one shared
// array, and their strings in that order in a new arena, so that a scan
// reads memory from one end to the other; the strings of forgotten events
// are left behind. Each user keeps a full slice of the records (capacity
// equal to length), so the next event a user gets moves only that user's
// records out again. Strings handed out before point into the old arena,
// which stays as it was.
func (m *memory) compact() {
	var nRecs, nText int
	for _, chunk := range m.slab.chunks {
		for j := range chunk {
			for k := range chunk[j].recs {
				nText += len(m.text.bytes(&chunk[j].recs[k]))
			}
			nRecs += len(chunk[j].recs)
		}
	}
	recs := make([]record, 0, nRecs)
	text := make([]byte, 0, nText)
	for _, chunk := range m.slab.chunks {
		for j := range chunk {
			u := &chunk[j]
			if u.user == "" {
				continue
			}
			r0 := len(recs)
			for _, r := range u.recs {
				b := m.text.bytes(&r)
				r.text = uint64(len(text)) // chunk 0 of the new arena
				text = append(text, b...)
				recs = append(recs, r)
			}
			u.recs = recs[r0:len(recs):len(recs)]
		}
	}
	m.text = textArena{chunks: [][]byte{text}}
	m.moved = 0
}

// approxUniques counts exactly: a memory store has every event at hand.
func (m *memory) approxUniques(ctx context.Context, q UniquesQuery) (int64, error) {
	return exactUniques(ctx, m, ScanRequest{Names: []string{q.Name}, From: q.From, To: q.To})
}
