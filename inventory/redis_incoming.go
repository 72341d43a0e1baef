package inventory

import (
	"context"
	_ "embed"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/shopkit/shopkit/internal/opscript"
)

var (
	//go:embed lua/incoming.lua
	incomingLua    string
	incomingScript = opscript.New(backorderLua + incomingLua)
)

// orderKey is purchase order id's record; arrivalKey is the record of
// Receive or CancelIncoming request id; arrivalsKey is the sorted set of
// the open orders bringing units of an item, by expected date.
func (s *redisBackend) orderKey(id string) string   { return s.tag + ":po:" + id }
func (s *redisBackend) arrivalKey(id string) string { return s.tag + ":r:" + id }
func (s *redisBackend) arrivalsKey(sku, location string) string {
	return s.tag + ":in:" + sku + ":" + location
}

// incoming.lua's statuses, as its header lists them.
const (
	incomingNotFound = 0
	incomingStale    = 1
	incomingDone     = 2
	incomingConflict = 3
	incomingTooMany  = 4
	incomingReplayed = 6
	incomingTooLarge = 7
	incomingChecked  = 8
)

func (s *redisBackend) expect(ctx context.Context, id string, at time.Time, lines []Line) (Incoming, error) {
	ms := at.UnixMilli()
	enc := encodeLines(lines)
	keys := []string{s.orderKey(id)}
	args := []any{"expect", id, ms, enc, MaxQuantity, len(lines)}
	for _, l := range lines {
		keys = append(keys, s.stockKey(l.SKU, l.Location), s.arrivalsKey(l.SKU, l.Location))
		args = append(args, l.Quantity)
	}
	reply, err := text(s.run(ctx, incomingScript, keys, args...))
	if err != nil {
		return Incoming{}, fmt.Errorf("inventory: expect %s: %w", id, err)
	}
	in, err := s.incomingReply("expect", id, id, reply, lines)
	if err == nil && !in.Complete {
		s.ordered.put(id, enc, lines, nil)
	}
	return in, err
}

// arrive runs incoming.lua for a Receive or CancelIncoming. The script
// needs the order's stock keys: it takes its lines from ordered when this
// process expected the order (one round trip), else reads them first
// (two); the script checks them against the order's. When the order is
// gone it still runs, without them, so that a replay is answered from
// the request's own record.
func (s *redisBackend) arrive(ctx context.Context, receive bool, id, poID string, lines []Line) (Incoming, error) {
	op := arrivalOpName(receive)
	fp := op + "|" + poID + "|" + encodeLines(lines)
	enc, poLines, _, cached := s.ordered.get(poID)
	for try := 0; try < maxTransitionTries; try++ {
		if !cached {
			var err error
			enc, err = s.client.HGet(ctx, s.orderKey(poID), "l").Result()
			if err != nil && !errors.Is(err, redis.Nil) {
				return Incoming{}, fmt.Errorf("inventory: %s %s: %w", op, id, err)
			}
			if poLines, err = decodeLines(enc); err != nil {
				return Incoming{}, fmt.Errorf("inventory: %s %s: purchase order %s: %w", op, id, poID, err)
			}
		}
		reply, err := s.arriveOnce(ctx, op, id, poID, enc, fp, poLines, lines)
		if err != nil {
			return Incoming{}, err
		}
		if reply == strconv.Itoa(incomingStale) || reply == strconv.Itoa(incomingNotFound) && cached {
			// The cached lines were stale (the order was forgotten and
			// its ID reused), or the order appeared or changed under us:
			// read it again.
			s.ordered.drop(poID)
			cached = false
			continue
		}
		in, err := s.incomingReply(op, id, poID, reply, lines)
		if in.Complete || errors.Is(err, ErrNotFound) {
			s.ordered.drop(poID)
		}
		return in, err
	}
	return Incoming{}, fmt.Errorf("inventory: %s %s: purchase order kept changing; retry", op, id)
}

// arriveOnce runs incoming.lua's op (receive, cancel, check-receive or
// check-cancel) on order poID, whose lines are poLines (encoded enc), for
// request id's lines, and returns the script's reply.
func (s *redisBackend) arriveOnce(ctx context.Context, op, id, poID, enc, fp string, poLines, lines []Line) (string, error) {
	keys := []string{s.orderKey(poID), s.arrivalKey(id)}
	for _, l := range poLines {
		keys = append(keys, s.stockKey(l.SKU, l.Location), s.arrivalsKey(l.SKU, l.Location))
	}
	args := []any{op, poID, enc, fp, s.opts.Retention.Milliseconds(), MaxQuantity, len(lines)}
	for _, l := range lines {
		at := slices.IndexFunc(poLines, func(r Line) bool { return r.SKU == l.SKU && r.Location == l.Location })
		args = append(args, at+1, l.Quantity)
	}
	reply, err := text(s.run(ctx, incomingScript, keys, args...))
	if err != nil {
		return "", fmt.Errorf("inventory: %s %s: %w", op, id, err)
	}
	return reply, nil
}

// incomingReply turns incoming.lua's reply into the call's outcome; lines
// are the request's, for the errors that name one.
func (s *redisBackend) incomingReply(op, id, poID, reply string, lines []Line) (Incoming, error) {
	head, tail, _ := strings.Cut(reply, "\n")
	r, ok := parseInts(head)
	switch {
	case !ok || len(r) == 0:
	case r[0] == incomingNotFound:
		return Incoming{}, ErrNotFound
	case r[0] == incomingConflict:
		return Incoming{}, ErrIDConflict
	case r[0] == incomingTooMany && len(r) == 3 && r[1] >= 1 && int(r[1]) <= len(lines):
		l := lines[r[1]-1]
		return Incoming{}, &IncomingError{PurchaseOrder: poID, SKU: l.SKU, Location: l.Location, Requested: l.Quantity, Open: r[2]}
	case r[0] == incomingTooLarge && len(r) == 2 && r[1] >= 1 && int(r[1]) <= len(lines):
		rule := "would take on hand above 2^53-1"
		if op == "expect" {
			rule = "would take incoming above 2^53-1"
		}
		return Incoming{}, &InputError{Field: "Lines[" + strconv.FormatInt(r[1]-1, 10) + "].Quantity", Rule: rule}
	case r[0] == incomingDone || r[0] == incomingReplayed:
		if out, ok := decodeIncoming(poID, r[1:], tail); ok {
			out.Replayed = r[0] == incomingReplayed
			return out, nil
		}
	}
	return Incoming{}, fmt.Errorf("inventory: %s %s: unexpected script reply %q", op, id, reply)
}

// decodeIncoming builds an order's state from "<complete> <expected ms>
// r1 c1 r2 c2 ..." (as ints) and its encoded lines.
func decodeIncoming(poID string, r []int64, enc string) (Incoming, bool) {
	lines, err := decodeLines(enc)
	if err != nil || len(r) != 2+2*len(lines) {
		return Incoming{}, false
	}
	out := Incoming{PurchaseOrder: poID, ExpectedAt: time.UnixMilli(r[1]), Lines: make([]IncomingLine, len(lines)), Complete: r[0] == 1}
	for j, l := range lines {
		out.Lines[j] = IncomingLine{SKU: l.SKU, Location: l.Location, Quantity: l.Quantity, Received: r[2+2*j], Cancelled: r[3+2*j]}
	}
	return out, true
}

func (s *redisBackend) purchaseOrder(ctx context.Context, id string) (Incoming, error) {
	var cmd *redis.SliceCmd
	if _, err := s.client.Pipelined(ctx, func(p redis.Pipeliner) error {
		cmd = p.HMGet(ctx, s.orderKey(id), "e", "l", "p")
		return nil
	}); err != nil {
		return Incoming{}, fmt.Errorf("inventory: purchase order %s: %w", id, err)
	}
	v := cmd.Val()
	at, _ := v[0].(string)
	enc, _ := v[1].(string)
	p, _ := v[2].(string)
	if at == "" {
		return Incoming{}, ErrNotFound
	}
	// The record holds the progress; whether it is complete follows from
	// it, as the script decides.
	r, ok := parseInts("0 " + at + " " + p)
	out, good := decodeIncoming(id, r, enc)
	if !ok || !good {
		return Incoming{}, fmt.Errorf("inventory: purchase order %s: unreadable record", id)
	}
	out.Complete = true
	for _, l := range out.Lines {
		out.Complete = out.Complete && l.Open() == 0
	}
	return out, nil
}
