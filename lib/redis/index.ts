/**
 * `coop-sync/redis`: locks across processes and hosts, on Redis. `RedisLock` (one holder) and `RedisSemaphore`
 * (weighted permits) grant a `Lease` with a fencing `token`, renewed while held and guaranteed only while its `lost`
 * signal is not aborted. Waiting is FIFO across processes, woken by a notification. Pass a connected ioredis or
 * node-redis client; this entry point imports neither. Node only.
 *
 * @module coop-sync/redis
 */
export { RedisLock } from './lock.js';
export { RedisSemaphore, type RedisSemaphoreAcquireOptions } from './semaphore.js';
export type { Lease } from './lease.js';
export type { RedisLockOptions } from './permits.js';
export type {
  RedisClientLike,
  IORedisClientLike,
  IORedisSubscriberLike,
  NodeRedisClientLike,
  NodeRedisSubscriberLike,
} from './client.js';
export { TimeoutError } from '../errors.js';
export { RedisUnavailableError } from './errors.js';
