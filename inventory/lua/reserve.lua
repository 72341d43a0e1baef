-- reserve.lua: reserves a batch of independent reservations, each one all of
-- its lines or none, in the order given. Concurrent Reserve calls are
-- coalesced into one batch; a reservation later in the batch sees the stock
-- that earlier ones took. The work is per batch wherever it can be: records
-- are read with one HMGET and written with one HSET, each stock hash is read
-- and written once, and the expiry index gets one entry per distinct
-- deadline. That is what makes a hot SKU cheap.
--
-- KEYS[1]   expiry index: sorted set of entries scored by deadline (ms); an
--           entry's member is the space-separated IDs reserved together
--           with that deadline. Entries go stale (a reservation
--           committed, extended or never made); due.lua drops them in
--           Lua, a look-up per ID, once they are due.
-- KEYS[2]   records: hash, ID -> "<state>|<deadline ms>|<encoded lines>",
--           state 1 held, 2 committed, 3 released, 4 expired
-- KEYS[3]   finished records: sorted set, space-separated IDs -> when to
--           forget them (ms); see records.lua
-- KEYS[4]   with ARGV[3] flag 2 only: the home records of a spread
--           store's stock group (spread.go); an ID with a home record
--           there is taken, so a reservation under it is a conflict
-- KEYS[4..] stock hashes (h = on hand, r = reserved, c = committed and not
--           yet shipped, w = backordered), referred to by index;
--           available is h - r - c + w. On a shortage an item's policy
--           may let the reservation wait for the units it lacks (see
--           backorder.lua)
-- ARGV[1]   retention (ms) of a finished record
-- ARGV[2]   n, the number of reservations; the caller never puts one ID
--           twice in a batch
-- ARGV[3]   flags, a sum: 1 to return each reserved line's levels (for
--           low-stock alerts), 2 when KEYS[4] is a home-record hash
-- ARGV[4]   k, the number of distinct TTLs in the batch; then k pairs
--           (TTL ms, the space-separated IDs that asked for it)
-- then      the n IDs; then the n shape numbers (1..c), reservation i's
--           shape; then c, the number of distinct shapes, and per shape:
--           TTL number (1..k), encoded lines, line count m, then m pairs
--           (stock key index, quantity)
--
-- A shape is what reservations share when they ask for the same lines
-- with the same TTL: on a hot SKU, every reservation of the batch. Sent
-- once, it is parsed once and its record text built once, so a
-- reservation costs two arguments and no string building.
--
-- Returns one string, a line per reservation ("\n"-separated, space-separated
-- fields), then a last line "now earliest-entry-deadline-or--1":
--   "1 [h1 r1 c1 w1 h2 ...]"   reserved, deadline now + TTL; with ARGV[3] = 1,
--                              each line's on hand, reserved, committed
--                              and backordered after it
--   "5 b1 .. bm [h1 r1 ...]"   reserved as 1, and bx units of line x wait
--                              for stock
--   "2 state deadline expired [w1 .. wm]"
--                              replay of an existing ID (expired: 0|1,
--                              whether this call expired it); when an
--                              item has backorders, the units of each
--                              line that wait
--   "3"                        ID used with other lines
--   "4 line-number available"  shortage; nothing written
-- The earliest deadline is only looked up when some reservation fell short,
-- so the caller can sweep due holds and retry.
--
-- Retry-safe: runs inside internal/opscript's wrapper, which takes its
-- operation record off the end of KEYS first and answers a resent call
-- with the first call's reply, so this body runs once per call.
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local exp, recs, fin = KEYS[1], KEYS[2], KEYS[3]
local retention = tonumber(ARGV[1])
local n = tonumber(ARGV[2])
local flags = tonumber(ARGV[3])
local wantLevels = flags % 2 == 1
local k = tonumber(ARGV[4])
-- Per TTL: the record prefix "1|<deadline>|", its deadline and whether any
-- reservation with it succeeded (then its expiry entry is added).
local prefix, deadline, used = {}, {}, {}
for j = 1, k do
  deadline[j] = string.format('%d', now + tonumber(ARGV[3 + 2 * j]))
  prefix[j] = '1|' .. deadline[j] .. '|'
end
local ids = 5 + 2 * k -- ARGV index of the first ID
local old = redis.call('HMGET', recs, unpack(ARGV, ids, ids + n - 1))
-- In a spread store's stock group, IDs taken by spread reservations.
local homes = flags >= 2 and redis.call('HMGET', KEYS[4], unpack(ARGV, ids, ids + n - 1))

-- The shapes: per shape its TTL number, encoded lines, record text, and
-- its lines as stock key indexes and quantities.
local shapeOf = ids + n -- ARGV index of reservation 1's shape number
local a = shapeOf + n
local c = tonumber(ARGV[a])
a = a + 1
local shapes = {}
for j = 1, c do
  local tj, enc, m = tonumber(ARGV[a]), ARGV[a + 1], tonumber(ARGV[a + 2])
  local ks, qs = {}, {}
  for x = 1, m do
    ks[x] = tonumber(ARGV[a + 1 + 2 * x])
    qs[x] = tonumber(ARGV[a + 2 + 2 * x])
  end
  shapes[j] = {tj = tj, enc = enc, rec = prefix[tj] .. enc, ks = ks, qs = qs}
  a = a + 3 + 2 * m
end

-- Stock hashes touched by this batch: key index -> {h, r, dirty, c, w,
-- w dirty}.
local cells = {}
local function cell(ki)
  local c = cells[ki]
  if not c then
    local v = redis.call('HMGET', KEYS[ki], 'h', 'r', 'c', 'w')
    c = {tonumber(v[1]) or 0, tonumber(v[2]) or 0, false, tonumber(v[3]) or 0, tonumber(v[4]) or 0, false}
    cells[ki] = c
  end
  return c
end

-- waitingOf returns " w1 .. wm", the units of each line of reservation id
-- that wait, or "" when none of its items has backorders.
local function waitingOf(id, ks)
  local any, parts = false, {}
  for x = 1, #ks do
    local c = cell(ks[x])
    parts[x] = '0'
    if c[5] > 0 then
      any = true
      parts[x] = string.format('%d', boWaiting(KEYS[ks[x]], id))
    end
  end
  return any and ' ' .. table.concat(parts, ' ') or ''
end

local out = {}
local hset = {} -- new records: ID, value, ID, value, ...
local finished = {} -- IDs whose replay expired them: one finished member
local short = false
for i = 1, n do
  local id = ARGV[ids + i - 1]
  local sh = shapes[tonumber(ARGV[shapeOf + i - 1])]
  local ks, qs, m = sh.ks, sh.qs, #sh.ks
  local rec = old[i]
  if not rec and homes and homes[i] then
    out[i] = '3'
  elseif rec then
    local s, d, l = string.match(rec, '^(%d)|(%d+)|(.*)$')
    if l ~= sh.enc then
      out[i] = '3'
    else
      local expired = '0'
      if s == '1' and tonumber(d) <= now then
        -- Same ID and lines, so KEYS hold exactly this record's stock keys.
        for x = 1, m do
          local c = cell(ks[x])
          c[2] = c[2] - qs[x]
          c[3] = true
          if c[5] > 0 then
            -- Its waiting units leave the queue, its units on hand
            -- go to the oldest backorders.
            c[5] = c[5] - boTake(KEYS[ks[x]], id, -1)
            c[5] = boFill(KEYS[ks[x]], c[1] - c[2] - c[4] + c[5], c[5])
            c[6] = true
          end
        end
        redis.call('HSET', recs, id, '4|' .. d .. '|' .. l)
        finished[#finished + 1] = id
        redis.call('ZREM', exp, id)
        s, expired = '4', '1'
      end
      out[i] = '2 ' .. s .. ' ' .. d .. ' ' .. expired .. waitingOf(id, ks)
    end
  else
    local res = nil
    local backs = nil -- per line, units that will wait, when any will
    for x = 1, m do
      local c = cell(ks[x])
      local avail = c[1] - c[2] - c[4] + c[5]
      if avail < qs[x] then
        -- The policy is read only here, on a shortage, so the hot
        -- path does not pay for it.
        local room = boAllowance(KEYS[ks[x]], now) - c[5]
        if qs[x] - avail > room then
          res = '4 ' .. x .. ' ' .. string.format('%d', avail + math.max(room, 0))
          short = true
          break
        end
        backs = backs or {}
        backs[x] = qs[x] - avail
      end
    end
    if not res then
      local parts = (wantLevels or backs) and {'1'}
      if backs then
        parts[1] = '5'
        for x = 1, m do parts[x + 1] = string.format('%d', backs[x] or 0) end
      end
      for x = 1, m do
        local c = cells[ks[x]]
        c[2] = c[2] + qs[x]
        c[3] = true
        if backs and backs[x] then
          boAdd(KEYS[ks[x]], id, backs[x])
          c[5] = c[5] + backs[x]
          c[6] = true
        end
      end
      for x = 1, wantLevels and m or 0 do
        local c = cells[ks[x]]
        parts[#parts + 1] = string.format('%d', c[1])
        parts[#parts + 1] = string.format('%d', c[2])
        parts[#parts + 1] = string.format('%d', c[4])
        parts[#parts + 1] = string.format('%d', c[5])
      end
      hset[#hset + 1] = id
      hset[#hset + 1] = sh.rec
      used[sh.tj] = true
      res = parts and table.concat(parts, ' ') or '1'
    end
    out[i] = res
  end
end
-- Lua's unpack has a stack limit, so bulk commands go in slices.
for i = 1, #hset, 1000 do
  redis.call('HSET', recs, unpack(hset, i, math.min(i + 999, #hset)))
end
for j = 1, k do
  if used[j] then
    redis.call('ZADD', exp, deadline[j], ARGV[4 + 2 * j])
  end
end
for ki, c in pairs(cells) do
  if c[6] then
    redis.call('HSET', KEYS[ki], 'r', string.format('%d', c[2]), 'w', string.format('%d', c[5]))
  elseif c[3] then
    redis.call('HSET', KEYS[ki], 'r', string.format('%d', c[2]))
  end
end
if #finished > 0 then
  redis.call('ZADD', fin, now + retention, table.concat(finished, ' '))
end
-- Forget finished records whose retention has passed (records.lua).
forgetDue(recs, fin, now, math.max(16, 2 * n))
local head = '-1'
if short then
  local h = redis.call('ZRANGE', exp, 0, 0, 'WITHSCORES')
  if h[2] then head = h[2] end
end
out[n + 1] = string.format('%d', now) .. ' ' .. head
return table.concat(out, '\n')
