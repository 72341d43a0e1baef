-- fold.lua: replaces the log's oldest batches with a new compacted base.
--
-- KEYS     as in append.lua: log, batch IDs, IDs in order, base
-- ARGV[1]  the base version the caller read (the fold is refused if
--          another fold happened since)
-- ARGV[2]  k, how many of the oldest batches the new base covers
-- ARGV[3]  the new base: the compaction of the old base and those k
--          batches (JSON)
--
-- Returns 1 if folded, 0 if the base had moved (nothing written). Appends
-- only add to the log's tail, so the k oldest batches are the ones the
-- caller read as long as the base has not moved.
--
-- Retry-safe: runs inside internal/opscript's wrapper, which takes its
-- operation record off the end of KEYS first and answers a resent call
-- with the first call's reply, so this body runs once per call.
local base = redis.call('HGET', KEYS[4], 'v') or '0'
if base ~= ARGV[1] then return 0 end
local k = tonumber(ARGV[2])
local ids = redis.call('LRANGE', KEYS[3], 0, k - 1)
if #ids < k then return 0 end
redis.call('HDEL', KEYS[2], unpack(ids))
redis.call('LTRIM', KEYS[1], k, -1)
redis.call('LTRIM', KEYS[3], k, -1)
redis.call('HSET', KEYS[4], 'v', string.format('%d', tonumber(base) + k), 'c', ARGV[3])
return 1
