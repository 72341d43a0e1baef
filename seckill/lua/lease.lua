-- lease.lua: acts on a lock only if the caller still holds it.
--
-- KEYS[1]  the lock: string "<owner>|<fence>" with a TTL
-- ARGV[1]  owner token followed by "|"
-- ARGV[2]  operation: refresh | release | ttl
-- ARGV[3]  TTL (ms), for refresh
--
-- Returns -1 if the caller does not hold the lock; otherwise, for refresh
-- the fence, for release 1, for ttl the milliseconds left.
--
-- Retry-safe: runs inside internal/opscript's wrapper, which takes its
-- operation record off the end of KEYS first and answers a resent call
-- with the first call's reply, so this body runs once per call.
local cur = redis.call('GET', KEYS[1])
local prefix = ARGV[1]
if not cur or string.sub(cur, 1, #prefix) ~= prefix then return -1 end
local op = ARGV[2]
if op == 'release' then
  redis.call('DEL', KEYS[1])
  return 1
elseif op == 'refresh' then
  redis.call('PEXPIRE', KEYS[1], ARGV[3])
  return tonumber(string.sub(cur, #prefix + 1))
end
return redis.call('PTTL', KEYS[1])
