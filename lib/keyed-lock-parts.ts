/**
 * The parts of an `AsyncKeyedLock` that live per key and per hold: the entry of a key (its wait queue, while the
 * key is held or waited on) and the guard of one acquisition of one or several keys.
 *
 * @module
 */
import { HoldGuard } from './core/guard.js';
import { describe } from './core/options.js';
import type { QueueOwner, WaitQueue } from './core/wait-queue.js';
import { holdsTraced, traceHoldStart } from './core/diagnostics.js';
import type { AsyncKeyedLock } from './keyed-lock.js';

/**
 * The lock of one key, alive only while the key is held or waited on. Invariant: it is in its lock's map exactly
 * while held, and waiters are queued on it only while it is held.
 */
export class KeyEntry<K> implements QueueOwner {
  /** Callers waiting for this key, created on first contention. */
  queue: WaitQueue<KeyedGuard<K>, KeyedGuard<K>> | undefined = undefined;

  constructor(
    private readonly lock: AsyncKeyedLock<K>,
    readonly key: K,
  ) {}

  /** Names the key in timeout messages and deadlock reports, such as `AsyncKeyedLock(users)["ada"]`. */
  get label(): string {
    return `${this.lock.label}[${describe(this.key)}]`;
  }
}

/** The hold of one acquisition: every key it asked for, released together. */
export class KeyedGuard<K> extends HoldGuard {
  /** The key of a single-key hold. */
  single: KeyEntry<K> | undefined = undefined;
  /** The keys of a multi-key hold taken so far, in the lock's order; all of them once it has resolved. */
  readonly taken: KeyEntry<K>[] | undefined;
  constructor(
    private readonly lock: AsyncKeyedLock<K>,
    /** Whether it takes several keys (it is then resolved by its own acquisition, not by the last key's grant). */
    readonly multiple: boolean,
  ) {
    super(undefined);
    this.taken = multiple ? [] : undefined;
  }

  /** Starts tracing the hold, once every key is taken. */
  traced(name: string | undefined): this {
    if (holdsTraced()) {
      const entries = this.taken ?? [this.single as KeyEntry<K>];
      const keys = entries.map((entry) => describe(entry.key)).join(', ');
      this.trace = traceHoldStart(this.lock, `[${keys}]`, name);
    }
    return this;
  }

  protected end(): void {
    const taken = this.taken;
    if (taken === undefined) {
      this.lock.releaseKey(this.single as KeyEntry<K>);
      this.single = undefined;
      return;
    }
    for (let index = taken.length - 1; index >= 0; index--) this.lock.releaseKey(taken[index] as KeyEntry<K>);
    taken.length = 0;
  }
}
