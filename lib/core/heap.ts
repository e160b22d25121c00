/**
 * A stable binary min-heap: the item store of `AsyncPriorityQueue`.
 *
 * @module
 */

import type { ItemStore } from './item-store.js';

/**
 * A binary min-heap ordered by `compare`, FIFO among equal items: ties are broken by an insertion sequence number,
 * so it is stable. `push` and `pop` are O(log n); neither allocates per item (items and sequence numbers live in
 * two parallel arrays).
 *
 * Exception-safe: `compare` is only called while the heap is being read, before anything moves, so a `compare`
 * that throws leaves the heap exactly as it was (the item is not inserted, or not removed), and the error
 * propagates to the caller.
 *
 * Invariant: for every index `i > 0`, the entry at `parent(i)` is not after the entry at `i` (by `compare`, then
 * by sequence number).
 */
export class BinaryHeap<T> implements ItemStore<T> {
  private readonly items: T[] = [];
  private readonly sequences: number[] = [];
  private nextSequence = 0;
  /** Positions visited by the last downward search of `pop`, reused so that `pop` does not allocate. */
  private readonly path: number[] = [];

  constructor(private readonly compare: (a: T, b: T) => number) {}

  /** How many items the heap holds. */
  get size(): number {
    return this.items.length;
  }

  /** Inserts `item` after every item equal to it. */
  push(item: T): void {
    const items = this.items;
    const sequences = this.sequences;
    const sequence = this.nextSequence;
    // Search first (the only calls to compare), then move: a throwing compare changes nothing.
    let position = items.length;
    while (position > 0) {
      const parent = (position - 1) >> 1;
      if (!(this.compare(item, items[parent] as T) < 0)) break;
      position = parent;
    }
    this.nextSequence = sequence + 1;
    for (let hole = items.length; hole > position;) {
      const parent = (hole - 1) >> 1;
      items[hole] = items[parent] as T;
      sequences[hole] = sequences[parent] as number;
      hole = parent;
    }
    items[position] = item;
    sequences[position] = sequence;
  }

  /** Removes and returns the first item (the smallest; the oldest among equals). The heap must not be empty. */
  take(): T {
    const items = this.items;
    const sequences = this.sequences;
    const top = items[0] as T;
    const lastIndex = items.length - 1;
    if (lastIndex === 0) {
      items.length = 0;
      sequences.length = 0;
      return top;
    }
    // The last entry fills the hole at the root; find where it settles without moving anything yet.
    const item = items[lastIndex] as T;
    const sequence = sequences[lastIndex] as number;
    const path = this.path;
    path.length = 0;
    let hole = 0;
    for (;;) {
      let child = 2 * hole + 1;
      if (child >= lastIndex) break;
      const right = child + 1;
      if (right < lastIndex && this.before(right, child)) child = right;
      if (!this.entryBefore(child, item, sequence)) break;
      path.push(child);
      hole = child;
    }
    let target = 0;
    for (let index = 0; index < path.length; index++) {
      const child = path[index] as number;
      items[target] = items[child] as T;
      sequences[target] = sequences[child] as number;
      target = child;
    }
    items[target] = item;
    sequences[target] = sequence;
    items.length = lastIndex;
    sequences.length = lastIndex;
    return top;
  }

  /** Drops every item. */
  clear(): void {
    this.items.length = 0;
    this.sequences.length = 0;
    this.path.length = 0;
  }

  /** Whether the entry at index `a` comes before the entry at index `b`. */
  private before(a: number, b: number): boolean {
    const order = this.compare(this.items[a] as T, this.items[b] as T);
    return order < 0 || (order === 0 && (this.sequences[a] as number) < (this.sequences[b] as number));
  }

  /** Whether the entry at `index` comes before the entry (`item`, `sequence`). */
  private entryBefore(index: number, item: T, sequence: number): boolean {
    const order = this.compare(this.items[index] as T, item);
    return order < 0 || (order === 0 && (this.sequences[index] as number) < sequence);
  }
}
