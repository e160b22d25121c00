import { describe, labelFor, type NameOptions, type WaitOptions } from '../core/options.js';
import { type NotThenable, runHolding, type Guard } from '../core/guard.js';
import { TimeoutError } from '../errors.js';
import { armCancellation, earlyReason } from './waiting.js';

/** What `WebLock.acquire` takes: the wait options, and the mode. */
export interface WebLockAcquireOptions extends WaitOptions {
  /** `exclusive` (the default): one holder; `shared`: any number of shared holders, no exclusive one. */
  mode?: 'exclusive' | 'shared' | undefined;
}

interface LockManagerLike {
  request(
    name: string,
    options: { mode: 'exclusive' | 'shared'; ifAvailable?: boolean; signal?: AbortSignal },
    callback: (lock: unknown) => Promise<void> | undefined,
  ): Promise<unknown>;
}

/** One hold of a {@link WebLock}; releasing it resolves the promise the Web Locks callback returned. */
class WebLockGuard implements Guard {
  /** A plain value, never a thenable (see {@link NotThenable}). */
  readonly then: NotThenable = undefined;

  released = false;

  constructor(private readonly end: () => void) {}

  release(): void {
    if (this.released) return;
    this.released = true;
    this.end();
  }

  [Symbol.dispose](): void {
    this.release();
  }
}

/**
 * A lock over the Web Locks API (`navigator.locks`): shared by every tab and worker of one origin (in Node 24,
 * by the threads of one process), named by a string, with exclusive and shared modes. The browser keeps the queue;
 * this class gives it the package's shape: a guard, `run`, `{ signal, timeout }`, and `TimeoutError`.
 *
 * @fairness as the browser grants Web Locks: in request order per name.
 *
 * @example
 * ```ts
 * const lock = new WebLock('settings');
 * await lock.run(async () => {
 *   // only one tab at a time here
 * });
 * ```
 */
export class WebLock {
  /** The primitive's kind and name, as in `toString()` and error messages. */
  readonly label: string;
  /** The name given in the options, if any (the lock's own name is {@link WebLock.lockName}). */
  readonly name: string | undefined;
  private readonly locks: LockManagerLike;

  /**
   * @param lockName - the Web Locks name: every `WebLock` of the origin with this name is the same lock.
   * @param options - `name`: shown by `toString()` and in error messages (default: `lockName`).
   * @throws TypeError - when `lockName` is not a string, or where the runtime has no `navigator.locks` (Node 20,
   *   an insecure page).
   */
  constructor(
    readonly lockName: string,
    options?: NameOptions,
  ) {
    if (typeof lockName !== 'string') {
      throw new TypeError(`WebLock: name must be a string, got ${describe(lockName)}`);
    }
    this.label = labelFor('WebLock', options ?? { name: lockName });
    this.name = options?.name;
    const locks = (globalThis as { navigator?: { locks?: LockManagerLike } }).navigator?.locks;
    if (locks === undefined || typeof locks.request !== 'function') {
      throw new TypeError(
        `${this.label}: this runtime has no navigator.locks (the Web Locks API: browsers on secure pages, Node >= 24)`,
      );
    }
    this.locks = locks;
  }

  /**
   * Waits for the lock and resolves to the guard of this hold.
   *
   * @param options - `mode` (`exclusive` or `shared`), `signal`, and `timeout` (ms; `0` is Web Locks'
   *   `ifAvailable`: the lock now or a `TimeoutError`).
   * @returns the guard; releasing it lets the browser hand the lock on (the browser does so asynchronously: a
   *   `timeout: 0` request right after a release may still find the lock taken).
   * @throws TimeoutError - (rejection) when `timeout` expires first.
   * @throws TypeError | RangeError - (rejection) for bad options.
   *
   * @cancellation an abort or timeout before the grant withdraws the request (it rejects with the signal's
   * reason or a `TimeoutError`). Once granted, a later abort or timeout does nothing.
   *
   * @fairness as the browser queues Web Locks requests.
   *
   * @example
   * ```ts
   * const guard = await lock.acquire({ mode: 'shared', timeout: 100 });
   * guard.release();
   * ```
   */
  acquire(options?: WebLockAcquireOptions): Promise<Guard> {
    const early = earlyReason(options, `${this.label}.acquire`);
    if (early !== undefined) return Promise.reject(early.reason);
    const mode = options?.mode ?? 'exclusive';
    if (mode !== 'exclusive' && mode !== 'shared') {
      return Promise.reject(
        new TypeError(
          `${this.label}.acquire: options.mode must be 'exclusive' or 'shared', got ${describe(mode)}`,
        ),
      );
    }
    const now = options?.timeout === 0;
    return new Promise<Guard>((resolve, reject) => {
      const controller = new AbortController();
      const disarm = now
        ? () => {}
        : armCancellation(options, `${this.label}.acquire`, (reason) => controller.abort(reason));
      const request = now ? { mode, ifAvailable: true } : { mode, signal: controller.signal };
      this.locks
        .request(this.lockName, request, (lock) => {
          disarm();
          if (lock === null) {
            reject(new TimeoutError(`${this.label}.acquire({ timeout: 0 }): the lock is taken`));
            return undefined;
          }
          return new Promise<void>((end) => resolve(new WebLockGuard(end)));
        })
        .catch((error: unknown) => {
          disarm();
          reject(error);
        });
    });
  }

  /**
   * Acquires the lock, runs `fn`, and releases the lock when `fn` settles.
   *
   * @param fn - the critical section; it receives the guard.
   * @param options - as {@link WebLock.acquire}.
   * @returns what `fn` returns.
   * @throws TypeError - (rejection) when `fn` is not a function; whatever `acquire` or `fn` throws.
   *
   * @cancellation `options` only bound the wait for the lock.
   *
   * @fairness as {@link WebLock.acquire}.
   *
   * @example
   * ```ts
   * const value = await lock.run(() => 42, { mode: 'shared' });
   * ```
   */
  run<T>(fn: (guard: Guard) => T | PromiseLike<T>, options?: WebLockAcquireOptions): Promise<T> {
    return runHolding(this, fn, options);
  }

  /** Describes the lock, such as `WebLock(settings)`. */
  toString(): string {
    return this.label;
  }
}
