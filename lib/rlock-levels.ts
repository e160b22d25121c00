/**
 * The pieces of an `AsyncRLock`'s state: the levels of a hold (`RLockHold`, also the guard of each level), the
 * levels a condition wait set aside, what a parked request asks for, and the lock's two messages. The model they
 * implement, and its transitions, are in `rlock-core.ts`.
 *
 * @module
 */

import { LockError, TimeoutError } from './errors.js';
import { type NotThenable, type Guard } from './core/guard.js';
import type { WaitHandle, WaitQueue } from './core/wait-queue.js';
import type { RLockStack } from './rlock-core.js';

/**
 * How far along its life a level is (the transitions are stated at the top of `rlock-core.ts`): in the stack (`held`,
 * or `ending` once released below the innermost), set aside by `releaseSave` (`aside`, or `aside-ending` once
 * released meanwhile), or `ended`.
 */
export type LevelState = 'held' | 'ending' | 'aside' | 'aside-ending' | 'ended';

/** Whether `level` is in the lock's stack (held, or released early and waiting to be uncovered). */
export function inStack(level: RLockHold): boolean {
  return level.state === 'held' || level.state === 'ending';
}

/** Whether `level` is set aside by `releaseSave` (released meanwhile or not). */
export function isSetAside(level: RLockHold): boolean {
  return level.state === 'aside' || level.state === 'aside-ending';
}

/**
 * One level of an `AsyncRLock`'s hold: the stack of levels is a linked list through `parent`, innermost on top.
 * Not a `HoldGuard`: its `released` is read from its state, it has no record of its own, and a fifth class through
 * `HoldGuard.release` made that shared method megamorphic, every guard's release several times slower.
 */
export class RLockHold implements Guard {
  /** A plain value, never a thenable (see {@link NotThenable}). */
  readonly then: NotThenable = undefined;

  state: LevelState = 'held';
  /** The level below this one, or `undefined` for the outermost. */
  parent: RLockHold | undefined;
  /**
   * The scope this level belongs to: itself for a `run` level (its `fn` runs in a context of its own); for a bare
   * `acquire`, the scope it was acquired from (`undefined` outside any scope).
   */
  readonly scope: RLockHold | undefined;
  /** Requests to re-enter from this level's scope while a level above it is held; created on first use. */
  reentry: WaitQueue<Guard, Parked> | undefined = undefined;
  /**
   * The level this one logically re-enters, when it was granted while a condition wait had that level set aside
   * (so it could not be stacked on it). A condition wait of its own restores it on top of that level again.
   */
  claim: RLockHold | undefined = undefined;
  /** Condition waits whose set-aside levels claim this level (they are to be restored on top of it). */
  claimants: SuspendedLevels[] | undefined = undefined;
  /**
   * Requests claiming this level that wait among the outsiders while it is set aside, in queue order; those still
   * there go back to its re-entry queue when it is restored (entries that left meanwhile are skipped). Kept so that
   * a restore touches only its own requests, never the whole outsider queue.
   */
  displaced: WaitHandle<Parked>[] | undefined = undefined;
  /**
   * For a scope: how many bare levels an implicit `acquire()` from it opened and are not released yet (one at most,
   * but for one granted while a condition wait had the scope set aside). While one is, an implicit request from the scope cannot be told from a concurrent sibling's.
   */
  openBare = 0;
  /** For a bare level an implicit `acquire()` opened: the scope it was opened from, until it is released. */
  bareOf: RLockHold | undefined = undefined;

  constructor(
    /** The lock this level is one of. */
    readonly lock: RLockStack,
    parent: RLockHold | undefined,
    scope: RLockHold | 'self' | undefined,
  ) {
    this.parent = parent;
    this.scope = scope === 'self' ? this : scope;
  }

  get released(): boolean {
    return this.state === 'ended' || this.state === 'ending' || this.state === 'aside-ending';
  }

  release(): void {
    if (this.bareOf !== undefined && !this.released) {
      this.bareOf.openBare--;
      this.bareOf = undefined;
    }
    if (this.state === 'held') this.lock.releaseHold(this);
    // Set aside by a condition wait nobody awaited: the level ends as soon as the wait gets it back.
    else if (this.state === 'aside') this.state = 'aside-ending';
  }

  [Symbol.dispose](): void {
    this.release();
  }
}

/**
 * The levels a condition `wait` set aside: the whole stack, `top` down to `bottom` through `parent`, to be put back
 * on top of `claim` when the bottom level re-enters one (else when the lock is free). The levels it claims may
 * later be set aside beneath it, when their lineage has nothing else to do (`RLockStack.handOff`).
 */
export interface SuspendedLevels {
  /** What a parked {@link Parked} value is: set-aside levels, to be restored. */
  readonly kind: 'levels';
  readonly top: RLockHold;
  bottom: RLockHold;
  claim: RLockHold | undefined;
}

/**
 * What a waiter of the lock carries: a request for a new level, or the levels a condition wait set aside; `kind`
 * tells them apart, and both have the `claim` of the level they re-enter, if any.
 */
export type Parked = Request | SuspendedLevels;

/** What a parked `acquire` or `run` asks for. */
export class Request {
  /** What a parked {@link Parked} value is: a request for a new level. */
  readonly kind = 'request';

  constructor(
    /** A `run`, whose level is a scope of its own, or a bare `acquire`. */
    readonly ownScope: boolean,
    /** The level it claims to re-enter, if any; it may be set aside by a condition wait while the request waits. */
    readonly claim: RLockHold | undefined,
    /** Whether the claim is the calling context's (no `{ owner }`): it waits while its scope has a bare level open. */
    readonly implicit: boolean,
  ) {}
}

/** The error of an implicit request from a scope whose bare level is held (see `AsyncRLock.acquire`). */
export function bareLevelHeld(label: string, method: string): LockError {
  return new LockError(
    `${label}.${method}: a bare acquire() from this scope holds a level, and another acquire() or run() from the ` +
      `same scope cannot be told from a concurrent sibling's: re-enter explicitly with { owner: guard } (the guard ` +
      `that acquire() returned), or give concurrent children run(fn)`,
  );
}

/**
 * Without async context, a `run` or `acquire` nested in a hold of the lock and lacking `{ owner }` cannot be told
 * from another task's: it waits for the hold it is nested in, a deadlock. When its timeout tells (`held`: the lock
 * was held), say so.
 */
export function explainTimeout(error: unknown, label: string, method: string, held: boolean): unknown {
  if (!(error instanceof TimeoutError) || !held) return error;
  return new TimeoutError(
    `${error.message} while it was held; this runtime has no async context, so a ${method} nested in a hold of ` +
      `${label} cannot re-enter implicitly and waits for that hold: pass { owner: guard } (the guard run ` +
      `gives fn, or acquire returns) to re-enter`,
    { cause: error },
  );
}

/** Records that `suspended` is to be restored on top of `claim` (or, without one, when the lock is free). */
export function claimFor(suspended: SuspendedLevels, claim: RLockHold | undefined): void {
  if (claim === undefined || claim.state === 'ended') return;
  suspended.claim = claim;
  (claim.claimants ??= []).push(suspended);
}

/** Forgets that `suspended` claims a level. */
export function unclaim(suspended: SuspendedLevels): void {
  const claimants = suspended.claim?.claimants;
  if (claimants !== undefined) claimants.splice(claimants.indexOf(suspended), 1);
  suspended.claim = undefined;
}

/**
 * Where a waiter parked among the outsiders that claims the set-aside level `claim` (if any) is remembered: the
 * handles `park` collects there go back to the level's re-entry queue when it is restored.
 */
export function displacedOf(claim: RLockHold | undefined): WaitHandle<Parked>[] | undefined {
  return claim !== undefined && isSetAside(claim) ? (claim.displaced ??= []) : undefined;
}
