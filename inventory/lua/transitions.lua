-- transitions.lua: moves a batch of reservations through their life cycle,
-- one after another: a held reservation
-- whose deadline has passed is expired first (its stock returns exactly
-- once), then the operation applies to the resulting state. Concurrent
-- Commit, Release and Extend calls are coalesced into one batch, so a
-- paid order costs a share of one script call rather than a call of its
-- own.
--
-- KEYS[1]   expiry index (see reserve.lua)
-- KEYS[2]   records hash, ID -> "<state>|<deadline ms>|<encoded lines>"
-- KEYS[3]   finished records: sorted set, space-separated IDs -> when to
--           forget them (ms); see records.lua
-- KEYS[4]   shipping progress: hash, ID -> "s1 r1 s2 r2 ..." (see fulfil.lua)
-- KEYS[5..] the distinct stock hashes of the batch, referred to by index
--           (h = on hand, r = reserved, c = committed, not yet shipped,
--           w = backordered; see backorder.lua)
-- ARGV[1]   retention (ms) of a finished record
-- ARGV[2]   n, the number of calls
-- ARGV[3]   1 when committed units stay on hand until shipped
--           (Options.Shipping): a commit moves them from r to c and
--           writes an empty progress entry instead of retiring the
--           record; 0: a commit takes them off h and r
-- ARGV[4]   c, the number of distinct shapes in the batch; then per shape:
--           the encoded lines, line count m, then m pairs (stock key
--           index, quantity)
-- then, per call, four: operation (commit | release | extend | touch |
--           cancel, a release that deletes the record),
--           ID, shape number (1..c) of the lines the caller holds, TTL ms
--           (extend)
--
-- A shape is the lines calls share: on a hot SKU, every call of the
-- batch. Sent once, it costs a call one argument instead of three or
-- more, and Redis makes a Lua string of every argument.
--
-- Returns one string, a line per call ("\n"-separated), each
-- "<code> <state> <deadline> <expired now 0|1> <changed 0|1> [w1 .. wm]",
-- the last the units of each line that wait for stock when an item of
-- the reservation has backorders:
--   code 0  no such reservation (a stale expiry-index entry is removed)
--   code 1  the record's lines differ from the caller's (the ID was
--           reused after its record was forgotten): read again and retry
--   code 2  done; state is the state after the call, changed says whether
--           this call performed the operation. A commit of a non-held
--           reservation, a release of a committed one and an extend of a
--           non-held one change nothing; the caller reports the state.
--
-- Retry-safe: runs inside internal/opscript's wrapper, which takes its
-- operation record off the end of KEYS first and answers a resent call
-- with the first call's reply, so this body runs once per call.
local exp, recs, fin, ful = KEYS[1], KEYS[2], KEYS[3], KEYS[4]
local retention = tonumber(ARGV[1])
local n = tonumber(ARGV[2])
local shipping = ARGV[3] == '1'
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)

-- Forget finished records whose retention has passed (records.lua).
forgetDue(recs, fin, now, math.max(16, 2 * n))

-- Every record of the batch is read with one HMGET and written back with
-- one HSET; records holds what the batch has made of them so far, so a
-- call on an ID the batch already changed sees the change.
local shapeEnc, shapeP, shapeM = {}, {}, {} -- per shape: lines, ARGV index of its pairs, line count
local calls -- ARGV index of the first call's operation
do
  local a = 5
  for k = 1, tonumber(ARGV[4]) do
    shapeEnc[k], shapeM[k] = ARGV[a], tonumber(ARGV[a + 1])
    shapeP[k] = a + 2
    a = a + 2 + 2 * shapeM[k]
  end
  calls = a
end
local ids = {}
for i = 1, n do
  ids[i] = ARGV[calls + 4 * i - 3]
end
local stored = redis.call('HMGET', recs, unpack(ids))
-- records: ID -> its record as the batch has made it so far, false once
-- deleted. The end writes those that differ from what was read; Lua
-- strings are interned, so the comparison is a pointer's, and no second
-- table of changed IDs is kept.
local records = {}
for i = 1, n do
  if stored[i] and records[ids[i]] == nil then records[ids[i]] = stored[i] end
end

local out = {}
local finished = {} -- IDs the batch finished: one member of the finished set
-- Stock changes add up per key and go out once per key at the end: a hot
-- SKU's batch of commits is two HINCRBYs, not two per commit. Nothing
-- below reads stock, so deferring the writes changes no decision.
local dr, dh, dc = {}, {}, {} -- key index -> change of reserved, on hand, committed
-- Backorders: key index -> units waiting, read once per key when a
-- released or expired reservation may have some; refill marks the keys
-- whose freed units go to the queue at the end.
local bw, refill = {}, {}
local function waitingAt(ki)
  if bw[ki] == nil then bw[ki] = tonumber(redis.call('HGET', KEYS[ki], 'w') or '0') end
  return bw[ki]
end
-- finish retires reservation id in state (a digit, as a string: states
-- stay strings throughout, since turning a number into a string costs Lua
-- a formatted print), deadline d and lines l, and returns state. A
-- finished reservation's expiry-index entry is left to go stale: due.lua
-- drops it when it comes due.
local function finish(id, state, d, l)
  records[id] = state .. '|' .. d .. '|' .. l
  finished[#finished + 1] = id
  return state
end
-- returnStock takes the m lines whose pairs start at ARGV[p] off
-- reserved and, for a commit, off on hand or onto committed. The helpers
-- are made once per batch, not per call: a closure per call costs Lua an
-- allocation each.
local function returnStock(id, p, m, commit)
  for j = 0, m - 1 do
    local ki = tonumber(ARGV[p + 2 * j])
    local q = tonumber(ARGV[p + 2 * j + 1])
    dr[ki] = (dr[ki] or 0) - q
    if not commit and waitingAt(ki) > 0 then
      bw[ki] = bw[ki] - boTake(KEYS[ki], id, -1)
      refill[ki] = true
    end
    if commit and shipping then
      dc[ki] = (dc[ki] or 0) + q
    elseif commit then
      dh[ki] = (dh[ki] or 0) - q
    end
  end
end
local views = {} -- call -> its shape, for the waiting units
for i = 1, n do
  local a = calls + 4 * (i - 1)
  local op, id, k, ttl = ARGV[a], ARGV[a + 1], tonumber(ARGV[a + 2]), ARGV[a + 3]
  local enc, p, m = shapeEnc[k], shapeP[k], shapeM[k]
  local rec = records[id]
  if not rec then
    redis.call('ZREM', exp, id)
    out[i] = '0 0 0 0 0'
  else
    local s, d, l = string.match(rec, '^(%d)|(%d+)|(.*)$')
    if l ~= enc then
      out[i] = '1 0 0 0 0'
    else
      local expired, changed = '0', '0'
      if s == '1' and tonumber(d) <= now then
        returnStock(id, p, m, false)
        s = finish(id, '4', d, l)
        expired = '1'
      end
      if s == '1' then
        if op == 'commit' then
          returnStock(id, p, m, true)
          if shipping then
            -- Not retired: the record lives until every unit is shipped
            -- or returned (fulfil.lua retires it).
            records[id] = '2|' .. d .. '|' .. l
            s = '2'
            redis.call('HSET', ful, id, '')
          else
            s = finish(id, '2', d, l)
          end
          changed = '1'
        elseif op == 'release' then
          returnStock(id, p, m, false)
          s = finish(id, '3', d, l)
          changed = '1'
        elseif op == 'cancel' then
          -- A release that leaves no record: a spread store undoing a
          -- hold of a reservation that failed, whose ID may be used again.
          returnStock(id, p, m, false)
          records[id] = false
          s, changed = '3', '1'
        elseif op == 'extend' then
          d = string.format('%d', now + tonumber(ttl))
          records[id] = '1|' .. d .. '|' .. l
          redis.call('ZADD', exp, d, id)
          changed = '1'
        end
      end
      out[i] = '2 ' .. s .. ' ' .. d .. ' ' .. expired .. ' ' .. changed
      views[i] = k
    end
  end
end
local hset, hdel = {}, {}
for i = 1, n do
  local id = ids[i]
  local r = records[id]
  if r ~= nil then
    records[id] = nil -- a later call on the same ID writes nothing more
    if r == false then
      hdel[#hdel + 1] = id
    elseif r ~= stored[i] then
      hset[#hset + 1] = id
      hset[#hset + 1] = r
    end
  end
end
if #hdel > 0 then redis.call('HDEL', recs, unpack(hdel)) end
for i = 1, #hset, 1000 do -- unpack has a stack limit
  redis.call('HSET', recs, unpack(hset, i, math.min(i + 999, #hset)))
end
for ki, q in pairs(dr) do
  if q ~= 0 then redis.call('HINCRBY', KEYS[ki], 'r', string.format('%d', q)) end
end
for ki, q in pairs(dh) do
  if q ~= 0 then redis.call('HINCRBY', KEYS[ki], 'h', string.format('%d', q)) end
end
for ki, q in pairs(dc) do
  if q ~= 0 then redis.call('HINCRBY', KEYS[ki], 'c', string.format('%d', q)) end
end
-- Units that released and expired reservations freed go to the oldest
-- backorders, now that the stock is written.
for ki in pairs(refill) do
  local v = redis.call('HMGET', KEYS[ki], 'h', 'r', 'c')
  local free = (tonumber(v[1]) or 0) - (tonumber(v[2]) or 0) - (tonumber(v[3]) or 0) + bw[ki]
  bw[ki] = boFill(KEYS[ki], free, bw[ki])
  redis.call('HSET', KEYS[ki], 'w', string.format('%d', bw[ki]))
end
-- Each reservation's waiting units, as they stand after the batch.
-- Nothing to look up unless an item of the batch has backorders.
local anyWaiting = false
for ki = 5, #KEYS do
  if waitingAt(ki) > 0 then
    anyWaiting = true
    break
  end
end
if not anyWaiting then views = {} end
for i, k in pairs(views) do
  local p, m, any = shapeP[k], shapeM[k], false
  for j = 0, m - 1 do
    if waitingAt(tonumber(ARGV[p + 2 * j])) > 0 then
      any = true
      break
    end
  end
  if any then
    local parts = {}
    for j = 0, m - 1 do
      parts[j + 1] = string.format('%d', boWaiting(KEYS[tonumber(ARGV[p + 2 * j])], ids[i]))
    end
    out[i] = out[i] .. ' ' .. table.concat(parts, ' ')
  end
end
if #finished > 0 then
  redis.call('ZADD', fin, now + retention, table.concat(finished, ' '))
end
return table.concat(out, '\n')
