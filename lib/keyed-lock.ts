import { Primitive } from './core/primitive.js';
import { CancelledError } from './errors.js';
import { Deadline } from './core/deadline.js';
import { type Guard } from './core/guard.js';
import { checkFunction, describe, type NameOptions, type WaitOptions } from './core/options.js';
import { WaitQueue } from './core/wait-queue.js';
import { KeyedGuard, KeyEntry } from './keyed-lock-parts.js';
import { admitRanked, type PriorityOptions } from './core/priority.js';
import { holdsTraced, type HolderNameOptions } from './core/diagnostics.js';

/** Constructor options of an {@link AsyncKeyedLock}. */
export interface KeyedLockOptions<K> extends NameOptions {
  /**
   * The total order in which several keys are taken: negative, zero or positive like `Array.prototype.sort`'s, and
   * zero only for the same key. Default: numbers ascending, then strings ascending; other keys need a `compare`
   * when several are asked for at once.
   */
  compare?: ((a: K, b: K) => number) | undefined;
}

/** Wait options of a keyed lock. */
export type KeyedLockAcquireOptions = WaitOptions & PriorityOptions & HolderNameOptions;

/** Numbers ascending, then strings ascending (by UTF-16 code units); `undefined` for keys it cannot order. */
function defaultOrder(a: unknown, b: unknown): number | undefined {
  const typeA = typeof a;
  const typeB = typeof b;
  if (typeA === 'number' && typeB === 'number') {
    if (Number.isNaN(a) || Number.isNaN(b)) return undefined;
    return (a as number) - (b as number);
  }
  if (typeA === 'string' && typeB === 'string') return a === b ? 0 : (a as string) < (b as string) ? -1 : 1;
  if (typeA === 'number' && typeB === 'string') return Number.isNaN(a) ? undefined : -1;
  if (typeA === 'string' && typeB === 'number') return Number.isNaN(b) ? undefined : 1;
  return undefined;
}

/**
 * A lock per key (a user id, a file path, a cache entry), created on demand and dropped as soon as nobody holds or
 * waits for it, so a million keys used once cost nothing afterwards. One call may take several keys: they are
 * taken in one total order, all or nothing, so two callers asking for overlapping sets in different orders never
 * deadlock. One guard releases every key it took.
 *
 * Use it instead of a `Map<key, AsyncLock>` that grows forever, or one global lock that serialises unrelated work.
 *
 * @fairness per key by `priority` (default 0, larger first), then FIFO, with direct hand-off, as
 * {@link AsyncLock}.
 *
 * @example
 * ```ts
 * const accounts = new AsyncKeyedLock<string>({ name: 'accounts' });
 * await accounts.run(['alice', 'bob'], async () => transfer('alice', 'bob', 10));
 * ```
 */
export class AsyncKeyedLock<K = string> extends Primitive {
  private readonly compare: ((a: K, b: K) => number) | undefined;
  /** The keys held now (and only those: an idle key has no entry). */
  private readonly entries = new Map<K, KeyEntry<K>>();
  /** Callers parked on some key's queue, over all keys. */
  private parked = 0;

  /**
   * @param options - `name`: shown by `toString()`, in messages and deadlock reports; `compare`: the key order.
   * @throws TypeError - when `options.name` is not a string or `options.compare` is not a function.
   */
  constructor(options?: KeyedLockOptions<K>) {
    super('AsyncKeyedLock', options);
    const compare = options?.compare;
    if (compare !== undefined) checkFunction(compare, `${this.label}: options.compare`);
    this.compare = compare;
  }

  /** How many keys are held or waited on now; an idle key counts for nothing and keeps no memory. */
  get size(): number {
    return this.entries.size;
  }

  /** How many callers are waiting, over all keys (a caller taking several keys waits for one at a time). */
  get waiting(): number {
    return this.parked;
  }

  /** Whether `key` is held now. */
  isLocked(key: K): boolean {
    return this.entries.has(key);
  }

  /** How many callers are waiting for `key` now. */
  waitingFor(key: K): number {
    return this.entries.get(key)?.queue?.size ?? 0;
  }

  /**
   * Waits until every key in `keys` is held by the caller, and resolves to one guard for all of them.
   *
   * @param keys - one key, or an array of keys (duplicates count once). A key that is itself an array must be
   *   wrapped: `acquire([pair])`.
   * @param options - `signal` aborts the wait, `timeout` (ms) bounds all of it ({@link WaitOptions}); `priority`
   *   ranks it for every key ({@link PriorityOptions}); `name` names the hold for diagnostics.
   * @returns the guard; its `release()` releases every key.
   * @throws TimeoutError - (rejection) when `timeout` expires before every key is held.
   * @throws TypeError | RangeError - (rejection) for bad options, an empty array, or keys the order cannot compare.
   *
   * @cancellation all or nothing: an abort or timeout part-way releases the keys already taken (handing each to
   * its next waiter) and leaves no trace. Once every key is held, a later abort or timeout does nothing.
   *
   * @fairness FIFO per key. Keys are taken one at a time in the lock's order, so a caller holds its smaller
   * keys while it waits for a larger one.
   *
   * @example
   * ```ts
   * const guard = await files.acquire(['/a', '/b'], { timeout: 1000 });
   * try {
   *   await move('/a', '/b');
   * } finally {
   *   guard.release();
   * }
   * ```
   */
  acquire(keys: K | readonly K[], options?: KeyedLockAcquireOptions): Promise<Guard> {
    let ordered: readonly K[] | undefined;
    try {
      ordered = this.order(keys, 'acquire');
    } catch (error) {
      return Promise.reject(error);
    }
    return admitRanked(this, 'acquire', options, this.acquireAdmitted, ordered ?? (keys as K));
  }

  /**
   * The body of `acquire` once its options are checked: `keys` is one key, or the keys sorted and unique (a key is
   * never an array: `order` tells them apart the same way).
   */
  private acquireAdmitted(
    options: KeyedLockAcquireOptions | undefined,
    priority: number,
    keys: K | readonly K[],
  ): Promise<Guard> {
    const ordered = Array.isArray(keys) ? (keys as readonly K[]) : undefined;
    const multiple = ordered !== undefined && ordered.length > 1;
    const guard = new KeyedGuard<K>(this, multiple);
    if (!multiple) {
      const key = ordered === undefined ? (keys as K) : (ordered[0] as K);
      const entry = this.entries.get(key);
      if (entry === undefined) {
        guard.single = this.take(key);
        return Promise.resolve(holdsTraced() ? guard.traced(options?.name) : guard);
      }
      guard.single = entry;
      return this.park(entry, options, guard, priority);
    }
    return this.acquireAll(ordered, guard, options, priority);
  }

  /**
   * Takes every key in `keys` if all of them are free now, without waiting; otherwise takes none.
   *
   * @returns the guard, or `undefined` when some key is held.
   * @throws TypeError | RangeError - for an empty array or keys the order cannot compare.
   *
   * @example
   * ```ts
   * const guard = users.tryAcquire('ada');
   * if (guard === undefined) return 'busy';
   * ```
   */
  tryAcquire(keys: K | readonly K[]): Guard | undefined {
    const ordered = this.order(keys, 'tryAcquire') ?? [keys as K];
    for (const key of ordered) if (this.entries.has(key)) return undefined;
    const guard = new KeyedGuard<K>(this, ordered.length > 1);
    if (guard.taken === undefined) guard.single = this.take(ordered[0] as K);
    else for (const key of ordered) guard.taken.push(this.take(key));
    return guard.traced(undefined);
  }

  /**
   * Takes every key in `keys`, runs `fn` and releases them all when `fn` settles, whether it returns or throws.
   *
   * @param keys - one key or an array of keys, as for {@link AsyncKeyedLock.acquire}.
   * @param fn - the critical section; it receives the guard.
   * @param options - wait options for the acquisition.
   * @returns what `fn` returns.
   * @throws TypeError - (rejection) when `fn` is not a function; whatever `acquire` or `fn` throws.
   *
   * @cancellation `options` only bound the wait; once `fn` runs it is not interrupted.
   *
   * @fairness as {@link AsyncKeyedLock.acquire}.
   *
   * @example
   * ```ts
   * await users.run(userId, async () => updateProfile(userId));
   * ```
   */
  async run<T>(
    keys: K | readonly K[],
    fn: (guard: Guard) => T | PromiseLike<T>,
    options?: KeyedLockAcquireOptions,
  ): Promise<T> {
    if (typeof fn !== 'function') checkFunction(fn, `${this.label}.run: fn`);
    const guard = await this.acquire(keys, options);
    try {
      return await fn(guard);
    } finally {
      guard.release();
    }
  }

  /**
   * Rejects every caller waiting for any key, and touches no holder. A caller taking several keys releases those it
   * already took. Later calls queue as usual.
   *
   * @param reason - what every waiter rejects with; without it, each gets its own `CancelledError`.
   * @returns how many waiters it rejected.
   *
   * @example
   * ```ts
   * const dropped = users.cancelWaiters();
   * ```
   */
  cancelWaiters(reason?: unknown): number {
    const own = arguments.length === 0;
    let count = 0;
    for (const entry of this.entries.values()) {
      const queue = entry.queue;
      if (queue === undefined || queue.size === 0) continue;
      count += queue.size;
      this.parked -= queue.size;
      queue.rejectAll(() => (own ? new CancelledError(`${entry.label}: the wait was cancelled`) : reason));
    }
    return count;
  }

  /** Describes the state, such as `AsyncKeyedLock(users)[keys=2, waiting=1]`. */
  protected describeState(): string {
    return `keys=${this.entries.size}, waiting=${this.parked}`;
  }

  /** @internal Releases one key: hands it to its next waiter, or drops its entry. */
  releaseKey(entry: KeyEntry<K>): void {
    const queue = entry.queue;
    const guard = queue?.bestValue;
    if (queue === undefined || guard === undefined) {
      this.entries.delete(entry.key);
      return;
    }
    this.parked--;
    // A waiter parks with the guard it is to be granted.
    if (!guard.multiple && holdsTraced()) guard.traced(queue.bestHolderName);
    queue.grantBest(guard);
  }

  /** Takes a free key. */
  private take(key: K): KeyEntry<K> {
    const entry = new KeyEntry(this, key);
    this.entries.set(key, entry);
    return entry;
  }

  /** Queues `guard`'s acquisition for the held key `entry`. */
  private park(
    entry: KeyEntry<K>,
    options: WaitOptions | undefined,
    guard: KeyedGuard<K>,
    priority: number,
  ): Promise<Guard> {
    const queue = (entry.queue ??= new WaitQueue<KeyedGuard<K>, KeyedGuard<K>>(entry, () => this.parked--));
    const before = queue.size;
    const parked = queue.park(options, guard, priority);
    this.parked += queue.size - before; // 0 when it was refused at once (an aborted signal, timeout 0)
    return parked;
  }

  /** Takes the ordered keys one by one; on any failure releases what was taken and rethrows. */
  private async acquireAll(
    ordered: readonly K[],
    guard: KeyedGuard<K>,
    options: KeyedLockAcquireOptions | undefined,
    priority: number,
  ): Promise<Guard> {
    let deadline: Deadline | undefined;
    try {
      for (const key of ordered) {
        const entry = this.entries.get(key);
        if (entry === undefined) {
          (guard.taken as KeyEntry<K>[]).push(this.take(key));
          continue;
        }
        deadline ??= new Deadline(options, this.label);
        await this.park(entry, deadline.options, guard, priority);
        (guard.taken as KeyEntry<K>[]).push(entry);
      }
      return guard.traced(options?.name);
    } catch (error) {
      guard.release();
      throw error;
    } finally {
      deadline?.dispose();
    }
  }

  /**
   * Returns the distinct keys of an array in the lock's order, or `undefined` for a single key.
   *
   * @throws RangeError - for an empty array, or a `compare` that calls two distinct keys equal.
   * @throws TypeError - for keys the default order cannot compare.
   */
  private order(keys: K | readonly K[], method: string): readonly K[] | undefined {
    if (!Array.isArray(keys)) return undefined;
    const list = keys as readonly K[];
    if (list.length === 0) throw new RangeError(`${this.label}.${method}: keys must not be an empty array`);
    if (list.length === 1) return list;
    const compare = this.compare;
    const sorted = list.slice().sort((a, b) => {
      if (compare !== undefined) return compare(a, b);
      const order = defaultOrder(a, b);
      if (order === undefined) {
        throw new TypeError(
          `${this.label}.${method}: keys ${describe(a)} and ${describe(b)} cannot be ordered; pass options.compare to the constructor`,
        );
      }
      return order;
    });
    let write = 1;
    for (let read = 1; read < sorted.length; read++) {
      const key = sorted[read] as K;
      const previous = sorted[write - 1] as K;
      if (key === previous || (key !== key && previous !== previous)) continue;
      const order = compare !== undefined ? compare(previous, key) : defaultOrder(previous, key);
      if (order === 0) {
        throw new RangeError(
          `${this.label}.${method}: options.compare calls the distinct keys ${describe(previous)} and ${describe(key)} equal`,
        );
      }
      sorted[write++] = key;
    }
    sorted.length = write;
    return sorted;
  }
}
