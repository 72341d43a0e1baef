package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/redis/go-redis/v9"
)

// orderStore keeps the shop's order records where every instance sees
// them: in memory for one process, or in Redis for any number of
// processes sharing it.
//
// Records change by compare-and-set on their version: update stores a
// record only over the version it was read at, so two instances working
// on one order never overwrite each other's steps — the loser reads the
// order again and decides afresh (see shop.mutate). Every write is safe to
// repeat: a create that finds its own record, or an update that finds its
// own new version, answers as the first did, so a client retry after a
// lost reply changes nothing.
//
// Retention: an order stays while it is unfinished (awaiting payment, or
// with a step under way) and for orderRetention after it finished, so a
// paid order can be refunded for that long.
type orderStore interface {
	// create stores rec (version 1) unless an order with its ID exists,
	// and returns the stored record either way.
	create(ctx context.Context, rec orderRecord) (orderRecord, error)
	// get returns the order, or errNoOrder.
	get(ctx context.Context, id string) (orderRecord, error)
	// update stores rec over version rec.Version-1, or returns
	// errStaleOrder if the stored version is another.
	update(ctx context.Context, rec orderRecord) error
	// flashOf returns the ID of user's flash-sale order, or "".
	flashOf(ctx context.Context, user string) (string, error)
	// unfinished returns the IDs of orders awaiting payment or with a
	// step under way: the resumer's work list.
	unfinished(ctx context.Context) ([]string, error)
	// list returns up to limit orders created after cursor ("" for the
	// first), oldest first, and the cursor of the next page ("" at the end).
	list(ctx context.Context, cursor string, limit int) ([]orderRecord, string, error)
	// forget drops the index entries of orders created before cutoff
	// (their records expire on their own).
	forget(ctx context.Context, cutoff time.Time) error
}

var (
	errNoOrder    = errors.New("no such order")
	errStaleOrder = errors.New("the order changed since it was read")
)

// orderRetention is how long a finished order is kept: long enough for
// refunds and chargebacks.
const orderRetention = 400 * 24 * time.Hour

// finished reports whether nothing more happens to the order by itself:
// its state is final for the resumer and no step is under way.
func (o *orderRecord) finished() bool {
	return o.Pending == "" && o.State != stateAwaitingPayment
}

// indexMember is the order's entry in the creation index: the creation
// time in zero-padded milliseconds, so the lexical order of members is the
// order of creation, then the ID. It doubles as the list cursor.
func indexMember(o *orderRecord) string {
	return fmt.Sprintf("%013d:%s", o.Created.UnixMilli(), o.ID)
}

func indexCutoff(t time.Time) string { return fmt.Sprintf("%013d:", t.UnixMilli()) }

// memoryOrders is the orderStore of a shop in one process. Records are
// kept encoded, as in Redis, so a caller never shares memory with the
// store.
type memoryOrders struct {
	mu       sync.Mutex
	records  map[string][]byte
	finished map[string]time.Time // ID → when it finished
	flash    map[string]string
	index    []string // indexMember, sorted
	now      func() time.Time
}

func newMemoryOrders() *memoryOrders {
	return &memoryOrders{records: map[string][]byte{}, finished: map[string]time.Time{},
		flash: map[string]string{}, now: time.Now}
}

func (m *memoryOrders) create(_ context.Context, rec orderRecord) (orderRecord, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if b, ok := m.records[rec.ID]; ok {
		return decodeOrder(b)
	}
	rec.Version = 1
	b, err := json.Marshal(&rec)
	if err != nil {
		return orderRecord{}, err
	}
	m.records[rec.ID] = b
	if rec.FlashTicket != "" {
		if _, ok := m.flash[rec.User]; !ok {
			m.flash[rec.User] = rec.ID
		}
	}
	member := indexMember(&rec)
	i := sort.SearchStrings(m.index, member)
	m.index = append(m.index, "")
	copy(m.index[i+1:], m.index[i:])
	m.index[i] = member
	return rec, nil
}

func (m *memoryOrders) get(_ context.Context, id string) (orderRecord, error) {
	m.mu.Lock()
	b, ok := m.records[id]
	m.mu.Unlock()
	if !ok {
		return orderRecord{}, errNoOrder
	}
	return decodeOrder(b)
}

func (m *memoryOrders) update(_ context.Context, rec orderRecord) error {
	b, err := json.Marshal(&rec)
	if err != nil {
		return err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	cur, ok := m.records[rec.ID]
	if !ok {
		return errNoOrder
	}
	old, err := decodeOrder(cur)
	if err != nil {
		return err
	}
	if old.Version != rec.Version-1 {
		return errStaleOrder
	}
	m.records[rec.ID] = b
	if rec.finished() {
		m.finished[rec.ID] = m.now()
	} else {
		delete(m.finished, rec.ID)
	}
	return nil
}

func (m *memoryOrders) flashOf(_ context.Context, user string) (string, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.flash[user], nil
}

func (m *memoryOrders) unfinished(context.Context) ([]string, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	var out []string
	for id := range m.records {
		if _, done := m.finished[id]; !done {
			out = append(out, id)
		}
	}
	sort.Strings(out)
	return out, nil
}

func (m *memoryOrders) list(_ context.Context, cursor string, limit int) ([]orderRecord, string, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	i := sort.SearchStrings(m.index, cursor)
	if i < len(m.index) && m.index[i] == cursor {
		i++
	}
	var out []orderRecord
	for ; i < len(m.index) && len(out) < limit; i++ {
		_, id, _ := strings.Cut(m.index[i], ":")
		b, ok := m.records[id]
		if !ok {
			continue // past its retention
		}
		rec, err := decodeOrder(b)
		if err != nil {
			return nil, "", err
		}
		out = append(out, rec)
	}
	next := ""
	if i < len(m.index) && len(out) > 0 {
		next = indexMember(&out[len(out)-1])
	}
	return out, next, nil
}

func (m *memoryOrders) forget(_ context.Context, cutoff time.Time) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	expired := m.now().Add(-orderRetention)
	for id, at := range m.finished {
		if at.Before(expired) {
			delete(m.records, id)
			delete(m.finished, id)
		}
	}
	keep := m.index[:0]
	for _, member := range m.index {
		_, id, _ := strings.Cut(member, ":")
		if _, ok := m.records[id]; ok || member >= indexCutoff(cutoff) {
			keep = append(keep, member)
		}
	}
	m.index = keep
	for user, id := range m.flash {
		if _, ok := m.records[id]; !ok {
			delete(m.flash, user)
		}
	}
	return nil
}

func decodeOrder(b []byte) (orderRecord, error) {
	var rec orderRecord
	if err := json.Unmarshal(b, &rec); err != nil {
		return orderRecord{}, fmt.Errorf("stored order: %w", err)
	}
	return rec, nil
}

// redisOrders is the orderStore on Redis. Every key shares the hash tag
// {prefix:orders}, so the scripts run on one Cluster node: the orders of
// one shop live on one shard (a shop outgrowing that keeps orders in its
// own database). Layout:
//
//	{p:orders}:o:<id>       hash: v (version), doc (the record as JSON);
//	                        expires orderRetention after the order finished
//	{p:orders}:flash:<user> string: the user's flash-sale order ID, same expiry
//	{p:orders}:open         set of unfinished order IDs
//	{p:orders}:index        sorted set of indexMember, score 0 (lexical order)
type redisOrders struct {
	client redis.UniversalClient
	tag    string
}

func newRedisOrders(client redis.UniversalClient, prefix string) *redisOrders {
	return &redisOrders{client: client, tag: "{" + prefix + ":orders}"}
}

func (r *redisOrders) key(id string) string     { return r.tag + ":o:" + id }
func (r *redisOrders) flashKey(u string) string { return r.tag + ":flash:" + u }

// createOrder stores a new order. A repeat finds the record and returns it.
//
// KEYS: record, open set, index, flash key ("" member skipped)
// ARGV: id, doc, index member, flash user ("" if none)
var createOrder = redis.NewScript(`
local cur = redis.call('HGET', KEYS[1], 'doc')
if cur then return cur end
redis.call('HSET', KEYS[1], 'v', 1, 'doc', ARGV[2])
redis.call('SADD', KEYS[2], ARGV[1])
redis.call('ZADD', KEYS[3], 0, ARGV[3])
if ARGV[4] ~= '' then redis.call('SET', KEYS[4], ARGV[1], 'NX') end
return ARGV[2]
`)

// updateOrder stores a new version over the one it was read at. A repeat
// (go-redis resends a script whose reply was lost) finds its own version
// and document and answers OK again.
//
// KEYS: record, open set, flash key
// ARGV: id, new version, doc, finished (1/0), retention in ms
// Reply: 1 stored, 0 stale, -1 no such order
var updateOrder = redis.NewScript(`
local v = redis.call('HGET', KEYS[1], 'v')
if not v then return -1 end
if tonumber(v) == tonumber(ARGV[2]) and redis.call('HGET', KEYS[1], 'doc') == ARGV[3] then return 1 end
if tonumber(v) ~= tonumber(ARGV[2]) - 1 then return 0 end
redis.call('HSET', KEYS[1], 'v', ARGV[2], 'doc', ARGV[3])
if ARGV[4] == '1' then
  redis.call('SREM', KEYS[2], ARGV[1])
  redis.call('PEXPIRE', KEYS[1], ARGV[5])
  if redis.call('GET', KEYS[3]) == ARGV[1] then redis.call('PEXPIRE', KEYS[3], ARGV[5]) end
else
  redis.call('SADD', KEYS[2], ARGV[1])
  redis.call('PERSIST', KEYS[1])
  redis.call('PERSIST', KEYS[3])
end
return 1
`)

func (r *redisOrders) create(ctx context.Context, rec orderRecord) (orderRecord, error) {
	rec.Version = 1
	b, err := json.Marshal(&rec)
	if err != nil {
		return orderRecord{}, err
	}
	flashUser, flashKey := "", r.flashKey("-")
	if rec.FlashTicket != "" {
		flashUser, flashKey = rec.User, r.flashKey(rec.User)
	}
	doc, err := createOrder.Run(ctx, r.client, []string{r.key(rec.ID), r.tag + ":open", r.tag + ":index", flashKey},
		rec.ID, b, indexMember(&rec), flashUser).Text()
	if err != nil {
		return orderRecord{}, err
	}
	return decodeOrder([]byte(doc))
}

func (r *redisOrders) get(ctx context.Context, id string) (orderRecord, error) {
	doc, err := r.client.HGet(ctx, r.key(id), "doc").Bytes()
	if errors.Is(err, redis.Nil) {
		return orderRecord{}, errNoOrder
	}
	if err != nil {
		return orderRecord{}, err
	}
	return decodeOrder(doc)
}

func (r *redisOrders) update(ctx context.Context, rec orderRecord) error {
	b, err := json.Marshal(&rec)
	if err != nil {
		return err
	}
	finished := "0"
	if rec.finished() {
		finished = "1"
	}
	flashKey := r.flashKey("-")
	if rec.FlashTicket != "" {
		flashKey = r.flashKey(rec.User)
	}
	n, err := updateOrder.Run(ctx, r.client, []string{r.key(rec.ID), r.tag + ":open", flashKey},
		rec.ID, rec.Version, b, finished, orderRetention.Milliseconds()).Int()
	switch {
	case err != nil:
		return err
	case n == 0:
		return errStaleOrder
	case n < 0:
		return errNoOrder
	}
	return nil
}

func (r *redisOrders) flashOf(ctx context.Context, user string) (string, error) {
	id, err := r.client.Get(ctx, r.flashKey(user)).Result()
	if errors.Is(err, redis.Nil) {
		return "", nil
	}
	return id, err
}

func (r *redisOrders) unfinished(ctx context.Context) ([]string, error) {
	var out []string
	iter := r.client.SScan(ctx, r.tag+":open", 0, "", 500).Iterator()
	for iter.Next(ctx) {
		out = append(out, iter.Val())
	}
	sort.Strings(out)
	return out, iter.Err()
}

func (r *redisOrders) list(ctx context.Context, cursor string, limit int) ([]orderRecord, string, error) {
	start := "-"
	if cursor != "" {
		start = "(" + cursor
	}
	members, err := r.client.ZRangeArgs(ctx, redis.ZRangeArgs{Key: r.tag + ":index", Start: start, Stop: "+",
		ByLex: true, Count: int64(limit) + 1}).Result()
	if err != nil {
		return nil, "", err
	}
	more := len(members) > limit
	if more {
		members = members[:limit]
	}
	pipe := r.client.Pipeline()
	docs := make([]*redis.StringCmd, len(members))
	for i, m := range members {
		_, id, _ := strings.Cut(m, ":")
		docs[i] = pipe.HGet(ctx, r.key(id), "doc")
	}
	if _, err := pipe.Exec(ctx); err != nil && !errors.Is(err, redis.Nil) {
		return nil, "", err
	}
	var out []orderRecord
	for _, d := range docs {
		b, err := d.Bytes()
		if errors.Is(err, redis.Nil) {
			continue // past its retention; forget drops its entry
		}
		if err != nil {
			return nil, "", err
		}
		rec, err := decodeOrder(b)
		if err != nil {
			return nil, "", err
		}
		out = append(out, rec)
	}
	next := ""
	if more {
		next = members[len(members)-1]
	}
	return out, next, nil
}

func (r *redisOrders) forget(ctx context.Context, cutoff time.Time) error {
	return r.client.ZRemRangeByLex(ctx, r.tag+":index", "-", "("+indexCutoff(cutoff)).Err()
}

// parseCursor checks a list cursor from a client.
func parseCursor(c string) bool {
	if c == "" {
		return true
	}
	ms, id, ok := strings.Cut(c, ":")
	_, err := strconv.ParseInt(ms, 10, 64)
	return ok && err == nil && len(ms) == 13 && validName(id)
}
