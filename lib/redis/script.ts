/**
 * The one Lua script behind RedisLock and RedisSemaphore. Every operation is this script, so each is atomic and
 * costs one round trip. A lock is a semaphore of one permit.
 *
 * State of a key `k` (a lock of `permits` permits):
 * - `k`           the fencing counter: INCR mints each grant's token. The only key that never expires.
 * - `k:holders`   sorted set: holder id -> its deadline (server ms). Expired holders are purged by every call.
 * - `k:queue`     sorted set: waiter id -> arrival order (strictly increasing): FIFO across processes.
 * - `k:alive`     sorted set: waiter id -> liveness deadline (server ms); a waiter that stops refreshing it is
 *                 dropped from the queue within a ttl.
 * - `k:tokens`    hash: holder id -> token.
 * An id is `weight:ttl:random`, so the script reads each holder's and waiter's weight and ttl from the id itself.
 *
 * Invariants, restored before every reply: the sum of the holders' weights is at most `permits`; the queue is
 * non-empty only if its head does not fit (head-of-line: nobody behind it is served first, and a newcomer never
 * barges past it); every key but the counter expires at the latest deadline it holds (empty sets vanish at once).
 *
 * Each grant made while serving the queue is published on the channel as `serverNow id token id token ...`.
 * Reply: `{status, token, serverNow, deadline}` where status is `held` (deadline: this holder's), `queued` or
 * `busy` (deadline: the earliest holder's, when the waiter should look again), `released` or `gone`.
 *
 * KEYS: counter, holders, queue, alive, tokens. ARGV: op, id, permits, channel.
 * Ops: `try` (grant if free and nobody queued), `acquire` (the same, else queue or refresh the queue entry),
 * `renew` (extend a holder), `release` (drop a holder or a queued waiter).
 *
 * @module
 */
export const SCRIPT = `
local counter, holders, queue, alive, tokens = KEYS[1], KEYS[2], KEYS[3], KEYS[4], KEYS[5]
local op, id, permits, channel = ARGV[1], ARGV[2], tonumber(ARGV[3]), ARGV[4]
local time = redis.call('TIME')
local now = tonumber(time[1]) * 1000 + math.floor(tonumber(time[2]) / 1000)

local function parse(member)
  local weight, ttl = string.match(member, '^(%d+):(%d+):')
  return tonumber(weight), tonumber(ttl)
end

for _, member in ipairs(redis.call('ZRANGEBYSCORE', holders, '-inf', now)) do
  redis.call('ZREM', holders, member)
  redis.call('HDEL', tokens, member)
end
for _, member in ipairs(redis.call('ZRANGEBYSCORE', alive, '-inf', now)) do
  redis.call('ZREM', alive, member)
  redis.call('ZREM', queue, member)
end

local function used()
  local total = 0
  for _, member in ipairs(redis.call('ZRANGE', holders, 0, -1)) do
    local weight = parse(member)
    total = total + weight
  end
  return total
end

local function grant(member)
  local _, ttl = parse(member)
  redis.call('INCR', counter)
  local token = redis.call('GET', counter)
  redis.call('ZADD', holders, now + ttl, member)
  redis.call('HSET', tokens, member, token)
  return token
end

local granted = {}
local function serve()
  local free = permits - used()
  while true do
    local head = redis.call('ZRANGE', queue, 0, 0)[1]
    if not head then break end
    local weight = parse(head)
    if weight > free then break end
    redis.call('ZREM', queue, head)
    redis.call('ZREM', alive, head)
    granted[#granted + 1] = head
    granted[#granted + 1] = grant(head)
    free = free - weight
  end
end

local function earliest()
  local first = redis.call('ZRANGE', holders, 0, 0, 'WITHSCORES')[2]
  return first or ''
end

local function finish(status, token, deadline)
  if #granted > 0 then
    redis.call('PUBLISH', channel, now .. ' ' .. table.concat(granted, ' '))
  end
  local last = 0
  local holder = redis.call('ZRANGE', holders, -1, -1, 'WITHSCORES')[2]
  if holder then last = tonumber(holder) end
  local waiter = redis.call('ZRANGE', alive, -1, -1, 'WITHSCORES')[2]
  if waiter and tonumber(waiter) > last then last = tonumber(waiter) end
  if last > 0 then
    for _, key in ipairs({holders, queue, alive, tokens}) do redis.call('PEXPIREAT', key, last) end
  end
  return {status, token, tostring(now), tostring(deadline)}
end

local function held()
  local deadline = redis.call('ZSCORE', holders, id)
  if deadline then return finish('held', redis.call('HGET', tokens, id), deadline) end
end

serve()
if op == 'release' then
  local was = redis.call('ZREM', holders, id)
  redis.call('HDEL', tokens, id)
  redis.call('ZREM', queue, id)
  redis.call('ZREM', alive, id)
  serve()
  if was == 1 then return finish('released', '', '') end
  return finish('gone', '', '')
end
if op == 'renew' then
  if not redis.call('ZSCORE', holders, id) then return finish('gone', '', '') end
  local _, ttl = parse(id)
  redis.call('ZADD', holders, 'XX', now + ttl, id)
  return held()
end

local mine = held()
if mine then return mine end
if not redis.call('ZSCORE', queue, id) then
  local weight, ttl = parse(id)
  if redis.call('EXISTS', queue) == 0 and used() + weight <= permits then
    grant(id)
    return held()
  end
  if op == 'try' then return finish('busy', '', earliest()) end
  local order = now * 1000
  local last = redis.call('ZRANGE', queue, -1, -1, 'WITHSCORES')[2]
  if last and tonumber(last) >= order then order = tonumber(last) + 1 end
  redis.call('ZADD', queue, order, id)
end
local _, ttl = parse(id)
redis.call('ZADD', alive, now + ttl, id)
serve()
mine = held()
if mine then return mine end
return finish('queued', '', earliest())
`;
