/**
 * The storage under a {@link WaitQueue}: its priority levels (a {@link WaitRing} each), the live count, and the
 * conversion of plain entries into {@link Waiter} objects. The queue's verbs are in `wait-queue.ts`.
 *
 * @module
 */

import { popHeap, pushHeap } from './max-heap.js';
import { currentHook } from './scheduler.js';
import { WaitRing } from './wait-ring.js';
import {
  PlainWait,
  rejectThrough,
  isWaiter,
  Waiter,
  type QueueOwner,
  type Resolve,
  type WaiterHome,
} from './waiter.js';

/** What a ring slot holds: a plain waiter's `resolve`, a plain waiter with both functions or a run, or an object. */
export type Entry<T, V> = Resolve<T> | PlainWait | Waiter<T, V>;

/**
 * The levels of a wait queue and the operations on them that every verb shares. Invariants: the ring of priority 0
 * always exists; a key is in `others` iff it is in `heap`; `count` is the number of live entries of all rings.
 */
export abstract class WaitLevels<T, V> implements WaiterHome<T, V> {
  abstract readonly owner: QueueOwner;
  abstract cancel(waiter: Waiter<T, V>, reason: unknown): boolean;

  /** The level of the default priority 0, which every queue has. */
  protected readonly main = new WaitRing<Entry<T, V>>(0);
  /** Levels of other priorities, created on first use. Invariant: a key is in `others` iff it is in `heap`. */
  protected others: Map<number, WaitRing<Entry<T, V>>> | undefined = undefined;
  /** Max-heap of the priorities in `others` (empty levels are dropped lazily, by {@link WaitQueue.bestRing}). */
  protected heap: number[] | undefined = undefined;
  protected count = 0;

  /**
   * What every waiter parked now carries, best first (levels by descending priority, FIFO within each): a snapshot,
   * O(n), for diagnostics and specs. Turns no entry into an object.
   */
  values(): V[] {
    const values: V[] = [];
    for (const ring of this.ringsByPriority())
      for (const [entry, seq] of ring) values.push(isWaiter(entry) ? entry.value : (ring.valueAt(seq) as V));
    return values;
  }

  protected ringsByPriority(): WaitRing<Entry<T, V>>[] {
    const others = this.others;
    if (others === undefined || others.size === 0) return [this.main];
    const levels = [...others.values()].sort((a, b) => b.priority - a.priority);
    const above = levels.filter((level) => level.priority > 0);
    return [...above, this.main, ...levels.slice(above.length)];
  }

  /** The ring holding the best waiter, or `undefined` when none waits. */
  protected bestRing(): WaitRing<Entry<T, V>> | undefined {
    const main = this.main;
    const heap = this.heap;
    if (heap === undefined || heap.length === 0) return main.live > 0 ? main : undefined;
    const others = this.others as Map<number, WaitRing<Entry<T, V>>>;
    // Drop emptied levels from the top of the heap (each was entered once: amortised O(log n)).
    for (;;) {
      const top = heap[0] as number;
      const level = others.get(top) as WaitRing<Entry<T, V>>;
      if (level.live > 0) return top > 0 || main.live === 0 ? level : main;
      others.delete(top);
      popHeap(heap);
      if (heap.length === 0) return main.live > 0 ? main : undefined;
    }
  }

  /** The ring of `priority`, which exists while a waiter of that priority is parked. */
  protected ringOf(priority: number): WaitRing<Entry<T, V>> {
    return priority === 0 ? this.main : (this.others?.get(priority) as WaitRing<Entry<T, V>>);
  }

  protected levelFor(priority: number): WaitRing<Entry<T, V>> {
    if (priority === 0) return this.main;
    const others = (this.others ??= new Map());
    let level = others.get(priority);
    if (level === undefined) {
      level = new WaitRing<Entry<T, V>>(priority);
      others.set(priority, level);
      pushHeap((this.heap ??= []), priority);
    }
    return level;
  }

  protected append(entry: Entry<T, V>, value: V | undefined, priority: number): void {
    const ring = this.levelFor(priority);
    const seq = ring.push(entry, value);
    if (isWaiter(entry)) entry.place(this, seq);
    this.count++;
  }

  protected removeAt(ring: WaitRing<Entry<T, V>>, seq: number, entry: Entry<T, V>): void {
    ring.remove(seq);
    if (isWaiter(entry)) entry.place(undefined, -1);
    this.count--;
  }

  /** The entry at `seq` of `ring` as a {@link Waiter}: a plain entry becomes one, in its place. */
  protected waiterAt(ring: WaitRing<Entry<T, V>>, seq: number): Waiter<T, V> {
    const entry = ring.entryAt(seq) as Entry<T, V>;
    if (isWaiter(entry)) return entry;
    const waiter = this.asWaiter(entry, ring.valueAt(seq) as V, ring.priority);
    ring.replace(seq, waiter);
    waiter.place(this, seq);
    return waiter;
  }

  /** A waiter object for a plain entry (not placed in any queue). */
  protected asWaiter(entry: Resolve<T> | PlainWait, value: V, priority: number): Waiter<T, V> {
    if (typeof entry === 'function') return new Waiter<T, V>(this, value, priority, entry, undefined);
    return new Waiter<T, V>(this, value, priority, entry.resolve as never, entry.reject, entry.fn);
  }

  /** Delivers the outcome of an entry already removed: resolves, starts a run, or rejects. */
  protected settleEntry(
    entry: Entry<T, V>,
    value: V | undefined,
    priority: number,
    succeeded: boolean,
    outcome: unknown,
  ): void {
    if (isWaiter(entry)) {
      entry.detach();
      entry.settle(succeeded, outcome, this.owner);
      return;
    }
    if (currentHook() !== undefined) {
      // Installed after this waiter parked: the hook still decides when it resumes, which needs an object.
      const waiter = this.asWaiter(entry, value as V, priority);
      waiter.place(undefined, -1);
      waiter.settle(succeeded, outcome, this.owner);
    } else if (typeof entry === 'function') {
      if (succeeded) entry(outcome as T);
      else rejectThrough(entry, outcome);
    } else if (succeeded) entry.grant(outcome);
    else entry.fail(outcome);
  }
}
