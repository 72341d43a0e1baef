package funnel

import (
	"errors"
	"strconv"
	"time"

	"github.com/shopspring/decimal"

	"github.com/shopkit/shopkit/internal/keyspace"
)

var (
	// ErrInvalidInput is matched by every *InputError.
	ErrInvalidInput = errors.New("funnel: invalid input")
	// ErrNoApproximation means approximate unique counts were asked of a
	// Redis store built without Options.HyperLogLog.
	ErrNoApproximation = errors.New("funnel: store keeps no HyperLogLog counters")
	// ErrTooManyNames means a batch would take a Memory store past
	// MaxMemoryNames distinct event names; nothing was stored.
	ErrTooManyNames = errors.New("funnel: too many distinct event names")
	// ErrNotReplicated means a Redis ingest was applied by the master but
	// fewer than Options.WaitReplicas replicas acknowledged it within
	// WaitTimeout, so a failover now could lose it: the outcome is
	// unknown. Ingest the batch again (events stored count as duplicates).
	ErrNotReplicated = errors.New("funnel: ingest not acknowledged by enough replicas; outcome unknown, ingest again")
)

// InputError reports input that breaks a rule; nothing was written.
type InputError struct {
	Field string
	Rule  string
}

// Error implements error.
func (e *InputError) Error() string { return "funnel: " + e.Field + " " + e.Rule }

// Is makes errors.Is(err, ErrInvalidInput) true.
func (e *InputError) Is(target error) bool { return target == ErrInvalidInput }

// Event is one thing a user did. ID, UserID, Name and Time are required;
// the rest is optional. ID makes ingest idempotent: an event whose ID was
// already stored for the same UTC day is counted as a duplicate and not
// stored again.
type Event struct {
	ID     string
	UserID string
	Name   string
	// Time is kept to the microsecond; finer digits are dropped on ingest
	// so that every backend orders events the same way.
	Time time.Time
	// Amount is the money the event carries (an order's total, a payment,
	// a refund), never negative; zero when there is none.
	Amount  decimal.Decimal
	OrderID string
	// Dimensions to break answers down by, and the properties a funnel
	// may hold constant across its steps.
	Variant string
	Channel string
	Region  string
	SKU     string
	// Props are any other properties, by name (at most MaxProps; numbers
	// as decimal text): step filters, breakdowns and held properties may
	// use them.
	Props map[string]string
}

// Dimension names one of an event's properties, to break answers down by
// or to hold constant across a funnel's steps.
type Dimension int

// The dimensions. NoDimension (the zero value) means none.
const (
	NoDimension Dimension = iota
	Variant
	Channel
	Region
	SKU
	OrderID
)

var dimensionNames = [...]string{"none", "variant", "channel", "region", "sku", "order_id"}

// String returns the dimension's name ("variant", "sku", …).
func (d Dimension) String() string {
	if d < 0 || int(d) >= len(dimensionNames) {
		return "Dimension(" + strconv.Itoa(int(d)) + ")"
	}
	return dimensionNames[d]
}

func (d Dimension) valid() bool { return d >= NoDimension && d <= OrderID }

// Of returns e's value for the dimension ("" for NoDimension).
func (d Dimension) Of(e *Event) string {
	switch d {
	case Variant:
		return e.Variant
	case Channel:
		return e.Channel
	case Region:
		return e.Region
	case SKU:
		return e.SKU
	case OrderID:
		return e.OrderID
	}
	return ""
}

// Ingested counts what an Ingest call did with its events.
type Ingested struct {
	Stored     int // newly stored
	Duplicates int // an event with the same ID and UTC day was already stored
	Expired    int // older than the store's retention; not stored
}

// Day numbers: events are laid out and deduplicated per UTC day.
const dayMicros = int64(24 * time.Hour / time.Microsecond)

func dayOf(micros int64) int64 {
	d := micros / dayMicros
	if micros < 0 && micros%dayMicros != 0 {
		d--
	}
	return d
}

// checkEvents validates a batch before anything is written.
func checkEvents(events []Event) error {
	for i := range events {
		if err := checkEvent(&events[i]); err != nil {
			err.Field = "events[" + strconv.Itoa(i) + "]." + err.Field
			return err
		}
	}
	return nil
}

// Bounds on an amount's size, so sums stay fast and encodings short.
const (
	maxAmountDigits = 30
	maxAmountScale  = 18
)

// Earliest and latest event times accepted: keeps day numbers and
// microsecond arithmetic far from overflow.
var (
	minTime = time.Date(1970, 1, 1, 0, 0, 0, 0, time.UTC)
	maxTime = time.Date(9999, 12, 31, 0, 0, 0, 0, time.UTC)
)

func checkEvent(e *Event) *InputError {
	for _, f := range [...]struct {
		name, value string
		required    bool
	}{
		{"ID", e.ID, true}, {"UserID", e.UserID, true}, {"Name", e.Name, true},
		{"OrderID", e.OrderID, false}, {"Variant", e.Variant, false},
		{"Channel", e.Channel, false}, {"Region", e.Region, false}, {"SKU", e.SKU, false},
	} {
		if f.value == "" && !f.required {
			continue
		}
		if rule := keyspace.CheckID(f.value); rule != "" {
			return &InputError{Field: f.name, Rule: rule}
		}
	}
	if err := checkProps(e.Props); err != nil {
		return err
	}
	if e.Time.Before(minTime) || e.Time.After(maxTime) {
		return &InputError{Field: "Time", Rule: "must be between 1970 and 9999"}
	}
	if e.Amount.IsNegative() {
		return &InputError{Field: "Amount", Rule: "must not be negative"}
	}
	if !e.Amount.IsZero() && (e.Amount.Exponent() < -maxAmountScale || e.Amount.NumDigits()+int(e.Amount.Exponent()) > maxAmountDigits) {
		return &InputError{Field: "Amount", Rule: "must have at most 30 digits before and 18 after the point"}
	}
	return nil
}

// microsTime is the UTC time of a unix microsecond count.
func microsTime(micros int64) time.Time { return time.UnixMicro(micros).UTC() }
