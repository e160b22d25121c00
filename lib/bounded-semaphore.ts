import { checkInteger, type NameOptions } from './core/options.js';
import { AsyncSemaphore } from './semaphore.js';

/**
 * A semaphore with a capacity: it never holds more permits than `capacity` (initially its value), a `release` above
 * it throws `RangeError` (it is a bug: something released what it never took), and a request for more permits than
 * the capacity rejects with `RangeError` instead of waiting forever. The capacity can change at run time (p-limit's
 * `concurrency`, Trio's `CapacityLimiter.total_tokens`); see {@link AsyncBoundedSemaphore.capacity}.
 *
 * @example
 * ```ts
 * const connections = new AsyncBoundedSemaphore(2);
 * const guard = await connections.acquire();
 * guard.release();
 * try {
 *   connections.release(); // one release too many
 * } catch (error) {
 *   console.log(error instanceof RangeError); // true: the value would rise above 2
 * }
 * ```
 */
export class AsyncBoundedSemaphore extends AsyncSemaphore {
  /** The most permits that may be held at once. Invariant: `held === limit - available`. */
  private limit: number;

  /**
   * @param value - the initial capacity (and value): an integer `>= 0`, default 1.
   * @param options - `name`: shown by `toString()`, in timeout messages and in deadlock reports.
   * @throws TypeError | RangeError - when `value` is not an integer `>= 0` or `options.name` is not a string.
   */
  constructor(value = 1, options?: NameOptions) {
    super(value, options);
    this.limit = value;
  }

  protected override get kind(): string {
    return 'AsyncBoundedSemaphore';
  }

  /** The capacity, under its older name. */
  get bound(): number {
    return this.limit;
  }

  /**
   * How many permits may be held at once (p-limit's `concurrency`, Trio's `total_tokens`): an integer `>= 0`.
   * Raising it grants queued callers at once, in order. Lowering it below `held` revokes nothing: the holders finish,
   * and nobody new is admitted until `held` drops below the new capacity. Capacity 0 pauses the semaphore. Lowering
   * it never rejects requests already queued, even those larger than the new capacity (they wait for it to rise, or
   * are cancelled).
   *
   * @throws TypeError | RangeError - (on set) when the value is not an integer `>= 0`.
   *
   * @example
   * ```ts
   * const limit = new AsyncBoundedSemaphore(4);
   * limit.capacity = 8; // up to 8 at once from now on
   * ```
   */
  get capacity(): number {
    return this.limit;
  }

  set capacity(capacity: number) {
    checkInteger(capacity, `${this.label}.capacity`, 0);
    this.available += capacity - this.limit;
    this.limit = capacity;
    this.grantWaiters();
  }

  /** Permits in use now: `capacity - value` while `held <= capacity`; more after the capacity was lowered. */
  get held(): number {
    return this.limit - this.available;
  }

  protected override checkRequest(permits: number, name: string): void {
    super.checkRequest(permits, name);
    if (permits > this.limit && this.limit > 0) {
      throw new RangeError(`${name} (${permits}) exceeds the capacity of ${this.label} (${this.limit})`);
    }
  }

  protected override checkRelease(permits: number): void {
    if (this.available + permits > this.limit) {
      throw new RangeError(
        `${this.label}: releasing ${permits} permit(s) would raise the value above its bound (${this.limit})`,
      );
    }
  }
}
