-- fenced_write.lua: writes a value only for a fencing token at least as
-- large as any seen for the resource, so a holder whose lease passed to
-- someone else cannot overwrite the newer holder's work.
--
-- KEYS[1]  the resource's value
-- KEYS[2]  the largest token seen for the resource
-- ARGV[1]  token
-- ARGV[2]  value
--
-- Returns 1 if written, 0 if refused (a larger token was seen).
--
-- Retry-safe: runs inside internal/opscript's wrapper, which takes its
-- operation record off the end of KEYS first and answers a resent call
-- with the first call's reply, so this body runs once per call.
local seen = tonumber(redis.call('GET', KEYS[2]) or '0')
local token = tonumber(ARGV[1])
if token < seen then return 0 end
redis.call('SET', KEYS[2], ARGV[1])
redis.call('SET', KEYS[1], ARGV[2])
return 1
