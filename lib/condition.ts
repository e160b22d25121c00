import { LockError, TimeoutError } from './errors.js';
import { Deadline } from './core/deadline.js';
import type { Guard } from './core/guard.js';
import type { SavableLock } from './core/hold.js';
import {
  admit,
  checkFunction,
  checkInteger,
  labelFor,
  type NameOptions,
  type WaitOptions,
} from './core/options.js';
import { WaitQueue } from './core/wait-queue.js';
import { AsyncLock } from './lock.js';
import type { AsyncRLock } from './rlock.js';

function isSavableLock(value: unknown): value is AsyncLock | AsyncRLock {
  const lock = value as Partial<SavableLock> | null;
  return (
    typeof lock === 'object' &&
    lock !== null &&
    typeof lock.isOwned === 'function' &&
    typeof lock.releaseSave === 'function' &&
    typeof lock.acquireRestore === 'function' &&
    typeof lock.parkRestore === 'function'
  );
}

/**
 * A condition variable bound to a lock (an `AsyncLock`, or an `AsyncRLock`, whose every level `wait` releases
 * and restores): tasks holding the lock `wait()` until another holder `notify()`s them.
 * Use it when waiters need a predicate over shared state that the lock protects (`while (queue.length === 0) await
 * cond.wait()`, or `await cond.waitFor(() => queue.length > 0)`). For a plain flag use `AsyncEvent`; to pass items
 * use `AsyncQueue`.
 *
 * `wait` releases the lock, parks, and re-acquires the lock **before it settles, whatever happens**: notified,
 * timed out or aborted. The guard the caller held is valid again afterwards. Several conditions may share one lock.
 *
 * @fairness `notify(n)` moves the n longest waiters, in FIFO order, straight onto the lock's queue (no
 * thundering herd); they then take the lock in turn, behind callers already queued for it.
 *
 * @example
 * ```ts
 * const cond = new AsyncCondition();
 * const items: number[] = [];
 * async function consume(): Promise<number> {
 *   return cond.run(async () => {
 *     await cond.waitFor(() => items.length > 0);
 *     return items.shift()!;
 *   });
 * }
 * async function produce(item: number): Promise<void> {
 *   await cond.run(() => {
 *     items.push(item);
 *     cond.notify();
 *   });
 * }
 * ```
 */
export class AsyncCondition {
  /** The primitive's kind and name, as in `toString()` and error messages. */
  readonly label: string;
  /** The name given to the constructor, if any. */
  readonly name: string | undefined;
  /** The lock this condition is bound to. */
  readonly lock: AsyncLock | AsyncRLock;
  /** The lock's capability to set its hold aside and take it back (internal members, not in the published types). */
  private readonly held: SavableLock;
  /**
   * Waiters not yet notified; each carries the lock hold it set aside (`releaseSave`). The protocol is the
   * condition's own, on the lock's generic capability ({@link SavableLock}): `wait` sets the hold aside and parks
   * here; `notify` moves the waiter onto the lock (`parkRestore`), which grants it once it has the hold back.
   */
  private readonly queue: WaitQueue<Guard, unknown>;

  /**
   * @param lock - the lock to bind to; a new `AsyncLock` when left out. With an `AsyncRLock`, "holding" means
   *   owned by the calling context.
   * @param options - `name`: shown by `toString()`, in timeout messages and in deadlock reports.
   * @throws TypeError - when `lock` is not an `AsyncLock` or `options.name` is not a string.
   */
  constructor(lock?: AsyncLock | AsyncRLock, options?: NameOptions) {
    this.label = labelFor('AsyncCondition', options);
    this.name = options?.name;
    if (lock !== undefined && !isSavableLock(lock)) {
      throw new TypeError(`${this.label}: lock must be an AsyncLock or an AsyncRLock`);
    }
    this.lock = lock ?? new AsyncLock(options);
    this.held = this.lock satisfies SavableLock;
    this.queue = new WaitQueue<Guard, unknown>(this);
  }

  /** Whether the lock is held. */
  get locked(): boolean {
    return this.lock.locked;
  }

  /** How many tasks wait to be notified (not counting those notified and queued for the lock). */
  get waiting(): number {
    return this.queue.size;
  }

  /**
   * Acquires the underlying lock; see `AsyncLock.acquire`.
   *
   * @example
   * ```ts
   * const guard = await cond.acquire();
   * guard.release();
   * ```
   */
  acquire(options?: WaitOptions): Promise<Guard> {
    return this.lock.acquire(options);
  }

  /**
   * Takes the underlying lock if it is free now; see `AsyncLock.tryAcquire`.
   *
   * @example
   * ```ts
   * cond.tryAcquire()?.release();
   * ```
   */
  tryAcquire(): Guard | undefined {
    return this.lock.tryAcquire();
  }

  /**
   * Releases the underlying lock; see `AsyncLock.release`.
   *
   * @throws LockError - when the lock is not held.
   *
   * @example
   * ```ts
   * await cond.acquire();
   * cond.release();
   * ```
   */
  release(): void {
    this.lock.release();
  }

  /**
   * Runs `fn` holding the underlying lock; see `AsyncLock.run`.
   *
   * @example
   * ```ts
   * await cond.run(() => cond.notifyAll());
   * ```
   */
  run<T>(fn: (guard: Guard) => T | PromiseLike<T>, options?: WaitOptions): Promise<T> {
    return this.lock.run(fn, options);
  }

  /**
   * Releases the lock, waits to be notified, and re-acquires the lock before settling.
   *
   * @param options - `signal` aborts the wait, `timeout` (ms) bounds it; see {@link WaitOptions}. A `timeout` of 0
   *   times out at once, without releasing the lock.
   * @throws LockError - (rejection) when the lock is not held by the caller.
   * @throws TimeoutError - (rejection, lock held again) when `timeout` expires before a notification.
   * @throws TypeError | RangeError - (rejection) for bad options.
   *
   * @cancellation whatever happens, the caller holds the lock again when `wait` settles (an already-aborted
   * signal rejects without releasing it). A notification is the grant: a waiter that was notified resolves even if
   * its signal aborts or its timeout expires afterwards, and one that timed out or was aborted first is never
   * counted as notified, so no notification is lost.
   *
   * @fairness notified waiters re-acquire the lock in the order they started waiting.
   *
   * @example
   * ```ts
   * await cond.run(async () => {
   *   while (!ready) await cond.wait();
   * });
   * ```
   */
  wait(options?: WaitOptions): Promise<void> {
    return admit(this, 'wait', options, this.waitAdmitted);
  }

  /** The body of `wait` once its options are checked: the hold is checked next, then set aside for the wait. */
  private waitAdmitted(options: WaitOptions | undefined): Promise<void> {
    return this.rejectUnlessHeld('wait') ?? this.waitHeld(options);
  }

  /**
   * Waits until `predicate()` returns a truthy value and resolves with it. The predicate runs with the lock held:
   * first at once, then after each notification. The `timeout` bounds the whole call, not each wait.
   *
   * @param predicate - reads the state the lock protects.
   * @param options - `signal` and `timeout` for the whole call; see {@link WaitOptions}.
   * @returns the first truthy value `predicate` returned.
   * @throws LockError - (rejection) when the lock is not held by the caller.
   * @throws TimeoutError - (rejection, lock held again) when `timeout` expires before the predicate holds.
   * @throws TypeError - (rejection) when `predicate` is not a function; whatever `predicate` throws.
   *
   * @cancellation as {@link AsyncCondition.wait}: the lock is held again when the call settles.
   *
   * @example
   * ```ts
   * await cond.run(() => cond.waitFor(() => items.length > 0));
   * ```
   */
  waitFor<T>(predicate: () => T, options?: WaitOptions): Promise<T> {
    try {
      checkFunction(predicate, `${this.label}.waitFor: predicate`);
    } catch (error) {
      return Promise.reject(error);
    }
    return admit(this, 'waitFor', options, this.waitForAdmitted<T>, predicate);
  }

  /** The body of `waitFor` once its options are checked: the hold, then the predicate, then wait after wait. */
  private async waitForAdmitted<T>(options: WaitOptions | undefined, predicate: () => T): Promise<T> {
    const early = this.rejectUnlessHeld('waitFor');
    if (early !== undefined) return early;
    let result = predicate();
    if (result) return result;
    const deadline = new Deadline(options, this.label);
    try {
      while (!result) {
        await this.waitHeld(deadline.options);
        result = predicate();
      }
      return result;
    } finally {
      deadline.dispose();
    }
  }

  /**
   * Wakes up to `n` waiters (default 1), longest-waiting first, by moving them onto the lock's queue: each
   * resumes once it has re-acquired the lock, after the caller releases it.
   *
   * @param n - how many to wake: an integer `>= 0`.
   * @throws LockError - when the lock is not held by the caller.
   * @throws TypeError | RangeError - when `n` is not an integer `>= 0`.
   *
   * @fairness FIFO; waiters that timed out or were aborted are gone already, so n live waiters are woken
   * whenever there are n.
   *
   * @example
   * ```ts
   * await cond.run(() => {
   *   items.push(item);
   *   cond.notify();
   * });
   * ```
   */
  notify(n = 1): void {
    checkInteger(n, `${this.label}.notify: n`, 0);
    this.checkHeld('notify');
    this.wake(n);
  }

  /**
   * Wakes every waiter; see {@link AsyncCondition.notify}.
   *
   * @throws LockError - when the lock is not held by the caller.
   *
   * @example
   * ```ts
   * await cond.run(() => {
   *   done = true;
   *   cond.notifyAll();
   * });
   * ```
   */
  notifyAll(): void {
    this.checkHeld('notifyAll');
    this.wake(this.queue.size);
  }

  /** Describes the state, such as `AsyncCondition(items)[locked, waiting=2]`. */
  toString(): string {
    return `${this.label}[${this.lock.locked ? 'locked' : 'unlocked'}, waiting=${this.queue.size}]`;
  }

  /**
   * Moves the `n` longest waiters, in FIFO order, onto the lock, each to take back the hold it set aside: being
   * moved is the notification's grant (a later abort or timeout does nothing).
   */
  private wake(n: number): void {
    for (let woken = 0; woken < n && this.queue.size > 0; woken++) this.held.parkRestore(this.queue);
  }

  /** The body of `wait`, once options and the hold have been checked. */
  private async waitHeld(options: WaitOptions | undefined): Promise<void> {
    // Checked again here, not only on entry: in a `waitFor` loop the signal may have fired (or the deadline passed)
    // while this caller queued to re-acquire the lock. It holds the lock now, so it can reject as it is.
    const signal = options?.signal;
    if (signal !== undefined && signal.aborted) throw signal.reason;
    if (options?.timeout === 0) throw new TimeoutError(`${this.label} timed out after 0 ms`);
    const saved = this.held.releaseSave();
    try {
      // Resolves once notified *and* granted the hold back by the lock (see `wake`).
      await this.queue.park(options, saved);
    } catch (reason) {
      // Timed out or aborted before any notification: take the hold back all the same, then reject.
      await this.held.acquireRestore(saved);
      throw reason;
    }
  }

  private checkHeld(method: string): void {
    if (!this.held.isOwned()) {
      throw new LockError(`${this.label}.${method}: the lock (${this.lock.label}) is not held`);
    }
  }

  private rejectUnlessHeld(method: string): Promise<never> | undefined {
    if (this.held.isOwned()) return undefined;
    return Promise.reject(
      new LockError(`${this.label}.${method}: the lock (${this.lock.label}) is not held`),
    );
  }
}
