/**
 * The one Lua script behind RedisLock and RedisSemaphore. Every operation is this script, so each is atomic and
 * costs one round trip. A lock is a semaphore of one permit.
 *
 * State of a key `k` (a lock of `permits` permits):
 * - `k`           the fencing counter: INCR mints each grant's token. The only key that never expires.
 * - `k:holders`   sorted set: holder id -> its deadline (server ms), and beside it `#id` -> minus its token, so that
 *                 one ZADD grants, one ZREM releases and one expiry covers both. Expired holders are purged by
 *                 every call that looks at the holders.
 * - `k:queue`     sorted set: waiter id -> arrival order (below 0: server time in us minus 2^53, strictly increasing),
 *                 the FIFO across processes; and beside it `@id` -> the waiter's liveness deadline (server ms, above
 *                 0). One ZADD queues, one ZREM dequeues; a waiter that stops refreshing its deadline is dropped
 *                 within a ttl (by the next refresh of a live waiter, or when permits are free to serve the queue).
 * An id is `weight:ttl:link:n`, so the script reads each holder's and waiter's weight and ttl from the id itself.
 *
 * Invariants, restored before every reply: the sum of the holders' weights is at most `permits`; the queue is
 * non-empty only if its head does not fit (head-of-line: nobody behind it is served first, and a newcomer never
 * barges past it); every key but the counter expires at the latest deadline it holds (empty sets vanish at once).
 *
 * Each grant made while serving the queue (to a waiter other than the caller, which gets the reply) is published as
 * `serverNow id token` on the channel of the waiter's link, `coop-sync:<link>` (the link is named in the id): the
 * message is the whole grant, so the woken waiter holds at once, with no command of its own.
 * Reply: one string, `status token serverNow deadline` (one space between fields, an empty field empty: one bulk
 * string costs the server and the client's parser less than an array of four), where status is `held` (deadline:
 * this holder's), `queued` or `busy` (deadline: the earliest holder's, when the waiter should look again),
 * `released` or `gone`. A release with nobody queued, the common case, replies without serverNow (it does not read
 * the clock); a renewal replies without the token (the holder has it).
 *
 * Cost: every `redis.call` inside a script costs the server about as much as a small command of its own (measured
 * 0.5-3 us on loopback, Redis 7.0, besides about 9 us for the EVALSHA itself), and the server runs one script at a
 * time, so the hot paths are written for few calls: one scan of the holders purges the expired, sums the weights,
 * and finds the caller, the earliest and the latest deadline (a lock's release skips it: nobody else can hold);
 * the queue is not read when nothing is free; queueing computes the order and adds both members with NX (no lookup
 * first), and on Redis 7.0+ an expiry is only ever extended with PEXPIREAT GT (no read of the latest deadline
 * first). A lock's contended hand-off (release to a queued waiter) is 9 calls, queueing behind a held lock 5, a
 * renewal 3, a free acquire 5, a release with nobody queued 2 (Redis 6: queueing 6, a renewal 4).
 *
 * KEYS: counter, holders, queue. ARGV: op, id, permits.
 * Ops: `try` (grant if free and nobody queued), `acquire` (the same, else queue or refresh the queue entry),
 * `renew` (extend a holder), `release` (drop a holder or a queued waiter, then serve the queue).
 *
 * @module
 */
export const SCRIPT = `
local counter, holders, queue = KEYS[1], KEYS[2], KEYS[3]
local op, id, permits = ARGV[1], ARGV[2], tonumber(ARGV[3])
local call = redis.call
-- Arrival orders sit below 0 (server us minus 2^53, exact in a double), liveness deadlines above.
local BASE = 9007199254740992
-- Redis 7.0+ (the only versions that name themselves to scripts) take GT on PEXPIREAT: extend, never shorten.
local GT = redis.REDIS_VERSION_NUM ~= nil

-- A release with nobody queued: no clock, no scan.
local status, head
if op == 'release' then
  if call('ZREM', holders, id, '#' .. id) > 0 then
    status = 'released'
  else
    call('ZREM', queue, id, '@' .. id)
    status = 'gone'
  end
  head = call('ZRANGE', queue, 0, 0)[1]
  if not head then return status .. '   ' end
end

local time = call('TIME')
local now = tonumber(time[1]) * 1000 + math.floor(tonumber(time[2]) / 1000)
local weight, ttl = string.match(id, '^(%d+):(%d+):')
weight, ttl = tonumber(weight), tonumber(ttl)

if op == 'renew' then
  local deadline = call('ZSCORE', holders, id)
  if not deadline or tonumber(deadline) <= now then return 'gone  ' .. now .. ' ' end
  call('ZADD', holders, 'XX', now + ttl, id)
  -- The key exists (the caller holds it), so it has an expiry: GT only ever extends it.
  if GT then call('PEXPIREAT', holders, now + ttl, 'GT')
  else call('PEXPIREAT', holders, call('ZRANGE', holders, -1, -1, 'WITHSCORES')[2]) end
  return 'held  ' .. now .. ' ' .. (now + ttl)
end

local function grant(member, deadline)
  local token = call('INCR', counter)
  call('ZADD', holders, deadline, member, -token, '#' .. member)
  return string.format('%.0f', token)
end

-- An uncontended try: a free key with nobody queued.
if op == 'try' and call('EXISTS', holders, queue) == 0 and weight <= permits then
  local deadline = now + ttl
  local token = grant(id, deadline)
  call('PEXPIREAT', holders, deadline)
  return 'held ' .. token .. ' ' .. now .. ' ' .. deadline
end

-- The dead waiters (liveness deadline passed) leave the queue.
local function purge()
  local dead = call('ZRANGEBYSCORE', queue, 0, now)
  for _, member in ipairs(dead) do call('ZREM', queue, string.sub(member, 2), member) end
  return #dead > 0
end

-- One scan of the holders: purge the expired; the weight in use, the earliest and latest deadline, the caller's.
-- A lock's holder that has just released leaves nobody else but the expired: no scan then.
local used, earliest, latest, mine = 0, nil, nil, nil
if not (status == 'released' and permits == 1) then
  local list = call('ZRANGEBYSCORE', holders, 0, '+inf', 'WITHSCORES')
  for i = 1, #list, 2 do
    local member, deadline = list[i], tonumber(list[i + 1])
    if deadline <= now then
      call('ZREM', holders, member, '#' .. member)
    else
      used = used + tonumber(string.match(member, '^%d+'))
      earliest = earliest or deadline
      latest = deadline
      if member == id then mine = deadline end
    end
  end
end

-- Serve the queue, when something is free: drop the dead waiters, then grant from the head while it fits.
-- (Nothing free: nobody can be served and the caller cannot take it, so the queue is not read.)
local free, empty, granted, token = permits - used, nil, false, nil
if free > 0 then
  if op ~= 'release' then head = call('ZRANGE', queue, 0, 0)[1] end
  if head and purge() then head = call('ZRANGE', queue, 0, 0)[1] end
  empty = head == nil
end
while head and free > 0 do
  local w, t, link = string.match(head, '^(%d+):(%d+):([^:]+):')
  w = tonumber(w)
  if w > free then break end
  call('ZREM', queue, head, '@' .. head)
  local deadline = now + tonumber(t)
  local minted = grant(head, deadline)
  if head == id then
    mine, token = deadline, minted
  else
    call('PUBLISH', 'coop-sync:' .. link, now .. ' ' .. head .. ' ' .. minted)
  end
  granted, free = true, free - w
  if not latest or deadline > latest then latest = deadline end
  if not earliest or deadline < earliest then earliest = deadline end
  head = nil
  if free > 0 then
    head = call('ZRANGE', queue, 0, 0)[1]
    empty = head == nil
  end
end

local function finish(reply)
  if granted then call('PEXPIREAT', holders, latest) end
  return reply
end

if op == 'release' then return finish(status .. '  ' .. now .. ' ') end
if mine then
  token = token or string.format('%.0f', -tonumber(call('ZSCORE', holders, '#' .. id)))
  return finish('held ' .. token .. ' ' .. now .. ' ' .. mine)
end
-- Not a holder: take it if nobody queues and it fits (the caller is not queued then, or the queue would not be empty).
if empty and weight <= free then
  local deadline = now + ttl
  token = grant(id, deadline)
  granted = true
  if not latest or deadline > latest then latest = deadline end
  return finish('held ' .. token .. ' ' .. now .. ' ' .. deadline)
end
if op == 'try' then return finish('busy  ' .. now .. ' ' .. (earliest or '')) end
-- Queue at the back (NX: a refresh keeps its place) with a liveness deadline. The head does not fit.
local alive, order, last = now + ttl, now * 1000 - BASE, nil
if not empty then
  last = call('ZREVRANGEBYSCORE', queue, '(0', '-inf', 'WITHSCORES', 'LIMIT', 0, 1)[2]
  if last and tonumber(last) >= order then order = tonumber(last) + 1 end
end
if call('ZADD', queue, 'NX', order, id, alive, '@' .. id) < 2 then
  -- A refresh (every ttl/3): the caller's liveness moves on, and the waiters that stopped refreshing leave (when
  -- something is free, they left above).
  call('ZADD', queue, alive, '@' .. id)
  if free <= 0 then purge() end
end
-- The queue expires with its latest liveness deadline. A queue that existed (last) has an expiry already, which GT
-- extends to this one's if later; a new queue gets this one's.
if not last then call('PEXPIREAT', queue, alive)
elseif GT then call('PEXPIREAT', queue, alive, 'GT')
else call('PEXPIREAT', queue, math.max(alive, tonumber(call('ZRANGE', queue, -1, -1, 'WITHSCORES')[2]))) end
return finish('queued  ' .. now .. ' ' .. (earliest or ''))
`;
