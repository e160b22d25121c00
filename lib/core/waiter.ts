/**
 * The parked calls of a {@link WaitQueue}, in the three shapes a queue keeps them:
 *
 * - a plain waiter (no signal, no finite timeout, no scheduler hook, no diagnostics) is only its promise's
 *   `resolve` function, kept in the ring slot itself: no object, no `reject` (a rejection, rare for such a waiter,
 *   resolves it with a rejected promise);
 * - a plain queued `run(fn)` is a {@link PlainWait}: `fn` and the run's own `resolve` (its rejection goes through
 *   `resolve` too); so is a plain waiter on a queue that must reject in order, without `fn` and with its `reject`;
 * - every other waiter is a {@link Waiter} object, which watches its signal and owns its timers.
 *
 * A queue turns a plain entry into a {@link Waiter} (in the same slot) when a caller asks for the object.
 *
 * @module
 */

import { TimeoutError } from '../errors.js';
import { unwatchSignal, watchSignal, type AbortWatcher } from './abort.js';
import type { Guard } from './guard.js';
import type { WaitOptions } from './options.js';
import { clearTimer, currentHook, setTimer, type ParkedWaiter } from './scheduler.js';
import { holdsTraced, traceWaitEnd, traceWaitStart, waitsTraced } from './diagnostics.js';

/** The primitive a queue belongs to, named in timeout messages and deadlock reports. */
export interface QueueOwner {
  /** The primitive's kind and name, such as `AsyncLock(db)`. */
  readonly label: string;
}

/** What a waiter needs of the queue it is parked on. */
export interface WaiterHome<T, V> {
  readonly owner: QueueOwner;
  /** Removes the waiter (its signal fired, its timeout expired) and rejects it with `reason`. */
  cancel(waiter: Waiter<T, V>, reason: unknown): boolean;
}

/**
 * A parked waiter that a primitive keeps hold of (collected by `WaitQueue.park` or `WaitQueue.repark`), to move it
 * later (`WaitQueue.reparkHandle`) or read what it carries. Nothing else of it is the primitive's business.
 */
export interface WaitHandle<V> {
  /** What its primitive parked along with it. */
  readonly value: V;
}

/** A plain waiter: its promise's `resolve`, alone in its ring slot. */
export type Resolve<T> = (value: T) => void;

/** The function of a queued `run`. */
export type RunBody<R> = (guard: Guard) => R | PromiseLike<R>;

/** A new promise and its resolving functions (see {@link settlers}). */
export interface Settlers<T> {
  readonly promise: Promise<T>;
  readonly resolve: Resolve<T>;
  readonly reject: (reason: unknown) => void;
}

/**
 * A new promise and its resolving functions, caught by an executor of its own. Not one shared executor writing to
 * module variables: each such write stores a young function into an old context (a write barrier's slow path), about
 * 17 ns a park more than this executor and its context, which die young. Small enough to be inlined, so the returned
 * object is not allocated either.
 */
export function settlers<T>(): Settlers<T> {
  let resolve!: Resolve<T>;
  let reject!: (reason: unknown) => void;
  const promise = new Promise<T>((fulfil, fail) => {
    resolve = fulfil;
    reject = fail;
  });
  return { promise, resolve, reject };
}

/**
 * Rejects a promise of which only `resolve` was kept: resolved with a rejected promise, it rejects with `reason`
 * two microtask turns later than a direct rejection would.
 */
export function rejectThrough<T>(resolve: Resolve<T>, reason: unknown): void {
  resolve(Promise.reject(reason) as unknown as T);
}

/** Rejects a promise with its `reject`, or through its `resolve` ({@link rejectThrough}) when that was not kept. */
export function rejectWith<T>(
  resolve: Resolve<T>,
  reject: ((reason: unknown) => void) | undefined,
  reason: unknown,
): void {
  if (reject === undefined) rejectThrough(resolve, reason);
  else reject(reason);
}

/**
 * Whether a ring entry is a {@link Waiter} object, not a bare `resolve` or a {@link PlainWait}: a getter of the class,
 * read through the entry's map. Not `instanceof`: on V8 11 (Node 20) `instanceof` a class bound in a module runs the
 * generic lookup of `Symbol.hasInstance`, about 20 ns, and the queue asks on every grant and every ring rebuild.
 */
export function isWaiter<E>(entry: E): entry is Extract<E, WaiterBrand> {
  return (entry as Partial<WaiterBrand>).isWaiter === true;
}

/** What only a {@link Waiter} has among a ring's entries. */
export interface WaiterBrand {
  readonly isWaiter: true;
}

/**
 * Starts `fn` holding `guard` (on a later microtask, never inside the call that granted), releases the guard when
 * `fn` settles, then settles the run with what `fn` did ({@link rejectWith} on a failure).
 */
async function startRun<R>(
  guard: Guard,
  fn: RunBody<R>,
  fulfil: Resolve<R>,
  reject: ((reason: unknown) => void) | undefined,
): Promise<void> {
  let result: R;
  try {
    await undefined; // never inside the release() that granted it
    result = await fn(guard);
  } catch (error) {
    guard.release();
    rejectWith(fulfil, reject, error);
    return;
  }
  guard.release();
  fulfil(result);
}

/**
 * A waiter that nothing can cancel but its queue: a queued `run(fn)` (with `fn`), or a plain waiter on a queue that
 * rejects in order (without `fn`, with both resolving functions).
 */
export class PlainWait<R = unknown> {
  constructor(
    readonly resolve: Resolve<R>,
    /**
     * Its promise's `reject`, or `undefined` for a queued run: a run's promise is rejected through `resolve`
     * ({@link rejectThrough}), two microtask turns later, so that the 100,000 runs a limiter may hold queued keep
     * one function less each (about 56 bytes, and as much less for each young-generation collection to copy).
     */
    readonly reject: ((reason: unknown) => void) | undefined,
    readonly fn: RunBody<R> | undefined,
  ) {}

  /** Granted `outcome`: resolves with it, or starts the run holding it (a guard). */
  grant(outcome: unknown): void {
    const fn = this.fn;
    if (fn === undefined) this.resolve(outcome as R);
    else void startRun(outcome as Guard, fn, this.resolve, this.reject);
  }

  /** Rejects it with `reason`. */
  fail(reason: unknown): void {
    rejectWith(this.resolve, this.reject, reason);
  }
}

/**
 * What only some waiters need, kept apart so that a waiter object stays small: every field costs 8 bytes for each
 * of possibly millions of parked calls.
 */
class WaiterExtras {
  /** A priority other than the default 0 (the default costs no field on the waiter). */
  priority = 0;
  signal: AbortSignal | undefined = undefined;
  /** The timer of a finite `timeout`. */
  timer: unknown = undefined;
  /** The timer of {@link Waiter.alarm}. */
  alarm: unknown = undefined;
  /** The outcome held for the scheduler hook until it resumes the waiter. */
  succeeded = false;
  outcome: unknown = undefined;
  /** When the wait started, while waits are traced (diagnostics). */
  startedAt: number | undefined = undefined;
  /** The name given at acquire, while holds are traced (diagnostics). */
  holderName: string | undefined = undefined;
}

/**
 * One parked call held as an object. Settled exactly once: granted by its primitive, or removed by its signal, its
 * timeout or its primitive. It watches its signal itself ({@link AbortWatcher}), so parking allocates no closure.
 * Where it sits is the queue's business: primitives read `value`, `priority` and `queue` only.
 *
 * @typeParam T - what its call resolves to.
 * @typeParam V - what its primitive parks along with it (permits asked for, an item to put, a held lock level).
 */
export class Waiter<T = unknown, V = undefined> implements ParkedWaiter, AbortWatcher, WaitHandle<V> {
  /** Marks a waiter object among a ring's entries (see {@link isWaiter}). */
  get isWaiter(): true {
    return true;
  }

  /** The queue it is parked on now; `undefined` once settled. */
  private home: WaiterHome<T, V> | undefined;
  /** Its position in its queue's ring, or -1 once it has left. */
  private position = -1;
  /** Signal, timers and the outcome held for the hook, when any of them is used; see {@link WaiterExtras}. */
  private extras: WaiterExtras | undefined = undefined;

  /**
   * @param resolve - its promise's `resolve`.
   * @param reject - its promise's `reject`; `undefined` for a plain waiter turned into an object, which is rejected
   *   through `resolve` ({@link rejectThrough}).
   * @param run - the function of a queued `run`, started on its grant.
   */
  constructor(
    home: WaiterHome<T, V>,
    /** What its primitive parked along with it. */
    readonly value: V,
    priority: number,
    private readonly resolve: Resolve<T>,
    private readonly reject: ((reason: unknown) => void) | undefined,
    private readonly run: RunBody<unknown> | undefined = undefined,
  ) {
    this.home = home;
    if (priority !== 0) (this.extras = new WaiterExtras()).priority = priority;
  }

  /** The queue it is parked on now (a repark changes it); `undefined` once settled. */
  get queue(): WaiterHome<T, V> | undefined {
    return this.home;
  }

  /** Its position in the ring of its queue (the queue's business), or -1 once it has left. */
  get seq(): number {
    return this.position;
  }

  /** @internal Records that it now sits at `seq` of `home` (or has left every queue). */
  place(home: WaiterHome<T, V> | undefined, seq: number): void {
    this.home = home;
    this.position = seq;
  }

  /** @internal Its ring packed itself: same queue, new position. */
  renumber(seq: number): void {
    this.position = seq;
  }

  /** Larger is served first; 0 by default. */
  get priority(): number {
    const extras = this.extras;
    return extras === undefined ? 0 : extras.priority;
  }

  get waitingOn(): object | undefined {
    return this.home?.owner;
  }

  /** The abort signal it listens to while cancellable. */
  get signal(): AbortSignal | undefined {
    return this.extras?.signal;
  }

  /** The name its caller gave at acquire, recorded only while holds are traced (diagnostics). */
  get holderName(): string | undefined {
    return this.extras?.holderName;
  }

  /** Its timeout timer while cancellable. */
  get timer(): unknown {
    return this.extras?.timer;
  }

  /** @internal Records what diagnostics need: the start time of the wait, and the name given at acquire. */
  trace(options: WaitOptions | undefined): void {
    const extras = (this.extras ??= new WaiterExtras());
    const home = this.home as WaiterHome<T, V>;
    if (waitsTraced()) extras.startedAt = traceWaitStart(home.owner, this);
    if (holdsTraced()) extras.holderName = (options as { name?: string } | undefined)?.name;
  }

  /** @internal Watches `signal` and starts the timer of `timeout` (if any), so that either cancels the wait. */
  watch(signal: AbortSignal | undefined, timeout: number | undefined): void {
    const extras = (this.extras ??= new WaiterExtras());
    if (signal !== undefined) {
      extras.signal = signal;
      watchSignal(signal, this);
    }
    if (timeout !== undefined && timeout !== Infinity) {
      extras.timer = setTimer(() => this.expire(timeout), timeout, this);
    }
  }

  /**
   * @internal Calls `callback` with this waiter after `ms` ms, unless it is settled first: the one timer of a wait
   * that its own code ends (a sleep's end, a poll). Settling clears it, as it clears the timeout. One alarm at a
   * time: arming again replaces it.
   */
  alarm(ms: number, callback: (waiter: this) => void): void {
    const extras = (this.extras ??= new WaiterExtras());
    if (extras.alarm !== undefined) clearTimer(extras.alarm);
    extras.alarm = setTimer(
      () => {
        extras.alarm = undefined;
        callback(this);
      },
      ms,
      this,
    );
  }

  /** Its signal aborted: it cancels from the queue the waiter is on now, which a repark may have changed. */
  signalAborted(reason: unknown): void {
    (this.extras as WaiterExtras).signal = undefined;
    this.home?.cancel(this, reason);
  }

  /** The timeout: like an abort, it cancels from the queue the waiter is on now. */
  private expire(timeout: number): void {
    (this.extras as WaiterExtras).timer = undefined;
    const home = this.home;
    home?.cancel(this, new TimeoutError(`${home.owner.label} timed out after ${timeout} ms`));
  }

  /** @internal Stops watching the signal and clears the timers: a waiter no longer cancellable keeps none. */
  detach(): void {
    const extras = this.extras;
    if (extras === undefined) return;
    if (extras.signal !== undefined) {
      unwatchSignal(extras.signal, this);
      extras.signal = undefined;
    }
    if (extras.timer !== undefined) {
      clearTimer(extras.timer);
      extras.timer = undefined;
    }
    if (extras.alarm !== undefined) {
      clearTimer(extras.alarm);
      extras.alarm = undefined;
    }
  }

  /**
   * @internal Delivers the outcome: resolves or rejects the caller's promise, now or when the scheduler hook
   * chooses.
   *
   * @param from - the primitive whose queue settled it, named by the hook's trace.
   */
  settle(succeeded: boolean, outcome: unknown, from: QueueOwner): void {
    const startedAt = this.extras?.startedAt;
    if (startedAt !== undefined) traceWaitEnd(from, this, startedAt, succeeded, outcome);
    const hook = currentHook();
    if (hook === undefined) this.deliver(succeeded, outcome);
    else {
      const extras = (this.extras ??= new WaiterExtras());
      extras.succeeded = succeeded;
      extras.outcome = outcome;
      hook.wake(this, from);
    }
  }

  get granted(): boolean {
    return this.extras?.succeeded === true;
  }

  get outcome(): unknown {
    return this.extras?.outcome;
  }

  resume(): void {
    const extras = this.extras as WaiterExtras;
    const outcome = extras.outcome;
    extras.outcome = undefined;
    this.deliver(extras.succeeded, outcome);
  }

  /** Hands the outcome to the caller: resolves or rejects its promise. A parked `run` starts its function instead. */
  private deliver(succeeded: boolean, outcome: unknown): void {
    const run = this.run;
    if (succeeded) {
      if (run === undefined) this.resolve(outcome as T);
      else void startRun(outcome as Guard, run, this.resolve as Resolve<unknown>, this.reject);
    } else rejectWith(this.resolve, this.reject, outcome);
  }
}
