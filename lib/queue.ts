import { Primitive } from './core/primitive.js';
import { QueueEmptyError, QueueFullError, QueueShutDownError } from './errors.js';
import { RingStore, type ItemStore } from './core/item-store.js';
import { admit, checkInteger, describe, type NameOptions, type WaitOptions } from './core/options.js';
import { WaitQueue } from './core/wait-queue.js';

/** The promise of every `put` that completes at once (it carries no state): made at first use, not at load. */
let resolvedOnce: Promise<void> | undefined;
const resolvedVoid = (): Promise<void> => (resolvedOnce ??= Promise.resolve());

/**
 * A first-in, first-out queue for handing items from producers to consumers, with optional back-pressure: the
 * counterpart of Python's `asyncio.Queue` (including `taskDone`/`join` and 3.13's `shutdown`).
 *
 * `put` waits while the queue is full (when `maxsize` is above 0), `get` waits while it is empty. Use it to
 * connect stages of a pipeline or to feed a pool of workers; use {@link AsyncPriorityQueue} to serve the smallest
 * item first and {@link AsyncLifoQueue} for a stack. To merely signal, use an `AsyncEvent` or an `AsyncCondition`.
 *
 * No item is ever lost or duplicated: a `put` that finds a waiting `get` hands its item straight to it, and a
 * `get` from a full queue moves the longest-blocked `put`'s item into the queue, each in one synchronous step.
 * Items are delivered through promises, so a thenable item is adopted by `get` as by any `await`: wrap promises
 * in an object to queue them as they are.
 *
 * @fairness waiting `get` calls are served in FIFO order, and so are waiting `put` calls; a newcomer never
 * overtakes a waiter (`putNowait` on a queue with blocked putters throws `QueueFullError`, `getNowait` with
 * blocked getters finds the queue empty).
 *
 * Subclasses change the order by choosing the item store only (its protected `createStore`): a ring here, a
 * heap in `AsyncPriorityQueue`, a stack in `AsyncLifoQueue`.
 *
 * @typeParam T - the items.
 *
 * @example
 * ```ts
 * const jobs = new AsyncQueue<string>(16, { name: 'jobs' });
 * const worker = async () => {
 *   for await (const job of jobs) {
 *     try {
 *       await handle(job);
 *     } finally {
 *       jobs.taskDone();
 *     }
 *   }
 * };
 * const workers = [worker(), worker()];
 * for (const url of urls) await jobs.put(url);
 * await jobs.join(); // every job handled
 * jobs.shutdown(); // the workers' loops end
 * await Promise.all(workers);
 * ```
 */
export class AsyncQueue<T> extends Primitive {
  /** The kind shown by `toString()` and in error messages; subclasses set their own. */
  protected static readonly kind: string = 'AsyncQueue';
  /** Capacity; 0 means unbounded. */
  readonly maxsize: number;
  /** Callers of `get` waiting for an item. Invariant: getters wait only while the store is empty. */
  private readonly getters = new WaitQueue<T>(this);
  /**
   * Callers of `put` waiting for room, each parked with its item as the waiter's `value`, not yet in the store.
   * Invariant: putters wait only while the store is full.
   */
  private readonly putters = new WaitQueue<void, T>(this);
  /** Callers of `join`. Invariant: joiners wait only while `unfinished > 0`. */
  private readonly joiners = new WaitQueue<void>(this);
  /** Items placed (by a put or a hand-off) and not yet marked done by `taskDone` or dropped by `shutdown(true)`. */
  private unfinished = 0;
  /** The items, in the order this kind of queue serves them. */
  private readonly items: ItemStore<T>;

  /**
   * @param maxsize - the capacity: an integer `>= 0`; 0 (the default) means unbounded.
   * @param options - `name`: shown by `toString()`, in timeout messages and in deadlock reports.
   * @throws TypeError | RangeError - when `maxsize` is not an integer `>= 0`, or `options.name` is not a string.
   */
  constructor(maxsize = 0, options?: NameOptions) {
    super((new.target as typeof AsyncQueue).kind, options);
    checkInteger(maxsize, `${this.label}: maxsize`, 0);
    this.maxsize = maxsize;
    this.items = this.createStore(options);
  }

  /** How many items the queue holds (items of blocked `put` calls are not counted). */
  get size(): number {
    return this.items.size;
  }

  /** Whether the queue holds no item. */
  get empty(): boolean {
    return this.items.size === 0;
  }

  /** Whether the queue holds `maxsize` items; never true for an unbounded queue. */
  get full(): boolean {
    return this.maxsize > 0 && this.items.size >= this.maxsize;
  }

  /** Whether {@link AsyncQueue.shutdown} has been called. */
  get isShutDown(): boolean {
    return this.putters.closed;
  }

  /** How many `get` and `put` calls are waiting (joiners are not counted). */
  get waiting(): number {
    return this.getters.size + this.putters.size;
  }

  /** How many `get` calls are waiting for an item. */
  get waitingGetters(): number {
    return this.getters.size;
  }

  /** How many `put` calls are waiting for room. */
  get waitingPutters(): number {
    return this.putters.size;
  }

  /**
   * Puts `item` into the queue, waiting for room while it is full. A waiting `get` receives the item at once.
   *
   * @param item - the item; any value, `undefined` included.
   * @param options - `signal` aborts the wait, `timeout` (ms) bounds it; see {@link WaitOptions}.
   * @returns a promise that resolves once the item is in the queue (or handed to a getter).
   * @throws QueueShutDownError - (rejection) when the queue is shut down, before the call or while it waits.
   * @throws TimeoutError - (rejection) when `timeout` expires first (`timeout: 0` on a full queue, at once).
   * @throws TypeError | RangeError - (rejection) for bad options.
   *
   * @cancellation an abort or timeout before there is room removes the caller at once: its item was never
   * inserted and it has lost its place. Once the item is in, a later abort or timeout does nothing.
   *
   * @fairness FIFO among waiting putters; the longest-waiting one gets the first free slot.
   *
   * @example
   * ```ts
   * await queue.put(job, { timeout: 1000 });
   * ```
   */
  put(item: T, options?: WaitOptions): Promise<void> {
    return admit(this, 'put', options, this.putAdmitted, item);
  }

  /** The body of `put` once its options are checked: parked while full or shut down (rejected), else placed. */
  private putAdmitted(options: WaitOptions | undefined, item: T): Promise<void> {
    if (this.full || this.putters.closed) return this.putters.park(options, item); // full: no getter waits
    if (this.getters.size > 0) {
      this.unfinished++;
      this.getters.grantBest(item);
      return resolvedVoid();
    }
    try {
      this.items.push(item);
    } catch (error) {
      return Promise.reject(error);
    }
    this.unfinished++;
    return resolvedVoid();
  }

  /**
   * Puts `item` into the queue if there is room now, without waiting.
   *
   * @param item - the item.
   * @throws QueueShutDownError - when the queue is shut down.
   * @throws QueueFullError - when the queue is full (it is whenever putters are waiting).
   *
   * @example
   * ```ts
   * try {
   *   queue.putNowait(job);
   * } catch (error) {
   *   if (error instanceof QueueFullError) dropped++;
   *   else throw error;
   * }
   * ```
   */
  putNowait(item: T): void {
    if (this.putters.closed) throw this.shutDownError('putNowait');
    if (this.getters.size > 0) {
      this.unfinished++;
      this.getters.grantBest(item);
      return;
    }
    if (this.maxsize > 0 && this.items.size >= this.maxsize)
      throw new QueueFullError(`${this.label} is full`);
    this.items.push(item);
    this.unfinished++;
  }

  /**
   * Removes and returns the next item, waiting while the queue is empty. After `shutdown()` it still returns the
   * items left, then rejects.
   *
   * @param options - `signal` aborts the wait, `timeout` (ms) bounds it; see {@link WaitOptions}.
   * @returns the item.
   * @throws QueueShutDownError - (rejection) when the queue is shut down and empty, before the call or while it
   *   waits.
   * @throws TimeoutError - (rejection) when `timeout` expires first (`timeout: 0` on an empty queue, at once).
   * @throws TypeError | RangeError - (rejection) for bad options.
   *
   * @cancellation an abort or timeout before an item is handed over removes the caller at once; it took
   * nothing, and an item put in the same tick goes to the next getter. Once an item has been handed over, a later
   * abort or timeout does nothing: the call resolves with the item.
   *
   * @fairness FIFO among waiting getters.
   *
   * @example
   * ```ts
   * const job = await queue.get({ signal: controller.signal });
   * ```
   */
  get(options?: WaitOptions): Promise<T> {
    return admit(this, 'get', options, this.getAdmitted);
  }

  /** The body of `get` once its options are checked: an item at once, else parked (rejected once shut down). */
  private getAdmitted(options: WaitOptions | undefined): Promise<T> {
    if (this.items.size > 0) {
      let item: T;
      try {
        item = this.items.take();
      } catch (error) {
        return Promise.reject(error);
      }
      this.admitPutter();
      return Promise.resolve(item);
    }
    return this.getters.park(options);
  }

  /**
   * Removes and returns the next item if there is one now, without waiting.
   *
   * @returns the item.
   * @throws QueueShutDownError - when the queue is shut down and empty.
   * @throws QueueEmptyError - when the queue is empty (it is whenever getters are waiting).
   *
   * @example
   * ```ts
   * const batch = [];
   * while (!queue.empty) batch.push(queue.getNowait());
   * ```
   */
  getNowait(): T {
    if (this.items.size === 0) {
      if (this.getters.closed) throw this.shutDownError('getNowait');
      throw new QueueEmptyError(`${this.label} is empty`);
    }
    const item = this.items.take();
    this.admitPutter();
    return item;
  }

  /**
   * Marks one item as processed: the consumer calls it once for every item it got, when done with it. When every
   * item placed in the queue has been marked done, waiting `join` calls resolve.
   *
   * @throws RangeError - when called more times than items were placed in the queue.
   *
   * @example
   * ```ts
   * const job = await queue.get();
   * try {
   *   await handle(job);
   * } finally {
   *   queue.taskDone();
   * }
   * ```
   */
  taskDone(): void {
    if (this.unfinished <= 0)
      throw new RangeError(`${this.label}.taskDone() called more times than items were put`);
    if (--this.unfinished === 0) this.joiners.grantAll(undefined);
  }

  /**
   * Waits until every item placed in the queue has been marked done with {@link AsyncQueue.taskDone} (or dropped
   * by `shutdown(true)`). Resolves at once when nothing is unfinished.
   *
   * @param options - `signal` aborts the wait, `timeout` (ms) bounds it; see {@link WaitOptions}.
   * @throws TimeoutError - (rejection) when `timeout` expires first.
   * @throws TypeError | RangeError - (rejection) for bad options.
   *
   * @cancellation an abort or timeout removes the caller at once; the queue is unaffected.
   *
   * @fairness every joiner is woken, in the order they started waiting, by the `taskDone` that finishes the
   * last item.
   *
   * @example
   * ```ts
   * for (const job of jobs) await queue.put(job);
   * await queue.join();
   * ```
   */
  join(options?: WaitOptions): Promise<void> {
    return admit(this, 'join', options, this.joinAdmitted);
  }

  /** The body of `join` once its options are checked. */
  private joinAdmitted(options: WaitOptions | undefined): Promise<void> {
    return this.unfinished === 0 ? resolvedVoid() : this.joiners.park(options);
  }

  /**
   * Shuts the queue down, as Python 3.13's `Queue.shutdown`. Afterwards `put` and `putNowait` fail with
   * `QueueShutDownError`, and `get`/`getNowait` return the items left, then fail with `QueueShutDownError`.
   * Blocked putters are rejected with `QueueShutDownError` (their items are not inserted), and so are blocked
   * getters (they wait only while the queue is empty). Calling it again does nothing more, except that
   * `shutdown(true)` still drops the items left.
   *
   * @param immediate - also drop the items left, counting each as done for `join` (so `join` resolves once the
   *   items already taken are marked done). A boolean, default `false`.
   * @throws TypeError - when `immediate` is not a boolean (nothing is shut down).
   *
   * @example
   * ```ts
   * queue.shutdown(); // consumers drain what is left, then their `for await` loops end
   * queue.shutdown(true); // stop now: the items left are dropped
   * ```
   */
  shutdown(immediate = false): void {
    if (typeof immediate !== 'boolean') {
      throw new TypeError(`${this.label}.shutdown: immediate must be a boolean, got ${describe(immediate)}`);
    }
    if (immediate && this.items.size > 0) {
      const dropped = this.items.size;
      this.items.clear();
      this.unfinished = Math.max(0, this.unfinished - dropped);
      if (this.unfinished === 0) this.joiners.grantAll(undefined);
    }
    // Reject everyone from now on: getters (who wait only on an empty store) and every later get finding it empty.
    this.getters.close(() => this.shutDownError('get'));
    this.putters.close(() => this.shutDownError('put'));
  }

  /**
   * Iterates over the items as they arrive, with `for await`: each step waits in {@link AsyncQueue.get}. The loop
   * ends when the queue is shut down and drained. It does not call {@link AsyncQueue.taskDone}: the loop body
   * does, if `join` is used.
   *
   * @returns an async iterator over the items.
   * @throws Error - (rejection of `next()`) what `get` rejects with other than `QueueShutDownError`, such as the
   *   error of a failing `compare` of an {@link AsyncPriorityQueue}.
   *
   * @cancellation leaving the loop (`break`, `return`, an exception) takes no further item.
   *
   * @example
   * ```ts
   * for await (const job of queue) {
   *   await handle(job);
   *   queue.taskDone();
   * }
   * ```
   */
  async *[Symbol.asyncIterator](): AsyncGenerator<T, void, undefined> {
    for (;;) {
      let item: T;
      try {
        item = await this.get();
      } catch (error) {
        if (error instanceof QueueShutDownError && this.putters.closed) return;
        throw error;
      }
      yield item;
    }
  }

  /**
   * Describes the state, such as `AsyncQueue(jobs)[size=2/16, getters=0, putters=1]` (`size=2` when unbounded,
   * and `, shut down` at the end once shut down).
   */
  protected describeState(): string {
    const size = this.maxsize > 0 ? `${this.items.size}/${this.maxsize}` : `${this.items.size}`;
    const state = `size=${size}, getters=${this.getters.size}, putters=${this.putters.size}`;
    return `${state}${this.putters.closed ? ', shut down' : ''}`;
  }

  /** Creates the item store (it decides the order); called once, by the constructor: check options here. */
  protected createStore(_options: NameOptions | undefined): ItemStore<T> {
    return new RingStore<T>();
  }

  /**
   * After a take, moves the head putter's item into the store and resolves its `put` (putters wait only while the
   * store is full). A putter whose item the store refuses (a throwing comparator) is rejected; the next is tried.
   */
  private admitPutter(): void {
    const putters = this.putters;
    while (putters.size > 0 && !putters.serveBest(this.storeItem));
  }

  /** Moves a putter's item into the store (which may refuse it: then that putter is rejected with the error). */
  private readonly storeItem = (item: T): void => {
    this.items.push(item);
    this.unfinished++;
  };

  private shutDownError(method: string): QueueShutDownError {
    return new QueueShutDownError(`${this.label}.${method}: the queue is shut down`);
  }
}
