-- append.lua: appends a batch of changes to the shared log, idempotently.
--
-- KEYS[1]  log: list of the batches after the base (JSON), batch v at
--          index v − base version − 1
-- KEYS[2]  batch IDs: hash ID -> version, for the batches in the log
-- KEYS[3]  the IDs of the batches in the log, in order: list
-- KEYS[4]  base: hash v = base version, c = compacted changes (JSON)
-- ARGV[1]  batch ID
-- ARGV[2]  the batch, JSON
-- ARGV[3]  pub/sub channel to notify
--
-- Returns {version, batches in the log}: the batch's version (new, or the
-- one the ID already has) and how many batches the log now keeps whole,
-- so the caller knows when to fold the oldest into the base (fold.lua).
--
-- Retry-safe: runs inside internal/opscript's wrapper, which takes its
-- operation record off the end of KEYS first and answers a resent call
-- with the first call's reply, so this body runs once per call.
local v = redis.call('HGET', KEYS[2], ARGV[1])
if v then return {tonumber(v), redis.call('LLEN', KEYS[1])} end
local n = redis.call('RPUSH', KEYS[1], ARGV[2])
redis.call('RPUSH', KEYS[3], ARGV[1])
local version = tonumber(redis.call('HGET', KEYS[4], 'v') or '0') + n
redis.call('HSET', KEYS[2], ARGV[1], version)
redis.call('PUBLISH', ARGV[3], version)
return {version, n}
