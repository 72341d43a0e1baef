package inventory

import (
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/shopkit/shopkit/internal/keyspace"
)

// Limits on input. They keep every quantity exact in Redis Lua, whose numbers
// are IEEE doubles, and bound the work one call can ask for.
const (
	// MaxQuantity is the largest quantity, on-hand level or total a store
	// accepts: 2^53-1, the largest integer a Lua number holds exactly.
	MaxQuantity = 1<<53 - 1
	// MaxLines is the most lines one reservation may carry.
	MaxLines = 100
	// MaxIDLen is the longest ID, SKU or location, in bytes.
	MaxIDLen = keyspace.MaxIDLen
)

// Errors callers branch on. Typed errors below match them with errors.Is.
var (
	// ErrInvalidInput is matched by every *InputError.
	ErrInvalidInput = errors.New("inventory: invalid input")
	// ErrInsufficientStock means a reservation asked for more than was
	// available; the *StockError says which line fell short.
	ErrInsufficientStock = errors.New("inventory: insufficient stock")
	// ErrBelowReserved means an adjustment would leave on hand below what is
	// reserved; the *ReservedError carries the figures.
	ErrBelowReserved = errors.New("inventory: on hand would fall below reserved")
	// ErrNotFound means no reservation has the given ID (it never existed,
	// failed, or its record outlived Options.Retention).
	ErrNotFound = errors.New("inventory: reservation not found")
	// ErrIDConflict means an ID was reused for a different request: a
	// reservation with other lines, or an adjustment with other figures.
	ErrIDConflict = errors.New("inventory: ID already used for a different request")
	// ErrNotHeld is matched by every *StateError: the reservation is no longer
	// held, so it cannot be extended or committed.
	ErrNotHeld = errors.New("inventory: reservation not held")
	// ErrCommitted, ErrReleased and ErrExpired say which state a *StateError
	// found the reservation in.
	ErrCommitted = errors.New("inventory: reservation already committed")
	// ErrReleased: see ErrCommitted.
	ErrReleased = errors.New("inventory: reservation already released")
	// ErrExpired: see ErrCommitted.
	ErrExpired = errors.New("inventory: reservation expired")
	// ErrNotCommitted is matched by every *FulfilError: a Ship or Return
	// asked for more units of an item than the reservation has committed
	// and not yet shipped or returned there.
	ErrNotCommitted = errors.New("inventory: units not committed to the reservation")
	// ErrClosed is returned by calls on a store after Close.
	ErrClosed = errors.New("inventory: store closed")
	// ErrNotReplicated means a Redis write was applied by the master but
	// fewer than Options.WaitReplicas replicas acknowledged it within
	// WaitTimeout, so a failover now could lose it: the outcome is
	// unknown. Replay the same ID to learn it (the replay waits again).
	ErrNotReplicated = errors.New("inventory: write not acknowledged by enough replicas; outcome unknown, replay the ID")
)

// InputError reports input that breaks a rule. Nothing was written.
type InputError struct {
	Field string // the offending field, e.g. "Lines[2].Quantity"
	Rule  string // the rule it breaks, e.g. "must be > 0"
}

// Error implements error.
func (e *InputError) Error() string { return "inventory: " + e.Field + " " + e.Rule }

// Is makes errors.Is(err, ErrInvalidInput) true.
func (e *InputError) Is(target error) bool { return target == ErrInvalidInput }

// StockError reports the first line of a reservation that could not be met.
type StockError struct {
	SKU       string
	Location  string
	Requested int64 // units the reservation asked for at this SKU and location
	Available int64 // units available there when it asked
}

// Error implements error.
func (e *StockError) Error() string {
	return fmt.Sprintf("inventory: insufficient stock for %s at %s: requested %d, available %d",
		e.SKU, e.Location, e.Requested, e.Available)
}

// Is makes errors.Is(err, ErrInsufficientStock) true.
func (e *StockError) Is(target error) bool { return target == ErrInsufficientStock }

// ReservedError reports an adjustment refused because on hand would fall
// below the reserved units.
type ReservedError struct {
	SKU       string
	Location  string
	OnHand    int64 // the on-hand level the adjustment would have produced
	Reserved  int64 // units reserved at the time
	Committed int64 // units committed and not yet shipped (Options.Shipping)
	// Backordered is units reserved or committed that wait for stock:
	// on hand may fall to Reserved + Committed − Backordered, no lower.
	Backordered int64
}

// Error implements error.
func (e *ReservedError) Error() string {
	if e.Backordered > 0 {
		return fmt.Sprintf("inventory: on hand for %s at %s would be %d, below the %d reserved and %d committed less %d backordered",
			e.SKU, e.Location, e.OnHand, e.Reserved, e.Committed, e.Backordered)
	}
	if e.Committed > 0 {
		return fmt.Sprintf("inventory: on hand for %s at %s would be %d, below the %d reserved and %d committed",
			e.SKU, e.Location, e.OnHand, e.Reserved, e.Committed)
	}
	return fmt.Sprintf("inventory: on hand for %s at %s would be %d, below the %d reserved",
		e.SKU, e.Location, e.OnHand, e.Reserved)
}

// Is makes errors.Is(err, ErrBelowReserved) true.
func (e *ReservedError) Is(target error) bool { return target == ErrBelowReserved }

// FulfilError reports the first line of a Ship or Return that asked for
// more units than the reservation has committed at that item and not yet
// shipped or returned. Committed is 0 for an item the reservation does not
// hold, for a reservation fully shipped or returned, and for one committed
// by a store without Options.Shipping (its units left on hand at Commit).
type FulfilError struct {
	Reservation string
	SKU         string
	Location    string
	Requested   int64
	Committed   int64 // units still committed there, neither shipped nor returned
	// Waiting is how many of the Committed units are backordered and
	// still wait for stock: a Ship may take only Committed − Waiting.
	Waiting int64
}

// Error implements error.
func (e *FulfilError) Error() string {
	if e.Waiting > 0 {
		return fmt.Sprintf("inventory: reservation %s has %d units of %s at %s committed and unshipped, %d of them waiting for stock, asked for %d",
			e.Reservation, e.Committed, e.SKU, e.Location, e.Waiting, e.Requested)
	}
	return fmt.Sprintf("inventory: reservation %s has %d units of %s at %s committed and unshipped, asked for %d",
		e.Reservation, e.Committed, e.SKU, e.Location, e.Requested)
}

// Is makes errors.Is(err, ErrNotCommitted) true.
func (e *FulfilError) Is(target error) bool { return target == ErrNotCommitted }

// StateError reports an operation that the reservation's state forbids, such
// as committing after it was released or expired.
type StateError struct {
	ID    string
	Op    string // "commit", "extend", "release", "ship", "return" or, on a spread store, "reserve"
	State State  // the state the reservation was found in
}

// Error implements error.
func (e *StateError) Error() string {
	return "inventory: cannot " + e.Op + " reservation " + e.ID + ": it is " + e.State.String()
}

// Is matches ErrNotHeld, and ErrCommitted, ErrReleased or ErrExpired by State.
func (e *StateError) Is(target error) bool {
	switch target {
	case ErrNotHeld:
		return true
	case ErrCommitted:
		return e.State == Committed
	case ErrReleased:
		return e.State == Released
	case ErrExpired:
		return e.State == Expired
	}
	return false
}

// Item names one stock position: a SKU at a location.
type Item struct {
	SKU      string
	Location string
}

// Level is the stock of one item. Available is OnHand − Reserved −
// Committed + Backordered; a store keeps Reserved + Committed ≤ OnHand +
// Backordered at all times, and Available is 0 while any unit is
// backordered (a free unit goes to the oldest backorder at once).
type Level struct {
	SKU      string
	Location string
	OnHand   int64 // units physically held
	Reserved int64 // units promised to held reservations
	// Committed is units sold and not yet shipped: with Options.Shipping a
	// Commit moves its units here from Reserved, and Ship takes them off
	// hand. Always 0 without Options.Shipping.
	Committed int64
	// Incoming is units on open purchase orders (Store.Expect), not yet
	// received or cancelled; NextArrival is the earliest date one of
	// those orders is expected (zero when none is). Only Levels reports
	// them: the level an Adjust returns or an Observation carries leaves
	// them zero.
	Incoming    int64
	NextArrival time.Time
	// Backordered is units reserved or committed beyond on hand, under
	// the item's Policy, that still wait for stock.
	Backordered int64
}

// Available returns the units on hand that can still be reserved; a
// Policy may allow more, as backorders.
func (l Level) Available() int64 { return l.OnHand - l.Reserved - l.Committed + l.Backordered }

// Line is one line of a reservation.
type Line struct {
	SKU      string
	Location string
	Quantity int64
}

// State is the life-cycle state of a reservation. Held is the only state that
// moves: to Committed, Released or Expired, each exactly once.
type State int

// Reservation states.
const (
	Held State = iota + 1
	Committed
	Released
	Expired
)

// String returns the state's lower-case name.
func (s State) String() string {
	switch s {
	case Held:
		return "held"
	case Committed:
		return "committed"
	case Released:
		return "released"
	case Expired:
		return "expired"
	}
	return "State(" + strconv.Itoa(int(s)) + ")"
}

// Request asks to reserve stock.
type Request struct {
	// ID identifies the reservation and makes Reserve idempotent.
	ID string
	// Lines are reserved all together or not at all. Lines naming the same
	// SKU and location are summed.
	Lines []Line
	// TTL is how long the reservation is held before it expires.
	TTL time.Duration
}

// Reservation is a hold on stock.
type Reservation struct {
	ID string
	// Lines are the requested lines merged by item and sorted by SKU, then
	// location.
	Lines []Line
	State State
	// Deadline is when a held reservation expires. It keeps its last value
	// after the reservation leaves Held.
	Deadline time.Time
	// Replayed is true when Reserve found an existing reservation with this
	// ID and returned it instead of reserving again.
	Replayed bool
	// Backorders are the units of each line that were sold beyond on
	// hand under the item's Policy and still wait for stock, in line
	// order; lines with none are left out. A receipt fills the oldest
	// backorders first, and a Ship may take only units that do not wait.
	Backorders []Line
}

// Waiting returns the units of item that wait for stock.
func (r Reservation) Waiting(sku, location string) int64 {
	for _, b := range r.Backorders {
		if b.SKU == sku && b.Location == location {
			return b.Quantity
		}
	}
	return 0
}

// FulfilRequest ships or returns some of a committed reservation's units
// (Store.Ship, Store.Return). Partial requests are allowed; together they
// may not exceed what the reservation committed at each item.
type FulfilRequest struct {
	// ID identifies this shipment or return and makes the call idempotent.
	ID string
	// Reservation is the committed reservation the units come from.
	Reservation string
	// Lines are the units per item. Lines naming the same item are summed.
	Lines []Line
}

// Fulfilment is where a committed reservation's units are, per line.
type Fulfilment struct {
	Reservation string
	// Lines follow the reservation's lines, in its order.
	Lines []FulfilmentLine
	// Complete is true once every unit was shipped or returned; the
	// record is then kept for Options.Retention, like a finished
	// reservation's.
	Complete bool
	// Replayed is true when the call repeated an earlier one with the same
	// ID and returned its outcome, changing nothing.
	Replayed bool
}

// FulfilmentLine is one line of a Fulfilment.
type FulfilmentLine struct {
	SKU      string
	Location string
	Quantity int64 // units the reservation committed
	Shipped  int64 // units shipped: off hand
	Returned int64 // units returned unshipped: available again
}

// Committed returns the units still committed: neither shipped nor returned.
func (l FulfilmentLine) Committed() int64 { return l.Quantity - l.Shipped - l.Returned }

// Reason says why on hand changed.
type Reason string

// Common reasons. Any non-empty reason without whitespace or colons is allowed.
const (
	ReasonReceipt    Reason = "receipt"    // goods received
	ReasonCount      Reason = "count"      // a stock count set the level
	ReasonDamage     Reason = "damage"     // goods damaged or lost
	ReasonReturn     Reason = "return"     // a customer return restocked
	ReasonCorrection Reason = "correction" // a manual correction
)

// Adjustment changes on hand by Delta: positive to receive, negative to
// write off. It is refused if on hand would fall below reserved.
type Adjustment struct {
	ID       string // idempotency key of this adjustment
	SKU      string
	Location string
	Delta    int64 // must not be 0
	Reason   Reason
}

// Count sets on hand to an absolute level, as a stock count does. It is
// refused if the level is below what is reserved.
type Count struct {
	ID       string // idempotency key of this count
	SKU      string
	Location string
	OnHand   int64 // must be ≥ 0
	Reason   Reason
}

// Observer receives an Observation of every call and every state change a
// Store makes on its own (an expiry, a low-stock alert). It runs
// synchronously after the change is durable, outside any lock, and must not
// block for long; feed a metrics library or a log from it.
type Observer func(Observation)

// Op names what an Observation reports.
type Op uint8

// The calls and changes an Observer sees.
const (
	OpAdjust         Op = iota + 1 // a call to Adjust
	OpSetOnHand                    // a call to SetOnHand
	OpReserve                      // a call to Reserve
	OpExtend                       // a call to Extend
	OpCommit                       // a call to Commit
	OpRelease                      // a call to Release
	OpReservation                  // a call to Reservation
	OpLevels                       // a call to Levels
	OpSweep                        // a call to Sweep (the background sweeper's too)
	OpExpire                       // a held reservation passed its deadline and its stock returned
	OpLowStock                     // an item's available units fell below its threshold
	OpShip                         // a call to Ship
	OpReturn                       // a call to Return
	OpExpect                       // a call to Expect
	OpReceive                      // a call to Receive
	OpCancelIncoming               // a call to CancelIncoming
	OpPurchaseOrder                // a call to PurchaseOrder
	OpSetPolicy                    // a call to SetPolicy
)

var opNames = [...]string{"", "adjust", "set_on_hand", "reserve", "extend", "commit", "release", "reservation", "levels", "sweep", "expire", "low_stock", "ship", "return", "expect", "receive", "cancel_incoming", "purchase_order", "set_policy"}

// String returns the op's name in snake case, as metric labels want it.
func (o Op) String() string {
	if int(o) < len(opNames) && o != 0 {
		return opNames[o]
	}
	return "Op(" + strconv.Itoa(int(o)) + ")"
}

// Observation is one call or change, as an Observer sees it.
type Observation struct {
	Op Op
	// ID is the call's reservation or adjustment ID, if it has one.
	ID string
	// Err is the call's error; nil on success and for changes.
	Err error
	// Took is the call's wall time; 0 for changes.
	Took time.Duration
	// Replayed is true when the call changed nothing because it repeated
	// an earlier one: a Reserve replay, a second Commit or Release.
	Replayed bool
	// Reservation is the reservation a reservation call returned, or the
	// one that expired. Its Replayed field tells a replay from a new
	// reservation.
	Reservation Reservation
	// Level is the level after an adjustment, or the low level.
	Level Level
	// Expired is how many reservations a Sweep expired.
	Expired int
	// Fulfilment is what a Ship or Return left.
	Fulfilment Fulfilment
	// Incoming is what an Expect, Receive, CancelIncoming or
	// PurchaseOrder call returned.
	Incoming Incoming
}

// Options configure a store. The zero value means the documented defaults.
type Options struct {
	// Prefix starts every Redis key, as the hash tag "{Prefix}", so all keys
	// of one store share a Cluster slot. Default "shopkit:inventory".
	// Redis only.
	Prefix string
	// Retention is how long the record of a finished reservation or an
	// applied adjustment is kept to answer replays. Default 24h.
	Retention time.Duration
	// SweepInterval, if positive, starts a background goroutine that calls
	// Sweep at this interval until Close. Default 0: no background sweeper
	// (expiry still happens lazily whenever a reservation is touched, and
	// when Reserve meets a shortage).
	SweepInterval time.Duration
	// LowStockThreshold returns the threshold below which an item counts as
	// low on stock; 0 disables the alert for it. Default: no alerts.
	LowStockThreshold func(sku, location string) int64
	// Observer, if set, receives an Observation of every call and change.
	Observer Observer
	// Now is the Memory store's clock. Default time.Now. The Redis store
	// always uses the server's TIME.
	Now func() time.Time
	// MaxBatch caps how many concurrent Reserve calls the Redis store
	// coalesces into one script call. Default 128; at most 1000.
	MaxBatch int
	// WaitReplicas, if positive, makes every Redis write wait until that
	// many replicas have acknowledged it (WAIT), up to WaitTimeout (default
	// 1s), before the call reports success; if they do not, the call
	// returns ErrNotReplicated. See the package doc on durability. Needs a
	// *redis.Client (standalone or failover) or *redis.ClusterClient.
	WaitReplicas int
	// WaitTimeout bounds the wait for WaitReplicas. Default 1s.
	WaitTimeout time.Duration
	// Shipping separates selling from shipping, as Shopify's committed
	// state does: Commit moves a reservation's units from Reserved to
	// Committed, still on hand and not available, and they leave on hand
	// only when Ship takes them (per line, partial shipments allowed);
	// Return makes unshipped units available again. Default false: Commit
	// takes the units off hand at once and there is nothing to ship.
	// Every process sharing a Redis store must agree on it; a reservation
	// committed without it has nothing to ship (Ship returns a
	// *FulfilError), one committed with it keeps its record until every
	// unit is shipped or returned.
	Shipping bool
	// Spread, if its Groups is set, lays a Redis store's items over that
	// many stock groups on their own hash tags, so that a Redis Cluster
	// shares one store among its masters (see Spread). Redis only; every
	// process sharing the store must use the same Spread.
	Spread Spread
}

const (
	defaultPrefix    = "shopkit:inventory"
	defaultRetention = 24 * time.Hour
	defaultMaxBatch  = 128
	maxMaxBatch      = 1000 // keeps reserve.lua's unpack within Lua's stack
)

func (o Options) withDefaults() Options {
	if o.Prefix == "" {
		o.Prefix = defaultPrefix
	}
	if o.Retention <= 0 {
		o.Retention = defaultRetention
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.MaxBatch <= 0 {
		o.MaxBatch = defaultMaxBatch
	}
	o.MaxBatch = min(o.MaxBatch, maxMaxBatch)
	return o
}

func checkID(field, s string) error {
	if rule := keyspace.CheckID(s); rule != "" {
		return &InputError{Field: field, Rule: rule}
	}
	return nil
}

func checkTTL(ttl time.Duration) error {
	if ttl < time.Millisecond {
		return &InputError{Field: "TTL", Rule: "must be at least 1ms"}
	}
	return nil
}

// normalize validates r and returns its lines merged by item and sorted, the
// canonical form that is stored, compared on replay and returned.
func normalize(r Request) ([]Line, error) {
	if err := checkID("ID", r.ID); err != nil {
		return nil, err
	}
	if err := checkTTL(r.TTL); err != nil {
		return nil, err
	}
	if len(r.Lines) == 0 {
		return nil, &InputError{Field: "Lines", Rule: "must not be empty"}
	}
	if len(r.Lines) > MaxLines {
		return nil, &InputError{Field: "Lines", Rule: "must have at most " + strconv.Itoa(MaxLines) + " lines"}
	}
	for i, l := range r.Lines {
		// Field names are built only for an error: on the hot path the
		// concatenation was a tenth of a Memory reservation.
		field := func(name string) string { return "Lines[" + strconv.Itoa(i) + "]." + name }
		if rule := keyspace.CheckID(l.SKU); rule != "" {
			return nil, &InputError{Field: field("SKU"), Rule: rule}
		}
		if rule := keyspace.CheckID(l.Location); rule != "" {
			return nil, &InputError{Field: field("Location"), Rule: rule}
		}
		if l.Quantity <= 0 {
			return nil, &InputError{Field: field("Quantity"), Rule: "must be > 0"}
		}
		if l.Quantity > MaxQuantity {
			return nil, &InputError{Field: field("Quantity"), Rule: "must be at most 2^53-1"}
		}
	}
	if len(r.Lines) == 1 {
		return []Line{r.Lines[0]}, nil
	}
	lines := slices.Clone(r.Lines)
	slices.SortStableFunc(lines, compareLines)
	out := lines[:1]
	for _, l := range lines[1:] {
		last := &out[len(out)-1]
		if last.SKU == l.SKU && last.Location == l.Location {
			if last.Quantity > MaxQuantity-l.Quantity {
				return nil, &InputError{Field: "Lines", Rule: "total for " + l.SKU + " at " + l.Location + " must be at most 2^53-1"}
			}
			last.Quantity += l.Quantity
			continue
		}
		out = append(out, l)
	}
	return out, nil
}

func compareLines(a, b Line) int {
	if c := strings.Compare(a.SKU, b.SKU); c != 0 {
		return c
	}
	return strings.Compare(a.Location, b.Location)
}

// normalizeFulfil validates r and returns its lines merged by item and
// sorted, as normalize does a reservation's.
func normalizeFulfil(r FulfilRequest) ([]Line, error) {
	if err := checkID("ID", r.ID); err != nil {
		return nil, err
	}
	if err := checkID("Reservation", r.Reservation); err != nil {
		return nil, err
	}
	// normalize checks the lines; its TTL rule does not apply here.
	return normalize(Request{ID: r.ID, Lines: r.Lines, TTL: time.Millisecond})
}

func checkAdjustment(a Adjustment) error {
	if err := checkID("ID", a.ID); err != nil {
		return err
	}
	if err := checkItem(a.SKU, a.Location); err != nil {
		return err
	}
	if a.Delta == 0 {
		return &InputError{Field: "Delta", Rule: "must not be 0"}
	}
	if a.Delta > MaxQuantity || a.Delta < -MaxQuantity {
		return &InputError{Field: "Delta", Rule: "must be within ±(2^53-1)"}
	}
	return checkReason(a.Reason)
}

func checkCount(c Count) error {
	if err := checkID("ID", c.ID); err != nil {
		return err
	}
	if err := checkItem(c.SKU, c.Location); err != nil {
		return err
	}
	if c.OnHand < 0 {
		return &InputError{Field: "OnHand", Rule: "must be ≥ 0"}
	}
	if c.OnHand > MaxQuantity {
		return &InputError{Field: "OnHand", Rule: "must be at most 2^53-1"}
	}
	return checkReason(c.Reason)
}

func checkItem(sku, location string) error {
	if err := checkID("SKU", sku); err != nil {
		return err
	}
	return checkID("Location", location)
}

func checkReason(r Reason) error {
	return checkID("Reason", string(r))
}

func checkItems(items []Item) error {
	for i, it := range items {
		field := "Items[" + strconv.Itoa(i) + "]"
		if err := checkID(field+".SKU", it.SKU); err != nil {
			return err
		}
		if err := checkID(field+".Location", it.Location); err != nil {
			return err
		}
	}
	return nil
}
