/**
 * What RedisLock and RedisSemaphore share: a counting semaphore on one Redis key, served head-of-line FIFO
 * across processes (see script.ts for the state on the server).
 *
 * A wait: one `try` script call; when busy, subscribe to the link's channel (once per client, kept for a short
 * while), then one `acquire` call that queues the waiter. The script that frees permits grants them to the queue's
 * head in the same atomic step and publishes the grant, so a waiter is woken by a notification. It also calls
 * `acquire` again (which refreshes its queue entry) every ttl/3, and when the earliest holder's deadline passes:
 * that recovers a lost notification, an expired holder, and a server that restarted (the waiter queues again).
 *
 * @module
 */

import { TimeoutError } from '../errors.js';
import { RedisUnavailableError } from './errors.js';
import type { WaitOptions } from '../index.js';
import {
  checkClient,
  clock,
  linkFor,
  startTimer,
  type GrantListener,
  type RedisClientLike,
  type RedisLink,
} from './client.js';
import { RedisLease, type Lease, type LeaseOwner } from './lease.js';

/** Options of a RedisLock or RedisSemaphore constructor. */
export interface RedisLockOptions {
  /** Lease time in ms: a holder that stops renewing (crashed, paused, cut off) frees the key after it. Default 30000. */
  ttl?: number | undefined;
  /** Shown by `toString()` and in error messages. */
  name?: string | undefined;
}

function describe(value: unknown): string {
  if (typeof value === 'string') return JSON.stringify(value);
  if (typeof value === 'bigint') return `${value}n`;
  if (value === null || (typeof value !== 'object' && typeof value !== 'function')) return String(value);
  return Object.prototype.toString.call(value);
}

/** Throws unless `value` is a safe integer in `[min, max]`. */
export function checkInteger(value: unknown, name: string, min: number, max = Number.MAX_SAFE_INTEGER): void {
  if (typeof value !== 'number') throw new TypeError(`${name} must be an integer, got ${describe(value)}`);
  if (!Number.isSafeInteger(value))
    throw new RangeError(`${name} must be a safe integer, got ${describe(value)}`);
  if (value < min) throw new RangeError(`${name} must be >= ${min}, got ${describe(value)}`);
  if (value > max) throw new RangeError(`${name} must be <= ${max}, got ${describe(value)}`);
}

function checkWaitOptions(options: WaitOptions | undefined, method: string): void {
  if (options === undefined) return;
  if (typeof options !== 'object' || options === null) {
    throw new TypeError(`${method}: options must be an object, got ${describe(options)}`);
  }
  const { signal, timeout } = options;
  if (signal !== undefined && !(signal instanceof AbortSignal)) {
    throw new TypeError(`${method}: options.signal must be an AbortSignal, got ${describe(signal)}`);
  }
  if (timeout !== undefined) {
    if (typeof timeout !== 'number') {
      throw new TypeError(
        `${method}: options.timeout must be a number of milliseconds, got ${describe(timeout)}`,
      );
    }
    if (!(timeout >= 0))
      throw new RangeError(`${method}: options.timeout must be >= 0, got ${describe(timeout)}`);
  }
}

/** setTimeout's longest delay. */
const MAX_TIMER = 2 ** 31 - 1;

let sequence = 0;
/** `weight:ttl:link:n`: the script reads the weight and ttl from it, and the link whose channel it notifies. */
function newId(weight: number, ttl: number, link: RedisLink): string {
  sequence = (sequence + 1) % Number.MAX_SAFE_INTEGER;
  return `${weight}:${ttl}:${link.id}:${sequence}`;
}

interface Attempt {
  readonly lease: RedisLease | undefined;
  /** When the caller should look again (local ms), from the earliest holder's deadline; undefined if unknown. */
  readonly retryAt: number | undefined;
}

/** The shared machinery. Invariant: `waiting` counts this object's pending waits in this process. */
export abstract class RedisPermits {
  /** The primitive's kind and name, as in `toString()` and error messages. */
  readonly label: string;
  /** The name given to the constructor, if any. */
  readonly name: string | undefined;
  /** The Redis key: the fencing counter lives at this key, the rest of the state at `key:*`. */
  readonly key: string;
  /** Lease time in ms. */
  readonly ttl: number;
  protected readonly permits: number;
  private readonly link: RedisLink;
  private readonly keys: readonly [string, string, string];
  private readonly deadlineMs: number;
  private readonly drift: number;
  private pending = 0;
  /** What this object's leases call back: renewal and release. */
  private readonly owner: LeaseOwner;

  protected constructor(
    kind: string,
    client: RedisClientLike,
    key: string,
    permits: number,
    options: RedisLockOptions | undefined,
  ) {
    if (options !== undefined && (typeof options !== 'object' || options === null)) {
      throw new TypeError(`${kind}: options must be an object, got ${describe(options)}`);
    }
    const name: unknown = options?.name;
    if (name !== undefined && typeof name !== 'string') {
      throw new TypeError(`${kind}: options.name must be a string, got ${describe(name)}`);
    }
    this.label = name === undefined ? kind : `${kind}(${name})`;
    this.name = name;
    checkClient(client, this.label);
    if (typeof key !== 'string' || key === '') {
      throw new TypeError(`${this.label}: key must be a non-empty string, got ${describe(key)}`);
    }
    const ttl = options?.ttl ?? 30_000;
    checkInteger(ttl, `${this.label}: options.ttl`, 10, 2 ** 31 - 1);
    checkInteger(permits, `${this.label}: permits`, 1);
    this.key = key;
    this.ttl = ttl;
    this.permits = permits;
    this.link = linkFor(client);
    this.keys = [key, `${key}:holders`, `${key}:queue`];
    this.deadlineMs = Math.max(ttl, 1000);
    this.drift = Math.floor(ttl / 100) + 2;
    this.owner = {
      label: this.label,
      ttl,
      renew: (id) => this.renew(id),
      drop: (id) => this.drop(id),
    };
  }

  /** How many calls of this object in this process are waiting now. */
  get waiting(): number {
    return this.pending;
  }

  /** Such as `RedisLock(jobs)[key="jobs", waiting=1]`. */
  toString(): string {
    return `${this.label}[key=${JSON.stringify(this.key)}, waiting=${this.pending}]`;
  }

  private async renew(id: string): Promise<number | undefined> {
    const { reply, sentAt } = await this.link.script(
      this.keys,
      'renew',
      id,
      this.permits,
      this.deadlineMs,
      this.label,
    );
    return reply[0] === 'held' ? sentAt + Number(reply[3]) - Number(reply[2]) - this.drift : undefined;
  }

  private async drop(id: string): Promise<void> {
    await this.link.script(this.keys, 'release', id, this.permits, this.deadlineMs, this.label);
  }

  private async attempt(op: 'try' | 'acquire', id: string): Promise<Attempt> {
    const { reply, sentAt } = await this.link.script(
      this.keys,
      op,
      id,
      this.permits,
      this.deadlineMs,
      this.label,
    );
    const [status, token, serverNow, deadline] = reply as [string, string, string, string];
    if (status === 'held') {
      if (token === '') throw new RedisUnavailableError(`${this.label}: Redis granted ${id} without a token`);
      const expiresAt = sentAt + Number(deadline) - Number(serverNow) - this.drift;
      return { lease: new RedisLease(this.owner, id, BigInt(token), expiresAt), retryAt: undefined };
    }
    // Late rather than early: measured from the reply's arrival.
    return {
      lease: undefined,
      retryAt: deadline === '' ? undefined : clock() + Number(deadline) - Number(serverNow) + 1,
    };
  }

  /** Takes `weight` permits now if they are free and nobody queues, else resolves to `undefined`. */
  protected async tryTake(weight: number, method: string): Promise<Lease | undefined> {
    checkInteger(weight, `${this.label}.${method}: permits`, 1);
    if (weight > this.permits) {
      throw new RangeError(`${this.label}.${method}: permits must be <= ${this.permits}, got ${weight}`);
    }
    return (await this.attempt('try', newId(weight, this.ttl, this.link))).lease;
  }

  /** Waits for `weight` permits, FIFO across processes. */
  protected async take(weight: number, options: WaitOptions | undefined, method: string): Promise<Lease> {
    const where = `${this.label}.${method}`;
    checkWaitOptions(options, where);
    checkInteger(weight, `${where}: options.permits`, 1);
    if (weight > this.permits) {
      throw new RangeError(`${where}: options.permits must be <= ${this.permits}, got ${weight}`);
    }
    const signal = options?.signal;
    if (signal?.aborted) throw signal.reason;
    const timeout = options?.timeout ?? Infinity;
    const id = newId(weight, this.ttl, this.link);
    if (timeout === 0) {
      const { lease } = await this.attempt('try', id);
      if (lease !== undefined) return lease;
      throw new TimeoutError(`${where}: not free now (timeout 0)`);
    }
    return this.wait(id, where, signal, timeout);
  }

  private wait(id: string, where: string, signal: AbortSignal | undefined, timeout: number): Promise<Lease> {
    const link = this.link;
    return new Promise<Lease>((resolve, reject) => {
      let settled = false;
      let listening = false;
      let inFlight = false;
      let pollTimer: ReturnType<typeof setTimeout> | undefined;
      let timeoutTimer: ReturnType<typeof setTimeout> | undefined;
      this.pending++;

      const cleanup = (): void => {
        settled = true;
        this.pending--;
        globalThis.clearTimeout(pollTimer);
        globalThis.clearTimeout(timeoutTimer);
        signal?.removeEventListener('abort', onAbort);
        if (listening) link.unlisten(id);
      };
      const win = (lease: RedisLease): void => {
        // A grant seen twice (notification and reply), or after giving up (fail() has dropped it on the server).
        if (settled) return lease.discard();
        cleanup();
        resolve(lease);
      };
      /** Gives up: leaves the queue (and drops a grant that raced with the give-up) before rejecting. */
      const fail = (error: unknown): void => {
        if (settled) return;
        cleanup();
        this.drop(id).then(
          () => reject(error),
          () => reject(error),
        );
      };
      const onAbort = (): void => fail(signal!.reason);
      const onGrant: GrantListener = (serverNow, token) => {
        if (settled) return;
        const expiresAt = link.toLocal(serverNow + this.ttl) - this.drift;
        // A grant that reads as half gone (a delayed message, a paused process): ask the server instead.
        if (expiresAt - clock() < this.ttl / 2) poll();
        else win(new RedisLease(this.owner, id, BigInt(token), expiresAt));
      };
      const poll = (): void => {
        if (settled || inFlight) return;
        inFlight = true;
        globalThis.clearTimeout(pollTimer);
        this.attempt('acquire', id).then(
          ({ lease, retryAt }) => {
            inFlight = false;
            if (lease !== undefined) win(lease);
            else if (!settled) {
              const refresh = this.ttl / 3;
              const delay = retryAt === undefined ? refresh : Math.min(refresh, retryAt - clock());
              pollTimer = startTimer(poll, Math.max(this.ttl / 10, delay), true);
            }
          },
          (error: unknown) => {
            inFlight = false;
            fail(error);
          },
        );
      };

      signal?.addEventListener('abort', onAbort, { once: true });
      // Above setTimeout's limit, in legs, so that the call still waits the full time.
      const arm = (left: number): void => {
        const leg = Math.min(left, MAX_TIMER);
        timeoutTimer = startTimer(
          () =>
            left > leg ? arm(left - leg) : fail(new TimeoutError(`${where}: timed out after ${timeout} ms`)),
          leg,
          true,
        );
      };
      if (timeout !== Infinity) arm(timeout);
      if (link.isSubscribed()) {
        // Contended, and notifications already reach this process: queue at once (no 'try', no turn of the queue).
        listening = true;
        void link.listen(id, onGrant, this.label, this.deadlineMs);
        poll();
        return;
      }
      const start = async (): Promise<void> => {
        // Uncontended: one round trip, no subscription.
        const first = await this.attempt('try', id);
        if (first.lease !== undefined) return win(first.lease);
        if (settled) return;
        listening = true;
        await link.listen(id, onGrant, this.label, this.deadlineMs);
        poll();
      };
      start().catch(fail);
    });
  }
}
