/**
 * Workload 10 (issue 14): the everyday primitives against their peers.
 *
 * - 10a. AsyncRWLock, read-mostly: 100 tasks, 90 % reads and 10 % writes, an `await` inside every hold, against
 *   @esfx/async-readerwriterlock and a hand-rolled fair readers-writer lock (per hold).
 * - 10b. AsyncKeyedLock over 1e4 keys: 100 tasks, each hold on a pseudo-random key with an `await` inside, against
 *   async-lock and a hand-rolled Map of FIFO queues (per hold).
 * - 10c. What an idle key keeps: the heap after 1e5 distinct keys were locked and released, against the heap before.
 * - 10d. Diagnostics: an uncontended AsyncLock with a subscriber on every `coop-sync:*` channel, against none.
 */
import { subscribe, unsubscribe } from 'node:diagnostics_channel';
import { diagnosticsChannels } from '../lib/core/diagnostics.js';
import { AsyncKeyedLock } from '../lib/keyed-lock.js';
import { AsyncLock } from '../lib/lock.js';
import { AsyncRWLock } from '../lib/rwlock.js';
import { compare, gc, type Result, type Subject } from './harness.js';
import { AsyncLockLib, EsfxReaderWriterLock } from './peers.js';
import { MapKeyedLock, RingRWLock } from './reference/ring-rwlock.js';

export const TASKS = 100;
export const KEYS = 10_000;

/** Whether hold `j` of task `t` writes: one in ten, spread over the tasks. */
const writes = (t: number, j: number): boolean => (j * 7 + t) % 10 === 0;

/** Runs `TASKS` tasks of `n / TASKS` holds each; `hold(t, j)` performs one. */
async function tasks(n: number, hold: (t: number, j: number) => Promise<void>): Promise<void> {
  const per = Math.max(1, Math.floor(n / TASKS));
  const all: Promise<void>[] = [];
  for (let t = 0; t < TASKS; t++) {
    all.push(
      (async () => {
        for (let j = 0; j < per; j++) await hold(t, j);
      })(),
    );
  }
  await Promise.all(all);
}

const readMostly: Subject[] = [
  {
    name: 'coop-sync',
    async run(n) {
      const lock = new AsyncRWLock();
      await tasks(n, async (t, j) => {
        const guard = await (writes(t, j) ? lock.acquireWrite() : lock.acquireRead());
        await Promise.resolve();
        guard.release();
      });
    },
  },
  {
    name: 'hand-rolled',
    async run(n) {
      const lock = new RingRWLock();
      await tasks(n, async (t, j) => {
        if (writes(t, j)) {
          await lock.write();
          await Promise.resolve();
          lock.releaseWrite();
        } else {
          await lock.read();
          await Promise.resolve();
          lock.releaseRead();
        }
      });
    },
  },
  {
    name: '@esfx/async-readerwriterlock',
    async run(n) {
      const lock = new EsfxReaderWriterLock();
      await tasks(n, async (t, j) => {
        const handle = await (writes(t, j) ? lock.write() : lock.read());
        await Promise.resolve();
        handle.unlock();
      });
    },
  },
];

/** A pseudo-random key in [0, KEYS) for hold `j` of task `t` (the same sequence for every contender). */
const keyOf = (t: number, j: number): number => ((t * 7919 + j * 104_729) >>> 0) % KEYS;

const keyed: Subject[] = [
  {
    name: 'coop-sync',
    async run(n) {
      const lock = new AsyncKeyedLock<number>();
      await tasks(n, async (t, j) => {
        const guard = await lock.acquire(keyOf(t, j));
        await Promise.resolve();
        guard.release();
      });
    },
  },
  {
    name: 'hand-rolled',
    async run(n) {
      const lock = new MapKeyedLock<number>();
      await tasks(n, async (t, j) => {
        const key = keyOf(t, j);
        await lock.acquire(key);
        await Promise.resolve();
        lock.release(key);
      });
    },
  },
  {
    name: 'async-lock',
    async run(n) {
      const lock = new AsyncLockLib();
      await tasks(n, (t, j) => lock.acquire(String(keyOf(t, j)), () => Promise.resolve()));
    },
  },
];

export async function benchReadMostly(options: { ops: number; rounds: number }): Promise<Result[]> {
  return compare(readMostly, { ops: options.ops, warmup: 1, rounds: options.rounds });
}

export async function benchKeyed(options: { ops: number; rounds: number }): Promise<Result[]> {
  return compare(keyed, { ops: options.ops, warmup: 1, rounds: options.rounds });
}

/** Bytes the heap grew by after `keys` distinct keys were locked (all at once) and released, and the lock's size. */
export async function idleKeyBytes(keys: number): Promise<{ perKey: number; total: number; size: number }> {
  const lock = new AsyncKeyedLock<number>();
  gc();
  const before = process.memoryUsage().heapUsed;
  const guards = [];
  for (let key = 0; key < keys; key++) guards.push(await lock.acquire(key));
  for (const guard of guards) guard.release();
  guards.length = 0;
  gc();
  const total = process.memoryUsage().heapUsed - before;
  return { perKey: total / keys, total, size: lock.size };
}

/** Uncontended acquire + release with and without a subscriber on every diagnostics channel. */
export async function benchDiagnostics(options: { ops: number; rounds: number }): Promise<Result[]> {
  const subjects: Subject[] = [
    {
      name: 'coop-sync',
      async run(n) {
        const lock = new AsyncLock();
        for (let i = 0; i < n; i++) (await lock.acquire()).release();
      },
    },
    {
      name: 'subscribed',
      async run(n) {
        const listener = () => {};
        const names = Object.values(diagnosticsChannels);
        for (const name of names) subscribe(name, listener);
        try {
          const lock = new AsyncLock();
          for (let i = 0; i < n; i++) (await lock.acquire()).release();
        } finally {
          for (const name of names) unsubscribe(name, listener);
        }
      },
    },
  ];
  return compare(subjects, { ops: options.ops, warmup: 1, rounds: options.rounds });
}
