import { Primitive } from './core/primitive.js';
import { CancelledError } from './errors.js';
import { HoldGuard, type Guard } from './core/guard.js';
import { checkFunction, type NameOptions, type WaitOptions } from './core/options.js';
import { WaitQueue } from './core/wait-queue.js';
import { admitRanked, type PriorityOptions } from './core/priority.js';
import { holdsTraced, traceHoldStart, type HoldTrace, type HolderNameOptions } from './core/diagnostics.js';

/** Wait options of a readers-writer lock. */
export type RWLockAcquireOptions = WaitOptions & PriorityOptions & HolderNameOptions;

/** What a queued waiter asks for: the value it parks with. */
const read = 'read';
const write = 'write';
type Mode = typeof read | typeof write;

/** One hold of an {@link AsyncRWLock}: a read hold or the write hold, as its `mode` says. */
class RWGuard extends HoldGuard {
  constructor(
    private readonly lock: AsyncRWLock,
    private readonly mode: Mode,
    trace: HoldTrace | undefined,
  ) {
    super(trace);
  }

  protected end(): void {
    if (this.mode === read) this.lock.releaseRead();
    else this.lock.releaseWrite();
  }
}

/**
 * A readers-writer lock: any number of readers at once, or one writer alone. Use it when shared state is read far
 * more often than it is written (a cache, a configuration, an index) and readers may await while they read; when
 * reads are short and synchronous, or writes are common, a plain {@link AsyncLock} is simpler and as fast.
 *
 * @fairness one queue in arrival order (tokio's `RwLock`, not a reader-preferring lock). A run of readers at the
 * head of the queue is granted together; a queued writer blocks every reader that arrives after it, so writers never
 * starve, and the readers queued behind a writer are granted as soon as it releases, so readers never starve
 * either. With priorities (`{ priority }`, default 0, larger first) the queue is ordered by priority, then arrival,
 * and the same rules apply to that order. A release hands the lock directly to the waiters it admits, in the same synchronous step.
 *
 * @example
 * ```ts
 * const config = new AsyncRWLock({ name: 'config' });
 * const value = await config.runRead(async () => settings.get('mode'));
 * await config.runWrite(async () => settings.set('mode', 'fast'));
 * ```
 */
export class AsyncRWLock extends Primitive {
  /** Read holds now. Invariant: `readerCount > 0` implies `!writer`. */
  private readerCount = 0;
  /** Whether a write hold is active. */
  private writer = false;
  /**
   * Readers and writers in arrival order. Invariant: when a waiter is queued, the head waiter cannot be granted now
   * (a writer at the head waits for holders to leave; a reader at the head waits for the writer).
   */
  private readonly queue: WaitQueue<Guard, Mode>;

  /**
   * @param options - `name`: shown by `toString()`, in timeout messages and in deadlock reports.
   * @throws TypeError - when `options` is not an object or `options.name` is not a string.
   */
  constructor(options?: NameOptions) {
    super('AsyncRWLock', options);
    // A writer that gives up at the head may have been the one blocking the readers behind it.
    this.queue = new WaitQueue<Guard, Mode>(this, () => this.grantWaiters(), { resolveOnly: true });
  }

  /** Read holds now. */
  get readers(): number {
    return this.readerCount;
  }

  /** Whether a write hold is active now. */
  get writing(): boolean {
    return this.writer;
  }

  /** How many callers (readers and writers) are queued. */
  get waiting(): number {
    return this.queue.size;
  }

  /**
   * Waits for a read hold: shared with other readers, never with a writer.
   *
   * @param options - `signal` aborts the wait, `timeout` (ms) bounds it ({@link WaitOptions}); `priority` ranks it
   *   ({@link PriorityOptions}); `name` names the hold for diagnostics.
   * @returns the guard of this read hold.
   * @throws TimeoutError - (rejection) when `timeout` expires first.
   * @throws TypeError | RangeError - (rejection) for bad options.
   *
   * @cancellation an abort or timeout before the grant removes the caller at once: it holds nothing and has
   * lost its place. Once granted, a later abort or timeout does nothing.
   *
   * @fairness granted at once only when no writer holds the lock and nobody is queued; otherwise it queues, and
   * a queued writer ahead of it goes first.
   *
   * @example
   * ```ts
   * using held = await rw.acquireRead({ timeout: 100 });
   * ```
   */
  acquireRead(options?: RWLockAcquireOptions): Promise<Guard> {
    return admitRanked(this, 'acquireRead', options, this.readAdmitted);
  }

  /** The body of `acquireRead` once its options are checked: shared at once if it may be, else queued. */
  private readAdmitted(options: RWLockAcquireOptions | undefined, priority: number): Promise<Guard> {
    if (!this.writer && this.outranksQueue(priority)) {
      this.readerCount++;
      return Promise.resolve(this.guardFor(read, options?.name));
    }
    return this.queue.park(options, read, priority);
  }

  /**
   * Waits for the write hold: exclusive of every reader and writer.
   *
   * @param options - `signal` aborts the wait, `timeout` (ms) bounds it ({@link WaitOptions}); `priority` ranks it
   *   ({@link PriorityOptions}); `name` names the hold for diagnostics.
   * @returns the guard of the write hold.
   * @throws TimeoutError - (rejection) when `timeout` expires first.
   * @throws TypeError | RangeError - (rejection) for bad options.
   *
   * @cancellation an abort or timeout before the grant removes the caller at once; the readers it was blocking
   * are granted in the same step. Once granted, a later abort or timeout does nothing.
   *
   * @fairness FIFO with the readers: it waits for the holders and for everyone queued before it, and every
   * reader that arrives after it waits for it.
   *
   * @example
   * ```ts
   * const guard = await rw.acquireWrite();
   * try {
   *   await save();
   * } finally {
   *   guard.release();
   * }
   * ```
   */
  acquireWrite(options?: RWLockAcquireOptions): Promise<Guard> {
    return admitRanked(this, 'acquireWrite', options, this.writeAdmitted);
  }

  /** The body of `acquireWrite` once its options are checked: exclusive at once if nobody holds or waits. */
  private writeAdmitted(options: RWLockAcquireOptions | undefined, priority: number): Promise<Guard> {
    if (!this.writer && this.readerCount === 0 && this.queue.size === 0) {
      this.writer = true;
      return Promise.resolve(this.guardFor(write, options?.name));
    }
    return this.queue.park(options, write, priority);
  }

  /**
   * Takes a read hold if one can be granted now without waiting (no writer holds it, nobody is queued).
   *
   * @returns the guard, or `undefined`.
   *
   * @example
   * ```ts
   * const guard = rw.tryAcquireRead();
   * if (guard) guard.release();
   * ```
   */
  tryAcquireRead(): Guard | undefined {
    if (this.writer || !this.outranksQueue(0)) return undefined;
    this.readerCount++;
    return this.guardFor(read, undefined);
  }

  /**
   * Takes the write hold if the lock is free now and nobody is queued.
   *
   * @returns the guard, or `undefined`.
   *
   * @example
   * ```ts
   * const guard = rw.tryAcquireWrite();
   * if (guard === undefined) return 'busy';
   * ```
   */
  tryAcquireWrite(): Guard | undefined {
    if (this.writer || this.readerCount > 0 || this.queue.size > 0) return undefined;
    this.writer = true;
    return this.guardFor(write, undefined);
  }

  /**
   * Takes a read hold, runs `fn` and releases the hold when `fn` settles, whether it returns or throws.
   *
   * @param fn - the reading section; it receives the guard.
   * @param options - wait options for the acquisition.
   * @returns what `fn` returns.
   * @throws TypeError - (rejection) when `fn` is not a function; whatever `acquireRead` or `fn` throws.
   *
   * @cancellation `options` only bound the wait; once `fn` runs it is not interrupted.
   *
   * @fairness as {@link AsyncRWLock.acquireRead}.
   *
   * @example
   * ```ts
   * const size = await rw.runRead(() => cache.size);
   * ```
   */
  async runRead<T>(fn: (guard: Guard) => T | PromiseLike<T>, options?: RWLockAcquireOptions): Promise<T> {
    if (typeof fn !== 'function') checkFunction(fn, `${this.label}.runRead: fn`);
    const guard = await this.acquireRead(options);
    try {
      return await fn(guard);
    } finally {
      guard.release();
    }
  }

  /**
   * Takes the write hold, runs `fn` and releases the hold when `fn` settles, whether it returns or throws.
   *
   * @param fn - the writing section; it receives the guard.
   * @param options - wait options for the acquisition.
   * @returns what `fn` returns.
   * @throws TypeError - (rejection) when `fn` is not a function; whatever `acquireWrite` or `fn` throws.
   *
   * @cancellation `options` only bound the wait; once `fn` runs it is not interrupted.
   *
   * @fairness as {@link AsyncRWLock.acquireWrite}.
   *
   * @example
   * ```ts
   * await rw.runWrite(async () => cache.clear());
   * ```
   */
  async runWrite<T>(fn: (guard: Guard) => T | PromiseLike<T>, options?: RWLockAcquireOptions): Promise<T> {
    if (typeof fn !== 'function') checkFunction(fn, `${this.label}.runWrite: fn`);
    const guard = await this.acquireWrite(options);
    try {
      return await fn(guard);
    } finally {
      guard.release();
    }
  }

  /**
   * Rejects every queued reader and writer, and touches no holder. Later calls queue as usual.
   *
   * @param reason - what every waiter rejects with; without it, each gets its own `CancelledError`.
   * @returns how many waiters it rejected.
   *
   * @example
   * ```ts
   * const dropped = rw.cancelWaiters(new Error('shutting down'));
   * ```
   */
  cancelWaiters(reason?: unknown): number {
    const count = this.queue.size;
    const own = arguments.length === 0;
    this.queue.rejectAll(() => (own ? new CancelledError(`${this.label}: the wait was cancelled`) : reason));
    return count;
  }

  /** Describes the state, such as `AsyncRWLock(config)[readers=2, waiting=1]` or `[writing, waiting=0]`. */
  protected describeState(): string {
    const state = this.writer ? 'writing' : this.readerCount > 0 ? `readers=${this.readerCount}` : 'free';
    return `${state}, waiting=${this.queue.size}`;
  }

  /** A new hold of `mode`, traced when hold tracing is on (named as given at acquire). */
  private guardFor(mode: Mode, name: string | undefined): RWGuard {
    return new RWGuard(this, mode, holdsTraced() ? traceHoldStart(this, mode, name) : undefined);
  }

  /** @internal */
  releaseRead(): void {
    if (--this.readerCount === 0) this.grantWaiters();
  }

  /** @internal */
  releaseWrite(): void {
    this.writer = false;
    this.grantWaiters();
  }

  /**
   * Whether a newcomer of `priority` would be the head of the queue: nobody waits, or it outranks the best waiter.
   * A reader that would be the head while no writer holds the lock is granted at once (and with `timeout: 0`).
   */
  private outranksQueue(priority: number): boolean {
    const best = this.queue.bestPriority;
    return best === undefined || priority > best;
  }

  /** Grants from the head while the head can be granted: one writer, or a run of readers. Restores the invariant. */
  private grantWaiters(): void {
    const queue = this.queue;
    for (let mode = queue.bestValue; mode !== undefined; mode = queue.bestValue) {
      if (this.writer) return;
      if (mode === write) {
        if (this.readerCount > 0) return;
        this.writer = true;
        this.grantBest(write);
        return;
      }
      this.readerCount++;
      this.grantBest(read);
    }
  }

  /** Grants the best waiter a hold of `mode` (the name it gave is looked up only while holds are traced). */
  private grantBest(mode: Mode): void {
    const queue = this.queue;
    const trace = holdsTraced() ? traceHoldStart(this, mode, queue.bestHolderName) : undefined;
    queue.grantBest(new RWGuard(this, mode, trace));
  }
}
