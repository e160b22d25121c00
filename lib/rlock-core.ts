/**
 * The state machine of an `AsyncRLock`: its stack of levels, its queues, and every transition (enter, release,
 * hand-off, set aside, restore). The public class (`rlock.ts`) is a façade over it; the levels, the set-aside stacks
 * and what a parked request carries are in `rlock-levels.ts`.
 *
 * **Levels.** A hold is a stack of levels, innermost on top (`innermost`, linked through `parent`); `depth`, its
 * height, is counted, never kept. A level is a `run` (a scope of its own: its `fn`'s code, across awaits) or a bare
 * `acquire` (it belongs to the scope it was acquired from, or to its `{ owner }`); its scope chain (`scope`) leads
 * to the `run` it was taken in, or to `undefined` (taken outside any `run`).
 *
 * **States** of a level (`LevelState`, one field): `held` (in the stack); `ending` (in the stack, released early by its
 * owner while levels above it are held: it ends as soon as it is uncovered); `aside` (set aside with the whole stack
 * by `releaseSave`, a condition wait); `aside-ending` (set aside, and released meanwhile: it ends as soon as it is
 * restored); `ended`. Transitions: held → ending → ended; held ⇄ aside and ending ⇄ aside-ending (set aside,
 * restored); aside → aside-ending (released).
 *
 * **Ownership: one question, {@link RLockStack.holds}.** A *scope* is a `run` level, or `undefined` for code outside
 * any `run`; the caller's is `callerScope()`. `holds(scope)`: the innermost level is `scope`, or was acquired under
 * it (bare, or with `{ owner }`), directly or through other such levels; a `run` level is a scope of its own, held by
 * no other. Every ownership test is that one: a request claiming a level enters at once iff `holds(claim)`;
 * `owned` is `holds(callerScope())` for a caller inside a scope; `isOwned()` (may `release()`, or `wait` on a
 * condition: Python's `_is_owned`) is `holds(callerScope())`, and true for any caller without async context.
 *
 * **Who may enter.** A request claims a level (its context's, or `{ owner }`): it enters at once when the scope
 * holds the innermost level, else it waits in the claim's re-entry queue; a request without a claim (or whose claim
 * is set aside) waits among the outsiders. A bare `acquire` that claims its context's scope opens a *bare level* of
 * that scope (`openBare`); until it is released, a new implicit request claiming the scope is a `LockError` (it
 * cannot be told from a sibling's), and queued implicit ones (made before it) wait for it.
 *
 * **Invariants,** after every public call and every grant: outsiders wait only while the lock is held
 * (`innermost` set); re-entry requests into the innermost level's scopes are served before outsiders; a set-aside
 * stack is restored whole, on top of the level its bottom claims (or on a free lock), and the requests claiming
 * its levels that queued as outsiders meanwhile go back to those levels' re-entry queues and are served; a wait
 * restores exactly the levels it set aside; a hand-off is a loop, never a frame per waiter.
 *
 * @module
 */

import { LockError } from './errors.js';
import { createContextVariable } from './core/context.js';
import { holdsTraced, traceHoldEnd, traceHoldStart, type HoldTrace } from './core/diagnostics.js';
import type { Guard } from './core/guard.js';
import { WaitQueue } from './core/wait-queue.js';
import {
  bareLevelHeld,
  claimFor,
  displacedOf,
  unclaim,
  explainTimeout,
  inStack,
  isSetAside,
  Request,
  RLockHold,
  type Parked,
  type SuspendedLevels,
} from './rlock-levels.js';
import type { AsyncRLock, RLockAcquireOptions } from './rlock.js';

/** The stack of levels of one `AsyncRLock` and its transitions. */
export class RLockStack {
  /** The innermost level held, or `undefined` when free. Invariant: outsiders wait only while this is set. */
  innermost: RLockHold | undefined = undefined;
  /** Callers with no claim on the current hold, waiting for the lock to be free. */
  readonly outsiders: WaitQueue<Guard, Parked>;
  readonly context = createContextVariable<RLockHold>();
  /**
   * The diagnostics record of the current hold, while holds are traced: one per outermost hold (from the lock taken
   * while free until it is free again, or set aside whole by a condition wait); nested levels publish nothing.
   */
  private trace: HoldTrace | undefined = undefined;
  /** Whether the last grant restored set-aside levels (rather than adding a new one); see `continueFrom`. */
  private restoredLast = false;

  /** @param owner - the lock: what its queues, traces and messages name. */
  constructor(private readonly owner: AsyncRLock) {
    this.outsiders = new WaitQueue<Guard, Parked>(owner);
  }

  /** @internal Ends `level`; a level below the innermost ends when the levels above it do. */
  releaseHold(level: RLockHold): void {
    if (level !== this.innermost) {
      level.state = 'ending';
      return;
    }
    this.pop();
    this.handOff();
  }

  /**
   * The ownership question (the model's, above): whether `scope`, a level or `undefined` (code outside any `run`),
   * holds the innermost level. A free lock is held by no one.
   */
  holds(scope: RLockHold | undefined): boolean {
    for (let level = this.innermost; level !== undefined; level = level.scope) {
      if (level === scope) return true;
      if (level.scope === level) return false; // a `run` level: a scope of its own, held by no other
      if (level.scope === undefined) return scope === undefined;
    }
    return false;
  }

  /** @internal Whether the caller owns the innermost level (may `release()` it): Python's `_is_owned`. */
  isOwned(): boolean {
    return this.context === undefined ? this.innermost !== undefined : this.holds(this.callerScope());
  }

  /**
   * @internal See {@link AsyncRLock.releaseSave}. Requests to re-enter the levels set aside lose their claim
   * meanwhile and queue as outsiders, so that a sibling can take the lock.
   */
  releaseSave(): unknown {
    const top = this.innermost as RLockHold;
    const bottom = this.setAsideStack();
    const suspended: SuspendedLevels = { kind: 'levels', top, bottom, claim: undefined };
    claimFor(suspended, bottom.claim);
    this.handOff();
    return suspended;
  }

  /**
   * Sets the whole stack aside: marks it suspended, sends its re-entry requests to the outsiders (they keep their
   * claim), frees the lock, and returns the bottom level.
   */
  private setAsideStack(): RLockHold {
    let bottom = this.innermost as RLockHold;
    for (let level: RLockHold | undefined = bottom; level !== undefined; level = level.parent) {
      level.state = level.state === 'ending' ? 'aside-ending' : 'aside';
      const reentry = level.reentry;
      if (reentry !== undefined && reentry.size > 0)
        reentry.repark(this.outsiders, reentry.size, true, (level.displaced ??= []));
      bottom = level;
    }
    this.innermost = undefined;
    this.traceEnd();
    return bottom;
  }

  /**
   * @internal The parked form of {@link AsyncRLock.acquireRestore}: moves the best waiter of `from` (its value
   * levels set aside by `releaseSave`) to where those levels wait to be restored, no longer cancellable; it is
   * granted them in its turn, as the same waiter (the scheduler hook sees one wait).
   */
  parkRestore(from: WaitQueue<Guard, unknown>): void {
    const suspended = from.bestValue as SuspendedLevels;
    const queue = this.restoreQueueOf(suspended);
    const handles = queue === this.outsiders ? displacedOf(suspended.claim) : undefined;
    (from as WaitQueue<Guard, Parked>).repark(queue, 1, false, handles);
    if (this.innermost === undefined) this.handOff();
  }

  /** Where set-aside levels wait to be restored: the re-entry queue of the level they claim, or the outsiders. */
  private restoreQueueOf(suspended: SuspendedLevels): WaitQueue<Guard, Parked> {
    const claim = suspended.claim;
    return claim !== undefined && inStack(claim) ? this.reentryQueue(claim) : this.outsiders;
  }

  /** @internal See {@link AsyncRLock.acquireRestore}. */
  acquireRestore(saved: unknown): Promise<Guard> {
    const suspended = saved as SuspendedLevels;
    const queue = this.restoreQueueOf(suspended);
    const now = queue === this.outsiders ? this.innermost === undefined : this.holds(suspended.claim);
    if (!now || queue.size > 0) {
      const handles = queue === this.outsiders ? displacedOf(suspended.claim) : undefined;
      return queue.park(undefined, suspended, 0, handles);
    }
    const top = this.restore(suspended);
    this.restoredLast = true;
    this.continueFrom(top);
    return Promise.resolve(top);
  }

  /** The shared body of `acquire` and `run`, once `admit` has checked their options. */
  enter(options: RLockAcquireOptions | undefined, ownScope: boolean): Promise<Guard> {
    const implicit = options?.owner === undefined;
    let claim: RLockHold | undefined;
    try {
      claim = this.requestClaim(options?.owner, ownScope ? 'run' : 'acquire');
    } catch (error) {
      return Promise.reject(error);
    }
    if (claim !== undefined && claim.state === 'held') {
      if (this.holds(claim)) return Promise.resolve(this.push(claim, ownScope, undefined, implicit));
      return this.reentryQueue(claim).park(options, new Request(ownScope, claim, implicit));
    }
    // No claim, or one a condition wait has set aside: wait as an outsider until that wait restores it.
    if (this.innermost === undefined && this.outsiders.size === 0)
      return Promise.resolve(this.push(undefined, ownScope, claim, implicit));
    const parked = this.outsiders.park(
      options,
      new Request(ownScope, claim, implicit),
      0,
      displacedOf(claim),
    );
    if (this.context !== undefined || options?.owner !== undefined) return parked;
    return parked.catch((error: unknown) => {
      throw explainTimeout(
        error,
        this.owner.label,
        ownScope ? 'run' : 'acquire',
        this.innermost !== undefined,
      );
    });
  }

  /**
   * The level a request claims to re-enter: the explicit owner (which must be a current level), else the calling
   * context's level while it lasts (active, or set aside by a condition wait). `undefined` means an outsider.
   */
  requestClaim(owner: Guard | undefined, method: string): RLockHold | undefined {
    if (owner !== undefined) {
      if (!(owner instanceof RLockHold) || owner.state !== 'held' || owner.lock !== this) {
        throw new LockError(
          `${this.owner.label}.${method}: options.owner is not a current hold of this lock`,
        );
      }
      return owner;
    }
    const level = this.context?.get();
    if (level === undefined || (level.state !== 'held' && level.state !== 'aside')) return undefined;
    if (level.openBare > 0) throw bareLevelHeld(this.owner.label, method);
    return level;
  }

  /** The calling context's level, if it is still active; `undefined` for outsiders. */
  callerScope(): RLockHold | undefined {
    const level = this.context?.get();
    return level !== undefined && level.state === 'held' ? level : undefined;
  }

  private reentryQueue(scope: RLockHold): WaitQueue<Guard, Parked> {
    return (scope.reentry ??= new WaitQueue<Guard, Parked>(this.owner));
  }

  /** Adds a level on top, for a `run` or a bare `acquire` from `scope`; an implicit bare one opens a bare level. */
  push(
    scope: RLockHold | undefined,
    ownScope: boolean,
    claim: RLockHold | undefined,
    implicit: boolean,
  ): RLockHold {
    if (this.innermost === undefined) this.traceStart();
    const level = new RLockHold(this, this.innermost, ownScope ? 'self' : scope);
    // Granted while the level it re-enters is set aside (the lock was free): remember it, to return on top of it.
    if (claim !== undefined && isSetAside(claim)) level.claim = claim;
    const opener = implicit && !ownScope ? (claim ?? scope) : undefined;
    if (opener !== undefined) {
      level.bareOf = opener;
      opener.openBare++;
    }
    this.innermost = level;
    return level;
  }

  /** Removes the innermost level, and the pending-release levels it uncovers. */
  private pop(): void {
    let level = this.innermost;
    do {
      const ended = level as RLockHold;
      ended.state = 'ended';
      level = ended.parent;
      // Requests to re-enter a scope that just ended have no claim any more: they queue as outsiders.
      if (ended.reentry !== undefined) ended.reentry.repark(this.outsiders, ended.reentry.size, true);
      ended.displaced = undefined;
      if (ended.claimants !== undefined) {
        for (const claimant of ended.claimants) claimant.claim = undefined;
        ended.claimants = undefined;
      }
    } while (level !== undefined && level.state === 'ending');
    this.innermost = level;
    if (level === undefined) this.traceEnd();
  }

  /** The lock was free and is taken: an outermost hold begins (published when holds are traced). */
  private traceStart(): void {
    if (holdsTraced()) this.trace = traceHoldStart(this.owner, undefined, undefined);
  }

  /** The lock is free again, or its hold set aside whole: the outermost hold ends. */
  private traceEnd(): void {
    if (this.trace === undefined) return;
    traceHoldEnd(this.trace);
    this.trace = undefined;
  }

  /**
   * Grants the next request the state allows: a re-entry into a scope that holds the innermost level, or, the lock
   * free, the head outsider. A loop, not a recursion, however many restored levels released meanwhile end in a row.
   */
  private handOff(): void {
    this.continueFrom(this.grantNext());
  }

  /**
   * Goes on from a grant of `granted` while the state allows more: a restored level released while set aside
   * ends at once, and set-aside levels just restored let the requests that re-enter them in (they queued as
   * outsiders meanwhile and are back in the restored levels' re-entry queues: nothing else would grant them).
   */
  private continueFrom(granted: RLockHold | undefined): void {
    while (granted !== undefined) {
      if (granted.state === 'ending') {
        this.pop();
        granted = this.grantNext();
      } else if (this.restoredLast) granted = this.grantReentry();
      else return;
    }
  }

  /** Grants one request, as {@link AsyncRLock.handOff} describes; returns the level granted, if any. */
  private grantNext(): RLockHold | undefined {
    const top = this.innermost;
    if (top === undefined) return this.grantHead(this.outsiders, undefined);
    const reentered = this.grantReentry();
    if (reentered !== undefined) return reentered;
    // Nobody re-enters, and a condition wait of this lineage waits to be restored on top of this level: a wait sets
    // aside every level of the hold, its ancestors' included, so this stack joins that wait's set-aside levels.
    const claimant = top.claimants?.[0];
    return claimant === undefined ? undefined : this.setAsideBeneath(claimant);
  }

  /**
   * Sets the whole stack aside beneath `claimant`'s levels (on top of which it was to be restored), then grants the
   * head outsider; returns the level granted, if any.
   */
  private setAsideBeneath(claimant: SuspendedLevels): RLockHold | undefined {
    unclaim(claimant);
    const joint = this.innermost as RLockHold;
    const bottom = this.setAsideStack();
    claimant.bottom.parent = joint;
    claimant.bottom = bottom;
    claimFor(claimant, bottom.claim);
    return this.grantHead(this.outsiders, undefined);
  }

  /** Grants the head request to re-enter a scope that holds the innermost level, if any. */
  private grantReentry(): RLockHold | undefined {
    for (let scope = this.innermost; scope !== undefined; scope = scope.scope) {
      const granted = this.grantHead(scope.reentry, scope);
      if (granted !== undefined) return granted;
      if (scope.scope === scope) break;
    }
    return undefined;
  }

  /**
   * Grants the head of `queue`, if any, on behalf of `scope`: a new level, or the levels a condition waiter set
   * aside. Returns the innermost level granted; the caller ends it if it was released while set aside.
   */
  private grantHead(
    queue: WaitQueue<Guard, Parked> | undefined,
    scope: RLockHold | undefined,
  ): RLockHold | undefined {
    const value = queue?.bestValue;
    if (queue === undefined || value === undefined) return undefined;
    // An implicit request into a scope whose bare level is open waits for it (it was made before that level was).
    if (value.kind === 'request' && value.implicit && scope !== undefined && scope.openBare > 0)
      return undefined;
    this.restoredLast = value.kind === 'levels';
    const top =
      value.kind === 'request'
        ? this.push(scope, value.ownScope, value.claim, value.implicit)
        : this.restore(value);
    queue.grantBest(top);
    return top;
  }

  /**
   * Puts set-aside levels back on top of the current stack (empty, or the levels of their claim) and returns the
   * innermost, the caller's. Requests that claim one of them and queued as outsiders meanwhile get their claim
   * back: they move to that level's re-entry queue.
   */
  private restore(suspended: SuspendedLevels): RLockHold {
    unclaim(suspended);
    for (let level = suspended.top; ; level = level.parent as RLockHold) {
      level.state = level.state === 'aside-ending' ? 'ending' : 'held';
      if (level === suspended.bottom) break;
    }
    if (this.innermost === undefined) this.traceStart();
    suspended.bottom.parent = this.innermost;
    this.innermost = suspended.top;
    for (let level = suspended.top; ; level = level.parent as RLockHold) {
      this.reclaim(level);
      if (level === suspended.bottom) break;
    }
    return suspended.top;
  }

  /** Moves the outsiders that claim the just-restored `level` back to its re-entry queue, in their order. */
  private reclaim(level: RLockHold): void {
    const displaced = level.displaced;
    if (displaced === undefined) return;
    level.displaced = undefined;
    for (const handle of displaced) {
      if (handle.value.claim === level) this.outsiders.reparkHandle(handle, this.reentryQueue(level));
    }
  }
}
