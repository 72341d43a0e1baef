-- open.lua: opens a sale once.
--
-- KEYS[1]  sale hash (as in admit.lua)
-- ARGV     units, start ms, end ms, per-user limit, pay ms, fingerprint,
--          bucket count of the sale, and when the sale's keys expire (ms:
--          end + pay + retention), which every script that creates one of
--          them gives it
--
-- Returns 1 if opened or already open with the same definition, 0 if the
-- ID is taken by another definition.
--
-- Retry-safe: runs inside internal/opscript's wrapper, which takes its
-- operation record off the end of KEYS first and answers a resent call
-- with the first call's reply, so this body runs once per call.
local f = redis.call('HGET', KEYS[1], 'f')
if f then
  if f == ARGV[6] then return 1 end
  return 0
end
redis.call('HSET', KEYS[1], 'u', ARGV[1], 'r', ARGV[1], 'h', 0, 'p', 0, 's', 0,
  'start', ARGV[2], 'end', ARGV[3], 'lim', ARGV[4], 'pay', ARGV[5], 'f', ARGV[6], 'n', ARGV[7], 'x', ARGV[8])
redis.call('PEXPIREAT', KEYS[1], ARGV[8])
return 1
