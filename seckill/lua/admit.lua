-- admit.lua: atomic admissions to a flash sale, one after another, for
-- every call in the batch.
--
-- KEYS[1]  sale: hash u (units), r (remaining), h (held), p (paid),
--          s (ticket sequence), start, end (ms), lim (per-user limit),
--          pay (ms to pay), f (definition fingerprint), x (when the
--          sale's keys expire, ms); every key below this script creates
--          gets that expiry
-- KEYS[2]  users: hash user -> units admitted
-- KEYS[3]  requests: hash request ID -> "<user>|<qty>|<outcome>|<ticket>|<deadline>"
-- KEYS[4]  tickets: hash ticket ID -> "<user>|<qty>|<deadline>|<state h/p/e>"
-- KEYS[5]  unpaid tickets by deadline: sorted set; a member is the
--          space-separated tickets one batch admitted (they share a
--          deadline), so a batch adds one member, not one per ticket.
--          Members go stale as tickets are paid; settle.lua's sweep skips
--          those tickets when the member comes due
-- KEYS[6]  order queue: stream of admitted tickets
-- ARGV     per call, three: user, request ID, quantity
--
-- Returns one line per call, "<outcome>|<ticket>|<deadline>|<replayed>";
-- outcome 1 admitted, 2 sold out, 3 limit reached, 4 not started, 5 ended,
-- -1 unknown sale, -2 request ID reused with other parameters. Calls are
-- applied in order, each seeing the ones before it (a request ID repeated
-- in the batch is a replay of its first call); all share one clock
-- reading.
--
-- The batch reads what it needs in one command per hash, decides every
-- call in Lua, and writes back one command per hash, one unpaid-index
-- entry per batch (plus one XADD per ticket): a command from Lua costs
-- about a microsecond, and one command per call per hash was most of an
-- admission's cost.
--
-- Retry-safe: runs inside internal/opscript's wrapper, which takes its
-- operation record off the end of KEYS first and answers a resent call
-- with the first call's reply, so this body runs once per call.
local n = #ARGV / 3
local d = redis.call('HMGET', KEYS[1], 'r', 'start', 'end', 'lim', 'pay', 's', 'x')
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local remaining, starts, ends, limit, seq, due
if d[1] then
  remaining, starts, ends = tonumber(d[1]), tonumber(d[2]), tonumber(d[3])
  limit, seq = tonumber(d[4]), tonumber(d[6])
  due = string.format('%d', now + tonumber(d[5])) -- every ticket of the batch is due then
end

-- What the hashes hold for this batch's requests and users, then what the
-- batch has written over them.
local reqFields, userFields = {}, {}
for i = 1, n do
  reqFields[i] = ARGV[3 * i - 1]
  userFields[i] = ARGV[3 * i - 2]
end
local reqStored = redis.call('HMGET', KEYS[3], unpack(reqFields))
local userStored = redis.call('HMGET', KEYS[2], unpack(userFields))
local requests, users = {}, {}
for i = 1, n do
  if reqStored[i] then requests[reqFields[i]] = reqStored[i] end
  if users[userFields[i]] == nil then users[userFields[i]] = tonumber(userStored[i] or '0') end
end
local newRequests, newUsers, newTickets, newUnpaid = {}, {}, {}, {}
local taken = 0

-- qtyText is the quantity as the caller sent it, an integer in decimal.
-- Outcomes stay strings: a number put into a string costs Lua a
-- formatted print, and each admission's outcome goes into two.
local function admit(user, req, qty, qtyText)
  local prev = requests[req]
  if prev then
    local pu, pq, po, pt, pd = string.match(prev, '^(.*)|(%d+)|(%d+)|(.*)|(%d+)$')
    if pu ~= user or tonumber(pq) ~= qty then return '-2||0|0' end
    return po .. '|' .. pt .. '|' .. pd .. '|1'
  end
  if not remaining then return '-1||0|0' end
  local outcome, ticket, deadline = '0', '', '0'
  if now < starts then
    return '4||0|0' -- not started: not remembered, so a retry may succeed
  elseif now >= ends then
    outcome = '5'
  elseif users[user] + qty > limit then
    outcome = '3'
  elseif remaining < qty then
    outcome = '2'
  else
    outcome = '1'
    remaining = remaining - qty
    taken = taken + qty
    users[user] = users[user] + qty
    newUsers[#newUsers + 1] = user
    seq = seq + 1
    ticket = 't' .. string.format('%d', seq)
    deadline = due
    newTickets[#newTickets + 1] = ticket
    newTickets[#newTickets + 1] = user .. '|' .. qtyText .. '|' .. deadline .. '|h'
    newUnpaid[#newUnpaid + 1] = ticket
    redis.call('XADD', KEYS[6], '*', 'ticket', ticket, 'user', user, 'qty', qtyText, 'deadline', deadline)
  end
  -- Sold out is not remembered either: a retry may find returned stock.
  if outcome ~= '2' then
    local rec = user .. '|' .. qtyText .. '|' .. outcome .. '|' .. ticket .. '|' .. deadline
    requests[req] = rec
    newRequests[#newRequests + 1] = req
    newRequests[#newRequests + 1] = rec
  end
  return outcome .. '|' .. ticket .. '|' .. deadline .. '|0'
end

local out = {}
for i = 1, n do
  out[i] = admit(ARGV[3 * i - 2], ARGV[3 * i - 1], tonumber(ARGV[3 * i]), ARGV[3 * i])
end

if taken > 0 then
  local q = string.format('%d', taken)
  redis.call('HINCRBY', KEYS[1], 'r', '-' .. q)
  redis.call('HINCRBY', KEYS[1], 'h', q)
  redis.call('HSET', KEYS[1], 's', string.format('%d', seq))
  local userValues = {}
  for _, u in ipairs(newUsers) do
    userValues[#userValues + 1] = u
    userValues[#userValues + 1] = string.format('%d', users[u])
  end
  redis.call('HSET', KEYS[2], unpack(userValues))
  redis.call('HSET', KEYS[4], unpack(newTickets))
  redis.call('ZADD', KEYS[5], due, table.concat(newUnpaid, ' '))
  if d[7] then -- a sale opened before sales had an expiry has none
    for _, k in ipairs({KEYS[2], KEYS[4], KEYS[5], KEYS[6]}) do
      redis.call('PEXPIREAT', k, d[7])
    end
  end
end
if #newRequests > 0 then
  redis.call('HSET', KEYS[3], unpack(newRequests))
  if d[7] then redis.call('PEXPIREAT', KEYS[3], d[7]) end
end
return table.concat(out, '\n')
