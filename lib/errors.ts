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
  // Spelled out: a minifier may rename the class.
  override name = 'TimeoutError';

  constructor(message = 'The operation timed out', options?: ErrorOptions) {
    super(message, options);
  }
}

/**
 * A lock was misused: released while not held, released by a context that does not own it, or a condition was
 * waited on or notified without holding its lock. The analogue of Python's `RuntimeError` for locks.
 */
export class LockError extends Error {
  // Spelled out: a minifier may rename the class.
  override name = 'LockError';

  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
  }
}

/** `getNowait()` was called on an empty queue. The analogue of Python's `asyncio.QueueEmpty`. */
export class QueueEmptyError extends Error {
  // Spelled out: a minifier may rename the class.
  override name = 'QueueEmptyError';

  constructor(message = 'The queue is empty', options?: ErrorOptions) {
    super(message, options);
  }
}

/** `putNowait()` was called on a full queue. The analogue of Python's `asyncio.QueueFull`. */
export class QueueFullError extends Error {
  // Spelled out: a minifier may rename the class.
  override name = 'QueueFullError';

  constructor(message = 'The queue is full', options?: ErrorOptions) {
    super(message, options);
  }
}

/**
 * The queue was shut down: a `put` after `shutdown()`, or a `get` after shutdown once the queue is drained (or at
 * once after `shutdown(true)`). The analogue of Python 3.13's `asyncio.QueueShutDown`.
 */
export class QueueShutDownError extends Error {
  // Spelled out: a minifier may rename the class.
  override name = 'QueueShutDownError';

  constructor(message = 'The queue is shut down', options?: ErrorOptions) {
    super(message, options);
  }
}

/**
 * A barrier was broken (aborted, reset, or one of its waiters gave up) while a party waited on it, or `wait()`
 * was called on a broken barrier. The analogue of Python's `BrokenBarrierError`.
 */
export class BrokenBarrierError extends Error {
  // Spelled out: a minifier may rename the class.
  override name = 'BrokenBarrierError';

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
