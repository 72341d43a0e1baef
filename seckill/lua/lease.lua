-- lease.lua: refreshes a lock, or reads its TTL, only if the caller
-- still holds it (release.lua frees it).
--
-- KEYS[1]  the lock: string "<owner>|<fence>" with a TTL
-- ARGV[1]  owner token followed by "|"
-- ARGV[2]  operation: refresh | ttl
-- ARGV[3]  TTL (ms), for refresh
--
-- Returns -1 if the caller does not hold the lock; otherwise, for refresh
-- the fence, for ttl the milliseconds left.
--
-- Retry-safe as it is (opscript.NewIdempotent): a resent refresh extends
-- the lease again from now and returns the same fence; ttl only reads.
local cur = redis.call('GET', KEYS[1])
local prefix = ARGV[1]
if not cur or string.sub(cur, 1, #prefix) ~= prefix then return -1 end
local op = ARGV[2]
if op == 'refresh' then
  redis.call('PEXPIRE', KEYS[1], ARGV[3])
  return tonumber(string.sub(cur, #prefix + 1))
end
return redis.call('PTTL', KEYS[1])
