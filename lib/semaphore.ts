import { CancelledError } from './errors.js';
import { type NotThenable, runHeld, runHolding, type Guard } from './core/guard.js';
import { checkFunction, checkInteger, labelFor, type NameOptions, type WaitOptions } from './core/options.js';
import { WaitQueue, type RunBody } from './core/wait-queue.js';
import { admitRanked, type PriorityOptions } from './core/priority.js';
import {
  holdsTraced,
  traceHoldEnd,
  traceHoldStart,
  type HoldTrace,
  type HolderNameOptions,
} from './core/diagnostics.js';

/** Wait options of a semaphore, plus how many permits to take. */
export interface SemaphoreAcquireOptions extends WaitOptions, PriorityOptions, HolderNameOptions {
  /** Permits to take at once: an integer `>= 1`, default 1. */
  permits?: number | undefined;
}

/**
 * The permits taken by one acquisition; `release()` returns all of them, once. Not a `HoldGuard` (`core/guard.ts`):
 * its release is the limiter's hot path, kept monomorphic, as the lock's is.
 */
class SemaphoreGuard implements Guard {
  /** A plain value, never a thenable (see {@link NotThenable}). */
  readonly then: NotThenable = undefined;

  released = false;

  constructor(
    private readonly semaphore: AsyncSemaphore,
    private readonly permits: number,
    /** What diagnostics record of this hold, while holds are traced. */
    private readonly trace: HoldTrace | undefined,
  ) {}

  release(): void {
    if (this.released) return;
    this.semaphore.give(this.permits);
    this.released = true;
    if (this.trace !== undefined) traceHoldEnd(this.trace);
  }

  [Symbol.dispose](): void {
    this.release();
  }
}

/**
 * A counting semaphore: `value` permits, taken by `acquire` (one or several at a time) and given back by the guard
 * or `release`. Use it to bound concurrency ("at most 4 downloads at once"); with a value of 1 it is a lock that any
 * caller may release.
 *
 * @fairness head-of-line FIFO. Waiters are served strictly in order; a large request at the head blocks later
 * small ones even while enough permits for them are free, so a large request is never starved. Released permits are
 * handed directly to the waiters they satisfy, in the same synchronous step, so newcomers cannot barge in.
 *
 * @example
 * ```ts
 * const pool = new AsyncSemaphore(4, { name: 'downloads' });
 * await Promise.all(urls.map((url) => pool.run(() => download(url))));
 * ```
 */
export class AsyncSemaphore {
  /** The primitive's kind and name, as in `toString()` and error messages. */
  readonly label: string;
  /** The name given to the constructor, if any. */
  readonly name: string | undefined;
  /**
   * Free permits; negative while a bounded semaphore's capacity was lowered below the permits held. Invariant: when
   * a waiter is queued, `available` is less than the head waiter's weight.
   */
  protected available: number;
  /** Callers waiting, each parked with the permits it asks for. */
  private readonly queue: WaitQueue<Guard, number>;

  /**
   * @param value - the permits available at first: an integer `>= 0`, default 1.
   * @param options - `name`: shown by `toString()`, in timeout messages and in deadlock reports.
   * @throws TypeError | RangeError - when `value` is not an integer `>= 0` or `options.name` is not a string.
   */
  constructor(value = 1, options?: NameOptions) {
    this.label = labelFor(this.kind, options);
    checkInteger(value, `${this.label}: value`, 0);
    this.name = options?.name;
    this.available = value;
    // A waiter that gives up may have been the one blocking smaller requests behind it.
    this.queue = new WaitQueue<Guard, number>(this, () => this.grantWaiters(), { resolveOnly: true });
  }

  /** The class's name in its label; a subclass names itself by overriding it (read by the constructor). */
  protected get kind(): string {
    return 'AsyncSemaphore';
  }

  /** Permits free now. */
  get value(): number {
    return this.available > 0 ? this.available : 0;
  }

  /** How many callers are queued. */
  get waiting(): number {
    return this.queue.size;
  }

  /**
   * Waits until `permits` permits (default 1) can be taken, and takes them.
   *
   * @param options - `permits` to take (integer `>= 1`), plus `signal` and `timeout` ({@link WaitOptions}),
   *   `priority` ({@link PriorityOptions}) and `name` (names the hold for diagnostics).
   * @returns a guard whose `release()` gives every permit back.
   * @throws TimeoutError - (rejection) when `timeout` expires first.
   * @throws TypeError | RangeError - (rejection) for bad options, or (bounded) more permits than it can ever hold.
   *
   * @cancellation an abort or timeout before the grant removes the caller at once; it holds no permits and
   * has lost its place, and the waiters it was blocking are served.
   *
   * @fairness head-of-line on the best waiter: by `priority` (default 0, larger first), then FIFO; the best
   * waiter blocks the others until its permits are free (see the class).
   *
   * @example
   * ```ts
   * const guard = await semaphore.acquire({ permits: 2, timeout: 500 });
   * try {
   *   await work();
   * } finally {
   *   guard.release();
   * }
   * ```
   */
  acquire(options?: SemaphoreAcquireOptions): Promise<Guard> {
    return this.rejectPermits(options) ?? admitRanked(this, 'acquire', options, this.acquireAdmitted);
  }

  /** The body of `acquire` once its options are checked: the permits at once if they fit, else a place in the queue. */
  private acquireAdmitted(options: SemaphoreAcquireOptions | undefined, priority: number): Promise<Guard> {
    const permits = options?.permits ?? 1;
    if (this.available >= permits && this.outranksQueue(priority))
      return Promise.resolve(this.take(permits, options));
    return this.queue.park(options, permits, priority);
  }

  /** Takes `permits` that are free now, for a new hold. */
  private take(permits: number, options: SemaphoreAcquireOptions | undefined): SemaphoreGuard {
    this.available -= permits;
    const trace = holdsTraced() ? traceHoldStart(this, undefined, options?.name) : undefined;
    return new SemaphoreGuard(this, permits, trace);
  }

  /** The rejection of a bad `options.permits` (checked before the other options), or `undefined`. */
  private rejectPermits(options: SemaphoreAcquireOptions | undefined): Promise<never> | undefined {
    if (options === undefined || options === null || typeof options !== 'object') return undefined;
    const permits = options.permits;
    if (permits === undefined) return undefined;
    try {
      this.checkRequest(permits, `${this.label}.acquire: options.permits`);
    } catch (error) {
      return Promise.reject(error);
    }
    return undefined;
  }

  /**
   * Takes `permits` permits (default 1) if they are free now and nobody is queued ahead.
   *
   * @returns the guard, or `undefined` when the permits are not available now.
   * @throws TypeError | RangeError - when `permits` is not an integer `>= 1`, or (bounded) more than it can ever
   *   hold.
   *
   * @example
   * ```ts
   * const guard = semaphore.tryAcquire();
   * if (guard === undefined) return 'busy';
   * ```
   */
  tryAcquire(permits = 1): Guard | undefined {
    if (permits !== 1) this.checkRequest(permits, `${this.label}.tryAcquire: permits`); // 1 always passes
    if (this.available < permits || !this.outranksQueue(0)) return undefined;
    this.available -= permits;
    return new SemaphoreGuard(
      this,
      permits,
      holdsTraced() ? traceHoldStart(this, undefined, undefined) : undefined,
    );
  }

  /**
   * Gives `permits` permits (default 1) back and grants them to the waiters they satisfy, in order. Any caller may
   * release (as with Python's `Semaphore`); prefer `guard.release()`, which returns exactly what was taken.
   *
   * @throws TypeError | RangeError - when `permits` is not a safe integer `>= 1`, or the value would rise above
   *   2^53 - 1; (bounded) when it would rise above its initial value.
   *
   * @example
   * ```ts
   * const ready = new AsyncSemaphore(0);
   * setTimeout(() => ready.release(), 10);
   * await ready.acquire();
   * ```
   */
  release(permits = 1): void {
    if (permits !== 1) checkInteger(permits, `${this.label}.release: permits`, 1); // no string on the hot path
    this.give(permits);
  }

  /**
   * @internal Gives back `permits`, a checked count (a guard's own, or checked by `release`), and grants the
   * waiters they satisfy.
   */
  give(permits: number): void {
    if (this.available + permits > Number.MAX_SAFE_INTEGER) {
      throw new RangeError(
        `${this.label}.release: ${permits} permit(s) would raise the value above 2^53 - 1, where it would lose permits`,
      );
    }
    this.checkRelease(permits);
    this.available += permits;
    this.grantWaiters();
  }

  /**
   * Acquires, runs `fn` and releases when `fn` settles, whether it returns or throws.
   *
   * @param fn - the guarded work; it receives the guard.
   * @param options - `permits`, `signal` and `timeout` for the acquisition.
   * @returns what `fn` returns.
   * @throws TypeError - (rejection) when `fn` is not a function; whatever `acquire` or `fn` throws.
   *
   * @cancellation `options` only bound the wait; once `fn` runs it is not interrupted.
   *
   * @example
   * ```ts
   * const body = await semaphore.run(() => fetchPage(url));
   * ```
   */
  run<T>(fn: (guard: Guard) => T | PromiseLike<T>, options?: SemaphoreAcquireOptions): Promise<T> {
    // A bad fn is checked before the options, as acquire-then-call would.
    if (typeof fn !== 'function') return runHolding(this, fn, options);
    return this.rejectPermits(options) ?? admitRanked(this, 'acquire', options, this.runAdmitted, fn);
  }

  /**
   * The body of `run` once its options are checked. When the permits fit: taken now, and fn called holding them (no
   * promise for the acquisition). Contended: the queue entry carries fn and starts it on its grant (no async frame
   * parked on an acquire).
   */
  private runAdmitted<T>(
    options: SemaphoreAcquireOptions | undefined,
    priority: number,
    fn: RunBody<T>,
  ): Promise<T> {
    const permits = options?.permits ?? 1;
    if (this.available >= permits && this.outranksQueue(priority))
      return runHeld(this.take(permits, options), fn);
    return this.queue.parkRun(options, permits, priority, fn);
  }

  /**
   * Rejects every queued caller and touches no holder. Later calls queue as usual.
   *
   * @param reason - what every waiter rejects with; without it, each gets its own `CancelledError`.
   * @returns how many waiters it rejected.
   *
   * @example
   * ```ts
   * const dropped = pool.cancelWaiters(new Error('shutting down'));
   * ```
   */
  cancelWaiters(reason?: unknown): number {
    const count = this.queue.size;
    const own = arguments.length === 0;
    this.queue.rejectAll(() => (own ? new CancelledError(`${this.label}: the wait was cancelled`) : reason));
    return count;
  }

  /**
   * Wraps `fn` so that every call of the wrapper runs it holding permits: `(...args) => semaphore.run(() =>
   * fn(...args), options)` (p-limit's `limitFunction`).
   *
   * @param fn - the function to limit.
   * @param options - `permits`, `signal` and `timeout` for every call's acquisition.
   * @returns the wrapper; it returns a promise of what `fn` returns.
   * @throws TypeError - at once, when `fn` is not a function.
   *
   * @cancellation as {@link AsyncSemaphore.run}, for each call.
   * @fairness as {@link AsyncSemaphore.run}, for each call.
   *
   * @example
   * ```ts
   * const fetchLimited = pool.wrap((url: string) => fetch(url));
   * ```
   */
  wrap<A extends unknown[], R>(
    fn: (...args: A) => R | PromiseLike<R>,
    options?: SemaphoreAcquireOptions,
  ): (...args: A) => Promise<R> {
    checkFunction(fn, `${this.label}.wrap: fn`);
    return (...args: A) => this.run(() => fn(...args), options);
  }

  /** Describes the state, such as `AsyncSemaphore(pool)[value=0, waiting=3]`. */
  toString(): string {
    return `${this.label}[value=${this.value}, waiting=${this.queue.size}]`;
  }

  /**
   * Whether a newcomer of `priority` would be the best waiter: nobody waits, or it outranks the head. Such a
   * request that fits is granted at once (and with `timeout: 0`), so the head of the queue never fits.
   */
  private outranksQueue(priority: number): boolean {
    const best = this.queue.bestPriority;
    return best === undefined || priority > best;
  }

  /** Validates a request for `permits`; the bounded semaphore also refuses one it can never satisfy. */
  protected checkRequest(permits: number, name: string): void {
    checkInteger(permits, name, 1);
  }

  /** Validates giving `permits` back; the bounded semaphore refuses to rise above its initial value. */
  protected checkRelease(_permits: number): void {}

  /**
   * Grants waiters from the head while the free permits satisfy them; restores the class invariant. With no permit
   * free, nobody is satisfied (every request is of 1 or more), and the queue is not looked at: a limiter's grant
   * that takes the permit just released reads the queue once, not twice.
   */
  protected grantWaiters(): void {
    const queue = this.queue;
    while (this.available > 0) {
      const permits = queue.bestValue;
      if (permits === undefined || permits > this.available) return;
      this.available -= permits;
      const trace = holdsTraced() ? traceHoldStart(this, undefined, queue.bestHolderName) : undefined;
      queue.grantBest(new SemaphoreGuard(this, permits, trace));
    }
  }
}
