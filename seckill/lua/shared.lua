-- shared.lua: a lock's shared (reader) grants: obtain, refresh, ttl and
-- release. Shared holders exclude a writer (obtain.lua checks them) and
-- are excluded by one; any number hold together.
--
-- KEYS[1]  the lock: string "<owner>|<fence>" while a writer holds it
-- KEYS[2]  the lock's fence counter: integer, never expires
-- KEYS[3]  the shared holders: hash owner -> "<expires ms>|<fence>"; the
--          hash expires with its longest lease
-- ARGV[1]  obtain | refresh | ttl | release
-- ARGV[2]  owner token
-- ARGV[3]  TTL (ms), for obtain and refresh
--
-- Returns, for obtain, the grant's fence (> 0) or 0 while a writer holds
-- the lock; for refresh the fence, for ttl the milliseconds left, for
-- release 1; -1 from refresh, ttl and release when the owner holds no
-- live shared grant. A new grant takes the next fence, so shared and
-- exclusive grants of a name share one rising sequence.
--
-- Retry-safe as it is for obtain, refresh and ttl (a resent obtain finds
-- the owner's own grant, extends it and returns its fence); release runs
-- inside internal/opscript's wrapper (shared_release), so a resend gets
-- the first reply rather than "not held".
local op, owner, ttl = ARGV[1], ARGV[2], tonumber(ARGV[3])
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)

-- own returns the owner's live grant's fence and expiry, dropping an
-- expired one.
local function own()
  local rec = redis.call('HGET', KEYS[3], owner)
  if not rec then return nil end
  local exp, fence = string.match(rec, '^(%d+)|(%d+)$')
  if tonumber(exp) <= now then
    redis.call('HDEL', KEYS[3], owner)
    return nil
  end
  return tonumber(fence), tonumber(exp)
end

-- grant (re)writes the owner's lease and keeps the hash alive as long.
local function grant(fence)
  redis.call('HSET', KEYS[3], owner, string.format('%d', now + ttl) .. '|' .. fence)
  if redis.call('PTTL', KEYS[3]) < ttl then redis.call('PEXPIRE', KEYS[3], ttl) end
  return fence
end

if op == 'obtain' then
  local fence = own()
  if fence then return grant(fence) end
  if redis.call('EXISTS', KEYS[1]) == 1 then return 0 end
  return grant(redis.call('INCR', KEYS[2]))
end
local fence, exp = own()
if not fence then return -1 end
if op == 'refresh' then return grant(fence) end
if op == 'ttl' then return exp - now end
if op == 'release' then
  redis.call('HDEL', KEYS[3], owner)
  return 1
end
return redis.error_reply('shared.lua: unknown op ' .. tostring(op))
