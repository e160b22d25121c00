/**
 * The fair wait queue that every primitive is built on, after Trio's `ParkingLot`: a primitive is state + policy,
 * and its contended path is "just park". The verbs are few:
 *
 * - {@link WaitQueue.park}: queue the caller with a typed value (what it asks for) and a priority; returns its
 *   promise. Signal and timeout are wired here, and nowhere else.
 * - {@link WaitQueue.head} + {@link WaitQueue.grant}: the best waiter (highest priority, longest waiting among
 *   equals), and its grant: unlink, drop listener and timer, resolve, in one synchronous step. Grant wins.
 * - {@link WaitQueue.cancel}, {@link WaitQueue.rejectAll}: reject one waiter, or every waiter (returns the count).
 * - {@link WaitQueue.repark}, {@link WaitQueue.reparkWaiter}: move waiters to another queue (a condition's
 *   notify moves them onto its lock's queue), as if they had parked there.
 * - {@link WaitQueue.close} / {@link WaitQueue.reopen}: Trio's `break_lot`: reject everyone now and every later
 *   park until reopened (a queue shut down, a barrier broken).
 * - {@link WaitQueue.wakeUnasked}: a wake-up no wait preceded (a task's start), a choice point under the harness.
 * - {@link WaitQueue.statistics}.
 *
 * Storage: one doubly-linked FIFO list per priority level. Waiters of the default priority 0 (all of them, unless a
 * primitive passes another) live in the level the queue always has: enqueue, removal and grant are O(1). Other
 * priorities get a level each, found through a map, with a max-heap of their priorities: entering a new level is
 * O(log n), joining an existing one O(1), removal O(1), and finding the best level amortised O(log n).
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
  /** When the wait started, while waits are traced (diagnostics). */
  startedAt: number | undefined = undefined;
  /** The name given at acquire, while holds are traced (diagnostics). */
  holderName: string | undefined = undefined;
}

/** A FIFO list of waiters of one priority, linked through `previous`/`next`. */
interface List<T, V> {
  first: Waiter<T, V> | undefined;
  last: Waiter<T, V> | undefined;
}

/** One level of a priority other than 0 (the queue itself is the list of priority 0). */
class Level<T, V> implements List<T, V> {
  first: Waiter<T, V> | undefined = undefined;
  last: Waiter<T, V> | undefined = undefined;

  constructor(readonly priority: number) {}
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

  /** The name its caller gave at acquire, recorded only while holds are traced (diagnostics). */
  get holderName(): string | undefined {
    return this.extras?.holderName;
  }

  /** Records what diagnostics need: the start time of the wait, and the name given at acquire. */
  trace(options: WaitOptions | undefined): void {
    const extras = (this.extras ??= new WaiterExtras());
    if (waitsTraced()) extras.startedAt = traceWaitStart((this.queue as WaitQueue<T, V>).owner, this);
    if (holdsTraced()) extras.holderName = (options as { name?: string } | undefined)?.name;
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
  protected deliver(succeeded: boolean, outcome: unknown): void {
    if (succeeded) this.resolve(outcome as T);
    else this.reject(outcome);
  }
}

/**
 * A parked `run(fn)` ({@link WaitQueue.parkRun}). Its `resolve`/`reject` are those of the run's promise; granted,
 * it runs `fn` with the guard itself, as the body of `run` would after its acquisition.
 */
class RunWaiter<V, R> extends Waiter<Guard, V> {
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

/** What {@link WaitQueue.statistics} reports (Trio's `ParkingLot.statistics()`). */
export interface WaitQueueStatistics {
  /** Waiters parked now. */
  readonly waiting: number;
  /** Whether the queue is closed ({@link WaitQueue.close}). */
  readonly closed: boolean;
  /** The priority of the best waiter, or `undefined` when none waits. */
  readonly bestPriority: number | undefined;
}

/**
 * A fair queue of waiters with priorities, cancellation and requeuing.
 *
 * Invariants: every waiter linked in a level is live (not settled) and has `queue === this`; a waiter leaves its
 * level in the same synchronous step that settles it or moves it to another queue; `count` is the number linked.
 * A closed queue holds no waiter.
 *
 * @typeParam T - what a grant resolves a waiter's call with.
 * @typeParam V - what each waiter carries ({@link Waiter.value}).
 */
export class WaitQueue<T = void, V = undefined> implements List<T, V> {
  /**
   * @internal The list of the default priority 0 (every waiter of a primitive that uses no priorities), kept on the
   * queue itself so that the common path touches no other object.
   */
  first: Waiter<T, V> | undefined = undefined;
  /** @internal */
  last: Waiter<T, V> | undefined = undefined;
  /** Levels of other priorities, created on first use. Invariant: a key is in `others` iff it is in `heap`. */
  private others: Map<number, Level<T, V>> | undefined = undefined;
  /** Max-heap of the priorities in `others` (empty levels are dropped lazily, by {@link WaitQueue.head}). */
  private heap: number[] | undefined = undefined;
  private count = 0;
  /** The waiter parked last, for a primitive that must keep track of it ({@link WaitQueue.tail}). */
  private newest: Waiter<T, V> | undefined = undefined;
  /** Set by {@link WaitQueue.close}: builds the reason a park is rejected with while closed. */
  private closedWith: ((waiter: Waiter<T, V> | undefined) => unknown) | undefined = undefined;

  /**
   * @param owner - the primitive, named in timeout messages and deadlock reports.
   * @param onCancel - called after a waiter was removed by its signal or timeout (or {@link WaitQueue.cancel}), so
   *   the primitive can grant what that waiter was blocking (a weighted semaphore's next, smaller request) or react
   *   (a barrier breaks). Not called by {@link WaitQueue.rejectAll} or {@link WaitQueue.close}.
   */
  constructor(
    readonly owner: QueueOwner,
    private readonly onCancel?: (waiter: Waiter<T, V>) => void,
  ) {}

  /** How many waiters are parked. */
  get size(): number {
    return this.count;
  }

  /** Whether the queue is closed: parks reject at once until {@link WaitQueue.reopen}. */
  get closed(): boolean {
    return this.closedWith !== undefined;
  }

  /** The waiter to serve next: the highest priority, the longest waiting among equals; `undefined` when empty. */
  get head(): Waiter<T, V> | undefined {
    const heap = this.heap;
    if (heap === undefined || heap.length === 0) return this.first;
    const others = this.others as Map<number, Level<T, V>>;
    // Drop emptied levels from the top of the heap (each was entered once: amortised O(log n)).
    for (;;) {
      const top = heap[0] as number;
      const level = others.get(top) as Level<T, V>;
      if (level.first !== undefined) return top > 0 || this.first === undefined ? level.first : this.first;
      others.delete(top);
      popHeap(heap);
      if (heap.length === 0) return this.first;
    }
  }

  /** The waiter parked most recently, if it is still parked here. */
  get tail(): Waiter<T, V> | undefined {
    const newest = this.newest;
    return newest !== undefined && newest.queue === this ? newest : undefined;
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
    const waiter = new Waiter<T, V>(this, value, priority);
    const promise = new Promise<T>((resolve, reject) => {
      waiter.resolve = resolve;
      waiter.reject = reject;
    });
    this.enqueue(waiter, options);
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
    fn: (guard: Guard) => R | PromiseLike<R>,
  ): Promise<R> {
    const refused = this.refusal(options);
    if (refused !== undefined) return refused;
    const waiter = new RunWaiter<V, R>(this, value, priority, fn);
    const promise = new Promise<R>((resolve, reject) => {
      waiter.resolve = resolve as unknown as (guard: Guard) => void;
      waiter.reject = reject;
    });
    this.enqueue(waiter, options);
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

  private enqueue(waiter: Waiter<T, V>, options: WaitOptions | undefined): void {
    this.append(waiter);
    const signal = options?.signal;
    const timeout = options?.timeout;
    if (signal !== undefined || (timeout !== undefined && timeout !== Infinity))
      waiter.watch(signal, timeout);
    if (waitsTraced() || holdsTraced()) waiter.trace(options);
    const hook = currentHook();
    if (hook !== undefined) hook.parked(waiter);
  }

  /** Settles `waiter` with `result` and unlinks it, in one step. Grant wins: a later abort or timeout does nothing. */
  grant(waiter: Waiter<T, V>, result: T): void {
    this.unlink(waiter);
    waiter.detach();
    waiter.settle(true, result, this.owner);
  }

  /** Grants every waiter parked now, best first, the same `result`; returns how many. */
  grantAll(result: T): number {
    const waiters = this.snapshot();
    for (const waiter of waiters) if (waiter.queue === this) this.grant(waiter, result);
    return waiters.length;
  }

  /**
   * Rejects every waiter parked now, best first, with a reason built for each (so errors are never shared, unless
   * `reason` returns one value on purpose); returns how many. The base of `cancelWaiters`. Later parks queue as
   * usual; `onCancel` is not called.
   */
  rejectAll(reason: (waiter: Waiter<T, V>) => unknown): number {
    const waiters = this.snapshot();
    for (const waiter of waiters) {
      if (waiter.queue !== this) continue;
      this.unlink(waiter);
      waiter.detach();
      waiter.settle(false, reason(waiter), this.owner);
    }
    return waiters.length;
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
   * `reason`, then calls `onCancel`. Does nothing if it was already granted or moved elsewhere.
   *
   * @returns whether it was removed.
   */
  cancel(waiter: Waiter<T, V>, reason: unknown): boolean {
    if (waiter.queue !== this) return false;
    this.unlink(waiter);
    waiter.detach();
    waiter.settle(false, reason, this.owner);
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
    for (let waiter = this.head; moved < count && waiter !== undefined; waiter = this.head) {
      this.unlink(waiter);
      if (!cancellable) waiter.detach();
      (typeof target === 'function' ? target(waiter) : target).append(waiter);
      moved++;
    }
    return moved;
  }

  /** Moves `waiter` from this queue to `target`, still cancellable, in O(1) (O(log n) into a new priority level). */
  reparkWaiter(waiter: Waiter<T, V>, target: WaitQueue<T, V>): void {
    this.unlink(waiter);
    target.append(waiter);
  }

  /** How many wait, whether the queue is closed, and the best waiter's priority. */
  statistics(): WaitQueueStatistics {
    return { waiting: this.count, closed: this.closed, bestPriority: this.head?.priority };
  }

  /** The waiters, best first. */
  *[Symbol.iterator](): IterableIterator<Waiter<T, V>> {
    yield* this.snapshot();
  }

  /** The waiters parked now, best first: levels by descending priority, FIFO within each. */
  private snapshot(): Waiter<T, V>[] {
    const waiters: Waiter<T, V>[] = [];
    const levels = this.levelsByPriority();
    for (const level of levels) {
      for (let waiter = level.first; waiter !== undefined; waiter = waiter.next) waiters.push(waiter);
    }
    return waiters;
  }

  private levelsByPriority(): List<T, V>[] {
    const others = this.others;
    if (others === undefined || others.size === 0) return [this];
    const levels = [...others.values()].sort((a, b) => b.priority - a.priority);
    const above = levels.filter((level) => level.priority > 0);
    return [...above, this, ...levels.slice(above.length)];
  }

  private levelFor(priority: number): List<T, V> {
    if (priority === 0) return this;
    const others = (this.others ??= new Map());
    let level = others.get(priority);
    if (level === undefined) {
      level = new Level<T, V>(priority);
      others.set(priority, level);
      pushHeap((this.heap ??= []), priority);
    }
    return level;
  }

  private append(waiter: Waiter<T, V>): void {
    const level = this.levelFor(waiter.priority);
    waiter.queue = this;
    waiter.previous = level.last;
    waiter.next = undefined;
    if (level.last === undefined) level.first = waiter;
    else level.last.next = waiter;
    level.last = waiter;
    this.count++;
    this.newest = waiter;
  }

  private unlink(waiter: Waiter<T, V>): void {
    const priority = waiter.priority;
    const level: List<T, V> = priority === 0 ? this : (this.others?.get(priority) as Level<T, V>);
    const { previous, next } = waiter;
    if (previous === undefined) level.first = next;
    else previous.next = next;
    if (next === undefined) level.last = previous;
    else next.previous = previous;
    waiter.previous = undefined;
    waiter.next = undefined;
    waiter.queue = undefined;
    this.count--;
    if (this.newest === waiter) this.newest = undefined;
  }
}

/** Adds `value` to the max-heap `heap`. */
function pushHeap(heap: number[], value: number): void {
  let index = heap.length;
  heap.push(value);
  while (index > 0) {
    const parent = (index - 1) >> 1;
    if ((heap[parent] as number) >= value) break;
    heap[index] = heap[parent] as number;
    index = parent;
  }
  heap[index] = value;
}

/** Removes the largest value of the non-empty max-heap `heap`. */
function popHeap(heap: number[]): void {
  const last = heap.pop() as number;
  if (heap.length === 0) return;
  let index = 0;
  for (;;) {
    let child = 2 * index + 1;
    if (child >= heap.length) break;
    if (child + 1 < heap.length && (heap[child + 1] as number) > (heap[child] as number)) child++;
    if ((heap[child] as number) <= last) break;
    heap[index] = heap[child] as number;
    index = child;
  }
  heap[index] = last;
}
