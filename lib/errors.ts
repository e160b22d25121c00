/**
 * Every error class that coop-sync throws. Each is built where it is thrown (never a shared singleton), so its
 * stack points at the call that failed, and each has a `name` equal to its class name.
 *
 * @module
 */

/**
 * A wait's `timeout` expired before the call could complete.
 *
 * Thrown (as a rejection) by every method that accepts `{ timeout }`, including `AsyncQueue.get({ timeout: 0 })`
 * on an empty queue. Its `name` is `"TimeoutError"`, like the `DOMException` that `AbortSignal.timeout()` uses.
 *
 * @example
 * ```ts
 * try {
 *   await lock.acquire({ timeout: 50 });
 * } catch (error) {
 *   if (error instanceof TimeoutError) console.log('gave up after 50 ms');
 * }
 * ```
 */
export class TimeoutError extends Error {
  constructor(message = 'The operation timed out', options?: ErrorOptions) {
    super(message, options);
  }
}

/**
 * A lock was misused: released while not held, released by a context that does not own it, or a condition was
 * waited on or notified without holding its lock. The analogue of Python's `RuntimeError` for locks.
 */
export class LockError extends Error {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
  }
}

/** `getNowait()` was called on an empty queue. The analogue of Python's `asyncio.QueueEmpty`. */
export class QueueEmptyError extends Error {
  constructor(message = 'The queue is empty', options?: ErrorOptions) {
    super(message, options);
  }
}

/** `putNowait()` was called on a full queue. The analogue of Python's `asyncio.QueueFull`. */
export class QueueFullError extends Error {
  constructor(message = 'The queue is full', options?: ErrorOptions) {
    super(message, options);
  }
}

/**
 * The queue was shut down: a `put` after `shutdown()`, or a `get` after shutdown once the queue is drained (or at
 * once after `shutdown(true)`). The analogue of Python 3.13's `asyncio.QueueShutDown`.
 */
export class QueueShutDownError extends Error {
  constructor(message = 'The queue is shut down', options?: ErrorOptions) {
    super(message, options);
  }
}

/**
 * A barrier was broken (aborted, reset, or one of its waiters gave up) while a party waited on it, or `wait()`
 * was called on a broken barrier. The analogue of Python's `BrokenBarrierError`.
 */
export class BrokenBarrierError extends Error {
  constructor(message = 'The barrier is broken', options?: ErrorOptions) {
    super(message, options);
  }
}

/**
 * A queued wait was cancelled by the primitive itself: `cancelWaiters()` rejected every waiter (each with its own
 * `CancelledError` unless a reason was given). The waiter holds nothing; the holders are untouched.
 *
 * @example
 * ```ts
 * lock.cancelWaiters();
 * // each queued `acquire()` rejects with a CancelledError
 * ```
 */
export class CancelledError extends Error {
  override name = 'CancelledError';

  constructor(message = 'the wait was cancelled', options?: ErrorOptions) {
    super(message, options);
  }
}

/** One task that the harness found blocked, and what it waits on (such as `AsyncLock(db)`). */
export interface BlockedTask {
  readonly task: string;
  readonly waitingOn: string;
}

/**
 * The test harness (`coop-sync/testing`) found every task blocked and no timer pending: none can ever resume.
 * Exported from `coop-sync/testing`. The message lists each blocked task and what it waits on; `schedule` replays
 * the interleaving that led there.
 */
export class DeadlockError extends Error {
  /** The replayable schedule that led to the deadlock. */
  readonly schedule: string;
  /** Every blocked task and what it waits on. */
  readonly blocked: readonly BlockedTask[];

  constructor(blocked: readonly BlockedTask[], schedule: string, options?: ErrorOptions) {
    const lines = blocked.map(({ task, waitingOn }) => `  ${task} waits on ${waitingOn}`);
    super(
      `Deadlock: every task is blocked and no timer is pending\n${lines.join('\n')}\nschedule: ${schedule}`,
      options,
    );
    this.blocked = blocked;
    this.schedule = schedule;
  }
}

/**
 * The test harness (`coop-sync/testing`) could not run a scenario to its end for a reason of its own: the step
 * budget or the real-time watchdog ran out (a livelock), a schedule does not fit the scenario, or the scenario is not
 * deterministic. Exported from `coop-sync/testing`; `schedule` replays the run up to the point where it stopped.
 */
export class SimulationError extends Error {
  /** The replayable schedule of the run that stopped. */
  readonly schedule: string;
  /**
   * Why: `steps` (the step budget ran out), `watchdog` (the real-time limit did), `schedule` (a replayed schedule
   * does not fit the scenario) or `nondeterministic` (the same schedule ran twice differently).
   */
  readonly reason: 'steps' | 'watchdog' | 'schedule' | 'nondeterministic';

  constructor(reason: SimulationError['reason'], message: string, schedule: string, options?: ErrorOptions) {
    super(`${message}\nschedule: ${schedule}`, options);
    this.reason = reason;
    this.schedule = schedule;
  }
}

// Names are spelled out rather than read from `constructor.name`, which a minifier may rename.
const names: [new (message: string) => Error, string][] = [
  [TimeoutError, 'TimeoutError'],
  [LockError, 'LockError'],
  [QueueEmptyError, 'QueueEmptyError'],
  [QueueFullError, 'QueueFullError'],
  [QueueShutDownError, 'QueueShutDownError'],
  [BrokenBarrierError, 'BrokenBarrierError'],
  [DeadlockError as unknown as new (message: string) => Error, 'DeadlockError'],
  [SimulationError as unknown as new (message: string) => Error, 'SimulationError'],
];
for (const [ErrorClass, name] of names) {
  Object.defineProperty(ErrorClass.prototype, 'name', { value: name, writable: true, configurable: true });
}
