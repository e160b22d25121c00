/**
 * Workload 5: enqueue-then-drain. The lock is held, `size` acquires are queued behind it, then one release starts
 * the chain: every waiter is granted, releases, and so hands the lock to the next. Reports the cost per waiter
 * (enqueue + grant + release + resumption); it must not grow with `size` (O(1) enqueue and hand-off).
 *
 * Peers that only offer a `run`-style call (async-lock, p-limit, p-queue) queue `size` trivial tasks behind one
 * that holds until released. Peers whose waiter array is dequeued with `shift()` (O(n) each for large arrays, so a
 * quadratic drain) run only up to {@link QUADRATIC_MAX} waiters.
 */
import type { MutexInterface } from 'async-mutex';
import type { Guard } from '../lib/core/guard.js';
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
import { RingMutex } from './reference/ring-mutex.js';

export const SIZES = [1e3, 1e4, 1e5, 1e6] as const;

/**
 * async-mutex, async-lock and await-semaphore keep their waiters in an array dequeued with `shift()`, which V8 does
 * in O(n) once the array outgrows the young generation's objects: their drain is quadratic (async-mutex: 1e5
 * waiters take ~10 s, 1e6 would take ~20 min), so they only run up to this size.
 */
export const QUADRATIC_MAX = 1e4;
export const QUADRATIC = new Set(['async-mutex', 'async-lock', 'await-semaphore']);

const releaseGuard = (guard: Guard): void => guard.release();
const callRelease = (release: MutexInterface.Releaser): void => release();

/** A promise and the function that resolves it. */
function gate(): { opened: Promise<void>; open: () => void } {
  let open!: () => void;
  const opened = new Promise<void>((resolve) => (open = resolve));
  return { opened, open };
}

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
          const lock = new AsyncMutexMutex();
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
    {
      name: 'await-semaphore',
      async run(ops) {
        for (let rep = 0; rep < ops / size; rep++) {
          const lock = new AwaitMutex();
          const first = await lock.acquire();
          let last: Promise<void> | undefined;
          for (let i = 0; i < size; i++) last = lock.acquire().then(callRelease);
          first();
          await last;
        }
      },
    },
    {
      name: '@esfx/async-mutex',
      async run(ops) {
        for (let rep = 0; rep < ops / size; rep++) {
          const lock = new EsfxMutex();
          const first = await lock.lock();
          let last: Promise<void> | undefined;
          for (let i = 0; i < size; i++) last = lock.lock().then((handle) => void handle.unlock());
          first.unlock();
          await last;
        }
      },
    },
    {
      name: '@esfx/async-semaphore',
      async run(ops) {
        for (let rep = 0; rep < ops / size; rep++) {
          const lock = new EsfxSemaphore(1);
          await lock.wait();
          const release = (): void => lock.release();
          let last: Promise<void> | undefined;
          for (let i = 0; i < size; i++) last = lock.wait().then(release);
          lock.release();
          await last;
        }
      },
    },
    {
      name: 'async-lock',
      async run(ops) {
        for (let rep = 0; rep < ops / size; rep++) {
          const lock = new AsyncLockLib({ maxPending: Infinity });
          const { opened, open } = gate();
          void lock.acquire('key', () => opened);
          let last: Promise<void> | undefined;
          for (let i = 0; i < size; i++) last = lock.acquire('key', task);
          open();
          await last;
        }
      },
    },
    {
      name: 'p-limit',
      async run(ops) {
        for (let rep = 0; rep < ops / size; rep++) {
          const limit = pLimit(1);
          const { opened, open } = gate();
          void limit(() => opened);
          let last: Promise<void> | undefined;
          for (let i = 0; i < size; i++) last = limit(task);
          open();
          await last;
        }
      },
    },
    {
      name: 'p-queue',
      async run(ops) {
        for (let rep = 0; rep < ops / size; rep++) {
          const queue = new PQueue({ concurrency: 1 });
          const { opened, open } = gate();
          void queue.add(() => opened);
          let last: Promise<void> | undefined;
          for (let i = 0; i < size; i++) last = queue.add(task);
          open();
          await last;
        }
      },
    },
  ];
  return size > QUADRATIC_MAX ? all.filter((subject) => !QUADRATIC.has(subject.name)) : all;
}

/** Per-waiter results for every size in `sizes`, in order. */
export async function benchDrain(sizes: readonly number[], scale: number): Promise<Result[][]> {
  const out: Result[][] = [];
  for (const size of sizes) {
    const big = size >= 1e6;
    out.push(
      await compare(subjects(size), {
        ops: size,
        targetMs: 40 * scale,
        granularity: size,
        warmup: big ? 0 : 2,
        rounds: big ? 3 : 5,
        // A peer at several µs a waiter takes seconds a batch at 1e6: once is enough to show its growth.
        slowBatchMs: 1500,
      }),
    );
  }
  return out;
}
