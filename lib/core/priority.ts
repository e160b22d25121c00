/**
 * The `priority` wait option of the locks and semaphores, and its validation.
 *
 * @module
 */

import { describe } from './options.js';

/**
 * Options of the calls whose waiters can be ranked: `acquire`/`run` of `AsyncLock`, `AsyncSemaphore` (and
 * bounded), `AsyncRWLock` and `AsyncKeyedLock`. Waiters are served by priority, then in arrival order among equals.
 */
export interface PriorityOptions {
  /** Any finite number, default 0; larger is served first. */
  priority?: number | undefined;
}

/**
 * Returns `options.priority` (0 when absent), or throws naming it.
 *
 * @throws TypeError - when it is not a number.
 * @throws RangeError - when it is `NaN` or infinite.
 */
export function priorityOf(options: PriorityOptions | undefined, method: string): number {
  if (typeof options !== 'object' || options === null) return 0;
  const priority: unknown = options.priority;
  if (priority === undefined) return 0;
  if (typeof priority !== 'number') {
    throw new TypeError(`${method}: options.priority must be a finite number, got ${describe(priority)}`);
  }
  if (!Number.isFinite(priority)) {
    throw new RangeError(`${method}: options.priority must be a finite number, got ${describe(priority)}`);
  }
  return priority;
}
