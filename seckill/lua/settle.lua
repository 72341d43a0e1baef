-- settle.lua: pays or cancels a ticket, or expires unpaid tickets past
-- their deadline (their units return to the sale, and the buyer's quota,
-- exactly once).
--
-- KEYS[1]  sale hash, KEYS[2] users, KEYS[3] tickets, KEYS[4] unpaid by
--          deadline (as in admit.lua)
-- ARGV[1]  operation: pay | cancel | extend | sweep
-- ARGV[2]  ticket ID (pay, cancel, extend) or the most tickets to expire
--          (sweep)
-- ARGV[3]  extend: the new time to pay, in ms from now
--
-- pay and cancel return {state, user, qty, deadline}: state 0 unknown
-- ticket, 1 paid (now or before), 2 expired (or cancelled before), 3
-- cancelled by this call (its units returned as an expiry's are) or
-- extended (the deadline in the reply). An extended ticket gets an unpaid
-- index member of its own at the new deadline; the member it had stays,
-- and the sweep skips a ticket whose own deadline has not passed. sweep returns {expired count, more}:
-- more is 1 when due index entries are left for the next call. The unpaid
-- index holds one member per admitted batch (see admit.lua): a sweep reads
-- whole members, at least ARGV[2] tickets' worth when that many are due,
-- expires the tickets still held and drops the members.
--
-- Retry-safe: runs inside internal/opscript's wrapper, which takes its
-- operation record off the end of KEYS first and answers a resent call
-- with the first call's reply, so this body runs once per call.
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)

-- expire returns a held ticket's units and marks it expired; the unpaid
-- index entry it came from is left to the sweep, which skips a ticket no
-- longer held.
local function expire(id, rec)
  local u, q, d = string.match(rec, '^(.*)|(%d+)|(%d+)|h$')
  redis.call('HINCRBY', KEYS[1], 'h', -tonumber(q))
  redis.call('HINCRBY', KEYS[1], 'r', tonumber(q))
  redis.call('HINCRBY', KEYS[2], u, -tonumber(q))
  redis.call('HSET', KEYS[3], id, u .. '|' .. q .. '|' .. d .. '|e')
end

if ARGV[1] == 'sweep' then
  local limit = tonumber(ARGV[2])
  local seen, expired = 0, 0
  while seen < limit do
    local due = redis.call('ZRANGEBYSCORE', KEYS[4], '-inf', now, 'LIMIT', 0, 16)
    if #due == 0 then return {expired, 0} end
    for _, member in ipairs(due) do
      for id in string.gmatch(member, '%S+') do
        seen = seen + 1
        local rec = redis.call('HGET', KEYS[3], id)
        if rec and string.sub(rec, -2) == '|h' then
          local d = tonumber(string.match(rec, '|(%d+)|h$'))
          if d <= now then -- an extended ticket waits for its own member
            expire(id, rec)
            expired = expired + 1
          end
        end
      end
      redis.call('ZREM', KEYS[4], member)
    end
  end
  return {expired, 1}
end

local id = ARGV[2]
local rec = redis.call('HGET', KEYS[3], id)
if not rec then return {0, '', 0, 0} end
local u, q, d, st = string.match(rec, '^(.*)|(%d+)|(%d+)|(%a)$')
if st == 'h' and tonumber(d) <= now then
  expire(id, rec)
  st = 'e'
end
if st == 'e' then return {2, u, tonumber(q), tonumber(d)} end
if ARGV[1] == 'extend' then
  if st ~= 'h' then return {1, u, tonumber(q), tonumber(d)} end -- paid
  local nd = now + tonumber(ARGV[3])
  if nd > tonumber(d) then
    d = string.format('%.0f', nd)
    redis.call('HSET', KEYS[3], id, u .. '|' .. q .. '|' .. d .. '|h')
    redis.call('ZADD', KEYS[4], nd, id)
  end
  return {3, u, tonumber(q), tonumber(d)}
end
if ARGV[1] == 'cancel' then
  if st == 'h' then
    expire(id, rec)
    return {3, u, tonumber(q), tonumber(d)}
  end
  return {1, u, tonumber(q), tonumber(d)} -- paid
end
if st == 'h' then
  redis.call('HINCRBY', KEYS[1], 'h', -tonumber(q))
  redis.call('HINCRBY', KEYS[1], 'p', tonumber(q))
  redis.call('HSET', KEYS[3], id, u .. '|' .. q .. '|' .. d .. '|p')
end
return {1, u, tonumber(q), tonumber(d)}
