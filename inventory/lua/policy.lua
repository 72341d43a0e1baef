-- policy.lua: sets an item's backorder and pre-order policy (see
-- backorder.lua for the fields).
--
-- KEYS[1]  stock hash
-- ARGV     backorder limit, pre-order limit, release ms, 1|0 pre-orders
--          sell incoming; all zero clears the policy
--
-- Returns 1.
--
-- Retry-safe as it is: it writes absolute values, so a resend writes the
-- same ones again and replies the same.
if ARGV[1] == '0' and ARGV[2] == '0' and ARGV[3] == '0' and ARGV[4] == '0' then
  redis.call('HDEL', KEYS[1], 'bl', 'pl', 'pr', 'pi')
else
  redis.call('HSET', KEYS[1], 'bl', ARGV[1], 'pl', ARGV[2], 'pr', ARGV[3], 'pi', ARGV[4])
end
return 1
