-- obtain.lua: grants a lock with a fencing token.
--
-- KEYS[1]  the lock: string "<owner>|<fence>" with a TTL
-- KEYS[2]  the lock's fence counter: integer, never expires
-- ARGV[1]  owner token followed by "|"
-- ARGV[2]  TTL (ms)
--
-- Returns the grant's fence (> 0), or 0 if another owner holds the lock. A
-- free lock gets the next fence; the current owner obtaining again keeps
-- its fence and extends the lease.
local cur = redis.call('GET', KEYS[1])
local prefix = ARGV[1]
if cur then
  if string.sub(cur, 1, #prefix) ~= prefix then return 0 end
  redis.call('PEXPIRE', KEYS[1], ARGV[2])
  return tonumber(string.sub(cur, #prefix + 1))
end
local fence = redis.call('INCR', KEYS[2])
redis.call('SET', KEYS[1], prefix .. fence, 'PX', ARGV[2])
return fence
