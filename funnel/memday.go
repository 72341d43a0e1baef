package funnel

import (
	"hash/maphash"
	"unsafe"

	"github.com/shopspring/decimal"
)

// A memDay holds one UTC day of a Memory store's events, laid out so that
// the garbage collector never has to look inside it: records are fixed
// size and pointer-free, their strings are copied into a byte arena, and
// the ID set is keyed by a hash. A store holding millions of events then
// costs the collector almost nothing, which is what makes ingest fast.
//
// Nothing written to the arenas is ever overwritten or moved (full chunks
// are left as they are and new ones started), so the strings handed out
// by Scan may point straight into the text arena.
type memDay struct {
	records [][]record // chunks of 1<<recordBits
	texts   [][]byte   // chunks growing from minTextChunk to maxTextChunk bytes
	n       int
	ids     map[uint64]uint32 // hash of event ID → position of its record
	// collided holds the IDs whose hash another ID of the day took first
	// (astronomically rare, but exactness does not depend on luck).
	collided map[string]struct{}
}

// Chunk sizes: small enough that a quiet day costs little (a store keeps
// Retention's worth of days), large enough that a busy one is a few
// hundred allocations.
const (
	recordBits   = 10
	minTextChunk = 16 << 10
	maxTextChunk = 1 << 20
)

// record is an event without its user (the user's log says whose it is)
// and with its name as an index into the store's name table. Other
// strings live in the day's text arena, one after another from text: ID,
// order ID, variant, channel, region, SKU and, for amounts whose
// coefficient needs more than 18 digits, the amount; lens gives their
// lengths (every one is at most keyspace.MaxIDLen bytes, or 50 for the
// amount). Other amounts are coef × 10^exp.
type record struct {
	micros int64
	coef   int64
	text   uint64 // chunk << 32 | offset
	exp    int32
	name   uint16
	lens   [7]uint8
}

const amountText = 6 // index of the amount in lens

func newMemDay(sizeHint int) *memDay {
	return &memDay{ids: make(map[uint64]uint32, sizeHint)}
}

// add stores e unless its ID is already in the day, and returns its
// position and whether it was added.
func (d *memDay) add(seed maphash.Seed, e *Event, micros int64, name uint16) (uint32, bool) {
	h := maphash.String(seed, e.ID)
	if pos, taken := d.ids[h]; taken {
		if d.id(d.record(pos)) == e.ID {
			return 0, false
		}
		if _, dup := d.collided[e.ID]; dup {
			return 0, false
		}
		if d.collided == nil {
			d.collided = make(map[string]struct{})
		}
		d.collided[e.ID] = struct{}{}
	}
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
	r.text = d.write(fields[:], size)
	pos := uint32(d.n)
	if d.n&(1<<recordBits-1) == 0 {
		d.records = append(d.records, make([]record, 0, 1<<recordBits))
	}
	c := &d.records[d.n>>recordBits]
	*c = append(*c, r)
	d.n++
	if _, taken := d.ids[h]; !taken {
		d.ids[h] = pos
	}
	return pos, true
}

// write appends fields (size bytes in all) to the text arena, within one
// chunk, and returns where they start.
func (d *memDay) write(fields []string, size int) uint64 {
	last := len(d.texts) - 1
	if last < 0 || len(d.texts[last])+size > cap(d.texts[last]) {
		next := minTextChunk
		if last >= 0 {
			next = min(2*cap(d.texts[last]), maxTextChunk)
		}
		d.texts = append(d.texts, make([]byte, 0, next))
		last++
	}
	t := &d.texts[last]
	at := uint64(last)<<32 | uint64(len(*t))
	for _, f := range fields {
		*t = append(*t, f...)
	}
	return at
}

func (d *memDay) record(pos uint32) *record {
	return &d.records[pos>>recordBits][pos&(1<<recordBits-1)]
}

// str returns the i-th string of r, pointing into the text arena.
func (d *memDay) str(r *record, i int) string {
	n := int(r.lens[i])
	if n == 0 {
		return ""
	}
	off := int(uint32(r.text))
	for _, l := range r.lens[:i] {
		off += int(l)
	}
	b := d.texts[r.text>>32][off : off+n]
	return unsafe.String(unsafe.SliceData(b), n)
}

func (d *memDay) id(r *record) string { return d.str(r, 0) }

// event rebuilds the Event a record holds, with its amount unless
// withoutAmount.
func (d *memDay) event(r *record, userID, name string, withoutAmount bool) Event {
	var f [7]string
	text := d.texts[r.text>>32]
	off := int(uint32(r.text))
	for i, l := range r.lens {
		if n := int(l); n > 0 {
			f[i] = unsafe.String(&text[off], n)
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
