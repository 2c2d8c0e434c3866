-- Swap a shop's freshly built role sets into place, atomically.
--
-- KEYS[1]: the shop's set of role names that have (or had) a queue.
-- KEYS[2]: the shop's "built" marker: written here, so that its absence means a lost index.
-- ARGV[1]: key prefix of the live role sets, ARGV[2]: key prefix of the temporary ones,
-- ARGV[3..]: the roles that have items in the new index (each has a temporary set).
--
-- Role keys are derived here rather than passed in KEYS: the old roles are only known inside
-- the script. All of them share the shop's {hash tag}, so they live in one slot even on a
-- cluster.
local roles_key, live, temp = KEYS[1], ARGV[1], ARGV[2]

local fresh = {}
for i = 3, #ARGV do
  fresh[ARGV[i]] = true
end
for _, role in ipairs(redis.call('SMEMBERS', roles_key)) do
  if not fresh[role] then
    redis.call('DEL', live .. role)
  end
end

redis.call('DEL', roles_key)
for i = 3, #ARGV do
  local role = ARGV[i]
  redis.call('RENAME', temp .. role, live .. role)
  -- The temporary set carried an expiry (in case the builder died); RENAME keeps it.
  redis.call('PERSIST', live .. role)
  redis.call('SADD', roles_key, role)
end
redis.call('SET', KEYS[2], 'built')
return #ARGV - 2
