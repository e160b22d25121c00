import {
  checkFunction,
  checkInteger,
  labelFor,
  type NameOptions,
  type WaitOptions,
} from '../core/options.js';
import { LockError, TimeoutError } from '../errors.js';
import { agentId, allocateWords } from './agent.js';
import { checkHandle, type SharedHandle } from './handle.js';
import { SharedLock, type SharedLockGuard } from './shared-lock.js';
import {
  armCancellation,
  blockOnWord,
  checkCanBlock,
  earlyReason,
  syncDeadline,
  waitWord,
} from './waiting.js';

const TICKETS = 0;
const NOTIFIED = 1;
const HEADER = 2;
/** Waiters at once, across every agent. */
const CAPACITY = 256;
const WORDS = HEADER + CAPACITY;

const EMPTY = 0;
const WOKEN = 2;
const CANCELLED = 3;
/** A slot's value while agent `agent` waits on it. */
const waiting = (agent: number) => 4 + agent;
const isWaiting = (value: number) => value >= 4;

/** The handle `SharedCondition.from` is adopting, read by the constructor. */
let adopting: SharedHandle | undefined;

/**
 * A condition variable shared by every agent that has its handle, bound to a {@link SharedLock}: `wait` releases
 * the lock, sleeps until another agent calls `notify`, and takes the lock back before it returns. "Holding the lock"
 * means held by the calling agent. Always wait in a loop on the state you need (`waitFor` does it), as with
 * pthreads or Python's `threading.Condition`.
 *
 * Model: a ring of 256 slots in its own `SharedArrayBuffer`, one per waiter, between `NOTIFIED` (the next waiter
 * to wake) and `TICKETS` (the next to come); each slot is `WAITING(agent)`, `WOKEN` or `CANCELLED`. Every change is made
 * while holding the lock, so `notify` wakes exactly the longest waiters, in order, and a waiter that timed out is
 * skipped. A slot belongs to its waiter until that waiter returns.
 *
 * @fairness waiters are woken in the order they started waiting; each then queues for the lock.
 *
 * @example
 * ```ts
 * const lock = new SharedLock();
 * const ready = new SharedCondition(lock);
 * await lock.run(() => ready.waitFor(() => flag[0] === 1));
 * ```
 */
export class SharedCondition {
  /** The primitive's kind and name, as in `toString()` and error messages. */
  readonly label: string;
  /** The name given to the constructor, if any. */
  readonly name: string | undefined;
  /** Post this (and the lock's handle) to another agent; rebuild there with {@link SharedCondition.from}. */
  readonly handle: SharedHandle;
  private readonly words: Int32Array;

  /**
   * Allocates a new condition in its own `SharedArrayBuffer`, bound to `lock`.
   *
   * @param lock - the lock that guards the state waited on.
   * @param options - `name`: shown by `toString()` and in error messages.
   * @throws TypeError - when `lock` is not a `SharedLock`, `options.name` is not a string, or there is no
   *   `SharedArrayBuffer`.
   */
  constructor(
    readonly lock: SharedLock,
    options?: NameOptions,
  ) {
    const handle = adopting;
    adopting = undefined;
    this.label = labelFor('SharedCondition', options);
    this.name = options?.name;
    if (!(lock instanceof SharedLock)) throw new TypeError(`${this.label}: lock must be a SharedLock`);
    this.words = handle === undefined ? allocateWords(this.label, WORDS) : new Int32Array(handle.buffer);
    this.handle = handle ?? {
      kind: 'SharedCondition',
      buffer: this.words.buffer as SharedArrayBuffer,
      name: this.name,
    };
    lock.conditions.add(this);
  }

  /**
   * The same condition in this agent, from its handle and the same lock (rebuilt with `SharedLock.from`).
   *
   * @param handle - a {@link SharedCondition.handle}.
   * @param lock - this agent's `SharedLock` for the lock the condition was created with.
   * @returns a `SharedCondition` over the same shared memory.
   * @throws TypeError - when `handle` is not the handle of a `SharedCondition` or `lock` is not a `SharedLock`.
   *
   * @example
   * ```ts
   * const lock = SharedLock.from(workerData.lock);
   * const ready = SharedCondition.from(workerData.ready, lock);
   * ```
   */
  static from(handle: SharedHandle, lock: SharedLock): SharedCondition {
    const checked = checkHandle(handle, 'SharedCondition', WORDS);
    adopting = checked;
    return new SharedCondition(lock, checked.name === undefined ? undefined : { name: checked.name });
  }

  /** How many agents' calls wait to be notified now (the calls that timed out but still queue for the lock aside). */
  get waiting(): number {
    let count = 0;
    const end = this.load(TICKETS);
    for (let t = this.load(NOTIFIED); t !== end; t = (t + 1) | 0) if (isWaiting(this.slotValue(t))) count++;
    return count;
  }

  /**
   * Releases the lock, waits until notified, and takes the lock back (also on timeout or abort) before it settles.
   *
   * @param options - `signal` aborts the wait, `timeout` (ms) bounds it.
   * @throws LockError - (rejection) when this agent does not hold the lock.
   * @throws TimeoutError - (rejection) when `timeout` expires before a notify; the lock is held again.
   * @throws RangeError - (rejection) when 256 calls wait already.
   *
   * @cancellation on abort or timeout the call stops waiting, takes the lock back, and rejects; a notify
   * that reached it first wins (it resolves). Either way it holds the lock again when it settles.
   *
   * @fairness woken in the order of waiting; then FIFO on the lock.
   *
   * @example
   * ```ts
   * await lock.run(async () => {
   *   while (items[0] === 0) await nonEmpty.wait({ timeout: 1000 });
   * });
   * ```
   */
  async wait(options?: WaitOptions): Promise<void> {
    const early = earlyReason(options, `${this.label}.wait`);
    if (early !== undefined) throw early.reason;
    const { guard, ticket } = this.enqueue('wait');
    const mine = waiting(agentId());
    let reason: unknown;
    let cancelled = false;
    await new Promise<void>((resolve) => {
      let done = false;
      const finish = () => {
        if (done) return;
        done = true;
        disarm();
        resolve();
      };
      const look = () => {
        if (done) return;
        if (this.slotValue(ticket) !== mine || cancelled) return finish();
        if (!waitWord(this.words, this.slotIndex(ticket), mine, look)) finish();
      };
      const disarm = armCancellation(options, `${this.label}.wait`, (why) => {
        reason = why;
        cancelled = true;
        Atomics.notify(this.words, this.slotIndex(ticket), 1); // ends this call's own pending wait
        finish();
      });
      look();
    });
    const held = await this.lock.acquire();
    this.resume(guard, held as SharedLockGuard);
    if (!this.settle(ticket)) throw reason;
  }

  /**
   * The blocking twin of {@link SharedCondition.wait}: for workers that run synchronous code.
   *
   * @param options - `timeout` (ms) bounds the wait.
   * @throws LockError - when this agent does not hold the lock.
   * @throws TimeoutError - when `timeout` expires before a notify; the lock is held again.
   * @throws TypeError - where the agent may not block (a browser's main thread).
   *
   * @cancellation as `wait`: it holds the lock again when it returns or throws; a notify that came first wins.
   *
   * @fairness as `wait`.
   *
   * @example
   * ```ts
   * lock.runSync(() => {
   *   while (items[0] === 0) nonEmpty.waitSync();
   * });
   * ```
   */
  waitSync(options?: { timeout?: number }): void {
    const deadline = syncDeadline(options, `${this.label}.waitSync`);
    checkCanBlock(this.label, 'waitSync');
    const { guard, ticket } = this.enqueue('waitSync');
    const mine = waiting(agentId());
    while (this.slotValue(ticket) === mine) {
      if (!blockOnWord(this.words, this.slotIndex(ticket), mine, deadline)) break;
    }
    this.resume(guard, this.lock.acquireSync() as SharedLockGuard);
    if (!this.settle(ticket)) {
      throw new TimeoutError(`${this.label}.waitSync timed out after ${options!.timeout} ms`);
    }
  }

  /**
   * Waits until `predicate()` returns a truthy value, and returns it: checks it first, then after each wake-up,
   * holding the lock each time.
   *
   * @param predicate - reads the shared state; called with the lock held.
   * @param options - `signal` and `timeout` bound the whole wait, not each round.
   * @returns the predicate's truthy result.
   * @throws LockError - (rejection) when this agent does not hold the lock.
   * @throws TimeoutError - (rejection) when `timeout` expires first; the lock is held again.
   *
   * @cancellation as `wait`.
   *
   * @fairness as `wait`.
   *
   * @example
   * ```ts
   * await lock.run(() => nonEmpty.waitFor(() => items[0]! > 0, { timeout: 1000 }));
   * ```
   */
  async waitFor<T>(predicate: () => T, options?: WaitOptions): Promise<T> {
    checkFunction(predicate, `${this.label}.waitFor: predicate`);
    const early = earlyReason(options, `${this.label}.waitFor`);
    if (early !== undefined) throw early.reason;
    this.checkHeld('waitFor');
    let result = predicate();
    if (result) return result;
    const controller = new AbortController();
    const disarm = armCancellation(options, `${this.label}.waitFor`, (why) => controller.abort(why));
    try {
      while (!result) {
        await this.wait({ signal: controller.signal });
        result = predicate();
      }
      return result;
    } finally {
      disarm();
    }
  }

  /**
   * Wakes up to `n` waiters, the longest first. The lock stays held: they run once it is released.
   *
   * @param n - how many, an integer `>= 0` (default 1).
   * @throws LockError - when this agent does not hold the lock.
   * @throws TypeError | RangeError - when `n` is not an integer `>= 0`.
   *
   * @cancellation not applicable.
   * @fairness FIFO; waiters that gave up are skipped, not counted.
   *
   * @example
   * ```ts
   * lock.runSync(() => {
   *   items[0]!++;
   *   nonEmpty.notify();
   * });
   * ```
   */
  notify(n = 1): void {
    if (n !== Infinity) checkInteger(n, `${this.label}.notify: n`, 0);
    this.checkHeld('notify');
    let next = this.load(NOTIFIED);
    const end = this.load(TICKETS);
    for (; next !== end; next = (next + 1) | 0) {
      const value = this.slotValue(next);
      if (value === CANCELLED) {
        Atomics.store(this.words, this.slotIndex(next), EMPTY);
        continue;
      }
      if (n === 0) break;
      // A compare-exchange: `recover` may cancel the wait of a dead agent at any moment (then it is skipped).
      if (Atomics.compareExchange(this.words, this.slotIndex(next), value, WOKEN) !== value) {
        Atomics.store(this.words, this.slotIndex(next), EMPTY);
        continue;
      }
      n--;
      Atomics.notify(this.words, this.slotIndex(next), 1);
    }
    Atomics.store(this.words, NOTIFIED, next);
  }

  /**
   * Wakes every waiter.
   *
   * @throws LockError - when this agent does not hold the lock.
   *
   * @example
   * ```ts
   * lock.runSync(() => done.notifyAll());
   * ```
   */
  notifyAll(): void {
    this.notify(Infinity);
  }

  /**
   * @internal Withdraws the waits of a dead agent (called by `SharedLock.recover`), so that `notify` skips them.
   * Returns how many.
   */
  abandonAll(agent: number): number {
    let count = 0;
    const end = this.load(TICKETS);
    for (let t = this.load(NOTIFIED); t !== end; t = (t + 1) | 0) {
      if (
        Atomics.compareExchange(this.words, this.slotIndex(t), waiting(agent), CANCELLED) === waiting(agent)
      ) {
        count++;
      }
    }
    return count;
  }

  /** Describes the state, such as `SharedCondition(ready)[waiting=2]`. */
  toString(): string {
    return `${this.label}[waiting=${this.waiting}]`;
  }

  private load(index: number): number {
    return Atomics.load(this.words, index);
  }

  private slotIndex(ticket: number): number {
    return HEADER + (ticket & (CAPACITY - 1));
  }

  private slotValue(ticket: number): number {
    return Atomics.load(this.words, this.slotIndex(ticket));
  }

  private checkHeld(method: string): SharedLockGuard {
    const guard = this.lock.current;
    if (guard === undefined || guard.suspended || !this.lock.heldHere()) {
      throw new LockError(`${this.label}.${method}: the lock ${this.lock.label} is not held by this agent`);
    }
    return guard;
  }

  /** Takes a slot and lends the lock out. */
  private enqueue(method: string): { guard: SharedLockGuard; ticket: number } {
    const guard = this.checkHeld(method);
    const ticket = this.load(TICKETS);
    if (((ticket - this.load(NOTIFIED)) | 0) >= CAPACITY || this.slotValue(ticket) !== EMPTY) {
      throw new RangeError(`${this.label}.${method}: ${CAPACITY} calls wait already`);
    }
    Atomics.store(this.words, this.slotIndex(ticket), waiting(agentId()));
    Atomics.store(this.words, TICKETS, (ticket + 1) | 0);
    guard.suspended = true;
    this.lock.releaseHold();
    return { guard, ticket };
  }

  /** The lock is back (as `held`): the caller's guard stands for it again. */
  private resume(guard: SharedLockGuard, held: SharedLockGuard): void {
    guard.previousOwnerDied = held.previousOwnerDied;
    guard.suspended = false;
    this.lock.current = guard;
    if (guard.released) {
      guard.released = false;
      guard.release(); // released while lent out: the hold ends now
    }
  }

  /** With the lock held again: frees the slot; returns whether the call was notified (else it gave up). */
  private settle(ticket: number): boolean {
    const index = this.slotIndex(ticket);
    if (Atomics.load(this.words, index) === WOKEN) {
      Atomics.store(this.words, index, EMPTY);
      return true;
    }
    Atomics.store(this.words, index, CANCELLED);
    // Cancelled slots at either end of the ring leave it at once, so timed-out waits cannot fill it up.
    let head = this.load(NOTIFIED);
    let end = this.load(TICKETS);
    while (head !== end && this.slotValue(head) === CANCELLED) {
      Atomics.store(this.words, this.slotIndex(head), EMPTY);
      head = (head + 1) | 0;
    }
    while (end !== head && this.slotValue((end - 1) | 0) === CANCELLED) {
      end = (end - 1) | 0;
      Atomics.store(this.words, this.slotIndex(end), EMPTY);
    }
    Atomics.store(this.words, NOTIFIED, head);
    Atomics.store(this.words, TICKETS, end);
    return false;
  }
}
