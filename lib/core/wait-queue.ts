/**
 * The fair wait queue that every primitive is built on: a doubly-linked list of waiters, so that enqueue, grant of
 * the head, removal of a cancelled waiter and moving waiters to another queue are all O(1) each.
 *
 * Only this module creates the promises that callers wait on, listens to abort signals and starts timeout timers.
 * A primitive decides *when* to grant (its policy); the queue does the rest in one synchronous step: unlink, drop
 * the listener and timer, resolve.
 *
 * @module
 */

import { TimeoutError } from '../errors.js';
import { unwatchSignal, watchSignal, type AbortWatcher } from './abort.js';
import type { WaitOptions } from './options.js';
import { clearTimer, currentHook, setTimer, type ParkedWaiter } from './scheduler.js';
import { holdsTraced, traceWaitEnd, traceWaitStart, waitsTraced } from './diagnostics.js';

/** The primitive a queue belongs to, named in timeout messages and deadlock reports. */
export interface QueueOwner {
  /** The primitive's kind and name, such as `AsyncLock(db)`. */
  readonly label: string;
}

/**
 * What only some waiters need, kept apart so that a plain waiter (no signal, no timeout, no harness) stays small:
 * every field of a waiter costs 8 bytes for each of possibly millions of parked calls.
 */
class WaiterExtras {
  signal: AbortSignal | undefined = undefined;
  timer: unknown = undefined;
  /** The outcome held for the scheduler hook until it resumes the waiter. */
  succeeded = false;
  outcome: unknown = undefined;
  /** When the wait started, while waits are traced (diagnostics). */
  startedAt: number | undefined = undefined;
  /** The name given at acquire, while holds are traced (diagnostics). */
  holderName: string | undefined = undefined;
}

/**
 * One parked call. Created by {@link WaitQueue.park}, settled exactly once: granted by its primitive, or removed
 * by its signal or timeout. It watches its signal itself ({@link AbortWatcher}), so parking allocates no closure.
 */
export class Waiter<T = unknown> implements ParkedWaiter, AbortWatcher {
  /** Neighbours in the queue; both `undefined` when it is the only waiter or not queued. */
  previous: Waiter<T> | undefined = undefined;
  next: Waiter<T> | undefined = undefined;
  /** The queue it is parked on; `undefined` once settled. */
  queue: WaitQueue<T> | undefined;
  /** How much of the resource it asks for (semaphore permits); 1 elsewhere. */
  readonly weight: number;
  /** Whatever its primitive parks along with it (the item of a blocked `put`, a barrier's arrival index). */
  value: unknown;
  resolve!: (value: T) => void;
  reject!: (reason: unknown) => void;
  /** Signal, timer and the outcome held for the hook, when any of them is used; see {@link WaiterExtras}. */
  private extras: WaiterExtras | undefined = undefined;

  constructor(queue: WaitQueue<T>, weight: number, value: unknown) {
    this.queue = queue;
    this.weight = weight;
    this.value = value;
  }

  get waitingOn(): object | undefined {
    return this.queue?.owner;
  }

  /** The abort signal it listens to while cancellable. */
  get signal(): AbortSignal | undefined {
    return this.extras?.signal;
  }

  /** The name its caller gave at acquire, recorded only while holds are traced (diagnostics). */
  get holderName(): string | undefined {
    return this.extras?.holderName;
  }

  /** Records what diagnostics need: the start time of the wait, and the name given at acquire. */
  trace(options: WaitOptions | undefined): void {
    const extras = (this.extras ??= new WaiterExtras());
    if (waitsTraced()) extras.startedAt = traceWaitStart((this.queue as WaitQueue<T>).owner, this);
    if (holdsTraced()) extras.holderName = (options as { name?: string } | undefined)?.name;
  }

  /** Its timeout timer while cancellable. */
  get timer(): unknown {
    return this.extras?.timer;
  }

  /** Listens to `signal` and starts the timer of `timeout` (if any), so that either cancels the wait. */
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

  /** Its signal aborted: it cancels from the queue the waiter is on now, which a move may have changed. */
  signalAborted(reason: unknown): void {
    (this.extras as WaiterExtras).signal = undefined;
    this.queue?.cancel(this, reason);
  }

  /** The timeout: like an abort, it cancels from the queue the waiter is on now. */
  expire(timeout: number): void {
    (this.extras as WaiterExtras).timer = undefined;
    const queue = this.queue;
    queue?.cancel(this, new TimeoutError(`${queue.owner.label} timed out after ${timeout} ms`));
  }

  /** Stops listening to the signal and clears the timer; a waiter that is no longer cancellable keeps neither. */
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
  }

  /**
   * Delivers the outcome: resolves or rejects the caller's promise, now or when the scheduler hook chooses.
   *
   * @param from - the primitive whose queue settled it, named by the hook's trace.
   */
  settle(succeeded: boolean, outcome: unknown, from: QueueOwner): void {
    const startedAt = this.extras?.startedAt;
    if (startedAt !== undefined) traceWaitEnd(from, this, startedAt, succeeded, outcome);
    const hook = currentHook();
    if (hook === undefined) {
      if (succeeded) this.resolve(outcome as T);
      else this.reject(outcome);
    } else {
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
    if (extras.succeeded) this.resolve(extras.outcome as T);
    else this.reject(extras.outcome);
    extras.outcome = undefined;
  }
}

/**
 * A FIFO queue of waiters with cancellation and requeuing.
 *
 * Invariant: every waiter in the list is live (not settled); a waiter leaves the list in the same synchronous step
 * that settles it or moves it to another queue.
 */
export class WaitQueue<T = void> {
  private first: Waiter<T> | undefined = undefined;
  private last: Waiter<T> | undefined = undefined;
  private count = 0;

  /**
   * @param owner - the primitive, named in timeout messages and deadlock reports.
   * @param onCancel - called after a waiter was removed by its signal or timeout, so the primitive can grant what
   *   that waiter was blocking (a weighted semaphore's next, smaller request) or react (a barrier breaks).
   */
  constructor(
    readonly owner: QueueOwner,
    private readonly onCancel?: (waiter: Waiter<T>) => void,
  ) {}

  /** How many waiters are parked. */
  get size(): number {
    return this.count;
  }

  /** The longest-waiting waiter, or `undefined`. */
  get head(): Waiter<T> | undefined {
    return this.first;
  }

  /** The most recently queued waiter, or `undefined`. */
  get tail(): Waiter<T> | undefined {
    return this.last;
  }

  /**
   * Parks the caller at the tail and returns the promise it waits on. The caller has already checked `options`
   * ({@link rejectEarly}). An aborted signal rejects with its reason, and a `timeout` of 0 with `TimeoutError`,
   * without queueing: a call made of several waits (a condition's `waitFor`) may reach here after its signal fired.
   *
   * @param weight - what the waiter asks for (semaphore permits).
   * @param value - what the primitive keeps with the waiter ({@link Waiter.value}).
   */
  park(options: WaitOptions | undefined, weight = 1, value?: unknown): Promise<T> {
    const timeout = options?.timeout;
    const signal = options?.signal;
    if (signal !== undefined && signal.aborted) return Promise.reject(signal.reason);
    if (timeout === 0) return Promise.reject(new TimeoutError(`${this.owner.label} timed out after 0 ms`));
    const waiter = new Waiter<T>(this, weight, value);
    const promise = new Promise<T>((resolve, reject) => {
      waiter.resolve = resolve;
      waiter.reject = reject;
    });
    this.append(waiter);
    if (signal !== undefined || (timeout !== undefined && timeout !== Infinity))
      waiter.watch(signal, timeout);
    if (waitsTraced() || holdsTraced()) waiter.trace(options);
    const hook = currentHook();
    if (hook !== undefined) hook.parked(waiter);
    return promise;
  }

  /** Settles `waiter` with `value` and unlinks it, in one step. Grant wins: a later abort or timeout does nothing. */
  grant(waiter: Waiter<T>, value: T): void {
    this.unlink(waiter);
    waiter.detach();
    waiter.settle(true, value, this.owner);
  }

  /** Grants every waiter, in FIFO order, the same `value`. Waiters parked meanwhile (by resumed code) stay. */
  grantAll(value: T): void {
    let waiter = this.first;
    const stop = this.last;
    while (waiter !== undefined) {
      const next = waiter === stop ? undefined : waiter.next;
      this.grant(waiter, value);
      waiter = next;
    }
  }

  /** Rejects every waiter, in FIFO order, with a reason built for each (errors are never shared). */
  rejectAll(reason: (waiter: Waiter<T>) => unknown): void {
    let waiter = this.first;
    const stop = this.last;
    while (waiter !== undefined) {
      const next = waiter === stop ? undefined : waiter.next;
      this.unlink(waiter);
      waiter.detach();
      waiter.settle(false, reason(waiter), this.owner);
      waiter = next;
    }
  }

  /**
   * Removes `waiter` because its signal fired or its timeout expired, rejecting it with `reason`. Does nothing if
   * it was already granted or moved elsewhere.
   */
  cancel(waiter: Waiter<T>, reason: unknown): void {
    if (waiter.queue !== this) return;
    this.unlink(waiter);
    waiter.detach();
    waiter.settle(false, reason, this.owner);
    this.onCancel?.(waiter);
  }

  /**
   * Moves the first `count` waiters, in order, to the tail of `target` (one queue, or a queue chosen per waiter),
   * where they wait on as if they had called there. By default being moved is their grant: they are no longer
   * cancellable (signal listener and timer are dropped). With `stayCancellable`, they keep both and are cancelled
   * from their new queue.
   *
   * @returns how many were moved.
   */
  moveTo(
    target: WaitQueue<T> | ((waiter: Waiter<T>) => WaitQueue<T>),
    count: number,
    stayCancellable = false,
  ): number {
    let moved = 0;
    while (moved < count && this.first !== undefined) {
      const waiter = this.first;
      this.unlink(waiter);
      if (!stayCancellable) waiter.detach();
      (typeof target === 'function' ? target(waiter) : target).append(waiter);
      moved++;
    }
    return moved;
  }

  /** Moves `waiter` from this queue to the tail of `target`, still cancellable, in O(1). */
  transfer(waiter: Waiter<T>, target: WaitQueue<T>): void {
    this.unlink(waiter);
    target.append(waiter);
  }

  /** The waiters, head first. */
  *[Symbol.iterator](): IterableIterator<Waiter<T>> {
    for (let waiter = this.first; waiter !== undefined; waiter = waiter.next) yield waiter;
  }

  private append(waiter: Waiter<T>): void {
    waiter.queue = this;
    waiter.previous = this.last;
    waiter.next = undefined;
    if (this.last === undefined) this.first = waiter;
    else this.last.next = waiter;
    this.last = waiter;
    this.count++;
  }

  private unlink(waiter: Waiter<T>): void {
    const { previous, next } = waiter;
    if (previous === undefined) this.first = next;
    else previous.next = next;
    if (next === undefined) this.last = previous;
    else next.previous = previous;
    waiter.previous = undefined;
    waiter.next = undefined;
    waiter.queue = undefined;
    this.count--;
  }
}
