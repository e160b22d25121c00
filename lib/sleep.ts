/**
 * Waiting on time: `sleep` and `waitUntil` (the polling spin-wait). Each call parks on a queue of its own, so that
 * the harness sees it like any other wait, and its timers go through the scheduler hook.
 *
 * @module
 */

import { admit, checkFunction, checkTimeout, type Labelled, type WaitOptions } from './core/options.js';
import { ringAgain, WaitQueue, type QueueOwner } from './core/wait-queue.js';

/** Options of {@link sleep}. */
export interface SleepOptions {
  /** Ends the sleep early: the call rejects with `signal.reason`. */
  signal?: AbortSignal | undefined;
}

/** Options of {@link waitUntil}: the usual wait options, plus how often to poll. */
export interface WaitUntilOptions extends WaitOptions {
  /** Milliseconds between two checks of the predicate: a finite number `> 0`; default 10. */
  interval?: number | undefined;
}

/**
 * The queue of one `sleep` or `waitUntil` call: its owner names it for the harness and in timeout messages. The
 * call's timers are its waiter's ({@link WaitQueue.parkAlarmed}): settling the waiter, by any means, clears them.
 */
function timedWait(label: string): WaitQueue<void> {
  const owner: QueueOwner = { label };
  return new WaitQueue<void>(owner);
}

/**
 * Resolves after `ms` milliseconds (a timer through the scheduler hook, so fake clocks and the harness control it).
 * `sleep(0)` still waits for a timer turn; `sleep(Infinity)` waits until `signal` aborts.
 *
 * In Node, the timer of a sleep called from a daemon task (found through the async context, across awaits) does
 * not keep the process alive.
 *
 * @param ms - milliseconds: a number `>= 0`, or `Infinity`.
 * @param options - `signal` ends the sleep early.
 * @throws TypeError - (rejection) when `ms` is not a number, or `options`/`options.signal` is malformed.
 * @throws RangeError - (rejection) when `ms` is negative or `NaN`.
 *
 * @cancellation an abort rejects with `signal.reason` and clears the timer and the listener at once.
 *
 * @example
 * ```ts
 * await sleep(100, { signal });
 * ```
 */
export function sleep(ms: number, options?: SleepOptions): Promise<void> {
  try {
    checkTimeout(ms, 'sleep: ms');
  } catch (error) {
    return Promise.reject(error);
  }
  return admit(sleeper, undefined, options, sleepAdmitted, ms, refuseTimeout);
}

/** What names `sleep` in its messages: a function, not a method. */
const sleeper: Labelled = { label: 'sleep' };

function refuseTimeout(options: SleepOptions): void {
  if ((options as WaitOptions).timeout !== undefined) {
    throw new TypeError('sleep: options.timeout is not supported (ms is how long to sleep)');
  }
}

/** The body of `sleep` once its options are checked: a waiter whose alarm, after `ms`, is its grant. */
function sleepAdmitted(options: SleepOptions | undefined, ms: number): Promise<void> {
  const signal = options?.signal;
  const queue = timedWait(`sleep(${ms} ms)`);
  return queue.parkAlarmed(signal === undefined ? undefined : { signal }, ms, () => undefined);
}

function isThenable(value: unknown): boolean {
  return (
    ((typeof value === 'object' && value !== null) || typeof value === 'function') &&
    typeof (value as PromiseLike<unknown>).then === 'function'
  );
}

/**
 * Polls `predicate` every `options.interval` ms until it returns a truthy value: the spin-wait, on a timer, so the
 * event loop keeps running. The predicate is checked once at once (a true condition resolves without a timer),
 * then after each interval. Prefer an `AsyncCondition` or `AsyncEvent` when the code that changes the state can
 * notify; poll when it cannot (a value owned by someone else, a file, a flag set by a callback).
 *
 * In Node, the timers of a `waitUntil` called from a daemon task do not keep the process alive.
 *
 * @param predicate - a synchronous function; a promise it returns is a `TypeError` (it would always be truthy).
 * @param options - `interval` (ms, finite, `> 0`, default 10), `timeout` (ms) and `signal`; see
 *   {@link WaitOptions}. `timeout: 0` checks once.
 * @throws TimeoutError - (rejection) when `timeout` expires before the predicate holds.
 * @throws unknown - (rejection) whatever `predicate` threw; polling stops.
 * @throws TypeError | RangeError - (rejection) for a bad `predicate` or bad options.
 *
 * @cancellation an abort rejects with `signal.reason`; polling stops, and no timer or listener remains.
 *
 * @example
 * ```ts
 * await waitUntil(() => cache.size >= 10, { interval: 50, timeout: 5000 });
 * ```
 */
export function waitUntil(predicate: () => unknown, options?: WaitUntilOptions): Promise<void> {
  try {
    checkFunction(predicate, 'waitUntil: predicate');
  } catch (error) {
    return Promise.reject(error);
  }
  return admit(poller, undefined, options, waitUntilAdmitted, predicate, checkInterval);
}

/** What names `waitUntil` in its messages. */
const poller: Labelled = { label: 'waitUntil' };

function checkInterval(options: WaitUntilOptions): void {
  const interval = options.interval;
  if (interval === undefined) return;
  checkTimeout(interval, 'waitUntil: options.interval');
  if (interval === 0 || interval === Infinity) {
    throw new RangeError(`waitUntil: options.interval must be a finite number > 0, got ${interval}`);
  }
}

/** The body of `waitUntil` once its options are checked: the predicate at once, then one waiter polling it. */
function waitUntilAdmitted(options: WaitUntilOptions | undefined, predicate: () => unknown): Promise<void> {
  const check = (): boolean => {
    const holds = predicate();
    if (isThenable(holds)) {
      throw new TypeError('waitUntil: predicate returned a promise; it must return a plain value');
    }
    return Boolean(holds);
  };
  try {
    if (check()) return Promise.resolve();
  } catch (error) {
    return Promise.reject(error);
  }

  const queue = timedWait(predicate.name === '' ? 'waitUntil' : `waitUntil(${predicate.name})`);
  // One waiter: its timeout and signal end the wait, its alarm polls; the predicate holding, or throwing, settles it.
  return queue.parkAlarmed(options, options?.interval ?? 10, () => (check() ? undefined : ringAgain));
}
