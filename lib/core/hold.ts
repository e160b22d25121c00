/**
 * What a lock offers the condition variables bound to it: the internal side of `AsyncCondition`.
 *
 * @module
 */

import type { Guard } from './guard.js';
import type { Waiter, WaitQueue } from './wait-queue.js';

/**
 * A lock that conditions can be bound to. A condition parks its waiters with the lock's suspended hold as their
 * `Waiter.value`; `notify` moves each onto the queue {@link LockForCondition.queueForRestore} names, and when the
 * lock hands itself to such a waiter it restores that hold (the same guard, and for a reentrant lock the same
 * depth), so the guard the caller held before `wait` is valid again after it.
 */
export interface LockForCondition {
  /** Label of the lock, for messages. */
  readonly label: string;
  /** The lock queue on which a notified waiter that suspended `hold` waits to have it restored (`waiter` is it). */
  queueForRestore(hold: unknown, waiter?: Waiter<Guard, unknown>): WaitQueue<Guard, unknown>;
  /** Whether the calling context holds the lock (for AsyncLock: whether it is locked at all, as in Python). */
  heldByCaller(): boolean;
  /** Gives up the caller's whole hold, handing the lock on as `release()` would, and returns it for restoring. */
  suspendHold(): unknown;
  /** Re-acquires a suspended hold; not cancellable (a condition re-acquires whatever happens). */
  restoreHold(hold: unknown): Promise<Guard>;
}
