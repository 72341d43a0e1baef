-- release.lua: frees a lock if the caller still holds it.
--
-- KEYS[1]  the lock: string "<owner>|<fence>" with a TTL
-- ARGV[1]  owner token followed by "|"
--
-- Returns 1 if released, -1 if the caller does not hold the lock.
--
-- Retry-safe: runs inside internal/opscript's wrapper, which takes its
-- operation record off the end of KEYS first and answers a resent call
-- with the first call's reply, so this body runs once per call. (Run
-- twice without it, a release would answer "not held" to the very caller
-- whose lock it just freed.)
local cur = redis.call('GET', KEYS[1])
local prefix = ARGV[1]
if not cur or string.sub(cur, 1, #prefix) ~= prefix then return -1 end
redis.call('DEL', KEYS[1])
return 1
