/**
 * The guard of a `SharedLock` hold.
 *
 * @module
 */

import type { Guard, NotThenable } from '../core/guard.js';

/** A guard of a {@link SharedLock}: one hold, in this agent. */
export interface SharedGuard extends Guard {
  /**
   * True when the hold before this one ended through {@link SharedLock.recover}: its owner died holding the lock,
   * so the state it protects may be half-written (POSIX's `EOWNERDEAD`).
   */
  readonly previousOwnerDied: boolean;
}

/**
 * One hold (not exported by the package: holders see {@link SharedGuard}). While a condition `wait` lends the lock
 * out, `suspended` is set.
 */
export class SharedLockGuard implements SharedGuard {
  /** A plain value, never a thenable (see {@link NotThenable}). */
  readonly then: NotThenable = undefined;

  released = false;
  /** Lent out by a condition wait; a release meanwhile ends the hold as soon as the wait takes it back. */
  suspended = false;

  constructor(
    private readonly lock: { releaseHold(): void },
    public previousOwnerDied: boolean,
  ) {}

  release(): void {
    if (this.released) return;
    this.released = true;
    if (!this.suspended) this.lock.releaseHold();
  }

  [Symbol.dispose](): void {
    this.release();
  }
}
