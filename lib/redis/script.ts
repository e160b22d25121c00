/**
 * The one Lua script behind RedisLock and RedisSemaphore. Every operation is this script, so each is atomic and
 * costs one round trip. A lock is a semaphore of one permit.
 *
 * State of a key `k` (a lock of `permits` permits):
 * - `k`           the fencing counter: INCR mints each grant's token. The only key that never expires.
 * - `k:holders`   sorted set: holder id -> its deadline (server ms), and beside it `#id` -> minus its token, so that
 *                 one ZADD grants, one ZREM releases and one expiry covers both. Expired holders are purged by
 *                 every call that looks at the holders.
 * - `k:queue`     sorted set: waiter id -> arrival order (strictly increasing): FIFO across processes.
 * - `k:alive`     sorted set: waiter id -> liveness deadline (server ms); a waiter that stops refreshing it is
 *                 dropped from the queue within a ttl.
 * An id is `weight:ttl:link:n`, so the script reads each holder's and waiter's weight and ttl from the id itself.
 *
 * Invariants, restored before every reply: the sum of the holders' weights is at most `permits`; the queue is
 * non-empty only if its head does not fit (head-of-line: nobody behind it is served first, and a newcomer never
 * barges past it); every key but the counter expires at the latest deadline it holds (empty sets vanish at once).
 *
 * Each grant made while serving the queue (to a waiter other than the caller, which gets the reply) is published as
 * `serverNow id token` on the channel of the waiter's link, `coop-sync:<link>` (the link is named in the id).
 * Reply: `{status, token, serverNow, deadline}` where status is `held` (deadline: this holder's), `queued` or
 * `busy` (deadline: the earliest holder's, when the waiter should look again), `released` or `gone`. A release
 * with nobody queued, the common case, replies without serverNow (it does not read the clock); a renewal replies
 * without the token (the holder has it).
 *
 * Cost: every `redis.call` inside a script costs the server about as much as a small command of its own (measured
 * 1.5-2 us on loopback, Redis 7.0), and the server runs one script at a time, so the hot paths are written for few
 * calls: one scan of the holders purges the expired, sums the weights, and finds the caller, the earliest and the
 * latest deadline; the queue's head is read once; queueing computes the order and adds with NX (no lookup first).
 * A contended hand-off (release to a queued waiter) is 11 calls, queueing a waiter 10, a free acquire 5, a release
 * with nobody queued 2.
 *
 * KEYS: counter, holders, queue, alive. ARGV: op, id, permits.
 * Ops: `try` (grant if free and nobody queued), `acquire` (the same, else queue or refresh the queue entry),
 * `renew` (extend a holder), `release` (drop a holder or a queued waiter, then serve the queue).
 *
 * @module
 */
export const SCRIPT = `
local counter, holders, queue, alive = KEYS[1], KEYS[2], KEYS[3], KEYS[4]
local op, id, permits = ARGV[1], ARGV[2], tonumber(ARGV[3])
local call = redis.call

-- A release with nobody queued: no clock, no scan.
local status, head
if op == 'release' then
  if call('ZREM', holders, id, '#' .. id) > 0 then
    status = 'released'
  else
    if call('ZREM', queue, id) == 1 then call('ZREM', alive, id) end
    status = 'gone'
  end
  head = call('ZRANGE', queue, 0, 0)[1]
  if not head then return {status, '', '', ''} end
end

local time = call('TIME')
local now = tonumber(time[1]) * 1000 + math.floor(tonumber(time[2]) / 1000)
local weight, ttl = string.match(id, '^(%d+):(%d+):')
weight, ttl = tonumber(weight), tonumber(ttl)

if op == 'renew' then
  local deadline = call('ZSCORE', holders, id)
  if not deadline or tonumber(deadline) <= now then return {'gone', '', tostring(now), ''} end
  call('ZADD', holders, 'XX', now + ttl, id)
  call('PEXPIREAT', holders, call('ZRANGE', holders, -1, -1, 'WITHSCORES')[2])
  return {'held', '', tostring(now), tostring(now + ttl)}
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
  return {'held', token, tostring(now), tostring(deadline)}
end

-- One scan of the holders: purge the expired; the weight in use, the earliest and latest deadline, the caller's.
local used, earliest, latest, mine = 0, nil, nil, nil
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

-- Serve the queue: drop the waiters that stopped refreshing, then grant from the head while it fits.
if op ~= 'release' then head = call('ZRANGE', queue, 0, 0)[1] end
if head then
  local dead = call('ZRANGEBYSCORE', alive, '-inf', now)
  if #dead > 0 then
    for _, member in ipairs(dead) do
      call('ZREM', queue, member)
      call('ZREM', alive, member)
    end
    head = call('ZRANGE', queue, 0, 0)[1]
  end
end
local free, empty, granted, token = permits - used, head == nil, false, nil
while head do
  local w, t, link = string.match(head, '^(%d+):(%d+):([^:]+):')
  w = tonumber(w)
  if w > free then break end
  call('ZREM', queue, head)
  call('ZREM', alive, head)
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

if op == 'release' then return finish({status, '', tostring(now), ''}) end
if mine then
  token = token or string.format('%.0f', -tonumber(call('ZSCORE', holders, '#' .. id)))
  return finish({'held', token, tostring(now), tostring(mine)})
end
-- Not a holder: take it if nobody queues and it fits (the caller is not queued then, or the queue would not be empty).
if empty and weight <= free then
  local deadline = now + ttl
  token = grant(id, deadline)
  granted = true
  if not latest or deadline > latest then latest = deadline end
  return finish({'held', token, tostring(now), tostring(deadline)})
end
if op == 'try' then return finish({'busy', '', tostring(now), tostring(earliest or '')}) end
-- Queue at the back (NX: a refresh keeps its place), and refresh the liveness deadline. The head does not fit.
local order = now * 1000
local last = not empty and call('ZRANGE', queue, -1, -1, 'WITHSCORES')[2]
if last and tonumber(last) >= order then order = tonumber(last) + 1 end
call('ZADD', queue, 'NX', order, id)
call('ZADD', alive, now + ttl, id)
local expiry = call('ZRANGE', alive, -1, -1, 'WITHSCORES')[2]
call('PEXPIREAT', queue, expiry)
call('PEXPIREAT', alive, expiry)
return finish({'queued', '', tostring(now), tostring(earliest or '')})
`;
