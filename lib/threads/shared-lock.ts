import { checkFunction, labelFor, type NameOptions, type WaitOptions } from '../core/options.js';
import { runHolding, type Guard } from '../core/guard.js';
import { LockError, TimeoutError } from '../errors.js';
import { agentId, allocateWords } from './agent.js';
import { checkHandle, type SharedHandle } from './handle.js';
import { Int32Memory } from './memory.js';
import { FREE_DIED, heldBy, LOCK_HEADER_WORDS, MAX_AGENT_ID, Pc, Ticket, TicketLock } from './ticket-lock.js';
import { blockQueued, waitQueued } from './lock-wait.js';
import { SharedLockGuard, type SharedGuard } from './shared-guard.js';
import { checkCanBlock, earlyReason, syncDeadline } from './waiting.js';

export type { SharedGuard, SharedLockGuard } from './shared-guard.js';

/** Tickets that can be out at once before acquirers wait for room (then no longer strictly FIFO). */
const CAPACITY = 1024;
const WORDS = LOCK_HEADER_WORDS + CAPACITY;

/**
 * ticket-lock.ts's `STATE` and `FREE`, as local constants: the inlined fast paths read them on every call, and an
 * imported binding can cost a getter call there under some loaders (tsx). A spec checks that they agree.
 */
const STATE = 0;
const FREE = 0;

/** This agent's `STATE` value of a hold (its agent id never changes). */
let ownState = -1;
/** Set once `checkCanBlock` passed in this agent (it never changes), so the fast path skips the call. */
let mayBlock = false;
const own = () => (ownState >= 0 ? ownState : (ownState = heldBy(agentId())));

/** The handle `SharedLock.from` is adopting, read by the constructor (keeps the constructor's signature public). */
let adopting: SharedHandle | undefined;

/**
 * A mutual-exclusion lock shared by every agent (Node worker thread, Web Worker, the main thread) that has its
 * handle: at most one holder at a time across all of them, served in the order they asked (a ticket order kept in
 * its `SharedArrayBuffer`). Not reentrant.
 *
 * Create it in one agent, post `lock.handle` to the others, and rebuild it there with `SharedLock.from(handle)`.
 * In async code use `acquire` (it never blocks the agent: `Atomics.waitAsync`); in a worker that may block, use
 * `acquireSync` (`Atomics.wait`). For locks within one agent, `AsyncLock` is lighter; for tabs of one origin, see
 * {@link WebLock}.
 *
 * The lock records which agent holds it. When a worker dies holding it, whoever sees the death calls
 * `lock.recover(worker.threadId)`, and the next holder's guard says `previousOwnerDied`.
 *
 * @fairness FIFO across agents by ticket, with direct hand-off: a fast agent cannot barge ahead of a queued one
 * (up to 1024 tickets out at once; beyond that, acquirers wait for room in no particular order).
 *
 * @example
 * ```ts
 * import { SharedLock } from 'coop-sync/threads';
 * const lock = new SharedLock({ name: 'counter' });
 * // worker.postMessage(lock.handle); in the worker: const same = SharedLock.from(handle);
 * await lock.run(() => {
 *   // critical section
 * });
 * ```
 */
export class SharedLock {
  /** The primitive's kind and name, as in `toString()` and error messages. */
  readonly label: string;
  /** The name given to the constructor, if any. */
  readonly name: string | undefined;
  /** Post this to another agent; rebuild the lock there with {@link SharedLock.from}. */
  readonly handle: SharedHandle;
  /** @internal */
  readonly words: Int32Array;
  /** @internal */
  readonly machine: TicketLock;
  /** @internal The conditions bound to this object: `recover` withdraws a dead agent's waits on them too. */
  readonly conditions = new Set<{ abandonAll(agent: number): number }>();
  /** @internal This agent's hold, if it holds the lock through this object. */
  current: SharedLockGuard | undefined = undefined;
  /** The registers of every synchronous run of the machine (they never interleave within one agent). */
  private readonly scratch = new Ticket();
  /** @internal Parked acquisitions of this object, by ticket: a release here hands over without a round trip. */
  readonly parked = new Map<number, () => void>();

  /**
   * Allocates a new lock in its own `SharedArrayBuffer` (about 4 KiB).
   *
   * @param options - `name`: shown by `toString()` and in error messages.
   * @throws TypeError - when `options.name` is not a string, or where there is no `SharedArrayBuffer` (a browser
   *   page that is not cross-origin isolated).
   */
  constructor(options?: NameOptions) {
    const handle = adopting;
    adopting = undefined;
    this.label = labelFor('SharedLock', options);
    this.name = options?.name;
    this.words = handle === undefined ? allocateWords(this.label, WORDS) : new Int32Array(handle.buffer);
    this.machine = new TicketLock(new Int32Memory(this.words), 0, CAPACITY);
    this.handle = handle ?? {
      kind: 'SharedLock',
      buffer: this.words.buffer as SharedArrayBuffer,
      name: this.name,
    };
  }

  /**
   * The same lock in this agent, from the `handle` another agent posted.
   *
   * @param handle - a {@link SharedLock.handle}.
   * @returns a `SharedLock` over the same shared memory.
   * @throws TypeError - when `handle` is not the handle of a `SharedLock` (another kind's handle included).
   *
   * @example
   * ```ts
   * // in the worker, from the handle its parent put in workerData (or posted):
   * const lock = SharedLock.from(workerData.lock);
   * ```
   */
  static from(handle: SharedHandle): SharedLock {
    const checked = checkHandle(handle, 'SharedLock', WORDS);
    adopting = checked;
    return new SharedLock(checked.name === undefined ? undefined : { name: checked.name });
  }

  /** Whether some agent holds the lock (or is being handed it) now. */
  get locked(): boolean {
    return this.machine.locked();
  }

  /** How many acquisitions, in every agent, wait for the lock now. */
  get waiting(): number {
    return this.machine.waiting();
  }

  /**
   * Waits for the lock without blocking the agent (`Atomics.waitAsync`) and resolves to the guard of this hold.
   *
   * @param options - `signal` aborts the wait, `timeout` (ms) bounds it (`0`: only if free now).
   * @returns the guard; `guard.previousOwnerDied` tells whether the last holder died holding the lock.
   * @throws TimeoutError - (rejection) when `timeout` expires first.
   * @throws TypeError | RangeError - (rejection) for bad options.
   *
   * @cancellation an abort or timeout before the grant gives the ticket up at once (the next release skips it):
   * the caller holds nothing. Once granted, a later abort or timeout does nothing.
   *
   * @fairness FIFO across agents by ticket.
   *
   * @example
   * ```ts
   * const guard = await lock.acquire({ timeout: 1000 });
   * try {
   *   // critical section
   * } finally {
   *   guard.release();
   * }
   * ```
   */
  acquire(options?: WaitOptions): Promise<SharedGuard> {
    if (options !== undefined) {
      const early = earlyReason(options, `${this.label}.acquire`);
      if (early !== undefined) return Promise.reject(early.reason);
    }
    // The machine's first step (Pc.AcqFast), inlined: one compare-exchange when the lock is free.
    const seen = Atomics.compareExchange(this.words, STATE, FREE, own());
    if (seen === FREE) return Promise.resolve(this.grant(false));
    return this.acquireQueued(options, seen);
  }

  private acquireQueued(options: WaitOptions | undefined, seen: number): Promise<SharedGuard> {
    if (options?.timeout === 0) return this.acquireNow(seen);
    const first = this.machine.afterFast(this.scratch, agentId(), seen);
    if (this.machine.run(first) === Pc.Holds) return Promise.resolve(this.hold(first));
    // Parked: its registers outlive this call.
    return waitQueued(this, Object.assign(new Ticket(), first), options);
  }

  /**
   * Waits for the lock, blocking the calling agent (`Atomics.wait`): for workers that run synchronous code.
   *
   * @param options - `timeout` (ms) bounds the wait (`0`: only if free now).
   * @returns the guard of this hold.
   * @throws TimeoutError - when `timeout` expires first.
   * @throws TypeError - where the agent may not block (a browser's main thread), and for bad options.
   *
   * @cancellation on timeout the ticket is given up (the next release skips it); a grant that came first wins.
   *
   * @fairness FIFO across agents by ticket, the same queue as `acquire`.
   *
   * @example
   * ```ts
   * const guard = lock.acquireSync({ timeout: 100 });
   * try {
   *   // critical section
   * } finally {
   *   guard.release();
   * }
   * ```
   */
  acquireSync(options?: { timeout?: number }): SharedGuard {
    const deadline = options === undefined ? Infinity : syncDeadline(options, `${this.label}.acquireSync`);
    if (!mayBlock) {
      checkCanBlock(this.label, 'acquireSync');
      mayBlock = true;
    }
    // The machine's first step (Pc.AcqFast), inlined: one compare-exchange when the lock is free.
    const seen = Atomics.compareExchange(this.words, STATE, FREE, own());
    if (seen === FREE) return this.grant(false);
    return this.acquireSyncQueued(options, seen, deadline);
  }

  private acquireSyncQueued(
    options: { timeout?: number } | undefined,
    seen: number,
    deadline: number,
  ): SharedGuard {
    if (options?.timeout === 0) {
      const now = this.takeNow(seen);
      if (now !== undefined) return now;
      throw new TimeoutError(`${this.label}.acquireSync timed out after 0 ms`);
    }
    return blockQueued(
      this,
      this.machine.afterFast(this.scratch, agentId(), seen),
      deadline,
      options?.timeout,
    );
  }

  /**
   * Takes the lock if it is free now (no agent holds it or waits for it), without waiting.
   *
   * @returns the guard, or `undefined` when the lock is taken.
   *
   * @example
   * ```ts
   * const guard = lock.tryAcquire();
   * if (guard) guard.release();
   * ```
   */
  tryAcquire(): SharedGuard | undefined {
    const seen = Atomics.compareExchange(this.words, STATE, FREE, own());
    return seen === FREE ? this.grant(false) : this.takeNow(seen);
  }

  /**
   * Acquires the lock (asynchronously), runs `fn`, and releases the lock when `fn` settles.
   *
   * @param fn - the critical section; it receives the guard.
   * @param options - wait options for the acquisition.
   * @returns what `fn` returns.
   * @throws TypeError - (rejection) when `fn` is not a function; whatever `acquire` or `fn` throws.
   *
   * @cancellation `options` only bound the wait for the lock; `fn` is never interrupted.
   *
   * @fairness as {@link SharedLock.acquire}.
   *
   * @example
   * ```ts
   * const total = await lock.run(() => 42);
   * ```
   */
  run<T>(fn: (guard: SharedGuard) => T | PromiseLike<T>, options?: WaitOptions): Promise<T> {
    return runHolding(this, fn as (guard: Guard) => T | PromiseLike<T>, options);
  }

  /**
   * Acquires the lock blocking ({@link SharedLock.acquireSync}), runs `fn`, and releases the lock when it returns
   * or throws.
   *
   * @param fn - the critical section, synchronous.
   * @param options - `timeout` for the acquisition.
   * @returns what `fn` returns.
   * @throws TypeError - when `fn` is not a function or the agent may not block; whatever `acquireSync` or `fn` throws.
   *
   * @cancellation only the wait for the lock is bounded.
   *
   * @fairness as {@link SharedLock.acquireSync}.
   *
   * @example
   * ```ts
   * const value = lock.runSync(() => 42);
   * ```
   */
  runSync<T>(fn: (guard: SharedGuard) => T, options?: { timeout?: number }): T {
    checkFunction(fn, `${this.label}.runSync: fn`);
    const guard = this.acquireSync(options);
    try {
      return fn(guard);
    } finally {
      guard.release();
    }
  }

  /**
   * Frees the hold of an agent that died holding the lock (or was being handed it, or died anywhere in its release
   * before handing it over); the next holder's guard then has `previousOwnerDied === true`. When it died after
   * handing the lock over, the next holder (which it may not have woken) is woken, and it held nothing. Tickets the
   * dead agent was waiting with are given up too, and so are its waits on the {@link SharedCondition}s bound to this
   * lock object (those created or rebuilt in this agent), so that a `notify` never goes to it. Call it from whatever observes the death, typically
   * `worker.on('exit', () => lock.recover(worker.threadId))`.
   *
   * @param agent - the dead agent's id: `worker.threadId` in Node, the worker's {@link agentId} elsewhere.
   * @returns `true` when that agent held the lock (now freed), `false` when it held nothing.
   * @throws TypeError | RangeError - when `agent` is not an agent id.
   *
   * @cancellation not applicable (never waits). Never call it for a live agent: its hold would be broken.
   *
   * @fairness the lock goes to the next ticket in order, as on a release.
   *
   * @example
   * ```ts
   * const { threadId } = worker; // read it while the worker runs: it is -1 once the worker has exited
   * worker.on('exit', () => lock.recover(threadId));
   * ```
   */
  recover(agent: number): boolean {
    if (typeof agent !== 'number' || !Number.isInteger(agent)) {
      throw new TypeError(`${this.label}.recover: agent must be an integer agent id, got ${String(agent)}`);
    }
    if (agent < 0 || agent > MAX_AGENT_ID) {
      throw new RangeError(`${this.label}.recover: agent must be from 0 to ${MAX_AGENT_ID}, got ${agent}`);
    }
    for (const condition of this.conditions) condition.abandonAll(agent);
    const w = this.machine.beginRecover(new Ticket(), agent);
    this.machine.run(w);
    this.wakeHere(w);
    return w.recovered;
  }

  /** Describes the state, such as `SharedLock(counter)[locked by 3, waiting=2]`. */
  toString(): string {
    const holder = this.machine.holder();
    const state = holder !== undefined ? `locked by ${holder}` : this.locked ? 'locked' : 'unlocked';
    return `${this.label}[${state}, waiting=${this.waiting}]`;
  }

  /**
   * Releases the hold of this agent (like Python's `Lock.release()`); its guard becomes stale. Prefer
   * `guard.release()`.
   *
   * @throws LockError - when this agent does not hold the lock through this object.
   *
   * @example
   * ```ts
   * await lock.acquire();
   * lock.release();
   * ```
   */
  release(): void {
    const current = this.current;
    if (current === undefined || current.suspended) {
      throw new LockError(`${this.label} is not held by this agent (${agentId()})`);
    }
    current.release();
  }

  /** @internal Ends this agent's hold and hands the lock on. */
  releaseHold(): void {
    this.current = undefined;
    // The machine's first release step (Pc.RelFast), inlined: one compare-exchange when nobody queues.
    const held = own();
    if (Atomics.compareExchange(this.words, STATE, held, FREE) === held) return;
    const w = this.machine.beginRelease(this.scratch, agentId());
    if (this.machine.run(w) === Pc.Released) this.wakeHere(w);
  }

  /** @internal Whether this agent holds the lock now. */
  heldHere(): boolean {
    return this.machine.holder() === agentId();
  }

  /** @internal The guard of a ticket that the machine left holding. */
  hold(w: Ticket): SharedLockGuard {
    return this.grant(w.previousOwnerDied);
  }

  /** @internal The guard of a hold just taken. */
  grant(previousOwnerDied: boolean): SharedLockGuard {
    return (this.current = new SharedLockGuard(this, previousOwnerDied));
  }

  /** Handed to a ticket parked through this object: wake it now rather than through the agent's task queue. */
  private wakeHere(w: Ticket): void {
    if (w.handed && this.parked.size > 0) this.parked.get(w.head)?.();
  }

  /** Takes the lock only if it is free now (`seen` is the state the inlined first step found). */
  private takeNow(seen: number): SharedLockGuard | undefined {
    if (seen !== FREE_DIED) return undefined;
    const w = this.machine.begin(this.scratch, Pc.TryFast, agentId());
    w.value = seen;
    return this.machine.run(w) === Pc.Holds ? this.hold(w) : undefined;
  }

  private acquireNow(seen: number): Promise<SharedGuard> {
    const now = this.takeNow(seen);
    if (now !== undefined) return Promise.resolve(now);
    return Promise.reject(new TimeoutError(`${this.label}.acquire({ timeout: 0 }): the lock is taken`));
  }
}
