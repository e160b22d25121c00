/**
 * What `AsyncCondition` needs of the lock it is bound to: a generic capability of the locks, not a protocol of
 * conditions.
 *
 * @module
 */

import type { Guard } from './guard.js';
import type { Waiter, WaitQueue } from './wait-queue.js';

/**
 * A lock whose whole hold can be set aside and taken back, as Python's `Lock` and `RLock` offer `Condition`
 * (`_is_owned`, `_release_save`, `_acquire_restore`). The lock knows nothing of who uses it.
 */
export interface SavableLock<Saved = unknown> {
  /** Label of the lock, for messages. */
  readonly label: string;
  /** Whether the calling context holds the lock (for `AsyncLock`: whether it is locked at all, as in Python). */
  isOwned(): boolean;
  /**
   * Releases every level the caller holds, handing the lock on as `release()` would, and returns what
   * {@link SavableLock.acquireRestore} needs to take exactly that hold back (the same guards, the same depth).
   */
  releaseSave(): Saved;
  /** Re-acquires a hold set aside by `releaseSave`, waiting like an acquire of its owner; not cancellable. */
  acquireRestore(saved: Saved): Promise<unknown>;
  /**
   * The parked form of `acquireRestore`: moves `waiter`, parked elsewhere with a saved hold as its value, onto the
   * lock, where it takes that hold back in its turn (behind the callers queued now) and is granted it. Not
   * cancellable once moved.
   */
  parkRestore(waiter: Waiter<Guard, unknown>): void;
}

/**
 * Moves `waiter` from the queue it is parked on to `target`, no longer cancellable (its signal listener and timer are
 * dropped): being moved is its grant, as with `WaitQueue.repark`. For a lock taking over the waiter of a
 * {@link SavableLock.parkRestore}.
 */
export function moveWaiter<T, V>(waiter: Waiter<T, V>, target: WaitQueue<T, V>): void {
  (waiter.queue as WaitQueue<T, V>).reparkWaiter(waiter, target);
  waiter.detach();
}
