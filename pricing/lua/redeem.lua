-- redeem.lua: holds, commits and releases coupon uses against their
-- limits. All keys are under the coupon's hash tag, so a coupon is one
-- slot and every call is one atomic script on one node.
--
-- KEYS[1]  orders: hash order ID -> "<state>|<expires ms>|<customer>";
--          the customer comes last because it may contain '|' (state and
--          time cannot), so every record parses one way only
-- KEYS[2]  holds: zset order ID by expiry (ms), the held orders only
-- KEYS[3]  used: string, live uses (held + committed)
-- KEYS[4]  customers: hash customer -> live uses (a customer with none
--          has no field)
-- KEYS[5]  finished: zset order ID -> when its record is forgotten (ms);
--          a record is forgotten retention after it last changed state
--          (commit, release, lapse), a few per call
-- KEYS[6]  amounts: hash order ID -> amount held against the budget
--          (orders with a positive amount only; forgotten with the record)
-- KEYS[7]  spent: string, the live redemptions' amounts
-- ARGV[1]  reserve | commit | release | usage
-- ARGV[2]  retention (ms)
-- ARGV[3]  order ID (customer ID for usage)
-- ARGV[4..9] reserve: customer, global limit, per-customer limit, TTL ms,
--          budget (0: none), amount
--
-- Returns {status, record, amount}; status is
--   1  ok: the call changed the redemption (record after it)
--   2  replay: the call changed nothing: reserve of an order already
--      recorded, commit of a committed one, release of a released or
--      expired one (record as it is)
--   3  conflict: reserve of an order recorded for another customer
--   4  global: reserve, the coupon has no uses left
--   5  customer: reserve, the customer has no uses left
--   6  unknown: commit, release, no record of the order
--   7  notheld: commit of a released or expired redemption
--   8  malformed: the record does not parse
--   9  budget: reserve, the amount does not fit in what is left of the
--      budget
-- usage returns {used, customer uses, spent}.
--
-- Retry-safe: runs inside internal/opscript's wrapper, which takes its
-- operation record off the end of KEYS first and answers a resent call
-- with the first call's reply, so this body runs once per call.
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local forgetAt = now + tonumber(ARGV[2])

-- amountOf returns what order oid holds against the budget.
local function amountOf(oid)
  return tonumber(redis.call('HGET', KEYS[6], oid) or '0')
end

-- reply answers with the order's amount after the status and record.
local function reply(status, rec, oid)
  return {status, rec, amountOf(oid)}
end

-- unuse returns oid's use (by cust) and its amount, dropping the
-- customer's field at zero.
local function unuse(oid, cust)
  redis.call('DECR', KEYS[3])
  if redis.call('HINCRBY', KEYS[4], cust, -1) <= 0 then redis.call('HDEL', KEYS[4], cust) end
  local amt = amountOf(oid)
  if amt > 0 then redis.call('DECRBY', KEYS[7], amt) end
end

-- finish records a final (or committed) state and when to forget it.
local function finish(oid, rec)
  redis.call('HSET', KEYS[1], oid, rec)
  redis.call('ZREM', KEYS[2], oid)
  redis.call('ZADD', KEYS[5], forgetAt, oid)
end

-- Forget a few records whose retention has passed.
local gone = redis.call('ZRANGEBYSCORE', KEYS[5], '-inf', now, 'LIMIT', 0, 16)
if #gone > 0 then
  redis.call('HDEL', KEYS[1], unpack(gone))
  redis.call('HDEL', KEYS[6], unpack(gone))
  redis.call('ZREM', KEYS[5], unpack(gone))
end

-- lapse turns an overdue hold into expired and returns its use.
local function lapse(oid, rec)
  local exp, cust = string.match(rec, '^held|(%d+)|(.*)$')
  if cust and tonumber(exp) <= now then
    rec = 'expired|' .. exp .. '|' .. cust
    finish(oid, rec)
    unuse(oid, cust)
  end
  return rec
end

-- Lapse overdue holds, a bounded number per call: if more are overdue
-- the counts stay high for a moment, which can refuse a use but never
-- grant one too many.
-- An index entry whose record is gone or is not a live hold is dropped,
-- so no entry can stay due forever and hold up the ones behind it.
for _, oid in ipairs(redis.call('ZRANGEBYSCORE', KEYS[2], '-inf', now, 'LIMIT', 0, 100)) do
  local rec = redis.call('HGET', KEYS[1], oid)
  if rec then rec = lapse(oid, rec) end
  if not rec or not string.match(rec, '^held|%d+|') then redis.call('ZREM', KEYS[2], oid) end
end

local op = ARGV[1]
if op == 'usage' then
  return {tonumber(redis.call('GET', KEYS[3]) or '0'), tonumber(redis.call('HGET', KEYS[4], ARGV[3]) or '0'),
    tonumber(redis.call('GET', KEYS[7]) or '0')}
end

local oid = ARGV[3]
local rec = redis.call('HGET', KEYS[1], oid)
if rec then rec = lapse(oid, rec) end

if op == 'reserve' then
  local cust, budget, amount = ARGV[4], tonumber(ARGV[8]), tonumber(ARGV[9])
  if rec then
    if string.match(rec, '^[a-z]+|%d+|(.*)$') ~= cust or amountOf(oid) ~= amount then return {3, rec, 0} end
    return reply(2, rec, oid)
  end
  local glimit, climit = tonumber(ARGV[5]), tonumber(ARGV[6])
  if glimit > 0 and tonumber(redis.call('GET', KEYS[3]) or '0') >= glimit then return {4, '', 0} end
  if climit > 0 and tonumber(redis.call('HGET', KEYS[4], cust) or '0') >= climit then return {5, '', 0} end
  if budget > 0 and tonumber(redis.call('GET', KEYS[7]) or '0') + amount > budget then return {9, '', 0} end
  local exp = string.format('%d', now + tonumber(ARGV[7]))
  rec = 'held|' .. exp .. '|' .. cust
  redis.call('HSET', KEYS[1], oid, rec)
  redis.call('ZADD', KEYS[2], exp, oid)
  redis.call('INCR', KEYS[3])
  redis.call('HINCRBY', KEYS[4], cust, 1)
  if amount > 0 then
    redis.call('HSET', KEYS[6], oid, amount)
    redis.call('INCRBY', KEYS[7], amount)
  end
  return reply(1, rec, oid)
end

if not rec then return {6, '', 0} end
local state, exp, cust = string.match(rec, '^([a-z]+)|(%d+)|(.*)$')
if not state then return {8, rec, 0} end

if op == 'commit' then
  if state == 'committed' then return reply(2, rec, oid) end
  if state ~= 'held' then return reply(7, rec, oid) end
  rec = 'committed|' .. exp .. '|' .. cust
  finish(oid, rec)
  return reply(1, rec, oid)
end

if op == 'release' then
  if state ~= 'held' and state ~= 'committed' then return reply(2, rec, oid) end
  rec = 'released|' .. exp .. '|' .. cust
  finish(oid, rec)
  unuse(oid, cust)
  return reply(1, rec, oid)
end
return redis.error_reply('redeem.lua: unknown op ' .. op)
