-- home.lua: the home record of a spread reservation, one whose lines live
-- in more than one stock group of a spread store (spread.go). The home
-- record alone decides the reservation's state: the holds in the groups
-- follow it, pushed by the caller after each change and pulled by the
-- recovery sweep when a caller died in between.
--
-- KEYS[1]  home records: hash, ID -> "<state>|<deadline ms>|<encoded
--          lines>", state 1 held, 2 committed, 3 released, 4 expired, 5
--          abandoned (never opened; the recovery sweep found holds with no
--          home record and closed the ID, so a late open cannot revive
--          them)
-- KEYS[2]  home expiry index: sorted set, ID -> deadline (ms), held only
-- KEYS[3]  finished home records: sorted set, ID -> when to forget (ms)
-- KEYS[4]  the group's reservation records (reserve.lua's KEYS[2]): an ID
--          reserved there on the fast path is taken
-- KEYS[5]  pending fulfilment intents: hash, reservation ID -> "<op>
--          <request ID> <encoded lines>", the one Ship or Return of the
--          reservation being applied to its groups
-- KEYS[6]  pending intents by when they began: sorted set, ID -> ms
-- KEYS[7]  end with ARGV[4] retire-order only: the order's home record
--          (spread_incoming.go)
-- ARGV[1]  op: open, touch, extend, commit, release, resolve, sweep,
--          begin, end or intents
-- ARGV[2]  ID (sweep: at most this many due records; open: the number of
--          records n, then ARGV[7..] holds n triples: ID, encoded lines of
--          all groups, TTL ms)
-- ARGV[3]  unused
-- ARGV[4]  extend: TTL (ms); end: retire when the intent left the
--          reservation all shipped or returned, retire-order when it left
--          the order with nothing open, else 0
-- ARGV[5]  retention (ms) of a finished record
-- ARGV[6]  1 when committed units stay on hand until shipped
--          (Options.Shipping): a committed record then lives until the
--          end of the intent that ships or returns its last units
--          retires it; 0: commit finishes the record
--
-- Returns {code, state, deadline, expired, changed, encoded lines}:
--   code 0 no record (touch, extend, commit, release), 2 an existing
--   record, after op. expired is 1 when this call expired the record,
--   changed 1 when op changed its state or deadline.
-- open, the reservations of a batch of Reserve calls coalesced as
--   reserve.lua's are, returns a string, a line per record:
--   "1 deadline" opened, "2 state deadline expired" the ID's existing
--   record (a replay; expired 1 when this call expired it), "3" the ID is
--   taken by other lines or by a fast-path reservation.
-- resolve is touch that abandons a missing ID instead of returning 0.
-- sweep expires due held records and returns {ID, deadline, lines, ...}.
-- begin records ARGV[3] as reservation ARGV[2]'s pending intent and
--   returns {1}, or {2, the pending intent} when another one is pending
--   (its caller rolls that forward first). end drops the intent if it is
--   still ARGV[3], retires what ARGV[4] says, and returns {1}. intents
--   returns {ID, intent, ...} for intents pending since ARGV[4] ms or
--   longer, at most ARGV[2].
--
-- Retry-safe: runs inside internal/opscript's wrapper.
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local homes, exp, fin, recs = KEYS[1], KEYS[2], KEYS[3], KEYS[4]
local op, id = ARGV[1], ARGV[2]
local retention = tonumber(ARGV[5])

-- Forget a few finished records whose retention has passed: more per call
-- than a call finishes, so the hash stays bounded.
local due = redis.call('ZRANGEBYSCORE', fin, '-inf', now, 'LIMIT', 0, 8)
if #due > 0 then
  redis.call('HDEL', homes, unpack(due))
  redis.call('ZREM', fin, unpack(due))
end

local function finish(x, state, deadline, enc)
  redis.call('HSET', homes, x, state .. '|' .. deadline .. '|' .. enc)
  redis.call('ZREM', exp, x)
  redis.call('ZADD', fin, now + retention, x)
end

local intents, intentx = KEYS[5], KEYS[6]
if op == 'begin' then
  local cur = redis.call('HGET', intents, id)
  if cur and cur ~= ARGV[3] then return {2, cur} end
  if not cur then
    redis.call('HSET', intents, id, ARGV[3])
    redis.call('ZADD', intentx, now, id)
  end
  return {1}
elseif op == 'end' then
  if redis.call('HGET', intents, id) == ARGV[3] then
    redis.call('HDEL', intents, id)
    redis.call('ZREM', intentx, id)
  end
  -- Retiring goes with the end, in one script: a caller that died
  -- between the two would leave the intent gone and nothing retired, and
  -- a retry finds every group a replay. Both are idempotent.
  if ARGV[4] == 'retire' then
    local rec = redis.call('HGET', homes, id)
    if rec and string.sub(rec, 1, 1) == '2' and not redis.call('ZSCORE', fin, id) then
      redis.call('ZADD', fin, now + retention, id)
    end
  elseif ARGV[4] == 'retire-order' then
    redis.call('PEXPIRE', KEYS[7], retention, 'NX')
  end
  return {1}
elseif op == 'intents' then
  local out = {}
  local ids = redis.call('ZRANGEBYSCORE', intentx, '-inf', now - tonumber(ARGV[4]), 'LIMIT', 0, tonumber(id))
  for _, x in ipairs(ids) do
    local cur = redis.call('HGET', intents, x)
    if cur then
      out[#out + 1] = x
      out[#out + 1] = cur
    else
      redis.call('ZREM', intentx, x)
    end
  end
  return out
end

if op == 'sweep' then
  local out = {}
  local ids = redis.call('ZRANGEBYSCORE', exp, '-inf', now, 'LIMIT', 0, tonumber(id))
  for _, x in ipairs(ids) do
    local rec = redis.call('HGET', homes, x)
    local s, d, enc = string.match(rec or '', '^(%d)|(%d+)|(.*)$')
    if s == '1' and tonumber(d) <= now then
      finish(x, '4', d, enc)
      out[#out + 1] = x
      out[#out + 1] = d
      out[#out + 1] = enc
    else
      redis.call('ZREM', exp, x) -- stale: finished or forgotten
    end
  end
  return out
end

if op == 'open' then
  local n = tonumber(id)
  local ids = {}
  for i = 1, n do ids[i] = ARGV[4 + 3 * i] end
  local old = redis.call('HMGET', homes, unpack(ids))
  local fast = redis.call('HMGET', recs, unpack(ids))
  local out, hset, zadd = {}, {}, {}
  for i = 1, n do
    local x, enc = ids[i], ARGV[5 + 3 * i]
    local rec = old[i]
    if rec then
      local s, d, e = string.match(rec, '^(%d)|(%d+)|(.*)$')
      if e ~= enc and s ~= '5' then
        out[i] = '3'
      else
        local expired = 0
        if s == '1' and tonumber(d) <= now then
          s, expired = '4', 1
          finish(x, s, d, e)
        end
        out[i] = '2 ' .. s .. ' ' .. d .. ' ' .. expired
      end
    elseif fast[i] then
      out[i] = '3'
    else
      local d = string.format('%d', now + tonumber(ARGV[6 + 3 * i]))
      hset[#hset + 1] = x
      hset[#hset + 1] = '1|' .. d .. '|' .. enc
      zadd[#zadd + 1] = d
      zadd[#zadd + 1] = x
      out[i] = '1 ' .. d
    end
  end
  if #hset > 0 then
    redis.call('HSET', homes, unpack(hset))
    redis.call('ZADD', exp, unpack(zadd))
  end
  return table.concat(out, '\n')
end

local rec = redis.call('HGET', homes, id)
if not rec then
  if op == 'resolve' then
    finish(id, '5', string.format('%d', now), '')
    return {2, 5, now, 0, 1, ''}
  end
  return {0}
end

local s, d, enc = string.match(rec, '^(%d)|(%d+)|(.*)$')
local expired, changed = 0, 0
if s == '1' and tonumber(d) <= now then
  s, expired = '4', 1
  finish(id, s, d, enc)
end
if s == '1' then
  if op == 'extend' then
    d = string.format('%d', now + tonumber(ARGV[4]))
    redis.call('HSET', homes, id, '1|' .. d .. '|' .. enc)
    redis.call('ZADD', exp, d, id)
    changed = 1
  elseif op == 'commit' and ARGV[6] == '1' then
    s = '2'
    redis.call('HSET', homes, id, s .. '|' .. d .. '|' .. enc)
    redis.call('ZREM', exp, id)
    changed = 1
  elseif op == 'commit' or op == 'release' then
    s = op == 'commit' and '2' or '3'
    finish(id, s, d, enc)
    changed = 1
  end
end
return {2, tonumber(s), tonumber(d), expired, changed, enc}
