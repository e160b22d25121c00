import type { WaitOptions } from '../index.js';
import type { RedisClientLike } from './client.js';
import type { Lease } from './lease.js';
import { RedisPermits, type RedisLockOptions } from './permits.js';

/**
 * A lock shared by every process (on every host) that uses the same Redis and key: a lease of `ttl` ms, renewed
 * while held, with a fencing token for each grant. Use it where an `AsyncLock` would do but the contenders are
 * separate processes; inside one process, `AsyncLock` is cheaper.
 *
 * Mutual exclusion holds only while the lease's `lost` signal is not aborted, and a paused process can lose its
 * lease without noticing until it runs again: fence writes to the protected resource with `lease.token`.
 *
 * @fairness FIFO across processes: a waiter queues on the server, and a newcomer never barges past a queued
 * waiter. Release hands the lock to the head waiter in the same atomic step and notifies it (no polling).
 *
 * @example
 * ```ts
 * const lock = new RedisLock(redis, 'invoices:42', { ttl: 10_000 });
 * await lock.run(async (lease) => {
 *   await db.update(invoice, { fencingToken: lease.token, signal: lease.lost });
 * });
 * ```
 */
export class RedisLock extends RedisPermits {
  /**
   * @param client - a connected ioredis or node-redis client; the lock sends its commands on it.
   * @param key - the Redis key; the fencing counter lives at `key` and never expires, the rest of the state at
   *   `key:*`, which expires. For Redis Cluster, put a hash tag in the key (`{invoices}:42`).
   * @param options - `ttl`: the lease time in ms (integer >= 10, default 30000): a holder that stops renewing frees
   *   the lock after it. `name`: shown by `toString()` and in error messages.
   * @throws TypeError | RangeError - for a client that is neither ioredis nor node-redis, an empty key, or bad options.
   */
  constructor(client: RedisClientLike, key: string, options?: RedisLockOptions) {
    super('RedisLock', client, key, 1, options);
  }

  /**
   * Waits for the lock and resolves to the lease of this hold.
   *
   * @param options - `signal` aborts the wait, `timeout` (ms) bounds it (`0`: only if free now).
   * @returns the lease; release it to let the next waiter in.
   * @throws TimeoutError - (rejection) when `timeout` expires first.
   * @throws RedisUnavailableError - (rejection) when Redis fails or does not answer within `max(ttl, 1000)` ms.
   * @throws TypeError | RangeError - (rejection) for bad options.
   *
   * @cancellation an abort or timeout removes the caller from the server's queue before the call rejects (a
   * grant that raced with it is given back): nothing is held and the place is lost. Once the grant has reached
   * this process, a later abort or timeout does nothing.
   *
   * @fairness FIFO across processes; a free lock with nobody queued is taken in one round trip.
   *
   * @example
   * ```ts
   * const lease = await lock.acquire({ timeout: 5000 });
   * try {
   *   await write(lease.token);
   * } finally {
   *   await lease.release();
   * }
   * ```
   */
  acquire(options?: WaitOptions): Promise<Lease> {
    return this.take(1, options, 'acquire');
  }

  /**
   * Takes the lock if it is free now and nobody is queued for it, without waiting.
   *
   * @returns the lease, or `undefined` when the lock is held or others wait for it.
   * @throws RedisUnavailableError - (rejection) when Redis fails or does not answer in time.
   *
   * @cancellation not cancellable; it takes one round trip.
   *
   * @fairness never barges past a queued waiter.
   *
   * @example
   * ```ts
   * const lease = await lock.tryAcquire();
   * if (lease) await lease.release();
   * ```
   */
  tryAcquire(): Promise<Lease | undefined> {
    return this.tryTake(1, 'tryAcquire');
  }

  /**
   * Acquires, calls `fn(lease)`, and releases in `finally`; resolves to what `fn` returns.
   *
   * @param fn - the work; it should stop when `lease.lost` aborts and fence its writes with `lease.token`.
   * @param options - as for {@link RedisLock.acquire}.
   * @returns `fn`'s result.
   * @throws whatever `fn` throws, and what {@link RedisLock.acquire} rejects with.
   *
   * @cancellation as for {@link RedisLock.acquire}; once `fn` runs, the signal is no longer watched.
   *
   * @fairness as for {@link RedisLock.acquire}.
   *
   * @example
   * ```ts
   * const total = await lock.run(async (lease) => recompute({ signal: lease.lost }));
   * ```
   */
  async run<T>(fn: (lease: Lease) => T | PromiseLike<T>, options?: WaitOptions): Promise<T> {
    if (typeof fn !== 'function') throw new TypeError(`${this.label}.run: fn must be a function`);
    const lease = await this.acquire(options);
    try {
      return await fn(lease);
    } finally {
      await lease.release();
    }
  }
}
