/**
 * The lease: what `RedisLock.acquire` and `RedisSemaphore.acquire` resolve to.
 *
 * States: held (renewing) -> released (by `release`), or held -> lost (renewal refused, or the local deadline
 * passed) -> released. `lost` aborts once, at the transition to lost, and never after `release`.
 *
 * @module
 */

import { clock, startTimer } from './client.js';

/**
 * One grant of a {@link RedisLock} or {@link RedisSemaphore}: held until `release()`, renewed in the background,
 * and guaranteed only while `lost` is not aborted.
 *
 * Mutual exclusion holds while `lost.aborted` is `false`, and only as far as the local clock and the server's run at
 * the same rate: a process paused longer than the ttl (GC, SIGSTOP, a suspended VM) can lose the lease without
 * running any code. `lost.aborted` is checked against the clock whenever it is read, so it is never stale after such
 * a pause; but an operation already on its way to the protected resource cannot be recalled. Pass `token` to that
 * resource and have it reject tokens older than the newest it has seen: that is what makes the lock safe.
 */
export interface Lease {
  /** Fencing token: strictly increasing for each grant of this key, across processes and client restarts. */
  readonly token: bigint;
  /** Aborted when the lease can no longer be guaranteed (renewal refused or failed until the ttl passed). */
  readonly lost: AbortSignal;
  /**
   * Local estimate of when the lease ends unless renewed, in ms since the epoch, never later than the server's. It
   * is read on the monotonic clock (`performance.timeOrigin + performance.now()`), which a wall-clock step does not
   * move: compare it with that, not with `Date.now()`, if the difference matters to you.
   */
  readonly expiresAt: number;
  /** Whether `release()` was called. */
  readonly released: boolean;
  /** Gives the lease back. Idempotent; never throws for a lease already lost; does not abort `lost`. */
  release(): Promise<void>;
  /** Same as {@link Lease.release}, for `await using`. */
  [Symbol.asyncDispose](): Promise<void>;
}

/** What a lease needs from its lock. */
export interface LeaseOwner {
  readonly label: string;
  readonly ttl: number;
  /** Extends the lease; resolves to the new local deadline, or `undefined` when the server no longer has it. */
  renew(id: string): Promise<number | undefined>;
  /** Drops the lease (or the queue entry) on the server. */
  drop(id: string): Promise<void>;
}

const abortedGetter = Object.getOwnPropertyDescriptor(AbortSignal.prototype, 'aborted')!.get!;

export class RedisLease implements Lease {
  private deadline: number;
  private releasing: Promise<void> | undefined;
  /**
   * Made on the first read of `lost` only: most leases are released without anyone looking at it, and an
   * AbortController with its patched signal is the largest part of a lease's cost.
   */
  private controller: AbortController | undefined;
  /** Why the lease was lost, once it was (the reason `lost` aborts with). */
  private lostReason: Error | undefined;
  private renewTimer: ReturnType<typeof setTimeout> | undefined;
  private lostTimer: ReturnType<typeof setTimeout> | undefined;

  constructor(
    private readonly owner: LeaseOwner,
    private readonly id: string,
    readonly token: bigint,
    expiresAt: number,
  ) {
    this.deadline = expiresAt;
    this.schedule();
  }

  get lost(): AbortSignal {
    if (this.controller !== undefined) return this.controller.signal;
    const controller = new AbortController();
    const signal = controller.signal;
    // `aborted` and `throwIfAborted()` look at the clock first: after a pause the event loop may run other code
    // before the lost timer, and that code must not believe it still holds the lease.
    Object.defineProperty(signal, 'aborted', {
      configurable: true,
      get: () => {
        this.checkClock();
        return abortedGetter.call(signal) as boolean;
      },
    });
    const throwIfAborted = signal.throwIfAborted;
    signal.throwIfAborted = () => {
      this.checkClock();
      throwIfAborted.call(signal);
    };
    this.controller = controller;
    if (this.lostReason !== undefined) controller.abort(this.lostReason);
    return signal;
  }

  get expiresAt(): number {
    return this.deadline;
  }

  get released(): boolean {
    return this.releasing !== undefined;
  }

  release(): Promise<void> {
    if (this.releasing !== undefined) return this.releasing;
    this.clearTimers();
    this.releasing = this.owner.drop(this.id).catch((error: unknown) => {
      if (this.lostReason !== undefined || clock() >= this.deadline) return;
      throw error;
    });
    return this.releasing;
  }

  [Symbol.asyncDispose](): Promise<void> {
    return this.release();
  }

  toString(): string {
    const state = this.released ? 'released' : this.lostReason !== undefined ? 'lost' : 'held';
    return `${this.owner.label} lease ${this.token}[${state}]`;
  }

  private isOver(): boolean {
    return this.releasing !== undefined || this.lostReason !== undefined;
  }

  private checkClock(): void {
    if (!this.isOver() && clock() >= this.deadline) {
      this.lose(`the lease passed its deadline (ttl ${this.owner.ttl} ms) without a confirmed renewal`);
    }
  }

  /** The lost timer: the timer clock and `clock()` may disagree by a millisecond, so look again if early. */
  private onDeadline(): void {
    this.lostTimer = undefined;
    this.checkClock();
    if (!this.isOver())
      this.lostTimer = startTimer(() => this.onDeadline(), this.deadline - clock() + 1, false);
  }

  /** Stops the timers of a duplicate of a lease already handed out (the same grant seen twice). */
  discard(): void {
    this.clearTimers();
  }

  private lose(why: string): void {
    if (this.isOver()) return;
    this.clearTimers();
    this.lostReason = new Error(`${this.owner.label}: lease ${this.token} lost: ${why}`);
    this.controller?.abort(this.lostReason);
  }

  private clearTimers(): void {
    globalThis.clearTimeout(this.renewTimer);
    globalThis.clearTimeout(this.lostTimer);
    this.renewTimer = this.lostTimer = undefined;
  }

  /**
   * Renews when a third of the ttl has passed (earlier if the lease came late). One timer while all is well: the
   * lost timer is armed only once a renewal is due, for the deadline, and cleared when a renewal is confirmed.
   */
  private schedule(): void {
    this.clearTimers();
    const left = this.deadline - clock();
    this.renewTimer = startTimer(() => this.renew(), Math.max(1, left - (2 * this.owner.ttl) / 3), false);
  }

  private renew(): void {
    this.renewTimer = undefined;
    this.lostTimer ??= startTimer(() => this.onDeadline(), this.deadline - clock(), false);
    this.owner.renew(this.id).then(
      (deadline) => {
        if (this.isOver()) return;
        if (deadline === undefined) {
          this.lose('the server no longer has it (it expired there, or the server restarted)');
          return;
        }
        this.deadline = Math.max(this.deadline, deadline);
        this.schedule();
      },
      () => {
        // Unreachable for now: try again soon; the lost timer still fires at the deadline.
        if (this.isOver()) return;
        this.renewTimer = startTimer(() => this.renew(), Math.max(1, this.owner.ttl / 10), false);
      },
    );
  }
}
