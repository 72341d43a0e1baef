package funnel

import (
	"context"
	_ "embed"
	"errors"
	"fmt"
	"hash/fnv"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/shopspring/decimal"

	"github.com/shopkit/shopkit/internal/durable"
	"github.com/shopkit/shopkit/internal/keyspace"
	"github.com/shopkit/shopkit/internal/opscript"
)

var (
	//go:embed lua/ingest.lua
	ingestLua    string
	ingestScript = opscript.New(ingestLua)
)

// DefaultShards is how many hash tags a Redis store spreads users over
// when Options.Shards is zero.
const DefaultShards = 16

// MaxShards is the largest Options.Shards.
const MaxShards = 1024

// maxScriptEvents bounds one ingest script call, so no call holds the
// server for long; a batch is split into calls that go in one pipeline.
const maxScriptEvents = 512

// fieldSep separates a stored event's fields; IDs and dimension values
// cannot contain it (control characters are refused).
const fieldSep = "\x1f"

// RedisClient is the part of go-redis the Redis store uses.
// *redis.Client, *redis.ClusterClient, *redis.Ring and the failover clients
// implement it.
type RedisClient interface {
	redis.Scripter
	Pipelined(ctx context.Context, fn func(redis.Pipeliner) error) ([]redis.Cmder, error)
}

var _ RedisClient = redis.UniversalClient(nil)

// redisBackend keeps a store in Redis.
type redisBackend struct {
	client    RedisClient
	prefix    string
	shards    int
	hll       bool
	retention int64          // milliseconds
	policy    durable.Policy // replicas every shard's write waits for
}

var _ backend = (*redisBackend)(nil)

// NewRedis returns a store on Redis or Redis Cluster; see Options for the
// defaults. Users are spread over Options.Shards hash tags by a hash of
// their ID, so one user's events always share a slot and a batch is one
// script call per shard, all sent in one pipeline. Within a shard, events
// are laid out per UTC day and event name, so a query reads only the days
// and names it needs.
func NewRedis(client RedisClient, opts Options) (*Store, error) {
	prefix := opts.Prefix
	if prefix == "" {
		prefix = "shopkit:funnel"
	}
	if rule := keyspace.CheckPrefix(prefix); rule != "" {
		return nil, &InputError{Field: "Prefix", Rule: rule}
	}
	shards := opts.Shards
	if shards == 0 {
		shards = DefaultShards
	}
	if shards < 1 || shards > MaxShards {
		return nil, &InputError{Field: "Shards", Rule: "must be between 1 and " + strconv.Itoa(MaxShards)}
	}
	policy := durable.Policy{Replicas: opts.WaitReplicas, Timeout: opts.WaitTimeout}
	if rule := durable.CheckClient(client, policy); rule != "" {
		return nil, &InputError{Field: "WaitReplicas", Rule: rule}
	}
	return newStore(&redisBackend{client: client, prefix: prefix, shards: shards, hll: opts.HyperLogLog,
		retention: opts.retention() / 1000, policy: policy}, opts), nil
}

func (r *redisBackend) shardOf(userID string) int {
	h := fnv.New32a()
	_, _ = h.Write([]byte(userID))
	return int(h.Sum32() % uint32(r.shards))
}

// dayKey returns the key prefix of a shard's day: "{prefix:s}:d:YYYYMMDD".
func (r *redisBackend) dayKey(shard int, day int64) string {
	t := time.UnixMicro(day * dayMicros).UTC()
	return "{" + r.prefix + ":" + strconv.Itoa(shard) + "}:d:" + t.Format("20060102")
}

// batch is one ingest script call being built.
type batch struct {
	keys  []string
	index map[string]int  // key → its position in KEYS (1-based, as Lua counts)
	slots map[slot][4]int // the positions of a slot's ID set, list, name set, HLL
	args  []any
	n     int
}

// slot is where an event goes within its shard: its day and name.
type slot struct {
	day  int64
	name string
}

// positions returns the KEYS positions for events of day and name in
// shard, adding the keys on first use: the day's key prefix is formatted
// once per batch, not once per event.
func (r *redisBackend) positions(b *batch, shard int, day int64, name string) [4]int {
	sl := slot{day, name}
	if p, ok := b.slots[sl]; ok {
		return p
	}
	dk := r.dayKey(shard, day)
	add := func(k string) int {
		if i, ok := b.index[k]; ok {
			return i
		}
		b.keys = append(b.keys, k)
		b.index[k] = len(b.keys)
		return len(b.keys)
	}
	p := [4]int{add(dk + ":ids"), add(dk + ":e:" + name), add(dk + ":n"), 0}
	if r.hll {
		p[3] = add(dk + ":u:" + name)
	}
	b.slots[sl] = p
	return p
}

// ingest stores each shard's events atomically; a failure part-way may
// leave some shards written, and replaying the batch completes it without
// doubling anything.
func (r *redisBackend) ingest(ctx context.Context, events []Event) (Ingested, error) {
	open := make(map[int]*batch)
	var calls []*batch
	var sb strings.Builder
	for i := range events {
		e := &events[i]
		shard := r.shardOf(e.UserID)
		b := open[shard]
		if b == nil || b.n == maxScriptEvents {
			b = &batch{index: make(map[string]int), slots: make(map[slot][4]int)}
			open[shard] = b
			calls = append(calls, b)
		}
		micros := e.Time.Truncate(time.Microsecond).UnixMicro()
		day := dayOf(micros)
		p := r.positions(b, shard, day, e.Name)
		sb.Reset()
		encode(&sb, e, micros)
		b.args = append(b.args, p[0], p[1], p[2], p[3],
			(day+1)*dayMicros/1000+r.retention, e.ID, e.Name, e.UserID, sb.String())
		b.n++
	}
	cmds, err := r.runAll(ctx, calls)
	if err != nil {
		return Ingested{}, fmt.Errorf("funnel: ingest: %w", err)
	}
	var res Ingested
	for _, c := range cmds {
		v, err := c.Int64Slice()
		if err != nil || len(v) != 3 {
			return res, fmt.Errorf("funnel: ingest: unexpected reply %v: %w", v, err)
		}
		res.Stored += int(v[0])
		res.Duplicates += int(v[1])
		res.Expired += int(v[2])
	}
	return res, nil
}

// runAll sends every call in one pipeline (see opscript.RunPipelined), or,
// when replicas must acknowledge, each call with its own wait, since a
// wait covers only the writes of the node and connection it runs on.
func (r *redisBackend) runAll(ctx context.Context, calls []*batch) ([]*redis.Cmd, error) {
	if r.policy.Replicas > 0 {
		cmds := make([]*redis.Cmd, len(calls))
		for i, b := range calls {
			cmd, err := durable.Run(ctx, r.client, r.policy, ingestScript, b.keys, b.args...)
			if errors.Is(err, durable.ErrTimeout) {
				return nil, fmt.Errorf("%w (%w)", ErrNotReplicated, err)
			}
			if err != nil {
				return nil, err
			}
			cmds[i] = cmd
		}
		return cmds, nil
	}
	pc := make([]opscript.Call, len(calls))
	for i, b := range calls {
		pc[i] = opscript.Call{Keys: b.keys, Args: b.args}
	}
	return ingestScript.RunPipelined(ctx, r.client, pc)
}

// encode writes a stored event: ID, user, time (unix µs), amount, order,
// variant, channel, region and SKU, separated by fieldSep, and, when the
// event has properties, one more field with them (encodeProps). The name
// is the list's. Events stored before properties existed have nine fields
// and decode with none.
func encode(sb *strings.Builder, e *Event, micros int64) {
	sb.WriteString(e.ID)
	sb.WriteString(fieldSep)
	sb.WriteString(e.UserID)
	sb.WriteString(fieldSep)
	sb.WriteString(strconv.FormatInt(micros, 10))
	sb.WriteString(fieldSep)
	if !e.Amount.IsZero() {
		sb.WriteString(e.Amount.String())
	}
	for _, f := range [...]string{e.OrderID, e.Variant, e.Channel, e.Region, e.SKU} {
		sb.WriteString(fieldSep)
		sb.WriteString(f)
	}
	if len(e.Props) > 0 {
		sb.WriteString(fieldSep)
		sb.WriteString(encodeProps(e.Props))
	}
}

func decode(name, s string, withoutAmount bool) (Event, error) {
	var f [9]string
	for i := 0; i < 8; i++ {
		var ok bool
		if f[i], s, ok = strings.Cut(s, fieldSep); !ok {
			return Event{}, fmt.Errorf("funnel: malformed stored event %q", s)
		}
	}
	f[8] = s
	var props string
	if sku, rest, ok := strings.Cut(s, fieldSep); ok {
		f[8], props = sku, rest
	}
	micros, err := strconv.ParseInt(f[2], 10, 64)
	if err != nil {
		return Event{}, fmt.Errorf("funnel: malformed stored event time %q", f[2])
	}
	e := Event{ID: f[0], UserID: f[1], Name: name, Time: time.UnixMicro(micros).UTC(),
		OrderID: f[4], Variant: f[5], Channel: f[6], Region: f[7], SKU: f[8], Props: decodeProps(props)}
	if f[3] != "" && !withoutAmount {
		if e.Amount, err = decimal.NewFromString(f[3]); err != nil {
			return Event{}, fmt.Errorf("funnel: malformed stored amount %q", f[3])
		}
	}
	return e, nil
}

func checkScan(req *ScanRequest) error {
	if req.From.IsZero() || req.To.IsZero() {
		return &InputError{Field: "ScanRequest.From/To", Rule: "must be set"}
	}
	if !req.To.After(req.From) {
		return &InputError{Field: "ScanRequest.To", Rule: "must be after From"}
	}
	for i, n := range req.Names {
		if rule := keyspace.CheckID(n); rule != "" {
			return &InputError{Field: "ScanRequest.Names[" + strconv.Itoa(i) + "]", Rule: rule}
		}
	}
	return nil
}

// days lists the UTC days [from, to) touches.
func days(from, to time.Time) []int64 {
	first, last := dayOf(from.UnixMicro()), dayOf(to.UnixMicro()-1)
	if first < 0 {
		first = 0
	}
	var out []int64
	for d := first; d <= last; d++ {
		out = append(out, d)
	}
	return out
}

// scan reads one shard at a time, the next one while the current one is
// decoded and handed out, so memory grows with a shard's share of the
// range, not with the whole range.
func (r *redisBackend) scan(ctx context.Context, req scanQuery, fn func(string, []Event) error) error {
	ds := days(req.From, req.To)
	from, to := req.From.UnixMicro(), req.To.UnixMicro()
	readCtx, cancel := context.WithCancel(ctx)
	defer cancel() // stops the reader when fn fails or ctx ends
	ahead := make(chan shardRead, 1)
	go func() {
		defer close(ahead)
		for shard := 0; shard < r.shards; shard++ {
			sr := r.read(readCtx, shard, ds, req.Names)
			select {
			case ahead <- sr:
			case <-readCtx.Done():
				return
			}
			if sr.err != nil {
				return
			}
		}
	}()
	for sr := range ahead {
		if sr.err != nil {
			return sr.err
		}
		if err := handOut(sr, from, to, req.withoutAmounts, fn); err != nil {
			return err
		}
	}
	return ctx.Err() // the reader stops early only when ctx ended
}

// handOut decodes a shard's events and calls fn per user. Events are
// grouped by a counting sort — one pass numbers the users and counts
// their events, one places them — rather than by appending to a slice per
// user, which would copy each event several times as the slices grow.
func handOut(sr shardRead, from, to int64, withoutAmounts bool, fn func(string, []Event) error) error {
	n := 0
	for _, c := range sr.reads {
		n += len(c.Val())
	}
	decoded := make([]Event, 0, n)
	group := make([]int32, 0, n)
	index := make(map[string]int32)
	var users []string
	var counts []int
	for i, l := range sr.lists {
		for _, s := range sr.reads[i].Val() {
			e, err := decode(l.name, s, withoutAmounts)
			if err != nil {
				return err
			}
			if m := e.Time.UnixMicro(); m < from || m >= to {
				continue
			}
			g, ok := index[e.UserID]
			if !ok {
				g = int32(len(users))
				index[e.UserID] = g
				users = append(users, e.UserID)
				counts = append(counts, 0)
			}
			counts[g]++
			decoded = append(decoded, e)
			group = append(group, g)
		}
	}
	starts := make([]int, len(users)+1)
	for g, c := range counts {
		starts[g+1] = starts[g] + c
	}
	placed := make([]Event, len(decoded))
	next := append([]int(nil), starts[:len(users)]...)
	for i := range decoded {
		g := group[i]
		placed[next[g]] = decoded[i]
		next[g]++
	}
	for g, user := range users {
		evs := placed[starts[g]:starts[g+1]]
		slices.SortFunc(evs, compareEvents)
		if err := fn(user, evs); err != nil {
			return err
		}
	}
	return nil
}

// shardRead is one shard's event lists, read.
type shardRead struct {
	lists []list
	reads []*redis.StringSliceCmd
	err   error
}

func (r *redisBackend) read(ctx context.Context, shard int, ds []int64, names []string) shardRead {
	lists, err := r.lists(ctx, shard, ds, names)
	if err != nil || len(lists) == 0 {
		return shardRead{err: err}
	}
	reads := make([]*redis.StringSliceCmd, len(lists))
	if _, err := r.client.Pipelined(ctx, func(p redis.Pipeliner) error {
		for i, l := range lists {
			reads[i] = p.LRange(ctx, l.key, 0, -1)
		}
		return nil
	}); err != nil {
		return shardRead{err: fmt.Errorf("funnel: scan: %w", err)}
	}
	return shardRead{lists: lists, reads: reads}
}

type list struct{ key, name string }

// lists returns the event lists of a shard to read: the named ones, or
// every name recorded for each day when names is nil.
func (r *redisBackend) lists(ctx context.Context, shard int, ds []int64, names []string) ([]list, error) {
	var out []list
	if names != nil {
		for _, d := range ds {
			dk := r.dayKey(shard, d)
			for _, n := range names {
				out = append(out, list{dk + ":e:" + n, n})
			}
		}
		return out, nil
	}
	members := make([]*redis.StringSliceCmd, len(ds))
	if _, err := r.client.Pipelined(ctx, func(p redis.Pipeliner) error {
		for i, d := range ds {
			members[i] = p.SMembers(ctx, r.dayKey(shard, d)+":n")
		}
		return nil
	}); err != nil {
		return nil, fmt.Errorf("funnel: scan: %w", err)
	}
	for i, d := range ds {
		dk := r.dayKey(shard, d)
		for _, n := range members[i].Val() {
			out = append(out, list{dk + ":e:" + n, n})
		}
	}
	return out, nil
}

// approxUniques adds up, over shards (which hold disjoint users), the
// PFCOUNT of each shard's daily HyperLogLogs for the days the range
// touches.
func (r *redisBackend) approxUniques(ctx context.Context, q UniquesQuery) (int64, error) {
	name, from, to := q.Name, q.From, q.To
	if !r.hll {
		return 0, ErrNoApproximation
	}
	ds := days(from, to)
	counts := make([]*redis.IntCmd, r.shards)
	if _, err := r.client.Pipelined(ctx, func(p redis.Pipeliner) error {
		for s := range counts {
			keys := make([]string, len(ds))
			for i, d := range ds {
				keys[i] = r.dayKey(s, d) + ":u:" + name
			}
			counts[s] = p.PFCount(ctx, keys...)
		}
		return nil
	}); err != nil {
		return 0, fmt.Errorf("funnel: uniques: %w", err)
	}
	var n int64
	for _, c := range counts {
		n += c.Val()
	}
	return n, nil
}

// compareEvents orders events by Time, then ID, as Scan hands them out.
func compareEvents(a, b Event) int {
	if c := a.Time.Compare(b.Time); c != 0 {
		return c
	}
	return strings.Compare(a.ID, b.ID)
}
