-- backorder.lua: an item's backorder queue, shared by every script that
-- moves stock (its text is put before theirs).
--
-- An item's stock hash keeps w = units backordered (sold beyond on hand
-- and waiting for stock), n = the sequence number of its latest
-- backorder, and its policy: bl = backorder limit, pl = pre-order limit,
-- pr = release date (ms; the pre-order limit holds before it), pi = 1
-- when pre-orders may also sell the item's incoming units (i). Beside it
-- are its queue, "<stock key>:q", a sorted set of the IDs of reservations
-- that wait, scored by sequence (the order they were sold in), and
-- "<stock key>:w", a hash of reservation ID -> units it waits for. Only
-- reservations that wait are kept, so both are empty (and gone) when w
-- is 0, and only the head can be filled in part. The invariant the
-- scripts keep: no unit on hand is free while one waits, so free units
-- (h - r - c + w) go to the head of the queue at once.

-- boWaiting returns the units reservation id waits for at stock key sk.
local function boWaiting(sk, id)
  return tonumber(redis.call('HGET', sk .. ':w', id) or '0')
end

-- boAdd queues n units of reservation id behind every earlier backorder.
-- The caller adds n to w.
local function boAdd(sk, id, n)
  local seq = redis.call('HINCRBY', sk, 'n', 1)
  redis.call('ZADD', sk .. ':q', seq, id)
  redis.call('HSET', sk .. ':w', id, string.format('%d', n))
end

-- boTake takes up to n of reservation id's waiting units out of the
-- queue (all of them when n < 0), as when they are released or returned,
-- and returns how many it took. The caller takes them off w.
local function boTake(sk, id, n)
  local have = boWaiting(sk, id)
  if have == 0 then return 0 end
  if n < 0 or n >= have then
    redis.call('ZREM', sk .. ':q', id)
    redis.call('HDEL', sk .. ':w', id)
    return have
  end
  redis.call('HSET', sk .. ':w', id, string.format('%d', have - n))
  return n
end

-- boFill gives free units to the oldest backorders and returns the units
-- still waiting, for the caller to store as w.
local function boFill(sk, free, w)
  while free > 0 and w > 0 do
    local head = redis.call('ZRANGE', sk .. ':q', 0, 15)
    if #head == 0 then break end
    local ws = redis.call('HMGET', sk .. ':w', unpack(head))
    for i, id in ipairs(head) do
      local x = tonumber(ws[i]) or 0
      local a = math.min(free, x)
      free, w = free - a, w - a
      if a == x then
        redis.call('ZREM', sk .. ':q', id)
        redis.call('HDEL', sk .. ':w', id)
      else
        redis.call('HSET', sk .. ':w', id, string.format('%d', x - a))
      end
      if free == 0 then break end
    end
  end
  return w
end

-- boAllowance returns how many units may wait for stock at sk at now (ms).
local function boAllowance(sk, now)
  local p = redis.call('HMGET', sk, 'bl', 'pl', 'pr', 'pi', 'i')
  local a = tonumber(p[1]) or 0
  if p[3] and now < tonumber(p[3]) then
    a = a + (tonumber(p[2]) or 0)
    if p[4] == '1' then a = a + (tonumber(p[5]) or 0) end
  end
  return a
end

