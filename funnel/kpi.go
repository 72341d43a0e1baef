package funnel

import (
	"context"
	"sort"
	"time"

	"github.com/shopspring/decimal"

	"github.com/shopkit/shopkit/internal/keyspace"
)

// Basis says which orders GMV counts.
type Basis int

// The bases.
const (
	// Paid counts paid orders: PayEvent amounts (the default).
	Paid Basis = iota
	// Placed counts placed orders: OrderEvent amounts, paid or not.
	Placed
	// Net counts paid orders less refunds: PayEvent amounts minus the
	// RefundEvent amounts in the same bucket and group.
	Net
)

// Default event names of KPIQuery.
const (
	DefaultOrderEvent  = "order"
	DefaultPayEvent    = "pay"
	DefaultRefundEvent = "refund"
)

// KPIQuery selects and groups the events KPIs are measured over.
type KPIQuery struct {
	// From (inclusive) and To (exclusive) bound the events' times.
	From, To  time.Time
	Basis     Basis
	Breakdown Dimension // group by each event's own value
	Interval  Interval  // bucket by each event's own time, in Location
	Location  *time.Location
	// Event names; empty means DefaultOrderEvent, DefaultPayEvent,
	// DefaultRefundEvent.
	OrderEvent, PayEvent, RefundEvent string
	// Users, if set, measures only these users (from CohortUsers).
	Users *Users
}

// KPIs are one bucket's and breakdown value's commerce figures.
//
// An order is an event of the basis's name (OrderEvent for Placed,
// PayEvent for Paid and Net); events with the same OrderID from one user
// count once, by the earliest; an event without an OrderID is an order of
// its own. GMV is the sum of the orders' amounts, less Refunds with the
// Net basis (Refunds is zero otherwise), and can be negative when refunds
// in a bucket exceed its payments. Buyers are the users with at least one
// order, RepeatBuyers those with at least two, ActiveUsers those with any
// event at all — each counted once per group.
type KPIs struct {
	Start        time.Time // the bucket's start; zero with Whole
	Key          string    // the breakdown value; "" without a Breakdown
	GMV          decimal.Decimal
	Refunds      decimal.Decimal
	Orders       int64
	Buyers       int64
	RepeatBuyers int64
	ActiveUsers  int64
}

// AOV is the average order value, GMV / Orders, rounded half away from
// zero to places decimal places; zero without orders.
func (k KPIs) AOV(places int32) decimal.Decimal { return divide(k.GMV, k.Orders, places) }

// ARPU is the average revenue per user, GMV / ActiveUsers.
func (k KPIs) ARPU(places int32) decimal.Decimal { return divide(k.GMV, k.ActiveUsers, places) }

// ARPPU is the average revenue per paying user, GMV / Buyers.
func (k KPIs) ARPPU(places int32) decimal.Decimal { return divide(k.GMV, k.Buyers, places) }

// RepeatRate is the repeat-purchase rate, RepeatBuyers / Buyers; zero
// without buyers.
func (k KPIs) RepeatRate() float64 { return ratio(k.RepeatBuyers, k.Buyers) }

func divide(a decimal.Decimal, n int64, places int32) decimal.Decimal {
	if n == 0 {
		return decimal.Zero
	}
	return a.DivRound(decimal.NewFromInt(n), places)
}

func (q *KPIQuery) names() (order, pay, refund string) {
	order, pay, refund = q.OrderEvent, q.PayEvent, q.RefundEvent
	if order == "" {
		order = DefaultOrderEvent
	}
	if pay == "" {
		pay = DefaultPayEvent
	}
	if refund == "" {
		refund = DefaultRefundEvent
	}
	return order, pay, refund
}

func (q *KPIQuery) validate() error {
	fq := Query{From: q.From, To: q.To, Breakdown: q.Breakdown, Interval: q.Interval}
	if err := fq.validate(); err != nil {
		return err
	}
	if q.Basis < Paid || q.Basis > Net {
		return &InputError{Field: "KPIQuery.Basis", Rule: "must be Paid, Placed or Net"}
	}
	for _, f := range [...]struct{ name, v string }{
		{"OrderEvent", q.OrderEvent}, {"PayEvent", q.PayEvent}, {"RefundEvent", q.RefundEvent}} {
		if f.v == "" {
			continue
		}
		if rule := keyspace.CheckID(f.v); rule != "" {
			return &InputError{Field: "KPIQuery." + f.name, Rule: rule}
		}
	}
	return nil
}

// Measure computes KPIs over the events in s, one entry per bucket and
// breakdown value with any event, ordered by Start and then Key.
func Measure(ctx context.Context, s *Store, q KPIQuery) ([]KPIs, error) {
	if err := q.validate(); err != nil {
		return nil, err
	}
	orderName, payName, refundName := q.names()
	revenue := payName
	if q.Basis == Placed {
		revenue = orderName
	}
	grouper := Query{Breakdown: q.Breakdown, Interval: q.Interval, Location: q.Location}
	groups := make(map[groupKey]*KPIs)
	type userGroup struct{ orders int64 }
	perUser := make(map[groupKey]*userGroup)
	seenOrder := make(map[string]bool)
	err := s.Scan(ctx, ScanRequest{From: q.From, To: q.To}, func(user string, events []Event) error {
		if !q.Users.Contains(user) {
			return nil
		}
		clear(perUser)
		clear(seenOrder)
		for i := range events {
			e := &events[i]
			k := grouper.group(e.Time.UnixMicro(), q.Breakdown.Of(e))
			g := groups[k]
			if g == nil {
				g = &KPIs{Key: k.key}
				if q.Interval != Whole {
					g.Start = time.Unix(k.bucket, 0).In(grouper.location())
				}
				groups[k] = g
			}
			u := perUser[k]
			if u == nil {
				u = &userGroup{}
				perUser[k] = u
				g.ActiveUsers++
			}
			switch e.Name {
			case revenue:
				id := e.OrderID
				if id == "" {
					id = "\x00" + e.ID // cannot collide with an order ID
				}
				if seenOrder[id] {
					continue
				}
				seenOrder[id] = true
				g.GMV = g.GMV.Add(e.Amount)
				g.Orders++
				if u.orders++; u.orders == 1 {
					g.Buyers++
				} else if u.orders == 2 {
					g.RepeatBuyers++
				}
			case refundName:
				if q.Basis == Net {
					g.Refunds = g.Refunds.Add(e.Amount)
					g.GMV = g.GMV.Sub(e.Amount)
				}
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	out := make([]KPIs, 0, len(groups))
	for _, g := range groups {
		out = append(out, *g)
	}
	sort.Slice(out, func(i, j int) bool {
		if !out[i].Start.Equal(out[j].Start) {
			return out[i].Start.Before(out[j].Start)
		}
		return out[i].Key < out[j].Key
	})
	return out, nil
}
