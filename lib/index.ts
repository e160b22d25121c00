export {
  TimeoutError,
  LockError,
  QueueEmptyError,
  QueueFullError,
  QueueShutDownError,
  BrokenBarrierError,
  CancelledError,
} from './errors.js';
export type { Guard } from './core/guard.js';
export type { WaitOptions, NameOptions } from './core/options.js';
export type { PriorityOptions } from './core/priority.js';
export { AsyncLock, type LockAcquireOptions } from './lock.js';
export { AsyncSemaphore, AsyncBoundedSemaphore, type SemaphoreAcquireOptions } from './semaphore.js';
export { AsyncEvent } from './event.js';
export { AsyncCondition } from './condition.js';
export { AsyncBarrier } from './barrier.js';
export { AsyncRLock, type RLockAcquireOptions } from './rlock.js';
export { AsyncQueue } from './queue.js';
export { AsyncPriorityQueue, AsyncLifoQueue, type PriorityQueueOptions } from './queue-kinds.js';
export {
  TaskGroup,
  Task,
  sleep,
  waitUntil,
  type SpawnOptions,
  type SleepOptions,
  type WaitUntilOptions,
} from './tasks.js';
export { AsyncRateLimiter, type RateLimiterOptions, type RateLimiterAcquireOptions } from './rate-limiter.js';
export { AsyncRWLock, type RWLockAcquireOptions } from './rwlock.js';
export { AsyncKeyedLock, type KeyedLockOptions, type KeyedLockAcquireOptions } from './keyed-lock.js';
export {
  diagnosticsChannels,
  configureDiagnostics,
  describeHolders,
  type WaitStartMessage,
  type WaitEndMessage,
  type HoldMessage,
  type HolderDescription,
  type HolderNameOptions,
  type DiagnosticsOptions,
} from './core/diagnostics.js';
