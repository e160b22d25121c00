/**
 * The `priority` wait option of the locks and semaphores, and its validation.
 *
 * @module
 */

import { describe, rejectEarly, type Labelled, type WaitOptions } from './options.js';

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
export function priorityOf(options: PriorityOptions | undefined, label: string, method: string): number {
  if (typeof options !== 'object' || options === null) return 0;
  const priority: unknown = options.priority;
  if (priority === undefined) return 0;
  if (typeof priority === 'number' && Number.isFinite(priority)) return priority;
  const message = `${label}.${method}: options.priority must be a finite number, got ${describe(priority)}`;
  throw typeof priority === 'number' ? new RangeError(message) : new TypeError(message);
}

/**
 * Checks `options` as {@link rejectEarly} does, the priority (and the hold's `name`, for diagnostics) first:
 * returns the priority, or a rejected promise for bad input or an already-aborted signal.
 */
export function priorityOrRejection(
  options: (WaitOptions & PriorityOptions) | undefined,
  label: string,
  method: string,
): number | Promise<never> {
  if (options === undefined) return 0;
  let priority: number;
  try {
    priority = priorityOf(options, label, method);
    const name: unknown = (options as { name?: unknown } | null)?.name;
    if (name !== undefined && typeof name !== 'string') {
      throw new TypeError(`${label}.${method}: options.name must be a string, got ${describe(name)}`);
    }
  } catch (error) {
    return Promise.reject(error);
  }
  return rejectEarly(options, label, method) ?? priority;
}

/** The body of a ranked waiting method, run by {@link admitRanked} with the checked priority. */
export type RankedBody<O, Options, A, R> = (
  this: O,
  options: Options,
  priority: number,
  arg: A,
) => Promise<R>;

/**
 * {@link admit} for a ranked method (`priority`, and a hold's `name`, among its options): checks those first, then
 * the wait options as `admit` does, and runs `body` with the priority (0 when absent).
 */
export function admitRanked<
  O extends Labelled,
  Options extends (WaitOptions & PriorityOptions) | undefined,
  A,
  R,
>(owner: O, method: string, options: Options, body: RankedBody<O, Options, A, R>, arg?: A): Promise<R> {
  if (options === undefined) return body.call(owner, options, 0, arg as A);
  const priority = priorityOrRejection(options, owner.label, method);
  return typeof priority === 'number' ? body.call(owner, options, priority, arg as A) : priority;
}
