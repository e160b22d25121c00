/**
 * Benchmarks 1 and 2: acquire+release of a mutex, uncontended and contended (100 tasks handing it round-robin).
 */
import { Mutex } from 'async-mutex';
import { Sema } from 'async-sema';
import { AsyncLock } from '../lib/lock.js';
import { compare, type Result, type Subject } from './harness.js';
import { RingGuardMutex, RingMutex } from './reference/ring-mutex.js';

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
      const lock = new Mutex();
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
];

async function coopTask(lock: AsyncLock, n: number): Promise<void> {
  for (let i = 0; i < n; i++) {
    const guard = await lock.acquire();
    guard.release();
  }
}
async function ringTask(lock: RingMutex, n: number): Promise<void> {
  for (let i = 0; i < n; i++) {
    await lock.acquire();
    lock.release();
  }
}
async function guardTask(lock: RingGuardMutex, n: number): Promise<void> {
  for (let i = 0; i < n; i++) {
    const guard = await lock.acquire();
    guard.release();
  }
}
async function mutexTask(lock: Mutex, n: number): Promise<void> {
  for (let i = 0; i < n; i++) {
    const release = await lock.acquire();
    release();
  }
}
async function semaTask(lock: Sema, n: number): Promise<void> {
  for (let i = 0; i < n; i++) {
    await lock.acquire();
    lock.release();
  }
}

function tasks<L>(lock: L, n: number, task: (lock: L, n: number) => Promise<void>): Promise<void[]> {
  const all: Promise<void>[] = [];
  for (let t = 0; t < TASKS; t++) all.push(task(lock, n / TASKS));
  return Promise.all(all);
}

const contended: Subject[] = [
  { name: 'coop-sync', run: (n) => tasks(new AsyncLock(), n, coopTask) },
  { name: 'hand-rolled', run: (n) => tasks(new RingMutex(), n, ringTask) },
  { name: 'hand-rolled + guard', run: (n) => tasks(new RingGuardMutex(), n, guardTask) },
  { name: 'async-mutex', run: (n) => tasks(new Mutex(), n, mutexTask) },
  { name: 'async-sema', run: (n) => tasks(new Sema(1), n, semaTask) },
];

export function benchUncontended(scale: number): Promise<Result[]> {
  return compare(uncontended, { ops: 100_000, targetMs: 20 * scale, warmup: 3, rounds: 15 });
}

export function benchContended(scale: number): Promise<Result[]> {
  return compare(contended, {
    ops: 100_000,
    targetMs: 20 * scale,
    granularity: TASKS,
    warmup: 3,
    rounds: 15,
  });
}
