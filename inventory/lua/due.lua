-- due.lua: one page of the expiry index. Finds the reservations that are
-- held and past their deadline, for the caller to expire, and drops every
-- entry that leaves nothing to do.
--
-- KEYS[1]  expiry index (see reserve.lua): members are space-separated IDs
-- KEYS[2]  records hash, ID -> "<state>|<deadline ms>|<encoded lines>"
-- ARGV[1]  the most entries to read
-- ARGV[2]  the most IDs to look up (the page ends after the entry that
--          reaches it), so that one call stays short however large the
--          batches behind the entries were
--
-- Returns {more, id1, lines1, id2, lines2, ...}: more is 1 if due entries
-- may remain beyond this page, then each held, due reservation once with
-- its encoded lines.
--
-- An entry is dropped when none of its IDs is held and due: the others are
-- finished, forgotten, or held with a later deadline — and a held
-- reservation always has an entry scored by its current deadline (reserve
-- and extend write one), so dropping this one loses nothing. The decision
-- is made here, atomically with the records, so no sweep racing a reserve
-- or an extend can drop a live hold's only entry. An entry with a due hold
-- stays until the hold has expired, so a failed expiry is found again.
--
-- Retry-safe: runs inside internal/opscript's wrapper, which takes its
-- operation record off the end of KEYS first and answers a resent call
-- with the first call's reply, so this body runs once per call.
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local maxEntries, maxIDs = tonumber(ARGV[1]), tonumber(ARGV[2])
local entries = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', now, 'LIMIT', 0, maxEntries)
local out, seen, looked, read = {0}, {}, 0, 0
for _, e in ipairs(entries) do
  if looked >= maxIDs then break end
  read = read + 1
  local work = false
  for id in string.gmatch(e, '%S+') do
    looked = looked + 1
    local rec = redis.call('HGET', KEYS[2], id)
    if rec then
      local s, d, l = string.match(rec, '^(%d)|(%d+)|(.*)$')
      if s == '1' and tonumber(d) <= now then
        work = true
        if not seen[id] then
          seen[id] = true
          out[#out + 1] = id
          out[#out + 1] = l
        end
      end
    end
  end
  if not work then redis.call('ZREM', KEYS[1], e) end
end
if read < #entries or #entries == maxEntries then out[1] = 1 end
return out
