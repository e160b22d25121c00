/**
 * Workload 7: heap bytes per pending waiter. `count` acquisitions are queued on a held lock (or semaphore, or
 * limiter); the heap is measured after a full GC before and after, and the difference divided by `count`. The caller's
 * promises are kept in an array allocated before the first measurement, so the figure is what the library (and the
 * promise it returns) keeps alive per waiter. Needs a real `gc()` (`node --expose-gc`, which `npm run bench` passes).
 */
import { getHeapStatistics } from 'node:v8';
import { AsyncLock } from '../lib/lock.js';
import { AsyncSemaphore } from '../lib/semaphore.js';
import { gc, median } from './harness.js';
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

export const WAITERS = 100_000;

/** `start` returns the held primitive (kept alive) and queues waiters into `keep`. */
interface MemorySubject {
  readonly name: string;
  readonly note?: string;
  start(count: number, keep: unknown[]): unknown;
}

/** A promise that never settles: what a run-style peer's holder awaits. */
const never = new Promise<void>(() => undefined);

const subjects: MemorySubject[] = [
  {
    name: 'coop-sync',
    start(count, keep) {
      const lock = new AsyncLock();
      lock.tryAcquire();
      for (let i = 0; i < count; i++) keep[i] = lock.acquire();
      return lock;
    },
  },
  {
    name: 'coop-sync semaphore',
    note: 'AsyncSemaphore(0)',
    start(count, keep) {
      const semaphore = new AsyncSemaphore(0);
      for (let i = 0; i < count; i++) keep[i] = semaphore.acquire();
      return semaphore;
    },
  },
  {
    name: 'coop-sync run',
    note: 'a queued run(fn) on AsyncSemaphore(1)',
    start(count, keep) {
      const semaphore = new AsyncSemaphore(1);
      semaphore.tryAcquire();
      for (let i = 0; i < count; i++) keep[i] = semaphore.run(task);
      return semaphore;
    },
  },
  {
    name: 'hand-rolled',
    start(count, keep) {
      const lock = new RingMutex();
      void lock.acquire();
      for (let i = 0; i < count; i++) keep[i] = lock.acquire();
      return lock;
    },
  },
  {
    name: 'async-mutex',
    start(count, keep) {
      const lock = new AsyncMutexMutex();
      void lock.acquire();
      for (let i = 0; i < count; i++) keep[i] = lock.acquire();
      return lock;
    },
  },
  {
    name: 'async-sema',
    start(count, keep) {
      const lock = new Sema(1);
      void lock.acquire();
      for (let i = 0; i < count; i++) keep[i] = lock.acquire();
      return lock;
    },
  },
  {
    name: 'await-semaphore',
    start(count, keep) {
      const lock = new AwaitMutex();
      void lock.acquire();
      for (let i = 0; i < count; i++) keep[i] = lock.acquire();
      return lock;
    },
  },
  {
    name: '@esfx/async-mutex',
    start(count, keep) {
      const lock = new EsfxMutex();
      lock.tryLock();
      for (let i = 0; i < count; i++) keep[i] = lock.lock();
      return lock;
    },
  },
  {
    name: '@esfx/async-semaphore',
    start(count, keep) {
      const semaphore = new EsfxSemaphore(0);
      for (let i = 0; i < count; i++) keep[i] = semaphore.wait();
      return semaphore;
    },
  },
  {
    name: 'async-lock',
    note: 'run-only: a queued task',
    start(count, keep) {
      const lock = new AsyncLockLib({ maxPending: Infinity });
      void lock.acquire('key', () => never);
      for (let i = 0; i < count; i++) keep[i] = lock.acquire('key', task);
      return lock;
    },
  },
  {
    name: 'p-limit',
    note: 'run-only: a queued task',
    start(count, keep) {
      const limit = pLimit(1);
      void limit(() => never);
      for (let i = 0; i < count; i++) keep[i] = limit(task);
      return limit;
    },
  },
  {
    name: 'p-queue',
    note: 'run-only: a queued task',
    start(count, keep) {
      const queue = new PQueue({ concurrency: 1 });
      void queue.add(() => never);
      for (let i = 0; i < count; i++) keep[i] = queue.add(task);
      return queue;
    },
  },
];

/** The primitive being measured, kept reachable (its queue is what holds the waiters) until measured. */
const retained: { primitive: unknown } = { primitive: undefined };

function usedHeap(): number {
  gc();
  gc();
  return getHeapStatistics().used_heap_size;
}

export interface MemoryResult {
  readonly name: string;
  readonly note: string | undefined;
  /** Median bytes per pending waiter over the rounds. */
  readonly bytesPerWaiter: number;
}

/** Bytes per pending waiter for every subject (median of `rounds` measurements, interleaved). */
export async function benchMemory(count: number, rounds: number): Promise<MemoryResult[]> {
  const samples = subjects.map((): number[] => []);
  for (let round = 0; round < rounds + 1; round++) {
    for (let k = 0; k < subjects.length; k++) {
      const subject = subjects[k] as MemorySubject;
      const keep = new Array<unknown>(count).fill(undefined);
      // Let earlier rounds' microtasks and the peers' deferred work (process.nextTick, setImmediate) finish.
      await new Promise((resolve) => setImmediate(resolve));
      const before = usedHeap();
      retained.primitive = subject.start(count, keep);
      await new Promise((resolve) => setImmediate(resolve));
      const after = usedHeap();
      if (round > 0) (samples[k] as number[]).push((after - before) / count);
      retained.primitive = undefined;
      keep.fill(undefined);
    }
  }
  return subjects.map((subject, i) => ({
    name: subject.name,
    note: subject.note,
    bytesPerWaiter: median(samples[i] as number[]),
  }));
}
