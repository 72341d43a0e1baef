-- balances.lua: settles and reads account balances. Pending postings whose
-- availability has come, by the server's clock, move to available exactly
-- once.
--
-- KEYS      per account, two keys: balance hash (a = available, p = pending)
--           and pending sorted set (member "<tx ID> <amount>", score
--           available ms), as in post.lua
-- Returns   per account: available, pending (as strings)
--
-- Retry-safe as it is: a resend settles nothing twice (each posting moves
-- once, by its sorted-set entry) and reads the balances as they are then.
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local function negate(s)
  if string.sub(s, 1, 1) == '-' then return string.sub(s, 2) end
  return '-' .. s
end
local out = {}
for i = 1, #KEYS, 2 do
  local due = redis.call('ZRANGEBYSCORE', KEYS[i + 1], '-inf', now)
  for _, m in ipairs(due) do
    local amount = string.match(m, ' (%-?%d+)$')
    redis.call('HINCRBY', KEYS[i], 'p', negate(amount))
    redis.call('HINCRBY', KEYS[i], 'a', amount)
  end
  if #due > 0 then
    redis.call('ZREMRANGEBYSCORE', KEYS[i + 1], '-inf', now)
  end
  local v = redis.call('HMGET', KEYS[i], 'a', 'p')
  out[#out + 1] = v[1] or '0'
  out[#out + 1] = v[2] or '0'
end
return out
