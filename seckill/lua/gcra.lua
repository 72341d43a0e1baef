-- gcra.lua: the generic cell rate algorithm, as go-redis/redis_rate does
-- it, deciding by the server's TIME.
--
-- KEYS[1]  the key's theoretical arrival time (µs since the Unix epoch)
-- ARGV[1]  emission interval (µs per event: period / rate)
-- ARGV[2]  burst
-- ARGV[3]  n, events asked for (0 to peek)
-- ARGV[4]  "all": n events or none; "most": as many of n as fit, at least
--          one or none (redis_rate's AllowAtMost)
--
-- Returns {allowed, remaining, retry after µs (-1: never), reset after µs}
-- as strings. The key expires when the limiter is back to a full burst.
--
-- Retry-safe: runs inside internal/opscript's wrapper, which takes its
-- operation record off the end of KEYS first and answers a resent call
-- with the first call's reply, so this body runs once per call.
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
local emission = tonumber(ARGV[1])
local burst = tonumber(ARGV[2])
local n = tonumber(ARGV[3])
local tat = tonumber(redis.call('GET', KEYS[1]) or now)
if tat < now then tat = now end
if ARGV[4] == 'most' then
  local fit = math.floor((now - (tat - emission * burst)) / emission)
  if fit < n then n = math.max(fit, 1) end
end
local new_tat = tat + emission * n
local diff = now - (new_tat - emission * burst)
if diff < 0 then
  local retry = -diff
  if n > burst then retry = -1 end
  return {'0', '0', string.format('%.0f', retry), string.format('%.0f', tat - now)}
end
if n > 0 then
  redis.call('SET', KEYS[1], string.format('%.3f', new_tat), 'PX', math.ceil((new_tat - now) / 1000))
end
return {tostring(n), string.format('%d', math.floor(diff / emission)), '0', string.format('%.0f', new_tat - now)}
