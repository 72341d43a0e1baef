-- waybill.lua: the waybill registry's writes for one order code. Both keys
-- are under the order code's hash tag.
--
-- KEYS[1]  waybill: string, the waybill number recorded for the order
-- KEYS[2]  claim: string, the owner creating the waybill now
-- ARGV[1]  record | claim | unclaim
-- ARGV[2]  record: the waybill number; claim, unclaim: the owner
-- ARGV[3]  record: retention (ms); claim: lease (ms)
--
-- Returns {status} or {status, number}; status is
--   1  ok: recorded (record), held by the owner now (claim), let go or
--      not held (unclaim)
--   2  replay: record of the number already recorded; its retention
--      starts again
--   3  recorded: record of another number, or claim of an order that has
--      a waybill; nothing written; the recorded number
--   4  busy: claim of an order another owner holds; nothing written
--
-- Retry-safe as it is (opscript.NewIdempotent): a resent record finds its
-- own number (replay), a resent claim finds the owner's own claim and
-- renews it, a resent unclaim finds nothing of the owner's to drop.
local op, arg, ms = ARGV[1], ARGV[2], tonumber(ARGV[3])
local number = redis.call('GET', KEYS[1])
if op == 'record' then
  if number == arg then
    redis.call('PEXPIRE', KEYS[1], ms)
    redis.call('DEL', KEYS[2])
    return {2}
  elseif number then
    return {3, number}
  end
  redis.call('SET', KEYS[1], arg, 'PX', ms)
  redis.call('DEL', KEYS[2])
  return {1}
elseif op == 'claim' then
  if number then
    return {3, number}
  end
  local owner = redis.call('GET', KEYS[2])
  if owner and owner ~= arg then
    return {4}
  end
  redis.call('SET', KEYS[2], arg, 'PX', ms)
  return {1}
elseif op == 'unclaim' then
  if redis.call('GET', KEYS[2]) == arg then
    redis.call('DEL', KEYS[2])
  end
  return {1}
end
return redis.error_reply('waybill.lua: unknown op ' .. tostring(op))
