package payout

import (
	"context"
	_ "embed"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/shopkit/shopkit/internal/durable"
	"github.com/shopkit/shopkit/internal/keyspace"
	"github.com/shopkit/shopkit/internal/opscript"
)

var _ ledgerBackend = (*redisLedger)(nil)

// LedgerRedisClient is the part of go-redis the Redis ledger uses.
// *redis.Client, *redis.ClusterClient, *redis.Ring and the failover clients
// implement it.
type LedgerRedisClient interface {
	redis.Scripter
	HMGet(ctx context.Context, key string, fields ...string) *redis.SliceCmd
	LRange(ctx context.Context, key string, start, stop int64) *redis.StringSliceCmd
	Pipelined(ctx context.Context, fn func(redis.Pipeliner) error) ([]redis.Cmder, error)
}

var _ LedgerRedisClient = redis.UniversalClient(nil)

var (
	//go:embed lua/post.lua
	postLua    string
	postScript = opscript.New(postLua)

	//go:embed lua/balances.lua
	balancesLua    string
	balancesScript = redis.NewScript(balancesLua)
)

// redisLedger keeps a ledger in Redis. Keys:
//
//	{P}:tx:<id>     hash  f = request fingerprint, p = postings, at = posted
//	                      ms, av = available ms, rv = ID reversed, rb = ID
//	                      of the reversal
//	{P}:b:<account> hash  a = available, p = pending
//	{P}:d:<account> zset  pending postings "<tx ID> <amount>" by available ms
//	{P}:h:<account> list  history "<tx ID> <amount> <posted ms> <available ms>",
//	                      newest first
type redisLedger struct {
	client LedgerRedisClient
	opts   LedgerOptions
	policy durable.Policy // replicas every posting waits for
	tag    string
}

// NewRedisLedger returns a ledger on Redis or Redis Cluster: one Lua script
// per posting, decisions about availability by the server's TIME. All keys
// of a ledger share the hash tag {Prefix}, so a transaction touching many
// accounts is one atomic script on one Cluster node. It fails only if
// opts.Prefix is invalid or opts.WaitReplicas needs a client that cannot
// wait.
func NewRedisLedger(client LedgerRedisClient, opts LedgerOptions) (*Ledger, error) {
	opts = opts.withDefaults()
	if rule := keyspace.CheckPrefix(opts.Prefix); rule != "" {
		return nil, &InputError{Field: "Prefix", Rule: rule}
	}
	policy := durable.Policy{Replicas: opts.WaitReplicas, Timeout: opts.WaitTimeout}
	if rule := durable.CheckClient(client, policy); rule != "" {
		return nil, &InputError{Field: "WaitReplicas", Rule: rule}
	}
	return newLedger(&redisLedger{client: client, opts: opts, policy: policy, tag: keyspace.Tag(opts.Prefix)}, opts), nil
}

func (l *redisLedger) txKey(id string) string { return l.tag + ":tx:" + id }

func (l *redisLedger) accountKeys(account string) (balance, pending, history string) {
	return l.tag + ":b:" + account, l.tag + ":d:" + account, l.tag + ":h:" + account
}

func (l *redisLedger) post(ctx context.Context, id string, postings []Posting, avail int64) (Posted, error) {
	return l.run(ctx, id, postings, avail, "", "")
}

// run runs post.lua; for a reversal, reverses and origEnc name the
// original and its postings as read.
func (l *redisLedger) run(ctx context.Context, id string, postings []Posting, avail int64, reverses, origEnc string) (Posted, error) {
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
	guard := "0"
	if l.opts.GuardBalances {
		guard = "1"
	}
	args = append(args, guard)
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
	case postDone, postReplayed:
		if len(res) != 3 {
			break
		}
		at, _ := res[1].(int64)
		av, _ := res[2].(int64)
		out := Posted{ID: id, Postings: postings, PostedAt: time.UnixMilli(at), AvailableAt: time.UnixMilli(av),
			Reverses: reverses, Replayed: code == postReplayed, fingerprint: fp}
		if code == postReplayed {
			// A replay reports the stored record, including any reversal.
			p, err := l.transaction(ctx, id)
			p.Replayed = err == nil
			return p, err
		}
		return out, nil
	case postConflict:
		return Posted{}, ErrIDConflict
	case postNoOriginal:
		return Posted{}, ErrNotFound
	case postStale:
		return Posted{}, errRetry
	case postReversed:
		by, _ := res[1].(string)
		return Posted{}, &ReversedError{ID: reverses, ReversedBy: by}
	case postOfReversal:
		return Posted{}, &InputError{Field: "Transaction", Rule: "must not name a reversal"}
	case postBeyondLimit:
		if i, _ := res[1].(int64); len(res) == 2 && i >= 0 && int(i) < len(postings) {
			return Posted{}, &BalanceLimitError{TransactionID: id, Account: postings[i].Account}
		}
	case postInsufficient:
		if i, _ := res[1].(int64); len(res) == 3 && i >= 0 && int(i) < len(postings) {
			bal, _ := res[2].(int64)
			return Posted{}, &InsufficientFundsError{TransactionID: id, Account: postings[i].Account, Balance: bal, Amount: postings[i].Amount}
		}
	}
	return Posted{}, fmt.Errorf("payout: post %s: unexpected script reply %v", id, res)
}

// post.lua's statuses, as its header lists them.
const (
	postDone         = 0
	postReplayed     = 1
	postConflict     = 2
	postNoOriginal   = 3
	postStale        = 4
	postReversed     = 5
	postOfReversal   = 6
	postBeyondLimit  = 7
	postInsufficient = 8
)

// errRetry means a record changed between a read and the script that
// relied on it.
var errRetry = errors.New("payout: record changed; retry")

func (l *redisLedger) reverse(ctx context.Context, r ReverseRequest) (Posted, error) {
	id, reversalID := r.Transaction, r.ID
	// Transactions never change their postings, so the read cannot go
	// stale; the script checks it anyway.
	orig, err := l.transaction(ctx, id)
	if err != nil {
		return Posted{}, err
	}
	out, err := l.run(ctx, reversalID, negate(orig.Postings), orig.AvailableAt.UnixMilli(), id, encodePostings(orig.Postings))
	if errors.Is(err, errRetry) {
		return Posted{}, fmt.Errorf("payout: reverse %s: %w", id, err)
	}
	return out, err
}

func (l *redisLedger) transaction(ctx context.Context, id string) (Posted, error) {
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

func (l *redisLedger) balances(ctx context.Context, accounts []string) ([]Balance, error) {
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

func (l *redisLedger) history(ctx context.Context, account string, limit int) ([]Entry, error) {
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

// openScript sets or clears an account's n field, which post.lua reads.
// Retry-safe as it is: setting or clearing twice is setting or clearing
// once.
var openScript = opscript.NewIdempotent(`
if ARGV[1] == '1' then redis.call('HSET', KEYS[1], 'n', '1') else redis.call('HDEL', KEYS[1], 'n') end
return 1`)

// open records the account's guard setting, waiting for replicas as a
// posting does: a failover must not hand an account back an exemption
// that was withdrawn.
func (l *redisLedger) open(ctx context.Context, o AccountOptions) error {
	b, _, _ := l.accountKeys(o.Account)
	flag := "0"
	if o.AllowNegative {
		flag = "1"
	}
	_, err := durable.Run(ctx, l.client, l.policy, openScript, []string{b}, flag)
	if errors.Is(err, durable.ErrTimeout) {
		return fmt.Errorf("payout: open %s: %w (%w)", o.Account, ErrNotReplicated, err)
	}
	if err != nil {
		return fmt.Errorf("payout: open %s: %w", o.Account, err)
	}
	return nil
}
