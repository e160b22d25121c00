/**
 * Workload 10, coop-sync/threads: SharedLock against a hand-rolled futex mutex (one compare-exchange each way: the
 * physical floor) and against the usual alternative without shared memory, a lock server on the main thread that
 * workers reach by postMessage.
 *
 * - uncontended: acquire + release on the main thread, in a loop (blocking and async forms);
 * - contended: 4 workers each doing lock / plain increment / unlock rounds at once; ns per round, wall time over
 *   all rounds (the counter must end exact, or the run fails).
 */
import { Worker } from 'node:worker_threads';
import { SharedLock } from '../lib/threads/index.js';
import { compare, now, Timed, type Result, type Subject } from './harness.js';
import { FutexMutex } from './reference/futex-mutex.js';
import type { Contender } from './threads.worker.js';

export const WORKERS = 4;

const uncontended: Subject[] = [
  {
    name: 'SharedLock acquireSync',
    run(n) {
      const lock = new SharedLock();
      for (let i = 0; i < n; i++) lock.acquireSync().release();
    },
  },
  {
    name: 'SharedLock tryAcquire',
    run(n) {
      const lock = new SharedLock();
      for (let i = 0; i < n; i++) lock.tryAcquire()!.release();
    },
  },
  {
    name: 'futex mutex',
    run(n) {
      const futex = new FutexMutex();
      for (let i = 0; i < n; i++) {
        futex.lock();
        futex.unlock();
      }
    },
  },
  {
    name: 'SharedLock acquire (async)',
    async run(n) {
      const lock = new SharedLock();
      for (let i = 0; i < n; i++) (await lock.acquire()).release();
    },
  },
  {
    name: 'futex mutex, awaited',
    note: 'lock, await, unlock',
    async run(n) {
      const futex = new FutexMutex();
      for (let i = 0; i < n; i++) {
        futex.lock();
        await undefined;
        futex.unlock();
      }
    },
  },
];

export function benchThreadsUncontended(ops: number, rounds: number): Promise<Result[]> {
  return compare(uncontended, { ops, warmup: 1, rounds });
}

/** Starts a TypeScript worker under tsx (Node 20 workers do not inherit the parent's loader). */
function startWorker(data: Record<string, unknown>): Worker {
  const source =
    "import('tsx/esm/api').then((tsx) => { tsx.register(); return import(require('node:worker_threads').workerData.file); })";
  return new Worker(source, {
    eval: true,
    workerData: { ...data, file: new URL('./threads.worker.ts', import.meta.url).href },
  });
}

/** The lock server: grants in arrival order, one holder at a time. */
function serve(workers: readonly Worker[]): void {
  const queue: Worker[] = [];
  let holder: Worker | undefined;
  const grantNext = () => {
    holder = queue.shift();
    holder?.postMessage('granted');
  };
  for (const worker of workers) {
    worker.on('message', (message) => {
      if (message === 'acquire') {
        queue.push(worker);
        if (holder === undefined) grantNext();
      } else if (message === 'release' && worker === holder) grantNext();
    });
  }
}

/** One contended batch: `WORKERS` workers x `perWorker` rounds with `contender`; ns per round (all workers). */
async function contendedBatch(contender: Contender, perWorker: number): Promise<Timed> {
  const lock = new SharedLock();
  const futex = new SharedArrayBuffer(4);
  const shared = new SharedArrayBuffer(8);
  const words = new Int32Array(shared);
  const workers = Array.from({ length: WORKERS }, () =>
    startWorker({ contender, lock: lock.handle, futex, shared, count: perWorker }),
  );
  try {
    const said = (worker: Worker, what: string) =>
      new Promise<void>((resolve, reject) => {
        const onMessage = (message: unknown) => {
          if (message !== what) return;
          worker.off('message', onMessage);
          resolve();
        };
        worker.on('message', onMessage);
        worker.once('error', reject);
      });
    await Promise.all(workers.map((worker) => said(worker, 'ready')));
    if (contender === 'postMessage lock server') serve(workers);
    const done = Promise.all(workers.map((worker) => said(worker, 'done')));
    const start = now();
    Atomics.store(words, 0, 1);
    Atomics.notify(words, 0);
    await done;
    const elapsed = now() - start;
    if (words[1] !== WORKERS * perWorker) throw new Error(`${contender}: counter ${words[1]}, lost updates`);
    return new Timed(elapsed);
  } finally {
    await Promise.all(workers.map((worker) => worker.terminate()));
  }
}

export function benchThreadsContended(perWorker: number, rounds: number): Promise<Result[]> {
  const contenders: [Contender, number][] = [
    ['SharedLock acquireSync', perWorker],
    ['SharedLock acquire', perWorker],
    ['futex mutex', perWorker],
    // The message server is slow: a tenth of the rounds keeps its batch as long as the others'.
    ['postMessage lock server', Math.max(100, Math.round(perWorker / 10))],
  ];
  const subjects: Subject[] = contenders.map(([name, rounds]) => ({
    name,
    note: `${WORKERS} workers x ${rounds}`,
    run: async () => {
      const timed = await contendedBatch(name, rounds);
      // compare() divides by its `ops`: report ns per round over `perWorker * WORKERS` rounds.
      return new Timed((timed.ns / (rounds * WORKERS)) * perWorker * WORKERS);
    },
  }));
  return compare(subjects, { ops: perWorker * WORKERS, warmup: 1, rounds });
}
