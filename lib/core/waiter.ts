/**
 * One parked call of a {@link WaitQueue}: the promise's functions, what its primitive parked with it, and the
 * signal and timer that can cancel it; and the parked `run(fn)`, which starts `fn` itself when granted.
 *
 * @module
 */

import { TimeoutError } from '../errors.js';
import { unwatchSignal, watchSignal, type AbortWatcher } from './abort.js';
import type { Guard } from './guard.js';
import { clearTimer, currentHook, setTimer, type ParkedWaiter } from './scheduler.js';
import type { WaitQueue } from './wait-queue.js';

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
  /** A priority other than the default 0 (the default costs no field on the waiter). */
  priority = 0;
  signal: AbortSignal | undefined = undefined;
  timer: unknown = undefined;
  /** The outcome held for the scheduler hook until it resumes the waiter. */
  succeeded = false;
  outcome: unknown = undefined;
}

/**
 * One parked call. Created by {@link WaitQueue.park}, settled exactly once: granted by its primitive, or removed
 * by its signal, its timeout or its primitive. It watches its signal itself ({@link AbortWatcher}), so parking
 * allocates no closure. Its links are the queue's business: primitives read `value`, `priority` and `queue` only.
 *
 * @typeParam T - what its call resolves to.
 * @typeParam V - what its primitive parks along with it (permits asked for, an item to put, a held lock level).
 */
export class Waiter<T = unknown, V = undefined> implements ParkedWaiter, AbortWatcher {
  /** @internal Neighbours in its level's list. */
  previous: Waiter<T, V> | undefined = undefined;
  /** @internal */
  next: Waiter<T, V> | undefined = undefined;
  /** The queue it is parked on now (a repark changes it); `undefined` once settled. */
  queue: WaitQueue<T, V> | undefined;
  /** What its primitive parked along with it. */
  readonly value: V;
  /** @internal */
  resolve!: (value: T) => void;
  /** @internal */
  reject!: (reason: unknown) => void;
  /** Signal, timer and the outcome held for the hook, when any of them is used; see {@link WaiterExtras}. */
  private extras: WaiterExtras | undefined = undefined;

  constructor(queue: WaitQueue<T, V>, value: V, priority: number) {
    this.queue = queue;
    this.value = value;
    if (priority !== 0) (this.extras = new WaiterExtras()).priority = priority;
  }

  /** Larger is served first; 0 by default. */
  get priority(): number {
    const extras = this.extras;
    return extras === undefined ? 0 : extras.priority;
  }

  get waitingOn(): object | undefined {
    return this.queue?.owner;
  }

  /** The abort signal it listens to while cancellable. */
  get signal(): AbortSignal | undefined {
    return this.extras?.signal;
  }

  /** Its timeout timer while cancellable. */
  get timer(): unknown {
    return this.extras?.timer;
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

  /** Its signal aborted: it cancels from the queue the waiter is on now, which a repark may have changed. */
  signalAborted(reason: unknown): void {
    (this.extras as WaiterExtras).signal = undefined;
    this.queue?.cancel(this, reason);
  }

  /** The timeout: like an abort, it cancels from the queue the waiter is on now. */
  private expire(timeout: number): void {
    (this.extras as WaiterExtras).timer = undefined;
    const queue = this.queue;
    queue?.cancel(this, new TimeoutError(`${queue.owner.label} timed out after ${timeout} ms`));
  }

  /** @internal Stops watching the signal and clears the timer: a waiter no longer cancellable keeps neither. */
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
   * @internal Delivers the outcome: resolves or rejects the caller's promise, now or when the scheduler hook
   * chooses.
   *
   * @param from - the primitive whose queue settled it, named by the hook's trace.
   */
  settle(succeeded: boolean, outcome: unknown, from: QueueOwner): void {
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
  protected deliver(succeeded: boolean, outcome: unknown): void {
    if (succeeded) this.resolve(outcome as T);
    else this.reject(outcome);
  }
}

/**
 * A parked `run(fn)` ({@link WaitQueue.parkRun}). Its `resolve`/`reject` are those of the run's promise; granted,
 * it runs `fn` with the guard itself, as the body of `run` would after its acquisition.
 */
export class RunWaiter<V, R> extends Waiter<Guard, V> {
  constructor(
    queue: WaitQueue<Guard, V>,
    value: V,
    priority: number,
    private readonly fn: (guard: Guard) => R | PromiseLike<R>,
  ) {
    super(queue, value, priority);
  }

  protected override deliver(succeeded: boolean, outcome: unknown): void {
    if (succeeded) void this.start(outcome as Guard);
    else this.reject(outcome);
  }

  /** Runs `fn` holding `guard`, releases it when `fn` settles, then settles the run with what `fn` did. */
  private async start(guard: Guard): Promise<void> {
    const fulfil = this.resolve as unknown as (value: R) => void;
    const reject = this.reject;
    const fn = this.fn;
    let result: R;
    try {
      await undefined; // never inside the release() that granted it
      result = await fn(guard);
    } catch (error) {
      guard.release();
      reject(error);
      return;
    }
    guard.release();
    fulfil(result);
  }
}
