-- publish.lua: stores a rule set as the next version, once per publish ID,
-- and announces the version.
--
-- KEYS[1]  rules: hash version -> n, data -> JSON promotions
-- KEYS[2]  publishes: hash publish ID -> "<version> <fingerprint>", for the
--          last ARGV[4] publishes
-- KEYS[3]  the IDs in KEYS[2], oldest first: list
-- ARGV[1]  publish ID
-- ARGV[2]  JSON promotions
-- ARGV[3]  change channel
-- ARGV[4]  how many publish IDs to remember
-- ARGV[5]  fingerprint of the JSON (hex, no spaces)
--
-- Returns {status, version}: status 1 published, 2 a replay of the same
-- publish (the version it made), 3 the publish ID was used for other
-- promotions (version 0; nothing written).
--
-- Retry-safe: runs inside internal/opscript's wrapper, which takes its
-- operation record off the end of KEYS first and answers a resent call
-- with the first call's reply, so this body runs once per call.
local prev = redis.call('HGET', KEYS[2], ARGV[1])
if prev then
  local v, fp = string.match(prev, '^(%d+) (.*)$')
  if fp ~= ARGV[5] then return {3, 0} end
  return {2, tonumber(v)}
end
local v = redis.call('HINCRBY', KEYS[1], 'version', 1)
redis.call('HSET', KEYS[1], 'data', ARGV[2])
redis.call('HSET', KEYS[2], ARGV[1], v .. ' ' .. ARGV[5])
if redis.call('RPUSH', KEYS[3], ARGV[1]) > tonumber(ARGV[4]) then
  redis.call('HDEL', KEYS[2], redis.call('LPOP', KEYS[3]))
end
redis.call('PUBLISH', ARGV[3], v)
return {1, v}
