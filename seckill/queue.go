package seckill

import (
	"context"
	"strconv"
	"strings"
	"time"

	"github.com/shopkit/shopkit/internal/keyspace"
)

// ConsumeRequest asks for tickets from a sale's order queue.
type ConsumeRequest struct {
	SaleID   string
	Group    string // the consumer group; created on first use
	Consumer string // this consumer, unique in its group
	// Count is the most tickets to return: > 0.
	Count int
	// MinIdle is how long a ticket delivered to another consumer of the
	// group goes unacknowledged before it is reclaimed: > 0.
	MinIdle time.Duration
}

// AckRequest acknowledges processed tickets of a sale's order queue.
type AckRequest struct {
	SaleID     string
	Group      string
	MessageIDs []string // QueuedTicket.MessageID of each
}

// QueuedTicket is an admitted ticket read from a sale's order queue.
type QueuedTicket struct {
	// MessageID identifies the delivery; pass it to Ack once the order is
	// created.
	MessageID string
	Ticket    Ticket
}

// Consume reads up to r.Count tickets from the sale's order queue for a
// consumer of a group, in admission order. Tickets delivered to another
// consumer of the group more than r.MinIdle ago and never acknowledged
// (its process died, say) are reclaimed first, so no ticket is lost; every
// ticket is delivered to each group at least once. It does not block: poll
// it, or wait between empty reads. Groups are created on first use and
// start at the beginning of the queue.
func (g *Gate) Consume(ctx context.Context, r ConsumeRequest) ([]QueuedTicket, error) {
	start := startTimer(g.observe)
	out, err := g.consume(ctx, r.SaleID, r.Group, r.Consumer, r.Count, r.MinIdle)
	g.report(Observation{Op: OpConsume, ID: r.SaleID, Err: err, Took: since(start)})
	return out, err
}

func (g *Gate) consume(ctx context.Context, saleID, group, consumer string, count int, minIdle time.Duration) ([]QueuedTicket, error) {
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
	n, err := g.buckets(ctx, saleID)
	if err != nil {
		return nil, err
	}
	var out []QueuedTicket
	for b := 0; b < n && len(out) < count; b++ {
		got, err := g.backend.consume(ctx, bucketID(saleID, b), group, consumer, count-len(out), minIdle)
		if err != nil {
			return out, err
		}
		for _, q := range got {
			q.MessageID = messageID(b, q.MessageID)
			q.Ticket.ID = ticketID(b, q.Ticket.ID)
			q.Ticket.SaleID = saleID
			out = append(out, q)
		}
	}
	return out, nil
}

// messageID makes a bucket's queue message ID unique in the sale: bucket
// b > 0 prefixes "b/".
func messageID(b int, id string) string {
	if b == 0 {
		return id
	}
	return strconv.Itoa(b) + "/" + id
}

// Ack acknowledges processed tickets so they are never redelivered to
// their group.
func (g *Gate) Ack(ctx context.Context, r AckRequest) error {
	start := startTimer(g.observe)
	err := g.ack(ctx, r.SaleID, r.Group, r.MessageIDs)
	g.report(Observation{Op: OpAck, ID: r.SaleID, Err: err, Took: since(start)})
	return err
}

func (g *Gate) ack(ctx context.Context, saleID, group string, messageIDs []string) error {
	if rule := keyspace.CheckID(saleID); rule != "" {
		return &InputError{Field: "SaleID", Rule: rule}
	}
	if rule := keyspace.CheckID(group); rule != "" {
		return &InputError{Field: "Group", Rule: rule}
	}
	byBucket := map[int][]string{}
	for _, id := range messageIDs {
		b := 0
		if bs, rest, ok := strings.Cut(id, "/"); ok {
			if n, err := strconv.Atoi(bs); err == nil && n > 0 {
				b, id = n, rest
			}
		}
		byBucket[b] = append(byBucket[b], id)
	}
	for b, ids := range byBucket {
		if err := g.backend.ack(ctx, bucketID(saleID, b), group, ids); err != nil {
			return err
		}
	}
	return nil
}
