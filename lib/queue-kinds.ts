/**
 * The two other orders of `AsyncQueue`: smallest first (`AsyncPriorityQueue`, a stable binary heap) and last in,
 * first out (`AsyncLifoQueue`, a stack). Each only chooses its item store.
 *
 * @module
 */

import { BinaryHeap } from './core/heap.js';
import { StackStore, type ItemStore } from './core/item-store.js';
import { checkFunction, type NameOptions } from './core/options.js';
import { AsyncQueue } from './queue.js';

/** Options of an {@link AsyncPriorityQueue}. */
export interface PriorityQueueOptions<T> extends NameOptions {
  /**
   * Orders the items: negative when `a` comes first, positive when `b` does, 0 for equals (served FIFO). Default:
   * the natural order of numbers, strings and bigints (`<`); pass one for any other items.
   */
  compare?: ((a: T, b: T) => number) | undefined;
}

/** The default order: `<` on numbers, strings and bigints. */
function naturalOrder<T>(a: T, b: T): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/**
 * A queue that serves the smallest item first, by `compare`, and equal items in the order they were put: the
 * counterpart of Python's `asyncio.PriorityQueue`, stable. `put` and `get` are O(log n) (a binary heap).
 *
 * Everything else (bounds, waiting, `taskDone`/`join`, `shutdown`, iteration) is {@link AsyncQueue}'s. An item
 * of a blocked `put` is ranked only when it enters the queue.
 *
 * @fairness waiting calls are served FIFO, as in {@link AsyncQueue}; the order applies to the items.
 *
 * @typeParam T - the items.
 *
 * @example
 * ```ts
 * const tasks = new AsyncPriorityQueue<{ priority: number; job: string }>(0, {
 *   compare: (a, b) => a.priority - b.priority,
 * });
 * tasks.putNowait({ priority: 2, job: 'later' });
 * tasks.putNowait({ priority: 1, job: 'first' });
 * (await tasks.get()).job; // 'first'
 * ```
 */
export class AsyncPriorityQueue<T> extends AsyncQueue<T> {
  protected static override readonly kind: string = 'AsyncPriorityQueue';

  /**
   * @param maxsize - the capacity: an integer `>= 0`; 0 (the default) means unbounded.
   * @param options - `compare` orders the items (default: natural order); `name` is shown by `toString()`, in
   *   timeout messages and in deadlock reports.
   * @throws TypeError | RangeError - when `maxsize` is not an integer `>= 0`, `options.compare` is not a function
   *   or `options.name` is not a string.
   */
  constructor(maxsize = 0, options?: PriorityQueueOptions<T>) {
    super(maxsize, options);
  }

  protected override createStore(options: PriorityQueueOptions<T> | undefined): ItemStore<T> {
    const compare = options?.compare === undefined ? naturalOrder : options.compare;
    checkFunction(compare, `${this.label}: options.compare`);
    return new BinaryHeap<T>(compare);
  }
}

/**
 * A queue that serves the most recently put item first (a stack): the counterpart of Python's
 * `asyncio.LifoQueue`. Everything else is {@link AsyncQueue}'s.
 *
 * @fairness waiting calls are served FIFO, as in {@link AsyncQueue}; only the items are served last-in,
 * first-out.
 *
 * @typeParam T - the items.
 *
 * @example
 * ```ts
 * const stack = new AsyncLifoQueue<number>();
 * stack.putNowait(1);
 * stack.putNowait(2);
 * stack.getNowait(); // 2
 * ```
 */
export class AsyncLifoQueue<T> extends AsyncQueue<T> {
  protected static override readonly kind: string = 'AsyncLifoQueue';

  protected override createStore(): ItemStore<T> {
    return new StackStore<T>();
  }
}
