-- records.lua: forgetting finished reservation records, shared by
-- reserve.lua and transitions.lua (its text is put before theirs).
--
-- The finished-records sorted set is scored by when to forget; a member
-- is one reservation ID or several, space-separated. Records a batch
-- finishes share a forget time, so they share one member: one ZADD and
-- one ZREM a batch rather than one an ID, and a set a batch's size
-- smaller.

-- forgetDue forgets the records of due members, whole members at a time,
-- until at least want IDs are gone or nothing more is due. Called with
-- twice the batch's size (and at least 16), it forgets faster than
-- batches finish records, so the records hash stays bounded under any
-- load.
local function forgetDue(recs, fin, now, want)
  local gone = 0
  while gone < want do
    local due = redis.call('ZRANGEBYSCORE', fin, '-inf', now, 'LIMIT', 0, math.min(want - gone, 8))
    if #due == 0 then return end
    for _, member in ipairs(due) do
      local ids = {}
      for id in string.gmatch(member, '%S+') do ids[#ids + 1] = id end
      for i = 1, #ids, 1000 do -- unpack has a stack limit
        redis.call('HDEL', recs, unpack(ids, i, math.min(i + 999, #ids)))
      end
      redis.call('ZREM', fin, member)
      gone = gone + #ids
      if gone >= want then return end
    end
  end
end

