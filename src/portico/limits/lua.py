"""The Redis Lua scripts: one EVALSHA admits (checks + reserves in every scope), one settles.

Per scope, 5 keys: requests hash (second -> count), tokens hash (second -> tokens),
concurrency zset (ticket -> lease expiry), spent string (nano-USD of the period), and
reservations zset (ticket|nano -> lease expiry). Times come from the Redis server
(``TIME``) unless the caller passes one (tests), so replicas never disagree on the window.
"""

ADMIT = r"""
local now = tonumber(ARGV[1])
if now < 0 then
  local t = redis.call('TIME')
  now = tonumber(t[1]) + tonumber(t[2]) / 1000000
end
local sec = math.floor(now)
local ticket = ARGV[2]
local tokens = tonumber(ARGV[3])
local cost = tonumber(ARGV[4])
local window = tonumber(ARGV[5])
local lease = tonumber(ARGV[6])
local nscopes = #KEYS / 5

local function wsum(key)
  local all = redis.call('HGETALL', key)
  local total, oldest, newest = 0, nil, nil
  local stale = {}
  for i = 1, #all, 2 do
    local s = tonumber(all[i])
    if s <= sec - window then
      stale[#stale + 1] = all[i]
    else
      total = total + tonumber(all[i + 1])
      if oldest == nil or s < oldest then oldest = s end
      if newest == nil or s > newest then newest = s end
    end
  end
  if #stale > 0 then redis.call('HDEL', key, unpack(stale)) end
  return total, all, newest
end

-- seconds until `need` units have left the window, oldest first (milliseconds, integer)
local function wait_ms(all, need)
  local secs = {}
  local by = {}
  for i = 1, #all, 2 do
    local s = tonumber(all[i])
    if s > sec - window then secs[#secs + 1] = s; by[s] = tonumber(all[i + 1]) end
  end
  table.sort(secs)
  local freed = 0
  for _, s in ipairs(secs) do
    freed = freed + by[s]
    if freed >= need then return math.max(1, math.floor((s + window - now) * 1000)) end
  end
  return window * 1000
end

local function reset_ms(newest)
  if newest == nil then newest = sec end
  return math.max(0, math.floor((math.max(newest, sec) + window - now) * 1000))
end

local quota = {-1, -1, 0, -1, -1, 0}
local seeds = {}
for i = 0, nscopes - 1 do
  local a = 6 + i * 4
  local rpm, tpm = tonumber(ARGV[a + 1]), tonumber(ARGV[a + 2])
  local conc, budget = tonumber(ARGV[a + 3]), tonumber(ARGV[a + 4])
  local k = i * 5
  if rpm >= 0 then
    local used, all, newest = wsum(KEYS[k + 1])
    if used + 1 > rpm then
      return {'rpm', i, wait_ms(all, used + 1 - rpm), rpm, 0, reset_ms(newest), -1, -1, 0}
    end
    if quota[2] < 0 or rpm - used - 1 < quota[2] then
      quota[1], quota[2], quota[3] = rpm, rpm - used - 1, reset_ms(newest)
    end
  end
  if tpm >= 0 then
    local used, all, newest = wsum(KEYS[k + 2])
    if tokens > tpm then
      return {'too_large', i, -1, -1, -1, 0, tpm, tpm - used, reset_ms(newest)}
    end
    if used + tokens > tpm then
      return {'tpm', i, wait_ms(all, used + tokens - tpm), -1, -1, 0, tpm, tpm - used, reset_ms(newest)}
    end
    if quota[5] < 0 or tpm - used - tokens < quota[5] then
      quota[4], quota[5], quota[6] = tpm, tpm - used - tokens, reset_ms(newest)
    end
  end
  if conc >= 0 then
    redis.call('ZREMRANGEBYSCORE', KEYS[k + 3], '-inf', now)
    if redis.call('ZCARD', KEYS[k + 3]) >= conc then
      return {'concurrency', i, 1000, quota[1], quota[2], quota[3], quota[4], quota[5], quota[6]}
    end
  end
  if budget >= 0 then
    local spent = redis.call('GET', KEYS[k + 4])
    if spent == false then
      seeds[#seeds + 1] = i
    else
      redis.call('ZREMRANGEBYSCORE', KEYS[k + 5], '-inf', now)
      local reserved = 0
      for _, m in ipairs(redis.call('ZRANGE', KEYS[k + 5], 0, -1)) do
        reserved = reserved + tonumber(string.match(m, '|(%d+)$'))
      end
      if tonumber(spent) + reserved + cost > budget then
        return {'budget', i, -1, quota[1], quota[2], quota[3], quota[4], quota[5], quota[6]}
      end
    end
  end
end
if #seeds > 0 then
  return {'seed', unpack(seeds)}
end
for i = 0, nscopes - 1 do
  local a = 6 + i * 4
  local rpm, tpm = tonumber(ARGV[a + 1]), tonumber(ARGV[a + 2])
  local conc, budget = tonumber(ARGV[a + 3]), tonumber(ARGV[a + 4])
  local k = i * 5
  if rpm >= 0 then
    redis.call('HINCRBY', KEYS[k + 1], sec, 1)
    redis.call('EXPIRE', KEYS[k + 1], window * 2)
  end
  if tpm >= 0 then
    redis.call('HINCRBY', KEYS[k + 2], sec, tokens)
    redis.call('EXPIRE', KEYS[k + 2], window * 2)
  end
  if conc >= 0 then
    redis.call('ZADD', KEYS[k + 3], now + lease, ticket)
    redis.call('EXPIRE', KEYS[k + 3], lease * 2)
  end
  if budget >= 0 then
    redis.call('ZADD', KEYS[k + 5], now + lease, ticket .. '|' .. ARGV[4])
    redis.call('EXPIRE', KEYS[k + 5], lease * 2)
  end
end
return {'ok', sec, quota[1], quota[2], quota[3], quota[4], quota[5], quota[6]}
"""

SETTLE = r"""
local ticket = ARGV[1]
local sec = ARGV[2]
local delta_tokens = tonumber(ARGV[3])
local reserved = ARGV[4]
local cost = tonumber(ARGV[5])
local nscopes = #KEYS / 5
for i = 0, nscopes - 1 do
  local k = i * 5
  local flags = ARGV[6 + i]
  if string.sub(flags, 2, 2) == '1' and redis.call('HEXISTS', KEYS[k + 2], sec) == 1 then
    redis.call('HINCRBY', KEYS[k + 2], sec, delta_tokens)
  end
  if string.sub(flags, 3, 3) == '1' then
    redis.call('ZREM', KEYS[k + 3], ticket)
  end
  if string.sub(flags, 4, 4) == '1' then
    redis.call('ZREM', KEYS[k + 5], ticket .. '|' .. reserved)
    if cost > 0 and redis.call('EXISTS', KEYS[k + 4]) == 1 then
      redis.call('INCRBY', KEYS[k + 4], ARGV[5])
    end
  end
end
return 1
"""
