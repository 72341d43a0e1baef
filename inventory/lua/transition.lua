-- transition.lua: moves one reservation through its life cycle. A held
-- reservation whose deadline has passed is expired first (its stock returns
-- exactly once), then the operation applies to the resulting state.
--
-- KEYS[1]   expiry index (see reserve.lua)
-- KEYS[2]   records hash, ID -> "<state>|<deadline ms>|<encoded lines>"
-- KEYS[3]   finished records: sorted set, ID -> when to forget it (ms)
-- KEYS[4..] the stock hashes of the reservation's lines, in line order
-- ARGV[1]   operation: commit | release | extend | touch (expire if due)
-- ARGV[2]   reservation ID
-- ARGV[3]   encoded lines the caller read; the keys above were built from them
-- ARGV[4]   retention (ms) of a finished record
-- ARGV[5]   TTL (ms), for extend
-- ARGV[6..] the quantity of each line
--
-- Returns {code, state, deadline, expired now (0|1), changed (0|1)}:
--   code 0  no such reservation (a stale expiry-index entry is removed)
--   code 1  the record's lines differ from ARGV[3] (the ID was reused
--           after its record was forgotten): read again and retry
--   code 2  done; state is the state after the call, changed says whether
--           this call performed the operation. A commit of a non-held
--           reservation, a release of a committed one and an extend of a
--           non-held one change nothing; the caller reports the state.
--
-- Retry-safe: runs inside internal/opscript's wrapper, which takes its
-- operation record off the end of KEYS first and answers a resent call
-- with the first call's reply, so this body runs once per call.
local exp, recs, fin = KEYS[1], KEYS[2], KEYS[3]
local op, id, enc = ARGV[1], ARGV[2], ARGV[3]
local retention = tonumber(ARGV[4])
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)

-- Forget a few finished records whose retention has passed.
local gone = redis.call('ZRANGEBYSCORE', fin, '-inf', now, 'LIMIT', 0, 16)
if #gone > 0 then
  redis.call('HDEL', recs, unpack(gone))
  redis.call('ZREM', fin, unpack(gone))
end

local rec = redis.call('HGET', recs, id)
if not rec then
  redis.call('ZREM', exp, id)
  return {0, 0, 0, 0, 0}
end
local s, d, l = string.match(rec, '^(%d)|(%d+)|(.*)$')
if l ~= enc then
  return {1, 0, 0, 0, 0}
end
s = tonumber(s)
local expired, changed = 0, 0

local function finish(state)
  redis.call('HSET', recs, id, state .. '|' .. d .. '|' .. l)
  redis.call('ZADD', fin, now + retention, id)
  redis.call('ZREM', exp, id)
  s = state
end

local function returnStock(onHandToo)
  for i = 4, #KEYS do
    local q = '-' .. ARGV[i + 2]
    redis.call('HINCRBY', KEYS[i], 'r', q)
    if onHandToo then redis.call('HINCRBY', KEYS[i], 'h', q) end
  end
end

if s == 1 and tonumber(d) <= now then
  returnStock(false)
  finish(4)
  expired = 1
end
if s == 1 then
  if op == 'commit' then
    returnStock(true)
    finish(2)
    changed = 1
  elseif op == 'release' then
    returnStock(false)
    finish(3)
    changed = 1
  elseif op == 'extend' then
    d = string.format('%d', now + tonumber(ARGV[5]))
    redis.call('HSET', recs, id, '1|' .. d .. '|' .. l)
    redis.call('ZADD', exp, d, id)
    changed = 1
  end
end
return {2, s, tonumber(d), expired, changed}
