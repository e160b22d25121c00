import { Primitive } from './core/primitive.js';
import { admit, type NameOptions, type WaitOptions } from './core/options.js';
import { WaitQueue } from './core/wait-queue.js';

/**
 * A flag that tasks can wait for: `set()` wakes every waiter and lets later `wait()` calls through at once, until
 * `clear()`. Use it to announce a one-off or resettable state change ("connected", "shutting down"); to wake
 * waiters one at a time, use an `AsyncCondition` or an `AsyncQueue`.
 *
 * @fairness `set()` wakes every waiter, in the order they started waiting.
 *
 * @example
 * ```ts
 * const ready = new AsyncEvent({ name: 'ready' });
 * setTimeout(() => ready.set(), 10);
 * await ready.wait();
 * ```
 */
export class AsyncEvent extends Primitive {
  /** Invariant: waiters are queued only while the flag is clear. */
  private flag = false;
  private readonly queue = new WaitQueue<void>(this);

  /**
   * @param options - `name`: shown by `toString()`, in timeout messages and in deadlock reports.
   * @throws TypeError - when `options.name` is not a string.
   */
  constructor(options?: NameOptions) {
    super('AsyncEvent', options);
  }

  /** Whether the flag is set. */
  get isSet(): boolean {
    return this.flag;
  }

  /** How many callers wait for the flag. */
  get waiting(): number {
    return this.queue.size;
  }

  /**
   * Sets the flag and wakes every waiter. Setting a set event does nothing.
   *
   * @example
   * ```ts
   * event.set();
   * ```
   */
  set(): void {
    if (this.flag) return;
    this.flag = true;
    this.queue.grantAll(undefined);
  }

  /**
   * Clears the flag; later `wait()` calls block until the next `set()`. Waiters already woken by a `set()` stay woken.
   *
   * @example
   * ```ts
   * event.clear();
   * ```
   */
  clear(): void {
    this.flag = false;
  }

  /**
   * Resolves once the flag is set: at once if it is set now.
   *
   * @param options - `signal` aborts the wait, `timeout` (ms) bounds it; see {@link WaitOptions}.
   * @throws TimeoutError - (rejection) when `timeout` expires first.
   * @throws TypeError | RangeError - (rejection) for bad options.
   *
   * @cancellation an abort or timeout removes the caller at once; a `set()` that came first wins.
   *
   * @example
   * ```ts
   * await event.wait({ timeout: 1000 });
   * ```
   */
  wait(options?: WaitOptions): Promise<void> {
    return admit(this, 'wait', options, this.waitAdmitted);
  }

  /** The body of `wait` once its options are checked: at once when set, else parked until `set()`. */
  private waitAdmitted(options: WaitOptions | undefined): Promise<void> {
    if (this.flag) return Promise.resolve();
    return this.queue.park(options);
  }

  /** Describes the state, such as `AsyncEvent(ready)[clear, waiting=2]`. */
  protected describeState(): string {
    return `${this.flag ? 'set' : 'clear'}, waiting=${this.queue.size}`;
  }
}
