package inventory

// resTable holds one shard's reservation records in fixed-size chunks,
// found through a map from a hash of their IDs. Compared with a map from
// ID to a record allocated per reservation, a reservation costs no
// allocation of its own (a chunk holds many and freed slots are reused,
// and chunks, unlike one growing slice, are never copied), and the map's
// keys and values hold no pointers, so the garbage collector does not walk
// it: with millions of records held, both were a good part of a
// reservation's cost. Two IDs with the same hash are chained through next.
type resTable struct {
	index map[uint32]uint32 // indexKey(ID hash) → 1 + slot of the newest record with that key
	recs  []*[chunkSize]memReservation
	ids   []*[chunkSize]string // each slot's ID, "" when the slot is free
	slots uint32               // slots ever used
	free  []uint32
	// multi holds the lines of records with more than one, keeping the
	// common single-line record small.
	multi map[uint32][]memLine
}

// indexKey is the index's key for an ID hash: its high half, since the
// low bits choose the shard. Four bytes rather than eight halve the
// index's memory (a map slot of 8 bytes, not 16 with padding); most of the
// cost of holding millions of records is first touching the memory they
// take, so that made a reservation about 4% cheaper. IDs whose keys
// collide (about one in 2^32/records) share a chain like equal hashes.
func indexKey(h uint64) uint32 { return uint32(h >> 32) }

// chunkSize is how many records a chunk holds: 256 keeps an idle shard's
// first chunk at 16 KB.
const (
	chunkBits = 8
	chunkSize = 1 << chunkBits
)

// rec returns the record in slot. The pointer stays valid: chunks never
// move.
func (t *resTable) rec(slot uint32) *memReservation {
	return &t.recs[slot>>chunkBits][slot&(chunkSize-1)]
}

// id returns the ID of the record in slot.
func (t *resTable) id(slot uint32) string { return t.ids[slot>>chunkBits][slot&(chunkSize-1)] }

// memReservation is a reservation record. Times are Unix nanoseconds.
type memReservation struct {
	next uint32 // 1 + slot of the next record with the same hash, 0 for none
	// gen counts the slot's occupants, so that heap entries left by an
	// earlier occupant are recognised as stale.
	gen      uint32
	state    State
	deadline int64
	forget   int64      // when a finished record may be dropped
	one      [1]memLine // the line, when there is one; else see resTable.multi
}

// memLine is a reservation line: the item's cell and the quantity.
type memLine struct {
	cell *cell
	qty  int64
}

// lines returns the lines of the record in slot, without allocating.
func (t *resTable) lines(slot uint32) []memLine {
	if r := t.rec(slot); r.one[0].cell != nil {
		return r.one[:]
	}
	return t.multi[slot]
}

// find returns the slot of the record with ID id, whose hash is h, and the
// head of h's chain (to pass to add when there is none).
func (t *resTable) find(h uint64, id string) (slot uint32, ok bool, head uint32) {
	head = t.index[indexKey(h)]
	for link := head; link != 0; link = t.rec(link - 1).next {
		if t.id(link-1) == id {
			return link - 1, true, head
		}
	}
	return 0, false, head
}

// addOne stores r with its one line for id, as add does.
func (t *resTable) addOne(h uint64, id string, head uint32, r memReservation, line memLine) uint32 {
	r.one[0] = line
	return t.add(h, id, head, r, nil)
}

// add stores r with lines for id, whose hash is h and chain head head
// (from find), and returns its slot. A record with one line keeps it in
// r.one (see addOne) and passes no lines.
func (t *resTable) add(h uint64, id string, head uint32, r memReservation, lines []memLine) uint32 {
	r.next = head
	if len(lines) == 1 {
		r.one[0] = lines[0]
	}
	var slot uint32
	if n := len(t.free); n > 0 {
		slot = t.free[n-1]
		t.free = t.free[:n-1]
		r.gen = t.rec(slot).gen
	} else {
		slot = t.slots
		t.slots++
		if slot>>chunkBits == uint32(len(t.recs)) {
			t.recs = append(t.recs, new([chunkSize]memReservation))
			t.ids = append(t.ids, new([chunkSize]string))
		}
	}
	*t.rec(slot) = r
	t.ids[slot>>chunkBits][slot&(chunkSize-1)] = id
	if len(lines) > 1 {
		if t.multi == nil {
			t.multi = make(map[uint32][]memLine)
		}
		t.multi[slot] = lines
	}
	if t.index == nil {
		t.index = make(map[uint32]uint32)
	}
	t.index[indexKey(h)] = slot + 1
	return slot
}

// remove frees slot; h is the hash of its ID.
func (t *resTable) remove(slot uint32, h uint64) {
	r := t.rec(slot)
	if head := t.index[indexKey(h)]; head == slot+1 {
		if r.next == 0 {
			delete(t.index, indexKey(h))
		} else {
			t.index[indexKey(h)] = r.next
		}
	} else {
		for link := head; link != 0; link = t.rec(link - 1).next {
			if p := t.rec(link - 1); p.next == slot+1 {
				p.next = r.next
				break
			}
		}
	}
	*r = memReservation{gen: r.gen + 1}
	t.ids[slot>>chunkBits][slot&(chunkSize-1)] = ""
	delete(t.multi, slot)
	t.free = append(t.free, slot)
}

// timed is a heap entry: something due at a time.
type timed interface{ due() int64 }

// slotEntry is a reservation slot due at a time: its deadline in the
// expiry heap, its forget time in the retired heap. It is stale when the
// slot's generation moved on or the record's time changed.
type slotEntry struct {
	at   int64 // Unix nanoseconds
	slot uint32
	gen  uint32
}

func (e slotEntry) due() int64 { return e.at }

// adjustmentEntry is an adjustment record's forget time.
type adjustmentEntry struct {
	at int64 // Unix nanoseconds
	id string
}

func (e adjustmentEntry) due() int64 { return e.at }

// dueQueue holds entries by due time. Entries almost always arrive in due
// order (a deadline is now plus a TTL that rarely changes, a forget time
// now plus the retention), so it keeps them in a run: a FIFO of fixed
// chunks that a push appends to without comparing or moving anything. An
// entry due before the run's last goes to a heap beside it, and a pop
// takes the earlier of the two heads. With millions of reservations held,
// a single heap's growing slice took a seventh of a reservation's CPU in
// a profile: every doubling copies the whole heap into memory touched for
// the first time.
type dueQueue[E timed] struct {
	run  [][]E // chunks of the in-order run; run[0][head:] is its front
	head int
	late minHeap[E] // entries that arrived out of order
}

// runChunk is how many entries a run chunk holds (16 KB of slotEntry).
const runChunk = 1024

func (q *dueQueue[E]) push(e E) {
	n := len(q.run)
	if n > 0 {
		last := q.run[n-1]
		if e.due() < last[len(last)-1].due() {
			q.late.push(e)
			return
		}
		if len(last) < runChunk {
			q.run[n-1] = append(last, e)
			return
		}
	}
	c := make([]E, 1, runChunk)
	c[0] = e
	q.run = append(q.run, c)
}

// front returns the run's earliest entry, if the run has one.
func (q *dueQueue[E]) front() (E, bool) {
	if len(q.run) == 0 {
		var zero E
		return zero, false
	}
	return q.run[0][q.head], true
}

// headDue reports whether the queue holds an entry due at or before now.
func (q *dueQueue[E]) headDue(now int64) bool {
	if e, ok := q.front(); ok && e.due() <= now {
		return true
	}
	return q.late.headDue(now)
}

// pop removes and returns the earliest entry. The queue must not be empty.
func (q *dueQueue[E]) pop() E {
	e, ok := q.front()
	if !ok || (len(q.late) > 0 && q.late[0].due() < e.due()) {
		return q.late.pop()
	}
	var zero E
	first := q.run[0]
	first[q.head] = zero // let the collector have what the entry points to
	q.head++
	if q.head == len(first) {
		q.run[0] = nil
		q.run = q.run[1:]
		q.head = 0
		if len(q.run) == 0 {
			q.run = nil
		}
	}
	return e
}

// len returns how many entries the queue holds.
func (q *dueQueue[E]) len() int {
	n := len(q.late)
	for i, c := range q.run {
		n += len(c)
		if i == 0 {
			n -= q.head
		}
	}
	return n
}

// minHeap is a binary min-heap on due. It is written out rather than built
// on container/heap to avoid boxing every entry in an interface.
type minHeap[E timed] []E

func (h *minHeap[E]) push(e E) {
	*h = append(*h, e)
	a := *h
	for i := len(a) - 1; i > 0; {
		p := (i - 1) / 2
		if a[p].due() <= a[i].due() {
			break
		}
		a[p], a[i] = a[i], a[p]
		i = p
	}
}

// headDue reports whether the heap holds an entry due at or before now.
func (h minHeap[E]) headDue(now int64) bool { return len(h) > 0 && h[0].due() <= now }

func (h *minHeap[E]) pop() E {
	a := *h
	top := a[0]
	last := len(a) - 1
	a[0] = a[last]
	var zero E
	a[last] = zero
	a = a[:last]
	for i := 0; ; {
		l, r, m := 2*i+1, 2*i+2, i
		if l < len(a) && a[l].due() < a[m].due() {
			m = l
		}
		if r < len(a) && a[r].due() < a[m].due() {
			m = r
		}
		if m == i {
			break
		}
		a[i], a[m] = a[m], a[i]
		i = m
	}
	*h = a
	return top
}
