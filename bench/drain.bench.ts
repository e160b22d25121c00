/**
 * Benchmark 3: enqueue-then-drain. The lock is held, `size` acquires are queued behind it, then one release starts
 * the chain: every waiter is granted, releases, and so hands the lock to the next. Reports the cost per waiter
 * (enqueue + grant + release + resumption); it must not grow with `size` (O(1) enqueue and hand-off).
 */
import { Mutex, type MutexInterface } from 'async-mutex';
import { Sema } from 'async-sema';
import type { Guard } from '../lib/core/guard.js';
import { AsyncLock } from '../lib/lock.js';
import { compare, type Result, type Subject } from './harness.js';
import { RingMutex } from './reference/ring-mutex.js';

export const SIZES = [1e3, 1e4, 1e5, 1e6] as const;

const releaseGuard = (guard: Guard): void => guard.release();
const callRelease = (release: MutexInterface.Releaser): void => release();

/**
 * async-mutex keeps its waiters in an array and dequeues with `shift()`, which V8 does in O(n) for large arrays:
 * its drain is quadratic (1e5 waiters take ~10 s, 1e6 would take ~20 min), so it only runs up to this size.
 */
export const ASYNC_MUTEX_MAX = 1e4;

/** Runs `ops / size` enqueue-then-drain cycles of `size` waiters each. */
function subjects(size: number): Subject[] {
  const all: Subject[] = [
    {
      name: 'coop-sync',
      async run(ops) {
        for (let rep = 0; rep < ops / size; rep++) {
          const lock = new AsyncLock();
          const first = lock.tryAcquire() as Guard;
          let last: Promise<void> | undefined;
          for (let i = 0; i < size; i++) last = lock.acquire().then(releaseGuard);
          first.release();
          await last;
          if (lock.locked) throw new Error('coop-sync: drain incomplete');
        }
      },
    },
    {
      name: 'hand-rolled',
      async run(ops) {
        for (let rep = 0; rep < ops / size; rep++) {
          const lock = new RingMutex();
          await lock.acquire();
          const release = (): void => lock.release();
          let last: Promise<void> | undefined;
          for (let i = 0; i < size; i++) last = lock.acquire().then(release);
          lock.release();
          await last;
        }
      },
    },
    {
      name: 'async-mutex',
      async run(ops) {
        for (let rep = 0; rep < ops / size; rep++) {
          const lock = new Mutex();
          const first = await lock.acquire();
          let last: Promise<void> | undefined;
          for (let i = 0; i < size; i++) last = lock.acquire().then(callRelease);
          first();
          await last;
        }
      },
    },
    {
      name: 'async-sema',
      async run(ops) {
        for (let rep = 0; rep < ops / size; rep++) {
          const lock = new Sema(1);
          await lock.acquire();
          const release = (): void => lock.release();
          let last: Promise<void> | undefined;
          for (let i = 0; i < size; i++) last = lock.acquire().then(release);
          lock.release();
          await last;
        }
      },
    },
  ];
  return size > ASYNC_MUTEX_MAX ? all.filter((subject) => subject.name !== 'async-mutex') : all;
}

/** Per-waiter results for every size, in `SIZES` order. */
export async function benchDrain(scale: number): Promise<Result[][]> {
  const out: Result[][] = [];
  for (const size of SIZES) {
    const big = size >= 1e6;
    out.push(
      await compare(subjects(size), {
        ops: size,
        targetMs: 40 * scale,
        granularity: size,
        warmup: big ? 1 : 2,
        rounds: big ? 3 : 7,
      }),
    );
  }
  return out;
}
