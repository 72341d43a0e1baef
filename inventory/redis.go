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

	"github.com/shopkit/shopkit/internal/batch"
	"github.com/shopkit/shopkit/internal/durable"
	"github.com/shopkit/shopkit/internal/keyspace"
	"github.com/shopkit/shopkit/internal/opscript"
)

var _ backend = (*redisBackend)(nil)

// RedisClient is the part of go-redis the Redis store uses. *redis.Client,
// *redis.ClusterClient, *redis.Ring and the failover clients implement it.
type RedisClient interface {
	redis.Scripter
	HGet(ctx context.Context, key, field string) *redis.StringCmd
	Pipelined(ctx context.Context, fn func(redis.Pipeliner) error) ([]redis.Cmder, error)
}

var _ RedisClient = redis.UniversalClient(nil)

var (
	// backorderLua is the backorder queue's functions, put before the
	// text of every script that moves stock.
	//go:embed lua/backorder.lua
	backorderLua string

	// recordsLua is how finished records are forgotten, put before the
	// scripts that forget them.
	//go:embed lua/records.lua
	recordsLua string

	//go:embed lua/reserve.lua
	reserveLua    string
	reserveScript = opscript.New(backorderLua + recordsLua + reserveLua)

	//go:embed lua/transitions.lua
	transitionsLua    string
	transitionsScript = opscript.New(backorderLua + recordsLua + transitionsLua)

	//go:embed lua/adjust.lua
	adjustLua    string
	adjustScript = opscript.New(backorderLua + adjustLua)

	//go:embed lua/due.lua
	dueLua    string
	dueScript = opscript.New(dueLua)

	//go:embed lua/fulfil.lua
	fulfilLua    string
	fulfilScript = opscript.New(backorderLua + fulfilLua)
)

// redisBackend keeps a store on Redis or Redis Cluster.
type redisBackend struct {
	client RedisClient
	policy durable.Policy // replicas every write waits for
	opts   Options
	tag    string // "{prefix}"
	expKey string // expiry index
	resKey string // records hash
	finKey string // finished records by forget time
	fulKey string // shipping progress of committed reservations
	// homeKey, in a stock group of a spread store, is the group's hash of
	// spread reservations' home records (see spread.go); "" otherwise.
	homeKey string

	batcher    batch.Batcher[*reserveCall]
	moves      batch.Batcher[*transitionCall] // Commit, Release, Extend, touches
	wantLevels bool                           // report levels after each new reservation
	// held remembers the lines of reservations this process made, so a
	// Commit, Release or Extend of one is a single round trip: the script
	// needs the stock keys in KEYS, and without the lines at hand the
	// record must be read first.
	held lineCache
	// ordered remembers the lines of purchase orders this process
	// expected, so a Receive or CancelIncoming of one is a single round
	// trip, for the same reason.
	ordered lineCache
}

// NewRedis returns a store on Redis or Redis Cluster. Every mutation is one
// Lua script; all keys of a store share the hash tag {Prefix}, so each
// script runs on one Cluster node. Concurrent Reserve calls are coalesced
// into one script call (up to Options.MaxBatch), which is what makes a hot
// SKU fast: one round trip and one script dispatch carry many reservations,
// each still all-or-nothing and idempotent.
//
// With opts.Spread set, the store's items are spread over stock groups on
// several hash tags instead (see Spread).
//
// It fails only if opts.Prefix or opts.Spread is invalid or
// opts.WaitReplicas needs a client that cannot wait. If opts.SweepInterval is positive it starts a
// background sweeper; call Close to stop it.
func NewRedis(client RedisClient, opts Options) (*Store, error) {
	opts = opts.withDefaults()
	if rule := keyspace.CheckPrefix(opts.Prefix); rule != "" {
		return nil, &InputError{Field: "Prefix", Rule: rule}
	}
	policy := durable.Policy{Replicas: opts.WaitReplicas, Timeout: opts.WaitTimeout}
	if rule := durable.CheckClient(client, policy); rule != "" {
		return nil, &InputError{Field: "WaitReplicas", Rule: rule}
	}
	if opts.Spread.Groups != 0 {
		return newRedisSpread(client, policy, opts)
	}
	return newStore(newRedisBackend(client, policy, opts), opts), nil
}

// newRedisBackend returns the backend of one store, or of one stock group
// of a spread store, on the hash tag {opts.Prefix}.
func newRedisBackend(client RedisClient, policy durable.Policy, opts Options) *redisBackend {
	s := &redisBackend{
		client:     client,
		policy:     policy,
		opts:       opts,
		tag:        keyspace.Tag(opts.Prefix),
		wantLevels: opts.Observer != nil && opts.LowStockThreshold != nil,
	}
	s.expKey = s.tag + ":x"
	s.resKey = s.tag + ":res"
	s.finKey = s.tag + ":fin"
	s.fulKey = s.tag + ":ful"
	s.batcher.Max, s.batcher.Run = opts.MaxBatch, s.runReserveBatch
	s.moves.Max, s.moves.Run = opts.MaxBatch, s.runTransitions
	return s
}

func (s *redisBackend) stockKey(sku, location string) string {
	return s.tag + ":s:" + sku + ":" + location
}
func (s *redisBackend) adjKey(id string) string { return s.tag + ":a:" + id }

// fulfilKey is the record of Ship or Return request id. "f" is not "a",
// so it never meets an adjustment's record.
func (s *redisBackend) fulfilKey(id string) string { return s.tag + ":f:" + id }

func (s *redisBackend) adjust(ctx context.Context, id string, it Item, set bool, value int64, reason Reason) (Level, int64, error) {
	sku, loc, mode := it.SKU, it.Location, "d"
	if set {
		mode = "s"
	}
	fp := adjustFingerprint(id, it, set, value, reason)
	res, err := int64s(s.run(ctx, adjustScript, []string{s.stockKey(sku, loc), s.adjKey(id)},
		mode, value, fp, s.opts.Retention.Milliseconds(), MaxQuantity))
	if err != nil {
		return Level{}, -1, fmt.Errorf("inventory: adjust %s: %w", id, err)
	}
	switch {
	case res[0] == adjustApplied && len(res) == 6:
		return Level{SKU: sku, Location: loc, OnHand: res[1], Reserved: res[2], Committed: res[4], Backordered: res[5]}, res[3], nil
	case res[0] == adjustReplayed && len(res) == 5:
		return Level{SKU: sku, Location: loc, OnHand: res[1], Reserved: res[2], Committed: res[3], Backordered: res[4]}, -1, nil
	case res[0] == adjustConflict:
		return Level{}, -1, ErrIDConflict
	case res[0] == adjustBelowReserved && len(res) == 5:
		return Level{}, -1, &ReservedError{SKU: sku, Location: loc, OnHand: res[1], Reserved: res[2], Committed: res[3], Backordered: res[4]}
	case res[0] == adjustTooLarge:
		return Level{}, -1, &InputError{Field: "Delta", Rule: "would take on hand above 2^53-1"}
	}
	return Level{}, -1, fmt.Errorf("inventory: adjust %s: unexpected script reply %v", id, res)
}

// adjustFingerprint tells a replay of adjustment id from a reuse of its ID.
func adjustFingerprint(_ string, it Item, set bool, value int64, reason Reason) string {
	mode := "d"
	if set {
		mode = "s"
	}
	return mode + "|" + it.SKU + "|" + it.Location + "|" + strconv.FormatInt(value, 10) + "|" + string(reason)
}

// adjust.lua's statuses, as its header lists them.
const (
	adjustApplied       = 1
	adjustReplayed      = 2
	adjustConflict      = 3
	adjustBelowReserved = 4
	adjustTooLarge      = 5
)

// reserve.lua's row statuses, as its header lists them.
const (
	reserveDone        = 1
	reserveReplayed    = 2
	reserveConflict    = 3
	reserveShort       = 4
	reserveBackordered = 5
)

// reserve.lua's ARGV[3] flags, as its header lists them.
const (
	reserveWantLevels = 1
	reserveHomeCheck  = 2
)

// transitions.lua's statuses, as its header lists them.
const (
	transitionNotFound = 0
	transitionStale    = 1
	transitionDone     = 2
)

// reserveCall is one Reserve waiting in, or being served by, a batch.
type reserveCall struct {
	id       string
	lines    []Line
	enc      string
	ttl      time.Duration
	stockKey []string // per line
	done     chan struct{}

	// Set by the batch before done is closed.
	out      Reservation
	err      error
	levels   []int64 // on hand, reserved, committed and backordered after each line, when reserved
	headDue  bool    // a shortage while some hold was already due
	expired  bool    // a replay expired the reservation
	reserved bool
}

// Done is closed once the batch has served the call.
func (c *reserveCall) Done() <-chan struct{} { return c.done }

func (s *redisBackend) reserve(ctx context.Context, id string, lines []Line, ttl time.Duration) (reserved, error) {
	call, err := s.reserveOnce(ctx, id, lines, ttl)
	if err != nil {
		return reserved{due: call.headDue}, err
	}
	if call.out.State == Held {
		s.held.put(id, call.enc, lines, call.stockKey)
	}
	r := reserved{out: call.out, expired: call.expired}
	if call.reserved && len(call.levels) > 0 {
		r.levels = make([]Level, len(lines))
		for i, l := range lines {
			v := call.levels[4*i:]
			r.levels[i] = Level{SKU: l.SKU, Location: l.Location, OnHand: v[0], Reserved: v[1], Committed: v[2], Backordered: v[3]}
		}
	}
	return r, nil
}

func (s *redisBackend) reserveOnce(ctx context.Context, id string, lines []Line, ttl time.Duration) (*reserveCall, error) {
	// Build everything that does not depend on the batch here, in the
	// caller's goroutine, to keep the serial batch loop short.
	call := &reserveCall{id: id, lines: lines, enc: encodeLines(lines), ttl: ttl,
		stockKey: make([]string, len(lines)), done: make(chan struct{})}
	for i, l := range lines {
		call.stockKey[i] = s.stockKey(l.SKU, l.Location)
	}
	s.batcher.Submit(call)
	select {
	case <-call.done:
		return call, call.err
	case <-ctx.Done():
		// The batch may still apply the reservation; replaying the ID
		// returns it, or releasing it returns its stock.
		return call, ctx.Err()
	}
}

// runReserveBatch sends one reserve script call for calls and completes
// each. A call whose ID already appears earlier in calls goes in a following
// batch, so that it sees the first one's record as a replay would.
func (s *redisBackend) runReserveBatch(calls []*reserveCall) {
	seen := make(map[string]struct{}, len(calls))
	var later []*reserveCall
	batch := calls[:0:0]
	for _, c := range calls {
		if _, dup := seen[c.id]; dup {
			later = append(later, c)
			continue
		}
		seen[c.id] = struct{}{}
		batch = append(batch, c)
	}
	s.sendReserveBatch(batch)
	if len(later) > 0 {
		s.runReserveBatch(later)
	}
}

// sendReserveBatch runs reserve.lua for calls, whose IDs are distinct.
func (s *redisBackend) sendReserveBatch(calls []*reserveCall) {
	// KEYS: expiry index, records, finished records, then distinct stock
	// keys. ARGV: see reserve.lua.
	keys := make([]string, 3, 5+len(calls))
	keys[0], keys[1], keys[2] = s.expKey, s.resKey, s.finKey
	index := make(map[string]int, 4)
	flags := 0
	if s.wantLevels {
		flags |= reserveWantLevels
	}
	if s.homeKey != "" {
		// A stock group of a spread store: an ID that names a spread
		// reservation's home record here is taken (see spread.go).
		flags |= reserveHomeCheck
		keys = append(keys, s.homeKey)
	}
	// Group IDs by TTL; usually every call in a batch has the same TTL.
	var ttls []time.Duration
	var members []*strings.Builder
	ttlIndex := make([]int, len(calls))
	for i, c := range calls {
		j := slices.Index(ttls, c.ttl)
		if j < 0 {
			ttls = append(ttls, c.ttl)
			members = append(members, &strings.Builder{})
			j = len(ttls) - 1
		} else {
			members[j].WriteByte(' ')
		}
		members[j].WriteString(c.id)
		ttlIndex[i] = j + 1
	}
	args := make([]any, 0, 4+2*len(ttls)+len(calls)*6)
	args = append(args, s.opts.Retention.Milliseconds(), len(calls), flags, len(ttls))
	for j, ttl := range ttls {
		args = append(args, ttl.Milliseconds(), members[j].String())
	}
	for _, c := range calls {
		args = append(args, c.id)
	}
	// Shapes: the distinct (TTL, lines) of the batch, each sent once.
	type shape struct {
		ttl int
		enc string
	}
	shapeNum := make(map[shape]int, 1)
	var shapeCalls []int // per shape, the first call with it
	for i, c := range calls {
		sh := shape{ttlIndex[i], c.enc}
		num, ok := shapeNum[sh]
		if !ok {
			shapeCalls = append(shapeCalls, i)
			num = len(shapeCalls)
			shapeNum[sh] = num
		}
		args = append(args, num)
	}
	args = append(args, len(shapeCalls))
	for _, i := range shapeCalls {
		c := calls[i]
		args = append(args, ttlIndex[i], c.enc, len(c.lines))
		for j, l := range c.lines {
			k := c.stockKey[j]
			ki, ok := index[k]
			if !ok {
				keys = append(keys, k)
				ki = len(keys)
				index[k] = ki
			}
			args = append(args, ki, l.Quantity)
		}
	}
	// One caller's cancellation must not fail the others in the batch; the
	// client's read and write timeouts still bound the call.
	reply, err := text(s.run(context.Background(), reserveScript, keys, args...))
	var rows []string
	if err == nil {
		rows = strings.Split(reply, "\n")
		if len(rows) != len(calls)+1 {
			err = fmt.Errorf("unexpected reply %q", reply)
		}
	}
	var now, head int64
	if err == nil {
		tail, ok := parseInts(rows[len(calls)])
		if !ok || len(tail) != 2 {
			err = fmt.Errorf("unexpected reply %q", reply)
		} else {
			now, head = tail[0], tail[1]
		}
	}
	headDue := head >= 0 && head <= now
	for i, c := range calls {
		if err != nil {
			c.err = fmt.Errorf("inventory: reserve %s: %w", c.id, err)
		} else {
			s.completeReserve(c, rows[i], now, headDue)
		}
		close(c.done)
	}
}

func (s *redisBackend) completeReserve(c *reserveCall, row string, now int64, headDue bool) {
	if row == "1" { // the hot path: reserved, no levels asked for
		c.reserved = true
		c.out = Reservation{ID: c.id, Lines: c.lines, State: Held, Deadline: time.UnixMilli(now + c.ttl.Milliseconds())}
		return
	}
	r, ok := parseInts(row)
	if !ok || len(r) == 0 {
		c.err = fmt.Errorf("inventory: reserve %s: unexpected script reply %q", c.id, row)
		return
	}
	m := len(c.lines)
	switch {
	case r[0] == reserveDone && (len(r) == 1 || len(r) == 1+4*m):
		c.reserved = true
		c.levels = r[1:]
		c.out = Reservation{ID: c.id, Lines: c.lines, State: Held, Deadline: time.UnixMilli(now + c.ttl.Milliseconds())}
	case r[0] == reserveBackordered && (len(r) == 1+m || len(r) == 1+5*m):
		c.reserved = true
		c.levels = r[1+m:]
		c.out = Reservation{ID: c.id, Lines: c.lines, State: Held, Deadline: time.UnixMilli(now + c.ttl.Milliseconds()),
			Backorders: waitingLines(c.lines, r[1:1+m])}
	case r[0] == reserveReplayed && (len(r) == 4 || len(r) == 4+m):
		c.expired = r[3] == 1
		c.out = Reservation{ID: c.id, Lines: c.lines, State: State(r[1]), Deadline: time.UnixMilli(r[2]), Replayed: true,
			Backorders: waitingLines(c.lines, r[4:])}
	case r[0] == reserveConflict:
		c.err = ErrIDConflict
	case r[0] == reserveShort && len(r) == 3 && r[1] >= 1 && int(r[1]) <= len(c.lines):
		l := c.lines[r[1]-1]
		c.err = &StockError{SKU: l.SKU, Location: l.Location, Requested: l.Quantity, Available: r[2]}
		c.headDue = headDue
	default:
		c.err = fmt.Errorf("inventory: reserve %s: unexpected script reply %q", c.id, row)
	}
}

// maxTransitionTries bounds retries when a record is replaced between the
// read of its lines and the script; that needs an ID to be forgotten and
// reused in between, so a second try practically always succeeds.
const maxTransitionTries = 3

// transition runs the transition script on reservation id. The script
// needs the reservation's stock keys in KEYS: it takes its lines from held
// when this process made the reservation (one round trip), else reads the
// record first (two). The script checks the lines it is given are the
// record's, so a stale cache entry or a record replaced in between costs a
// retry, never a wrong transition.
func (s *redisBackend) transition(ctx context.Context, top transitionOp, id string, ttl time.Duration) (transitioned, error) {
	op := transitionNames[top]
	enc, lines, keys, cached := s.held.get(id)
	for try := 0; try < maxTransitionTries; try++ {
		if !cached {
			var err error
			if enc, lines, err = s.readLines(ctx, op, id); err != nil {
				return transitioned{}, err
			}
			keys = nil
		}
		call := s.newTransitionCall(op, id, enc, lines, keys, ttl)
		s.moves.Submit(call)
		select {
		case <-call.done:
		case <-ctx.Done():
			// The batch may still apply it; repeating the call learns the
			// outcome.
			return transitioned{}, ctx.Err()
		}
		if call.err != nil {
			return transitioned{}, fmt.Errorf("inventory: %s %s: %w", op, id, call.err)
		}
		res := call.res
		switch res[0] {
		case transitionNotFound:
			s.held.drop(id)
			return transitioned{}, ErrNotFound
		case transitionStale:
			s.held.drop(id)
			cached = false
			continue
		}
		// The caller gets its own copy of the lines: they may be the
		// line cache's, which later transitions take quantities from.
		t := transitioned{
			out: Reservation{ID: id, Lines: slices.Clone(lines), State: State(res[1]), Deadline: time.UnixMilli(res[2]),
				Backorders: waitingLines(lines, call.waiting)},
			expired: res[3] == 1,
			changed: res[4] == 1,
		}
		// Finished: no further transition needs its lines, unless it is
		// committed with Options.Shipping, when Ship and Return will.
		if t.out.State != Held && !(s.opts.Shipping && t.out.State == Committed) {
			s.held.drop(id)
		}
		return t, nil
	}
	return transitioned{}, fmt.Errorf("inventory: %s %s: record kept changing; retry", op, id)
}

// transitionCall is one transition waiting in, or served by, a batch of
// transitions.lua.
type transitionCall struct {
	op, id, enc string
	ttl         time.Duration
	lines       []Line   // read only: may be the line cache's
	stockKey    []string // per line; read only, as lines
	done        chan struct{}

	// Set by the batch before done is closed.
	res     [5]int64 // code, state, deadline, expired, changed
	waiting []int64  // units of each line that wait for stock, if any does
	err     error
}

// Done is closed once the batch has served the call.
func (c *transitionCall) Done() <-chan struct{} { return c.done }

// newTransitionCall makes the call of op on reservation id, whose lines
// are encoded as enc. keys are the lines' stock keys, or nil to derive
// them; a reservation this process made has them cached, which spares a
// commit building a key per line.
func (s *redisBackend) newTransitionCall(op, id, enc string, lines []Line, keys []string, ttl time.Duration) *transitionCall {
	if keys == nil {
		keys = make([]string, len(lines))
		for i, l := range lines {
			keys[i] = s.stockKey(l.SKU, l.Location)
		}
	}
	return &transitionCall{op: op, id: id, enc: enc, ttl: ttl, lines: lines, stockKey: keys, done: make(chan struct{})}
}

// runTransitions runs one transitions.lua call for calls and completes
// each. Calls on the same ID apply in order, each seeing the one before.
func (s *redisBackend) runTransitions(calls []*transitionCall) {
	// One caller's cancellation must not fail the others in the batch; the
	// client's read and write timeouts still bound the call.
	rows, err := s.transitions(context.Background(), calls)
	for i, c := range calls {
		if err != nil {
			c.err = err
		} else {
			c.res, c.waiting = rows[i].res, rows[i].waiting
		}
		close(c.done)
	}
}

// transitionRow is one call's reply row from transitions.lua.
type transitionRow struct {
	res     [5]int64 // code, state, deadline, expired, changed
	waiting []int64  // per line, when an item of the reservation has backorders
}

// transitions runs transitions.lua for calls and returns each call's
// reply row.
func (s *redisBackend) transitions(ctx context.Context, calls []*transitionCall) ([]transitionRow, error) {
	keys := make([]string, 4, 5+len(calls))
	keys[0], keys[1], keys[2], keys[3] = s.expKey, s.resKey, s.finKey, s.fulKey
	index := make(map[string]int, 4)
	shipping := 0
	if s.opts.Shipping {
		shipping = 1
	}
	// Shapes: the distinct lines of the batch, each sent once. Equal
	// encoded lines are equal lines, so the first call with them stands
	// for the others.
	shapeNum := make(map[string]int, 1)
	var shapeCalls []*transitionCall
	for _, c := range calls {
		if _, ok := shapeNum[c.enc]; !ok {
			shapeCalls = append(shapeCalls, c)
			shapeNum[c.enc] = len(shapeCalls)
		}
	}
	args := make([]any, 0, 4+len(shapeCalls)*4+len(calls)*4)
	args = append(args, s.opts.Retention.Milliseconds(), len(calls), shipping, len(shapeCalls))
	for _, c := range shapeCalls {
		args = append(args, c.enc, len(c.lines))
		for j, k := range c.stockKey {
			ki, ok := index[k]
			if !ok {
				keys = append(keys, k)
				ki = len(keys)
				index[k] = ki
			}
			args = append(args, ki, c.lines[j].Quantity)
		}
	}
	for _, c := range calls {
		args = append(args, c.op, c.id, shapeNum[c.enc], c.ttl.Milliseconds())
	}
	reply, err := text(s.run(ctx, transitionsScript, keys, args...))
	if err != nil {
		return nil, err
	}
	lines := strings.Split(reply, "\n")
	if len(lines) != len(calls) {
		return nil, fmt.Errorf("unexpected script reply %q", reply)
	}
	out := make([]transitionRow, len(calls))
	for i, row := range lines {
		v, ok := parseInts(row)
		if !ok || len(v) != 5 && len(v) != 5+len(calls[i].lines) {
			return nil, fmt.Errorf("unexpected script reply %q", reply)
		}
		copy(out[i].res[:], v)
		if len(v) > 5 {
			out[i].waiting = v[5:]
		}
	}
	return out, nil
}

// readLines reads reservation id's encoded lines from its record.
func (s *redisBackend) readLines(ctx context.Context, op, id string) (string, []Line, error) {
	rec, err := s.client.HGet(ctx, s.resKey, id).Result()
	if errors.Is(err, redis.Nil) {
		return "", nil, ErrNotFound
	}
	if err != nil {
		return "", nil, fmt.Errorf("inventory: %s %s: %w", op, id, err)
	}
	enc, ok := recordLines(rec)
	if !ok {
		return "", nil, fmt.Errorf("inventory: %s %s: malformed reservation record", op, id)
	}
	lines, err := decodeLines(enc)
	if err != nil {
		return "", nil, fmt.Errorf("inventory: %s %s: %w", op, id, err)
	}
	return enc, lines, nil
}

// transitionNames are transitions.lua's names of the ops.
var transitionNames = [...]string{opTouch: "touch", opExtend: "extend", opCommit: "commit", opRelease: "release", opCancel: "cancel"}

func (s *redisBackend) levels(ctx context.Context, items []Item) ([]Level, error) {
	cmds := make([]*redis.SliceCmd, len(items))
	next := make([]*redis.ZSliceCmd, len(items))
	_, err := s.client.Pipelined(ctx, func(p redis.Pipeliner) error {
		for i, it := range items {
			cmds[i] = p.HMGet(ctx, s.stockKey(it.SKU, it.Location), "h", "r", "c", "i", "w")
			next[i] = p.ZRangeWithScores(ctx, s.arrivalsKey(it.SKU, it.Location), 0, 0)
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("inventory: levels: %w", err)
	}
	out := make([]Level, len(items))
	for i, it := range items {
		v := cmds[i].Val()
		out[i] = Level{SKU: it.SKU, Location: it.Location, OnHand: parseInt(v[0]), Reserved: parseInt(v[1]), Committed: parseInt(v[2]), Incoming: parseInt(v[3]), Backordered: parseInt(v[4])}
		if z := next[i].Val(); len(z) == 1 {
			out[i].NextArrival = time.UnixMilli(int64(z[0].Score))
		}
	}
	return out, nil
}

// fulfil.lua's statuses, as its header lists them.
const (
	fulfilNotFound     = 0
	fulfilStale        = 1
	fulfilDone         = 2
	fulfilConflict     = 3
	fulfilTooMany      = 4
	fulfilNotCommitted = 5
	fulfilReplayed     = 6
	fulfilChecked      = 7
)

// fulfil runs fulfil.lua. The script needs the reservation's stock keys:
// it takes its lines from held when this process made and committed the
// reservation (one round trip), else reads the record first (two); the
// script checks them against the record, as transition's does. When the
// record is gone it still runs, without them, so that a replay of a
// request whose reservation was forgotten is answered from the request's
// own record.
func (s *redisBackend) fulfil(ctx context.Context, ship bool, id, resID string, lines []Line) (Fulfilment, error) {
	op := fulfilOpName(ship)
	fp := op + "|" + resID + "|" + encodeLines(lines)
	enc, resLines, _, cached := s.held.get(resID)
	for try := 0; try < maxTransitionTries; try++ {
		if !cached {
			var err error
			enc, resLines, err = s.readLines(ctx, op, resID)
			if err != nil && !errors.Is(err, ErrNotFound) {
				return Fulfilment{}, err
			}
		}
		keys, args := s.fulfilArgs(op, id, resID, enc, fp, resLines, lines)
		reply, err := text(s.run(ctx, fulfilScript, keys, args...))
		if err != nil {
			return Fulfilment{}, fmt.Errorf("inventory: %s %s: %w", op, id, err)
		}
		head, tail, _ := strings.Cut(reply, "\n")
		r, ok := parseInts(head)
		if !ok || len(r) == 0 {
			return Fulfilment{}, fmt.Errorf("inventory: %s %s: unexpected script reply %q", op, id, reply)
		}
		switch {
		case r[0] == fulfilNotFound:
			s.held.drop(resID)
			return Fulfilment{}, ErrNotFound
		case r[0] == fulfilStale:
			// The cached lines were stale, or the record changed under
			// us: read it again.
			s.held.drop(resID)
			cached = false
			continue
		case r[0] == fulfilConflict:
			return Fulfilment{}, ErrIDConflict
		case r[0] == fulfilNotCommitted && len(r) == 2:
			return Fulfilment{}, &StateError{ID: resID, Op: op, State: State(r[1])}
		case r[0] == fulfilTooMany && len(r) == 4 && r[1] >= 1 && int(r[1]) <= len(lines):
			l := lines[r[1]-1]
			return Fulfilment{}, &FulfilError{Reservation: resID, SKU: l.SKU, Location: l.Location, Requested: l.Quantity, Committed: r[2], Waiting: r[3]}
		case r[0] == fulfilDone || r[0] == fulfilReplayed:
			// A replay's lines come from its own record: the
			// reservation's may be gone.
			recLines, err := decodeLines(tail)
			if err != nil || len(r) != 2+2*len(recLines) {
				break
			}
			out := Fulfilment{Reservation: resID, Lines: make([]FulfilmentLine, len(recLines)), Complete: r[1] == 1, Replayed: r[0] == fulfilReplayed}
			for j, l := range recLines {
				out.Lines[j] = FulfilmentLine{SKU: l.SKU, Location: l.Location, Quantity: l.Quantity, Shipped: r[2+2*j], Returned: r[3+2*j]}
			}
			if out.Complete {
				s.held.drop(resID)
			}
			return out, nil
		}
		return Fulfilment{}, fmt.Errorf("inventory: %s %s: unexpected script reply %q", op, id, reply)
	}
	return Fulfilment{}, fmt.Errorf("inventory: %s %s: record kept changing; retry", op, id)
}

// fulfilArgs are fulfil.lua's keys and arguments for op (see its header)
// under request id on reservation resID, whose lines are resLines (encoded
// enc), for the request's lines and fingerprint fp.
func (s *redisBackend) fulfilArgs(op, id, resID, enc, fp string, resLines, lines []Line) ([]string, []any) {
	keys := make([]string, 4, 5+len(resLines))
	keys[0], keys[1], keys[2], keys[3] = s.resKey, s.finKey, s.fulKey, s.fulfilKey(id)
	args := []any{op, resID, enc, fp, s.opts.Retention.Milliseconds(), len(resLines)}
	for _, l := range resLines {
		keys = append(keys, s.stockKey(l.SKU, l.Location))
		args = append(args, l.Quantity)
	}
	keys = append(keys, s.fulfilledKey(resID))
	args = append(args, len(lines))
	for _, l := range lines {
		at := slices.IndexFunc(resLines, func(r Line) bool { return r.SKU == l.SKU && r.Location == l.Location })
		args = append(args, at+1, l.Quantity)
	}
	return keys, args
}

// fulfilledKey keeps reservation id's final shipping progress once it is
// all shipped or returned.
func (s *redisBackend) fulfilledKey(id string) string { return s.tag + ":fd:" + id }

// A sweep reads the expiry index a page at a time: at most sweepEntries
// entries and sweepIDs look-ups per script call (about a millisecond of
// server time), and at most sweepPages pages per Sweep, so that one call's
// work is bounded however much is due; the background sweeper, the next
// Sweep or a touch of the reservation picks up the rest.
const (
	sweepEntries = 100
	sweepIDs     = 1000
)

// sweep reads a page of the expiry index per script call, which drops the
// entries with nothing left to do (their reservations finished, were
// extended or forgotten) and returns the held reservations past their
// deadline by the server's clock; those are expired in one pipeline of
// transition scripts, each of which re-checks the deadline, so a
// reservation committed or extended meanwhile is left alone.
func (s *redisBackend) sweep(ctx context.Context, pages int) ([]Reservation, error) {
	var all []Reservation
	for range pages {
		res, err := dueScript.Run(ctx, s.client, []string{s.expKey, s.resKey}, sweepEntries, sweepIDs).Slice()
		if err != nil {
			return all, fmt.Errorf("inventory: sweep: %w", err)
		}
		more, _ := res[0].(int64)
		due := res[1:]
		if len(due) > 0 {
			expired, err := s.expireDue(ctx, due)
			all = append(all, expired...)
			if err != nil {
				return all, err
			}
		}
		if more == 0 && len(due) == 0 {
			break
		}
	}
	return all, nil
}

// expireDue runs the transition script's "touch" for each (ID, encoded
// lines) pair due.lua returned, all in one pipeline, and returns those it
// expired.
func (s *redisBackend) expireDue(ctx context.Context, due []any) ([]Reservation, error) {
	calls := make([]*transitionCall, 0, len(due)/2)
	var lines [][]Line
	for i := 0; i+1 < len(due); i += 2 {
		id, _ := due[i].(string)
		enc, _ := due[i+1].(string)
		ls, err := decodeLines(enc)
		if err != nil {
			continue // a malformed record never blocks the sweep
		}
		calls = append(calls, s.newTransitionCall("touch", id, enc, ls, nil, 0))
		lines = append(lines, ls)
	}
	if len(calls) == 0 {
		return nil, nil
	}
	rows, err := s.transitions(ctx, calls)
	if err != nil {
		return nil, fmt.Errorf("inventory: sweep: %w", err)
	}
	var expired []Reservation
	for i, row := range rows {
		if res := row.res; res[0] == transitionDone && res[3] == 1 {
			expired = append(expired, Reservation{ID: calls[i].id, Lines: lines[i], State: State(res[1]), Deadline: time.UnixMilli(res[2])})
			s.held.drop(calls[i].id)
		}
	}
	return expired, nil
}

// run runs a mutating script and waits for the replicas the store's
// options ask for. A missing acknowledgement is ErrNotReplicated, so the
// caller learns nothing of an outcome a failover might undo.
func (s *redisBackend) run(ctx context.Context, script *opscript.Script, keys []string, args ...any) (*redis.Cmd, error) {
	cmd, err := durable.Run(ctx, s.client, s.policy, script, keys, args...)
	if errors.Is(err, durable.ErrTimeout) {
		err = fmt.Errorf("%w (%w)", ErrNotReplicated, err)
	}
	return cmd, err
}

func int64s(cmd *redis.Cmd, err error) ([]int64, error) {
	if err != nil {
		return nil, err
	}
	return cmd.Int64Slice()
}

func text(cmd *redis.Cmd, err error) (string, error) {
	if err != nil {
		return "", err
	}
	return cmd.Text()
}

// encodeLines is the canonical text of normalized lines, stored with the
// reservation and compared on replay: "sku\tlocation\tqty\n" per line. IDs
// cannot contain tabs or newlines, so it is unambiguous.
func encodeLines(lines []Line) string {
	var b strings.Builder
	for _, l := range lines {
		b.WriteString(l.SKU)
		b.WriteByte('\t')
		b.WriteString(l.Location)
		b.WriteByte('\t')
		b.WriteString(strconv.FormatInt(l.Quantity, 10))
		b.WriteByte('\n')
	}
	return b.String()
}

func decodeLines(enc string) ([]Line, error) {
	var lines []Line
	for rest := enc; rest != ""; {
		row, tail, ok := strings.Cut(rest, "\n")
		if !ok {
			return nil, errors.New("malformed reservation record")
		}
		rest = tail
		f := strings.Split(row, "\t")
		if len(f) != 3 {
			return nil, errors.New("malformed reservation record")
		}
		q, err := strconv.ParseInt(f[2], 10, 64)
		if err != nil {
			return nil, errors.New("malformed reservation record")
		}
		lines = append(lines, Line{SKU: f[0], Location: f[1], Quantity: q})
	}
	return lines, nil
}

// recordLines returns the encoded lines of a record "<state>|<deadline>|<lines>".
func recordLines(rec string) (string, bool) {
	_, rest, ok := strings.Cut(rec, "|")
	if !ok {
		return "", false
	}
	_, lines, ok := strings.Cut(rest, "|")
	return lines, ok
}

// parseInts parses space-separated integers.
func parseInts(row string) ([]int64, bool) {
	out := make([]int64, 0, 4)
	for row != "" {
		f, rest, _ := strings.Cut(row, " ")
		n, err := strconv.ParseInt(f, 10, 64)
		if err != nil {
			return nil, false
		}
		out = append(out, n)
		row = rest
	}
	return out, true
}

func parseInt(v any) int64 {
	s, _ := v.(string)
	n, _ := strconv.ParseInt(s, 10, 64)
	return n
}
