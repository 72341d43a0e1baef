package inventory

import (
	"slices"
	"sync"
)

// lineCacheSize bounds a lineCache: about 200 bytes an entry, so 64 Ki
// entries are some 13 MB at most. A shop commits most reservations within
// minutes of making them, far fewer than this many later.
const lineCacheSize = 1 << 16

// lineCache remembers the lines of recent reservations by ID, at most
// lineCacheSize, forgetting the oldest first. It is only a hint: a miss
// costs a read of the record, and a stale entry is caught by the script.
type lineCache struct {
	mu    sync.Mutex
	byID  map[string]cachedLines
	order []string // IDs in insertion order; a ring of lineCacheSize
	next  int      // where the next ID goes in order
}

type cachedLines struct {
	enc   string
	lines []Line
	keys  []string // each line's stock key, when the caller had them
}

// put remembers id's encoded lines and, if not nil, each line's stock
// key. keys is kept, not copied: the caller must not change it.
func (c *lineCache) put(id, enc string, lines []Line, keys []string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.byID == nil {
		c.byID = make(map[string]cachedLines)
		c.order = make([]string, lineCacheSize)
	}
	if _, ok := c.byID[id]; ok {
		return
	}
	if old := c.order[c.next]; old != "" {
		delete(c.byID, old)
	}
	c.order[c.next] = id
	c.next = (c.next + 1) % lineCacheSize
	// A copy: the caller's Reservation shares lines, and a caller that
	// changed them must not change the quantities a transition applies.
	c.byID[id] = cachedLines{enc: enc, lines: slices.Clone(lines), keys: keys}
}

// get returns what put remembered of id. The lines and keys are shared:
// read them, never change them or hand them to a caller.
func (c *lineCache) get(id string) (enc string, lines []Line, keys []string, ok bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	e, ok := c.byID[id]
	return e.enc, e.lines, e.keys, ok
}

// drop forgets id. Its slot in the ring stays until overwritten; a later
// put of the same ID then shares it, which only makes it forgotten early.
func (c *lineCache) drop(id string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	delete(c.byID, id)
}
