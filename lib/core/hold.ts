/**
 * What `AsyncCondition` needs of the lock it is bound to: a generic capability of the locks, not a protocol of
 * conditions.
 *
 * @module
 */

import type { Guard } from './guard.js';
import type { WaitQueue } from './wait-queue.js';

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
   * The parked form of `acquireRestore`: moves the best waiter of `from` (a condition's queue, where it parked with
   * a saved hold as its value) onto the lock, where it takes that hold back in its turn (behind the callers queued
   * now) and is granted it. Not cancellable once moved (`WaitQueue.repark`). The waiter stays the same one, so the
   * scheduler hook sees one wait. Does nothing when `from` is empty.
   */
  parkRestore(from: WaitQueue<Guard, unknown>): void;
}
