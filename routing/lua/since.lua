-- since.lua: reads the log after a version, as one snapshot.
--
-- KEYS     as in append.lua: log, batch IDs, IDs in order, base
-- ARGV[1]  the version the caller has
--
-- Returns {base version, base changes or "", batch, batch, ...}: the base
-- only if the caller is behind it (then every batch follows), else the
-- batches after the caller's version. Read-only.
local base = tonumber(redis.call('HGET', KEYS[4], 'v') or '0')
local v = tonumber(ARGV[1])
local out = {string.format('%d', base), ''}
local from = v - base
if v < base then
  out[2] = redis.call('HGET', KEYS[4], 'c') or ''
  from = 0
end
for _, row in ipairs(redis.call('LRANGE', KEYS[1], from, -1)) do out[#out + 1] = row end
return out
