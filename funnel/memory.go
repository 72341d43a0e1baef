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
	mu        sync.RWMutex
	days      map[int64]*memDay
	users     map[string]*userLog
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

// ref locates an event: its day and position in the day.
type ref struct {
	day int32
	pos uint32
}

type userLog struct {
	refs []ref // ordered by the events' Time, then ID
	// The latest event's time and ID, so the usual in-order append
	// compares without looking the record up.
	lastMicros int64
	lastID     string
}

// NewMemory returns an empty store in process memory. Each UTC day keeps
// its events in arrival order in a pointer-free arena (so the garbage
// collector skips it); each user keeps references to their events in time
// order. A day is dropped whole once its retention has passed. Time comes
// from opts.Now.
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

// resolver finds the records refs point to, remembering the last day
// looked up: a user's refs are in time order, so runs share a day.
type resolver struct {
	days map[int64]*memDay
	day  int32
	d    *memDay
}

func (rv *resolver) resolve(r ref) (*memDay, *record) {
	if rv.d == nil || r.day != rv.day {
		rv.day, rv.d = r.day, rv.days[int64(r.day)]
	}
	return rv.d, rv.d.record(r.pos)
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
		pos, added := day.add(m.seed, e, micros, nums[i])
		if !added {
			res.Duplicates++
			continue
		}
		m.daySize = max(m.daySize, day.n)
		u := m.users[e.UserID]
		if u == nil {
			u = &userLog{}
			m.users[e.UserID] = u
		}
		m.insert(u, ref{day: int32(dayNum), pos: pos}, micros, e.ID)
		res.Stored++
	}
	return res, nil
}

// insert adds r (an event at micros with ID id) to u in order; events
// mostly arrive in order, so it usually goes at the end.
func (m *memory) insert(u *userLog, r ref, micros int64, id string) {
	n := len(u.refs)
	if n == 0 || micros > u.lastMicros || micros == u.lastMicros && id > u.lastID {
		u.refs = append(u.refs, r)
		u.lastMicros, u.lastID = micros, id
		return
	}
	rv := resolver{days: m.days}
	i := sort.Search(n, func(i int) bool {
		d, rec := rv.resolve(u.refs[i])
		return micros < rec.micros || micros == rec.micros && id < d.id(rec)
	})
	u.refs = append(u.refs, ref{})
	copy(u.refs[i+1:], u.refs[i:n])
	u.refs[i] = r
}

// prune drops every day before live.
func (m *memory) prune(live int64) {
	for d := range m.days {
		if d < live {
			delete(m.days, d)
		}
	}
	for id, u := range m.users {
		// Refs are in time order, so the dropped days are a prefix.
		n := sort.Search(len(u.refs), func(i int) bool { return int64(u.refs[i].day) >= live })
		if n == len(u.refs) {
			delete(m.users, id)
			continue
		}
		if n > 0 {
			u.refs = append(u.refs[:0:0], u.refs[n:]...)
		}
	}
	m.pruned = live
}

// scan runs fn under the store's read lock.
func (m *memory) scan(ctx context.Context, req scanQuery, fn func(string, []Event) error) error {
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
	rv := resolver{days: m.days}
	n := 0
	for user, u := range m.users {
		if n++; n%1024 == 0 {
			if err := ctx.Err(); err != nil {
				return err
			}
		}
		refs := u.refs
		i := sort.Search(len(refs), func(i int) bool {
			_, r := rv.resolve(refs[i])
			return r.micros >= from
		})
		buf = buf[:0]
		for ; i < len(refs); i++ {
			d, r := rv.resolve(refs[i])
			if r.micros >= to {
				break
			}
			if want == nil || want[r.name] {
				buf = append(buf, d.event(r, user, m.names[r.name], req.withoutAmounts))
			}
		}
		if len(buf) == 0 {
			continue
		}
		if err := fn(user, buf); err != nil {
			return err
		}
	}
	return nil
}

// approxUniques counts exactly: a memory store has every event at hand.
func (m *memory) approxUniques(ctx context.Context, q UniquesQuery) (int64, error) {
	return exactUniques(ctx, m, ScanRequest{Names: []string{q.Name}, From: q.From, To: q.To})
}
