package payout

import (
	"context"
	_ "embed"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/shopkit/shopkit/internal/durable"
	"github.com/shopkit/shopkit/internal/keyspace"
	"github.com/shopkit/shopkit/internal/opscript"
)

var _ Ledger = (*RedisLedger)(nil)

// RedisClient is the part of go-redis the Redis ledger uses. *redis.Client,
// *redis.ClusterClient, *redis.Ring and the failover clients implement it.
type RedisClient interface {
	redis.Scripter
	HMGet(ctx context.Context, key string, fields ...string) *redis.SliceCmd
	LRange(ctx context.Context, key string, start, stop int64) *redis.StringSliceCmd
	Pipelined(ctx context.Context, fn func(redis.Pipeliner) error) ([]redis.Cmder, error)
}

var _ RedisClient = redis.UniversalClient(nil)

var (
	//go:embed lua/post.lua
	postLua    string
	postScript = opscript.New(postLua)

	//go:embed lua/balances.lua
	balancesLua    string
	balancesScript = redis.NewScript(balancesLua)
)

// RedisLedger is a Ledger on Redis or Redis Cluster: one Lua script per
// posting, decisions about availability by the server's TIME. All keys of a
// ledger share the hash tag {Prefix}, so a transaction touching many
// accounts is one atomic script on one Cluster node.
//
// Keys:
//
//	{P}:tx:<id>     hash  f = request fingerprint, p = postings, at = posted
//	                      ms, av = available ms, rv = ID reversed, rb = ID
//	                      of the reversal
//	{P}:b:<account> hash  a = available, p = pending
//	{P}:d:<account> zset  pending postings "<tx ID> <amount>" by available ms
//	{P}:h:<account> list  history "<tx ID> <amount> <posted ms> <available ms>",
//	                      newest first
type RedisLedger struct {
	client RedisClient
	opts   LedgerOptions
	policy durable.Policy // replicas every posting waits for
	tag    string
	closed atomic.Bool
}

// NewRedisLedger returns a ledger on client. It fails only if opts.Prefix is
// invalid.
func NewRedisLedger(client RedisClient, opts LedgerOptions) (*RedisLedger, error) {
	opts = opts.withDefaults()
	if rule := keyspace.CheckPrefix(opts.Prefix); rule != "" {
		return nil, &InputError{Field: "Prefix", Rule: rule}
	}
	policy := durable.Policy{Replicas: opts.WaitReplicas, Timeout: opts.WaitTimeout}
	if rule := durable.CheckClient(client, policy); rule != "" {
		return nil, &InputError{Field: "WaitReplicas", Rule: rule}
	}
	return &RedisLedger{client: client, opts: opts, policy: policy, tag: keyspace.Tag(opts.Prefix)}, nil
}

func (l *RedisLedger) txKey(id string) string { return l.tag + ":tx:" + id }

func (l *RedisLedger) accountKeys(account string) (balance, pending, history string) {
	return l.tag + ":b:" + account, l.tag + ":d:" + account, l.tag + ":h:" + account
}

// Post implements Ledger.
func (l *RedisLedger) Post(ctx context.Context, t Transaction) (Posted, error) {
	postings, err := normalizePostings(t)
	if err != nil {
		return Posted{}, err
	}
	if l.closed.Load() {
		return Posted{}, ErrClosed
	}
	return l.post(ctx, t.ID, postings, availableMillis(t.AvailableAt), "", "")
}

// post runs post.lua; for a reversal, reverses and origEnc name the
// original and its postings as read.
func (l *RedisLedger) post(ctx context.Context, id string, postings []Posting, avail int64, reverses, origEnc string) (Posted, error) {
	enc := encodePostings(postings)
	fp := fingerprint(postings, avail, reverses)
	keys := make([]string, 0, 2+3*len(postings))
	keys = append(keys, l.txKey(id), l.txKey(id))
	if reverses != "" {
		keys[1] = l.txKey(reverses)
	}
	args := make([]any, 0, 6+len(postings))
	args = append(args, id, fp, enc, avail, reverses, origEnc, l.opts.HistoryLength, l.opts.Retention.Milliseconds())
	for _, p := range postings {
		b, d, h := l.accountKeys(p.Account)
		keys = append(keys, b, d, h)
		args = append(args, p.Amount)
	}
	cmd, err := durable.Run(ctx, l.client, l.policy, postScript, keys, args...)
	if errors.Is(err, durable.ErrTimeout) {
		return Posted{}, fmt.Errorf("payout: post %s: %w (%w)", id, ErrNotReplicated, err)
	}
	var res []any
	if err == nil {
		res, err = cmd.Slice()
	}
	if err != nil {
		return Posted{}, fmt.Errorf("payout: post %s: %w", id, err)
	}
	code, _ := res[0].(int64)
	switch code {
	case 0, 1:
		if len(res) != 3 {
			break
		}
		at, _ := res[1].(int64)
		av, _ := res[2].(int64)
		out := Posted{ID: id, Postings: postings, PostedAt: time.UnixMilli(at), AvailableAt: time.UnixMilli(av),
			Reverses: reverses, Replayed: code == 1, fingerprint: fp}
		if code == 1 {
			// A replay reports the stored record, including any reversal.
			p, err := l.Transaction(ctx, id)
			p.Replayed = err == nil
			return p, err
		}
		return out, nil
	case 2:
		return Posted{}, ErrIDConflict
	case 3:
		return Posted{}, ErrNotFound
	case 4:
		return Posted{}, errRetry
	case 5:
		by, _ := res[1].(string)
		return Posted{}, &ReversedError{ID: reverses, ReversedBy: by}
	case 6:
		return Posted{}, &InputError{Field: "ID", Rule: "must not name a reversal"}
	case 7:
		if i, _ := res[1].(int64); len(res) == 2 && i >= 0 && int(i) < len(postings) {
			return Posted{}, &BalanceLimitError{TransactionID: id, Account: postings[i].Account}
		}
	}
	return Posted{}, fmt.Errorf("payout: post %s: unexpected script reply %v", id, res)
}

// errRetry means a record changed between a read and the script that
// relied on it.
var errRetry = errors.New("payout: record changed; retry")

// Reverse implements Ledger.
func (l *RedisLedger) Reverse(ctx context.Context, id, reversalID string) (Posted, error) {
	if err := checkID("ID", id); err != nil {
		return Posted{}, err
	}
	if err := checkID("ReversalID", reversalID); err != nil {
		return Posted{}, err
	}
	if id == reversalID {
		return Posted{}, &InputError{Field: "ReversalID", Rule: "must differ from ID"}
	}
	if l.closed.Load() {
		return Posted{}, ErrClosed
	}
	// Transactions never change their postings, so the read cannot go
	// stale; the script checks it anyway.
	orig, err := l.Transaction(ctx, id)
	if err != nil {
		return Posted{}, err
	}
	out, err := l.post(ctx, reversalID, negate(orig.Postings), orig.AvailableAt.UnixMilli(), id, encodePostings(orig.Postings))
	if errors.Is(err, errRetry) {
		return Posted{}, fmt.Errorf("payout: reverse %s: %w", id, err)
	}
	return out, err
}

// Transaction implements Ledger.
func (l *RedisLedger) Transaction(ctx context.Context, id string) (Posted, error) {
	if err := checkID("ID", id); err != nil {
		return Posted{}, err
	}
	if l.closed.Load() {
		return Posted{}, ErrClosed
	}
	v, err := l.client.HMGet(ctx, l.txKey(id), "f", "p", "at", "av", "rv", "rb").Result()
	if err != nil {
		return Posted{}, fmt.Errorf("payout: transaction %s: %w", id, err)
	}
	if v[0] == nil {
		return Posted{}, ErrNotFound
	}
	str := func(i int) string { s, _ := v[i].(string); return s }
	postings, err := decodePostings(str(1))
	if err != nil {
		return Posted{}, fmt.Errorf("payout: transaction %s: %w", id, err)
	}
	at, _ := strconv.ParseInt(str(2), 10, 64)
	av, _ := strconv.ParseInt(str(3), 10, 64)
	return Posted{ID: id, Postings: postings, PostedAt: time.UnixMilli(at), AvailableAt: time.UnixMilli(av),
		Reverses: str(4), ReversedBy: str(5), fingerprint: str(0)}, nil
}

// Balances implements Ledger.
func (l *RedisLedger) Balances(ctx context.Context, accounts ...string) ([]Balance, error) {
	if err := checkAccounts(accounts); err != nil {
		return nil, err
	}
	if l.closed.Load() {
		return nil, ErrClosed
	}
	out := make([]Balance, len(accounts))
	if len(accounts) == 0 {
		return out, nil
	}
	keys := make([]string, 0, 2*len(accounts))
	for _, a := range accounts {
		b, d, _ := l.accountKeys(a)
		keys = append(keys, b, d)
	}
	v, err := balancesScript.Run(ctx, l.client, keys).StringSlice()
	if err != nil {
		return nil, fmt.Errorf("payout: balances: %w", err)
	}
	if len(v) != 2*len(accounts) {
		return nil, fmt.Errorf("payout: balances: unexpected script reply %v", v)
	}
	for i, a := range accounts {
		av, _ := strconv.ParseInt(v[2*i], 10, 64)
		pe, _ := strconv.ParseInt(v[2*i+1], 10, 64)
		out[i] = Balance{Account: a, Available: av, Pending: pe}
	}
	return out, nil
}

// History implements Ledger.
func (l *RedisLedger) History(ctx context.Context, account string, limit int) ([]Entry, error) {
	if err := checkID("Account", account); err != nil {
		return nil, err
	}
	if limit <= 0 {
		return nil, &InputError{Field: "Limit", Rule: "must be > 0"}
	}
	if l.closed.Load() {
		return nil, ErrClosed
	}
	_, _, h := l.accountKeys(account)
	rows, err := l.client.LRange(ctx, h, 0, int64(limit)-1).Result()
	if err != nil {
		return nil, fmt.Errorf("payout: history %s: %w", account, err)
	}
	out := make([]Entry, 0, len(rows))
	for _, row := range rows {
		f := strings.Fields(row)
		if len(f) != 4 {
			return nil, fmt.Errorf("payout: history %s: malformed entry %q", account, row)
		}
		amt, _ := strconv.ParseInt(f[1], 10, 64)
		at, _ := strconv.ParseInt(f[2], 10, 64)
		av, _ := strconv.ParseInt(f[3], 10, 64)
		out = append(out, Entry{TransactionID: f[0], Amount: amt, PostedAt: time.UnixMilli(at), AvailableAt: time.UnixMilli(av)})
	}
	return out, nil
}

// Close implements Ledger.
func (l *RedisLedger) Close() error {
	l.closed.Store(true)
	return nil
}
