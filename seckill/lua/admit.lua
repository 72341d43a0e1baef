-- admit.lua: one atomic admission to a flash sale.
--
-- KEYS[1]  sale: hash u (units), r (remaining), h (held), p (paid),
--          s (ticket sequence), start, end (ms), lim (per-user limit),
--          pay (ms to pay), f (definition fingerprint)
-- KEYS[2]  users: hash user -> units admitted
-- KEYS[3]  requests: hash request ID -> "<user>|<qty>|<outcome>|<ticket>|<deadline>"
-- KEYS[4]  tickets: hash ticket ID -> "<user>|<qty>|<deadline>|<state h/p/e>"
-- KEYS[5]  unpaid tickets by deadline: sorted set
-- KEYS[6]  order queue: stream of admitted tickets
-- ARGV[1]  user, ARGV[2] request ID, ARGV[3] quantity
-- ARGV[4]  1 to remember a sold-out outcome for the request, 0 not to (the
--          caller will move stock in and retry)
--
-- Returns {outcome, ticket, deadline, replayed}; outcome 1 admitted,
-- 2 sold out, 3 limit reached, 4 not started, 5 ended, -1 unknown sale,
-- -2 request ID reused with other parameters.
local user, req, qty = ARGV[1], ARGV[2], tonumber(ARGV[3])
local prev = redis.call('HGET', KEYS[3], req)
if prev then
  local pu, pq, po, pt, pd = string.match(prev, '^(.*)|(%d+)|(%d+)|(.*)|(%d+)$')
  if pu ~= user or tonumber(pq) ~= qty then return {-2, '', 0, 0} end
  return {tonumber(po), pt, tonumber(pd), 1}
end
local d = redis.call('HMGET', KEYS[1], 'r', 'start', 'end', 'lim', 'pay')
if not d[1] then return {-1, '', 0, 0} end
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local outcome, ticket, deadline = 0, '', 0
if now < tonumber(d[2]) then
  return {4, '', 0, 0} -- not started: not remembered, so a retry may succeed
elseif now >= tonumber(d[3]) then
  outcome = 5
elseif tonumber(redis.call('HGET', KEYS[2], user) or '0') + qty > tonumber(d[4]) then
  outcome = 3
elseif tonumber(d[1]) < qty then
  outcome = 2
else
  outcome = 1
  redis.call('HINCRBY', KEYS[1], 'r', -qty)
  redis.call('HINCRBY', KEYS[1], 'h', qty)
  redis.call('HINCRBY', KEYS[2], user, qty)
  ticket = 't' .. redis.call('HINCRBY', KEYS[1], 's', 1)
  deadline = now + tonumber(d[5])
  local ds = string.format('%d', deadline)
  redis.call('HSET', KEYS[4], ticket, user .. '|' .. qty .. '|' .. ds .. '|h')
  redis.call('ZADD', KEYS[5], ds, ticket)
  redis.call('XADD', KEYS[6], '*', 'ticket', ticket, 'user', user, 'qty', qty, 'deadline', ds)
end
if outcome ~= 2 or ARGV[4] == '1' then
  redis.call('HSET', KEYS[3], req, user .. '|' .. qty .. '|' .. outcome .. '|' .. ticket .. '|' .. string.format('%d', deadline))
end
return {outcome, ticket, deadline, 0}
