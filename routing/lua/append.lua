-- append.lua: appends a batch of changes to the shared log, idempotently.
--
-- KEYS[1]  log: list of the batches after the base (JSON), batch v at
--          index v − base version − 1
-- KEYS[2]  batch IDs: hash ID -> "<version> <fingerprint>", for the
--          batches in the log
-- KEYS[3]  the IDs of the batches in the log, in order: list
-- KEYS[4]  base: hash v = base version, c = compacted changes (JSON)
-- ARGV[1]  batch ID
-- ARGV[2]  the batch, JSON
-- ARGV[3]  pub/sub channel to notify
-- ARGV[4]  fingerprint of the batch (hex, no spaces)
--
-- Returns {status, version, batches in the log}: status 1 appended, 2 a
-- replay of the same batch (the version the ID already has), 3 the ID was
-- used for another batch (version 0; nothing written); and how many
-- batches the log now keeps whole, so the caller knows when to fold the
-- oldest into the base (fold.lua).
--
-- Retry-safe: runs inside internal/opscript's wrapper, which takes its
-- operation record off the end of KEYS first and answers a resent call
-- with the first call's reply, so this body runs once per call.
local prev = redis.call('HGET', KEYS[2], ARGV[1])
if prev then
  local v, fp = string.match(prev, '^(%d+) (.*)$')
  if fp ~= ARGV[4] then return {3, 0, redis.call('LLEN', KEYS[1])} end
  return {2, tonumber(v), redis.call('LLEN', KEYS[1])}
end
local n = redis.call('RPUSH', KEYS[1], ARGV[2])
redis.call('RPUSH', KEYS[3], ARGV[1])
local version = tonumber(redis.call('HGET', KEYS[4], 'v') or '0') + n
redis.call('HSET', KEYS[2], ARGV[1], string.format('%d', version) .. ' ' .. ARGV[4])
redis.call('PUBLISH', ARGV[3], version)
return {1, version, n}
