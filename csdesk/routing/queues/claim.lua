-- Pop the best item across several role queues of one shop, atomically.
--
-- KEYS: the role sorted sets (same shop, same hash slot).
-- ARGV: excluded members (zero-padded ids).
-- Returns {index into KEYS (1-based), member, score as Redis wrote it} or nil when empty.
--
-- Scores are NEGATED sort keys and members are zero-padded ids, so ZRANGE order is the queue
-- order: lowest score (= highest key) first, then lowest member (= lowest id = oldest).
-- Redis runs the script alone, so two claimers can never pop the same member.
local excluded = {}
for i = 1, #ARGV do
  excluded[ARGV[i]] = true
end

local best_index, best_member, best_score, best_raw
for i = 1, #KEYS do
  -- The first #ARGV + 1 entries hold at least one that is not excluded, if the set has one.
  local head = redis.call('ZRANGE', KEYS[i], 0, #ARGV, 'WITHSCORES')
  for j = 1, #head, 2 do
    local member = head[j]
    if not excluded[member] then
      local raw = head[j + 1]
      local score = tonumber(raw)
      -- Strictly better only: on a full tie the role named first wins.
      if best_index == nil or score < best_score
          or (score == best_score and member < best_member) then
        best_index, best_member, best_score, best_raw = i, member, score, raw
      end
      break
    end
  end
end

if best_index == nil then
  return nil
end
redis.call('ZREM', KEYS[best_index], best_member)
-- The score goes back as the string Redis produced: a Lua number would be cut to an integer.
return {best_index, best_member, best_raw}
