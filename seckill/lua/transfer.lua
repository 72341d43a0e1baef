-- transfer.lua: moves stock between a sale's buckets, one side at a time
-- (the buckets may live on different Cluster nodes).
--
-- KEYS[1]  a bucket's sale hash (as in admit.lua)
-- ARGV[1]  take | give
-- ARGV[2]  take: the least worth taking; give: units to add
--
-- take removes max(ARGV[2], half the remaining) from the bucket's
-- remaining, or nothing if fewer than ARGV[2] remain, and returns what it
-- removed; give adds ARGV[2] to the remaining and returns it. A bucket's
-- units (u) stay its opening share, so the sale's units, summed over its
-- buckets, are exact whenever they are read, even mid-move.
--
-- Retry-safe: runs inside internal/opscript's wrapper, which takes its
-- operation record off the end of KEYS first and answers a resent call
-- with the first call's reply, so this body runs once per call.
local n = tonumber(ARGV[2])
if ARGV[1] == 'give' then
  redis.call('HINCRBY', KEYS[1], 'r', n)
  return n
end
local r = tonumber(redis.call('HGET', KEYS[1], 'r') or '0')
if r < n then return 0 end
local take = math.max(n, math.floor(r / 2))
redis.call('HINCRBY', KEYS[1], 'r', -take)
return take
