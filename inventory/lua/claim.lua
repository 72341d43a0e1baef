-- claim.lua: claims a request ID for one request, by its fingerprint, in
-- a spread store's home group of the ID, when the request's own record
-- lives in another group and so cannot tell a reuse of the ID.
--
-- KEYS[1]  the claim: a string, the fingerprint, expiring with the
--          request's record
-- KEYS[2]  optional: a spread purchase order's pending index (sorted set,
--          order ID -> when claimed, ms); a new claim adds ARGV[4] to it,
--          and the caller removes it once every group expects the order
-- ARGV[1]  claim | drop (a refused request gives its ID back)
-- ARGV[2]  fingerprint
-- ARGV[3]  retention (ms), or 0 to keep the claim until it is given an
--          expiry (a purchase order's, once nothing is open)
-- ARGV[4]  with KEYS[2]: the order's ID
--
-- Returns 1 when the ID is this request's (claimed now or before), 0 when
-- another request has it. Idempotent as it is: a resend finds its own
-- claim.
local v = redis.call('GET', KEYS[1])
if ARGV[1] == 'drop' then
  if v == ARGV[2] then redis.call('DEL', KEYS[1]) end
  return 1
end
if not v then
  if ARGV[3] == '0' then
    redis.call('SET', KEYS[1], ARGV[2])
  else
    redis.call('SET', KEYS[1], ARGV[2], 'PX', ARGV[3])
  end
  if KEYS[2] then
    -- With the claim, in the same script: a caller that dies before any
    -- group expects the order still leaves it for recovery to find.
    local t = redis.call('TIME')
    redis.call('ZADD', KEYS[2], tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000), ARGV[4])
  end
  return 1
end
return v == ARGV[2] and 1 or 0
