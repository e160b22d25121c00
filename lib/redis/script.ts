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
 * An id is `weight:ttl:link:n`, so the script reads each holder's and waiter's weight and ttl from the id itself.
 *
 * Invariants, restored before every reply: the sum of the holders' weights is at most `permits`; the queue is
 * non-empty only if its head does not fit (head-of-line: nobody behind it is served first, and a newcomer never
 * barges past it); every key but the counter expires at the latest deadline it holds (empty sets vanish at once).
 *
 * Each grant made while serving the queue is published as `serverNow id token` on the channel of the waiter's link,
 * `coop-sync:<link>` (the link is named in the id).
 * Reply: `{status, token, serverNow, deadline}` where status is `held` (deadline: this holder's), `queued` or
 * `busy` (deadline: the earliest holder's, when the waiter should look again), `released` or `gone`.
 *
 * KEYS: counter, holders, queue, alive, tokens. ARGV: op, id, permits.
 * Ops: `try` (grant if free and nobody queued), `acquire` (the same, else queue or refresh the queue entry),
 * `renew` (extend a holder), `release` (drop a holder or a queued waiter).
 *
 * @module
 */
export const SCRIPT = `
local counter, holders, queue, alive, tokens = KEYS[1], KEYS[2], KEYS[3], KEYS[4], KEYS[5]
local op, id, permits = ARGV[1], ARGV[2], tonumber(ARGV[3])
local time = redis.call('TIME')
local now = tonumber(time[1]) * 1000 + math.floor(tonumber(time[2]) / 1000)

local function parse(member)
  local weight, ttl, link = string.match(member, '^(%d+):(%d+):([^:]+):')
  return tonumber(weight), tonumber(ttl), link
end

-- Each pair of keys expires with the latest deadline it holds.
local function expireHolders()
  local last = redis.call('ZRANGE', holders, -1, -1, 'WITHSCORES')[2]
  if last then
    redis.call('PEXPIREAT', holders, last)
    redis.call('PEXPIREAT', tokens, last)
  end
end
local function expireQueue()
  local last = redis.call('ZRANGE', alive, -1, -1, 'WITHSCORES')[2]
  if last then
    redis.call('PEXPIREAT', queue, last)
    redis.call('PEXPIREAT', alive, last)
  end
end

local function grant(member)
  local _, ttl = parse(member)
  local token = string.format('%.0f', redis.call('INCR', counter))
  redis.call('ZADD', holders, now + ttl, member)
  redis.call('HSET', tokens, member, token)
  return token
end

local function reply(status, token, deadline)
  return {status, token, tostring(now), tostring(deadline)}
end

-- Fast paths: a release with nobody queued, a renewal, an acquisition of a free key with nobody queued.
local removed = 0
if op == 'release' then
  removed = redis.call('ZREM', holders, id)
  if removed == 1 then
    redis.call('HDEL', tokens, id)
  else
    redis.call('ZREM', queue, id)
    redis.call('ZREM', alive, id)
  end
  if redis.call('EXISTS', queue) == 0 then
    return reply(removed == 1 and 'released' or 'gone', '', '')
  end
end
if op == 'renew' then
  local deadline = redis.call('ZSCORE', holders, id)
  if not deadline or tonumber(deadline) <= now then return reply('gone', '', '') end
  local _, ttl = parse(id)
  redis.call('ZADD', holders, 'XX', now + ttl, id)
  expireHolders()
  return reply('held', redis.call('HGET', tokens, id), now + ttl)
end
if redis.call('EXISTS', holders, queue) == 0 then
  local weight, ttl = parse(id)
  if weight <= permits then
    local token = grant(id)
    redis.call('PEXPIREAT', holders, now + ttl)
    redis.call('PEXPIREAT', tokens, now + ttl)
    return reply('held', token, now + ttl)
  end
end

-- The general path: purge the expired, serve the queue, then this call's operation.
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

local holdersChanged, queueChanged = false, false
local function serve()
  local free = permits - used()
  while true do
    local head = redis.call('ZRANGE', queue, 0, 0)[1]
    if not head then break end
    local weight = parse(head)
    if weight > free then break end
    redis.call('ZREM', queue, head)
    redis.call('ZREM', alive, head)
    local _, _, link = parse(head)
    redis.call('PUBLISH', 'coop-sync:' .. link, now .. ' ' .. head .. ' ' .. grant(head))
    holdersChanged = true
    free = free - weight
  end
end

-- Removals only shrink a set: only additions move a key's expiry.
local function finish(status, token, deadline)
  if holdersChanged then expireHolders() end
  if queueChanged then expireQueue() end
  return reply(status, token, deadline)
end

local function earliest()
  return redis.call('ZRANGE', holders, 0, 0, 'WITHSCORES')[2] or ''
end

serve()
if op == 'release' then
  return finish(removed == 1 and 'released' or 'gone', '', '')
end

local deadline = redis.call('ZSCORE', holders, id)
if deadline then return finish('held', redis.call('HGET', tokens, id), deadline) end
local weight, ttl = parse(id)
if not redis.call('ZSCORE', queue, id) then
  if redis.call('EXISTS', queue) == 0 and used() + weight <= permits then
    local token = grant(id)
    holdersChanged = true
    return finish('held', token, now + ttl)
  end
  if op == 'try' then return finish('busy', '', earliest()) end
  local order = now * 1000
  local last = redis.call('ZRANGE', queue, -1, -1, 'WITHSCORES')[2]
  if last and tonumber(last) >= order then order = tonumber(last) + 1 end
  redis.call('ZADD', queue, order, id)
end
-- Served above: the queue's head does not fit, so this waiter (at its back, or refreshing) waits.
redis.call('ZADD', alive, now + ttl, id)
queueChanged = true
return finish('queued', '', earliest())
`;
