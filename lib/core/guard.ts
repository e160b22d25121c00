/**
 * The handle that every acquisition resolves to.
 *
 * @module
 */

import { traceHoldEnd, type HoldTrace } from './diagnostics.js';
import { checkFunction } from './options.js';

/**
 * Proof of one acquisition (a lock hold, or a number of semaphore permits). Release it exactly where the
 * acquisition ends, with `try`/`finally` or `using`:
 *
 * ```ts
 * const guard = await lock.acquire();
 * try {
 *   await write();
 * } finally {
 *   guard.release();
 * }
 * // or, where `using` is available:
 * using held = await lock.acquire();
 * ```
 *
 * `release()` is idempotent, and a stale guard (one whose hold already ended) can never release a later holder.
 */
export interface Guard extends Disposable {
  /** Ends this acquisition and hands the resource to the next waiter. Does nothing the second time. */
  release(): void;
  /** Whether this acquisition has ended. */
  readonly released: boolean;
  /** Same as {@link Guard.release}, for `using`. */
  [Symbol.dispose](): void;
}

/**
 * The type of a guard's own `then` field, always `undefined`: it marks the guard as a plain value, never a
 * thenable. Resolving a promise with an object makes the runtime look `then` up on it; an own `then: undefined` ends
 * that look-up at once instead of walking to `Object.prototype`, about a tenth of an uncontended acquire. A field, not
 * a prototype property set at load, so that importing a module runs nothing (`"sideEffects": false`).
 */
export type NotThenable = undefined;

/**
 * The body guards share: a plain value (`then`), released once (a second `release()` does nothing), `using`, and
 * the end of the hold's diagnostics record; a primitive supplies only what ending its hold does (`end`). The
 * readers-writer and keyed guards use it; the lock's and the semaphore's keep their own (their release is the hot
 * path, slower through a shared method), and so does `RLockHold` (a fifth class made the method megamorphic).
 */
export abstract class HoldGuard implements Guard {
  /** A plain value, never a thenable (see {@link NotThenable}). */
  readonly then: NotThenable = undefined;
  /** Whether this acquisition has ended: set once, before the primitive hands anything on. */
  released = false;

  /** @param trace - the diagnostics record of the hold while it is published (holds traced), else `undefined`. */
  constructor(public trace: HoldTrace | undefined) {}

  /** Ends this acquisition, once: marks it released, ends its record, and lets the primitive end the hold. */
  release(): void {
    if (this.released) return;
    this.released = true;
    if (this.trace !== undefined) traceHoldEnd(this.trace);
    this.end();
  }

  /** What ending the hold does in the primitive; called once, after `released` is set and the record ended. */
  protected abstract end(): void;

  [Symbol.dispose](): void {
    this.release();
  }
}

/** What {@link runHolding} needs of a primitive. */
export interface Acquirable<Options> {
  readonly label: string;
  acquire(options?: Options): Promise<Guard>;
}

/**
 * The body of every `run`: acquires from `primitive`, calls `fn` with the guard, and releases it when `fn` settles,
 * whether it returns or throws.
 *
 * @throws TypeError - (rejection) when `fn` is not a function, before anything is acquired.
 */
export async function runHolding<T, Options>(
  primitive: Acquirable<Options>,
  fn: (guard: Guard) => T | PromiseLike<T>,
  options: Options | undefined,
): Promise<T> {
  if (typeof fn !== 'function') checkFunction(fn, `${primitive.label}.run: fn`); // no string on the hot path
  const guard = await primitive.acquire(options);
  try {
    return await fn(guard);
  } finally {
    guard.release();
  }
}

/**
 * The body of an uncontended `run`: `guard` was taken in the caller's synchronous step (the resource was free, the
 * options checked). Calls `fn` with it one microtask turn later, when an awaited `acquire()` would have, and
 * releases it when `fn` settles. What it saves against {@link runHolding} is the acquisition's promise (and the
 * runtime's `then` look-up on the guard it resolves to): a fifth of an uncontended `run`.
 */
export async function runHeld<T>(guard: Guard, fn: (guard: Guard) => T | PromiseLike<T>): Promise<T> {
  try {
    await undefined; // fn runs when it would after an awaited acquire, never in the caller's step
    return await fn(guard);
  } finally {
    guard.release();
  }
}
