-- save.lua: stores a sticky assignment unless one is already stored.
--
-- KEYS[1]  the user's sticky document: hash, assignment key -> variation
-- ARGV[1]  assignment key ("<experiment>__<bucket version>")
-- ARGV[2]  variation
-- ARGV[3]  document TTL (ms), refreshed on every save; 0 for none
--
-- Returns the variation now stored: ARGV[2] if this call stored it, else
-- the one an earlier call stored.
--
-- Retry-safe as it is (opscript.NewIdempotent): HSETNX stores once, and a
-- resend returns the variation the first call stored.
if redis.call('HSETNX', KEYS[1], ARGV[1], ARGV[2]) == 0 then
  return tonumber(redis.call('HGET', KEYS[1], ARGV[1]))
end
if tonumber(ARGV[3]) > 0 then
  redis.call('PEXPIRE', KEYS[1], ARGV[3])
end
return tonumber(ARGV[2])
