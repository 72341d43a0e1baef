package inventory

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"
)

// Purchase orders in a spread store. Every order has a home record in the
// home group of its ID, "{…}:spo:<ID>" = "<expected ms>|<encoded lines>",
// claimed by Expect (so an ID reused for another order is a conflict
// wherever its lines live) and kept until nothing is open. An order whose
// lines all live in its home group is an ordinary order there, under its
// ID; any other is a sub-order "<ID>:h" in each group with lines, holding
// that group's lines. A spread order's claim also puts its ID in the home
// group's pending index, "{…}:spox", which it leaves once every group
// expects it; until then the order's next read or request, or the
// recovery sweep once the entry is older than Spread.RecoverAfter,
// expects it in every group first (an Expect is a replay in a group that
// has it). A Receive or CancelIncoming of a spread order runs as an
// intent on the home group, as a Ship of a spread reservation does: every
// group is checked before any applies it, and a caller that dies in
// between leaves the intent for a retry, the order's next request or the
// recovery sweep to finish.

// poIntentSuffix names an order's intents beside reservations' in the
// home group's intents hash: no reservation ID holds a ':'.
const poIntentSuffix = ":po"

func (b *spreadBackend) poHomeKey(id string) string {
	return b.groups[b.home(id)].tag + ":spo:" + id
}

// poSub names order id's order in group g.
func (b *spreadBackend) poSub(id string, spread bool) string {
	if spread {
		return id + holdSuffix
	}
	return id
}

// poPendingKey is group h's index of the spread orders claimed there that
// some group may not expect yet: order ID -> when claimed (ms).
func (b *spreadBackend) poPendingKey(h int) string { return b.groups[h].tag + ":spox" }

func (b *spreadBackend) expect(ctx context.Context, id string, at time.Time, lines []Line) (Incoming, error) {
	h := b.home(id)
	home := strconv.FormatInt(at.UnixMilli(), 10) + "|" + encodeLines(lines)
	groups, _ := b.byGroup(lines)
	spread := len(groups) > 1 || groups[0] != h
	keys, args := []string{b.poHomeKey(id)}, []any{"claim", home, 0}
	if spread {
		keys, args = append(keys, b.poPendingKey(h)), append(args, id)
	}
	cmd, err := b.groups[h].run(ctx, claimScript, keys, args...)
	if err != nil {
		return Incoming{}, fmt.Errorf("inventory: expect %s: %w", id, err)
	}
	if ok, _ := cmd.Int64(); ok != 1 {
		return Incoming{}, ErrIDConflict
	}
	if !spread {
		// One group: the claim without the order is what a failure here
		// leaves, and a retry of the same order completes it.
		in, err := b.groups[h].expect(ctx, id, at, lines)
		if err != nil {
			return Incoming{}, err
		}
		return mergeIncoming(id, lines, groups, []Incoming{in}), nil
	}
	return b.expectEverywhere(ctx, id, at, lines)
}

// expectEverywhere expects spread order id in every group with its lines,
// a replay in a group that already does, and then takes it out of its home
// group's pending index.
func (b *spreadBackend) expectEverywhere(ctx context.Context, id string, at time.Time, lines []Line) (Incoming, error) {
	groups, parts := b.byGroup(lines)
	got := make([]Incoming, len(groups))
	err := eachGroup(groups, func(i, g int) error {
		if i > 0 && b.crashed("expect:some") {
			return errCrashed
		}
		var err error
		got[i], err = b.groups[g].expect(ctx, id+holdSuffix, at, parts[g])
		return err
	})
	if err != nil {
		// The order is expected in some groups only, and stays pending.
		return Incoming{}, err
	}
	if err := b.unpend(ctx, id); err != nil {
		return Incoming{}, fmt.Errorf("inventory: expect %s: %w", id, err)
	}
	return mergeIncoming(id, lines, groups, got), nil
}

// unpend takes order id out of its home group's pending index.
func (b *spreadBackend) unpend(ctx context.Context, id string) error {
	_, err := b.client.Pipelined(ctx, func(p redis.Pipeliner) error {
		p.ZRem(ctx, b.poPendingKey(b.home(id)), id)
		return nil
	})
	return err
}

// mergeIncoming puts the groups' parts of order id back together, lines
// in the order's order.
func mergeIncoming(id string, lines []Line, groups []int, parts []Incoming) Incoming {
	out := Incoming{PurchaseOrder: id, Complete: true, Replayed: true}
	for i := range groups {
		out.ExpectedAt = parts[i].ExpectedAt
		out.Complete = out.Complete && parts[i].Complete
		out.Replayed = out.Replayed && parts[i].Replayed
	}
	for _, l := range lines {
		for i := range groups {
			j := slices.IndexFunc(parts[i].Lines, func(x IncomingLine) bool { return x.SKU == l.SKU && x.Location == l.Location })
			if j >= 0 {
				out.Lines = append(out.Lines, parts[i].Lines[j])
				break
			}
		}
	}
	return out
}

// order reads order id's home record: its expected time, lines and
// whether it is spread. A spread order still pending is first expected in
// every group, so that no request ever meets it in some groups only.
func (b *spreadBackend) order(ctx context.Context, id string) (at time.Time, lines []Line, spread bool, err error) {
	h := b.home(id)
	var get *redis.StringCmd
	var pending *redis.FloatCmd
	if _, err := b.client.Pipelined(ctx, func(p redis.Pipeliner) error {
		get = p.Get(ctx, b.poHomeKey(id))
		pending = p.ZScore(ctx, b.poPendingKey(h), id)
		return nil
	}); err != nil && !errors.Is(err, redis.Nil) {
		return time.Time{}, nil, false, fmt.Errorf("inventory: purchase order %s: %w", id, err)
	}
	ms, enc, ok := strings.Cut(get.Val(), "|")
	if !ok {
		return time.Time{}, nil, false, ErrNotFound
	}
	n, _ := strconv.ParseInt(ms, 10, 64)
	if lines, err = decodeLines(enc); err != nil {
		return time.Time{}, nil, false, fmt.Errorf("inventory: purchase order %s: %w", id, err)
	}
	at = time.UnixMilli(n)
	groups, _ := b.byGroup(lines)
	spread = len(groups) > 1 || groups[0] != h
	if spread && pending.Err() == nil {
		if _, err := b.expectEverywhere(ctx, id, at, lines); err != nil {
			return time.Time{}, nil, false, err
		}
	}
	return at, lines, spread, nil
}

// recoverExpects finishes the Expects of group h's spread orders pending
// longer than Spread.RecoverAfter: their callers died, or gave up, before
// every group expected the order. An entry whose order is gone, or whose
// home record cannot be read, goes too: one malformed record must not stop
// every sweep.
func (b *spreadBackend) recoverExpects(ctx context.Context, h, pages int) error {
	due := strconv.FormatInt(time.Now().Add(-b.spread.RecoverAfter).UnixMilli(), 10)
	for range pages {
		var rng *redis.StringSliceCmd
		if _, err := b.client.Pipelined(ctx, func(p redis.Pipeliner) error {
			rng = p.ZRangeByScore(ctx, b.poPendingKey(h), &redis.ZRangeBy{Min: "-inf", Max: due, Count: sweepEntries})
			return nil
		}); err != nil {
			return fmt.Errorf("inventory: recover: %w", err)
		}
		for _, id := range rng.Val() {
			var get *redis.StringCmd
			if _, err := b.client.Pipelined(ctx, func(p redis.Pipeliner) error {
				get = p.Get(ctx, b.poHomeKey(id))
				return nil
			}); err != nil && !errors.Is(err, redis.Nil) {
				return fmt.Errorf("inventory: recover: %w", err)
			}
			ms, enc, _ := strings.Cut(get.Val(), "|")
			n, errAt := strconv.ParseInt(ms, 10, 64)
			lines, errLines := decodeLines(enc)
			if get.Err() != nil || errAt != nil || errLines != nil {
				if err := b.unpend(ctx, id); err != nil {
					return fmt.Errorf("inventory: recover: %w", err)
				}
				continue
			}
			if _, err := b.expectEverywhere(ctx, id, time.UnixMilli(n), lines); isAnswer(err) {
				// A group refuses the order (its sub-order's ID taken
				// with other lines): no retry can change that.
				if err := b.unpend(ctx, id); err != nil {
					return fmt.Errorf("inventory: recover: %w", err)
				}
			} else if err != nil {
				return fmt.Errorf("inventory: recover: %w", err)
			}
		}
		if len(rng.Val()) < sweepEntries {
			return nil
		}
	}
	return nil
}

func (b *spreadBackend) arrive(ctx context.Context, receive bool, id, poID string, lines []Line) (Incoming, error) {
	h := b.home(poID)
	_, _, spread, err := b.order(ctx, poID)
	if errors.Is(err, ErrNotFound) || err == nil && !spread {
		// An order of its home group, or none (the group answers, from
		// the request's record if the order is gone).
		in, err := b.groups[h].arrive(ctx, receive, id, poID, lines)
		if err == nil && in.Complete {
			err = b.retireOrder(ctx, poID)
		}
		return in, err
	}
	if err != nil {
		return Incoming{}, err
	}
	key := poID + poIntentSuffix
	intent := arrivalOpName(receive) + " " + id + " " + encodeLines(lines)
	_, in, err := b.runIntent(ctx, h, key, intent)
	return in, err
}

// applyArrival checks intent ("<receive|cancel> <request ID> <encoded
// lines>") against every group of spread order poID, then applies it to
// the groups it names, and reports every line of the order.
func (b *spreadBackend) applyArrival(ctx context.Context, poID, intent string) (Incoming, error) {
	op, rest, _ := strings.Cut(intent, " ")
	reqID, enc, _ := strings.Cut(rest, " ")
	lines, err := decodeLines(enc)
	if err != nil {
		return Incoming{}, fmt.Errorf("inventory: %s %s: %w", op, reqID, err)
	}
	_, poLines, _, err := b.order(ctx, poID)
	if err != nil {
		return Incoming{}, err
	}
	poGroups, poParts := b.byGroup(poLines)
	reqGroups, reqParts := b.byGroup(lines)
	fp := op + "|" + poID + "|" + enc
	sub := poID + holdSuffix
	// run sends mode+op to every group the request names; replies are
	// incoming.lua's, per group.
	run := func(mode string) ([]string, error) {
		out := make([]string, len(reqGroups))
		err := eachGroup(reqGroups, func(i, g int) error {
			if mode == "" && i > 0 && b.crashed("arrive:some") {
				return errCrashed
			}
			var err error
			out[i], err = b.groups[g].arriveOnce(ctx, mode+op, reqID+holdSuffix, sub, encodeLines(poParts[g]), fp, poParts[g], reqParts[g])
			return err
		})
		return out, err
	}
	answer := func(g int, reply string) (Incoming, error) {
		if reply == strconv.Itoa(incomingNotFound) {
			// No part of the order in this group: the request names an
			// item the order does not bring.
			l := reqParts[g][0]
			return Incoming{}, &IncomingError{PurchaseOrder: poID, SKU: l.SKU, Location: l.Location, Requested: l.Quantity}
		}
		return b.groups[g].incomingReply(op, reqID, poID, reply, reqParts[g])
	}
	checked, err := run("check-")
	if err != nil {
		return Incoming{}, err
	}
	replays := 0
	for _, r := range checked {
		if strings.HasPrefix(r, strconv.Itoa(incomingReplayed)+" ") {
			replays++
		}
	}
	final := checked
	if replays == 0 {
		for i, r := range checked {
			if r != strconv.Itoa(incomingChecked) {
				if _, err := answer(reqGroups[i], r); err != nil {
					return Incoming{}, err
				}
			}
		}
	}
	if replays < len(reqGroups) {
		if final, err = run(""); err != nil {
			return Incoming{}, err
		}
	}
	// The order's lines: the request's groups from their replies, the
	// others read as they stand.
	parts := make([]Incoming, len(poGroups))
	err = eachGroup(poGroups, func(i, g int) error {
		if k := slices.Index(reqGroups, g); k >= 0 {
			in, err := answer(g, final[k])
			parts[i] = in
			return err
		}
		in, err := b.groups[g].purchaseOrder(ctx, sub)
		parts[i] = in
		return err
	})
	if err != nil {
		return Incoming{}, err
	}
	for k, g := range reqGroups {
		if !slices.Contains(poGroups, g) {
			// Only an item the order does not bring is in this group.
			if _, err := answer(g, final[k]); err != nil {
				return Incoming{}, err
			}
		}
	}
	out := mergeIncoming(poID, poLines, poGroups, parts)
	out.Replayed = replays == len(reqGroups)
	return out, nil
}

// purchaseOrder reads the order's home record, then its part in each
// group.
func (b *spreadBackend) purchaseOrder(ctx context.Context, id string) (Incoming, error) {
	_, lines, spread, err := b.order(ctx, id)
	if err != nil {
		return Incoming{}, err
	}
	groups, _ := b.byGroup(lines)
	parts := make([]Incoming, len(groups))
	err = eachGroup(groups, func(i, g int) error {
		var err error
		parts[i], err = b.groups[g].purchaseOrder(ctx, b.poSub(id, spread))
		return err
	})
	if err != nil {
		return Incoming{}, err
	}
	out := mergeIncoming(id, lines, groups, parts)
	out.Replayed = false
	return out, nil
}
