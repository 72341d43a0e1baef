-- incoming.lua: records purchase orders (stock on its way) and receives or
-- cancels their units, idempotently by the request's ID.
--
-- Stored: the order's record KEYS[1], a hash e = expected (ms), l = its
-- encoded lines, p = "r1 c1 r2 c2 ..." units received and cancelled per
-- line (e and l are what an Expect replay is compared with); it expires
-- after the retention once every unit is received or cancelled. Each item's stock hash keeps
-- i = units incoming, and its arrivals sorted set each open order's ID
-- scored by its expected date, so the earliest is one ZRANGE away.
--
-- expect:
--   KEYS[1]   the order's record
--   KEYS[2..] per line: stock hash, arrivals sorted set
--   ARGV      expect, order ID, expected ms, encoded lines, largest
--             allowed quantity, n, then n quantities
-- receive | cancel, or check-receive | check-cancel (validate only: a
-- spread store checks every group of an order before it applies a
-- request to any):
--   KEYS[1]   the order's record
--   KEYS[2]   this request's record (hash f = fingerprint, o = outcome,
--             e = the order's encoded lines); expires
--             after the retention, and answers a replay even after the
--             order's record is forgotten
--   KEYS[3..] per order line, as the caller read them: stock hash,
--             arrivals sorted set
--   ARGV      receive | cancel, order ID, the order's encoded lines as the
--             caller read them, fingerprint, retention (ms), largest
--             allowed quantity, n, then n pairs (order line number 1..m,
--             or 0 for an item the order does not bring; quantity)
--
-- Returns one string:
--   "0"                                    no such order
--   "1"                                    the order's lines differ from
--                                          the caller's: read again
--   "2 <complete 0|1> <expected ms> r1 c1 r2 c2 ...\n<encoded lines>"
--                                          done
--   "3"                                    ID used for a different request
--   "4 <request line> <open>"              that line asks for more than
--                                          is open; nothing written
--   "6 ..."                                a replay: as 2, what the first
--                                          call with this ID left
--   "7 <request line>"                     that line would take incoming
--                                          or on hand above the largest
--                                          allowed quantity; nothing written
--   "8"                                    check: the request would apply
--
-- Retry-safe: runs inside internal/opscript's wrapper, which takes its
-- operation record off the end of KEYS first and answers a resent call
-- with the first call's reply, so this body runs once per call.
local po = KEYS[1]
local op, id = ARGV[1], ARGV[2]

local function progressOf(lines, p)
  local q, r, c = {}, {}, {}
  for qty in string.gmatch(lines, '[^\t\n]*\t[^\t\n]*\t(%d+)\n') do q[#q + 1] = tonumber(qty) end
  local j = 1
  for rv, cv in string.gmatch(p, '(%d+) (%d+)') do
    r[j], c[j] = tonumber(rv), tonumber(cv)
    j = j + 1
  end
  return q, r, c
end

local function state(q, r, c)
  local parts, complete = {}, '1'
  for j = 1, #q do
    parts[#parts + 1] = string.format('%d', r[j])
    parts[#parts + 1] = string.format('%d', c[j])
    if r[j] + c[j] < q[j] then complete = '0' end
  end
  return complete, table.concat(parts, ' ')
end

if op == 'expect' then
  local at, enc, maxq = ARGV[3], ARGV[4], tonumber(ARGV[5])
  local n = tonumber(ARGV[6])
  local prev = redis.call('HMGET', po, 'e', 'l', 'p')
  if prev[1] then
    if prev[1] ~= at or prev[2] ~= enc then return '3' end
    local q, r, c = progressOf(prev[2], prev[3])
    local complete, p = state(q, r, c)
    return '6 ' .. complete .. ' ' .. prev[1] .. ' ' .. p .. '\n' .. prev[2]
  end
  for i = 1, n do
    local have = tonumber(redis.call('HGET', KEYS[2 * i], 'i') or '0')
    if have + tonumber(ARGV[6 + i]) > maxq then return '7 ' .. i end
  end
  local parts = {}
  for i = 1, n do
    redis.call('HINCRBY', KEYS[2 * i], 'i', ARGV[6 + i])
    redis.call('ZADD', KEYS[2 * i + 1], at, id)
    parts[#parts + 1] = '0 0'
  end
  local p = table.concat(parts, ' ')
  redis.call('HSET', po, 'e', at, 'l', enc, 'p', p)
  return '2 0 ' .. at .. ' ' .. p .. '\n' .. enc
end

local check = op == 'check-receive' or op == 'check-cancel'
if check then op = string.sub(op, 7) end
local rk = KEYS[2]
local enc, fp, retention, maxq = ARGV[3], ARGV[4], tonumber(ARGV[5]), tonumber(ARGV[6])
local prev = redis.call('HMGET', rk, 'f', 'o', 'e')
if prev[1] then
  if prev[1] ~= fp then return '3' end
  return '6 ' .. prev[2] .. '\n' .. prev[3]
end
local rec = redis.call('HMGET', po, 'e', 'l', 'p')
if not rec[1] then return '0' end
if rec[2] ~= enc then return '1' end
local at = rec[1]
local q, r, c = progressOf(rec[2], rec[3])
local n = tonumber(ARGV[7])
for i = 1, n do
  local j, qty = tonumber(ARGV[6 + 2 * i]), tonumber(ARGV[7 + 2 * i])
  local open = 0
  if j > 0 then open = q[j] - r[j] - c[j] end
  if qty > open then return '4 ' .. i .. ' ' .. string.format('%d', open) end
  if op == 'receive' then
    local h = tonumber(redis.call('HGET', KEYS[1 + 2 * j], 'h') or '0')
    if h + qty > maxq then return '7 ' .. i end
  end
end
if check then return '8' end
for i = 1, n do
  local j, qty = tonumber(ARGV[6 + 2 * i]), tonumber(ARGV[7 + 2 * i])
  local stock, arrivals = KEYS[1 + 2 * j], KEYS[2 + 2 * j]
  redis.call('HINCRBY', stock, 'i', string.format('%d', -qty))
  if op == 'receive' then
    redis.call('HINCRBY', stock, 'h', string.format('%d', qty))
    -- The units go to the oldest backorders first (backorder.lua).
    local v = redis.call('HMGET', stock, 'h', 'r', 'c', 'w')
    local w = tonumber(v[4]) or 0
    if w > 0 then
      w = boFill(stock, (tonumber(v[1]) or 0) - (tonumber(v[2]) or 0) - (tonumber(v[3]) or 0) + w, w)
      redis.call('HSET', stock, 'w', string.format('%d', w))
    end
    r[j] = r[j] + qty
  else
    c[j] = c[j] + qty
  end
  if r[j] + c[j] == q[j] then redis.call('ZREM', arrivals, id) end
end
local complete, p = state(q, r, c)
redis.call('HSET', po, 'p', p)
if complete == '1' then redis.call('PEXPIRE', po, retention) end
local out = complete .. ' ' .. at .. ' ' .. p
redis.call('HSET', rk, 'f', fp, 'o', out, 'e', enc)
redis.call('PEXPIRE', rk, retention)
return '2 ' .. out .. '\n' .. enc
