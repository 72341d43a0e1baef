package logistics

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode"

	"github.com/shopkit/shopkit/internal/keyspace"
)

// Merge store errors.
var (
	// ErrUnknownOrder means the order is in no merge group (never added,
	// removed, or its group outlived MergeOptions.Retention).
	ErrUnknownOrder = errors.New("logistics: order not in any merge group")
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
}

// MergedOrder is one order in a group.
type MergedOrder struct {
	ID    string
	Grams int64
}

// MergeStore keeps merge windows. A paid order joins the open group of its
// key if that group's window (opened by its first order) has not closed,
// or opens a new group; joining is atomic under concurrent arrivals, and
// idempotent by order ID. Memory and Redis implement it and pass the same
// conformance suite (package logisticstest).
type MergeStore interface {
	// Add puts an order into a group and returns the group.
	Add(ctx context.Context, key, orderID string, grams int64) (Group, error)
	// Remove takes an edited or cancelled order out of its group and
	// returns what is left of the group.
	Remove(ctx context.Context, key, orderID string) (Group, error)
	// Group returns the group an order is in.
	Group(ctx context.Context, key, orderID string) (Group, error)
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
	// Prefix starts the Redis keys of every merge key (see RedisMerge).
	// Default "shopkit:merge". Redis only.
	Prefix string
	// Window is how long a group stays open after its first order.
	// Default DefaultWindow.
	Window time.Duration
	// Retention is how long a group (and which group each of its orders
	// is in) is kept after it closes; then it is forgotten and its orders
	// are unknown (ErrUnknownOrder). Default 7 days.
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

// MemoryMerge is a process-local MergeStore.
type MemoryMerge struct {
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

// NewMemoryMerge returns an empty store; opts.Prefix and the replica
// options do not apply.
func NewMemoryMerge(opts MergeOptions) *MemoryMerge {
	return &MemoryMerge{opts: opts.withDefaults(), groups: map[string]*Group{}, open: map[string]string{}, member: map[string]map[string]string{}}
}

// forgetLocked drops the groups closed Retention ago or earlier, with
// their members.
func (m *MemoryMerge) forgetLocked(now time.Time) {
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

var _ MergeStore = (*MemoryMerge)(nil)

// Add implements MergeStore.
func (m *MemoryMerge) Add(_ context.Context, key, orderID string, grams int64) (Group, error) {
	if err := checkMerge(key, orderID, grams); err != nil {
		return Group{}, err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	now := m.opts.Now()
	m.forgetLocked(now)
	if gid, ok := m.member[key][orderID]; ok {
		return m.groups[gid].clone(), nil
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

// Remove implements MergeStore.
func (m *MemoryMerge) Remove(_ context.Context, key, orderID string) (Group, error) {
	if err := checkMerge(key, orderID, 0); err != nil {
		return Group{}, err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	m.forgetLocked(m.opts.Now())
	gid, ok := m.member[key][orderID]
	if !ok {
		return Group{}, ErrUnknownOrder
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

// Group implements MergeStore.
func (m *MemoryMerge) Group(_ context.Context, key, orderID string) (Group, error) {
	if err := checkMerge(key, orderID, 0); err != nil {
		return Group{}, err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	m.forgetLocked(m.opts.Now())
	gid, ok := m.member[key][orderID]
	if !ok {
		return Group{}, ErrUnknownOrder
	}
	return m.groups[gid].clone(), nil
}

func (g *Group) clone() Group {
	c := *g
	c.Orders = append([]MergedOrder(nil), g.Orders...)
	return c
}
