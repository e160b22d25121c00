/**
 * The storage of one priority level of a {@link WaitQueue}: a FIFO ring of entries.
 *
 * A power-of-two array indexed by absolute positions (`seq & mask`): the entries live at `[start, end)`, oldest
 * first. A removed entry in the middle becomes a tombstone (an empty slot); the exact live count is kept apart.
 * The ring is rebuilt (its live entries packed, in order) when it is full, or when tombstones outnumber
 * `max(64, live)`: each rebuild is paid for by as many earlier appends or removals, so append, grant and removal
 * are amortised O(1). A plain array slot per waiter keeps no pointer chain to walk and no old-to-young write per
 * append, which keeps the per-waiter cost flat from a thousand waiters to a million.
 *
 * Values (what a primitive parks along with a plain waiter) live in a parallel array, allocated the first time a
 * plain entry carries a value other than `undefined`: a lock's waiters cost one slot each.
 *
 * @module
 */

import { isWaiter, type Waiter } from './waiter.js';

/** The fewest slots a ring has, and the tombstones it tolerates before packing. */
const MIN_CAPACITY = 16;
const MIN_TOMBSTONES = 64;
/** A ring emptied while larger than this gives its arrays back (a drained million leaves no megabytes behind). */
const KEEP_CAPACITY = 1024;
/** The slots of a ring that never held an entry (never written: a ring allocates before its first append). */
const EMPTY: readonly unknown[] = Object.freeze([]);

/** One priority level's waiters, in arrival order. */
export class WaitRing<E extends object> {
  /** No array until the first append: an idle queue costs no slots. */
  private entries: (E | undefined)[] = EMPTY as (E | undefined)[];
  private values: unknown[] | undefined = undefined;
  private mask = -1;
  /** The position of the oldest slot in use (live, or a tombstone not yet dropped). */
  private start = 0;
  /** The position after the newest entry. */
  private end = 0;
  /** Live entries. Invariant: `live <= end - start <= mask + 1`; the difference is the tombstones. */
  live = 0;

  /** @param priority - the priority of every waiter in this level. */
  constructor(readonly priority: number) {}

  /** Appends `entry` (with `value`, kept for a plain entry); returns its position. Amortised O(1). */
  push(entry: E, value: unknown): number {
    if (this.end - this.start > this.mask) this.grow();
    const seq = this.end++;
    const index = seq & this.mask;
    this.entries[index] = entry;
    if (value !== undefined) (this.values ??= new Array<unknown>(this.mask + 1))[index] = value;
    this.live++;
    return seq;
  }

  /** The position of the oldest live entry, or -1 when none is left. Drops the tombstones before it. */
  first(): number {
    if (this.live === 0) return -1;
    const entries = this.entries;
    const mask = this.mask;
    let seq = this.start;
    while (entries[seq & mask] === undefined) seq++;
    this.start = seq;
    return seq;
  }

  /** The position of the newest live entry, or -1. */
  last(): number {
    return this.live === 0 || this.entries[(this.end - 1) & this.mask] === undefined ? -1 : this.end - 1;
  }

  /** The entry at `seq`, if `seq` holds one. */
  entryAt(seq: number): E | undefined {
    return seq >= this.start && seq < this.end ? this.entries[seq & this.mask] : undefined;
  }

  /** What the plain entry at `seq` carries. */
  valueAt(seq: number): unknown {
    const values = this.values;
    return values === undefined ? undefined : values[seq & this.mask];
  }

  /** Puts `entry` in the place of the one at `seq` (a plain entry turned into a {@link Waiter}). */
  replace(seq: number, entry: E): void {
    const index = seq & this.mask;
    this.entries[index] = entry;
    if (this.values !== undefined) this.values[index] = undefined;
  }

  /**
   * Removes the live entry at `seq`: O(1) for the oldest; a tombstone elsewhere, with a rebuild (amortised O(1))
   * once tombstones outnumber `max(64, live)`.
   */
  remove(seq: number): void {
    const index = seq & this.mask;
    this.entries[index] = undefined;
    if (this.values !== undefined) this.values[index] = undefined;
    if (--this.live === 0) {
      this.clear();
      return;
    }
    if (seq === this.start) this.start++;
    else if (this.end - this.start - this.live > Math.max(MIN_TOMBSTONES, this.live))
      this.rebuild(this.mask + 1);
  }

  /**
   * Removes every live entry that `test` accepts (given the entry and its value), keeping the others in order, and
   * appends the removed ones to `removed`, oldest first, with their values. O(n): the ring is packed once. `test`
   * must not touch the ring.
   */
  removeWhere(test: (entry: E, value: unknown) => boolean, removed: [E, unknown][]): void {
    const entries = this.entries;
    const mask = this.mask;
    const before = removed.length;
    for (let seq = this.start; seq < this.end; seq++) {
      const entry = entries[seq & mask];
      if (entry === undefined) continue;
      const value = this.valueAt(seq);
      if (!test(entry, value)) continue;
      removed.push([entry, value]);
      entries[seq & mask] = undefined;
      if (this.values !== undefined) this.values[seq & mask] = undefined;
    }
    const taken = removed.length - before;
    if (taken === 0) return;
    this.live -= taken;
    if (this.live === 0) this.clear();
    else this.rebuild(this.mask + 1);
  }

  /** The live entries, oldest first, with their positions. */
  *[Symbol.iterator](): IterableIterator<[E, number]> {
    for (let seq = this.start; seq < this.end; seq++) {
      const entry = this.entries[seq & this.mask];
      if (entry !== undefined) yield [entry, seq];
    }
  }

  /** Empties the ring; a large one gives its arrays back. */
  private clear(): void {
    if (this.mask + 1 > KEEP_CAPACITY) {
      this.entries = EMPTY as (E | undefined)[];
      this.mask = -1;
      this.values = undefined;
    }
    this.start = this.end = 0;
  }

  /** Makes room for one more entry: packs the ring in place when tombstones fill half of it, else doubles it. */
  private grow(): void {
    const capacity = this.mask + 1;
    if (capacity === 0) {
      this.entries = new Array<E | undefined>(MIN_CAPACITY);
      this.mask = MIN_CAPACITY - 1;
      return;
    }
    this.rebuild(this.live * 2 > capacity ? capacity * 2 : capacity);
  }

  /** Packs the live entries, in order, from `start` into arrays of `capacity` slots; renumbers waiter objects. */
  private rebuild(capacity: number): void {
    const entries = new Array<E | undefined>(capacity);
    const old = this.entries;
    const oldValues = this.values;
    const values = oldValues === undefined ? undefined : new Array<unknown>(capacity);
    const oldMask = this.mask;
    const mask = capacity - 1;
    let seq = this.start;
    for (let from = this.start; from < this.end; from++) {
      const entry = old[from & oldMask];
      if (entry === undefined) continue;
      entries[seq & mask] = entry;
      if (values !== undefined) values[seq & mask] = (oldValues as unknown[])[from & oldMask];
      if (isWaiter(entry)) (entry as unknown as Waiter).renumber(seq);
      seq++;
    }
    this.entries = entries;
    this.values = values;
    this.mask = mask;
    this.end = seq;
  }
}
