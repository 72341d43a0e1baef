package funnel

import (
	"hash/maphash"
	"sort"
	"unsafe"

	"github.com/shopspring/decimal"
)

// A Memory store keeps each user's events together: a userLog holds the
// user's records in time order and their strings in a byte arena of its
// own. Analysis reads users one after another, so it walks memory in
// order, and its cost per event stays the same however many events the
// store holds (when the records lived in per-day arenas in arrival order,
// every event was a cache miss once the store outgrew the caches).
//
// Records are fixed size and pointer-free and the strings are copied into
// the arena, so the garbage collector never has to look inside either: a
// store holding millions of events costs the collector two slices per
// user. Bytes written to an arena are never overwritten (a full arena is
// copied into a larger one, and pruning copies what it keeps), so the
// strings handed out by Scan may point straight into it.
//
// A memDay is what a UTC day still needs on its own: the set of its event
// IDs, keyed by a hash, for idempotent ingest.
type memDay struct {
	ids map[uint64]*userLog // hash of event ID → the user whose event has it
	// collided holds the IDs whose hash another ID of the day took first
	// (astronomically rare, but exactness does not depend on luck).
	collided map[string]struct{}
	n        int // events stored
}

// record is an event without its user (the log says whose it is) and with
// its name as an index into the store's name table. Its strings live in
// the user's text arena, one after another from text: ID, order ID,
// variant, channel, region, SKU and, for amounts whose coefficient needs
// more than 18 digits, the amount; lens gives their lengths (every one is
// at most keyspace.MaxIDLen bytes, or 50 for the amount). Other amounts
// are coef × 10^exp.
type record struct {
	micros int64
	coef   int64
	text   uint32 // offset in the user's text arena
	exp    int32
	name   uint16
	lens   [7]uint8
}

const amountText = 6 // index of the amount in lens

func newMemDay(sizeHint int) *memDay {
	return &memDay{ids: make(map[uint64]*userLog, sizeHint)}
}

// userLog is one user's events.
type userLog struct {
	user string   // the user's ID; "" for a free slot of the slab
	recs []record // ordered by micros, then ID
	text []byte
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
	s.chunks[last] = append(s.chunks[last], userLog{user: id})
	return &s.chunks[last][len(s.chunks[last])-1]
}

func (s *userSlab) release(u *userLog) {
	*u = userLog{}
	s.free = append(s.free, u)
}

// seen reports whether the day (of dayMicros length starting at start)
// holds an event of u with ID id.
func (u *userLog) seen(start int64, id string) bool {
	i := sort.Search(len(u.recs), func(i int) bool { return u.recs[i].micros >= start })
	for ; i < len(u.recs) && u.recs[i].micros < start+dayMicros; i++ {
		if u.id(&u.recs[i]) == id {
			return true
		}
	}
	return false
}

// add stores e (at micros, its name numbered) in time order, and reports
// whether the records moved to a new array (see memory.compact).
func (u *userLog) add(e *Event, micros int64, name uint16) (moved bool) {
	moved = len(u.recs) == cap(u.recs)
	r := record{micros: micros, name: name}
	fields := [...]string{e.ID, e.OrderID, e.Variant, e.Channel, e.Region, e.SKU, ""}
	if !e.Amount.IsZero() {
		if e.Amount.NumDigits() <= 18 {
			r.coef, r.exp = e.Amount.CoefficientInt64(), e.Amount.Exponent()
		} else {
			fields[amountText] = e.Amount.String()
		}
	}
	size := 0
	for i, f := range fields {
		r.lens[i] = uint8(len(f))
		size += len(f)
	}
	r.text = u.write(fields[:], size)
	n := len(u.recs)
	if n == 0 || micros > u.lastMicros || micros == u.lastMicros && e.ID > u.lastID {
		u.recs = append(u.recs, r)
		u.lastMicros, u.lastID = micros, e.ID
		return moved
	}
	// Out of order: insert where it belongs.
	i := sort.Search(n, func(i int) bool {
		rec := &u.recs[i]
		return micros < rec.micros || micros == rec.micros && e.ID < u.id(rec)
	})
	u.recs = append(u.recs, record{})
	copy(u.recs[i+1:], u.recs[i:n])
	u.recs[i] = r
	return moved
}

// write appends fields (size bytes in all) to the text arena and returns
// where they start. A full arena is copied into a new one twice its size:
// strings already handed out keep pointing into the old one.
func (u *userLog) write(fields []string, size int) uint32 {
	if len(u.text)+size > cap(u.text) {
		grown := make([]byte, len(u.text), max(2*cap(u.text), len(u.text)+size, 256))
		copy(grown, u.text)
		u.text = grown
	}
	at := uint32(len(u.text))
	for _, f := range fields {
		u.text = append(u.text, f...)
	}
	return at
}

// dropBefore forgets the events before micros (a prefix, in time order)
// and copies the rest into fresh slices.
func (u *userLog) dropBefore(micros int64) {
	n := sort.Search(len(u.recs), func(i int) bool { return u.recs[i].micros >= micros })
	if n == 0 {
		return
	}
	keep := append([]record(nil), u.recs[n:]...)
	size := 0
	for i := range keep {
		for _, l := range keep[i].lens {
			size += int(l)
		}
	}
	text := make([]byte, 0, size)
	for i := range keep {
		r := &keep[i]
		off, length := int(r.text), 0
		for _, l := range r.lens {
			length += int(l)
		}
		r.text = uint32(len(text))
		text = append(text, u.text[off:off+length]...)
	}
	u.recs, u.text = keep, text
}

// str returns the i-th string of r, pointing into the text arena.
func (u *userLog) str(r *record, i int) string {
	n := int(r.lens[i])
	if n == 0 {
		return ""
	}
	off := int(r.text)
	for _, l := range r.lens[:i] {
		off += int(l)
	}
	return unsafe.String(&u.text[off], n)
}

func (u *userLog) id(r *record) string { return u.str(r, 0) }

// event rebuilds the Event a record holds, with its amount unless
// withoutAmount.
func (u *userLog) event(r *record, userID, name string, withoutAmount bool) Event {
	var f [7]string
	off := int(r.text)
	for i, l := range r.lens {
		if n := int(l); n > 0 {
			f[i] = unsafe.String(&u.text[off], n)
			off += n
		}
	}
	e := Event{ID: f[0], UserID: userID, Name: name, Time: microsTime(r.micros),
		OrderID: f[1], Variant: f[2], Channel: f[3], Region: f[4], SKU: f[5]}
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
func (d *memDay) addID(seed maphash.Seed, id string, dayStart int64, u *userLog) bool {
	h := maphash.String(seed, id)
	owner, taken := d.ids[h]
	if !taken {
		d.ids[h] = u
		return true
	}
	if owner.seen(dayStart, id) {
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
