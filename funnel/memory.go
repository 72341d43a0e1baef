package funnel

import (
	"context"
	"math"
	"sort"
	"sync"
	"time"

	"github.com/shopspring/decimal"
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
}

func (o *Options) retention() int64 {
	if o.Retention <= 0 {
		return int64(DefaultRetention / time.Microsecond)
	}
	return int64(o.Retention / time.Microsecond)
}

// Memory is a Store in process memory. Each UTC day keeps its events in
// arrival order, in fixed-size chunks that are never copied, and its own
// set of event IDs; each user keeps references to their events in time
// order. A day is dropped whole once its retention has passed.
type Memory struct {
	mu        sync.RWMutex
	days      map[int64]*memDay
	users     map[string]*userLog
	retention int64 // microseconds
	now       func() time.Time
	pruned    int64 // days before this one have been dropped
}

var _ Store = (*Memory)(nil)

// chunkBits sizes a day's event chunks (4,096 events).
const chunkBits = 12

type memDay struct {
	ids    map[string]struct{}
	chunks [][]record
	n      int
}

// record is an Event as Memory keeps it: the user is the log's, the time
// is microseconds, which makes it smaller than an Event and quicker to
// write and to scan for the garbage collector.
type record struct {
	micros                                 int64
	id, name                               string
	amount                                 decimal.Decimal
	orderID, variant, channel, region, sku string
}

func (r *record) event(userID string) Event {
	return Event{ID: r.id, UserID: userID, Name: r.name, Time: time.UnixMicro(r.micros).UTC(),
		Amount: r.amount, OrderID: r.orderID, Variant: r.variant, Channel: r.channel,
		Region: r.region, SKU: r.sku}
}

func (r *record) less(b *record) bool {
	if r.micros != b.micros {
		return r.micros < b.micros
	}
	return r.id < b.id
}

func (d *memDay) add(e *Event, micros int64) (uint32, *record) {
	pos := d.n
	if pos&(1<<chunkBits-1) == 0 {
		d.chunks = append(d.chunks, make([]record, 0, 1<<chunkBits))
	}
	c := &d.chunks[pos>>chunkBits]
	*c = append(*c, record{micros: micros, id: e.ID, name: e.Name, amount: e.Amount,
		orderID: e.OrderID, variant: e.Variant, channel: e.Channel, region: e.Region, sku: e.SKU})
	d.n++
	return uint32(pos), &(*c)[len(*c)-1]
}

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

// NewMemory returns an empty Memory store.
func NewMemory(opts Options) *Memory {
	now := opts.Now
	if now == nil {
		now = time.Now
	}
	return &Memory{
		days:      make(map[int64]*memDay),
		users:     make(map[string]*userLog),
		retention: opts.retention(),
		now:       now,
	}
}

// firstLiveDay is the earliest UTC day whose events are still kept.
func (m *Memory) firstLiveDay() int64 {
	return dayOf(m.now().UnixMicro() - m.retention)
}

// resolver finds the records refs point to, remembering the last day
// looked up: a user's refs are in time order, so runs share a day.
type resolver struct {
	days map[int64]*memDay
	day  int32
	d    *memDay
}

func (rv *resolver) record(r ref) *record {
	if rv.d == nil || r.day != rv.day {
		rv.day, rv.d = r.day, rv.days[int64(r.day)]
	}
	return &rv.d.chunks[r.pos>>chunkBits][r.pos&(1<<chunkBits-1)]
}

// Ingest implements Store.
func (m *Memory) Ingest(ctx context.Context, events []Event) (Ingested, error) {
	if err := checkEvents(events); err != nil {
		return Ingested{}, err
	}
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
				day = &memDay{ids: make(map[string]struct{})}
				m.days[d] = day
			}
		}
		// One map operation decides and records: the set only grows if
		// the ID is new.
		before := len(day.ids)
		if day.ids[e.ID] = struct{}{}; len(day.ids) == before {
			res.Duplicates++
			continue
		}
		u := m.users[e.UserID]
		if u == nil {
			u = &userLog{}
			m.users[e.UserID] = u
		}
		pos, rec := day.add(e, micros)
		m.insert(u, ref{day: int32(dayNum), pos: pos}, rec)
		res.Stored++
	}
	return res, nil
}

// insert adds r (the record rec) to u in order; events mostly arrive in
// order, so it usually goes at the end.
func (m *Memory) insert(u *userLog, r ref, rec *record) {
	n := len(u.refs)
	if n == 0 || rec.micros > u.lastMicros || rec.micros == u.lastMicros && rec.id > u.lastID {
		u.refs = append(u.refs, r)
		u.lastMicros, u.lastID = rec.micros, rec.id
		return
	}
	rv := resolver{days: m.days}
	i := sort.Search(n, func(i int) bool { return rec.less(rv.record(u.refs[i])) })
	u.refs = append(u.refs, ref{})
	copy(u.refs[i+1:], u.refs[i:n])
	u.refs[i] = r
}

// prune drops every day before live.
func (m *Memory) prune(live int64) {
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

// Scan implements Store. fn runs under the store's read lock.
func (m *Memory) Scan(ctx context.Context, req ScanRequest, fn func(string, []Event) error) error {
	if err := checkScan(&req); err != nil {
		return err
	}
	var names map[string]bool
	if req.Names != nil {
		names = make(map[string]bool, len(req.Names))
		for _, n := range req.Names {
			names[n] = true
		}
	}
	m.mu.RLock()
	defer m.mu.RUnlock()
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
		i := sort.Search(len(refs), func(i int) bool { return rv.record(refs[i]).micros >= from })
		buf = buf[:0]
		for ; i < len(refs); i++ {
			r := rv.record(refs[i])
			if r.micros >= to {
				break
			}
			if names == nil || names[r.name] {
				buf = append(buf, r.event(user))
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

// Uniques implements Store; Memory always counts exactly.
func (m *Memory) Uniques(ctx context.Context, name string, from, to time.Time, _ bool) (int64, error) {
	var n int64
	err := m.Scan(ctx, ScanRequest{Names: []string{name}, From: from, To: to}, func(string, []Event) error {
		n++
		return nil
	})
	return n, err
}
