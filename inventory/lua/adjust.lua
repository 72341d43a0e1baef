-- adjust.lua: changes or sets on hand for one item, idempotently.
--
-- KEYS[1]  stock hash (h = on hand, r = reserved, c = committed, unshipped,
--          w = backordered; see backorder.lua)
-- KEYS[2]  adjustment record (hash f = fingerprint, h, r, c, w = level
--          after it)
-- ARGV[1]  mode: d (add ARGV[2] to on hand) | s (set on hand to ARGV[2])
-- ARGV[2]  value
-- ARGV[3]  fingerprint of the request, to tell a replay from a conflict
-- ARGV[4]  retention (ms) of the adjustment record
-- ARGV[5]  largest allowed on hand
--
-- Returns:
--   {1, on hand, reserved, on hand before, committed, backordered}  applied
--   {2, on hand, reserved, committed, backordered}  replay: the level the
--                                           first call left (a record
--                                           written before w existed
--                                           has no backordered)
--   {3}                                     ID used for a different request
--   {4, proposed on hand, reserved, committed, backordered}  refused:
--                                           below reserved + committed -
--                                           backordered
--
-- Units a receipt brings go to the oldest backorders first.
--   {5}                                     refused: above the largest allowed
--
-- Retry-safe: runs inside internal/opscript's wrapper, which takes its
-- operation record off the end of KEYS first and answers a resent call
-- with the first call's reply, so this body runs once per call.
local prev = redis.call('HMGET', KEYS[2], 'f', 'h', 'r', 'c', 'w')
if prev[1] then
  if prev[1] ~= ARGV[3] then return {3} end
  return {2, tonumber(prev[2]), tonumber(prev[3]), tonumber(prev[4]) or 0, tonumber(prev[5]) or 0}
end
local v = redis.call('HMGET', KEYS[1], 'h', 'r', 'c', 'w')
local h, r, c, w = tonumber(v[1]) or 0, tonumber(v[2]) or 0, tonumber(v[3]) or 0, tonumber(v[4]) or 0
local nh = tonumber(ARGV[2])
if ARGV[1] == 'd' then nh = h + nh end
if nh > tonumber(ARGV[5]) then return {5} end
if nh < r + c - w then return {4, nh, r, c, w} end
local hs = string.format('%d', nh)
if w > 0 then
  w = boFill(KEYS[1], nh - r - c + w, w)
  redis.call('HSET', KEYS[1], 'h', hs, 'r', string.format('%d', r), 'w', string.format('%d', w))
else
  redis.call('HSET', KEYS[1], 'h', hs, 'r', string.format('%d', r))
end
redis.call('HSET', KEYS[2], 'f', ARGV[3], 'h', hs, 'r', string.format('%d', r), 'c', string.format('%d', c), 'w', string.format('%d', w))
redis.call('PEXPIRE', KEYS[2], ARGV[4])
return {1, nh, r, h, c, w}
