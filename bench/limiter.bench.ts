/**
 * Workload 3: a semaphore of 10 (or a limiter of concurrency 10) over 1e5 trivial async tasks, all submitted at
 * once (`Promise.all(tasks.map(...))`, the usual way to bound concurrency), per task. 99,990 of them queue.
 */
import { AsyncSemaphore } from '../lib/semaphore.js';
import { compare, type Result, type Subject } from './harness.js';
import { AsyncMutexSemaphore, AwaitSemaphore, EsfxSemaphore, pLimit, PQueue, Sema, task } from './peers.js';
import { RingSemaphore, ringRun } from './reference/ring-mutex.js';

export const LIMIT = 10;
export const TASKS = 100_000;

/** Starts `n` calls of `submit` at once and waits for all of them. */
function all(n: number, submit: () => Promise<unknown>): Promise<unknown> {
  const pending: Promise<unknown>[] = new Array<Promise<unknown>>(n);
  for (let i = 0; i < n; i++) pending[i] = submit();
  return Promise.all(pending);
}

async function semaRun(sema: Sema): Promise<void> {
  await sema.acquire();
  try {
    await task();
  } finally {
    sema.release();
  }
}

async function esfxRun(semaphore: EsfxSemaphore): Promise<void> {
  await semaphore.wait();
  try {
    await task();
  } finally {
    semaphore.release();
  }
}

const subjects: Subject[] = [
  {
    name: 'coop-sync',
    run(n) {
      const semaphore = new AsyncSemaphore(LIMIT);
      return all(n, () => semaphore.run(task));
    },
  },
  {
    name: 'hand-rolled',
    run(n) {
      const semaphore = new RingSemaphore(LIMIT);
      return all(n, () => ringRun(semaphore, task));
    },
  },
  {
    name: 'p-limit',
    run(n) {
      const limit = pLimit(LIMIT);
      return all(n, () => limit(task));
    },
  },
  {
    name: 'p-queue',
    run(n) {
      const queue = new PQueue({ concurrency: LIMIT });
      return all(n, () => queue.add(task));
    },
  },
  {
    name: 'async-sema',
    run(n) {
      const sema = new Sema(LIMIT);
      return all(n, () => semaRun(sema));
    },
  },
  {
    name: 'async-mutex',
    run(n) {
      const semaphore = new AsyncMutexSemaphore(LIMIT);
      return all(n, () => semaphore.runExclusive(task));
    },
  },
  {
    name: 'await-semaphore',
    run(n) {
      const semaphore = new AwaitSemaphore(LIMIT);
      return all(n, () => semaphore.use(task));
    },
  },
  {
    name: '@esfx/async-semaphore',
    run(n) {
      const semaphore = new EsfxSemaphore(LIMIT);
      return all(n, () => esfxRun(semaphore));
    },
  },
];

export function benchLimiter(options: { tasks: number; warmup: number; rounds: number }): Promise<Result[]> {
  return compare(subjects, {
    ops: options.tasks,
    warmup: options.warmup,
    rounds: options.rounds,
    slowBatchMs: 1000,
  });
}
