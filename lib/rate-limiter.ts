import { Primitive } from './core/primitive.js';
import { CancelledError } from './errors.js';
import {
  admit,
  checkFunction,
  checkInteger,
  describe,
  type NameOptions,
  type WaitOptions,
} from './core/options.js';
import { clearTimer, now as clockNow, setTimer } from './core/scheduler.js';
import { WaitQueue } from './core/wait-queue.js';
import { SlidingWindow, TokenBucket, type RateBudget } from './rate-budget.js';

/** Options of an {@link AsyncRateLimiter}. */
export interface RateLimiterOptions extends NameOptions {
  /** Permits per `interval`: an integer `>= 1`. */
  limit: number;
  /** The length of the window, in ms: a finite number `> 0`. */
  interval: number;
  /** Token bucket only: the most permits granted at once after a quiet spell; an integer `>= 1`, default `limit`. */
  burst?: number | undefined;
  /** A sliding window instead of a token bucket: at most `limit` in **every** window of `interval` ms. */
  strict?: boolean | undefined;
}

/** Wait options of a rate limiter, plus how many permits to spend. */
export interface RateLimiterAcquireOptions extends WaitOptions {
  /** Permits to spend at once: an integer `>= 1`, default 1, at most `burst` (`limit` when strict). */
  permits?: number | undefined;
}

/**
 * Limits how often something happens: at most `limit` permits per `interval` ms, for calls to an API, retries,
 * messages. Unlike a semaphore, permits are spent, not returned: time gives them back.
 *
 * By default a token bucket: it starts full with `burst` permits (default `limit`), refills continuously at `limit`
 * per `interval`, and in any window of length `t` grants at most `burst + limit * t / interval`. With
 * `strict: true`, a sliding window: in every half-open window `[t, t + interval)` at most `limit` permits, with no
 * burst at a window's edge; a permit granted at `t` frees its slot at `t + interval` exactly. Use `strict` when the
 * other side counts requests per window (most API quotas); use the bucket to smooth a rate.
 *
 * `pauseFor(ms)` stops every grant for a while (a `429 Too Many Requests` with `Retry-After`).
 *
 * @fairness head-of-line FIFO. Waiters are granted strictly in order; a large request at the head blocks later
 * small ones, so it is never starved. A newcomer never passes a queued waiter (`tryAcquire` fails while anyone
 * waits).
 *
 * **Timers:** at most one per limiter, whatever the number of waiters, started through the core's timers only while
 * someone waits, so `sinon.useFakeTimers()` and the harness control it. An idle limiter holds no timer. Time is read
 * from the core's clock when needed (`Date.now()`, or the harness's virtual time while a simulation runs): a limiter
 * built before a simulation runs works in it, but one that granted permits in real time keeps those times, so do
 * not carry a busy limiter into a simulation.
 *
 * @example
 * ```ts
 * const api = new AsyncRateLimiter({ limit: 10, interval: 1000, strict: true, name: 'api' });
 * const pages = await Promise.all(urls.map((url) => api.run(() => fetch(url))));
 * ```
 */
export class AsyncRateLimiter extends Primitive {
  /** Permits per `interval`. */
  readonly limit: number;
  /** The window, in ms. */
  readonly interval: number;
  /** The most permits one request may ask for: `burst`, or `limit` when strict. */
  readonly burst: number;
  /** Whether it is a sliding window rather than a token bucket. */
  readonly strict: boolean;
  private readonly budget: RateBudget;
  /**
   * Invariant: when a waiter is queued, the head cannot be granted now (the pause has not ended, or the budget has
   * fewer free permits than it asks for), and exactly one timer is pending, due at {@link timerAt}.
   */
  private readonly queue: WaitQueue<void, number>;
  private timer: unknown = undefined;
  private timerAt = 0;
  /** Nothing is granted before this time. */
  private pausedUntil = -Infinity;

  /**
   * @param options - `limit` and `interval` (required), `burst`, `strict`, `name`; see {@link RateLimiterOptions}.
   * @throws TypeError | RangeError - naming the option that is missing or not valid.
   */
  constructor(options: RateLimiterOptions) {
    super('AsyncRateLimiter', options);
    const label = this.label;
    if (options === undefined) {
      throw new TypeError(`${label}: options { limit, interval } are required, got undefined`);
    }
    const { limit, interval, burst, strict } = options;
    checkInteger(limit, `${label}: options.limit`, 1);
    if (typeof interval !== 'number') {
      throw new TypeError(`${label}: options.interval must be a number of ms, got ${describe(interval)}`);
    }
    if (!(interval > 0) || interval === Infinity) {
      throw new RangeError(`${label}: options.interval must be a finite number > 0, got ${interval}`);
    }
    if (strict !== undefined && typeof strict !== 'boolean') {
      throw new TypeError(`${label}: options.strict must be a boolean, got ${describe(strict)}`);
    }
    if (burst !== undefined) {
      checkInteger(burst, `${label}: options.burst`, 1);
      if (strict === true && burst !== limit) {
        throw new RangeError(
          `${label}: options.burst (${burst}) has no meaning with strict: true, where a window allows limit (${limit})`,
        );
      }
    }
    this.limit = limit;
    this.interval = interval;
    this.strict = strict === true;
    this.burst = this.strict ? limit : (burst ?? limit);
    this.budget = this.strict
      ? new SlidingWindow(limit, interval)
      : new TokenBucket(limit, interval, this.burst);
    // A waiter that gives up may have been the one blocking smaller requests behind it.
    this.queue = new WaitQueue<void, number>(this, () => this.serve());
  }

  /** Whole permits that could be spent now: 0 during a pause; while someone waits, fewer than the head asks for. */
  get available(): number {
    const now = this.now();
    return now < this.pausedUntil ? 0 : this.budget.free(now);
  }

  /** How many callers are queued. */
  get waiting(): number {
    return this.queue.size;
  }

  /**
   * Waits until `permits` permits (default 1) can be spent, and spends them.
   *
   * @param options - `permits` (integer `>= 1`, at most {@link AsyncRateLimiter.burst}), plus `signal` and
   *   `timeout`; see {@link WaitOptions}. `timeout: 0` spends only if the permits are free now.
   * @returns a promise that resolves when the permits are spent.
   * @throws TimeoutError - (rejection) when `timeout` expires first.
   * @throws CancelledError - (rejection) when {@link AsyncRateLimiter.cancelWaiters} cancels the wait.
   * @throws TypeError | RangeError - (rejection) for bad options, or more permits than `burst` (`limit` if strict).
   *
   * @cancellation an abort or timeout before the grant removes the caller at once; it has spent nothing and
   * lost its place, and the requests behind it are granted at once if they now fit. After the grant, an abort or
   * timeout does nothing (grant wins).
   *
   * @fairness head-of-line FIFO (see the class).
   *
   * @example
   * ```ts
   * await limiter.acquire({ permits: 5, timeout: 2000 });
   * await sendBatch(items);
   * ```
   */
  acquire(options?: RateLimiterAcquireOptions): Promise<void> {
    let permits = 1;
    if (typeof options === 'object' && options !== null && options.permits !== undefined) {
      permits = options.permits;
      try {
        this.checkPermits(permits, `${this.label}.acquire: options.permits`);
      } catch (error) {
        return Promise.reject(error);
      }
    }
    return admit(this, 'acquire', options, this.acquireAdmitted, permits);
  }

  /** The body of `acquire` once its options are checked: spent at once if nobody waits and they are free. */
  private acquireAdmitted(options: RateLimiterAcquireOptions | undefined, permits: number): Promise<void> {
    if (this.queue.size === 0 && this.spendNow(permits)) return Promise.resolve();
    const promise = this.queue.park(options, permits);
    if (this.timer === undefined) this.arm(this.now());
    return promise;
  }

  /**
   * Spends `permits` permits (default 1) if they are free now, nobody waits and no pause is in force.
   *
   * @param permits - an integer `>= 1`, at most {@link AsyncRateLimiter.burst}.
   * @returns whether the permits were spent.
   * @throws TypeError | RangeError - when `permits` is not an integer `>= 1`, or more than `burst` (`limit` if
   *   strict).
   *
   * @fairness never passes a queued waiter.
   *
   * @example
   * ```ts
   * if (!limiter.tryAcquire()) return 'slow down';
   * ```
   */
  tryAcquire(permits = 1): boolean {
    this.checkPermits(permits, `${this.label}.tryAcquire: permits`);
    return this.queue.size === 0 && this.spendNow(permits);
  }

  /**
   * Waits for the permits, then calls `fn` and returns what it returns.
   *
   * @param fn - the limited work.
   * @param options - `permits`, `signal` and `timeout` for the wait.
   * @returns what `fn` returns (awaited).
   * @throws TypeError - (rejection) when `fn` is not a function; whatever `acquire` or `fn` throws.
   *
   * @cancellation `options` only bound the wait; once `fn` runs it is not interrupted, and its permits stay
   * spent whether it succeeds or fails.
   *
   * @fairness as {@link AsyncRateLimiter.acquire}.
   *
   * @example
   * ```ts
   * const user = await limiter.run(() => fetchUser(id), { timeout: 5000 });
   * ```
   */
  async run<T>(fn: () => T | PromiseLike<T>, options?: RateLimiterAcquireOptions): Promise<T> {
    if (typeof fn !== 'function') checkFunction(fn, `${this.label}.run: fn`);
    await this.acquire(options);
    return await fn();
  }

  /**
   * Returns a function that calls `fn` through {@link AsyncRateLimiter.run}, with the same `options` every time.
   *
   * @param fn - the function to limit.
   * @param options - `permits`, `signal` and `timeout` for each call's wait.
   * @returns `(...args) => limiter.run(() => fn(...args), options)`.
   * @throws TypeError - at once, when `fn` is not a function.
   *
   * @cancellation as {@link AsyncRateLimiter.run}.
   * @fairness as {@link AsyncRateLimiter.run}.
   *
   * @example
   * ```ts
   * const limitedFetch = limiter.wrap((url: string) => fetch(url));
   * await limitedFetch('https://example.com/');
   * ```
   */
  wrap<A extends unknown[], R>(
    fn: (...args: A) => R | PromiseLike<R>,
    options?: RateLimiterAcquireOptions,
  ): (...args: A) => Promise<R> {
    checkFunction(fn, `${this.label}.wrap: fn`);
    return (...args: A) => this.run(() => fn(...args), options);
  }

  /**
   * Grants nothing for `ms` ms from now, as after a `429 Too Many Requests` with `Retry-After`. Overlapping pauses
   * end at the latest end asked for (never the sum, never earlier). The budget keeps refilling meanwhile (a bucket up
   * to `burst`), so when the pause ends the queued waiters are granted in order, as many as fit at once.
   *
   * @param ms - how long, a finite number `>= 0`; 0 does nothing.
   * @throws TypeError | RangeError - when `ms` is not a finite number `>= 0`.
   *
   * @fairness waiters keep their order and their place; `tryAcquire` fails until the pause ends.
   *
   * @example
   * ```ts
   * if (response.status === 429) limiter.pauseFor(Number(response.headers.get('retry-after')) * 1000);
   * ```
   */
  pauseFor(ms: number): void {
    if (typeof ms !== 'number') {
      throw new TypeError(`${this.label}.pauseFor: ms must be a number, got ${describe(ms)}`);
    }
    if (!(ms >= 0) || ms === Infinity) {
      throw new RangeError(`${this.label}.pauseFor: ms must be a finite number >= 0, got ${ms}`);
    }
    const now = this.now();
    if (now + ms <= this.pausedUntil) return;
    this.pausedUntil = now + ms;
    if (this.queue.size > 0) this.arm(now);
  }

  /**
   * Rejects every queued waiter: each with its own {@link CancelledError}, or all with `reason` when one is given.
   * Permits already granted stay spent; later calls queue as usual.
   *
   * @param reason - what every waiter rejects with (even `undefined`); leave it out for a `CancelledError` each.
   * @returns how many waiters it rejected.
   *
   * @example
   * ```ts
   * process.on('SIGTERM', () => limiter.cancelWaiters());
   * ```
   */
  cancelWaiters(reason?: unknown): number {
    if (this.queue.size === 0) return 0;
    const count = this.queue.rejectAll(
      arguments.length === 0
        ? () => new CancelledError(`${this.label}: the wait was cancelled`)
        : () => reason,
    );
    this.disarm();
    return count;
  }

  /** Describes the state, such as `AsyncRateLimiter(api)[available=0, waiting=3, paused]`. */
  protected describeState(): string {
    const paused = this.now() < this.pausedUntil ? ', paused' : '';
    return `available=${this.available}, waiting=${this.queue.size}${paused}`;
  }

  private checkPermits(permits: number, name: string): void {
    checkInteger(permits, name, 1);
    if (permits > this.burst) {
      const bound = this.strict ? `limit (${this.burst})` : `burst (${this.burst})`;
      throw new RangeError(
        `${name} (${permits}) exceeds the ${bound} of ${this.label}: it could never be granted`,
      );
    }
  }

  /**
   * The time, from the core's clock: virtual under the harness and fake timers. Read only when needed (not at
   * construction), so a limiter built before a simulation runs lives on the simulation's clock. If the system clock
   * steps back, both budgets only grow more cautious: a grant never comes early.
   */
  private now(): number {
    return clockNow();
  }

  /** Spends `permits` if they are free now and no pause is in force. */
  private spendNow(permits: number): boolean {
    const now = this.now();
    if (now < this.pausedUntil || this.budget.free(now) < permits) return false;
    this.budget.take(permits, now);
    return true;
  }

  /** Grants waiters from the head while they fit, then re-arms the timer for the new head: restores the invariant. */
  private serve(): void {
    const now = this.now();
    if (now >= this.pausedUntil) {
      const queue = this.queue;
      for (let permits = queue.bestValue; permits !== undefined; permits = queue.bestValue) {
        if (this.budget.free(now) < permits) break;
        this.budget.take(permits, now);
        queue.grantBest(undefined);
      }
    }
    this.arm(now);
  }

  /** Points the one timer at the moment the head can be granted, or clears it when nobody waits. */
  private arm(now: number): void {
    const permits = this.queue.bestValue;
    if (permits === undefined) {
      this.disarm();
      return;
    }
    const at = Math.max(this.pausedUntil, this.budget.readyAt(permits, now));
    if (this.timer !== undefined && this.timerAt === at) return;
    this.disarm();
    this.timerAt = at;
    // Rounded up, so it never fires before the permits are free; at least 1 ms if rounding says "now" but the
    // head did not fit (an interval that is not a whole number of ms), so it can never spin.
    this.timer = setTimer(this.fire, at > now ? Math.ceil(at - now) : 1);
  }

  private disarm(): void {
    if (this.timer === undefined) return;
    clearTimer(this.timer);
    this.timer = undefined;
  }

  private readonly fire = (): void => {
    this.timer = undefined;
    this.serve();
  };
}
