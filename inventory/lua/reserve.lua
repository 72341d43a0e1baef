-- reserve.lua: reserves a batch of independent reservations, each one all of
-- its lines or none, in the order given. Concurrent Reserve calls are
-- coalesced into one batch; a reservation later in the batch sees the stock
-- that earlier ones took.
--
-- KEYS[1]   expiry index: sorted set, held reservation ID -> deadline (ms)
-- KEYS[2..] reservation records and stock hashes, referred to by index
-- ARGV[1]   retention (ms) for a record that this call expires
-- ARGV[2]   n, the number of reservations; then, per reservation:
--           record key index, ID, TTL (ms), encoded lines, line count m,
--           then m pairs (stock key index, quantity)
--
-- Record hash: s = state (1 held, 2 committed, 3 released, 4 expired),
--              d = deadline (ms), l = encoded lines.
-- Stock hash:  h = on hand, r = reserved.
--
-- Returns n results, then {now (ms), earliest held deadline or -1}:
--   {1, deadline, on hand 1, reserved 1, ...}   reserved; levels after it
--   {2, state, deadline, expired now (0|1)}      replay of an existing ID
--   {3}                                          ID used with other lines
--   {4, line number, available}                  shortage; nothing written
-- The earliest deadline is only looked up when some reservation fell short,
-- so the caller can sweep due holds and retry.
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local exp = KEYS[1]
local retention = ARGV[1]
local n = tonumber(ARGV[2])
local a = 3
local out = {}
local short = false
for i = 1, n do
  local rk = KEYS[tonumber(ARGV[a])]
  local id = ARGV[a + 1]
  local ttl = tonumber(ARGV[a + 2])
  local enc = ARGV[a + 3]
  local m = tonumber(ARGV[a + 4])
  local p = a + 5
  a = p + 2 * m
  local rec = redis.call('HMGET', rk, 's', 'd', 'l')
  if rec[1] then
    if rec[3] ~= enc then
      out[i] = {3}
    else
      local s, d, expired = tonumber(rec[1]), tonumber(rec[2]), 0
      if s == 1 and d <= now then
        -- Same ID and lines, so KEYS hold exactly this record's stock keys.
        for j = 0, m - 1 do
          redis.call('HINCRBY', KEYS[tonumber(ARGV[p + 2 * j])], 'r', '-' .. ARGV[p + 2 * j + 1])
        end
        redis.call('HSET', rk, 's', 4)
        redis.call('PEXPIRE', rk, retention)
        redis.call('ZREM', exp, id)
        s, expired = 4, 1
      end
      out[i] = {2, s, d, expired}
    end
  else
    local deadline = string.format('%d', now + ttl)
    local res = {1, now + ttl}
    for j = 0, m - 1 do
      local v = redis.call('HMGET', KEYS[tonumber(ARGV[p + 2 * j])], 'h', 'r')
      local h, r = tonumber(v[1]) or 0, tonumber(v[2]) or 0
      local q = tonumber(ARGV[p + 2 * j + 1])
      if h - r < q then
        res = {4, j + 1, h - r}
        short = true
        break
      end
      res[2 * j + 3] = h
      res[2 * j + 4] = r + q
    end
    if res[1] == 1 then
      for j = 0, m - 1 do
        redis.call('HINCRBY', KEYS[tonumber(ARGV[p + 2 * j])], 'r', ARGV[p + 2 * j + 1])
      end
      redis.call('HSET', rk, 's', 1, 'd', deadline, 'l', enc)
      redis.call('ZADD', exp, deadline, id)
    end
    out[i] = res
  end
end
local head = -1
if short then
  local h = redis.call('ZRANGE', exp, 0, 0, 'WITHSCORES')
  if h[2] then head = tonumber(h[2]) end
end
out[n + 1] = {now, head}
return out
