-- reserve.lua: reserves a batch of independent reservations, each one all of
-- its lines or none, in the order given. Concurrent Reserve calls are
-- coalesced into one batch; a reservation later in the batch sees the stock
-- that earlier ones took. The work per batch, not per reservation, is what
-- makes a hot SKU cheap: records are read with one MGET and written with one
-- MSET, each stock hash is read and written once, and the expiry index gets
-- one entry per distinct deadline.
--
-- KEYS[1]        expiry index: sorted set of entries scored by deadline (ms);
--                an entry's member is the space-separated IDs that were
--                reserved together with that deadline. Entries may go stale
--                (a reservation committed or extended); Sweep checks each
--                ID's record before it expires anything.
-- KEYS[2..n+1]   the record key of reservation 1..n
-- KEYS[n+2..]    stock hashes, referred to by index from ARGV
-- ARGV[1]        retention (ms) for a record that this call expires
-- ARGV[2]        n, the number of reservations
-- ARGV[3]        1 to return each reserved line's levels (for low-stock
--                alerts), 0 to skip that work; then, per reservation:
--                ID, TTL (ms), encoded lines, line count m,
--                then m pairs (stock key index, quantity)
--
-- Record (string): "<state>|<deadline ms>|<encoded lines>", state 1 held,
--   2 committed, 3 released, 4 expired. Held records never expire by TTL.
-- Stock hash: h = on hand, r = reserved.
--
-- Returns one string, a line per reservation ("\n"-separated, space-separated
-- fields), then a last line "now earliest-entry-deadline-or--1":
--   "1 [h1 r1 h2 r2 ...]"          reserved, with deadline now + TTL; with
--                                  ARGV[3] = 1, each line's on hand and
--                                  reserved after it
--   "2 state deadline expired"     replay of an existing ID (expired: 0|1,
--                                  whether this call expired it)
--   "3"                            ID used with other lines
--   "4 line-number available"      shortage; nothing written
-- The earliest deadline is only looked up when some reservation fell short,
-- so the caller can sweep due holds and retry.
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local exp = KEYS[1]
local retention = ARGV[1]
local n = tonumber(ARGV[2])
local wantLevels = ARGV[3] == '1'
local recs = redis.call('MGET', unpack(KEYS, 2, n + 1))

-- Stock hashes touched by this batch: key index -> {h, r, dirty}.
local cells = {}
local function cell(ki)
  local c = cells[ki]
  if not c then
    local v = redis.call('HMGET', KEYS[ki], 'h', 'r')
    c = {tonumber(v[1]) or 0, tonumber(v[2]) or 0, false}
    cells[ki] = c
  end
  return c
end

local out = {}
local created = {}   -- ID -> record written earlier in this batch
local mset = {}      -- new records: key, value, key, value, ...
local entries = {}   -- deadline -> IDs reserved with it
local deadlines = {} -- TTL argument -> deadline string, formatted once
local short = false
local a = 4
for i = 1, n do
  local rk = KEYS[i + 1]
  local id = ARGV[a]
  local ttl = ARGV[a + 1]
  local enc = ARGV[a + 2]
  local m = tonumber(ARGV[a + 3])
  local p = a + 4
  a = p + 2 * m
  local rec = created[id] or recs[i]
  if rec then
    local s, d, l = string.match(rec, '^(%d)|(%d+)|(.*)$')
    if l ~= enc then
      out[i] = '3'
    else
      local expired = '0'
      if s == '1' and tonumber(d) <= now then
        -- Same ID and lines, so KEYS hold exactly this record's stock keys.
        for j = 0, m - 1 do
          local c = cell(tonumber(ARGV[p + 2 * j]))
          c[2] = c[2] - tonumber(ARGV[p + 2 * j + 1])
          c[3] = true
        end
        redis.call('SET', rk, '4|' .. d .. '|' .. l, 'PX', retention)
        redis.call('ZREM', exp, id)
        s, expired = '4', '1'
      end
      out[i] = '2 ' .. s .. ' ' .. d .. ' ' .. expired
    end
  else
    local res = nil
    for j = 0, m - 1 do
      local c = cell(tonumber(ARGV[p + 2 * j]))
      local q = tonumber(ARGV[p + 2 * j + 1])
      if c[1] - c[2] < q then
        res = '4 ' .. (j + 1) .. ' ' .. string.format('%d', c[1] - c[2])
        short = true
        break
      end
    end
    if not res then
      local deadline = deadlines[ttl]
      if not deadline then
        deadline = string.format('%d', now + tonumber(ttl))
        deadlines[ttl] = deadline
      end
      local parts = {'1'}
      for j = 0, m - 1 do
        local c = cells[tonumber(ARGV[p + 2 * j])]
        c[2] = c[2] + tonumber(ARGV[p + 2 * j + 1])
        c[3] = true
        if wantLevels then
          parts[#parts + 1] = string.format('%d', c[1])
          parts[#parts + 1] = string.format('%d', c[2])
        end
      end
      local v = '1|' .. deadline .. '|' .. enc
      created[id] = v
      mset[#mset + 1] = rk
      mset[#mset + 1] = v
      local e = entries[deadline]
      if not e then
        e = {}
        entries[deadline] = e
      end
      e[#e + 1] = id
      res = wantLevels and table.concat(parts, ' ') or '1'
    end
    out[i] = res
  end
end
-- Lua's unpack has a stack limit, so bulk commands go in slices.
for i = 1, #mset, 1000 do
  redis.call('MSET', unpack(mset, i, math.min(i + 999, #mset)))
end
for deadline, ids in pairs(entries) do
  redis.call('ZADD', exp, deadline, table.concat(ids, ' '))
end
for ki, c in pairs(cells) do
  if c[3] then
    redis.call('HSET', KEYS[ki], 'r', string.format('%d', c[2]))
  end
end
local head = '-1'
if short then
  local h = redis.call('ZRANGE', exp, 0, 0, 'WITHSCORES')
  if h[2] then head = h[2] end
end
out[n + 1] = string.format('%d', now) .. ' ' .. head
return table.concat(out, '\n')
