/**
 * The fair wait queue that every primitive is built on, after Trio's `ParkingLot`: a primitive is state + policy,
 * and its contended path is "just park". The verbs are few:
 *
 * - {@link WaitQueue.park} (and {@link WaitQueue.parkChecked}, which first checks the caller's options): queue the
 *   caller with a typed value (what it asks for) and a priority; returns its promise. Signal and timeout are wired
 *   here, and nowhere else. {@link WaitQueue.parkRun} queues a `run(fn)`; {@link WaitQueue.parkAlarmed} a wait with
 *   a timer of its own (a sleep, a poll).
 * - {@link WaitQueue.bestValue} + {@link WaitQueue.grantBest}: what the best waiter (highest priority, longest
 *   waiting among equals) asks for, and its grant: remove, drop listener and timer, resolve, in one synchronous
 *   step. Grant wins. {@link WaitQueue.grantAll} grants everyone.
 * - {@link WaitQueue.cancel}, {@link WaitQueue.rejectAll}: reject one waiter, or every waiter (returns the count).
 * - {@link WaitQueue.repark}, {@link WaitQueue.reparkWaiter}: move waiters to another queue (a condition's
 *   notify moves them onto its lock's queue), as if they had parked there.
 * - {@link WaitQueue.close} / {@link WaitQueue.reopen}: Trio's `break_lot`: reject everyone now and every later
 *   park until reopened (a queue shut down, a barrier broken).
 * - {@link WaitQueue.statistics}.
 *
 * Storage: a `WaitRing` per priority level (`wait-levels.ts`, `wait-ring.ts`). Waiters of the default priority 0
 * (all of them, unless a primitive passes another) live in the ring the queue always has: enqueue, grant and removal are amortised O(1).
 * Other priorities get a ring each, found through a map, with a max-heap of their priorities: entering a new level
 * is O(log n), joining an existing one O(1), removal amortised O(1), and finding the best level amortised O(log n).
 *
 * A plain waiter (no signal, no finite timeout, no scheduler hook, no diagnostics) is stored as its promise's
 * `resolve` alone; everything else as a {@link Waiter} (see `waiter.ts`). {@link WaitQueue.head},
 * {@link WaitQueue.tail} and iteration hand out {@link Waiter} objects, turning plain entries into objects in
 * place: use {@link WaitQueue.bestValue} and {@link WaitQueue.grantBest} on hot paths.
 *
 * @module
 */

import { TimeoutError } from '../errors.js';
import type { Guard } from './guard.js';
import { rejectEarly, type WaitOptions } from './options.js';
import { currentHook } from './scheduler.js';
import { holdsTraced, waitsTraced } from './diagnostics.js';
import { WaitLevels, type Entry } from './wait-levels.js';
import {
  newPromise,
  PlainWait,
  takeReject,
  takeResolve,
  Waiter,
  type QueueOwner,
  type RunBody,
} from './waiter.js';

export { Waiter, type QueueOwner } from './waiter.js';

/** What {@link WaitQueue.statistics} reports (Trio's `ParkingLot.statistics()`). */
export interface WaitQueueStatistics {
  /** Waiters parked now. */
  readonly waiting: number;
  /** Whether the queue is closed ({@link WaitQueue.close}). */
  readonly closed: boolean;
  /** The priority of the best waiter, or `undefined` when none waits. */
  readonly bestPriority: number | undefined;
}

/** Options of a {@link WaitQueue}. */
export interface WaitQueueOptions {
  /**
   * Keep a plain waiter as its promise's `resolve` alone (no `reject`: 56 bytes less per waiter). Such a waiter,
   * when rejected ({@link WaitQueue.rejectAll}, {@link WaitQueue.close}, or {@link WaitQueue.cancel} of an object
   * obtained from {@link WaitQueue.head}), is resolved with a rejected promise: its caller sees the rejection two
   * microtask turns later than a direct one, after grants made in the same step. Rejections among such waiters
   * keep their order. For a primitive whose waiters are rejected only all together (a lock's `cancelWaiters`).
   */
  readonly resolveOnly?: boolean;
}

/** Whether a waiter parked now with `options` can be a plain entry: nothing but its queue will ever settle it. */
function isPlain(options: WaitOptions | undefined): boolean {
  if (currentHook() !== undefined || waitsTraced() || holdsTraced()) return false;
  if (options === undefined) return true;
  const timeout = options.timeout;
  return options.signal === undefined && (timeout === undefined || timeout === Infinity);
}

/**
 * A fair queue of waiters with priorities, cancellation and requeuing.
 *
 * Invariants: every live entry of a ring is a waiter parked here (a {@link Waiter} in it has `queue === this` and
 * `seq` its position); a waiter leaves its ring in the same synchronous step that settles it or moves it to
 * another queue; `count` is the number of live entries. A closed queue holds no waiter.
 *
 * @typeParam T - what a grant resolves a waiter's call with.
 * @typeParam V - what each waiter carries ({@link Waiter.value}).
 */
export class WaitQueue<T = void, V = undefined> extends WaitLevels<T, V> {
  /** {@link WaitQueueOptions.resolveOnly}. */
  private readonly resolveOnly: boolean;
  /** Set by {@link WaitQueue.close}: builds the reason a park is rejected with while closed. */
  private closedWith: ((waiter: Waiter<T, V> | undefined) => unknown) | undefined = undefined;

  /**
   * @param owner - the primitive, named in timeout messages and deadlock reports.
   * @param onCancel - called after a waiter was removed by its signal or timeout (or {@link WaitQueue.cancel}), so
   *   the primitive can grant what that waiter was blocking (a weighted semaphore's next, smaller request) or react
   *   (a barrier breaks). Not called by {@link WaitQueue.rejectAll} or {@link WaitQueue.close}.
   * @param options - see {@link WaitQueueOptions}.
   */
  constructor(
    readonly owner: QueueOwner,
    private readonly onCancel?: (waiter: Waiter<T, V>) => void,
    options?: WaitQueueOptions,
  ) {
    super();
    this.resolveOnly = options?.resolveOnly === true;
  }

  /** How many waiters are parked. */
  get size(): number {
    return this.count;
  }

  /** Whether the queue is closed: parks reject at once until {@link WaitQueue.reopen}. */
  get closed(): boolean {
    return this.closedWith !== undefined;
  }

  /** What the best waiter carries ({@link Waiter.value}); `undefined` when none waits. O(1), allocates nothing. */
  get bestValue(): V | undefined {
    const ring = this.heap === undefined ? this.main : this.bestRing();
    if (ring === undefined || ring.live === 0) return undefined;
    const seq = ring.first();
    const entry = ring.entryAt(seq);
    return typeof entry !== 'function' && entry instanceof Waiter ? entry.value : (ring.valueAt(seq) as V);
  }

  /** The priority of the best waiter; `undefined` when none waits. */
  get bestPriority(): number | undefined {
    return this.bestRing()?.priority;
  }

  /** The name the best waiter gave at acquire, while holds are traced (diagnostics); else `undefined`. */
  get bestHolderName(): string | undefined {
    const ring = this.bestRing();
    if (ring === undefined) return undefined;
    const entry = ring.entryAt(ring.first());
    return entry instanceof Waiter ? entry.holderName : undefined;
  }

  /**
   * The waiter to serve next as an object: the highest priority, the longest waiting among equals; `undefined`
   * when empty. A plain entry becomes an object in its place (prefer {@link WaitQueue.bestValue}).
   */
  get head(): Waiter<T, V> | undefined {
    const ring = this.bestRing();
    return ring === undefined ? undefined : this.waiterAt(ring, ring.first());
  }

  /** The waiter parked most recently, if it is still parked here (as an object, like {@link WaitQueue.head}). */
  get tail(): Waiter<T, V> | undefined {
    const ring = this.newestRing;
    if (ring === undefined) return undefined;
    const seq = ring.last();
    return seq >= 0 && ring.entryAt(seq) === this.newest ? this.waiterAt(ring, seq) : undefined;
  }

  /**
   * Parks the caller and returns the promise it waits on. The caller has already checked `options` and
   * `priority`. An aborted signal rejects with its reason, a `timeout` of 0 with `TimeoutError`, and a closed
   * queue with its reason, without queueing (a call made of several waits may reach here after its signal fired).
   *
   * @param value - what the primitive keeps with the waiter ({@link Waiter.value}).
   * @param priority - a finite number, larger served first; 0 (the default) keeps every operation O(1).
   */
  park(options: WaitOptions | undefined, value: V = undefined as V, priority = 0): Promise<T> {
    const refused = this.refusal(options);
    if (refused !== undefined) return refused;
    const promise = newPromise<T>();
    const resolve = takeResolve<T>();
    if (!isPlain(options))
      this.enqueue(new Waiter<T, V>(this, value, priority, resolve, takeReject()), options);
    else if (this.resolveOnly) {
      takeReject(); // a plain waiter is rejected through its resolve: one function less per waiter
      const ring = priority === 0 ? this.main : this.levelFor(priority);
      ring.push(resolve, value);
      this.count++;
      this.newest = resolve;
      this.newestRing = ring;
    } else this.append(new PlainWait<T>(resolve, takeReject(), undefined) as PlainWait, value, priority);
    return promise;
  }

  /**
   * {@link WaitQueue.park}, after checking `options` as `rejectEarly` does (bad input, then an aborted signal),
   * naming `method` of the owner in the error: the prologue of a waiting method, written once.
   */
  parkChecked(
    options: WaitOptions | undefined,
    method: string,
    value: V = undefined as V,
    priority = 0,
  ): Promise<T> {
    return rejectEarly(options, this.owner.label, method) ?? this.park(options, value, priority);
  }

  /**
   * Parks a `run(fn)`: like {@link WaitQueue.park}, but the waiter carries `fn`, and its grant starts it (on a later
   * microtask, never inside the call that granted) and releases the guard it was granted when `fn` settles. The
   * promise is the run's own: no async frame waits on an acquisition, so a queued run keeps less alive.
   */
  parkRun<R>(
    this: WaitQueue<Guard, V>,
    options: WaitOptions | undefined,
    value: V,
    priority: number,
    fn: RunBody<R>,
  ): Promise<R> {
    const refused = this.refusal(options);
    if (refused !== undefined) return refused;
    const promise = newPromise<R>();
    const resolve = takeResolve<R>();
    const reject = takeReject();
    if (isPlain(options)) this.append(new PlainWait<R>(resolve, reject, fn) as PlainWait, value, priority);
    else {
      const run = fn as RunBody<unknown>;
      this.enqueue(new Waiter<Guard, V>(this, value, priority, resolve as never, reject, run), options);
    }
    return promise;
  }

  /**
   * Parks a waiter whose own timer ends it: after `ms` ms, `onAlarm` gets the waiter (to grant it, cancel it, or
   * arm {@link Waiter.alarm} again). Settling the waiter, by any means, clears that timer with its timeout and
   * signal listener: a sleep or a poll is a waiter like any other, with one timer mechanism.
   */
  parkAlarmed(
    options: WaitOptions | undefined,
    ms: number,
    onAlarm: (waiter: Waiter<T, V>) => void,
    value: V = undefined as V,
  ): Promise<T> {
    const refused = this.refusal(options);
    if (refused !== undefined) return refused;
    const promise = newPromise<T>();
    const waiter = new Waiter<T, V>(this, value, 0, takeResolve<T>(), takeReject());
    this.enqueue(waiter, options);
    if (ms !== Infinity && waiter.queue === this) waiter.alarm(ms, onAlarm);
    return promise;
  }

  /** The rejection of a park that must not queue: an aborted signal, a closed queue, a timeout of 0. */
  private refusal(options: WaitOptions | undefined): Promise<never> | undefined {
    const signal = options?.signal;
    if (signal !== undefined && signal.aborted) return Promise.reject(signal.reason);
    if (this.closedWith !== undefined) return Promise.reject(this.closedWith(undefined));
    if (options?.timeout === 0)
      return Promise.reject(new TimeoutError(`${this.owner.label} timed out after 0 ms`));
    return undefined;
  }

  /** Queues a waiter object and wires what it listens to. */
  private enqueue(waiter: Waiter<T, V>, options: WaitOptions | undefined): void {
    this.append(waiter, undefined, waiter.priority);
    const signal = options?.signal;
    const timeout = options?.timeout;
    if (signal !== undefined || (timeout !== undefined && timeout !== Infinity))
      waiter.watch(signal, timeout);
    if (waitsTraced() || holdsTraced()) waiter.trace(options);
    const hook = currentHook();
    if (hook !== undefined) hook.parked(waiter);
  }

  /** Grants the best waiter `result`, in one step; does nothing when none waits. Grant wins. Amortised O(1). */
  grantBest(result: T): void {
    const ring = this.heap === undefined ? this.main : this.bestRing();
    if (ring === undefined || ring.live === 0) return;
    const seq = ring.first();
    const entry = ring.entryAt(seq) as Entry<T, V>;
    if (typeof entry === 'function' && currentHook() === undefined) {
      // The common case, kept apart: a plain waiter of a resolveOnly queue.
      ring.remove(seq);
      this.count--;
      if (this.newest === entry) this.newest = this.newestRing = undefined;
      entry(result);
      return;
    }
    const value = entry instanceof Waiter ? undefined : (ring.valueAt(seq) as V);
    this.removeAt(ring, seq, entry);
    this.settleEntry(entry, value, ring.priority, true, result);
  }

  /** Settles `waiter` with `result` and removes it, in one step. Grant wins: a later abort or timeout does nothing. */
  grant(waiter: Waiter<T, V>, result: T): void {
    this.removeAt(this.ringOf(waiter.priority), waiter.seq, waiter);
    this.settleEntry(waiter, undefined, 0, true, result);
  }

  /** Grants every waiter parked now, best first, the same `result`; returns how many. */
  grantAll(result: T): number {
    const count = this.count;
    for (let left = count; left > 0 && this.count > 0; left--) this.grantBest(result);
    return count;
  }

  /**
   * Rejects every waiter parked now, best first, with a reason built for each (so errors are never shared, unless
   * `reason` returns one value on purpose); returns how many. The base of `cancelWaiters`. Later parks queue as
   * usual; `onCancel` is not called. A `reason` that declares no parameter is given none, and the waiters stay
   * plain entries to the end.
   */
  rejectAll(reason: (waiter: Waiter<T, V>) => unknown): number {
    const count = this.count;
    const looks = reason.length > 0;
    for (let left = count; left > 0; left--) {
      const ring = this.bestRing();
      if (ring === undefined) break;
      const seq = ring.first();
      const entry = looks ? this.waiterAt(ring, seq) : (ring.entryAt(seq) as Entry<T, V>);
      const value = entry instanceof Waiter ? undefined : (ring.valueAt(seq) as V);
      this.removeAt(ring, seq, entry);
      const why = looks ? reason(entry as Waiter<T, V>) : (reason as () => unknown)();
      this.settleEntry(entry, value, ring.priority, false, why);
    }
    return count;
  }

  /**
   * Closes the queue, as Trio's `break_lot`: rejects every waiter (as {@link WaitQueue.rejectAll}) and, until
   * {@link WaitQueue.reopen}, every later park, each with a reason built by `reason` (given the waiter, or
   * `undefined` for a park refused at once). Closing a closed queue changes its reason only.
   *
   * @returns how many waiters were rejected.
   */
  close(reason: (waiter: Waiter<T, V> | undefined) => unknown): number {
    this.closedWith = reason;
    return this.rejectAll(reason);
  }

  /**
   * The reason a park is refused with while the queue is closed (built now, as for a park refused at once), for a
   * call that must refuse before it parks (a `put` that could hand its item off); `undefined` while it is open.
   */
  closedReason(): unknown {
    return this.closedWith?.(undefined);
  }

  /** Lets parks queue again after {@link WaitQueue.close}. */
  reopen(): void {
    this.closedWith = undefined;
  }

  /**
   * Removes `waiter` because its signal fired, its timeout expired or its primitive refused it, rejecting it with
   * `reason`, then calls `onCancel`. Does nothing if it was already granted or moved elsewhere. Amortised O(1): it
   * leaves a tombstone, and the ring packs itself once tombstones outnumber its live waiters (or 64).
   *
   * @returns whether it was removed.
   */
  cancel(waiter: Waiter<T, V>, reason: unknown): boolean {
    if (waiter.queue !== this) return false;
    this.removeAt(this.ringOf(waiter.priority), waiter.seq, waiter);
    this.settleEntry(waiter, undefined, 0, false, reason);
    this.onCancel?.(waiter);
    return true;
  }

  /**
   * Moves the best `count` waiters, in order, to `target` (one queue, or a queue chosen per waiter), where they
   * wait on as if they had parked there (their priority kept). By default being moved is their grant: they are no
   * longer cancellable (listener and timer are dropped). With `cancellable`, they keep both and are cancelled from
   * their new queue.
   *
   * @returns how many were moved.
   */
  repark(
    target: WaitQueue<T, V> | ((waiter: Waiter<T, V>) => WaitQueue<T, V>),
    count: number,
    cancellable = false,
  ): number {
    let moved = 0;
    for (let ring = this.bestRing(); moved < count && ring !== undefined; ring = this.bestRing()) {
      const seq = ring.first();
      let entry = ring.entryAt(seq) as Entry<T, V>;
      // A queue chosen per waiter is chosen by looking at the waiter: the entry becomes an object.
      if (typeof target === 'function') entry = this.waiterAt(ring, seq);
      const value = entry instanceof Waiter ? undefined : (ring.valueAt(seq) as V);
      this.removeAt(ring, seq, entry);
      if (entry instanceof Waiter && !cancellable) entry.detach();
      const to = typeof target === 'function' ? target(entry as Waiter<T, V>) : target;
      to.append(entry, value, ring.priority);
      moved++;
    }
    return moved;
  }

  /** Moves `waiter` from this queue to `target`, still cancellable, in O(1) (O(log n) into a new priority level). */
  reparkWaiter(waiter: Waiter<T, V>, target: WaitQueue<T, V>): void {
    const priority = waiter.priority;
    this.removeAt(this.ringOf(priority), waiter.seq, waiter);
    target.append(waiter, undefined, priority);
  }

  /** How many wait, whether the queue is closed, and the best waiter's priority. */
  statistics(): WaitQueueStatistics {
    return { waiting: this.count, closed: this.closed, bestPriority: this.bestPriority };
  }

  /** The waiters, best first, as objects (see {@link WaitQueue.head}). */
  *[Symbol.iterator](): IterableIterator<Waiter<T, V>> {
    yield* this.snapshot();
  }
}
