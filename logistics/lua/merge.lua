-- merge.lua: adds an order to its recipient's open merge group, removes
-- one, or reads its group. All keys are under the merge key's hash tag.
--
-- KEYS[1]  groups: hash group ID -> "<closes ms>|<grams>|<order>:<grams>,..."
--          and fields "#" (group sequence) and "#lo" (the oldest group
--          not yet forgotten)
-- KEYS[2]  members: hash order ID -> group ID
-- KEYS[3]  open group: string group ID
-- ARGV[1]  add | remove | get
-- ARGV[2]  order ID
-- ARGV[3]  grams (add)
-- ARGV[4]  window (ms) (add)
-- ARGV[5]  retention (ms): a group is forgotten that long after it
--          closes, with its members; the three keys expire together that
--          long after the newest group closes
--
-- Returns {status, group ID, record} or {status}; status is
--   1  ok: the group after the call (add, remove) or as it is (get)
--   2  replay: add of an order already in its group with the same grams;
--      the group, unchanged
--   3  conflict: add of an order already in a group with other grams;
--      nothing written
--   4  unknown: remove, get; the order is in no group
--
-- Retry-safe: runs inside internal/opscript's wrapper, which takes its
-- operation record off the end of KEYS first and answers a resent call
-- with the first call's reply, so this body runs once per call.
local op, oid = ARGV[1], ARGV[2]
local retention = tonumber(ARGV[5])
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)

-- Forget a few groups, oldest first, whose retention has passed.
local seq = tonumber(redis.call('HGET', KEYS[1], '#') or '0')
local lo = tonumber(redis.call('HGET', KEYS[1], '#lo') or '1')
local start = lo
while lo <= seq and lo < start + 8 do
  local g = 'g' .. string.format('%d', lo)
  local r = redis.call('HGET', KEYS[1], g)
  if r then
    local closes, list = string.match(r, '^(%d+)|%d+|(.*)$')
    if closes and tonumber(closes) + retention > now then break end
    for entry in string.gmatch(list or '', '[^,]+') do
      local id = string.match(entry, '^(.*):%d+$')
      if id and redis.call('HGET', KEYS[2], id) == g then redis.call('HDEL', KEYS[2], id) end
    end
    redis.call('HDEL', KEYS[1], g)
  end
  lo = lo + 1
end
if lo ~= start then redis.call('HSET', KEYS[1], '#lo', string.format('%d', lo)) end

local gid = redis.call('HGET', KEYS[2], oid)
if op ~= 'add' or gid then
  if not gid then return {4} end
  local rec = redis.call('HGET', KEYS[1], gid)
  if op == 'add' then
    local list = string.match(rec, '^%d+|%d+|(.*)$')
    for entry in string.gmatch(list, '[^,]+') do
      local id, w = string.match(entry, '^(.*):(%d+)$')
      if id == oid and w ~= ARGV[3] then return {3} end
    end
    return {2, gid, rec}
  end
  if op == 'remove' then
    local closes, grams, list = string.match(rec, '^(%d+)|(%d+)|(.*)$')
    local kept, g = {}, tonumber(grams)
    for entry in string.gmatch(list, '[^,]+') do
      local id, w = string.match(entry, '^(.*):(%d+)$')
      if id == oid then g = g - tonumber(w) else kept[#kept + 1] = entry end
    end
    rec = closes .. '|' .. string.format('%d', g) .. '|' .. table.concat(kept, ',')
    redis.call('HSET', KEYS[1], gid, rec)
    redis.call('HDEL', KEYS[2], oid)
  end
  return {1, gid, rec}
end
local cur = redis.call('GET', KEYS[3])
local rec = cur and redis.call('HGET', KEYS[1], cur)
local entry = oid .. ':' .. ARGV[3]
if rec then
  local closes, grams, list = string.match(rec, '^(%d+)|(%d+)|(.*)$')
  if tonumber(closes) > now then
    if list ~= '' then list = list .. ',' end
    rec = closes .. '|' .. string.format('%d', tonumber(grams) + tonumber(ARGV[3])) .. '|' .. list .. entry
    redis.call('HSET', KEYS[1], cur, rec)
    redis.call('HSET', KEYS[2], oid, cur)
    return {1, cur, rec}
  end
end
gid = 'g' .. redis.call('HINCRBY', KEYS[1], '#', 1)
local closes = now + tonumber(ARGV[4])
rec = string.format('%d', closes) .. '|' .. ARGV[3] .. '|' .. entry
redis.call('HSET', KEYS[1], gid, rec)
redis.call('HSET', KEYS[2], oid, gid)
redis.call('SET', KEYS[3], gid)
-- The newest group closes last: the key's records go when it is forgotten.
for i = 1, 3 do redis.call('PEXPIREAT', KEYS[i], closes + retention) end
return {1, gid, rec}
