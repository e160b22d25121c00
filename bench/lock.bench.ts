/**
 * Workloads 1 and 2: acquire + release of a mutex, uncontended (guard API, and `run`), and contended (100 tasks,
 * each looping acquire, an `await` inside the critical section, release: every acquire is a FIFO hand-off).
 * Every peer with a mutex (or a semaphore of 1) takes part; peers that only offer a `run`-style call (async-lock,
 * p-limit, p-queue) are in the `run` comparison.
 */
import { AsyncLock } from '../lib/lock.js';
import { compare, type Result, type Subject } from './harness.js';
import {
  AsyncLockLib,
  AsyncMutexMutex,
  AwaitMutex,
  EsfxMutex,
  EsfxSemaphore,
  pLimit,
  PQueue,
  Sema,
  task,
} from './peers.js';
import { RingGuardMutex, RingMutex, ringRun } from './reference/ring-mutex.js';

export const TASKS = 100;

// One explicit loop per implementation (no adapter layer), so each call site stays monomorphic.
const uncontended: Subject[] = [
  {
    name: 'coop-sync',
    async run(n) {
      const lock = new AsyncLock();
      for (let i = 0; i < n; i++) {
        const guard = await lock.acquire();
        guard.release();
      }
    },
  },
  {
    name: 'hand-rolled',
    async run(n) {
      const lock = new RingMutex();
      for (let i = 0; i < n; i++) {
        await lock.acquire();
        lock.release();
      }
    },
  },
  {
    name: 'hand-rolled + guard',
    async run(n) {
      const lock = new RingGuardMutex();
      for (let i = 0; i < n; i++) {
        const guard = await lock.acquire();
        guard.release();
      }
    },
  },
  {
    name: 'async-mutex',
    async run(n) {
      const lock = new AsyncMutexMutex();
      for (let i = 0; i < n; i++) {
        const release = await lock.acquire();
        release();
      }
    },
  },
  {
    name: 'async-sema',
    async run(n) {
      const lock = new Sema(1);
      for (let i = 0; i < n; i++) {
        await lock.acquire();
        lock.release();
      }
    },
  },
  {
    name: 'await-semaphore',
    async run(n) {
      const lock = new AwaitMutex();
      for (let i = 0; i < n; i++) {
        const release = await lock.acquire();
        release();
      }
    },
  },
  {
    name: '@esfx/async-mutex',
    async run(n) {
      const lock = new EsfxMutex();
      for (let i = 0; i < n; i++) {
        const handle = await lock.lock();
        handle.unlock();
      }
    },
  },
  {
    name: '@esfx/async-semaphore',
    async run(n) {
      const lock = new EsfxSemaphore(1);
      for (let i = 0; i < n; i++) {
        await lock.wait();
        lock.release();
      }
    },
  },
];

const uncontendedRun: Subject[] = [
  {
    name: 'coop-sync',
    async run(n) {
      const lock = new AsyncLock();
      for (let i = 0; i < n; i++) await lock.run(task);
    },
  },
  {
    name: 'hand-rolled',
    async run(n) {
      const lock = new RingMutex();
      for (let i = 0; i < n; i++) await ringRun(lock, task);
    },
  },
  {
    name: 'async-mutex',
    async run(n) {
      const lock = new AsyncMutexMutex();
      for (let i = 0; i < n; i++) await lock.runExclusive(task);
    },
  },
  {
    name: 'async-lock',
    async run(n) {
      const lock = new AsyncLockLib();
      for (let i = 0; i < n; i++) await lock.acquire('key', task);
    },
  },
  {
    name: 'await-semaphore',
    async run(n) {
      const lock = new AwaitMutex();
      for (let i = 0; i < n; i++) await lock.use(task);
    },
  },
  {
    name: 'p-limit',
    async run(n) {
      const limit = pLimit(1);
      for (let i = 0; i < n; i++) await limit(task);
    },
  },
  {
    name: 'p-queue',
    async run(n) {
      const queue = new PQueue({ concurrency: 1 });
      for (let i = 0; i < n; i++) await queue.add(task);
    },
  },
];

async function coopTask(lock: AsyncLock, n: number): Promise<void> {
  for (let i = 0; i < n; i++) {
    const guard = await lock.acquire();
    await undefined;
    guard.release();
  }
}
async function ringTask(lock: RingMutex, n: number): Promise<void> {
  for (let i = 0; i < n; i++) {
    await lock.acquire();
    await undefined;
    lock.release();
  }
}
async function guardTask(lock: RingGuardMutex, n: number): Promise<void> {
  for (let i = 0; i < n; i++) {
    const guard = await lock.acquire();
    await undefined;
    guard.release();
  }
}
async function mutexTask(lock: AsyncMutexMutex, n: number): Promise<void> {
  for (let i = 0; i < n; i++) {
    const release = await lock.acquire();
    await undefined;
    release();
  }
}
async function semaTask(lock: Sema, n: number): Promise<void> {
  for (let i = 0; i < n; i++) {
    await lock.acquire();
    await undefined;
    lock.release();
  }
}
async function awaitMutexTask(lock: AwaitMutex, n: number): Promise<void> {
  for (let i = 0; i < n; i++) {
    const release = await lock.acquire();
    await undefined;
    release();
  }
}
async function esfxMutexTask(lock: EsfxMutex, n: number): Promise<void> {
  for (let i = 0; i < n; i++) {
    const handle = await lock.lock();
    await undefined;
    handle.unlock();
  }
}
async function esfxSemaphoreTask(lock: EsfxSemaphore, n: number): Promise<void> {
  for (let i = 0; i < n; i++) {
    await lock.wait();
    await undefined;
    lock.release();
  }
}

function tasks<L>(lock: L, n: number, body: (lock: L, n: number) => Promise<void>): Promise<void[]> {
  const all: Promise<void>[] = [];
  for (let t = 0; t < TASKS; t++) all.push(body(lock, n / TASKS));
  return Promise.all(all);
}

const contended: Subject[] = [
  { name: 'coop-sync', run: (n) => tasks(new AsyncLock(), n, coopTask) },
  { name: 'hand-rolled', run: (n) => tasks(new RingMutex(), n, ringTask) },
  { name: 'hand-rolled + guard', run: (n) => tasks(new RingGuardMutex(), n, guardTask) },
  { name: 'async-mutex', run: (n) => tasks(new AsyncMutexMutex(), n, mutexTask) },
  { name: 'async-sema', run: (n) => tasks(new Sema(1), n, semaTask) },
  { name: 'await-semaphore', run: (n) => tasks(new AwaitMutex(), n, awaitMutexTask) },
  { name: '@esfx/async-mutex', run: (n) => tasks(new EsfxMutex(), n, esfxMutexTask) },
  { name: '@esfx/async-semaphore', run: (n) => tasks(new EsfxSemaphore(1), n, esfxSemaphoreTask) },
];

export interface LockOptions {
  /** Operations per batch: 1e6 in a full run (the count), fewer with `--quick`. */
  readonly ops: number;
  readonly warmup: number;
  readonly rounds: number;
}

/** A peer whose first batch takes longer than this (1e6 operations at more than 0.5 µs each) runs once. */
const SLOW_MS = 500;

export function benchUncontended({ ops, warmup, rounds }: LockOptions): Promise<Result[]> {
  return compare(uncontended, { ops, warmup, rounds, slowBatchMs: SLOW_MS });
}

export function benchUncontendedRun({ ops, warmup, rounds }: LockOptions): Promise<Result[]> {
  return compare(uncontendedRun, { ops, warmup, rounds, slowBatchMs: SLOW_MS });
}

/** `ops` acquisitions in all: `TASKS` tasks of `ops / TASKS` each (1e6 = 100 tasks x 10,000). */
export function benchContended({ ops, warmup, rounds }: LockOptions): Promise<Result[]> {
  return compare(contended, { ops, granularity: TASKS, warmup, rounds, slowBatchMs: SLOW_MS });
}
