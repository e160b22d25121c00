import {
  checkFunction,
  checkInteger,
  labelFor,
  type NameOptions,
  type WaitOptions,
} from '../core/options.js';
import { type NotThenable, runHolding, type Guard } from '../core/guard.js';
import { TimeoutError } from '../errors.js';
import { agentId, allocateWords } from './agent.js';
import { checkHandle, type SharedHandle } from './handle.js';
import { Int32Memory } from './memory.js';
import {
  MAX_PERMITS,
  ONE_QUEUED,
  SEMAPHORE_HEADER_WORDS,
  SemaphoreMachine,
  SemaphoreTicket,
  SemPc,
} from './semaphore-machine.js';
import {
  armCancellation,
  blockOnWord,
  checkCanBlock,
  earlyReason,
  syncDeadline,
  waitWord,
} from './waiting.js';

/** Queued acquisitions at once, across every agent. */
const CAPACITY = 256;
const WORDS = SEMAPHORE_HEADER_WORDS + CAPACITY;
const STATE = 0;

/** What `SharedSemaphore.acquire` takes: the wait options and how many permits. */
export interface SharedSemaphoreAcquireOptions extends WaitOptions {
  /** How many permits, an integer `>= 1` (default 1). */
  permits?: number | undefined;
}

let adopting: SharedHandle | undefined;

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
 * Model: one word holds the free permits and the number of queued acquisitions, so taking permits when nobody
 * queues is one compare-exchange and a release one atomic add (it never waits); acquisitions that cannot be served
 * at once queue by ticket, and only the head of the queue takes permits (head-of-line: a large request at the head
 * is not overtaken by small ones behind it). The algorithm, without a lock, is in semaphore-machine.ts.
 *
 * @fairness FIFO across agents by ticket, head-of-line (up to 256 acquisitions queued at once; one more is a
 * `RangeError`).
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
  private readonly machine: SemaphoreMachine;
  /** The registers of every synchronous run of the machine (they never interleave within one agent). */
  private readonly scratch = new SemaphoreTicket();

  /**
   * Allocates a new semaphore in shared memory.
   *
   * @param value - the initial number of permits, an integer from 0 to 4194303 (2^22 - 1; default 1).
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
      if (value > MAX_PERMITS) {
        throw new RangeError(`${this.label}: value must be at most ${MAX_PERMITS}, got ${value}`);
      }
      this.words = allocateWords(this.label, WORDS);
      this.words[STATE] = value;
    } else {
      this.words = new Int32Array(handle.buffer);
    }
    this.machine = new SemaphoreMachine(new Int32Memory(this.words), 0, CAPACITY);
    this.handle = handle ?? {
      kind: 'SharedSemaphore',
      buffer: this.words.buffer as SharedArrayBuffer,
      name: this.name,
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
    const checked = checkHandle(handle, 'SharedSemaphore', WORDS);
    adopting = checked;
    return new SharedSemaphore(0, checked.name === undefined ? undefined : { name: checked.name });
  }

  /** The permits free now. */
  get value(): number {
    return this.machine.value();
  }

  /** How many acquisitions, in every agent, queue now. */
  get waiting(): number {
    return this.machine.waiting();
  }

  /**
   * Waits for `permits` permits without blocking the agent and resolves to the guard that gives them back.
   *
   * @param options - `permits` (default 1), `signal`, `timeout` (ms; `0`: only if available now).
   * @returns the guard of these permits.
   * @throws TimeoutError - (rejection) when `timeout` expires first.
   * @throws TypeError | RangeError - (rejection) for bad options or `permits`, and when 256 acquisitions queue
   *   already.
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
  acquire(options?: SharedSemaphoreAcquireOptions): Promise<Guard> {
    let permits: number;
    try {
      const early = earlyReason(options, `${this.label}.acquire`);
      if (early !== undefined) return Promise.reject(early.reason);
      permits = this.permitsOf(options, 'acquire');
    } catch (error) {
      return Promise.reject(error);
    }
    const now = this.takeNow(permits);
    if (now !== undefined) return Promise.resolve(now);
    if (options?.timeout === 0) {
      return Promise.reject(new TimeoutError(`${this.label}.acquire({ timeout: 0 }): too few permits`));
    }
    const w = this.machine.begin(new SemaphoreTicket(), agentId(), permits);
    this.machine.run(w);
    return new Promise<Guard>((resolve, reject) => {
      let settled = false;
      let reason: unknown;
      const settle = () => {
        settled = true;
        disarm();
        if (w.pc === SemPc.Holds) resolve(new SemaphoreGuard(this, permits));
        else if (w.pc === SemPc.Full) reject(this.full());
        else reject(reason);
      };
      const look = () => {
        for (;;) {
          if (w.pc !== SemPc.ParkedBehind && w.pc !== SemPc.ParkedHead) return settle();
          if (waitWord(this.words, this.machine.waitIndex(w), w.value, wake)) return;
          this.machine.wake(w);
          this.machine.run(w);
        }
      };
      const wake = () => {
        if (settled) return;
        this.machine.wake(w);
        this.machine.run(w);
        look();
      };
      const disarm = armCancellation(options, `${this.label}.acquire`, (why) => {
        if (settled) return;
        reason = why;
        const index = this.machine.waitIndex(w);
        this.machine.cancel(w);
        this.machine.run(w);
        // A pending Atomics.waitAsync cannot be withdrawn: end it (others waiting there look again, harmlessly).
        Atomics.notify(this.words, index, Infinity);
        settle();
      });
      look();
    });
  }

  /**
   * Waits for permits blocking the calling agent (`Atomics.wait`).
   *
   * @param options - `permits` (default 1), `timeout` (ms).
   * @returns the guard of these permits.
   * @throws TimeoutError - when `timeout` expires first.
   * @throws TypeError - where the agent may not block, and for bad options.
   * @throws RangeError - for bad `permits`, and when 256 acquisitions queue already.
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
    const now = this.takeNow(permits);
    if (now !== undefined) return now;
    if (options?.timeout === 0) throw new TimeoutError(`${this.label}.acquireSync timed out after 0 ms`);
    const w = this.machine.begin(this.scratch, agentId(), permits);
    while (this.machine.run(w) !== SemPc.Holds) {
      if (w.pc === SemPc.Full) throw this.full();
      if (!blockOnWord(this.words, this.machine.waitIndex(w), w.value, deadline)) {
        this.machine.cancel(w);
        this.machine.run(w);
        throw new TimeoutError(`${this.label}.acquireSync timed out after ${options!.timeout} ms`);
      }
      this.machine.wake(w);
    }
    return new SemaphoreGuard(this, permits);
  }

  /**
   * Takes `permits` permits if they are free now and nobody queues, without waiting.
   *
   * @param permits - how many (default 1).
   * @returns the guard, or `undefined`.
   * @throws TypeError | RangeError - when `permits` is not an integer `>= 1`.
   *
   * @example
   * ```ts
   * slots.tryAcquire()?.release();
   * ```
   */
  tryAcquire(permits = 1): Guard | undefined {
    checkInteger(permits, `${this.label}.tryAcquire: permits`, 1);
    return this.takeNow(permits);
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

  /** @internal Gives permits back: one atomic add; the head of the queue, if any, is notified. */
  give(permits: number): void {
    // The machine's release (SemPc.Release, SemPc.ReleaseNotify), inlined.
    if (Atomics.add(this.words, STATE, permits) >= ONE_QUEUED) Atomics.notify(this.words, STATE, Infinity);
  }

  private permitsOf(options: { permits?: number | undefined } | undefined, method: string): number {
    const permits = options?.permits ?? 1;
    checkInteger(permits, `${this.label}.${method}: options.permits`, 1);
    if (permits > MAX_PERMITS) {
      throw new RangeError(
        `${this.label}.${method}: options.permits must be at most ${MAX_PERMITS}, got ${permits}`,
      );
    }
    return permits;
  }

  /** Takes `permits` when nobody queues and enough are free (the machine's first steps, inlined when they do). */
  private takeNow(permits: number): Guard | undefined {
    const seen = Atomics.load(this.words, STATE);
    if (
      seen >= permits &&
      seen < ONE_QUEUED &&
      Atomics.compareExchange(this.words, STATE, seen, seen - permits) === seen
    ) {
      return new SemaphoreGuard(this, permits);
    }
    const w = this.machine.afterRead(this.scratch, agentId(), permits, seen, true);
    return this.machine.run(w) === SemPc.Holds ? new SemaphoreGuard(this, permits) : undefined;
  }

  private full(): RangeError {
    return new RangeError(`${this.label}: ${CAPACITY} acquisitions queue already`);
  }
}
