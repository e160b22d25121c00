/**
 * `coop-sync/threads`: locks, semaphores and conditions shared by workers (`worker_threads`, Web Workers) through a
 * `SharedArrayBuffer`, and {@link WebLock} over the Web Locks API. Pick `SharedLock` for mutual exclusion across
 * threads, `SharedSemaphore` for "at most n", `SharedCondition` to wait for a state another thread changes; within
 * one event loop the primitives of `coop-sync` are lighter.
 *
 * @module coop-sync/threads
 */
export { LockError, TimeoutError } from '../errors.js';
export type { Guard } from '../core/guard.js';
export type { WaitOptions } from '../core/options.js';
export { agentId } from './agent.js';
export type { SharedHandle, SharedKind } from './handle.js';
export { SharedLock, type SharedGuard } from './shared-lock.js';
export { SharedCondition } from './shared-condition.js';
export { WebLock, type WebLockAcquireOptions } from './web-lock.js';
export { SharedSemaphore, type SharedSemaphoreAcquireOptions } from './shared-semaphore.js';
