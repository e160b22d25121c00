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
export { RedisUnavailableError, TimeoutError } from '../errors.js';
