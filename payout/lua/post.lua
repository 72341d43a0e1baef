-- post.lua: posts one balanced transaction, idempotently; optionally as the
-- reversal of another.
--
-- KEYS[1]   the transaction (hash: f = fingerprint, p = encoded postings,
--           at = posted ms, av = available ms, rv = ID it reverses,
--           rb = ID of its reversal)
-- KEYS[2]   for a reversal, the original transaction; otherwise KEYS[1]
--           again (unused)
-- KEYS[3..] per account, three keys: balance hash (a = available,
--           p = pending), pending sorted set (member "<tx ID> <amount>",
--           score available ms), history list (newest first, entries
--           "<tx ID> <amount> <posted ms> <available ms>")
-- ARGV[1]   transaction ID
-- ARGV[2]   fingerprint of the request
-- ARGV[3]   encoded postings ("account\tamount\n" each, merged and sorted)
-- ARGV[4]   requested availability (ms); 0 means at once. Ignored for a
--           reversal, which takes the original's.
-- ARGV[5]   for a reversal, the original's ID; otherwise ""
-- ARGV[6]   for a reversal, the original's encoded postings as the caller
--           read them (the keys above were built from them)
-- ARGV[7]   how many entries an account's history keeps (older ones are
--           trimmed)
-- ARGV[8]   how long (ms) the transaction's record is kept
-- ARGV[9..] the amount of each account's posting, in KEYS order, then
--           "1" to guard balances ("0" not): a posting may not take an
--           account below zero unless its balance hash has n = 1
--
-- Returns:
--   {0, posted ms, available ms}   posted
--   {1, posted ms, available ms}   replay: the ID was posted with this request
--   {2}                            the ID was posted with another request
--   {3}                            reversal: the original does not exist
--   {4}                            reversal: the original's postings differ
--                                  from ARGV[6]; read again and retry
--   {5, reversal ID}               reversal: already reversed by another ID
--   {6}                            reversal: the original is itself a reversal
--   {7, i}                         posting i (0-based, KEYS order) would take
--                                  its balance beyond ±(2^53-1)
--   {8, i, balance}                guarded: posting i would take its
--                                  balance below zero
--
-- Every precondition and every balance is checked before the first write:
-- Redis does not undo a script's writes when it fails halfway.
--
-- Retry-safe: runs inside internal/opscript's wrapper, which takes its
-- operation record off the end of KEYS first and answers a resent call
-- with the first call's reply, so this body runs once per call.
local tx, id, fp, enc = KEYS[1], ARGV[1], ARGV[2], ARGV[3]
local reverses = ARGV[5]

local prev = redis.call('HMGET', tx, 'f', 'at', 'av')
if prev[1] then
  if prev[1] ~= fp then return {2} end
  return {1, tonumber(prev[2]), tonumber(prev[3])}
end

local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local av = tonumber(ARGV[4])
if reverses ~= '' then
  local o = redis.call('HMGET', KEYS[2], 'p', 'av', 'rv', 'rb')
  if not o[1] then return {3} end
  if o[1] ~= ARGV[6] then return {4} end
  if o[3] and o[3] ~= '' then return {6} end
  if o[4] and o[4] ~= '' and o[4] ~= id then return {5, o[4]} end
  av = tonumber(o[2])
end
if av == 0 then av = now end
local avs, nows = string.format('%d', av), string.format('%d', now)

-- A balance may move towards zero freely, and away from it up to
-- ±(2^53-1): within that range Lua adds exactly, and beyond it (a balance
-- there came from settling) any move away is refused, however rounded.
local limit, field = 9007199254740991, 'a'
if av > now then field = 'p' end
local guard = ARGV[9 + (#KEYS - 2) / 3] == '1'
local function negate(s)
  if string.sub(s, 1, 1) == '-' then return string.sub(s, 2) end
  return '-' .. s
end
for i = 3, #KEYS, 3 do
  local amount = tonumber(ARGV[9 + (i - 3) / 3])
  if guard and amount < 0 then
    -- What has become available counts as available: settle it first,
    -- as balances.lua does (moving it changes no total).
    local due = redis.call('ZRANGEBYSCORE', KEYS[i + 1], '-inf', now)
    for _, m in ipairs(due) do
      local a = string.match(m, ' (%-?%d+)$')
      redis.call('HINCRBY', KEYS[i], 'p', negate(a))
      redis.call('HINCRBY', KEYS[i], 'a', a)
    end
    if #due > 0 then redis.call('ZREMRANGEBYSCORE', KEYS[i + 1], '-inf', now) end
  end
  local bal = tonumber(redis.call('HGET', KEYS[i], field) or '0')
  if (amount > 0 and bal >= 0 and bal > limit - amount) or (amount < 0 and bal <= 0 and bal < -limit - amount) then
    return {7, (i - 3) / 3}
  end
  if guard and amount < 0 and bal + amount < 0 and redis.call('HGET', KEYS[i], 'n') ~= '1' then
    return {8, (i - 3) / 3, bal}
  end
end

if reverses ~= '' then redis.call('HSET', KEYS[2], 'rb', id) end

for i = 3, #KEYS, 3 do
  local amount = ARGV[9 + (i - 3) / 3]
  if av > now then
    redis.call('HINCRBY', KEYS[i], 'p', amount)
    redis.call('ZADD', KEYS[i + 1], avs, id .. ' ' .. amount)
  else
    redis.call('HINCRBY', KEYS[i], 'a', amount)
  end
  redis.call('LPUSH', KEYS[i + 2], id .. ' ' .. amount .. ' ' .. nows .. ' ' .. avs)
  redis.call('LTRIM', KEYS[i + 2], 0, tonumber(ARGV[7]) - 1)
end
redis.call('HSET', tx, 'f', fp, 'p', enc, 'at', nows, 'av', avs, 'rv', reverses)
redis.call('PEXPIRE', tx, ARGV[8])
return {0, now, av}
