/**
 * `coop-sync`: async/await concurrency primitives for one event loop. Pick `AsyncLock` to keep a read-modify-write
 * across `await`s whole, `AsyncRLock` when the holder calls back into code that locks again, `AsyncSemaphore` (or
 * `AsyncBoundedSemaphore`) for "at most n at once", `AsyncRateLimiter` for "at most n per second", `AsyncRWLock` for
 * many readers or one writer, `AsyncKeyedLock` for a lock per key, `AsyncCondition` or `AsyncEvent` to wait for a
 * state another task changes, the `AsyncQueue` family for producers and consumers, `AsyncBarrier` for phases, and
 * `TaskGroup` to start, join and cancel tasks. Every waiting method takes `{ signal, timeout }`.
 *
 * @module coop-sync
 */
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
export { AsyncSemaphore, type SemaphoreAcquireOptions } from './semaphore.js';
export { AsyncBoundedSemaphore } from './bounded-semaphore.js';
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
