-- fulfil.lua: ships or returns units of a reservation committed with
-- Options.Shipping, idempotently by the request's ID.
--
-- KEYS[1]   records hash, ID -> "<state>|<deadline ms>|<encoded lines>"
-- KEYS[2]   finished records: sorted set, space-separated IDs -> when
--           to forget them (ms); see records.lua
-- KEYS[3]   shipping progress: hash, reservation ID -> "s1 r1 s2 r2 ...",
--           units shipped and returned per reservation line ("" at
--           commit: none yet); present only while some unit is committed
-- KEYS[4]   this request's record (hash f = fingerprint, o = outcome,
--           e = the reservation's encoded lines); expires after the
--           retention, and answers a replay even after the reservation's
--           record is forgotten
-- KEYS[5..] the reservation's stock hashes, one per reservation line
-- KEYS[5+m] the reservation's final progress once every unit is shipped
--           or returned (a string, kept for the retention), so that a
--           spread store can report the lines of a hold that completed
-- ARGV[1]   ship | return, or check-ship | check-return (validate only:
--           a spread store checks every group before it applies a
--           request to any)
-- ARGV[2]   reservation ID
-- ARGV[3]   the reservation's encoded lines, as the caller read them
-- ARGV[4]   fingerprint of the request, to tell a replay from a conflict
-- ARGV[5]   retention (ms)
-- ARGV[6]   m, the reservation's line count; then its m quantities
-- then      n, the request's line count; then n pairs (reservation line
--           number 1..m, or 0 for an item the reservation does not hold;
--           quantity)
--
-- Returns one string:
--   "0"                                   no such reservation
--   "1"                                   the record's lines differ from
--                                         the caller's: read again
--   "2 <complete 0|1> s1 r1 s2 r2 ...\n<encoded lines>"
--                                         done
--   "3"                                   ID used for a different request
--   "4 <request line> <committed left> <waiting>"
--                                         that line asks for more than is
--                                         committed and unshipped (a ship:
--                                         and not waiting for stock);
--                                         nothing written
--   "5 <state>"                           the reservation is not committed
--   "6 ..."                               a replay: as 2, what the first
--                                         call with this ID left
--   "7 <complete 0|1> s1 r1 ..."          check: the request would apply;
--                                         the progress as it stands;
--                                         nothing written
--
-- A ship takes the units off on hand and committed, and may take only
-- units that do not wait for stock (see backorder.lua); a return takes
-- them off committed only, waiting units first, and the units on hand it
-- frees go to the oldest backorders, or are available again. Once every unit is shipped
-- or returned the progress entry goes and the record is retired like any
-- finished reservation's.
--
-- Retry-safe: runs inside internal/opscript's wrapper, which takes its
-- operation record off the end of KEYS first and answers a resent call
-- with the first call's reply, so this body runs once per call.
local recs, fin, ful, rk = KEYS[1], KEYS[2], KEYS[3], KEYS[4]
local op, rid, enc, fp, retention = ARGV[1], ARGV[2], ARGV[3], ARGV[4], tonumber(ARGV[5])
local check = op == 'check-ship' or op == 'check-return'
if check then op = string.sub(op, 7) end
local m = tonumber(ARGV[6])
local doneKey = KEYS[5 + m]
local prev = redis.call('HMGET', rk, 'f', 'o')
if prev[1] then
  if prev[1] ~= fp then return '3' end
  return '6 ' .. prev[2] .. '\n' .. (redis.call('HGET', rk, 'e') or '')
end
local rec = redis.call('HGET', recs, rid)
if not rec then return '0' end
local s, _, l = string.match(rec, '^(%d)|(%d+)|(.*)$')
if l ~= enc then return '1' end
if s ~= '2' then return '5 ' .. s end

local qs = {}
for j = 1, m do qs[j] = tonumber(ARGV[6 + j]) end
local a = 7 + m
local n = tonumber(ARGV[a])
local p = redis.call('HGET', ful, rid)
if not p and n == 0 then
  -- A request with no lines here (a spread store's request on other
  -- groups of the reservation): it records the progress as it stands, so
  -- a replay reports it as it was, and changes nothing. A record with no
  -- progress entry is complete.
  local out = '1 ' .. (redis.call('GET', doneKey) or '')
  if check then return '7 ' .. out end
  redis.call('HSET', rk, 'f', fp, 'o', out, 'e', enc)
  redis.call('PEXPIRE', rk, retention)
  return '2 ' .. out .. '\n' .. enc
end
local shipped, returned = {}, {}
for j = 1, m do shipped[j], returned[j] = 0, 0 end
if p then
  local j = 1
  for sv, rv in string.gmatch(p, '(%d+) (%d+)') do
    shipped[j], returned[j] = tonumber(sv), tonumber(rv)
    j = j + 1
  end
end
for i = 1, n do
  local j, q = tonumber(ARGV[a + 2 * i - 1]), tonumber(ARGV[a + 2 * i])
  local left, waiting = 0, 0
  if p and j > 0 then
    left = qs[j] - shipped[j] - returned[j]
    waiting = boWaiting(KEYS[4 + j], rid)
  end
  if q > left or op == 'ship' and q > left - waiting then
    return '4 ' .. i .. ' ' .. string.format('%d', left) .. ' ' .. string.format('%d', waiting)
  end
end
-- progressNow returns whether every unit is shipped or returned ('1' or
-- '0') and the progress "s1 r1 s2 r2 ...".
local function progressNow()
  local parts, complete = {}, '1'
  for j = 1, m do
    parts[#parts + 1] = string.format('%d', shipped[j])
    parts[#parts + 1] = string.format('%d', returned[j])
    if shipped[j] + returned[j] < qs[j] then complete = '0' end
  end
  return complete, table.concat(parts, ' ')
end
if check then
  local complete, progress = progressNow()
  return '7 ' .. complete .. ' ' .. progress
end
for i = 1, n do
  local j, q = tonumber(ARGV[a + 2 * i - 1]), tonumber(ARGV[a + 2 * i])
  local key = KEYS[4 + j]
  redis.call('HINCRBY', key, 'c', string.format('%d', -q))
  if op == 'ship' then
    redis.call('HINCRBY', key, 'h', string.format('%d', -q))
    shipped[j] = shipped[j] + q
  else
    returned[j] = returned[j] + q
    local v = redis.call('HMGET', key, 'h', 'r', 'c', 'w')
    local w = tonumber(v[4]) or 0
    if w > 0 then
      w = w - boTake(key, rid, q)
      w = boFill(key, (tonumber(v[1]) or 0) - (tonumber(v[2]) or 0) - (tonumber(v[3]) or 0) + w, w)
      redis.call('HSET', key, 'w', string.format('%d', w))
    end
  end
end
local complete, progress = progressNow()
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
if complete == '1' then
  redis.call('HDEL', ful, rid)
  redis.call('ZADD', fin, now + retention, rid)
  redis.call('SET', doneKey, progress, 'PX', retention)
else
  redis.call('HSET', ful, rid, progress)
end
local out = complete .. ' ' .. progress
redis.call('HSET', rk, 'f', fp, 'o', out, 'e', enc)
redis.call('PEXPIRE', rk, retention)
return '2 ' .. out .. '\n' .. enc
