package inventory

import (
	"context"
	_ "embed"
	"errors"
	"fmt"
	"hash/fnv"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/shopkit/shopkit/internal/batch"
	"github.com/shopkit/shopkit/internal/durable"
	"github.com/shopkit/shopkit/internal/opscript"
)

// Spread lays a Redis store's items over several stock groups, each on
// its own hash tag {Prefix:g<N>[.<n>]}, so that on a Redis Cluster one
// store uses every master: set Options.Spread and call NewRedis. A spread
// store passes the same conformance suite as a store on one hash tag; the
// differences are under Limits.
//
// # Where things live
//
// A reservation's home group is a hash of its ID. A reservation whose
// lines all live in its home group is an ordinary reservation there: one
// script call, batched, as on NewRedis. Any other reservation is a spread
// reservation: its home group holds its home record (all its lines, state
// and deadline), and every group with some of its lines holds those lines
// under the ID "<ID>:h", a hold that never expires on its own. The home
// record alone decides expiry, commit and release; holds follow it.
// Purchase orders are laid out the same way (see spread_incoming.go).
//
// # Protocol
//
//	Reserve:  1. hold in every group, in parallel (reserve.lua, never expiring)
//	          2. open the home record: held, deadline now + TTL (home.lua,
//	             concurrent opens in a group coalesced into one call)
//	Commit, Release, Extend, expiry:
//	          1. the home record changes state (home.lua)
//	          2. each hold follows: commit or release (transitions.lua)
//	Ship, Return (and Receive, CancelIncoming of a spread order):
//	          1. begin: the request becomes the reservation's one pending
//	             intent on its home record
//	          2. every group checks the request (fulfil.lua check-…)
//	          3. every group applies it, idempotently by the request's ID
//	          4. end: the intent goes and, in the same script, a
//	             reservation all shipped or returned, or an order with
//	             nothing open, is retired
//	Expect of a spread order:
//	          1. claim the ID at home, and mark the order pending there
//	             (claim.lua, one script)
//	          2. expect it in every group, in parallel (incoming.lua)
//	          3. take it out of the pending index
//
//	home record:  (none) --open--> held --commit--> committed --all shipped--> retired
//	                 |               |--release--> released
//	                 |               '--deadline-> expired
//	                 '--recovery: holds but no record--> abandoned
//
// What a crash leaves, and how the recovery sweep (part of every Sweep)
// resolves it. The sweep reads, in each group, the holds and the pending
// intents older than Spread.RecoverAfter, and resolves each against its
// home record:
//
//   - During or after reserve step 1: holds without a home record. The
//     caller's retry finds them (a replay) and goes on to step 2; if
//     nobody retries, recovery writes "abandoned" as the home record, so a
//     late step 2 cannot revive the reservation, and releases the holds.
//     That late step 2, or a retry of the abandoned ID, gets a
//     *StateError matching ErrExpired: the caller never held the stock.
//     A reserve that fails (short, or a conflict) cancels the holds it
//     made, records and all, so its ID may be used again.
//   - After step 2 of Reserve, or after step 1 of a transition: the home
//     record is authoritative. Holds of a held reservation stay held;
//     recovery (or the next Commit, Release or Reservation of the ID, or
//     a Ship of it) commits the holds of a committed reservation and
//     releases those of a released, expired or abandoned one.
//   - After step 1, 2 or 3 of a Ship: the intent is pending, applied in no
//     group, some or all. Recovery, a retry, or the next Ship or Return of
//     the reservation (which must first finish it) checks and applies it
//     in every group it has not reached; while it is pending no other
//     request on the reservation applies, so what step 2 checked still
//     holds, and a group that already applied it answers as a replay.
//   - After step 1 or 2 of an Expect: the order is pending, expected in
//     no group or some. Its next read or request (which finish the Expect
//     before anything else), a retry, or recovery expects it in every
//     group, a replay where it is expected already, and only then takes it
//     out of the pending index. Until then Levels show only the groups that
//     expect it as incoming.
//
// So whatever step a client dies at, the reservation and each request on
// it end all or nothing, once recovery has run. Until then, levels show
// the dead client's units as reserved, never as available: reserved +
// committed ≤ on hand + backordered holds throughout. The crash tests
// (spread_crash_test.go) stop a client at every one of these steps.
//
// # Cost
//
// A spread reservation is two script calls in two groups, where a
// one-group reservation is a share of one; a Ship of a spread reservation
// is about seven round trips. BENCHMARKS.md has the figures: the store spreads
// keys and Redis CPU evenly over a Cluster's masters, but costs several
// times more Redis CPU per reservation, so it pays only when one master
// is not enough. Few groups (as many as masters) keep batches large; a
// Group function that keeps an order's lines together (by warehouse,
// say) keeps its reservations on the fast path.
//
// # Limits
//
//   - An adjustment ID is claimed in its home group for the retention;
//     the stock hashes and adjustment records live in the item's group.
//   - An order whose lines all live in its home group is an ordinary
//     order there; if the client of its last arrival dies between that
//     arrival and giving the order's claim its retention, the claim stays
//     until a replay of that request, which retires it.
//   - A Ship or Return request ID is checked for reuse against the other
//     requests of its reservation's groups only: an ID used once for a
//     spread reservation and once for a one-group reservation, or for
//     one-group reservations in two groups, is two requests, where a
//     one-slot store answers the second with ErrIDConflict. Catching it
//     would take a claim on every request ID in its home group: a round
//     trip more for every Ship.
//   - Every process must use the same Spread (Groups, Group and Home): the
//     groups of items and IDs follow from it.
//   - The prefixes Prefix:g0 to Prefix:g<Groups-1> (and their ".<n>"
//     forms) belong to the store.
//   - Recovery must run within Options.Retention of a crash: a hold whose
//     home record has been forgotten is released.
type Spread struct {
	// Groups is the number of stock groups, 2 to 1024; 0, the default,
	// keeps the store on one hash tag.
	Groups int
	// Group, if set, names an item's stock group, 0 to Groups-1 (any
	// other value means 0): by warehouse, say, so that an order from one
	// warehouse stays in one group. By default an item's group is a hash
	// of its SKU. It must be a pure function of the item.
	Group func(Item) int
	// Home, if set, names the home group of a reservation's or purchase
	// order's ID, 0 to Groups-1. By default it is a hash of the ID. A
	// reservation whose lines all live in its home group takes the fast
	// path, so a shop whose order IDs say their warehouse, with Group
	// by warehouse, makes every one-warehouse order a one-group
	// reservation. It must be a pure function of the ID.
	Home func(id string) int
	// RecoverAfter is how old a hold must be before the recovery sweep
	// resolves it against its home record; it must exceed the longest
	// time a Reserve may take between its steps, or recovery abandons
	// reservations still being made. Default one minute.
	RecoverAfter time.Duration
}

const (
	maxSpreadGroups     = 1024
	defaultRecoverAfter = time.Minute
	// holdTTL is a hold's TTL: a hold never expires on its own; its home
	// record decides. 100 years keeps deadlines below 2^53 ms.
	holdTTL = 100 * 365 * 24 * time.Hour
	// holdSuffix turns a spread reservation's ID into its holds' ID. A
	// caller's ID holds no ':', so no caller's reservation can be a hold.
	holdSuffix = ":h"
)

var (
	//go:embed lua/home.lua
	homeLua    string
	homeScript = opscript.New(homeLua)
)

// newRedisSpread returns NewRedis's store when opts.Spread is set; opts
// has its defaults and a valid prefix.
func newRedisSpread(client RedisClient, policy durable.Policy, opts Options) (*Store, error) {
	spread := opts.Spread
	if spread.Groups < 2 || spread.Groups > maxSpreadGroups {
		return nil, &InputError{Field: "Spread.Groups", Rule: "must be 0 (one hash tag) or 2 to " + strconv.Itoa(maxSpreadGroups)}
	}
	if spread.RecoverAfter < 0 {
		return nil, &InputError{Field: "Spread.RecoverAfter", Rule: "must not be negative"}
	}
	if spread.RecoverAfter == 0 {
		spread.RecoverAfter = defaultRecoverAfter
	}
	b := &spreadBackend{client: client, opts: opts, spread: spread}
	for g := range spread.Groups {
		gopts := opts
		gopts.Spread = Spread{}
		gopts.Prefix = groupPrefix(opts.Prefix, g, spread.Groups)
		gb := newRedisBackend(client, policy, gopts)
		gb.homeKey = gb.tag + ":home"
		b.groups = append(b.groups, gb)
	}
	b.opens = make([]batch.Batcher[*homeOpen], spread.Groups)
	for g := range b.opens {
		b.opens[g].Max = opts.MaxBatch
		b.opens[g].Run = func(calls []*homeOpen) { b.runOpens(g, calls) }
	}
	return newStore(b, opts), nil
}

// groupPrefix is group g's prefix: "<prefix>:g<g>", or, when a suffix
// ".<n>" moves its hash tag into the g-th of groups equal slices of the
// Cluster's slots, "<prefix>:g<g>.<n>". Redis Cluster assigns slots to
// masters in contiguous ranges, so groups in order of slot spread evenly
// over the masters whatever the prefix.
func groupPrefix(prefix string, g, groups int) string {
	base := prefix + ":g" + strconv.Itoa(g)
	lo, hi := g*clusterSlots/groups, (g+1)*clusterSlots/groups
	for n := 0; n < 64*groups; n++ {
		p := base
		if n > 0 {
			p += "." + strconv.Itoa(n)
		}
		if s := int(crc16(p)) % clusterSlots; s >= lo && s < hi {
			return p
		}
	}
	return base
}

const clusterSlots = 16384

// crc16 is Redis Cluster's key hash (CRC-16/XMODEM), of a hash tag's text.
func crc16(s string) uint16 {
	var crc uint16
	for i := 0; i < len(s); i++ {
		crc ^= uint16(s[i]) << 8
		for range 8 {
			if crc&0x8000 != 0 {
				crc = crc<<1 ^ 0x1021
			} else {
				crc <<= 1
			}
		}
	}
	return crc
}

// spreadBackend keeps a store over several stock groups, each a
// redisBackend on its own hash tag.
type spreadBackend struct {
	client RedisClient
	opts   Options
	spread Spread
	groups []*redisBackend
	opens  []batch.Batcher[*homeOpen] // per group
	// spreadIDs remembers the lines of spread reservations this process
	// made, so a transition of one goes to its home record first.
	spreadIDs lineCache
	// crash, if set (tests only), is asked at each step of the protocol
	// and makes the call stop there as if its process died.
	crash func(step string) bool
}

var errCrashed = errors.New("inventory: stopped by a crash hook")

func (b *spreadBackend) crashed(step string) bool { return b.crash != nil && b.crash(step) }

func (b *spreadBackend) groupOf(it Item) int {
	if b.spread.Group != nil {
		if g := b.spread.Group(it); g >= 0 && g < len(b.groups) {
			return g
		}
		return 0
	}
	return hashGroup(it.SKU, len(b.groups))
}

func (b *spreadBackend) home(id string) int {
	if b.spread.Home != nil {
		if g := b.spread.Home(id); g >= 0 && g < len(b.groups) {
			return g
		}
		return 0
	}
	return hashGroup(id, len(b.groups))
}

func hashGroup(s string, groups int) int {
	h := fnv.New32a()
	h.Write([]byte(s))
	return int(h.Sum32() % uint32(groups))
}

// byGroup splits lines by stock group, keeping their order, and returns
// the groups in order of first appearance.
func (b *spreadBackend) byGroup(lines []Line) (groups []int, parts map[int][]Line) {
	parts = make(map[int][]Line, 2)
	for _, l := range lines {
		g := b.groupOf(Item{SKU: l.SKU, Location: l.Location})
		if _, ok := parts[g]; !ok {
			groups = append(groups, g)
		}
		parts[g] = append(parts[g], l)
	}
	return groups, parts
}

// eachGroup runs fn for each group in groups concurrently and returns the
// first error in the order of groups.
func eachGroup(groups []int, fn func(i, g int) error) error {
	if len(groups) == 1 {
		return fn(0, groups[0])
	}
	errs := make([]error, len(groups))
	var wg sync.WaitGroup
	for i, g := range groups {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs[i] = fn(i, g)
		}()
	}
	wg.Wait()
	return errors.Join(errs...)
}

// adjust first claims the adjustment's ID in its home group, with the
// request's fingerprint, because the adjustment's own record lives in its
// item's group and could not tell the ID reused for an item of another
// group. A refused adjustment drops its claim: its ID may be used again.
func (b *spreadBackend) adjust(ctx context.Context, id string, it Item, set bool, value int64, reason Reason) (Level, int64, error) {
	hg := b.groups[b.home(id)]
	claim := []string{hg.tag + ":ac:" + id}
	fp := adjustFingerprint(id, it, set, value, reason)
	cmd, err := hg.run(ctx, claimScript, claim, "claim", fp, b.opts.Retention.Milliseconds())
	if err != nil {
		return Level{}, -1, fmt.Errorf("inventory: adjust %s: %w", id, err)
	}
	if ok, _ := cmd.Int64(); ok != 1 {
		return Level{}, -1, ErrIDConflict
	}
	lvl, before, err := b.groups[b.groupOf(it)].adjust(ctx, id, it, set, value, reason)
	var re *ReservedError
	var ie *InputError
	if errors.As(err, &re) || errors.As(err, &ie) {
		_, _ = hg.run(context.WithoutCancel(ctx), claimScript, claim, "drop", fp, 0)
	}
	return lvl, before, err
}

var (
	//go:embed lua/claim.lua
	claimLua    string
	claimScript = opscript.NewIdempotent(claimLua)
)

func (b *spreadBackend) setPolicy(ctx context.Context, p Policy) error {
	return b.groups[b.groupOf(Item{SKU: p.SKU, Location: p.Location})].setPolicy(ctx, p)
}

func (b *spreadBackend) levels(ctx context.Context, items []Item) ([]Level, error) {
	byGroup := make(map[int][]int) // group -> indexes into items
	var groups []int
	for i, it := range items {
		g := b.groupOf(it)
		if _, ok := byGroup[g]; !ok {
			groups = append(groups, g)
		}
		byGroup[g] = append(byGroup[g], i)
	}
	out := make([]Level, len(items))
	err := eachGroup(groups, func(_, g int) error {
		idx := byGroup[g]
		its := make([]Item, len(idx))
		for j, i := range idx {
			its[j] = items[i]
		}
		lv, err := b.groups[g].levels(ctx, its)
		if err != nil {
			return err
		}
		for j, i := range idx {
			out[i] = lv[j]
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

func (b *spreadBackend) reserve(ctx context.Context, id string, lines []Line, ttl time.Duration) (reserved, error) {
	h := b.home(id)
	groups, parts := b.byGroup(lines)
	if len(groups) == 1 && groups[0] == h { // the fast path
		r, err := b.groups[h].reserve(ctx, id, lines, ttl)
		if errors.Is(err, ErrInsufficientStock) && !r.due {
			r.due = b.homesDue(ctx)
		}
		return r, err
	}
	// Step 1: a hold in every group.
	holds := make([]reserved, len(groups))
	herrs := make([]error, len(groups))
	_ = eachGroup(groups, func(i, g int) error {
		holds[i], herrs[i] = b.groups[g].reserve(ctx, id+holdSuffix, parts[g], holdTTL)
		return nil
	})
	// undo cancels the holds this call made, when the reservation fails
	// before its home record opens: their stock returns and their records
	// go, so the ID may be used again, as after any failed request. Holds
	// that were there before (a replay) are left to the home record and
	// recovery.
	undo := func() {
		for i, g := range groups {
			if herrs[i] == nil && !holds[i].out.Replayed {
				_, _ = b.groups[g].transition(context.WithoutCancel(ctx), opCancel, id+holdSuffix, 0)
			}
		}
	}
	var due bool
	for i, err := range herrs {
		if err == nil {
			continue
		}
		due = due || holds[i].due
		if errors.Is(err, ErrIDConflict) {
			undo()
			return reserved{}, err
		}
		if errors.Is(err, ErrInsufficientStock) {
			undo()
			return reserved{due: due || anyDue(holds) || b.homesDue(ctx)}, err
		}
		// A transport error: the outcome of this group is unknown. A
		// retry replays what was made, or recovery releases it.
		return reserved{}, err
	}
	if b.crashed("reserve:held") {
		return reserved{}, errCrashed
	}
	// Step 2: the home record.
	enc := encodeLines(lines)
	hr, err := b.open(ctx, h, id, enc, ttl)
	if err != nil {
		return reserved{}, err
	}
	switch hr.code {
	case homeConflict:
		undo()
		return reserved{}, ErrIDConflict
	case homeOpened:
		b.spreadIDs.put(id, enc, lines, nil)
		out := Reservation{ID: id, Lines: lines, State: Held, Deadline: time.UnixMilli(hr.deadline)}
		r := reserved{out: out}
		for i := range groups {
			out.Backorders = append(out.Backorders, holds[i].out.Backorders...)
		}
		r.out.Backorders = sortedLike(lines, out.Backorders)
		if b.groups[h].wantLevels {
			r.levels = holdLevels(lines, groups, holds)
		}
		return r, nil
	}
	// A replay: the home record says what the reservation is.
	state := hr.state
	var backorders []Line
	for i := range groups {
		backorders = append(backorders, holds[i].out.Backorders...)
	}
	backorders = sortedLike(lines, backorders)
	if hr.state != Held {
		// This replay may have expired the reservation, or found it
		// finished with its holds not yet following: bring them in line.
		if backorders, err = b.follow(ctx, id, hr.state, lines); err != nil {
			return reserved{}, err
		}
	}
	if state == abandoned {
		// Recovery closed the ID between this call's steps, or before
		// this retry: the caller never held the stock.
		return reserved{}, &StateError{ID: id, Op: "reserve", State: Expired}
	}
	return reserved{out: Reservation{ID: id, Lines: lines, State: state, Deadline: time.UnixMilli(hr.deadline), Replayed: true,
		Backorders: backorders}, expired: hr.expired}, nil
}

// homesDue says whether some spread reservation is past its deadline, in
// any group: its stock may be held anywhere, so a shortage anywhere may
// be freed by sweeping it. One read per group, on a shortage only.
func (b *spreadBackend) homesDue(ctx context.Context) bool {
	cmds := make([]*redis.ZSliceCmd, len(b.groups))
	_, err := b.client.Pipelined(ctx, func(p redis.Pipeliner) error {
		for g, gb := range b.groups {
			cmds[g] = p.ZRangeWithScores(ctx, gb.tag+":homex", 0, 0)
		}
		return nil
	})
	if err != nil {
		return false
	}
	now := float64(time.Now().UnixMilli())
	for _, c := range cmds {
		if z := c.Val(); len(z) > 0 && z[0].Score <= now {
			return true
		}
	}
	return false
}

func anyDue(rs []reserved) bool {
	for _, r := range rs {
		if r.due {
			return true
		}
	}
	return false
}

// holdLevels puts the levels the holds reported in the order of lines.
func holdLevels(lines []Line, groups []int, holds []reserved) []Level {
	var all []Level
	for i := range groups {
		all = append(all, holds[i].levels...)
	}
	if len(all) != len(lines) {
		return nil
	}
	out := make([]Level, len(lines))
	for i, l := range lines {
		for _, lv := range all {
			if lv.SKU == l.SKU && lv.Location == l.Location {
				out[i] = lv
			}
		}
	}
	return out
}

// sortedLike orders waiting lines as the reservation's lines, so a spread
// reservation reports them as a one-group one would.
func sortedLike(lines, waiting []Line) []Line {
	if len(waiting) < 2 {
		return waiting
	}
	out := make([]Line, 0, len(waiting))
	for _, l := range lines {
		for _, w := range waiting {
			if w.SKU == l.SKU && w.Location == l.Location {
				out = append(out, w)
			}
		}
	}
	return out
}

// abandoned is home.lua's state of an ID recovery closed before its home
// record opened; callers see it as Expired.
const abandoned State = 5

// home.lua's codes, as its header lists them.
const (
	homeNotFound = 0
	homeOpened   = 1
	homeExisting = 2
	homeConflict = 3
)

// homeReply is one home.lua reply.
type homeReply struct {
	code             int64
	state            State
	deadline         int64
	expired, changed bool
	enc              string
}

func (b *spreadBackend) shipping() int {
	if b.opts.Shipping {
		return 1
	}
	return 0
}

// homeOpen is one home record to open, waiting in, or served by, a batch
// of home.lua's open.
type homeOpen struct {
	id, enc string
	ttl     time.Duration
	done    chan struct{}
	reply   homeReply // set before done is closed
	err     error
}

// Done is closed once the batch has served the call.
func (c *homeOpen) Done() <-chan struct{} { return c.done }

// open opens reservation id's home record in group h, coalesced with
// concurrent opens in that group into one script call, as Reserve's
// calls are.
func (b *spreadBackend) open(ctx context.Context, h int, id, enc string, ttl time.Duration) (homeReply, error) {
	c := &homeOpen{id: id, enc: enc, ttl: ttl, done: make(chan struct{})}
	b.opens[h].Submit(c)
	select {
	case <-c.done:
		return c.reply, c.err
	case <-ctx.Done():
		// The batch may still open it; a replay learns the outcome.
		return homeReply{}, ctx.Err()
	}
}

// runOpens runs one home.lua open for calls, all in group g. A call whose
// ID is already in the batch waits for the next one, so that it sees the
// first as a replay would.
func (b *spreadBackend) runOpens(g int, calls []*homeOpen) {
	seen := make(map[string]bool, len(calls))
	var batch, later []*homeOpen
	for _, c := range calls {
		if seen[c.id] {
			later = append(later, c)
			continue
		}
		seen[c.id] = true
		batch = append(batch, c)
	}
	gb := b.groups[g]
	args := make([]any, 0, 6+3*len(batch))
	args = append(args, "open", len(batch), "", 0, b.opts.Retention.Milliseconds(), b.shipping())
	for _, c := range batch {
		args = append(args, c.id, c.enc, c.ttl.Milliseconds())
	}
	// One caller's cancellation must not fail the others in the batch.
	reply, err := text(gb.run(context.Background(), homeScript, b.homeKeys(g), args...))
	var rows []string
	if err == nil {
		if rows = strings.Split(reply, "\n"); len(rows) != len(batch) {
			err = fmt.Errorf("unexpected script reply %q", reply)
		}
	}
	for i, c := range batch {
		if err == nil {
			c.reply, c.err = parseOpenRow(rows[i])
		}
		if err != nil || c.err != nil {
			c.err = fmt.Errorf("inventory: reserve %s: %w", c.id, errors.Join(err, c.err))
		}
		close(c.done)
	}
	if len(later) > 0 {
		b.runOpens(g, later)
	}
}

// parseOpenRow reads one row of home.lua's open reply.
func parseOpenRow(row string) (homeReply, error) {
	v, ok := parseInts(row)
	switch {
	case ok && len(v) == 2 && v[0] == homeOpened:
		return homeReply{code: homeOpened, state: Held, deadline: v[1], changed: true}, nil
	case ok && len(v) == 4 && v[0] == homeExisting:
		return homeReply{code: homeExisting, state: State(v[1]), deadline: v[2], expired: v[3] == 1}, nil
	case ok && len(v) == 1 && v[0] == homeConflict:
		return homeReply{code: homeConflict}, nil
	}
	return homeReply{}, fmt.Errorf("unexpected script reply row %q", row)
}

// homeKeys are home.lua's keys in group g.
func (b *spreadBackend) homeKeys(g int) []string {
	gb := b.groups[g]
	return []string{gb.homeKey, gb.tag + ":homex", gb.tag + ":homef", gb.resKey, gb.tag + ":int", gb.tag + ":intx"}
}

// home1 runs home.lua's op on reservation id's home record in group h.
func (b *spreadBackend) home1(ctx context.Context, h int, op, id, enc string, ttl time.Duration) (homeReply, error) {
	res, err := b.groups[h].run(ctx, homeScript, b.homeKeys(h),
		op, id, enc, ttl.Milliseconds(), b.opts.Retention.Milliseconds(), b.shipping())
	if err != nil {
		return homeReply{}, fmt.Errorf("inventory: %s %s: %w", op, id, err)
	}
	v, err := res.Slice()
	if err != nil || len(v) == 0 {
		return homeReply{}, fmt.Errorf("inventory: %s %s: unexpected script reply %v", op, id, v)
	}
	var r homeReply
	r.code, _ = v[0].(int64)
	if r.code == homeOpened || r.code == homeExisting {
		if len(v) != 6 {
			return homeReply{}, fmt.Errorf("inventory: %s %s: unexpected script reply %v", op, id, v)
		}
		s, _ := v[1].(int64)
		r.state = State(s)
		r.deadline, _ = v[2].(int64)
		x, _ := v[3].(int64)
		c, _ := v[4].(int64)
		r.expired, r.changed = x == 1, c == 1
		r.enc, _ = v[5].(string)
	}
	return r, nil
}

func (b *spreadBackend) transition(ctx context.Context, op transitionOp, id string, ttl time.Duration) (transitioned, error) {
	h := b.home(id)
	if _, _, _, ok := b.spreadIDs.get(id); !ok {
		t, err := b.groups[h].transition(ctx, op, id, ttl)
		if !errors.Is(err, ErrNotFound) {
			return t, err
		}
	}
	return b.spreadTransition(ctx, op, id, ttl)
}

// spreadTransition applies op to spread reservation id's home record,
// then brings its holds into line with it.
func (b *spreadBackend) spreadTransition(ctx context.Context, op transitionOp, id string, ttl time.Duration) (transitioned, error) {
	hr, err := b.home1(ctx, b.home(id), transitionNames[op], id, "", ttl)
	if err != nil {
		return transitioned{}, err
	}
	if hr.code == homeNotFound {
		b.spreadIDs.drop(id)
		return transitioned{}, ErrNotFound
	}
	if hr.code != homeExisting {
		return transitioned{}, fmt.Errorf("inventory: %s %s: unexpected home reply %d", transitionNames[op], id, hr.code)
	}
	if b.crashed(transitionNames[op] + ":home") {
		return transitioned{}, errCrashed
	}
	var lines []Line
	if hr.state != abandoned {
		if lines, err = decodeLines(hr.enc); err != nil {
			return transitioned{}, fmt.Errorf("inventory: %s %s: %w", transitionNames[op], id, err)
		}
	}
	waiting, err := b.follow(ctx, id, hr.state, lines)
	if err != nil {
		return transitioned{}, err
	}
	state := hr.state
	if state == abandoned {
		state = Expired
	}
	if state != Held && !(b.opts.Shipping && state == Committed) {
		b.spreadIDs.drop(id)
	}
	return transitioned{out: Reservation{ID: id, Lines: lines, State: state, Deadline: time.UnixMilli(hr.deadline), Backorders: waiting},
		expired: hr.expired, changed: hr.changed}, nil
}

// follow brings the holds of spread reservation id (lines) into line with
// its home record's state and returns the units of each line that wait:
// committed holds commit, finished ones release, held ones are read. Each
// step is idempotent, so any caller may repeat it.
func (b *spreadBackend) follow(ctx context.Context, id string, state State, lines []Line) ([]Line, error) {
	if len(lines) == 0 {
		return nil, nil
	}
	op := opTouch
	switch state {
	case Committed:
		op = opCommit
	case Released, Expired, abandoned:
		op = opRelease
	}
	groups, _ := b.byGroup(lines)
	waits := make([][]Line, len(groups))
	err := eachGroup(groups, func(i, g int) error {
		if i > 0 && b.crashed("follow:some") {
			return errCrashed
		}
		t, err := b.groups[g].transition(ctx, op, id+holdSuffix, 0)
		if errors.Is(err, ErrNotFound) {
			return nil // never made (a failed reserve) or forgotten
		}
		waits[i] = t.out.Backorders
		return err
	})
	if err != nil {
		return nil, err
	}
	var waiting []Line
	for _, w := range waits {
		waiting = append(waiting, w...)
	}
	return sortedLike(lines, waiting), nil
}

func (b *spreadBackend) fulfil(ctx context.Context, ship bool, id, resID string, lines []Line) (Fulfilment, error) {
	h := b.home(resID)
	if _, _, _, ok := b.spreadIDs.get(resID); !ok {
		f, err := b.groups[h].fulfil(ctx, ship, id, resID, lines)
		if !errors.Is(err, ErrNotFound) {
			return f, err
		}
		// Not a one-group reservation: a spread one, or none.
	}
	intent := fulfilOpName(ship) + " " + id + " " + encodeLines(lines)
	f, _, err := b.runIntent(ctx, h, resID, intent)
	return f, err
}

// runIntent makes intent the one pending on key in home group h, finishing
// any other pending there first, then applies and ends it.
func (b *spreadBackend) runIntent(ctx context.Context, h int, key, intent string) (Fulfilment, Incoming, error) {
	for {
		other, err := b.begin(ctx, h, key, intent)
		if err != nil {
			return Fulfilment{}, Incoming{}, err
		}
		if other == "" {
			return b.finishAnyIntent(ctx, h, key, intent)
		}
		// Another request on the reservation or order is pending (its
		// caller is at it, or died): finish it first, as recovery would.
		// Every turn finishes one request, so racing requests all get
		// through.
		if err := b.rollForward(ctx, h, key, other); err != nil {
			return Fulfilment{}, Incoming{}, err
		}
		if err := ctx.Err(); err != nil {
			return Fulfilment{}, Incoming{}, err
		}
	}
}

// A Ship or Return of a spread reservation touches the holds in several
// groups, so it runs as an intent: begin records it on the home record
// (one intent per reservation at a time), then every group is checked,
// then every group applies it (each idempotent by the request's ID), then
// end drops the intent. A caller that dies in between leaves the intent
// pending; the next request on the reservation, a retry, or the recovery
// sweep finishes it, and because no other request on the reservation can
// apply while it is pending, what was checked still holds.

// begin records intent as reservation id's pending intent and returns ""
// or, when another is pending, that one.
func (b *spreadBackend) begin(ctx context.Context, h int, id, intent string) (string, error) {
	res, err := b.groups[h].run(ctx, homeScript, b.homeKeys(h), "begin", id, intent, 0, b.opts.Retention.Milliseconds(), b.shipping())
	if err != nil {
		return "", fmt.Errorf("inventory: fulfil %s: %w", id, err)
	}
	v, err := res.Slice()
	if err != nil || len(v) == 0 {
		return "", fmt.Errorf("inventory: fulfil %s: unexpected script reply %v", id, v)
	}
	if code, _ := v[0].(int64); code == 2 && len(v) == 2 {
		other, _ := v[1].(string)
		return other, nil
	}
	return "", nil
}

// finishAnyIntent applies the intent pending on key (a reservation's ID,
// or an order's ID and poIntentSuffix) and ends it, unless the outcome is
// unknown: then the intent stays for a retry or recovery. A reservation
// all shipped or returned, and an order with nothing open, are retired.
func (b *spreadBackend) finishAnyIntent(ctx context.Context, h int, key, intent string) (Fulfilment, Incoming, error) {
	var f Fulfilment
	var in Incoming
	var err error
	po, isOrder := strings.CutSuffix(key, poIntentSuffix)
	if isOrder {
		in, err = b.applyArrival(ctx, po, intent)
	} else {
		f, err = b.applyIntent(ctx, key, intent)
	}
	if err != nil && !isAnswer(err) {
		return f, in, err
	}
	if b.crashed("intent:applied") {
		return Fulfilment{}, Incoming{}, errCrashed
	}
	// A request that completes the reservation or order retires it with
	// the end, replay or not: a replay may be the recovery of a request
	// whose caller died before the end.
	keys, retire := b.homeKeys(h), "0"
	switch {
	case err != nil:
	case isOrder && in.Complete:
		keys, retire = append(keys, b.poHomeKey(po)), "retire-order"
	case !isOrder && f.Complete:
		retire = "retire"
	}
	if _, eerr := b.groups[h].run(ctx, homeScript, keys, "end", key, intent, retire, b.opts.Retention.Milliseconds(), b.shipping()); eerr != nil {
		return Fulfilment{}, Incoming{}, fmt.Errorf("inventory: %s: %w", key, eerr)
	}
	return f, in, err
}

// retireOrder gives order id's home record the retention, once nothing of
// the order is open.
func (b *spreadBackend) retireOrder(ctx context.Context, id string) error {
	if _, err := b.client.Pipelined(ctx, func(p redis.Pipeliner) error {
		// NX: a replay, which retires too (its first call may have died
		// before this), does not push the retention back.
		p.Do(ctx, "pexpire", b.poHomeKey(id), b.opts.Retention.Milliseconds(), "nx")
		return nil
	}); err != nil {
		return fmt.Errorf("inventory: purchase order %s: %w", id, err)
	}
	return nil
}

// isAnswer says whether err is the store's answer to a request (it wrote
// nothing), not a failure to learn the outcome.
func isAnswer(err error) bool {
	var se *StateError
	var fe *FulfilError
	var ie *IncomingError
	var in *InputError
	return errors.As(err, &se) || errors.As(err, &fe) || errors.As(err, &ie) || errors.As(err, &in) ||
		errors.Is(err, ErrIDConflict) || errors.Is(err, ErrNotFound)
}

// rollForward finishes another request's pending intent on key.
func (b *spreadBackend) rollForward(ctx context.Context, h int, key, intent string) error {
	_, _, err := b.finishAnyIntent(ctx, h, key, intent)
	if err != nil && !isAnswer(err) {
		return err
	}
	return nil
}

// groupFulfilment is one group's reply to a Ship, Return, check or
// progress read of a hold.
type groupFulfilment struct {
	code     int64
	complete bool
	progress []int64 // shipped, returned per hold line
	err      error   // the group's answer, when it refuses
}

// applyIntent checks intent ("<op> <request ID> <encoded lines>") against
// every group of spread reservation id, then applies it to the groups it
// names, and reports every line of the reservation.
func (b *spreadBackend) applyIntent(ctx context.Context, id, intent string) (Fulfilment, error) {
	op, rest, _ := strings.Cut(intent, " ")
	reqID, enc, _ := strings.Cut(rest, " ")
	lines, err := decodeLines(enc)
	if err != nil {
		return Fulfilment{}, fmt.Errorf("inventory: %s %s: %w", op, reqID, err)
	}
	// The reservation as its home record has it; this also brings its
	// holds in line (a commit whose caller died before they followed).
	t, err := b.spreadTransition(ctx, opTouch, id, 0)
	if err != nil {
		return Fulfilment{}, err
	}
	if t.out.State != Committed {
		return Fulfilment{}, &StateError{ID: id, Op: op, State: t.out.State}
	}
	resGroups, holdLines := b.byGroup(t.out.Lines)
	_, reqLines := b.byGroup(lines)
	for g := range reqLines {
		if _, ok := holdLines[g]; !ok {
			// An item the reservation does not hold, in a group where it
			// holds nothing: that group answers for the line.
			resGroups = append(resGroups, g)
		}
	}
	fp := op + "|" + id + "|" + enc
	run := func(mode string) ([]groupFulfilment, error) {
		out := make([]groupFulfilment, len(resGroups))
		err := eachGroup(resGroups, func(i, g int) error {
			// A group the request names no line of records the
			// progress as it stands under the request's ID, so that a
			// replay reports every line as the first call left it.
			o := mode + op
			if mode == "" && i > 0 && b.crashed("fulfil:some") {
				return errCrashed
			}
			var err error
			out[i], err = b.groupFulfil(ctx, g, o, reqID, id, fp, holdLines[g], reqLines[g])
			return err
		})
		return out, err
	}
	checked, err := run("check-")
	if err != nil {
		return Fulfilment{}, err
	}
	replays := 0
	for _, c := range checked {
		if c.code == fulfilReplayed {
			replays++
		}
	}
	for _, c := range checked {
		if c.err != nil && replays == 0 {
			return Fulfilment{}, c.err
		}
	}
	final := checked
	if replays < len(resGroups) {
		if final, err = run(""); err != nil {
			return Fulfilment{}, err
		}
		for _, c := range final {
			if c.err != nil {
				return Fulfilment{}, c.err
			}
		}
	}
	// Every line of the reservation, in its order.
	f := Fulfilment{Reservation: id, Complete: true, Replayed: replays == len(resGroups)}
	for _, l := range t.out.Lines {
		g := b.groupOf(Item{SKU: l.SKU, Location: l.Location})
		i := slices.Index(resGroups, g)
		j := slices.IndexFunc(holdLines[g], func(h Line) bool { return h.SKU == l.SKU && h.Location == l.Location })
		fl := FulfilmentLine{SKU: l.SKU, Location: l.Location, Quantity: l.Quantity}
		if p := final[i].progress; 2*j+1 < len(p) {
			fl.Shipped, fl.Returned = p[2*j], p[2*j+1]
		}
		f.Lines = append(f.Lines, fl)
	}
	for _, c := range final {
		f.Complete = f.Complete && c.complete
	}
	return f, nil
}

// groupFulfil runs fulfil.lua's op (ship, return, check-…, progress) on
// reservation id's hold in group g, whose lines are hold, for the
// request's lines there.
func (b *spreadBackend) groupFulfil(ctx context.Context, g int, op, reqID, id, fp string, hold, lines []Line) (groupFulfilment, error) {
	gb := b.groups[g]
	// The request's record in the group is named for the hold, as the
	// hold is for the reservation: a one-group request of the same ID
	// in this group never reads it as its own.
	keys, args := gb.fulfilArgs(op, reqID+holdSuffix, id+holdSuffix, encodeLines(hold), fp, hold, lines)
	reply, err := text(gb.run(ctx, fulfilScript, keys, args...))
	if err != nil {
		return groupFulfilment{}, fmt.Errorf("inventory: %s %s: %w", op, reqID, err)
	}
	head, _, _ := strings.Cut(reply, "\n")
	r, ok := parseInts(head)
	if !ok || len(r) == 0 {
		return groupFulfilment{}, fmt.Errorf("inventory: %s %s: unexpected script reply %q", op, reqID, reply)
	}
	out := groupFulfilment{code: r[0]}
	switch {
	case r[0] == fulfilDone || r[0] == fulfilReplayed || r[0] == fulfilChecked:
		out.complete, out.progress = len(r) > 1 && r[1] == 1, r[min(2, len(r)):]
	case r[0] == fulfilNotFound && len(hold) == 0:
		// No hold here: the request names an item the reservation does
		// not hold.
		l := lines[0]
		out.err = &FulfilError{Reservation: id, SKU: l.SKU, Location: l.Location, Requested: l.Quantity}
	case r[0] == fulfilNotFound:
		out.err = ErrNotFound
	case r[0] == fulfilConflict:
		out.err = ErrIDConflict
	case r[0] == fulfilNotCommitted && len(r) == 2:
		out.err = &StateError{ID: id, Op: strings.TrimPrefix(op, "check-"), State: State(r[1])}
	case r[0] == fulfilTooMany && len(r) == 4 && r[1] >= 1 && int(r[1]) <= len(lines):
		l := lines[r[1]-1]
		out.err = &FulfilError{Reservation: id, SKU: l.SKU, Location: l.Location, Requested: l.Quantity, Committed: r[2], Waiting: r[3]}
	default:
		return groupFulfilment{}, fmt.Errorf("inventory: %s %s: unexpected script reply %q", op, reqID, reply)
	}
	return out, nil
}

// recoverIntents finishes the fulfilment intents of group h's home
// records pending longer than Spread.RecoverAfter: their callers died.
func (b *spreadBackend) recoverIntents(ctx context.Context, h int) error {
	res, err := b.groups[h].run(ctx, homeScript, b.homeKeys(h), "intents", sweepEntries, "", b.spread.RecoverAfter.Milliseconds(),
		b.opts.Retention.Milliseconds(), b.shipping())
	if err != nil {
		return fmt.Errorf("inventory: recover: %w", err)
	}
	v, err := res.Slice()
	if err != nil {
		return fmt.Errorf("inventory: recover: %w", err)
	}
	for i := 0; i+1 < len(v); i += 2 {
		id, _ := v[i].(string)
		intent, _ := v[i+1].(string)
		if err := b.rollForward(ctx, h, id, intent); err != nil {
			return err
		}
	}
	return nil
}

// sweep expires due one-group reservations and spread reservations in every
// group, then runs recovery.
func (b *spreadBackend) sweep(ctx context.Context, pages int) ([]Reservation, error) {
	all := make([]int, len(b.groups))
	for g := range all {
		all[g] = g
	}
	expired := make([][]Reservation, len(all))
	err := eachGroup(all, func(i, g int) error {
		var err error
		if expired[i], err = b.groups[g].sweep(ctx, pages); err != nil {
			return err
		}
		spread, err := b.sweepHomes(ctx, g, pages)
		expired[i] = append(expired[i], spread...)
		if err != nil {
			return err
		}
		if err := b.recoverIntents(ctx, g); err != nil {
			return err
		}
		if err := b.recoverExpects(ctx, g, pages); err != nil {
			return err
		}
		return b.recover(ctx, g, pages)
	})
	var out []Reservation
	for _, e := range expired {
		out = append(out, e...) // never a hold: holds are never due
	}
	return out, err
}

// sweepHomes expires the due home records of group g, a page of
// sweepEntries at a time, and releases their holds.
func (b *spreadBackend) sweepHomes(ctx context.Context, g, pages int) ([]Reservation, error) {
	gb := b.groups[g]
	var out []Reservation
	for range pages {
		res, err := gb.run(ctx, homeScript, b.homeKeys(g),
			"sweep", sweepEntries, "", 0, b.opts.Retention.Milliseconds(), b.shipping())
		if err != nil {
			return out, fmt.Errorf("inventory: sweep: %w", err)
		}
		v, err := res.Slice()
		if err != nil {
			return out, fmt.Errorf("inventory: sweep: %w", err)
		}
		for i := 0; i+2 < len(v); i += 3 {
			id, _ := v[i].(string)
			enc, _ := v[i+2].(string)
			lines, err := decodeLines(enc)
			if err != nil {
				continue
			}
			deadline, _ := strconv.ParseInt(fmt.Sprint(v[i+1]), 10, 64)
			if b.crashed("expire:home") {
				return out, errCrashed
			}
			if _, err := b.follow(ctx, id, Expired, lines); err != nil {
				return out, err
			}
			b.spreadIDs.drop(id)
			out = append(out, Reservation{ID: id, Lines: lines, State: Expired, Deadline: time.UnixMilli(deadline)})
		}
		if len(v) < 3*sweepEntries {
			break
		}
	}
	return out, nil
}

// recover resolves group g's holds older than Spread.RecoverAfter against
// their home records: the holds of a committed reservation commit, those
// of a finished or abandoned one release, and a hold with no home record
// abandons its ID. A hold's expiry entry, at its creation plus holdTTL,
// says how old it is; entries whose holds all finished are dropped.
func (b *spreadBackend) recover(ctx context.Context, g int, pages int) error {
	gb := b.groups[g]
	now := time.Now().UnixMilli()
	lo := now + holdTTL.Milliseconds()/2
	hi := now + holdTTL.Milliseconds() - b.spread.RecoverAfter.Milliseconds()
	for range pages {
		var rng *redis.StringSliceCmd
		if _, err := b.client.Pipelined(ctx, func(p redis.Pipeliner) error {
			rng = p.ZRangeByScore(ctx, gb.expKey, &redis.ZRangeBy{
				Min: strconv.FormatInt(lo, 10), Max: strconv.FormatInt(hi, 10), Count: sweepEntries})
			return nil
		}); err != nil {
			return fmt.Errorf("inventory: recover: %w", err)
		}
		entries := rng.Val()
		if len(entries) == 0 {
			return nil
		}
		for _, entry := range entries {
			if err := b.recoverEntry(ctx, gb, entry); err != nil {
				return err
			}
		}
	}
	return nil
}

// recoverEntry resolves the holds of one expiry-index entry of group gb.
// Every entry leaves the page's score band: one whose holds all finished
// is dropped, one with a live hold is moved to its home's deadline plus
// holdTTL, so it comes back to recovery only once that home is due and
// a page never fills with reservations that are simply still held.
func (b *spreadBackend) recoverEntry(ctx context.Context, gb *redisBackend, entry string) error {
	holds := strings.Fields(entry)
	var get *redis.SliceCmd
	if _, err := b.client.Pipelined(ctx, func(p redis.Pipeliner) error {
		get = p.HMGet(ctx, gb.resKey, holds...)
		return nil
	}); err != nil {
		return fmt.Errorf("inventory: recover: %w", err)
	}
	states := get.Val()
	var liveUntil int64 // latest deadline of a live hold's home, or 0
	for i, hold := range holds {
		rec, _ := states[i].(string)
		if !strings.HasPrefix(rec, "1|") || !strings.HasSuffix(hold, holdSuffix) {
			continue
		}
		id := strings.TrimSuffix(hold, holdSuffix)
		hr, err := b.home1(ctx, b.home(id), "resolve", id, "", 0)
		if err != nil {
			return err
		}
		if hr.state == Held {
			liveUntil = max(liveUntil, hr.deadline)
			continue
		}
		op := opRelease
		if hr.state == Committed {
			op = opCommit
		}
		if _, err := gb.transition(ctx, op, hold, 0); err != nil && !errors.Is(err, ErrNotFound) {
			return err
		}
	}
	if _, err := b.client.Pipelined(ctx, func(p redis.Pipeliner) error {
		if liveUntil == 0 {
			p.ZRem(ctx, gb.expKey, entry)
		} else {
			p.ZAddArgs(ctx, gb.expKey, redis.ZAddArgs{XX: true, GT: true,
				Members: []redis.Z{{Score: float64(liveUntil + holdTTL.Milliseconds()), Member: entry}}})
		}
		return nil
	}); err != nil {
		return fmt.Errorf("inventory: recover: %w", err)
	}
	return nil
}
