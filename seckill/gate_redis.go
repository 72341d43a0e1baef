package seckill

import (
	"context"
	_ "embed"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/shopkit/shopkit/internal/batch"
	"github.com/shopkit/shopkit/internal/keyspace"
	"github.com/shopkit/shopkit/internal/opscript"
)

var (
	//go:embed lua/open.lua
	openLua    string
	openScript = opscript.New(openLua)

	//go:embed lua/admit.lua
	admitLua    string
	admitScript = opscript.New(admitLua)

	//go:embed lua/settle.lua
	settleLua    string
	settleScript = opscript.New(settleLua)

	//go:embed lua/transfer.lua
	transferLua    string
	transferScript = opscript.New(transferLua)
)

// GateRedisClient is the part of go-redis the Redis gate uses.
type GateRedisClient interface {
	redis.Scripter
	HGet(ctx context.Context, key, field string) *redis.StringCmd
	HMGet(ctx context.Context, key string, fields ...string) *redis.SliceCmd
	Publish(ctx context.Context, channel string, message any) *redis.IntCmd
	Subscribe(ctx context.Context, channels ...string) *redis.PubSub
	XGroupCreateMkStream(ctx context.Context, stream, group, start string) *redis.StatusCmd
	XAutoClaim(ctx context.Context, a *redis.XAutoClaimArgs) *redis.XAutoClaimCmd
	XReadGroup(ctx context.Context, a *redis.XReadGroupArgs) *redis.XStreamSliceCmd
	XAck(ctx context.Context, stream, group string, ids ...string) *redis.IntCmd
	PExpireAt(ctx context.Context, key string, tm time.Time) *redis.BoolCmd
	Pipelined(ctx context.Context, fn func(redis.Pipeliner) error) ([]redis.Cmder, error)
}

var _ GateRedisClient = redis.UniversalClient(nil)

// NewRedisGate returns a Gate whose sales live in Redis. Sale S uses keys
// under the hash tag "<prefix>{S}" (one slot per sale, so sales spread
// over a Cluster): ":sale", ":users", ":requests", ":tickets", ":unpaid"
// and the order queue stream ":queue". Gates sharing a prefix tell each
// other when a sale sells out or reopens over the channel
// "<prefix>:events", so every instance's fast path stays right; Close
// stops listening. opts.Prefix defaults to "shopkit:sale".
func NewRedisGate(client GateRedisClient, opts GateOptions) (*Gate, error) {
	prefix := opts.Prefix
	if prefix == "" {
		prefix = "shopkit:sale"
	}
	if rule := keyspace.CheckPrefix(prefix); rule != "" {
		return nil, &InputError{Field: "Prefix", Rule: rule}
	}
	run, err := newRunner(client, opts.WaitReplicas, opts.WaitTimeout)
	if err != nil {
		return nil, err
	}
	rg := &redisGate{client: client, prefix: prefix, channel: prefix + ":events", runner: run, retention: retentionOf(opts)}
	g := newGate(rg, opts)
	rg.listen(g)
	return g, nil
}

type redisGate struct {
	client  GateRedisClient
	prefix  string
	channel string
	runner  // mutating scripts: once per call, waiting for replicas
	// retention is how long a sale's keys outlive its end and last
	// payment deadline.
	retention time.Duration

	sub  *redis.PubSub
	wg   sync.WaitGroup
	once sync.Once

	// batchers holds one batcher per sale (bucket) admitted to, a few
	// hundred bytes each, kept for the gate's life.
	batchers sync.Map // sale (bucket) ID → *batch.Batcher[*admitCall]
}

func (r *redisGate) keys(saleID string) []string {
	tag := keyspace.IDTag(r.prefix, saleID) // saleID is "S" or bucket "S:b"
	return []string{tag + ":sale", tag + ":users", tag + ":requests", tag + ":tickets", tag + ":unpaid", tag + ":queue"}
}

// listen applies sold-out and reopened events from every instance to g's
// fast path.
func (r *redisGate) listen(g *Gate) {
	r.sub = r.client.Subscribe(context.Background(), r.channel)
	ch := r.sub.Channel()
	r.wg.Add(1)
	go func() {
		defer r.wg.Done()
		for msg := range ch {
			kind, sale, ok := strings.Cut(msg.Payload, " ")
			if !ok {
				continue
			}
			g.markSoldOut(sale, kind == "soldout")
		}
	}()
}

// announce publishes a sold-out or reopened event. Best effort: a missed
// event only costs other instances a round trip (they learn "sold out"
// from their own next Admit).
func (r *redisGate) announce(ctx context.Context, saleID string, soldOut bool) {
	kind := "open"
	if soldOut {
		kind = "soldout"
	}
	_ = r.client.Publish(ctx, r.channel, kind+" "+saleID).Err()
}

func (r *redisGate) buckets(ctx context.Context, saleID string) (int, error) {
	v, err := r.client.HMGet(ctx, r.keys(saleID)[0], "n").Result()
	if err != nil {
		return 0, fmt.Errorf("seckill: sale %s: %w", saleID, err)
	}
	s, ok := v[0].(string)
	if !ok {
		return 0, ErrUnknownSale
	}
	n, err := strconv.Atoi(s)
	if err != nil || n < 1 {
		return 0, fmt.Errorf("seckill: sale %s: malformed bucket count %q", saleID, s)
	}
	return n, nil
}

func (r *redisGate) take(ctx context.Context, saleID string, min int64, opID string) (int64, error) {
	n, err := int64Reply(r.runAs(ctx, opID, transferScript, r.keys(saleID)[:1], "take", min))
	if err != nil {
		return 0, fmt.Errorf("seckill: rebalance %s: %w", saleID, err)
	}
	return n, nil
}

func (r *redisGate) give(ctx context.Context, saleID string, n int64, opID string) error {
	if _, err := r.runAs(ctx, opID, transferScript, r.keys(saleID)[:1], "give", n); err != nil {
		return fmt.Errorf("seckill: rebalance %s: %w", saleID, err)
	}
	return nil
}

func fingerprint(s Sale) string {
	return s.SKU + "|" + strconv.FormatInt(s.Units, 10) + "|" + strconv.FormatInt(s.Start.UnixMilli(), 10) + "|" +
		strconv.FormatInt(s.End.UnixMilli(), 10) + "|" + strconv.FormatInt(s.PerUserLimit, 10) + "|" +
		strconv.FormatInt(s.PayWithin.Milliseconds(), 10) + "|" + strconv.Itoa(s.Buckets)
}

func (r *redisGate) open(ctx context.Context, s Sale) error {
	expireAt := s.End.Add(s.PayWithin + r.retention).UnixMilli()
	ok, err := int64Reply(r.run(ctx, openScript, r.keys(s.ID)[:1], s.Units, s.Start.UnixMilli(), s.End.UnixMilli(),
		s.PerUserLimit, s.PayWithin.Milliseconds(), fingerprint(s), s.Buckets, expireAt))
	if err != nil {
		return fmt.Errorf("seckill: open %s: %w", s.ID, err)
	}
	if ok == 0 {
		return ErrSaleConflict
	}
	return nil
}

// admitCall is one admission waiting in, or being served by, a batch.
type admitCall struct {
	user, request string
	qty           int64
	done          chan struct{}

	// Set by the batch before done is closed.
	out Admission
	err error
}

// Done is closed once the batch has served the call.
func (c *admitCall) Done() <-chan struct{} { return c.done }

// maxAdmitBatch caps the admissions one script call applies: a batch of
// 128 keeps Redis busy for well under a millisecond.
const maxAdmitBatch = 128

// admit queues the admission with the others for the same sale (bucket):
// concurrent admissions to a hot sale share one script call, which applies
// them one after another, each atomic and in arrival order.
func (r *redisGate) admit(ctx context.Context, saleID, userID, requestID string, qty int64) (Admission, error) {
	b, ok := r.batchers.Load(saleID)
	if !ok {
		nb := &batch.Batcher[*admitCall]{Max: maxAdmitBatch}
		keys := r.keys(saleID)
		nb.Run = func(calls []*admitCall) { r.runAdmits(saleID, keys, calls) }
		b, _ = r.batchers.LoadOrStore(saleID, nb)
	}
	c := &admitCall{user: userID, request: requestID, qty: qty, done: make(chan struct{})}
	b.(*batch.Batcher[*admitCall]).Submit(c)
	select {
	case <-c.done:
		return c.out, c.err
	case <-ctx.Done():
		// The batch may still admit the request; replaying its ID
		// returns the outcome.
		return Admission{}, ctx.Err()
	}
}

// runAdmits runs admit.lua once for calls and completes each.
func (r *redisGate) runAdmits(saleID string, keys []string, calls []*admitCall) {
	args := make([]any, 0, 3*len(calls))
	for _, c := range calls {
		args = append(args, c.user, c.request, c.qty)
	}
	// One caller's cancellation must not fail the others in the batch; the
	// client's read and write timeouts still bound the call.
	var reply string
	cmd, err := r.run(context.Background(), admitScript, keys, args...)
	if err == nil {
		reply, err = cmd.Text()
	}
	var rows []string
	if err == nil {
		if rows = strings.Split(reply, "\n"); len(rows) != len(calls) {
			err = fmt.Errorf("unexpected script reply %q", reply)
		}
	}
	for i, c := range calls {
		if err == nil {
			c.out, c.err = parseAdmission(saleID, c, rows[i])
		} else {
			c.err = fmt.Errorf("seckill: admit %s: %w", saleID, err)
		}
		close(c.done)
	}
}

// parseAdmission reads one line of admit.lua's reply.
func parseAdmission(saleID string, c *admitCall, row string) (Admission, error) {
	f := strings.Split(row, "|")
	if len(f) != 4 {
		return Admission{}, fmt.Errorf("seckill: admit %s: unexpected script reply %q", saleID, row)
	}
	code, err1 := strconv.Atoi(f[0])
	deadline, err2 := strconv.ParseInt(f[2], 10, 64)
	if err1 != nil || err2 != nil {
		return Admission{}, fmt.Errorf("seckill: admit %s: unexpected script reply %q", saleID, row)
	}
	switch code {
	case admitUnknownSale:
		return Admission{}, ErrUnknownSale
	case admitConflict:
		return Admission{}, ErrRequestConflict
	}
	a := Admission{Outcome: Outcome(code), Replayed: f[3] == "1"}
	if a.Outcome == Admitted {
		a.Ticket = Ticket{ID: f[1], SaleID: saleID, UserID: c.user, Quantity: c.qty, Deadline: time.UnixMilli(deadline)}
	}
	return a, nil
}

// replay reads a request's record as admit.lua wrote it:
// "<user>|<qty>|<outcome>|<ticket>|<deadline>". Only the user may contain
// '|' (tickets are "t<seq>" or empty), so the record splits from the right.
func (r *redisGate) replay(ctx context.Context, saleID, userID, requestID string, qty int64) (Admission, bool, error) {
	rec, err := r.client.HGet(ctx, r.keys(saleID)[2], requestID).Result()
	if err == redis.Nil {
		return Admission{}, false, nil
	}
	if err != nil {
		return Admission{}, false, fmt.Errorf("seckill: admit %s: %w", saleID, err)
	}
	f := strings.Split(rec, "|")
	if len(f) < 5 {
		return Admission{}, false, fmt.Errorf("seckill: admit %s: malformed request record %q", saleID, rec)
	}
	tail := f[len(f)-4:]
	if strings.Join(f[:len(f)-4], "|") != userID || tail[0] != strconv.FormatInt(qty, 10) {
		return Admission{}, false, ErrRequestConflict
	}
	c := &admitCall{user: userID, qty: qty}
	a, err := parseAdmission(saleID, c, tail[1]+"|"+tail[2]+"|"+tail[3]+"|1")
	return a, err == nil, err
}

func (r *redisGate) pay(ctx context.Context, saleID, ticketID string) (Ticket, error) {
	state, t, err := r.settleTicket(ctx, "pay", saleID, ticketID)
	switch {
	case err != nil:
		return Ticket{}, err
	case state == payUnknown:
		return Ticket{}, ErrUnknownTicket
	case state == payExpired:
		return Ticket{}, ErrTicketExpired
	}
	return t, nil
}

func (r *redisGate) cancel(ctx context.Context, saleID, ticketID string) (Ticket, error) {
	state, t, err := r.settleTicket(ctx, "cancel", saleID, ticketID)
	switch {
	case err != nil:
		return Ticket{}, err
	case state == payUnknown:
		return Ticket{}, ErrUnknownTicket
	case state == payPaid:
		return Ticket{}, ErrTicketPaid
	}
	return t, nil
}

// settleTicket runs settle.lua's op (pay or cancel) on a ticket and
// returns the ticket's state and the ticket as the script reports them.
func (r *redisGate) settleTicket(ctx context.Context, op, saleID, ticketID string) (int64, Ticket, error) {
	k := r.keys(saleID)
	var res []any
	cmd, err := r.run(ctx, settleScript, []string{k[0], k[1], k[3], k[4]}, op, ticketID)
	if err == nil {
		res, err = cmd.Slice()
	}
	if err != nil {
		return 0, Ticket{}, fmt.Errorf("seckill: %s %s: %w", op, ticketID, err)
	}
	if len(res) != 4 {
		return 0, Ticket{}, fmt.Errorf("seckill: %s %s: unexpected script reply %v", op, ticketID, res)
	}
	state, _ := res[0].(int64)
	user, _ := res[1].(string)
	qty, _ := res[2].(int64)
	deadline, _ := res[3].(int64)
	return state, Ticket{ID: ticketID, SaleID: saleID, UserID: user, Quantity: qty, Deadline: time.UnixMilli(deadline)}, nil
}

func (r *redisGate) ended(ctx context.Context, saleID string) (bool, error) {
	vs, err := r.client.HMGet(ctx, r.keys(saleID)[0], "end").Result()
	if err != nil {
		return false, fmt.Errorf("seckill: sale %s: %w", saleID, err)
	}
	v, ok := vs[0].(string)
	if !ok {
		return false, ErrUnknownSale
	}
	ms, err := strconv.ParseInt(v, 10, 64)
	if err != nil {
		return false, fmt.Errorf("seckill: sale %s: stored end %q: %w", saleID, v, err)
	}
	return !time.Now().Before(time.UnixMilli(ms)), nil
}

// settleOnce records a sale's settlement unless one is recorded, and
// returns the recorded one: a resend finds the first call's numbers, so
// it needs no operation record.
var settleOnce = opscript.NewIdempotent(`redis.call('HSETNX', KEYS[1], 'settled', ARGV[1])
return redis.call('HGET', KEYS[1], 'settled')`)

// settle records the settlement in the sale's hash: the first writer's
// numbers stand.
func (r *redisGate) settle(ctx context.Context, saleID string, sold, unsold int64) (int64, int64, error) {
	cmd, err := r.run(ctx, settleOnce, r.keys(saleID)[:1], fmt.Sprintf("%d|%d", sold, unsold))
	var v string
	if err == nil {
		v, err = cmd.Text()
	}
	if err != nil {
		return 0, 0, fmt.Errorf("seckill: settle %s: %w", saleID, err)
	}
	var s, u int64
	if _, err := fmt.Sscanf(v, "%d|%d", &s, &u); err != nil {
		return 0, 0, fmt.Errorf("seckill: settle %s: stored settlement %q: %w", saleID, v, err)
	}
	return s, u, nil
}

func (r *redisGate) extend(ctx context.Context, saleID, ticketID string, within time.Duration) (Ticket, error) {
	k := r.keys(saleID)
	var res []any
	cmd, err := r.run(ctx, settleScript, []string{k[0], k[1], k[3], k[4]}, "extend", ticketID, within.Milliseconds())
	if err == nil {
		res, err = cmd.Slice()
	}
	if err != nil {
		return Ticket{}, fmt.Errorf("seckill: extend %s: %w", ticketID, err)
	}
	if len(res) != 4 {
		return Ticket{}, fmt.Errorf("seckill: extend %s: unexpected script reply %v", ticketID, res)
	}
	state, _ := res[0].(int64)
	user, _ := res[1].(string)
	qty, _ := res[2].(int64)
	deadline, _ := res[3].(int64)
	switch state {
	case payUnknown:
		return Ticket{}, ErrUnknownTicket
	case payPaid:
		return Ticket{}, ErrTicketPaid
	case payExpired:
		return Ticket{}, ErrTicketExpired
	}
	return Ticket{ID: ticketID, SaleID: saleID, UserID: user, Quantity: qty, Deadline: time.UnixMilli(deadline)}, nil
}

// admit.lua's negative outcomes, as its header lists them; the positive
// ones are the Outcome values.
const (
	admitUnknownSale = -1
	admitConflict    = -2
)

// settle.lua's pay states, as its header lists them.
const (
	payUnknown   = 0
	payPaid      = 1
	payExpired   = 2
	payCancelled = 3 // cancel only: cancelled by this call
)

// sweepBatch is how many tickets one sweep script reads (whole unpaid
// index entries, so up to one admitted batch more), and sweepPages how
// many scripts one Sweep runs per bucket: a call's work is bounded (about
// 10,000 tickets a bucket), and the next call takes the rest.
const (
	sweepBatch = 500
	sweepPages = 20
)

func (r *redisGate) sweep(ctx context.Context, saleID string) (int, error) {
	k := r.keys(saleID)
	total := 0
	for range sweepPages {
		res, err := settleScript.Run(ctx, r.client, []string{k[0], k[1], k[3], k[4]}, "sweep", sweepBatch).Int64Slice()
		if err != nil {
			return total, fmt.Errorf("seckill: sweep %s: %w", saleID, err)
		}
		if len(res) != 2 {
			return total, fmt.Errorf("seckill: sweep %s: unexpected script reply %v", saleID, res)
		}
		total += int(res[0])
		if res[1] == 0 { // nothing due is left
			break
		}
	}
	return total, nil
}

func (r *redisGate) status(ctx context.Context, saleID string) (SaleStatus, error) {
	v, err := r.client.HMGet(ctx, r.keys(saleID)[0], "u", "r", "h", "p").Result()
	if err != nil {
		return SaleStatus{}, fmt.Errorf("seckill: status %s: %w", saleID, err)
	}
	if v[0] == nil {
		return SaleStatus{}, ErrUnknownSale
	}
	n := func(i int) int64 {
		s, _ := v[i].(string)
		x, _ := strconv.ParseInt(s, 10, 64)
		return x
	}
	return SaleStatus{Units: n(0), Remaining: n(1), Held: n(2), Paid: n(3)}, nil
}

func (r *redisGate) consume(ctx context.Context, saleID, group, consumer string, count int, minIdle time.Duration) ([]QueuedTicket, error) {
	k := r.keys(saleID)
	stream := k[5]
	v, err := r.client.HMGet(ctx, k[0], "u", "x").Result()
	if err != nil {
		return nil, fmt.Errorf("seckill: consume %s: %w", saleID, err)
	} else if v[0] == nil {
		return nil, ErrUnknownSale
	}
	if err := r.client.XGroupCreateMkStream(ctx, stream, group, "0").Err(); err != nil && !strings.HasPrefix(err.Error(), "BUSYGROUP") {
		return nil, fmt.Errorf("seckill: consume %s: %w", saleID, err)
	} else if err == nil {
		// The group may have made the stream: it expires with the sale.
		x, _ := v[1].(string)
		if ms, perr := strconv.ParseInt(x, 10, 64); perr == nil {
			if err := r.client.PExpireAt(ctx, stream, time.UnixMilli(ms)).Err(); err != nil {
				return nil, fmt.Errorf("seckill: consume %s: %w", saleID, err)
			}
		}
	}
	msgs, _, err := r.client.XAutoClaim(ctx, &redis.XAutoClaimArgs{
		Stream: stream, Group: group, Consumer: consumer, MinIdle: minIdle, Start: "0-0", Count: int64(count),
	}).Result()
	if err != nil {
		return nil, fmt.Errorf("seckill: consume %s: %w", saleID, err)
	}
	if left := count - len(msgs); left > 0 {
		streams, err := r.client.XReadGroup(ctx, &redis.XReadGroupArgs{
			Group: group, Consumer: consumer, Streams: []string{stream, ">"}, Count: int64(left), Block: -1,
		}).Result()
		if err != nil && err != redis.Nil {
			return nil, fmt.Errorf("seckill: consume %s: %w", saleID, err)
		}
		for _, s := range streams {
			msgs = append(msgs, s.Messages...)
		}
	}
	out := make([]QueuedTicket, 0, len(msgs))
	for _, m := range msgs {
		str := func(k string) string { v, _ := m.Values[k].(string); return v }
		qty, _ := strconv.ParseInt(str("qty"), 10, 64)
		dl, _ := strconv.ParseInt(str("deadline"), 10, 64)
		out = append(out, QueuedTicket{MessageID: m.ID, Ticket: Ticket{ID: str("ticket"), SaleID: saleID,
			UserID: str("user"), Quantity: qty, Deadline: time.UnixMilli(dl)}})
	}
	return out, nil
}

func (r *redisGate) ack(ctx context.Context, saleID, group string, ids []string) error {
	if len(ids) == 0 {
		return nil
	}
	if err := r.client.XAck(ctx, r.keys(saleID)[5], group, ids...).Err(); err != nil {
		return fmt.Errorf("seckill: ack %s: %w", saleID, err)
	}
	return nil
}

func (r *redisGate) close() error {
	var err error
	r.once.Do(func() {
		err = r.sub.Close()
		r.wg.Wait()
	})
	return err
}
