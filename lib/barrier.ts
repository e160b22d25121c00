import { Primitive } from './core/primitive.js';
import { BrokenBarrierError, TimeoutError } from './errors.js';
import { admit, checkInteger, type NameOptions, type WaitOptions } from './core/options.js';
import { WaitQueue } from './core/wait-queue.js';

/**
 * A reusable barrier for a fixed number of parties: each `wait()` blocks until `parties` callers have arrived, then
 * all are released together, each with its own arrival index (0 for the first, `parties - 1` for the last), and
 * the barrier starts the next round. Use it to run phases in lockstep ("every worker finishes step 1 before any
 * starts step 2").
 *
 * If a waiter times out or is aborted, or `abort()` is called, the barrier is **broken**: every party waiting gets
 * a `BrokenBarrierError`, and so does every later `wait()` until `reset()` (as Python's `Barrier`).
 *
 * @fairness a round's parties are released together, in arrival order.
 *
 * @example
 * ```ts
 * const barrier = new AsyncBarrier(3);
 * await Promise.all([0, 1, 2].map(async (worker) => {
 *   await stepOne(worker);
 *   await barrier.wait();
 *   await stepTwo(worker);
 * }));
 * ```
 */
export class AsyncBarrier extends Primitive {
  /** How many callers each round needs. */
  readonly parties: number;
  /** Arrivals in the current round. Invariant: equals the waiters queued, and is less than `parties`. */
  private arrived = 0;
  /**
   * Waiters of the current round, each parked with its arrival index; one that gives up breaks the barrier.
   * Closed while the barrier is broken.
   */
  private readonly queue = new WaitQueue<number, number>(this, () => this.abort());

  /**
   * @param parties - how many callers each round needs: an integer `>= 1`.
   * @param options - `name`: shown by `toString()`, in timeout messages and in deadlock reports.
   * @throws TypeError | RangeError - when `parties` is not an integer `>= 1` or `options.name` is not a string.
   */
  constructor(parties: number, options?: NameOptions) {
    super('AsyncBarrier', options);
    checkInteger(parties, `${this.label}: parties`, 1);
    this.parties = parties;
  }

  /** How many parties wait in the current round. */
  get waiting(): number {
    return this.queue.size;
  }

  /** Whether the barrier is broken (until `reset()`). */
  get broken(): boolean {
    return this.queue.closed;
  }

  /**
   * Arrives at the barrier and waits for the round to fill.
   *
   * @param options - `signal` aborts the wait, `timeout` (ms) bounds it; see {@link WaitOptions}.
   * @returns this caller's arrival index in its round, from 0 to `parties - 1`.
   * @throws BrokenBarrierError - (rejection) when the barrier is or becomes broken while waiting.
   * @throws TimeoutError - (rejection) when `timeout` expires first; the barrier breaks for the others.
   * @throws TypeError | RangeError - (rejection) for bad options.
   *
   * @cancellation an abort or timeout before the round fills breaks the barrier (the others get
   * `BrokenBarrierError`); an already-aborted signal rejects without arriving. Once the round has filled, a later
   * abort does nothing.
   *
   * @example
   * ```ts
   * const index = await barrier.wait({ timeout: 1000 });
   * if (index === 0) console.log('first to arrive');
   * ```
   */
  wait(options?: WaitOptions): Promise<number> {
    return admit(this, 'wait', options, this.waitAdmitted);
  }

  /** The body of `wait` once its options are checked: the last party releases the round, the others park. */
  private waitAdmitted(options: WaitOptions | undefined): Promise<number> {
    if (this.queue.closed) return Promise.reject(this.queue.closedReason());
    const index = this.arrived;
    if (index === this.parties - 1) {
      this.arrived = 0;
      // Each waiter is granted its own arrival index, the value it parked with.
      for (let waiting = this.queue.bestValue; waiting !== undefined; waiting = this.queue.bestValue)
        this.queue.grantBest(waiting);
      return Promise.resolve(index);
    }
    if (options?.timeout === 0) {
      // Giving up at once is giving up while waiting: it breaks the round for the others.
      this.abort();
      return Promise.reject(new TimeoutError(`${this.label} timed out after 0 ms`));
    }
    this.arrived++;
    return this.queue.park(options, index);
  }

  /**
   * Puts the barrier back to its initial, empty state. Parties waiting now get `BrokenBarrierError`.
   *
   * @example
   * ```ts
   * barrier.reset();
   * ```
   */
  reset(): void {
    this.arrived = 0;
    this.queue.rejectAll(() => this.brokenWhileWaiting());
    this.queue.reopen();
  }

  /**
   * Breaks the barrier: parties waiting now, and every later `wait()` until `reset()`, get `BrokenBarrierError`.
   *
   * @example
   * ```ts
   * barrier.abort();
   * barrier.broken; // true
   * ```
   */
  abort(): void {
    this.arrived = 0;
    // Broken until reset: the waiters are rejected, and so is every later wait.
    // A waiter carries its arrival index; a wait refused at once, nothing.
    this.queue.close((index) =>
      index === undefined ? new BrokenBarrierError(`${this.label} is broken`) : this.brokenWhileWaiting(),
    );
  }

  /** Describes the state, such as `AsyncBarrier(phase)[waiting=2/3]` or `AsyncBarrier[broken]`. */
  protected describeState(): string {
    return this.queue.closed ? 'broken' : `waiting=${this.queue.size}/${this.parties}`;
  }

  private brokenWhileWaiting(): BrokenBarrierError {
    return new BrokenBarrierError(`${this.label} was broken while waiting`);
  }
}
