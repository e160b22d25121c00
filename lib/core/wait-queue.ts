/**
 * The fair wait queue that every primitive is built on, after Trio's `ParkingLot`: a primitive is state + policy,
 * and its contended path is "just park". The verbs are few:
 *
 * - {@link WaitQueue.park}: queue the caller with a typed value (what it asks for) and a priority, once `admit`
 *   (`options.ts`, the prologue of every waiting method) has checked its options; returns its promise. Signal and
 *   timeout are wired here, and nowhere else. {@link WaitQueue.parkRun} queues a `run(fn)`; {@link WaitQueue.parkAlarmed} a wait with
 *   a timer of its own (a sleep, a poll).
 * - {@link WaitQueue.bestValue} + {@link WaitQueue.grantBest}: what the best waiter (highest priority, longest
 *   waiting among equals) asks for, and its grant: remove, drop listener and timer, resolve, in one synchronous
 *   step. Grant wins. {@link WaitQueue.grantAll} grants everyone.
 * - {@link WaitQueue.cancel}, {@link WaitQueue.rejectAll}, {@link WaitQueue.rejectWhere}: reject one waiter,
 *   every waiter, or those whose value passes a test (each returns the count).
 * - {@link WaitQueue.repark}, {@link WaitQueue.reparkHandle}: move waiters to another queue (a condition's
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
 * `resolve` alone; everything else as a waiter object (see `waiter.ts`). A primitive sees what its waiters carry
 * (typed `V`), never the waiters: the one exception is a {@link WaitHandle}, which a primitive asks for when it
 * must move a particular waiter later (`park` and `repark` take a list to collect them in).
 *
 * The removal and move verbs are in `wait-moves.ts`, the storage in `wait-levels.ts` and `wait-ring.ts`.
 *
 * @module
 */

import { TimeoutError } from '../errors.js';
import type { Guard } from './guard.js';
import type { WaitOptions } from './options.js';
import { currentHook } from './scheduler.js';
import { holdsTraced, waitsTraced } from './diagnostics.js';
import type { Entry } from './wait-levels.js';
import { WaitMoves } from './wait-moves.js';
import {
  isWaiter,
  PlainWait,
  settlers,
  Waiter,
  type QueueOwner,
  type RunBody,
  type WaitHandle,
} from './waiter.js';

export type { QueueOwner, RunBody, WaitHandle } from './waiter.js';
export type { RejectReason } from './wait-moves.js';

/** What an alarm returns to ring again after the same delay ({@link WaitQueue.parkAlarmed}). */
export const ringAgain: unique symbol = Symbol('ringAgain');

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
   * when rejected ({@link WaitQueue.rejectAll}, {@link WaitQueue.rejectWhere}, {@link WaitQueue.close}), is
   * resolved with a rejected promise: its caller sees the rejection two
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
 * Invariants: every live entry of a ring is a waiter parked here (a waiter object in it has `queue === this` and
 * `seq` its position); a waiter leaves its ring in the same synchronous step that settles it or moves it to
 * another queue; `count` is the number of live entries. A closed queue holds no waiter.
 *
 * @typeParam T - what a grant resolves a waiter's call with.
 * @typeParam V - what each waiter carries (its value).
 */
export class WaitQueue<T = void, V = undefined> extends WaitMoves<T, V> {
  /** {@link WaitQueueOptions.resolveOnly}. */
  private readonly resolveOnly: boolean;

  /**
   * @param owner - the primitive, named in timeout messages and deadlock reports.
   * @param onCancel - called after a waiter was removed by its signal or timeout (or {@link WaitQueue.cancel}), so
   *   the primitive can grant what that waiter was blocking (a weighted semaphore's next, smaller request) or react
   *   (a barrier breaks). Not called by {@link WaitQueue.rejectAll}, {@link WaitQueue.rejectWhere} or
   *   {@link WaitQueue.close}.
   * @param options - see {@link WaitQueueOptions}.
   */
  constructor(owner: QueueOwner, onCancel?: (handle: WaitHandle<V>) => void, options?: WaitQueueOptions) {
    super(owner, onCancel);
    this.resolveOnly = options?.resolveOnly === true;
  }

  /** How many waiters are parked. */
  get size(): number {
    return this.count;
  }

  /** What the best waiter carries; `undefined` when none waits. O(1), allocates nothing. */
  get bestValue(): V | undefined {
    const ring = this.heap === undefined ? this.main : this.bestRing();
    if (ring === undefined || ring.live === 0) return undefined;
    const seq = ring.first();
    const entry = ring.entryAt(seq);
    return isWaiter(entry) ? entry.value : (ring.valueAt(seq) as V);
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
    return isWaiter(entry) ? entry.holderName : undefined;
  }

  /**
   * Parks the caller and returns the promise it waits on. The caller has already checked `options` and
   * `priority` (`admit`, `admitRanked`). An aborted signal rejects with its reason, a `timeout` of 0 with
   * `TimeoutError`, and a closed queue with its reason, without queueing (a call made of several waits may reach
   * here after its signal fired).
   *
   * @param value - what the primitive keeps with the waiter.
   * @param priority - a finite number, larger served first; 0 (the default) keeps every operation O(1).
   * @param handles - if given, receives the waiter's handle when it queues (for a later
   *   {@link WaitQueue.reparkHandle}); such a waiter is kept as an object.
   */
  park(
    options: WaitOptions | undefined,
    value: V = undefined as V,
    priority = 0,
    handles?: WaitHandle<V>[],
  ): Promise<T> {
    const refused = this.refusal(options);
    if (refused !== undefined) return refused;
    const { promise, resolve, reject } = settlers<T>();
    if (handles !== undefined || !isPlain(options)) {
      const waiter = new Waiter<T, V>(this, value, priority, resolve, reject);
      this.enqueue(waiter, options);
      handles?.push(waiter);
    } else if (this.resolveOnly) {
      // A plain waiter is rejected through its resolve: one function less kept per waiter.
      const ring = priority === 0 ? this.main : this.levelFor(priority);
      ring.push(resolve, value);
      this.count++;
    } else this.append(new PlainWait<T>(resolve, reject, undefined) as PlainWait, value, priority);
    return promise;
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
    const { promise, resolve, reject } = settlers<R>();
    if (isPlain(options)) this.append(new PlainWait<R>(resolve, undefined, fn) as PlainWait, value, priority);
    else {
      const run = fn as RunBody<unknown>;
      this.enqueue(new Waiter<Guard, V>(this, value, priority, resolve as never, reject, run), options);
    }
    return promise;
  }

  /**
   * Parks a waiter whose own timer ends it (a sleep, a poll): after `ms` ms, `onAlarm` decides for it. What it
   * returns is the waiter's grant; {@link ringAgain} rings again after `ms` ms; what it throws rejects the waiter
   * (as {@link WaitQueue.cancel}). Settling the waiter, by any means, clears that timer with its timeout and signal
   * listener: a sleep or a poll is a waiter like any other, with one timer mechanism.
   */
  parkAlarmed(
    options: WaitOptions | undefined,
    ms: number,
    onAlarm: () => T | typeof ringAgain,
    value: V = undefined as V,
  ): Promise<T> {
    const refused = this.refusal(options);
    if (refused !== undefined) return refused;
    const { promise, resolve, reject } = settlers<T>();
    const waiter = new Waiter<T, V>(this, value, 0, resolve, reject);
    this.enqueue(waiter, options);
    if (ms === Infinity || waiter.queue !== this) return promise;
    const ring = (rung: Waiter<T, V>): void => {
      let outcome: T | typeof ringAgain;
      try {
        outcome = onAlarm();
      } catch (error) {
        this.cancel(rung, error);
        return;
      }
      if (outcome === ringAgain) rung.alarm(ms, ring);
      else if (rung.queue === this) {
        this.removeAt(this.ringOf(rung.priority), rung.seq, rung);
        this.settleEntry(rung, undefined, 0, true, outcome);
      }
    };
    waiter.alarm(ms, ring);
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
    if (currentHook() === undefined && !isWaiter(entry)) {
      // The common cases, kept apart: a plain waiter (its `resolve` alone, or a queued run's entry).
      ring.remove(seq);
      this.count--;
      if (typeof entry === 'function') entry(result);
      else entry.grant(result);
      return;
    }
    const value = isWaiter(entry) ? undefined : (ring.valueAt(seq) as V);
    this.removeAt(ring, seq, entry);
    this.settleEntry(entry, value, ring.priority, true, result);
  }

  /**
   * Serves the best waiter with what `serve` makes of its value: grants it that, or, if `serve` throws, rejects it
   * with what was thrown (`onCancel` is not called). The waiter is removed before `serve` runs.
   *
   * @returns whether a waiter was granted: `false` when none waits, or when `serve` threw.
   */
  serveBest(serve: (value: V) => T): boolean {
    const ring = this.bestRing();
    if (ring === undefined) return false;
    const seq = ring.first();
    const entry = ring.entryAt(seq) as Entry<T, V>;
    const value = isWaiter(entry) ? entry.value : (ring.valueAt(seq) as V);
    this.removeAt(ring, seq, entry);
    let result: T;
    try {
      result = serve(value);
    } catch (error) {
      this.settleEntry(entry, value, ring.priority, false, error);
      return false;
    }
    this.settleEntry(entry, value, ring.priority, true, result);
    return true;
  }

  /** Grants every waiter parked now, best first, the same `result`; returns how many. */
  grantAll(result: T): number {
    const count = this.count;
    for (let left = count; left > 0 && this.count > 0; left--) this.grantBest(result);
    return count;
  }

  /** How many wait, whether the queue is closed, and the best waiter's priority. */
  statistics(): WaitQueueStatistics {
    return { waiting: this.count, closed: this.closed, bestPriority: this.bestPriority };
  }
}
