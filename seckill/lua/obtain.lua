-- obtain.lua: grants a lock with a fencing token.
--
-- KEYS[1]  the lock: string "<owner>|<fence>" with a TTL
-- KEYS[2]  the lock's fence counter: integer, never expires
-- KEYS[3]  the lock's shared holders: hash owner -> "<expires ms>|<fence>"
--          (obtain_shared.lua); a live one keeps the lock from a writer
-- ARGV[1]  owner token followed by "|"
-- ARGV[2]  TTL (ms)
--
-- Returns the grant's fence (> 0), or 0 if another owner holds the lock
-- or a shared holder's lease is still running (expired ones are dropped). A
-- free lock gets the next fence; the current owner obtaining again keeps
-- its fence and extends the lease. The counter is bumped before the
-- attempt, so a busy lock skips a number: tokens still only rise.
--
-- Retry-safe as it is (opscript.NewIdempotent): the owner token is the
-- operation's ID. A resend finds the lock held by the same owner, extends
-- it from now and returns the same fence; it bumps the counter once more,
-- which tokens allow (they only rise).
local prefix = ARGV[1]
if redis.call('EXISTS', KEYS[3]) == 1 then
  local t = redis.call('TIME')
  local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
  local live = 0
  local all = redis.call('HGETALL', KEYS[3])
  for i = 1, #all, 2 do
    if tonumber(string.match(all[i + 1], '^(%d+)|')) <= now then
      redis.call('HDEL', KEYS[3], all[i])
    else
      live = live + 1
    end
  end
  if live > 0 then return 0 end
end
local fence = redis.call('INCR', KEYS[2])
if redis.call('SET', KEYS[1], prefix .. fence, 'NX', 'PX', ARGV[2]) then
  return fence
end
local cur = redis.call('GET', KEYS[1])
if cur and string.sub(cur, 1, #prefix) == prefix then
  redis.call('PEXPIRE', KEYS[1], ARGV[2])
  return tonumber(string.sub(cur, #prefix + 1))
end
return 0
