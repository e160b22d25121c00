/**
 * How waiters leave a {@link WaitQueue} other than by a grant, or move to another queue: cancel one, reject all or
 * some, close and reopen (Trio's `break_lot`), repark. The parking and granting verbs are in `wait-queue.ts`, the
 * storage in `wait-levels.ts`.
 *
 * @module
 */

import type { WaitQueue } from './wait-queue.js';
import { WaitLevels, type Entry } from './wait-levels.js';
import { isWaiter, Waiter, type QueueOwner, type WaitHandle } from './waiter.js';

/** Builds the reason each rejected waiter gets, from what it carries. */
export type RejectReason<V> = (value: V) => unknown;

/**
 * The removal and move verbs of a wait queue. Invariant (with those of {@link WaitLevels}): a closed queue holds no
 * waiter.
 */
export abstract class WaitMoves<T, V> extends WaitLevels<T, V> {
  /** Set by {@link WaitMoves.close}: builds the reason a park is rejected with while closed. */
  protected closedWith: ((value: V | undefined) => unknown) | undefined = undefined;

  /**
   * @param owner - the primitive, named in timeout messages and deadlock reports.
   * @param onCancel - called after a waiter was removed by its signal or timeout (or {@link WaitMoves.cancel}), so
   *   the primitive can grant what that waiter was blocking (a weighted semaphore's next, smaller request) or react
   *   (a barrier breaks). Not called by {@link WaitMoves.rejectAll}, {@link WaitMoves.rejectWhere} or
   *   {@link WaitMoves.close}.
   */
  constructor(
    readonly owner: QueueOwner,
    protected readonly onCancel: ((handle: WaitHandle<V>) => void) | undefined,
  ) {
    super();
  }

  /** Whether the queue is closed: parks reject at once until {@link WaitMoves.reopen}. */
  get closed(): boolean {
    return this.closedWith !== undefined;
  }

  /**
   * Removes the waiter of `handle` because its signal fired, its timeout expired or its primitive refused it,
   * rejecting it with `reason`, then calls `onCancel`. Does nothing if it was already settled or is parked on
   * another queue. Amortised O(1): it leaves a tombstone, and the ring packs itself once tombstones outnumber its
   * live waiters (or 64).
   *
   * @returns whether it was removed.
   */
  cancel(handle: WaitHandle<V>, reason: unknown): boolean {
    const waiter = handle as Waiter<T, V>;
    if (waiter.queue !== this) return false;
    this.removeAt(this.ringOf(waiter.priority), waiter.seq, waiter);
    this.settleEntry(waiter, undefined, 0, false, reason);
    this.onCancel?.(waiter);
    return true;
  }

  /**
   * Rejects every waiter parked now, best first, with a reason built for each from what it carries (so errors are
   * never shared, unless `reason` returns one value on purpose); returns how many. The base of `cancelWaiters`.
   * Later parks queue as usual; `onCancel` is not called.
   */
  rejectAll(reason: RejectReason<V>): number {
    const count = this.count;
    for (let left = count; left > 0; left--) {
      const ring = this.bestRing();
      if (ring === undefined) break;
      const seq = ring.first();
      const entry = ring.entryAt(seq) as Entry<T, V>;
      const value = isWaiter(entry) ? entry.value : (ring.valueAt(seq) as V);
      this.removeAt(ring, seq, entry);
      this.settleEntry(entry, value, ring.priority, false, reason(value));
    }
    return count;
  }

  /**
   * Rejects the waiters whose value `test` accepts, best first, each with `reason(value)`, and leaves the others in
   * their places; returns how many. All are removed before the first is rejected. `onCancel` is not called. O(n).
   *
   * @param test - must not touch the queue.
   */
  rejectWhere(test: (value: V) => boolean, reason: RejectReason<V>): number {
    const removed: [Entry<T, V>, unknown][] = [];
    const levels: [number, number][] = []; // [priority, how many] per ring, in the order removed
    const accepts = (entry: Entry<T, V>, value: unknown): boolean =>
      test(isWaiter(entry) ? entry.value : (value as V));
    for (const ring of this.ringsByPriority()) {
      if (ring.live === 0) continue;
      const before = removed.length;
      ring.removeWhere(accepts, removed);
      if (removed.length > before) levels.push([ring.priority, removed.length - before]);
    }
    this.count -= removed.length;
    let at = 0;
    for (const [priority, taken] of levels) {
      for (const end = at + taken; at < end; at++) {
        const [entry, stored] = removed[at] as [Entry<T, V>, unknown];
        const value = isWaiter(entry) ? entry.value : (stored as V);
        if (isWaiter(entry)) entry.place(undefined, -1);
        this.settleEntry(entry, value, priority, false, reason(value));
      }
    }
    return removed.length;
  }

  /**
   * Closes the queue, as Trio's `break_lot`: rejects every waiter (as {@link WaitMoves.rejectAll}) and, until
   * {@link WaitMoves.reopen}, every later park, each with a reason built by `reason` (given what the waiter
   * carries, or `undefined` for a park refused at once). Closing a closed queue changes its reason only.
   *
   * @returns how many waiters were rejected.
   */
  close(reason: (value: V | undefined) => unknown): number {
    this.closedWith = reason;
    return this.rejectAll(reason);
  }

  /**
   * The reason a park is refused with while the queue is closed (built now, as for a park refused at once), for a
   * call that must refuse before it parks (a `put` that could hand its item off); `undefined` while it is open.
   */
  closedReason(): unknown {
    return this.closedWith?.(undefined);
  }

  /** Lets parks queue again after {@link WaitMoves.close}. */
  reopen(): void {
    this.closedWith = undefined;
  }

  /**
   * Moves the best `count` waiters, in order, to `target` (one queue, or a queue chosen from what each carries),
   * where they wait on as if they had parked there (their priority kept). By default being moved is their grant:
   * they are no longer cancellable (listener and timer are dropped). With `cancellable`, they keep both and are
   * cancelled from their new queue.
   *
   * @param handles - if given, receives a handle of each waiter moved, in order (for a later
   *   {@link WaitMoves.reparkHandle}): such a waiter is kept as an object from then on.
   * @returns how many were moved.
   */
  repark(
    target: WaitQueue<T, V> | ((value: V) => WaitQueue<T, V>),
    count: number,
    cancellable = false,
    handles?: WaitHandle<V>[],
  ): number {
    let moved = 0;
    for (let ring = this.bestRing(); moved < count && ring !== undefined; ring = this.bestRing()) {
      const seq = ring.first();
      const entry = handles === undefined ? (ring.entryAt(seq) as Entry<T, V>) : this.waiterAt(ring, seq);
      const value = isWaiter(entry) ? entry.value : (ring.valueAt(seq) as V);
      this.removeAt(ring, seq, entry);
      if (isWaiter(entry) && !cancellable) entry.detach();
      const to = typeof target === 'function' ? target(value) : target;
      to.append(entry, value, ring.priority);
      handles?.push(entry as Waiter<T, V>);
      moved++;
    }
    return moved;
  }

  /**
   * Moves the waiter of `handle` from this queue to `target`, still cancellable, in O(1) (O(log n) into a new
   * priority level).
   *
   * @returns whether it moved: `false` when it is not parked here (settled, or moved elsewhere).
   */
  reparkHandle(handle: WaitHandle<V>, target: WaitQueue<T, V>): boolean {
    const waiter = handle as Waiter<T, V>;
    if (waiter.queue !== this) return false;
    const priority = waiter.priority;
    this.removeAt(this.ringOf(priority), waiter.seq, waiter);
    target.append(waiter, undefined, priority);
    return true;
  }
}
