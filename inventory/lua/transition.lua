-- transition.lua: moves one reservation through its life cycle. A held
-- reservation whose deadline has passed is expired first (its stock returns
-- exactly once), then the operation applies to the resulting state.
--
-- KEYS[1]   expiry index: sorted set, held reservation ID -> deadline (ms)
-- KEYS[2]   the reservation record (string "<state>|<deadline>|<lines>",
--           as in reserve.lua)
-- KEYS[3..] the stock hashes of its lines, in line order
-- ARGV[1]   operation: commit | release | extend | touch (expire if due)
-- ARGV[2]   reservation ID
-- ARGV[3]   encoded lines the caller read; the keys above were built from them
-- ARGV[4]   retention (ms) for a record that leaves the held state
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
local exp, rk = KEYS[1], KEYS[2]
local op, id, enc, retention = ARGV[1], ARGV[2], ARGV[3], ARGV[4]
local rec = redis.call('GET', rk)
if not rec then
  redis.call('ZREM', exp, id)
  return {0, 0, 0, 0, 0}
end
local s, d, l = string.match(rec, '^(%d)|(%d+)|(.*)$')
if l ~= enc then
  return {1, 0, 0, 0, 0}
end
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
s = tonumber(s)
local expired, changed = 0, 0

local function finish(state)
  redis.call('SET', rk, state .. '|' .. d .. '|' .. l, 'PX', retention)
  redis.call('ZREM', exp, id)
  s = state
end

local function returnStock(onHandToo)
  for i = 3, #KEYS do
    local q = '-' .. ARGV[i + 3]
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
    redis.call('SET', rk, '1|' .. d .. '|' .. l)
    redis.call('ZADD', exp, d, id)
    changed = 1
  end
end
return {2, s, tonumber(d), expired, changed}
