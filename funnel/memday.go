package funnel

import (
	"hash/maphash"
	"sort"
	"unsafe"

	"github.com/shopspring/decimal"
)

// A Memory store keeps each user's events together: a userLog holds the
// user's records in time order; their strings go to the store's text
// arena in arrival order, which compaction (memory.compact) lays out
// again in user order. Analysis reads users one after another, so once
// compacted it walks memory in order, and its cost per event stays the
// same however many events the store holds (when the records lived in
// per-day arenas in arrival order, every event was a cache miss once the
// store outgrew the caches).
//
// Records are fixed size and pointer-free and the strings are copied into
// the arena, so the garbage collector never has to look inside either: a
// store holding millions of events costs the collector one slice per
// user. Bytes written to an arena are never overwritten (full chunks are
// left as they are and new ones started; compaction writes a new arena),
// so the strings handed out by Scan may point straight into it.
//
// A memDay is what a UTC day still needs on its own: the set of its event
// IDs, keyed by a hash, for idempotent ingest.
type memDay struct {
	// ids maps the hash of each event ID to the slab slot of the user
	// whose event has it: no pointers, so the collector skips the map.
	// A slot is reused only once its user is forgotten, and that user's
	// days are forgotten first.
	ids map[uint64]uint32
	// collided holds the IDs whose hash another ID of the day took first
	// (astronomically rare, but exactness does not depend on luck).
	collided map[string]struct{}
	n        int // events stored
}

// record is an event without its user (the log says whose it is) and with
// its name as an index into the store's name table. Its strings live in
// the store's text arena, one after another from text: ID, order ID,
// variant, channel, region, SKU and, for amounts whose coefficient needs
// more than 18 digits, the amount; lens gives their lengths (every one is
// at most keyspace.MaxIDLen bytes, or 50 for the amount), then the
// encoded properties, plen bytes (at most 16 × 242). Other amounts are
// coef × 10^exp.
type record struct {
	micros int64
	coef   int64
	text   uint64 // where the strings start in the text arena: chunk << 32 | offset
	exp    int32
	name   uint16
	lens   [7]uint8
	plen   uint16
}

const amountText = 6 // index of the amount in lens

func newMemDay(sizeHint int) *memDay {
	return &memDay{ids: make(map[uint64]uint32, sizeHint)}
}

// userLog is one user's events.
type userLog struct {
	user string   // the user's ID; "" for a free slot of the slab
	slot uint32   // the log's place in the slab
	recs []record // ordered by micros, then ID
	// The latest event's time and ID, so the usual in-order append
	// compares without reading the record.
	lastMicros int64
	lastID     string
}

// userSlab allocates userLogs in chunks that never move, so analysis
// walks them in address order (a map of pointers would visit them at
// random), and pointers to them (the day's ID sets hold some) stay valid.
// A forgotten user's slot is reused.
type userSlab struct {
	chunks [][]userLog
	free   []*userLog
}

const slabChunk = 1024

func (s *userSlab) alloc(id string) *userLog {
	if n := len(s.free); n > 0 {
		u := s.free[n-1]
		s.free = s.free[:n-1]
		u.user = id
		return u
	}
	last := len(s.chunks) - 1
	if last < 0 || len(s.chunks[last]) == slabChunk {
		s.chunks = append(s.chunks, make([]userLog, 0, slabChunk))
		last++
	}
	slot := uint32(last*slabChunk + len(s.chunks[last]))
	s.chunks[last] = append(s.chunks[last], userLog{user: id, slot: slot})
	return &s.chunks[last][len(s.chunks[last])-1]
}

func (s *userSlab) at(slot uint32) *userLog {
	return &s.chunks[slot/slabChunk][slot%slabChunk]
}

func (s *userSlab) release(u *userLog) {
	*u = userLog{slot: u.slot}
	s.free = append(s.free, u)
}

// seen reports whether the day (of dayMicros length starting at start)
// holds an event of u with ID id.
func (u *userLog) seen(start int64, id string, a *textArena) bool {
	i := sort.Search(len(u.recs), func(i int) bool { return u.recs[i].micros >= start })
	for ; i < len(u.recs) && u.recs[i].micros < start+dayMicros; i++ {
		if a.str(&u.recs[i], 0) == id {
			return true
		}
	}
	return false
}

// add stores e (at micros, its name numbered) in time order, and reports
// whether the records moved to a new array (see memory.compact).
func (u *userLog) add(e *Event, micros int64, name uint16, a *textArena) (moved bool) {
	moved = len(u.recs) == cap(u.recs)
	r := record{micros: micros, name: name}
	fields := [...]string{e.ID, e.OrderID, e.Variant, e.Channel, e.Region, e.SKU, "", encodeProps(e.Props)}
	if !e.Amount.IsZero() {
		if e.Amount.NumDigits() <= 18 {
			r.coef, r.exp = e.Amount.CoefficientInt64(), e.Amount.Exponent()
		} else {
			fields[amountText] = e.Amount.String()
		}
	}
	size := 0
	for i, f := range fields[:len(r.lens)] {
		r.lens[i] = uint8(len(f))
		size += len(f)
	}
	r.plen = uint16(len(fields[len(r.lens)]))
	size += int(r.plen)
	r.text = a.write(fields[:], size)
	n := len(u.recs)
	if cap(u.recs) == 0 {
		u.recs = make([]record, 0, 16) // most users have a few events: skip the smallest growth steps
	}
	if n == 0 || micros > u.lastMicros || micros == u.lastMicros && e.ID > u.lastID {
		u.recs = append(u.recs, r)
		u.lastMicros, u.lastID = micros, e.ID
		return moved
	}
	// Out of order: insert where it belongs.
	i := sort.Search(n, func(i int) bool {
		rec := &u.recs[i]
		return micros < rec.micros || micros == rec.micros && e.ID < a.str(rec, 0)
	})
	u.recs = append(u.recs, record{})
	copy(u.recs[i+1:], u.recs[i:n])
	u.recs[i] = r
	return moved
}

// dropBefore forgets the events before micros (a prefix, in time order).
// Their strings stay in the arena until the next compaction.
func (u *userLog) dropBefore(micros int64) {
	n := sort.Search(len(u.recs), func(i int) bool { return u.recs[i].micros >= micros })
	if n > 0 {
		u.recs = append([]record(nil), u.recs[n:]...)
	}
}

// textArena holds the strings of a store's records in chunks that never
// move once written.
type textArena struct {
	chunks [][]byte
}

// Chunk sizes: small enough that a quiet store costs little, large enough
// that a busy one is a few hundred allocations.
const (
	minTextChunk = 16 << 10
	maxTextChunk = 1 << 20
)

// write appends fields (size bytes in all) within one chunk and returns
// where they start.
func (a *textArena) write(fields []string, size int) uint64 {
	last := len(a.chunks) - 1
	if last < 0 || len(a.chunks[last])+size > cap(a.chunks[last]) {
		next := minTextChunk
		if last >= 0 {
			next = min(2*cap(a.chunks[last]), maxTextChunk)
		}
		a.chunks = append(a.chunks, make([]byte, 0, max(next, size)))
		last++
	}
	t := &a.chunks[last]
	at := uint64(last)<<32 | uint64(len(*t))
	for _, f := range fields {
		*t = append(*t, f...)
	}
	return at
}

// bytes returns r's strings, all of them, as one slice.
func (a *textArena) bytes(r *record) []byte {
	n := int(r.plen)
	for _, l := range r.lens {
		n += int(l)
	}
	off := int(uint32(r.text))
	return a.chunks[r.text>>32][off : off+n]
}

// str returns the i-th string of r, pointing into the arena.
func (a *textArena) str(r *record, i int) string {
	n := int(r.lens[i])
	if n == 0 {
		return ""
	}
	off := int(uint32(r.text))
	for _, l := range r.lens[:i] {
		off += int(l)
	}
	return unsafe.String(&a.chunks[r.text>>32][off], n)
}

// event rebuilds the Event a record holds, with its amount unless
// withoutAmount.
func (a *textArena) event(r *record, userID, name string, withoutAmount bool) Event {
	var f [7]string
	text := a.chunks[r.text>>32]
	off := int(uint32(r.text))
	for i, l := range r.lens {
		if n := int(l); n > 0 {
			f[i] = unsafe.String(&text[off], n)
			off += n
		}
	}
	e := Event{ID: f[0], UserID: userID, Name: name, Time: microsTime(r.micros),
		OrderID: f[1], Variant: f[2], Channel: f[3], Region: f[4], SKU: f[5]}
	if r.plen > 0 {
		e.Props = decodeProps(unsafe.String(&text[off], int(r.plen)))
	}
	switch {
	case withoutAmount:
	case f[amountText] != "":
		e.Amount = decimal.RequireFromString(f[amountText]) // written by Decimal.String
	case r.coef != 0:
		e.Amount = decimal.New(r.coef, r.exp)
	}
	return e
}

// addID records id (hashed with seed) as u's event of the day; it
// reports false if the day already has an event with that ID.
func (d *memDay) addID(seed maphash.Seed, id string, dayStart int64, u *userLog, slab *userSlab, a *textArena) bool {
	h := maphash.String(seed, id)
	owner, taken := d.ids[h]
	if !taken {
		d.ids[h] = u.slot
		return true
	}
	if slab.at(owner).seen(dayStart, id, a) {
		return false
	}
	if _, dup := d.collided[id]; dup {
		return false
	}
	if d.collided == nil {
		d.collided = make(map[string]struct{})
	}
	d.collided[id] = struct{}{}
	return true
}
