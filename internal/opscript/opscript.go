// Package opscript runs mutating Lua scripts at most once per call, however
// often the client sends them.
//
// go-redis resends a command whose reply did not arrive in time (MaxRetries,
// 3 by default), and the server may well have run the first copy already: a
// stall past the read timeout, a reset connection or a failover between the
// write and its reply all end that way. A script that is not idempotent then
// applies twice (a stock transfer moves twice, a limiter counts twice), and
// even one that is idempotent by a caller's ID reports "replayed" to the
// very caller whose first reply was lost.
//
// Script fixes both in one place. Each Run draws a fresh operation ID and
// passes, as the last key, an operation record beside the script's first
// key (same hash tag, so same Cluster slot). The script's body runs inside a
// wrapper that first looks for the record: if it exists, this is a resend
// and the wrapper returns the recorded reply without running the body;
// otherwise the body runs and its reply is recorded, exactly, for Retention.
// A resend carries the very same arguments, so it carries the same ID; a new
// call gets a new one. The body sees KEYS and ARGV exactly as the caller
// passed them.
//
// The record costs a GET and a SET with a TTL per call (a batch of calls
// sent as one script call shares one), about 4 µs of server time in all,
// and about 100 bytes until it expires; scripts that are retry-safe as
// they are skip it (NewIdempotent). BENCHMARKS.md has the figures.
//
// # Reply convention
//
// A script of the module with several outcomes replies with an array
// whose first element is an integer status, followed by that status's values, and the
// Go side names each status with a constant that mirrors the script's
// header (adjustApplied, postReplayed, mergeConflict …), never a bare
// number. The batch scripts (inventory's reserve.lua, seckill's admit.lua)
// pack one status row per call into a single string instead, because a
// batch of hundreds of small arrays costs more to encode than the work it
// reports; their rows start with the status too. A script with one
// outcome replies with its value alone (a fence, a count).
package opscript

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/redis/go-redis/v9"
)

// Retention is how long an operation's record is kept. It only has to
// outlast the client's retry window: from the first copy to the last
// resend go-redis waits at most (MaxRetries+1) × ReadTimeout plus its
// backoffs, about 13.5 s with its defaults, and both copies run as soon as
// a stalled server resumes. A minute covers four times that; clients set
// to retry for longer than a minute are not covered.
const Retention = time.Minute

// Script is a mutating Lua script made retry-safe by an operation ID.
type Script struct {
	s *redis.Script
	// plain, if set, is the body alone: a script whose every resend
	// already answers as its first call did (NewIdempotent) runs without
	// a record, except where a replica wait needs the record's write.
	plain *redis.Script
}

// wrapper runs the body once per operation record (the last key, which it
// removes from KEYS before the body sees them). A body that raises an error
// records nothing: scripts check before their first write, so such a call
// changed nothing and may run again. A resend that finds the record
// refreshes its TTL: a write, so that a WAIT after the resend covers the
// first call's write too.
//
// The record encodes the reply exactly: with Redis' MessagePack library
// (C, exact for every integer up to 2^53, the precision Lua numbers have)
// where the server has it, else (miniredis) with a length-prefixed Lua
// encoding, numbers printed with 17 significant digits; the first byte
// says which. Redis' cjson rounds numbers to 14 digits, so it is not used.
// Measured on real Redis, the record costs a GET and a SET with a TTL,
// about 2.7 µs of server time, plus about 1 µs to pack the reply.
const wrapper = `local op = table.remove(KEYS)
local rec = redis.call('GET', op)
if rec then
  -- A write, so that a WAIT after this call covers the first call's write.
  redis.call('PEXPIRE', op, RETENTION)
  if string.sub(rec, 1, 1) == 'm' then return cmsgpack.unpack(string.sub(rec, 2)) end
  local function dec(s, i)
    local c = string.sub(s, i, i)
    if c == 's' then
      local colon = string.find(s, ':', i, true)
      local j = colon + tonumber(string.sub(s, i + 1, colon - 1))
      return string.sub(s, colon + 1, j), j + 1
    elseif c == 'n' then
      local semi = string.find(s, ';', i, true)
      return tonumber(string.sub(s, i + 1, semi - 1)), semi + 1
    elseif c == 't' or c == 'f' then
      return c == 't', i + 1
    elseif c == 'e' or c == 'o' then
      local v, j = dec(s, i + 1)
      if c == 'e' then return {err = v}, j end
      return {ok = v}, j
    end
    local colon = string.find(s, ':', i, true)
    local a, j = {}, colon + 1
    for k = 1, tonumber(string.sub(s, i + 1, colon - 1)) do a[k], j = dec(s, j) end
    return a, j
  end
  return (dec(string.sub(rec, 2), 1))
end
local reply = (function()
BODY
end)()
if rawget(_G, 'cmsgpack') then
  rec = 'm' .. cmsgpack.pack(reply)
else
  local out = {'l'}
  local function enc(v)
    local t = type(v)
    if t == 'string' then
      out[#out + 1] = 's' .. #v .. ':' .. v
    elseif t == 'number' then
      out[#out + 1] = 'n' .. string.format('%.17g', v) .. ';'
    elseif t == 'boolean' then
      out[#out + 1] = v and 't' or 'f'
    elseif v.err then
      out[#out + 1] = 'e'
      enc(v.err)
    elseif v.ok then
      out[#out + 1] = 'o'
      enc(v.ok)
    else
      out[#out + 1] = 'a' .. #v .. ':'
      for i = 1, #v do enc(v[i]) end
    end
  end
  enc(reply)
  rec = table.concat(out)
end
redis.call('SET', op, rec, 'PX', RETENTION)
return reply
`

// NewIdempotent is New for a body that is retry-safe as it is: a resend
// applies nothing again and gets the first call's reply (an HSETNX, say,
// or a grant that the same owner's resend extends). It runs without an
// operation record, saving the record's cost, except under a replica
// wait (RunPipelinedThen), where the record's write is what makes WAIT
// cover a replayed call's original write. Its header must say why it is
// safe.
func NewIdempotent(src string) *Script {
	s := New(src)
	s.plain = redis.NewScript(src)
	return s
}

// New wraps the script body src.
func New(src string) *Script {
	// Replace the placeholders in the wrapper only, so that the body's own
	// text is never rewritten.
	ms := strconv.FormatInt(Retention.Milliseconds(), 10)
	before, after, _ := strings.Cut(wrapper, "BODY")
	before = strings.ReplaceAll(before, "RETENTION", ms)
	after = strings.ReplaceAll(after, "RETENTION", ms)
	return &Script{s: redis.NewScript(before + src + after)}
}

// Run runs the script once for this call: keys[0] names the hash tag the
// operation record shares, so keys must not be empty.
func (s *Script) Run(ctx context.Context, c redis.Scripter, keys []string, args ...any) *redis.Cmd {
	if s.plain != nil {
		return s.plain.Run(ctx, c, keys, args...)
	}
	return s.s.Run(ctx, c, WithRecord(keys), args...)
}

// RunAs runs the script once for the operation id: calls with the same id
// (and keys) within Retention apply once and all get the first reply. A
// caller that must retry an operation after an error — the call may or may
// not have run — retries it under the same id.
func (s *Script) RunAs(ctx context.Context, c redis.Scripter, id string, keys []string, args ...any) *redis.Cmd {
	if s.plain != nil {
		return s.plain.Run(ctx, c, keys, args...)
	}
	return s.s.Run(ctx, c, withRecordID(keys, id), args...)
}

// WithRecord returns keys with a fresh operation record appended: one
// call's keys, to be sent (and resent) as they are.
func WithRecord(keys []string) []string { return withRecordID(keys, NewID()) }

func withRecordID(keys []string, id string) []string {
	all := make([]string, len(keys)+1)
	copy(all, keys)
	all[len(keys)] = RecordKey(keys[0], id)
	return all
}

// RecordKey names operation id's record beside key: the same hash tag, and
// a suffix no store's key schema uses.
func RecordKey(key, id string) string { return key + ":op:" + id }

var (
	process = newProcessID()
	counter atomic.Uint64
)

func newProcessID() string {
	var b [8]byte
	_, _ = rand.Read(b[:]) // never fails on supported platforms
	return hex.EncodeToString(b[:])
}

// NewID returns an operation ID no other call of any process gets: a random
// process ID and a counter, in [0-9a-z-] only.
func NewID() string {
	return process + "-" + strconv.FormatUint(counter.Add(1), 36)
}

// Pipeliner is the part of a go-redis client RunPipelined needs.
type Pipeliner interface {
	Pipelined(ctx context.Context, fn func(redis.Pipeliner) error) ([]redis.Cmder, error)
}

// Call is one call of the script in a pipeline.
type Call struct {
	Keys []string
	Args []any
}

// RunPipelined sends calls in one pipeline by the script's SHA, then
// resends by body, in a second pipeline, the calls a node answered
// NOSCRIPT (its script cache was empty). Each call carries its own
// operation record, the same in its resend. It returns one command per
// call, or the first error other than NOSCRIPT.
func (s *Script) RunPipelined(ctx context.Context, c Pipeliner, calls []Call) ([]*redis.Cmd, error) {
	script := s.s
	if s.plain != nil {
		script = s.plain
	}
	keys := make([][]string, len(calls))
	cmds := make([]*redis.Cmd, len(calls))
	_, _ = c.Pipelined(ctx, func(p redis.Pipeliner) error {
		for i, call := range calls {
			keys[i] = call.Keys
			if s.plain == nil {
				keys[i] = WithRecord(call.Keys)
			}
			cmds[i] = script.EvalSha(ctx, p, keys[i], call.Args...)
		}
		return nil
	})
	var retry []int
	for i, cmd := range cmds {
		if err := cmd.Err(); err != nil {
			if !redis.HasErrorPrefix(err, "NOSCRIPT") {
				return nil, err
			}
			retry = append(retry, i)
		}
	}
	if len(retry) == 0 {
		return cmds, nil
	}
	_, _ = c.Pipelined(ctx, func(p redis.Pipeliner) error {
		for _, i := range retry {
			cmds[i] = script.Eval(ctx, p, keys[i], calls[i].Args...)
		}
		return nil
	})
	for _, i := range retry {
		if err := cmds[i].Err(); err != nil {
			return nil, err
		}
	}
	return cmds, nil
}

// RunPipelinedThen sends one call, as operation id ("" for a fresh one),
// and then, in the same pipeline and so on the same connection, the command
// then adds (a WAIT, say), resending both by body if the node answered
// NOSCRIPT. It returns the script's command, then's command, and the first
// error other than NOSCRIPT.
func (s *Script) RunPipelinedThen(ctx context.Context, c Pipeliner, id string, call Call, then func(context.Context, redis.Pipeliner) *redis.IntCmd) (*redis.Cmd, *redis.IntCmd, error) {
	if id == "" {
		id = NewID()
	}
	keys := withRecordID(call.Keys, id)
	var cmd *redis.Cmd
	var next *redis.IntCmd
	send := func(bySHA bool) {
		_, _ = c.Pipelined(ctx, func(p redis.Pipeliner) error {
			if bySHA {
				cmd = s.s.EvalSha(ctx, p, keys, call.Args...)
			} else {
				cmd = s.s.Eval(ctx, p, keys, call.Args...)
			}
			next = then(ctx, p)
			return nil
		})
	}
	send(true)
	if err := cmd.Err(); err != nil && redis.HasErrorPrefix(err, "NOSCRIPT") {
		send(false)
	}
	if err := cmd.Err(); err != nil && err != redis.Nil {
		return cmd, next, err
	}
	return cmd, next, nil
}
