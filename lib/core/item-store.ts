/**
 * Where a queue keeps its items: one interface, three orders. `AsyncQueue` holds one store by composition and
 * knows nothing of the order: a ring serves first in, first out; a stack, last in, first out; a binary heap
 * (`./heap.ts`), smallest first.
 *
 * @module
 */

/** A store of items. `push` and `take` may throw (a failing comparator): nothing must then have changed. */
export interface ItemStore<T> {
  /** How many items it holds. */
  readonly size: number;
  /** Adds `item`. */
  push(item: T): void;
  /** Removes and returns the item to serve next. The store must not be empty. */
  take(): T;
  /** Drops every item. */
  clear(): void;
}

/** The ring never shrinks below this many slots (a small queue keeps its ring). */
const minimumRing = 64;

/**
 * A FIFO ring buffer whose length is a power of two (0 until the first item), `mask` = length - 1. It doubles when
 * full and halves when at most a quarter full (down to 64 slots), so a burst leaves no memory behind; both are
 * amortised O(1).
 */
export class RingStore<T> implements ItemStore<T> {
  private ring: (T | undefined)[] = [];
  private mask = -1;
  private first = 0;
  private length = 0;

  get size(): number {
    return this.length;
  }

  /** Slots allocated now (for specs of the shrinking). */
  get capacity(): number {
    return this.ring.length;
  }

  push(item: T): void {
    if (this.length === this.ring.length) this.resize(this.ring.length === 0 ? 8 : this.ring.length * 2);
    this.ring[(this.first + this.length) & this.mask] = item;
    this.length++;
  }

  take(): T {
    const first = this.first;
    const item = this.ring[first] as T;
    this.ring[first] = undefined;
    this.first = (first + 1) & this.mask;
    this.length--;
    if (this.length <= this.ring.length >> 2 && this.ring.length > minimumRing)
      this.resize(this.ring.length >> 1);
    return item;
  }

  clear(): void {
    this.ring = [];
    this.mask = -1;
    this.first = 0;
    this.length = 0;
  }

  /** Moves the items, in order, to a new ring of `capacity` slots (a power of two, at least `length`). */
  private resize(capacity: number): void {
    const old = this.ring;
    const ring = new Array<T | undefined>(capacity).fill(undefined);
    for (let index = 0; index < this.length; index++) ring[index] = old[(this.first + index) & this.mask];
    this.ring = ring;
    this.mask = capacity - 1;
    this.first = 0;
  }
}

/** A LIFO store: the most recently pushed item is taken first. */
export class StackStore<T> implements ItemStore<T> {
  private readonly items: T[] = [];

  get size(): number {
    return this.items.length;
  }

  push(item: T): void {
    this.items.push(item);
  }

  take(): T {
    return this.items.pop() as T;
  }

  clear(): void {
    this.items.length = 0;
  }
}
