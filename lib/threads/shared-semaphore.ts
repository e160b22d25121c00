import {
  checkFunction,
  checkInteger,
  describe,
  labelFor,
  type NameOptions,
  type WaitOptions,
} from '../core/options.js';
import { type NotThenable, runHolding, type Guard } from '../core/guard.js';
import { TimeoutError } from '../errors.js';
import { allocateWords } from './agent.js';
import { checkHandle, type SharedHandle } from './handle.js';
import { SharedLock } from './shared-lock.js';
import {
  armCancellation,
  blockOnWord,
  checkCanBlock,
  earlyReason,
  syncDeadline,
  waitWord,
} from './waiting.js';

const VALUE = 0;
const NEXT = 1;
const SERVING = 2;
const HEADER = 4;
/** Queued acquisitions at once, across every agent. */
const CAPACITY = 256;
const WORDS = HEADER + CAPACITY;

const EMPTY = 0;
const WAITING = 1;
const ABANDONED = 2;

/** What `SharedSemaphore.acquire` takes: the wait options and how many permits. */
export interface SharedSemaphoreAcquireOptions extends WaitOptions {
  /** How many permits, an integer `>= 1` (default 1). */
  permits?: number | undefined;
}

let adopting: (SharedHandle & { lock?: SharedHandle }) | undefined;

/** One acquisition of permits; releasing it gives them back (once). */
class SemaphoreGuard implements Guard {
  /** A plain value, never a thenable (see {@link NotThenable}). */
  readonly then: NotThenable = undefined;

  released = false;

  constructor(
    private readonly semaphore: SharedSemaphore,
    readonly permits: number,
  ) {}

  release(): void {
    if (this.released) return;
    this.released = true;
    this.semaphore.give(this.permits);
  }

  [Symbol.dispose](): void {
    this.release();
  }
}

/**
 * A weighted counting semaphore shared by every agent that has its handle: at most `value` permits out at once
 * across all of them.
 *
 * Model: the count of free permits (`VALUE`) changes with atomics only, so a release never waits; acquisitions
 * that cannot be served at once queue by ticket (`NEXT`, `SERVING`, a slot each), and only the head of the queue
 * takes permits (head-of-line: a large request at the head is not overtaken by small ones behind it). The queue's
 * bookkeeping is guarded by an internal {@link SharedLock}.
 *
 * @fairness FIFO across agents by ticket, head-of-line.
 *
 * @example
 * ```ts
 * const slots = new SharedSemaphore(2, { name: 'gpu' });
 * await slots.run(async () => {
 *   // at most two threads here
 * });
 * ```
 */
export class SharedSemaphore {
  /** The primitive's kind and name, as in `toString()` and error messages. */
  readonly label: string;
  /** The name given to the constructor, if any. */
  readonly name: string | undefined;
  /** Post this to another agent; rebuild there with {@link SharedSemaphore.from}. */
  readonly handle: SharedHandle;
  private readonly words: Int32Array;
  private readonly queue: SharedLock;

  /**
   * Allocates a new semaphore in shared memory.
   *
   * @param value - the initial number of permits, an integer `>= 0` (default 1).
   * @param options - `name`: shown by `toString()` and in error messages.
   * @throws TypeError | RangeError - for a bad `value` or name; TypeError where there is no `SharedArrayBuffer`.
   */
  constructor(value = 1, options?: NameOptions) {
    const handle = adopting;
    adopting = undefined;
    this.label = labelFor('SharedSemaphore', options);
    this.name = options?.name;
    if (handle === undefined) {
      checkInteger(value, `${this.label}: value`, 0);
      if (value > 0x7fffffff) throw new RangeError(`${this.label}: value must be < 2^31, got ${value}`);
      this.words = allocateWords(this.label, WORDS);
      this.words[VALUE] = value;
      this.queue = new SharedLock({ name: `${this.label} queue` });
    } else {
      this.words = new Int32Array(handle.buffer);
      this.queue = SharedLock.from(handle.lock!);
    }
    this.handle = handle ?? {
      kind: 'SharedSemaphore',
      buffer: this.words.buffer as SharedArrayBuffer,
      name: this.name,
      lock: this.queue.handle,
    };
  }

  /**
   * The same semaphore in this agent, from the `handle` another agent posted.
   *
   * @param handle - a {@link SharedSemaphore.handle}.
   * @returns a `SharedSemaphore` over the same shared memory.
   * @throws TypeError - when `handle` is not the handle of a `SharedSemaphore`.
   *
   * @example
   * ```ts
   * const slots = SharedSemaphore.from(workerData.slots);
   * ```
   */
  static from(handle: SharedHandle): SharedSemaphore {
    const checked = checkHandle(handle, 'SharedSemaphore', WORDS) as SharedHandle & { lock?: SharedHandle };
    checkHandle(checked.lock, 'SharedLock', 4 + 1024);
    adopting = checked;
    return new SharedSemaphore(0, checked.name === undefined ? undefined : { name: checked.name });
  }

  /** The permits free now. */
  get value(): number {
    return Atomics.load(this.words, VALUE);
  }

  /** How many acquisitions, in every agent, queue now. */
  get waiting(): number {
    let count = 0;
    const end = Atomics.load(this.words, NEXT);
    for (let t = Atomics.load(this.words, SERVING); t !== end; t = (t + 1) | 0) {
      if (Atomics.load(this.words, this.slot(t)) === WAITING) count++;
    }
    return count;
  }

  /**
   * Waits for `permits` permits without blocking the agent and resolves to the guard that gives them back.
   *
   * @param options - `permits` (default 1), `signal`, `timeout` (ms; `0`: only if available now).
   * @returns the guard of these permits.
   * @throws TimeoutError - (rejection) when `timeout` expires first.
   * @throws TypeError | RangeError - (rejection) for bad options or `permits`.
   *
   * @cancellation an abort or timeout before the permits are taken leaves the queue (the next in line moves
   * up); once taken, a later abort or timeout does nothing.
   *
   * @fairness FIFO by ticket, head-of-line: a newcomer never takes permits while others queue.
   *
   * @example
   * ```ts
   * const guard = await slots.acquire({ permits: 2, timeout: 1000 });
   * guard.release();
   * ```
   */
  async acquire(options?: SharedSemaphoreAcquireOptions): Promise<Guard> {
    const early = earlyReason(options, `${this.label}.acquire`);
    if (early !== undefined) throw early.reason;
    const permits = this.permitsOf(options, 'acquire');
    const now = this.tryAcquire(permits);
    if (now !== undefined) return now;
    if (options?.timeout === 0) {
      // The queue's lock may only have been busy: look again holding it.
      const taken = await this.queue.run(() => this.takeIfFirst(permits));
      if (taken) return new SemaphoreGuard(this, permits);
      throw new TimeoutError(`${this.label}.acquire({ timeout: 0 }): too few permits`);
    }
    let cancelled: { reason: unknown } | undefined;
    let wake: (() => void) | undefined;
    let waitingOn: number | undefined;
    const disarm = armCancellation(options, `${this.label}.acquire`, (reason) => {
      cancelled = { reason };
      if (waitingOn !== undefined) Atomics.notify(this.words, waitingOn, Infinity); // ends our pending wait
      wake?.();
    });
    try {
      const ticket = await this.queue.run(() => this.enqueue());
      const took = await new Promise<boolean>((resolve) => {
        const look = () => {
          if (cancelled !== undefined) return resolve(false);
          const { index, value, ready } = this.headWait(ticket, permits);
          if (ready) return resolve(true);
          wake = look;
          waitingOn = index;
          if (!waitWord(this.words, index, value, () => wake === look && look())) look();
        };
        look();
      });
      wake = undefined;
      waitingOn = undefined;
      await this.queue.run(() => this.leave(ticket));
      if (!took) throw cancelled!.reason;
      return new SemaphoreGuard(this, permits);
    } finally {
      disarm();
    }
  }

  /**
   * Waits for permits blocking the calling agent (`Atomics.wait`).
   *
   * @param options - `permits` (default 1), `timeout` (ms).
   * @returns the guard of these permits.
   * @throws TimeoutError - when `timeout` expires first.
   * @throws TypeError - where the agent may not block, and for bad options.
   *
   * @cancellation on timeout the call leaves the queue; permits taken first win.
   *
   * @fairness as {@link SharedSemaphore.acquire}, in the same queue.
   *
   * @example
   * ```ts
   * slots.acquireSync({ timeout: 100 }).release();
   * ```
   */
  acquireSync(options?: { timeout?: number; permits?: number }): Guard {
    const deadline = syncDeadline(options, `${this.label}.acquireSync`);
    const permits = this.permitsOf(options, 'acquireSync');
    checkCanBlock(this.label, 'acquireSync');
    const now = this.tryAcquire(permits);
    if (now !== undefined) return now;
    const ticket = this.queue.runSync(() => this.enqueue());
    let took = false;
    while (!took) {
      const { index, value, ready } = this.headWait(ticket, permits);
      took = ready;
      if (!ready && !blockOnWord(this.words, index, value, deadline)) break;
    }
    this.queue.runSync(() => this.leave(ticket));
    if (!took) throw new TimeoutError(`${this.label}.acquireSync timed out after ${options!.timeout} ms`);
    return new SemaphoreGuard(this, permits);
  }

  /**
   * Takes `permits` permits if they are free now and nobody queues, without waiting.
   *
   * @param permits - how many (default 1).
   * @returns the guard, or `undefined` (also while another agent is inside the queue's bookkeeping).
   * @throws TypeError | RangeError - when `permits` is not an integer `>= 1`.
   *
   * @example
   * ```ts
   * slots.tryAcquire()?.release();
   * ```
   */
  tryAcquire(permits = 1): Guard | undefined {
    checkInteger(permits, `${this.label}.tryAcquire: permits`, 1);
    const held = this.queue.tryAcquire();
    if (held === undefined) return undefined;
    try {
      return this.takeIfFirst(permits) ? new SemaphoreGuard(this, permits) : undefined;
    } finally {
      held.release();
    }
  }

  /**
   * Acquires (asynchronously), runs `fn`, and gives the permits back when `fn` settles.
   *
   * @param fn - the guarded work; it receives the guard.
   * @param options - as {@link SharedSemaphore.acquire}.
   * @returns what `fn` returns.
   * @throws TypeError - (rejection) when `fn` is not a function; whatever `acquire` or `fn` throws.
   *
   * @cancellation `options` only bound the wait.
   * @fairness as `acquire`.
   *
   * @example
   * ```ts
   * await slots.run(() => work(), { permits: 1 });
   * ```
   */
  run<T>(fn: (guard: Guard) => T | PromiseLike<T>, options?: SharedSemaphoreAcquireOptions): Promise<T> {
    return runHolding(this, fn, options);
  }

  /**
   * Acquires blocking, runs `fn`, and gives the permits back when it returns or throws.
   *
   * @param fn - the guarded work, synchronous.
   * @param options - as {@link SharedSemaphore.acquireSync}.
   * @returns what `fn` returns.
   * @throws TypeError - when `fn` is not a function or the agent may not block; whatever `fn` throws.
   *
   * @cancellation only the wait is bounded.
   * @fairness as `acquireSync`.
   *
   * @example
   * ```ts
   * slots.runSync(() => work());
   * ```
   */
  runSync<T>(fn: (guard: Guard) => T, options?: { timeout?: number; permits?: number }): T {
    checkFunction(fn, `${this.label}.runSync: fn`);
    const guard = this.acquireSync(options);
    try {
      return fn(guard);
    } finally {
      guard.release();
    }
  }

  /** Describes the state, such as `SharedSemaphore(gpu)[value=1, waiting=0]`. */
  toString(): string {
    return `${this.label}[value=${this.value}, waiting=${this.waiting}]`;
  }

  /** @internal Gives permits back: an atomic add, then the head of the queue looks again. */
  give(permits: number): void {
    Atomics.add(this.words, VALUE, permits);
    Atomics.notify(this.words, VALUE, Infinity);
  }

  private permitsOf(options: { permits?: number | undefined } | undefined, method: string): number {
    const permits = options?.permits ?? 1;
    checkInteger(permits, `${this.label}.${method}: options.permits`, 1);
    if (permits > 0x7fffffff)
      throw new RangeError(`${this.label}.${method}: options.permits ${describe(permits)}`);
    return permits;
  }

  private slot(ticket: number): number {
    return HEADER + (ticket & (CAPACITY - 1));
  }

  /** With the queue lock: takes permits only when nobody queues (no barging). */
  private takeIfFirst(permits: number): boolean {
    return Atomics.load(this.words, NEXT) === Atomics.load(this.words, SERVING) && this.take(permits) < 0;
  }

  /** Takes `permits` if there are enough: -1 when taken, else the value found too small (the one to wait on). */
  private take(permits: number): number {
    for (;;) {
      const value = Atomics.load(this.words, VALUE);
      if (value < permits) return value;
      if (Atomics.compareExchange(this.words, VALUE, value, value - permits) === value) return -1;
    }
  }

  /** Where to wait next, or `ready` once this ticket is the head and has taken its permits. */
  private headWait(ticket: number, permits: number): { index: number; value: number; ready: boolean } {
    const serving = Atomics.load(this.words, SERVING);
    if (serving !== ticket) return { index: SERVING, value: serving, ready: false };
    // Waits on the value found too small: read again, it could hold enough already and the wait miss the notify.
    const seen = this.take(permits);
    return { index: VALUE, value: seen, ready: seen < 0 };
  }

  /** With the queue lock: takes a ticket. */
  private enqueue(): number {
    const ticket = Atomics.load(this.words, NEXT);
    const serving = Atomics.load(this.words, SERVING);
    if (((ticket - serving) | 0) >= CAPACITY || Atomics.load(this.words, this.slot(ticket)) !== EMPTY) {
      throw new RangeError(`${this.label}: ${CAPACITY} acquisitions queue already`);
    }
    Atomics.store(this.words, this.slot(ticket), WAITING);
    Atomics.store(this.words, NEXT, (ticket + 1) | 0);
    return ticket;
  }

  /** With the queue lock: the ticket leaves the queue (the head hands on; one further back is skipped later). */
  private leave(ticket: number): void {
    if (Atomics.load(this.words, SERVING) !== ticket) {
      Atomics.store(this.words, this.slot(ticket), ABANDONED);
      return;
    }
    Atomics.store(this.words, this.slot(ticket), EMPTY);
    const end = Atomics.load(this.words, NEXT);
    let next = (ticket + 1) | 0;
    while (next !== end && Atomics.load(this.words, this.slot(next)) === ABANDONED) {
      Atomics.store(this.words, this.slot(next), EMPTY);
      next = (next + 1) | 0;
    }
    Atomics.store(this.words, SERVING, next);
    Atomics.notify(this.words, SERVING, Infinity);
  }
}
