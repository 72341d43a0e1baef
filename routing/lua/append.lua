-- append.lua: appends a batch of changes to the shared log, idempotently.
--
-- KEYS[1]  log: list of batches (JSON), batch v at index v−1
-- KEYS[2]  batch IDs: hash ID -> version
-- ARGV[1]  batch ID
-- ARGV[2]  the batch, JSON
-- ARGV[3]  pub/sub channel to notify
--
-- Returns the batch's version: new, or the one the ID already has.
--
-- Retry-safe: runs inside internal/opscript's wrapper, which takes its
-- operation record off the end of KEYS first and answers a resent call
-- with the first call's reply, so this body runs once per call.
local v = redis.call('HGET', KEYS[2], ARGV[1])
if v then return tonumber(v) end
local n = redis.call('RPUSH', KEYS[1], ARGV[2])
redis.call('HSET', KEYS[2], ARGV[1], n)
redis.call('PUBLISH', ARGV[3], n)
return n
