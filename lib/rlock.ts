/**
 * `AsyncRLock`: a façade over its state machine, `RLockStack` (`rlock-core.ts`, whose top states the model: levels,
 * states, ownership, who may enter, invariants).
 *
 * @module
 */

import { CancelledError, LockError } from './errors.js';
import type { Guard } from './core/guard.js';
import {
  admit,
  checkFunction,
  describe,
  labelFor,
  type NameOptions,
  type WaitOptions,
} from './core/options.js';
import type { WaitQueue } from './core/wait-queue.js';
import { RLockStack } from './rlock-core.js';
import type { Parked, RLockHold } from './rlock-levels.js';

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
 * `acquire()` inside a scope opens a level of its own, owned by the scope; while it is held, a further implicit
 * `acquire()` or `run()` from that scope (its holder's, or a concurrent sibling's: they cannot be told apart) is a
 * `LockError`, never a shared level: re-enter with `{ owner: guard }`, or give concurrent children `run` (see
 * {@link AsyncRLock.acquire}). A condition `wait` sets aside every level of the hold, those of the scopes around it included,
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
  /** The levels, the queues and every transition (`rlock-core.ts`). */
  private readonly stack: RLockStack = new RLockStack(this);

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
    return this.stack.innermost !== undefined;
  }

  /** Whether the calling async context could re-enter the lock right now (always `false` without async context). */
  get owned(): boolean {
    const scope = this.stack.callerScope();
    return scope !== undefined && this.stack.holds(scope);
  }

  /** Nested holds currently active (0 when free). */
  get depth(): number {
    let depth = 0;
    for (let level = this.stack.innermost; level !== undefined; level = level.parent) depth++;
    return depth;
  }

  /** How many callers wait: outsiders plus re-entry requests. */
  get waiting(): number {
    let count = this.stack.outsiders.size;
    for (let level = this.stack.innermost; level !== undefined; level = level.parent)
      count += level.reentry?.size ?? 0;
    return count;
  }

  /**
   * Acquires the lock: re-enters at once when the calling context (or `options.owner`) holds it, otherwise waits.
   * Outside any scope it acquires for the guard it returns, as `AsyncLock` does.
   *
   * **Inside a `run` scope** a bare `acquire()` opens a level of its own on top of the scope's (`depth + 1`), owned
   * by the scope: `owned` is true there, `release()` from the scope releases it, and a condition `wait` from the
   * scope sets it aside and restores it. If a sibling holds a nested level of the scope, it waits for it, as a
   * nested `run` does. While that level is held, the scope's context is busy: a further `acquire()`, `run()` or
   * `tryAcquire()` from the scope without `owner` is a `LockError`, since it cannot be told from a concurrent
   * sibling's (`AsyncLocalStorage` cannot give the code after an `await` a context of its own without leaking it into
   * the siblings). Re-enter it with `{ owner: guard }` (the guard this returned), or give concurrent children `run`.
   *
   * @param options - `owner` to re-enter explicitly, plus `signal` and `timeout`; see {@link WaitOptions}.
   * @returns the guard of this level; release it (or call `release()` from the same scope).
   * @throws LockError - (rejection) when `options.owner` is not a current hold of this lock, or when, without
   *   `owner`, a bare level acquired from the calling scope is held (the message names the fix).
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
    return admit(this, 'acquire', options, this.enter, false);
  }

  /** The body of `acquire` and `run` once their options are checked: the stack's transition. */
  private enter(options: RLockAcquireOptions | undefined, ownScope: boolean): Promise<Guard> {
    return this.stack.enter(options, ownScope);
  }

  /**
   * Takes the lock now if the caller may: it re-enters, or the lock is free with nobody waiting.
   *
   * @param options - `owner` to re-enter explicitly.
   * @returns the guard, or `undefined` when the caller would have to wait.
   * @throws LockError - when `options.owner` is not a current hold of this lock, or when, without `owner`, a bare
   *   level acquired from the calling scope is held (see {@link AsyncRLock.acquire}).
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
    const claim = this.stack.requestClaim(options?.owner, 'tryAcquire');
    const implicit = options?.owner === undefined;
    if (claim !== undefined && claim.state === 'held' && this.stack.holds(claim))
      return this.stack.push(claim, false, undefined, implicit);
    if (this.stack.innermost !== undefined || this.stack.outsiders.size > 0) return undefined;
    return this.stack.push(undefined, false, claim, implicit);
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
    const level = this.stack.innermost;
    if (level === undefined) throw new LockError(`${this.label} is not locked`);
    if (!this.stack.isOwned()) {
      throw new LockError(`${this.label}: the calling context does not own the innermost hold`);
    }
    level.release();
  }

  /**
   * Acquires (or re-enters) the lock, runs `fn` in a scope that owns it, and releases that level when `fn` settles.
   * Every async call made from `fn` re-enters at once; concurrent ones take turns. A nested `run` without `owner`
   * while a bare `acquire()` from the same scope is held is a `LockError` (see {@link AsyncRLock.acquire}).
   *
   * @param fn - the critical section; it receives the guard (pass it as `owner` to re-enter explicitly).
   * @param options - `owner` to re-enter explicitly, plus `signal` and `timeout` for the acquisition.
   * @returns what `fn` returns.
   * @throws TypeError - (rejection) when `fn` is not a function; whatever `acquire` or `fn` throws (a nested `run`
   *   without `owner` times out, where there is no async context, with a message that says to pass it).
   * @throws LockError - (rejection) as `acquire` does: a bad `owner`, or a bare level of the calling scope held.
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
    const guard = (await admit(this, 'run', options, this.enter, true)) as RLockHold;
    try {
      if (this.stack.context === undefined) return await fn(guard);
      return await this.stack.context.run(guard, () => fn(guard));
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
    const isRequest = (value: Parked) => value.kind === 'request';
    const why = () => (own ? new CancelledError(`${this.label}: the wait was cancelled`) : reason);
    let count = this.stack.outsiders.rejectWhere(isRequest, why);
    for (let level = this.stack.innermost; level !== undefined; level = level.parent)
      count += level.reentry?.rejectWhere(isRequest, why) ?? 0;
    return count;
  }

  /** Describes the state, such as `AsyncRLock(account)[locked, depth=2, waiting=1]`. */
  toString(): string {
    const state = this.stack.innermost === undefined ? 'unlocked' : `locked, depth=${this.depth}`;
    return `${this.label}[${state}, waiting=${this.waiting}]`;
  }

  /** @internal Whether the calling context owns the innermost level (may `release()` it): Python's `_is_owned`. */
  isOwned(): boolean {
    return this.stack.isOwned();
  }

  /**
   * @internal Sets aside every level of the hold (the whole stack: all of it belongs to the caller's task tree), as
   * Python's `RLock._release_save` does, and hands the lock on; returns what {@link AsyncRLock.acquireRestore} takes.
   */
  releaseSave(): unknown {
    return this.stack.releaseSave();
  }

  /**
   * @internal Takes back the levels {@link AsyncRLock.releaseSave} set aside (Python's `_acquire_restore`): they
   * wait like a request of the scope their bottom level re-enters, and are restored whole. Not cancellable.
   */
  acquireRestore(saved: unknown): Promise<Guard> {
    return this.stack.acquireRestore(saved);
  }

  /**
   * @internal The parked form of {@link AsyncRLock.acquireRestore}: moves `waiter` (parked on another queue, its
   * value levels set aside by `releaseSave`) to where those levels wait to be restored, no longer cancellable.
   */
  parkRestore(from: WaitQueue<Guard, unknown>): void {
    this.stack.parkRestore(from);
  }
}
