import { CancelledError, LockError } from './errors.js';
import { type NotThenable, runHeld, runHolding, type Guard } from './core/guard.js';
import { admit, checkFunction, labelFor, type NameOptions, type WaitOptions } from './core/options.js';
import { WaitQueue, type RunBody } from './core/wait-queue.js';
import { admitRanked, type PriorityOptions } from './core/priority.js';
import {
  holdsTraced,
  traceHoldEnd,
  traceHoldStart,
  type HoldTrace,
  type HolderNameOptions,
} from './core/diagnostics.js';

/** Wait options of a lock, plus a name for the hold (diagnostics). */
export type LockAcquireOptions = WaitOptions & PriorityOptions & HolderNameOptions;

/** What a `waitUnlocked` call parks with: it takes its turn but not the lock. */
const takesNothing = Symbol('waitUnlocked');

/**
 * One hold of an {@link AsyncLock}. Stale once released: it can never release a later holder. Not a `HoldGuard`
 * (`core/guard.ts`): its release is the uncontended hot path, measured slower through the shared body (bench 1a).
 */
class LockGuard implements Guard {
  /** A plain value, never a thenable (see {@link NotThenable}). */
  readonly then: NotThenable = undefined;

  released = false;

  constructor(
    private readonly lock: AsyncLock,
    /** What diagnostics record of this hold, while holds are traced (a new record each time it is re-acquired). */
    public trace: HoldTrace | undefined,
  ) {}

  /**
   * Ends the hold. A guard that is not the current holder's is stale, or set aside by `releaseSave`: marking it
   * released is all it takes, and a set-aside hold then ends as soon as `acquireRestore` gets it back.
   */
  release(): void {
    if (this.released) return;
    this.released = true;
    this.lock.releaseHold(this);
  }

  [Symbol.dispose](): void {
    this.release();
  }
}

/**
 * A mutual-exclusion lock for async code: at most one holder at a time, handed over in FIFO order. Not reentrant:
 * a holder that acquires again waits for itself (use `AsyncRLock` for that).
 *
 * Use it to keep a critical section that awaits (a read-modify-write of shared state, a sequence of requests on one
 * connection) from interleaving with another. For "at most n at a time", use {@link AsyncSemaphore}.
 *
 * @fairness strictly FIFO with direct hand-off: `release()` gives the lock to the longest waiter in the same
 * synchronous step, so a newcomer can never barge in ahead of it.
 *
 * @example
 * ```ts
 * const lock = new AsyncLock({ name: 'db' });
 * await lock.run(async () => {
 *   const row = await read();
 *   await write(row + 1);
 * });
 * ```
 */
export class AsyncLock {
  /** The primitive's kind and name, as in `toString()` and error messages. */
  readonly label: string;
  /** The name given to the constructor, if any. */
  readonly name: string | undefined;
  /** The current hold, or `undefined` when unlocked. Invariant: waiters are queued only while this is set. */
  private holder: LockGuard | undefined = undefined;
  /** @internal */
  readonly waitQueue = new WaitQueue<Guard, LockGuard | typeof takesNothing | undefined>(this, undefined, {
    resolveOnly: true,
  });

  /**
   * @param options - `name`: shown by `toString()`, in timeout messages and in deadlock reports.
   * @throws TypeError - when `options.name` is not a string.
   */
  constructor(options?: NameOptions) {
    this.label = labelFor('AsyncLock', options);
    this.name = options?.name;
  }

  /** Whether the lock is held. */
  get locked(): boolean {
    return this.holder !== undefined;
  }

  /** How many callers are queued for the lock. */
  get waiting(): number {
    return this.waitQueue.size;
  }

  /**
   * Waits for the lock and resolves to the guard of this hold.
   *
   * @param options - `signal` aborts the wait, `timeout` (ms) bounds it ({@link WaitOptions}); `priority` ranks it
   *   ({@link PriorityOptions}); `name` names the hold for diagnostics.
   * @returns the guard; release it (or the lock) to let the next waiter in.
   * @throws TimeoutError - (rejection) when `timeout` expires first.
   * @throws TypeError | RangeError - (rejection) for bad options.
   *
   * @cancellation an abort or timeout before the lock is granted removes the caller from the queue at once:
   * it holds nothing and has lost its place. Once granted, a later abort or timeout does nothing.
   *
   * @fairness by `priority` (default 0, larger first), then FIFO; a release hands the lock to the best waiter in
   * the same step. A free lock with no waiters is taken at once.
   *
   * @example
   * ```ts
   * const guard = await lock.acquire({ timeout: 1000 });
   * try {
   *   await critical();
   * } finally {
   *   guard.release();
   * }
   * ```
   */
  acquire(options?: LockAcquireOptions): Promise<Guard> {
    return admitRanked(this, 'acquire', options, this.acquireAdmitted, undefined);
  }

  /** The body of `acquire` once its options are checked: a free lock at once, else a place in the queue. */
  private acquireAdmitted(options: LockAcquireOptions | undefined, priority: number): Promise<Guard> {
    if (this.holder === undefined) return Promise.resolve(this.take(options));
    return this.waitQueue.park(options, undefined, priority);
  }

  /**
   * Takes the lock if it is free now, without waiting.
   *
   * @returns the guard, or `undefined` when the lock is held.
   *
   * @example
   * ```ts
   * const guard = lock.tryAcquire();
   * if (guard) guard.release();
   * ```
   */
  tryAcquire(): Guard | undefined {
    if (this.holder !== undefined) return undefined;
    return (this.holder = new LockGuard(
      this,
      holdsTraced() ? traceHoldStart(this, undefined, undefined) : undefined,
    ));
  }

  /**
   * Releases the lock, whoever holds it (like Python's `Lock.release()`), and hands it to the next waiter. The
   * holder's guard becomes stale. Prefer `guard.release()`, which cannot release someone else's hold.
   *
   * @throws LockError - when the lock is not held.
   *
   * @example
   * ```ts
   * await lock.acquire();
   * lock.release();
   * ```
   */
  release(): void {
    const holder = this.holder;
    if (holder === undefined) throw new LockError(`${this.label} is not locked`);
    this.releaseHold(holder);
  }

  /**
   * Acquires the lock, runs `fn` and releases the lock when `fn` settles, whether it returns or throws.
   *
   * @param fn - the critical section; it receives the guard.
   * @param options - wait options for the acquisition.
   * @returns what `fn` returns.
   * @throws TypeError - (rejection) when `fn` is not a function; whatever `acquire` or `fn` throws.
   *
   * @cancellation `options` only bound the wait for the lock; once `fn` runs it is not interrupted.
   *
   * @fairness as {@link AsyncLock.acquire}.
   *
   * @example
   * ```ts
   * const total = await lock.run(async () => (balance += 10));
   * ```
   */
  run<T>(fn: (guard: Guard) => T | PromiseLike<T>, options?: LockAcquireOptions): Promise<T> {
    // A bad fn is checked before the options, as acquire-then-call would.
    if (typeof fn !== 'function') return runHolding(this, fn, options);
    return admitRanked(this, 'acquire', options, this.runAdmitted, fn);
  }

  /**
   * The body of `run` once its options are checked. Uncontended: taken now, and fn called holding it (no promise
   * for the acquisition). Contended: the queue entry carries fn and starts it on its grant (no async frame parked
   * on an acquire).
   */
  private runAdmitted<T>(
    options: LockAcquireOptions | undefined,
    priority: number,
    fn: RunBody<T>,
  ): Promise<T> {
    if (this.holder === undefined) return runHeld(this.take(options), fn);
    return this.waitQueue.parkRun(options, undefined, priority, fn);
  }

  /**
   * Waits, in the queue like an acquirer, until it is this call's turn and the lock is free, and takes nothing: the
   * waiter behind it gets the lock in the same step.
   *
   * @param options - `signal` aborts the wait, `timeout` (ms) bounds it; see {@link WaitOptions}.
   * @returns a promise that resolves when the lock was free in this caller's turn.
   * @throws TimeoutError - (rejection) when `timeout` expires first.
   * @throws TypeError | RangeError - (rejection) for bad options.
   *
   * @cancellation an abort or timeout removes the caller from the queue at once.
   *
   * @fairness FIFO with the acquirers: it resolves after everyone queued before it has had the lock. At once
   * when the lock is free and nobody waits.
   *
   * @example
   * ```ts
   * await lock.waitUnlocked(); // every write queued before now has finished
   * ```
   */
  waitUnlocked(options?: WaitOptions): Promise<void> {
    return admit(this, 'waitUnlocked', options, this.waitUnlockedAdmitted);
  }

  /** The body of `waitUnlocked` once its options are checked. */
  private waitUnlockedAdmitted(options: WaitOptions | undefined): Promise<void> {
    if (this.holder === undefined) return Promise.resolve();
    return this.waitQueue.park(options, takesNothing) as Promise<unknown> as Promise<void>;
  }

  /**
   * Rejects every queued acquirer (and `waitUnlocked` caller), and touches the holder not at all. Holds being taken
   * back after `releaseSave` (a condition wait re-acquiring the lock) are not cancelled: they always re-acquire. Later calls
   * queue as usual.
   *
   * @param reason - what every waiter rejects with; without it, each gets its own `CancelledError`.
   * @returns how many waiters it rejected.
   *
   * @example
   * ```ts
   * const dropped = lock.cancelWaiters(new Error('shutting down'));
   * ```
   */
  cancelWaiters(reason?: unknown): number {
    const own = arguments.length === 0;
    // An acquirer parks with nothing, a `waitUnlocked` with `takesNothing`; a hold being taken back with its guard.
    return this.waitQueue.rejectWhere(
      (value) => value === undefined || value === takesNothing,
      () => (own ? new CancelledError(`${this.label}: the wait was cancelled`) : reason),
    );
  }

  /**
   * Wraps `fn` so that every call of the wrapper runs it holding the lock: `(...args) => lock.run(() => fn(...args),
   * options)` (p-limit's `limitFunction`).
   *
   * @param fn - the function to serialise.
   * @param options - wait options for every call's acquisition.
   * @returns the wrapper; it returns a promise of what `fn` returns.
   * @throws TypeError - at once, when `fn` is not a function.
   *
   * @cancellation as {@link AsyncLock.run}, for each call.
   * @fairness as {@link AsyncLock.run}, for each call.
   *
   * @example
   * ```ts
   * const save = lock.wrap(async (id: number) => db.save(id));
   * await Promise.all([save(1), save(2)]); // one at a time
   * ```
   */
  wrap<A extends unknown[], R>(
    fn: (...args: A) => R | PromiseLike<R>,
    options?: WaitOptions,
  ): (...args: A) => Promise<R> {
    checkFunction(fn, `${this.label}.wrap: fn`);
    return (...args: A) => this.run(() => fn(...args), options);
  }

  /** Describes the lock's state, such as `AsyncLock(db)[locked, waiting=2]`. */
  toString(): string {
    return `${this.label}[${this.holder === undefined ? 'unlocked' : 'locked'}, waiting=${this.waitQueue.size}]`;
  }

  /** @internal Ends `hold` (marked released) if it is the current one, handing the lock to the head waiter. */
  releaseHold(hold: LockGuard): void {
    if (this.holder !== hold) return;
    hold.released = true;
    if (hold.trace !== undefined) traceHoldEnd(hold.trace);
    if (this.waitQueue.size === 0) this.holder = undefined;
    else this.handOff();
  }

  /** @internal Whether the lock is held: for a plain lock, as in Python, any caller may release it. */
  isOwned(): boolean {
    return this.holder !== undefined;
  }

  /**
   * @internal Releases the current hold as `release()` does, but keeps its guard, to be taken back by
   * {@link AsyncLock.acquireRestore} (Python's `_release_save`): the guard is valid again once re-acquired. Its
   * `release()` meanwhile ends the hold as soon as it is re-acquired.
   */
  releaseSave(): Guard {
    const hold = this.holder as LockGuard;
    if (hold.trace !== undefined) traceHoldEnd(hold.trace);
    this.handOff();
    return hold;
  }

  /**
   * @internal Re-acquires a hold set aside by {@link AsyncLock.releaseSave}, with its own guard (Python's
   * `_acquire_restore`): at once when the lock is free, else queued behind the waiters there now. Not cancellable.
   */
  acquireRestore(saved: Guard): Promise<Guard> {
    const hold = saved as LockGuard;
    if (this.holder !== undefined) return this.waitQueue.park(undefined, hold);
    // Free, so nobody waits: a hold released while set aside ends at once.
    if (!hold.released) this.reinstate(hold);
    return Promise.resolve(hold);
  }

  /**
   * @internal The parked form of {@link AsyncLock.acquireRestore}: moves the best waiter of `from` (its value a
   * hold set aside by `releaseSave`) onto this lock's queue, no longer cancellable, where it takes that hold back in
   * its turn, behind the waiters there now. The waiter stays the same one, so the scheduler hook sees one wait,
   * granted by this lock.
   */
  parkRestore(from: WaitQueue<Guard, unknown>): void {
    from.repark(this.waitQueue as WaitQueue<Guard, unknown>, 1);
    if (this.holder === undefined) this.handOff();
  }

  /** Takes the free lock: a new hold, now the current one. */
  private take(options: LockAcquireOptions | undefined): LockGuard {
    const trace = holdsTraced() ? traceHoldStart(this, undefined, options?.name) : undefined;
    return (this.holder = new LockGuard(this, trace));
  }

  /** Makes a hold taken back by `acquireRestore` the current one again (a released one ends in the caller). */
  private reinstate(hold: LockGuard): void {
    this.holder = hold;
    if (!hold.released && holdsTraced()) hold.trace = traceHoldStart(this, undefined, hold.trace?.name);
  }

  /**
   * Gives the lock to the head waiter, or frees it. A loop, not a recursion: each `acquireRestore` whose hold was
   * released while set aside takes its turn and ends it at once, and there may be any number of them in a row; a
   * `waitUnlocked` waiter takes its turn and nothing else. The holder is set before each grant, so the lock is
   * consistent at every step.
   */
  private handOff(): void {
    const queue = this.waitQueue;
    for (;;) {
      if (queue.size === 0) {
        this.holder = undefined;
        return;
      }
      const value = queue.bestValue;
      if (value === takesNothing) {
        queue.grantBest(undefined as unknown as Guard);
        continue;
      }
      const saved = value as LockGuard | undefined;
      if (saved === undefined) {
        const granted = new LockGuard(
          this,
          holdsTraced() ? traceHoldStart(this, undefined, queue.bestHolderName) : undefined,
        );
        this.holder = granted;
        queue.grantBest(granted);
        return;
      }
      // An `acquireRestore` gets its set-aside guard back; one released meanwhile (a wait nobody awaited) has its
      // turn, and the hold ends at once.
      this.reinstate(saved);
      queue.grantBest(saved);
      if (!saved.released) return;
    }
  }
}
