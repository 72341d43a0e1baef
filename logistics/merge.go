package logistics

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
	"unicode"

	"github.com/shopkit/shopkit/internal/keyspace"
)

// Merge store errors.
var (
	// ErrNotFound means the order is in no merge group (never added,
	// removed, or its group outlived MergeOptions.Retention).
	ErrNotFound = errors.New("logistics: order not in any merge group")
	// ErrIDConflict means an order already in a group was added again with
	// another weight; nothing changed. Remove it first to change it.
	ErrIDConflict = errors.New("logistics: order ID already merged with another weight")
	// ErrClosed is returned by calls on a merge store after Close.
	ErrClosed = errors.New("logistics: merge store closed")
	// ErrNotReplicated means a Redis write was applied by the master but
	// fewer than MergeOptions.WaitReplicas replicas acknowledged it within
	// WaitTimeout, so a failover now could lose it: the outcome is
	// unknown. Repeat the call to learn it.
	ErrNotReplicated = errors.New("logistics: write not acknowledged by enough replicas; outcome unknown, repeat the call")
)

// Recipient is who a shipment goes to.
type Recipient struct {
	Name, Phone, Address string
}

// abbreviations maps common address words to the form carriers print, so
// "12 Main Street" and "12 main st." match.
var abbreviations = map[string]string{
	"street": "st", "st.": "st", "road": "rd", "rd.": "rd", "avenue": "ave", "ave.": "ave",
	"apartment": "apt", "apt.": "apt", "building": "bldg", "bldg.": "bldg", "floor": "fl", "fl.": "fl",
	"room": "rm", "rm.": "rm", "number": "no", "no.": "no", "#": "no",
}

// NormalizeText folds full-width characters to their ASCII forms, lowers
// case, collapses whitespace and abbreviates common address words.
func NormalizeText(s string) string {
	var b strings.Builder
	for _, r := range s {
		switch {
		case r == 0x3000: // ideographic space
			r = ' '
		case r >= 0xFF01 && r <= 0xFF5E: // full-width ASCII
			r -= 0xFF01 - 0x21
		}
		if unicode.IsSpace(r) || r == ',' || r == '，' {
			b.WriteByte(' ')
			continue
		}
		b.WriteRune(unicode.ToLower(r))
	}
	words := strings.Fields(b.String())
	for i, w := range words {
		if a, ok := abbreviations[w]; ok {
			words[i] = a
		}
	}
	return strings.Join(words, " ")
}

// NormalizePhone keeps the digits, dropping a leading country code 86
// from a mainland mobile number written in international form.
func NormalizePhone(s string) string {
	var b strings.Builder
	for _, r := range NormalizeText(s) {
		if r >= '0' && r <= '9' {
			b.WriteRune(r)
		}
	}
	d := b.String()
	if len(d) == 13 && strings.HasPrefix(d, "86") {
		d = d[2:]
	}
	return d
}

// MergeKey identifies orders that may ship together: same shop, same
// warehouse, same recipient after normalisation. It is a hex digest, safe
// in any key name.
func MergeKey(shop, warehouse string, r Recipient) string {
	h := sha256.New()
	for _, part := range []string{shop, warehouse, NormalizeText(r.Name), NormalizePhone(r.Phone), NormalizeText(r.Address)} {
		h.Write([]byte(part))
		h.Write([]byte{0})
	}
	return hex.EncodeToString(h.Sum(nil)[:16])
}

// Group is a merged shipment: orders for one recipient that arrived within
// one window.
type Group struct {
	ID     string
	Key    string
	Orders []MergedOrder // in arrival order
	Grams  int64         // weights add
	// ClosesAt is when the window stops accepting orders.
	ClosesAt time.Time
	// Replayed is true when Add found the order already in this group.
	Replayed bool
}

// MergedOrder is one order in a group.
type MergedOrder struct {
	ID    string
	Grams int64
}

// Merge keeps merge windows. A paid order joins the open group of its key
// if that group's window (opened by its first order) has not closed, or
// opens a new group; joining is atomic under concurrent arrivals, and
// idempotent by order ID: adding an order again returns its group with
// Replayed set, and adding it with another weight is ErrIDConflict.
// NewMemoryMerge and NewRedisMerge return one; both backends pass the same
// conformance suite (package logisticstest). A Merge is safe for
// concurrent use.
type Merge struct {
	b       mergeBackend
	observe Observer
	closed  atomic.Bool
}

// mergeBackend is the storage under a Merge, on validated input.
type mergeBackend interface {
	add(ctx context.Context, o MergeOrder) (Group, error)
	remove(ctx context.Context, ref MergeRef) (Group, error)
	group(ctx context.Context, ref MergeRef) (Group, error)
}

// MergeOrder asks to merge one order.
type MergeOrder struct {
	// Key is the order's MergeKey.
	Key string
	// OrderID identifies the order and makes Add idempotent.
	OrderID string
	// Grams is the order's weight: 0..10^9.
	Grams int64
}

// MergeRef names an order under its merge key.
type MergeRef struct {
	Key     string
	OrderID string
}

// Observer receives an Observation of every call on a Merge or a
// Registry. It runs synchronously after the call and must not block for
// long; feed a metrics
// library or a log from it.
type Observer func(Observation)

// Op names the call an Observation reports.
type Op uint8

// The calls an Observer sees.
const (
	OpAdd     Op = iota + 1 // Merge.Add
	OpRemove                // Merge.Remove
	OpGroup                 // Merge.Group
	OpLookup                // Registry.Lookup
	OpRecord                // Registry.Record
	OpClaim                 // Registry.Claim
	OpUnclaim               // Registry.Unclaim
)

// String returns the op's name, as metric labels want it.
func (o Op) String() string {
	switch o {
	case OpAdd:
		return "add"
	case OpRemove:
		return "remove"
	case OpGroup:
		return "group"
	case OpLookup:
		return "lookup"
	case OpRecord:
		return "record"
	case OpClaim:
		return "claim"
	case OpUnclaim:
		return "unclaim"
	}
	return "Op(" + strconv.Itoa(int(o)) + ")"
}

// Observation is one call, as an Observer sees it.
type Observation struct {
	Op Op
	// ID is the call's order ID (a Registry's: the order code).
	ID string
	// Err is the call's error; nil on success.
	Err error
	// Took is the call's wall time.
	Took time.Duration
	// Replayed is true when Add found the order already merged.
	Replayed bool
	// Group is the group the call returned.
	Group Group
}

func newMerge(b mergeBackend, opts MergeOptions) *Merge {
	return &Merge{b: b, observe: opts.Observer}
}

// Add puts an order into a group and returns the group.
func (m *Merge) Add(ctx context.Context, o MergeOrder) (Group, error) {
	start := m.start()
	var g Group
	err := checkMerge(o.Key, o.OrderID, o.Grams)
	if err == nil {
		err = m.checkOpen()
	}
	if err == nil {
		g, err = m.b.add(ctx, o)
	}
	m.report(OpAdd, o.OrderID, start, g, err)
	return g, err
}

// Remove takes an edited or cancelled order out of its group and returns
// what is left of the group.
func (m *Merge) Remove(ctx context.Context, ref MergeRef) (Group, error) {
	return m.read(ctx, OpRemove, ref, m.b.remove)
}

// Group returns the group an order is in.
func (m *Merge) Group(ctx context.Context, ref MergeRef) (Group, error) {
	return m.read(ctx, OpGroup, ref, m.b.group)
}

func (m *Merge) read(ctx context.Context, op Op, ref MergeRef, f func(context.Context, MergeRef) (Group, error)) (Group, error) {
	start := m.start()
	var g Group
	err := checkMerge(ref.Key, ref.OrderID, 0)
	if err == nil {
		err = m.checkOpen()
	}
	if err == nil {
		g, err = f(ctx, ref)
	}
	m.report(op, ref.OrderID, start, g, err)
	return g, err
}

// Close makes later calls return ErrClosed. It does not close the Redis
// client, which the caller owns.
func (m *Merge) Close() error {
	m.closed.Store(true)
	return nil
}

func (m *Merge) checkOpen() error {
	if m.closed.Load() {
		return ErrClosed
	}
	return nil
}

func (m *Merge) start() time.Time {
	if m.observe == nil {
		return time.Time{}
	}
	return time.Now()
}

func (m *Merge) report(op Op, id string, start time.Time, g Group, err error) {
	if m.observe != nil {
		m.observe(Observation{Op: op, ID: id, Err: err, Took: time.Since(start), Replayed: g.Replayed, Group: g})
	}
}

func checkMerge(key, orderID string, grams int64) error {
	if rule := keyspace.CheckID(key); rule != "" {
		return &InputError{Field: "Key", Rule: rule}
	}
	if rule := keyspace.CheckID(orderID); rule != "" {
		return &InputError{Field: "OrderID", Rule: rule}
	}
	if strings.ContainsRune(orderID, ',') {
		return &InputError{Field: "OrderID", Rule: "must not contain ','"}
	}
	if grams < 0 || grams > 1e9 {
		return &InputError{Field: "Grams", Rule: "must be in 0..10^9"}
	}
	return nil
}

// DefaultWindow is how long a merge group stays open.
const DefaultWindow = 15 * time.Minute

// MergeOptions configure a merge store. The zero value means the
// documented defaults.
type MergeOptions struct {
	// Prefix starts the Redis keys of every merge key (see NewRedisMerge).
	// Default "shopkit:merge". Redis only.
	Prefix string
	// Window is how long a group stays open after its first order.
	// Default DefaultWindow.
	Window time.Duration
	// Retention is how long a group (and which group each of its orders
	// is in) is kept after it closes; then it is forgotten and its orders
	// are unknown (ErrNotFound). Default 7 days.
	Retention time.Duration
	// Now is the Memory store's clock. Default time.Now. The Redis store
	// uses the server's TIME.
	Now func() time.Time
	// WaitReplicas, if positive, makes every Redis write wait until that
	// many replicas have acknowledged it (WAIT), up to WaitTimeout
	// (default 1s); if they do not, the call returns ErrNotReplicated.
	// Needs a *redis.Client (standalone or failover) or
	// *redis.ClusterClient. Redis only.
	WaitReplicas int
	// WaitTimeout bounds the wait for WaitReplicas. Default 1s.
	WaitTimeout time.Duration
	// Observer, if set, receives an Observation of every call.
	Observer Observer
}

func (o MergeOptions) withDefaults() MergeOptions {
	if o.Prefix == "" {
		o.Prefix = "shopkit:merge"
	}
	if o.Window <= 0 {
		o.Window = DefaultWindow
	}
	if o.Retention <= 0 {
		o.Retention = 7 * 24 * time.Hour
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	return o
}

// memoryMerge is the process-local backend.
type memoryMerge struct {
	opts MergeOptions

	mu     sync.Mutex
	groups map[string]*Group            // group ID → group
	open   map[string]string            // key → open group ID
	member map[string]map[string]string // key → order ID → group ID
	seq    int
	// created lists groups in the order they opened, which is the order
	// they close in, so that the forgettable ones are at the front.
	created []string
}

// NewMemoryMerge returns an empty store in process memory; time comes from
// opts.Now, and opts.Prefix and the replica options do not apply.
func NewMemoryMerge(opts MergeOptions) *Merge {
	opts = opts.withDefaults()
	return newMerge(&memoryMerge{opts: opts, groups: map[string]*Group{}, open: map[string]string{}, member: map[string]map[string]string{}}, opts)
}

// forgetLocked drops the groups closed Retention ago or earlier, with
// their members.
func (m *memoryMerge) forgetLocked(now time.Time) {
	n := 0
	for ; n < len(m.created); n++ {
		g := m.groups[m.created[n]]
		if now.Before(g.ClosesAt.Add(m.opts.Retention)) {
			break
		}
		for _, o := range g.Orders {
			if m.member[g.Key][o.ID] == g.ID {
				delete(m.member[g.Key], o.ID)
			}
		}
		if len(m.member[g.Key]) == 0 {
			delete(m.member, g.Key)
		}
		if m.open[g.Key] == g.ID {
			delete(m.open, g.Key)
		}
		delete(m.groups, g.ID)
	}
	if n > 0 {
		m.created = append(m.created[:0:0], m.created[n:]...)
	}
}

var _ mergeBackend = (*memoryMerge)(nil)

func (m *memoryMerge) add(_ context.Context, o MergeOrder) (Group, error) {
	key, orderID, grams := o.Key, o.OrderID, o.Grams
	m.mu.Lock()
	defer m.mu.Unlock()
	now := m.opts.Now()
	m.forgetLocked(now)
	if gid, ok := m.member[key][orderID]; ok {
		g := m.groups[gid].clone()
		for _, in := range g.Orders {
			if in.ID == orderID && in.Grams != grams {
				return Group{}, ErrIDConflict
			}
		}
		g.Replayed = true
		return g, nil
	}
	g := m.groups[m.open[key]]
	if g == nil || !now.Before(g.ClosesAt) {
		m.seq++
		g = &Group{ID: "g" + strconv.Itoa(m.seq), Key: key, ClosesAt: now.Add(m.opts.Window).Truncate(time.Millisecond)}
		m.groups[g.ID] = g
		m.open[key] = g.ID
		m.created = append(m.created, g.ID)
	}
	g.Orders = append(g.Orders, MergedOrder{ID: orderID, Grams: grams})
	g.Grams += grams
	if m.member[key] == nil {
		m.member[key] = map[string]string{}
	}
	m.member[key][orderID] = g.ID
	return g.clone(), nil
}

func (m *memoryMerge) remove(_ context.Context, ref MergeRef) (Group, error) {
	key, orderID := ref.Key, ref.OrderID
	m.mu.Lock()
	defer m.mu.Unlock()
	m.forgetLocked(m.opts.Now())
	gid, ok := m.member[key][orderID]
	if !ok {
		return Group{}, ErrNotFound
	}
	g := m.groups[gid]
	for i, o := range g.Orders {
		if o.ID == orderID {
			g.Grams -= o.Grams
			g.Orders = append(g.Orders[:i:i], g.Orders[i+1:]...)
			break
		}
	}
	delete(m.member[key], orderID)
	return g.clone(), nil
}

func (m *memoryMerge) group(_ context.Context, ref MergeRef) (Group, error) {
	key, orderID := ref.Key, ref.OrderID
	m.mu.Lock()
	defer m.mu.Unlock()
	m.forgetLocked(m.opts.Now())
	gid, ok := m.member[key][orderID]
	if !ok {
		return Group{}, ErrNotFound
	}
	return m.groups[gid].clone(), nil
}

func (g *Group) clone() Group {
	c := *g
	c.Orders = append([]MergedOrder(nil), g.Orders...)
	return c
}
