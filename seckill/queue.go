package seckill

import (
	"context"
	"time"

	"github.com/shopkit/shopkit/internal/keyspace"
)

// QueuedTicket is an admitted ticket read from a sale's order queue.
type QueuedTicket struct {
	// MessageID identifies the delivery; pass it to Ack once the order is
	// created.
	MessageID string
	Ticket    Ticket
}

// Consume reads up to count tickets from the sale's order queue for a
// consumer of group, in admission order. Tickets delivered to another
// consumer of the group more than minIdle ago and never acknowledged (its
// process died, say) are reclaimed first, so no ticket is lost; every
// ticket is delivered to each group at least once. It does not block: poll
// it, or wait between empty reads. Groups are created on first use and
// start at the beginning of the queue.
func (g *Gate) Consume(ctx context.Context, saleID, group, consumer string, count int, minIdle time.Duration) ([]QueuedTicket, error) {
	for _, f := range [...]struct{ name, v string }{{"SaleID", saleID}, {"Group", group}, {"Consumer", consumer}} {
		if rule := keyspace.CheckID(f.v); rule != "" {
			return nil, &InputError{Field: f.name, Rule: rule}
		}
	}
	if count <= 0 {
		return nil, &InputError{Field: "Count", Rule: "must be > 0"}
	}
	if minIdle <= 0 {
		return nil, &InputError{Field: "MinIdle", Rule: "must be > 0"}
	}
	return g.backend.consume(ctx, saleID, group, consumer, count, minIdle)
}

// Ack acknowledges processed tickets so they are never redelivered to
// group.
func (g *Gate) Ack(ctx context.Context, saleID, group string, messageIDs ...string) error {
	if rule := keyspace.CheckID(saleID); rule != "" {
		return &InputError{Field: "SaleID", Rule: rule}
	}
	if rule := keyspace.CheckID(group); rule != "" {
		return &InputError{Field: "Group", Rule: rule}
	}
	return g.backend.ack(ctx, saleID, group, messageIDs)
}
