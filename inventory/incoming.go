package inventory

import (
	"context"
	"errors"
	"fmt"
	"time"
)

// ErrNotIncoming is matched by every *IncomingError: a Receive or
// CancelIncoming asked for more units of an item than its purchase order
// still has open.
var ErrNotIncoming = errors.New("inventory: units not open on the purchase order")

// IncomingError reports the first line of a Receive or CancelIncoming that
// asked for more units than the purchase order has open at that item:
// expected and neither received nor cancelled. Open is 0 for an item the
// order does not bring.
type IncomingError struct {
	PurchaseOrder string
	SKU           string
	Location      string
	Requested     int64
	Open          int64
}

// Error implements error.
func (e *IncomingError) Error() string {
	return fmt.Sprintf("inventory: purchase order %s has %d units of %s at %s open, asked for %d",
		e.PurchaseOrder, e.Open, e.SKU, e.Location, e.Requested)
}

// Is makes errors.Is(err, ErrNotIncoming) true.
func (e *IncomingError) Is(target error) bool { return target == ErrNotIncoming }

// PurchaseOrder is stock on its way (Store.Expect): the units a supplier
// is to deliver to each location, and when. Its units show in
// Level.Incoming until they are received or cancelled.
type PurchaseOrder struct {
	// ID identifies the order and makes Expect idempotent.
	ID string
	// ExpectedAt is when the units should arrive. Required.
	ExpectedAt time.Time
	// Lines are the units per item. Lines naming the same item are summed.
	Lines []Line
}

// ArrivalRequest receives or cancels units of an open purchase order
// (Store.Receive, Store.CancelIncoming). Partial requests are allowed;
// together they may not exceed what the order brings to each item.
type ArrivalRequest struct {
	// ID identifies this delivery or cancellation and makes the call
	// idempotent.
	ID string
	// PurchaseOrder is the order the units come from.
	PurchaseOrder string
	// Lines are the units per item. Lines naming the same item are summed.
	Lines []Line
}

// Incoming is where a purchase order's units are, per line.
type Incoming struct {
	PurchaseOrder string
	ExpectedAt    time.Time
	// Lines follow the order's lines, merged and sorted by SKU and
	// location.
	Lines []IncomingLine
	// Complete is true once every unit was received or cancelled; the
	// order's record is then kept for Options.Retention, to answer
	// replays, and forgotten.
	Complete bool
	// Replayed is true when the call repeated an earlier one with the same
	// ID and returned its outcome, changing nothing.
	Replayed bool
}

// IncomingLine is one line of an Incoming.
type IncomingLine struct {
	SKU       string
	Location  string
	Quantity  int64 // units ordered
	Received  int64 // units that arrived: on hand now
	Cancelled int64 // units that will not come
}

// Open returns the units still expected: neither received nor cancelled.
func (l IncomingLine) Open() int64 { return l.Quantity - l.Received - l.Cancelled }

// Expect records a purchase order: its units show in Level.Incoming, and
// its date in Level.NextArrival, until Receive or CancelIncoming takes
// them. Expecting again under the same ID with the same order returns the
// order as it stands (Replayed); with a different order it is
// ErrIDConflict.
func (s *Store) Expect(ctx context.Context, po PurchaseOrder) (Incoming, error) {
	start := s.start()
	in, err := func() (Incoming, error) {
		lines, err := normalizeOrder(po)
		if err != nil {
			return Incoming{}, err
		}
		if s.closed.Load() {
			return Incoming{}, ErrClosed
		}
		return s.b.expect(ctx, po.ID, po.ExpectedAt, lines)
	}()
	s.observe(Observation{Op: OpExpect, ID: po.ID, Err: err, Took: s.since(start), Replayed: in.Replayed, Incoming: in})
	return in, err
}

// Receive books units of an open purchase order as arrived: they leave
// incoming and join on hand, available at once. An order may arrive in
// several deliveries, per line; together with CancelIncoming they may not
// exceed what it brings to each item (an *IncomingError says which line
// would). Units that arrive without an order are an Adjust with
// ReasonReceipt. Receiving again under the same ID returns the first
// outcome.
func (s *Store) Receive(ctx context.Context, r ArrivalRequest) (Incoming, error) {
	return s.arrive(ctx, OpReceive, r)
}

// CancelIncoming takes units that will not come off a purchase order: they
// leave incoming. Rules and idempotency as for Receive.
func (s *Store) CancelIncoming(ctx context.Context, r ArrivalRequest) (Incoming, error) {
	return s.arrive(ctx, OpCancelIncoming, r)
}

func (s *Store) arrive(ctx context.Context, op Op, r ArrivalRequest) (Incoming, error) {
	start := s.start()
	in, err := func() (Incoming, error) {
		lines, err := normalizeArrival(r)
		if err != nil {
			return Incoming{}, err
		}
		if s.closed.Load() {
			return Incoming{}, ErrClosed
		}
		return s.b.arrive(ctx, op == OpReceive, r.ID, r.PurchaseOrder, lines)
	}()
	s.observe(Observation{Op: op, ID: r.ID, Err: err, Took: s.since(start), Replayed: in.Replayed, Incoming: in})
	return in, err
}

// PurchaseOrder returns purchase order id as it stands, or ErrNotFound
// once it is complete and its retention has passed (or if it never was).
func (s *Store) PurchaseOrder(ctx context.Context, id string) (Incoming, error) {
	start := s.start()
	in, err := func() (Incoming, error) {
		if err := checkID("ID", id); err != nil {
			return Incoming{}, err
		}
		if s.closed.Load() {
			return Incoming{}, ErrClosed
		}
		return s.b.purchaseOrder(ctx, id)
	}()
	s.observe(Observation{Op: OpPurchaseOrder, ID: id, Err: err, Took: s.since(start), Incoming: in})
	return in, err
}

// normalizeOrder validates po and returns its lines merged by item and
// sorted, as normalize does a reservation's.
func normalizeOrder(po PurchaseOrder) ([]Line, error) {
	if err := checkID("ID", po.ID); err != nil {
		return nil, err
	}
	if po.ExpectedAt.IsZero() {
		return nil, &InputError{Field: "ExpectedAt", Rule: "must be set"}
	}
	if ms := po.ExpectedAt.UnixMilli(); ms < 0 || ms > MaxQuantity {
		return nil, &InputError{Field: "ExpectedAt", Rule: "must be between 1970 and the year 285,000"}
	}
	return normalize(Request{ID: po.ID, Lines: po.Lines, TTL: time.Millisecond})
}

// normalizeArrival validates r and returns its lines merged and sorted.
func normalizeArrival(r ArrivalRequest) ([]Line, error) {
	if err := checkID("ID", r.ID); err != nil {
		return nil, err
	}
	if err := checkID("PurchaseOrder", r.PurchaseOrder); err != nil {
		return nil, err
	}
	return normalize(Request{ID: r.ID, Lines: r.Lines, TTL: time.Millisecond})
}

// arrivalOpName names Receive and CancelIncoming in errors and records.
func arrivalOpName(receive bool) string {
	if receive {
		return "receive"
	}
	return "cancel"
}
