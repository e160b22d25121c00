/**
 * `AsyncRLock`, and the model it keeps.
 *
 * **Levels.** A hold is a stack of levels, innermost on top (`innermost`, linked through `parent`); `depth` is its
 * height. Each level is a `run` (a scope of its own: the code of its `fn`, across awaits) or a bare `acquire` (it
 * belongs to the scope it was acquired from). A level's scope chain (`scope`) leads to the `run` it was taken in.
 *
 * **States** of a level (`LevelState`, one field): `held` (in the stack); `ending` (in the stack, released early by its
 * owner while levels above it are held: it ends as soon as it is uncovered); `aside` (set aside with the whole stack
 * by `releaseSave`, a condition wait); `aside-ending` (set aside, and released meanwhile: it ends as soon as it is
 * restored); `ended`. Transitions: held → ending → ended; held ⇄ aside and ending ⇄ aside-ending (set aside,
 * restored); aside → aside-ending (released). `depth` is counted, never kept: the levels in the stack.
 *
 * **Who may enter.** A request claims a level (its context's, or `{ owner }`): it enters at once when the innermost
 * level belongs to that claim's scope, else it waits in the claim's re-entry queue; a request without a claim (or
 * whose claim is set aside) waits among the outsiders.
 *
 * **Invariants,** after every public call and every grant: outsiders wait only while the lock is held
 * (`innermost` set); re-entry requests into the innermost level's scopes are served before outsiders; a set-aside
 * stack is restored whole, on top of the level its bottom claims (or on a free lock), and the requests claiming
 * its levels that queued as outsiders meanwhile go back to those levels' re-entry queues and are served; a wait
 * restores exactly the levels it set aside; a hand-off is a loop, never a frame per waiter.
 *
 * @module
 */

import { CancelledError, LockError, TimeoutError } from './errors.js';
import { createContextVariable } from './core/context.js';
import type { Guard } from './core/guard.js';
import {
  checkFunction,
  describe,
  labelFor,
  rejectEarly,
  type NameOptions,
  type WaitOptions,
} from './core/options.js';
import { moveWaiter } from './core/hold.js';
import { WaitQueue, type Waiter } from './core/wait-queue.js';
import { holdsTraced, traceHoldEnd, traceHoldStart, type HoldTrace } from './core/diagnostics.js';
import {
  belongsTo,
  claimOf,
  inStack,
  isSetAside,
  Request,
  RLockHold,
  runScopeOf,
  type Parked,
  type SuspendedLevels,
} from './rlock-levels.js';

/** Wait options of a reentrant lock, plus the hold to re-enter explicitly. */
export interface RLockAcquireOptions extends WaitOptions {
  /**
   * Re-enter on behalf of this guard (one returned by this lock and not yet released) instead of the calling async
   * context: the portable form, for runtimes without async context (browsers today).
   */
  owner?: Guard | undefined;
}

/**
 * A reentrant lock for async code: the async context that holds it may acquire it again (each nested hold
 * increments `depth`), while every other context waits. "Context" means a call of `run(fn)` and every async call
 * made from `fn`, across awaits, timers and promise chains (via `AsyncLocalStorage` on Node, Deno and Bun, in the
 * package's `node` build, or `AsyncContext` where the runtime has it).
 *
 * **Without async context (browsers today), re-enter explicitly:** `run(fn, { owner: guard })` or
 * `acquire({ owner: guard })`, with the guard `run` passes to `fn`. A nested call without `owner` cannot be told
 * from another task's there: it waits for the hold it is nested in (a deadlock), and if it has a timeout, its
 * `TimeoutError` says to pass `{ owner: guard }`. `owned` is then always `false`, and any code may `release()`.
 *
 * Mutual exclusion still holds among concurrent children: if `fn` starts two children that both re-enter with
 * `run`, they hold it one after the other, and neither deadlocks against the parent awaiting them. A bare
 * `acquire()` opens no scope of its own (see {@link AsyncRLock.acquire}): concurrent children that must be kept
 * apart use `run`. A condition `wait` sets aside every level of the hold, those of the scopes around it included,
 * and restores exactly those levels, on top of the levels its scope re-enters: the same depth, unless concurrent
 * children of one scope moved meanwhile (a child that entered while a sibling's wait had the parent's level set
 * aside comes back on top of that level). Ownership never leaks out: after `run` settles, neither its caller, nor a sibling,
 * nor a callback that runs later holds the lock.
 *
 * Use it when code that takes a lock calls other code that takes the same lock. Otherwise prefer `AsyncLock`,
 * which is simpler to reason about.
 *
 * @fairness FIFO among outsiders, with direct hand-off; re-entry requests from the holding context are served
 * before outsiders (they are part of the current hold), in FIFO order among themselves.
 *
 * @example
 * ```ts
 * const rlock = new AsyncRLock({ name: 'account' });
 * async function withdraw(amount: number) {
 *   await rlock.run(async () => {
 *     balance -= amount;
 *   });
 * }
 * async function transfer(amount: number) {
 *   await rlock.run(async () => {
 *     await withdraw(amount); // re-enters: depth 2
 *   });
 * }
 * ```
 */
export class AsyncRLock {
  /** The primitive's kind and name, as in `toString()` and error messages. */
  readonly label: string;
  /** The name given to the constructor, if any. */
  readonly name: string | undefined;
  /** The innermost level held, or `undefined` when free. Invariant: outsiders wait only while this is set. */
  private innermost: RLockHold | undefined = undefined;
  /** Callers with no claim on the current hold, waiting for the lock to be free. */
  private readonly outsiders = new WaitQueue<Guard, Parked>(this);
  private readonly context = createContextVariable<RLockHold>();
  /**
   * The diagnostics record of the current hold, while holds are traced: one per outermost hold (from the moment the
   * lock is taken while free to the moment it is free again, or set aside whole by a condition wait), never one per
   * nested level, which re-enters a hold already published.
   */
  private trace: HoldTrace | undefined = undefined;
  /** Whether the last grant restored set-aside levels (rather than adding a new one); see `continueFrom`. */
  private restoredLast = false;

  /**
   * @param options - `name`: shown by `toString()`, in timeout messages and in deadlock reports.
   * @throws TypeError - when `options.name` is not a string.
   */
  constructor(options?: NameOptions) {
    this.label = labelFor('AsyncRLock', options);
    this.name = options?.name;
  }

  /** Whether the lock is held (at any depth). */
  get locked(): boolean {
    return this.innermost !== undefined;
  }

  /** Whether the calling async context could re-enter the lock right now (always `false` without async context). */
  get owned(): boolean {
    const scope = this.callerScope();
    return scope !== undefined && this.mayEnter(scope);
  }

  /** Nested holds currently active (0 when free). */
  get depth(): number {
    let depth = 0;
    for (let level = this.innermost; level !== undefined; level = level.parent) depth++;
    return depth;
  }

  /** How many callers wait: outsiders plus re-entry requests. */
  get waiting(): number {
    let count = this.outsiders.size;
    for (let level = this.innermost; level !== undefined; level = level.parent)
      count += level.reentry?.size ?? 0;
    return count;
  }

  /**
   * Acquires the lock: re-enters at once when the calling context (or `options.owner`) holds it, otherwise waits.
   * Outside any scope it acquires for the guard it returns, as `AsyncLock` does.
   *
   * **Limitation:** inside a `run` scope this re-enters like a nested `run`, but opens no scope of its own: the
   * scope's other code, concurrent children included, shares the level, so two children that each re-enter with a
   * bare `acquire()` hold it at once. Give concurrent children `run`, which keeps them apart. (`AsyncLocalStorage`
   * cannot give a bare `acquire` a context of its own: the one it would set is its caller's, shared with siblings.)
   *
   * @param options - `owner` to re-enter explicitly, plus `signal` and `timeout`; see {@link WaitOptions}.
   * @returns the guard of this level; release it (or call `release()` from the same scope).
   * @throws LockError - (rejection) when `options.owner` is not a current hold of this lock.
   * @throws TimeoutError - (rejection) when `timeout` expires first; without async context, its message says that a
   *   call nested in a hold needs `{ owner: guard }`.
   * @throws TypeError | RangeError - (rejection) for bad options.
   *
   * @cancellation an abort or timeout before the grant removes the caller at once; it holds nothing.
   *
   * @fairness see the class.
   *
   * @example
   * ```ts
   * const guard = await rlock.acquire();
   * try {
   *   const inner = await rlock.acquire({ owner: guard }); // depth 2
   *   inner.release();
   * } finally {
   *   guard.release();
   * }
   * ```
   */
  acquire(options?: RLockAcquireOptions): Promise<Guard> {
    return this.enter(options, false);
  }

  /**
   * Takes the lock now if the caller may: it re-enters, or the lock is free with nobody waiting.
   *
   * @param options - `owner` to re-enter explicitly.
   * @returns the guard, or `undefined` when the caller would have to wait.
   * @throws LockError - when `options.owner` is not a current hold of this lock.
   * @throws TypeError - when `options` is not an object (a number of permits is not an option here).
   *
   * @example
   * ```ts
   * const guard = rlock.tryAcquire();
   * guard?.release();
   * ```
   */
  tryAcquire(options?: { owner?: Guard | undefined }): Guard | undefined {
    if (options !== undefined && (typeof options !== 'object' || options === null)) {
      throw new TypeError(`${this.label}.tryAcquire: options must be an object, got ${describe(options)}`);
    }
    const claim = this.requestClaim(options?.owner, 'tryAcquire');
    if (claim !== undefined && claim.state === 'held' && this.mayEnter(claim)) return this.push(claim, false);
    if (this.innermost !== undefined || this.outsiders.size > 0) return undefined;
    return this.push(undefined, false);
  }

  /**
   * Releases the innermost level, which the calling context must own.
   *
   * @throws LockError - when the lock is not held, or the calling context does not own the innermost level.
   *
   * @example
   * ```ts
   * await rlock.acquire();
   * rlock.release();
   * ```
   */
  release(): void {
    const level = this.innermost;
    if (level === undefined) throw new LockError(`${this.label} is not locked`);
    if (!this.callerOwns(level)) {
      throw new LockError(`${this.label}: the calling context does not own the innermost hold`);
    }
    this.releaseHold(level);
  }

  /**
   * Acquires (or re-enters) the lock, runs `fn` in a scope that owns it, and releases that level when `fn` settles.
   * Every async call made from `fn` re-enters at once; concurrent ones take turns.
   *
   * @param fn - the critical section; it receives the guard (pass it as `owner` to re-enter explicitly).
   * @param options - `owner` to re-enter explicitly, plus `signal` and `timeout` for the acquisition.
   * @returns what `fn` returns.
   * @throws TypeError - (rejection) when `fn` is not a function; whatever `acquire` or `fn` throws (a nested `run`
   *   without `owner` times out, where there is no async context, with a message that says to pass it).
   *
   * @cancellation `options` only bound the wait; once `fn` runs it is not interrupted.
   *
   * @example
   * ```ts
   * await rlock.run(async (guard) => {
   *   await rlock.run(async () => {}, { owner: guard }); // nested, works on every runtime
   * });
   * ```
   */
  async run<T>(fn: (guard: Guard) => T | PromiseLike<T>, options?: RLockAcquireOptions): Promise<T> {
    if (typeof fn !== 'function') checkFunction(fn, `${this.label}.run: fn`);
    const guard = (await this.enter(options, true)) as RLockHold;
    try {
      if (this.context === undefined) return await fn(guard);
      return await this.context.run(guard, () => fn(guard));
    } finally {
      guard.release();
    }
  }

  /**
   * Rejects every queued acquirer (outsiders and re-entry requests), and touches no holder. Condition waiters
   * re-acquiring the lock after a notification are not cancelled: a condition wait always re-acquires. Later calls
   * queue as usual.
   *
   * @param reason - what every waiter rejects with; without it, each gets its own `CancelledError`.
   * @returns how many waiters it rejected.
   *
   * @example
   * ```ts
   * const dropped = rlock.cancelWaiters();
   * ```
   */
  cancelWaiters(reason?: unknown): number {
    const own = arguments.length === 0;
    const doomed: [WaitQueue<Guard, Parked>, Waiter<Guard, Parked>][] = [];
    const collect = (queue: WaitQueue<Guard, Parked> | undefined) => {
      if (queue !== undefined)
        for (const waiter of queue) if (waiter.value instanceof Request) doomed.push([queue, waiter]);
    };
    collect(this.outsiders);
    for (let level = this.innermost; level !== undefined; level = level.parent) collect(level.reentry);
    for (const [queue, waiter] of doomed) {
      queue.cancel(waiter, own ? new CancelledError(`${this.label}: the wait was cancelled`) : reason);
    }
    return doomed.length;
  }

  /** Describes the state, such as `AsyncRLock(account)[locked, depth=2, waiting=1]`. */
  toString(): string {
    const state = this.innermost === undefined ? 'unlocked' : `locked, depth=${this.depth}`;
    return `${this.label}[${state}, waiting=${this.waiting}]`;
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

  /** @internal Whether the calling context owns the innermost level (may `release()` it): Python's `_is_owned`. */
  isOwned(): boolean {
    return this.innermost !== undefined && this.callerOwns(this.innermost);
  }

  /**
   * @internal Sets aside every level of the hold (the whole stack: all of it belongs to the caller's task tree), as
   * Python's `RLock._release_save` does, and hands the lock on. Requests to re-enter those levels lose their claim
   * while they are set aside and queue as outsiders, so that a sibling can take the lock meanwhile.
   */
  releaseSave(): unknown {
    const top = this.innermost as RLockHold;
    const bottom = this.setAsideStack();
    const suspended: SuspendedLevels = { top, bottom, claim: undefined };
    this.claimFor(suspended, bottom.claim);
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
      if (reentry !== undefined && reentry.size > 0) {
        for (const waiter of reentry) (level.displaced ??= []).push(waiter);
        reentry.repark(this.outsiders, reentry.size, true);
      }
      bottom = level;
    }
    this.innermost = undefined;
    this.traceEnd();
    return bottom;
  }

  /** Records that `suspended` is to be restored on top of `claim` (or, without one, when the lock is free). */
  private claimFor(suspended: SuspendedLevels, claim: RLockHold | undefined): void {
    if (claim === undefined || claim.state === 'ended') return;
    suspended.claim = claim;
    (claim.claimants ??= []).push(suspended);
  }

  /**
   * @internal The parked form of {@link AsyncRLock.acquireRestore}: moves `waiter` (parked on another queue, its
   * value levels set aside by `releaseSave`) to where those levels wait to be restored, no longer cancellable; it
   * is granted them in its turn, as the same waiter (the scheduler hook sees one wait).
   */
  parkRestore(waiter: Waiter<Guard, unknown>): void {
    const suspended = waiter.value as SuspendedLevels;
    const queue = this.restoreQueueOf(suspended);
    moveWaiter(waiter, queue as WaitQueue<Guard, unknown>);
    if (queue === this.outsiders) this.displace(suspended.claim, waiter as Waiter<Guard, Parked>);
    if (this.innermost === undefined) this.handOff();
  }

  /** Where set-aside levels wait to be restored: the re-entry queue of the level they claim, or the outsiders. */
  private restoreQueueOf(suspended: SuspendedLevels): WaitQueue<Guard, Parked> {
    const claim = suspended.claim;
    return claim !== undefined && inStack(claim) ? this.reentryQueue(claim) : this.outsiders;
  }

  /**
   * @internal Takes back the levels {@link AsyncRLock.releaseSave} set aside (Python's `_acquire_restore`): they
   * wait like a request of the scope their bottom level re-enters, and are restored whole. Not cancellable.
   */
  acquireRestore(saved: unknown): Promise<Guard> {
    const suspended = saved as SuspendedLevels;
    const queue = this.restoreQueueOf(suspended);
    const now =
      queue === this.outsiders ? this.innermost === undefined : this.mayEnter(suspended.claim as RLockHold);
    if (!now || queue.size > 0) {
      const parked = queue.park(undefined, suspended);
      if (queue === this.outsiders) this.displace(suspended.claim, queue.tail as Waiter<Guard, Parked>);
      return parked;
    }
    const top = this.restore(suspended);
    this.restoredLast = true;
    this.continueFrom(top);
    return Promise.resolve(top);
  }

  /** The shared body of `acquire` and `run`. */
  private enter(options: RLockAcquireOptions | undefined, ownScope: boolean): Promise<Guard> {
    const early = rejectEarly(options, this.label, ownScope ? 'run' : 'acquire');
    if (early !== undefined) return early;
    let claim: RLockHold | undefined;
    try {
      claim = this.requestClaim(options?.owner, ownScope ? 'run' : 'acquire');
    } catch (error) {
      return Promise.reject(error);
    }
    if (claim !== undefined && claim.state === 'held') {
      if (this.mayEnter(claim)) return Promise.resolve(this.push(claim, ownScope));
      return this.reentryQueue(claim).park(options, new Request(ownScope, claim));
    }
    // No claim, or one a condition wait has set aside: wait as an outsider until that wait restores it.
    if (this.innermost === undefined && this.outsiders.size === 0)
      return Promise.resolve(this.push(undefined, ownScope, claim));
    const parked = this.outsiders.park(options, new Request(ownScope, claim));
    if (claim !== undefined && this.outsiders.tail?.value instanceof Request)
      this.displace(claim, this.outsiders.tail);
    if (this.context !== undefined || options?.owner !== undefined) return parked;
    return parked.catch((error: unknown) => {
      throw this.explainTimeout(error, ownScope ? 'run' : 'acquire');
    });
  }

  /**
   * Without async context, a `run` or `acquire` nested in a hold of this lock and lacking `{ owner }` cannot be told
   * from another task's: it waits for the hold it is nested in, a deadlock. When its timeout tells, say so.
   */
  private explainTimeout(error: unknown, method: string): unknown {
    if (!(error instanceof TimeoutError) || this.innermost === undefined) return error;
    return new TimeoutError(
      `${error.message} while it was held; this runtime has no async context, so a ${method} nested in a hold of ` +
        `${this.label} cannot re-enter implicitly and waits for that hold: pass { owner: guard } (the guard run ` +
        `gives fn, or acquire returns) to re-enter`,
      { cause: error },
    );
  }

  /**
   * The level a request claims to re-enter: the explicit owner (which must be a current level), else the calling
   * context's level while it lasts (active, or set aside by a condition wait). `undefined` means an outsider.
   */
  private requestClaim(owner: Guard | undefined, method: string): RLockHold | undefined {
    if (owner !== undefined) {
      if (!(owner instanceof RLockHold) || owner.state !== 'held' || !this.holds(owner)) {
        throw new LockError(`${this.label}.${method}: options.owner is not a current hold of this lock`);
      }
      return owner;
    }
    const level = this.context?.get();
    return level !== undefined && (level.state === 'held' || level.state === 'aside') ? level : undefined;
  }

  /**
   * Whether the caller owns `level` (may release it, or wait on a condition with it): it belongs to the caller's
   * scope. Without async context support no caller can be told apart, and any caller owns it, as with `AsyncLock`.
   */
  private callerOwns(level: RLockHold): boolean {
    return this.context === undefined || runScopeOf(level) === this.callerScope();
  }

  /** The calling context's level, if it is still active; `undefined` for outsiders. */
  private callerScope(): RLockHold | undefined {
    const level = this.context?.get();
    return level !== undefined && level.state === 'held' ? level : undefined;
  }

  /** Whether a request claiming `scope` may enter now: the innermost level belongs to that scope. */
  private mayEnter(scope: RLockHold): boolean {
    return this.innermost !== undefined && belongsTo(this.innermost, scope);
  }

  private holds(level: RLockHold): boolean {
    for (let current = this.innermost; current !== undefined; current = current.parent) {
      if (current === level) return true;
    }
    return false;
  }

  private reentryQueue(scope: RLockHold): WaitQueue<Guard, Parked> {
    return (scope.reentry ??= new WaitQueue<Guard, Parked>(this));
  }

  /** Adds a level on top, for a `run` (a scope of its own) or a bare `acquire` from `scope`. */
  private push(scope: RLockHold | undefined, ownScope: boolean, claim?: RLockHold): RLockHold {
    if (this.innermost === undefined) this.traceStart();
    const level = new RLockHold(this, this.innermost, ownScope ? 'self' : scope);
    // Granted while the level it re-enters is set aside (the lock was free): remember it, to return on top of it.
    if (claim !== undefined && isSetAside(claim)) level.claim = claim;
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
    if (holdsTraced()) this.trace = traceHoldStart(this, undefined, undefined);
  }

  /** The lock is free again, or its hold set aside whole: the outermost hold ends. */
  private traceEnd(): void {
    if (this.trace === undefined) return;
    traceHoldEnd(this.trace);
    this.trace = undefined;
  }

  /**
   * Grants the next request the current state allows: a re-entry into the innermost level or a scope it belongs
   * to, or, when the lock is free, the head outsider. A loop, not a recursion: a restored level that was released
   * while set aside ends at once and the next request is served, however many there are in a row.
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
    this.unclaim(claimant);
    const joint = this.innermost as RLockHold;
    const bottom = this.setAsideStack();
    claimant.bottom.parent = joint;
    claimant.bottom = bottom;
    this.claimFor(claimant, bottom.claim);
    return this.grantHead(this.outsiders, undefined);
  }

  /** Forgets that `suspended` claims a level. */
  private unclaim(suspended: SuspendedLevels): void {
    const claimants = suspended.claim?.claimants;
    if (claimants !== undefined) claimants.splice(claimants.indexOf(suspended), 1);
    suspended.claim = undefined;
  }

  /**
   * Grants the head of `queue`, if any, on behalf of `scope`: a new level, or the levels a condition waiter set
   * aside. Returns the innermost level granted; the caller ends it if it was released while set aside.
   */
  /** Grants the head request to re-enter the innermost level or a scope it belongs to, if any. */
  private grantReentry(): RLockHold | undefined {
    for (let scope = this.innermost; scope !== undefined; scope = scope.scope) {
      const granted = this.grantHead(scope.reentry, scope);
      if (granted !== undefined) return granted;
      if (scope.scope === scope) break;
    }
    return undefined;
  }

  private grantHead(
    queue: WaitQueue<Guard, Parked> | undefined,
    scope: RLockHold | undefined,
  ): RLockHold | undefined {
    const head = queue?.head;
    if (queue === undefined || head === undefined) return undefined;
    const value = head.value;
    this.restoredLast = !(value instanceof Request);
    const top =
      value instanceof Request ? this.push(scope, value.ownScope, value.claim) : this.restore(value);
    queue.grant(head, top);
    return top;
  }

  /**
   * Puts set-aside levels back on top of the current stack (empty, or the levels of their claim) and returns the
   * innermost, the caller's. Requests that claim one of them and queued as outsiders meanwhile get their claim
   * back: they move to that level's re-entry queue.
   */
  private restore(suspended: SuspendedLevels): RLockHold {
    this.unclaim(suspended);
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
    for (const waiter of displaced) {
      if (waiter.queue === this.outsiders && claimOf(waiter.value) === level)
        this.outsiders.reparkWaiter(waiter, this.reentryQueue(level));
    }
  }

  /** Remembers that `waiter`, among the outsiders, claims the set-aside level `claim` (if any). */
  private displace(claim: RLockHold | undefined, waiter: Waiter<Guard, Parked>): void {
    if (claim !== undefined && isSetAside(claim)) (claim.displaced ??= []).push(waiter);
  }
}
