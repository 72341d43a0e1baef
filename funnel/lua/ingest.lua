-- Ingests a batch of events that all belong to one shard (one hash tag).
-- KEYS: every key the batch touches — per day an ID set and a name set,
--       per day and event name an event list and a HyperLogLog of users —
--       referred to from ARGV by position.
-- ARGV: nine per event: ID-set key index, list key index, name-set key
--       index, HyperLogLog key index (0: none), expiry (unix ms: the end of
--       the event's UTC day plus the retention), event ID, event name, user
--       ID, payload.
-- Returns {stored, duplicates, expired}. An event whose expiry has passed
-- by the server's TIME is not stored; an ID already in its day's ID set is
-- a duplicate. Every key written gets its day's expiry.
--
-- Retry-safe: runs inside internal/opscript's wrapper, which takes its
-- operation record off the end of KEYS first and answers a resent call
-- with the first call's reply, so this body runs once per call.
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local stored, duplicates, expired = 0, 0, 0
local expiry = {}
for i = 1, #ARGV, 9 do
  local at = tonumber(ARGV[i + 4])
  local ids = tonumber(ARGV[i])
  if at <= now then
    expired = expired + 1
  elseif redis.call('SADD', KEYS[ids], ARGV[i + 5]) == 0 then
    duplicates = duplicates + 1
  else
    local list = tonumber(ARGV[i + 1])
    redis.call('RPUSH', KEYS[list], ARGV[i + 8])
    if not expiry[list] then
      local names = tonumber(ARGV[i + 2])
      redis.call('SADD', KEYS[names], ARGV[i + 6])
      expiry[list], expiry[ids], expiry[names] = at, at, at
    end
    local hll = tonumber(ARGV[i + 3])
    if hll > 0 then
      redis.call('PFADD', KEYS[hll], ARGV[i + 7])
      expiry[hll] = at
    end
    stored = stored + 1
  end
end
for k, at in pairs(expiry) do
  redis.call('PEXPIREAT', KEYS[k], at)
end
return {stored, duplicates, expired}
