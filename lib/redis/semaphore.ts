import type { WaitOptions } from '../index.js';
import type { RedisClientLike } from './client.js';
import type { Lease } from './lease.js';
import { RedisPermits, type RedisLockOptions } from './permits.js';

/** Wait options of `RedisSemaphore.acquire`, plus how many permits to take. */
export interface RedisSemaphoreAcquireOptions extends WaitOptions {
  /** Permits to take at once: an integer from 1 to the semaphore's `permits`, default 1. */
  permits?: number | undefined;
}

/**
 * A counting semaphore shared by every process that uses the same Redis and key: at most `permits` permits are
 * leased at once, each lease renewed while held and freed after `ttl` if its holder stops renewing. Use it to bound
 * the concurrency of a fleet ("at most 4 exports at once, cluster-wide").
 *
 * @fairness head-of-line FIFO across processes: a large request at the head blocks later small ones even while
 * enough permits for them are free, so it is never starved; a newcomer never barges past a queued request.
 *
 * @example
 * ```ts
 * const exports = new RedisSemaphore(redis, 'exports', 4, { ttl: 60_000 });
 * await exports.run(() => runExport(job), { permits: job.heavy ? 2 : 1 });
 * ```
 */
export class RedisSemaphore extends RedisPermits {
  /**
   * @param client - a connected ioredis or node-redis client.
   * @param key - the Redis key (the fencing counter lives at `key`, the rest at `key:*`, which expires). Every
   *   process must use the same `permits` for the same key.
   * @param permits - the number of permits: a safe integer >= 1.
   * @param options - `ttl` (ms, integer >= 10, default 30000) and `name`, as for {@link RedisLock}.
   * @throws TypeError | RangeError - for a bad client, key, `permits` or options.
   */
  constructor(client: RedisClientLike, key: string, permits: number, options?: RedisLockOptions) {
    super('RedisSemaphore', client, key, permits, options);
  }

  /** The number of permits, as given to the constructor. */
  get size(): number {
    return this.permits;
  }

  /**
   * Waits for `options.permits` permits (default 1) and resolves to the lease that holds them.
   *
   * @param options - `permits`, `signal` and `timeout` (ms, `0`: only if available now).
   * @returns the lease; releasing it returns all its permits.
   * @throws RangeError - (rejection) when `options.permits` is above the semaphore's `permits`, or not an integer.
   * @throws TimeoutError - (rejection) when `timeout` expires first.
   * @throws RedisUnavailableError - (rejection) when Redis fails or does not answer within `max(ttl, 1000)` ms.
   *
   * @cancellation an abort or timeout removes the request from the server's queue before the call rejects; the
   * requests behind it may then be served.
   *
   * @fairness head-of-line FIFO across processes.
   *
   * @example
   * ```ts
   * const lease = await exports.acquire({ permits: 2, timeout: 30_000 });
   * await using _ = lease;
   * ```
   */
  acquire(options?: RedisSemaphoreAcquireOptions): Promise<Lease> {
    return this.take(options?.permits ?? 1, options, 'acquire');
  }

  /**
   * Takes `permits` permits (default 1) if they are free now and nobody is queued, without waiting.
   *
   * @param permits - how many: an integer from 1 to the semaphore's `permits`.
   * @returns the lease, or `undefined` when not enough permits are free or others wait.
   * @throws RangeError - (rejection) when `permits` is out of range.
   * @throws RedisUnavailableError - (rejection) when Redis fails or does not answer in time.
   *
   * @cancellation not cancellable; it takes one round trip.
   *
   * @fairness never barges past a queued request.
   *
   * @example
   * ```ts
   * const lease = await exports.tryAcquire(1);
   * if (lease) await lease.release();
   * ```
   */
  tryAcquire(permits = 1): Promise<Lease | undefined> {
    return this.tryTake(permits, 'tryAcquire');
  }

  /**
   * Acquires, calls `fn(lease)`, and releases in `finally`; resolves to what `fn` returns.
   *
   * @param fn - the work; it should stop when `lease.lost` aborts.
   * @param options - as for {@link RedisSemaphore.acquire}.
   * @returns `fn`'s result.
   * @throws whatever `fn` throws, and what {@link RedisSemaphore.acquire} rejects with.
   *
   * @cancellation as for {@link RedisSemaphore.acquire}.
   *
   * @fairness as for {@link RedisSemaphore.acquire}.
   *
   * @example
   * ```ts
   * await exports.run(async (lease) => runExport(job, lease.lost), { permits: 2 });
   * ```
   */
  async run<T>(fn: (lease: Lease) => T | PromiseLike<T>, options?: RedisSemaphoreAcquireOptions): Promise<T> {
    if (typeof fn !== 'function') throw new TypeError(`${this.label}.run: fn must be a function`);
    const lease = await this.acquire(options);
    try {
      return await fn(lease);
    } finally {
      await lease.release();
    }
  }
}
