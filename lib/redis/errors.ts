/**
 * The errors of `coop-sync/redis`, kept with it so that the main entry's bundle does not carry them.
 *
 * @module
 */

/**
 * Redis could not be reached in time, or failed a command, while coop-sync/redis needed it: a wait for a
 * `RedisLock` or `RedisSemaphore` ends with this error (never a hang) when the server is down, restarting or
 * unreachable for longer than the lock's `ttl`. Exported from `coop-sync/redis`; `cause` is the client's error, if
 * any.
 *
 * @example
 * ```ts
 * try {
 *   await lock.acquire({ timeout: 5000 });
 * } catch (error) {
 *   if (error instanceof RedisUnavailableError) console.log('redis is down:', error.cause);
 * }
 * ```
 */
export class RedisUnavailableError extends Error {
  // Spelled out: a minifier may rename the class.
  override name = 'RedisUnavailableError';

  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
  }
}
