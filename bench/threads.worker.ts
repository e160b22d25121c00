/**
 * A worker of the threads benchmark (bench/threads.bench.ts): waits for the start signal, then does `count`
 * lock / plain increment / unlock rounds with one of the contenders, and posts 'done'.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { SharedLock, type SharedHandle } from '../lib/threads/index.js';
import { FutexMutex } from './reference/futex-mutex.js';

export type Contender =
  'SharedLock acquireSync' | 'SharedLock acquire' | 'futex mutex' | 'postMessage lock server';

interface Job {
  readonly contender: Contender;
  readonly lock: SharedHandle;
  readonly futex: SharedArrayBuffer;
  /** [start flag, counter] */
  readonly shared: SharedArrayBuffer;
  readonly count: number;
}

const job = workerData as Job;
const shared = new Int32Array(job.shared);
const port = parentPort!;

/** One grant from the lock server on the main thread: ask, wait for the reply. */
function askServer(): Promise<void> {
  return new Promise((resolve) => {
    port.once('message', () => resolve());
    port.postMessage('acquire');
  });
}

async function main(): Promise<void> {
  const lock = SharedLock.from(job.lock);
  const futex = new FutexMutex(new Int32Array(job.futex));
  port.postMessage('ready');
  Atomics.wait(shared, 0, 0); // until the start signal
  const count = job.count;
  switch (job.contender) {
    case 'SharedLock acquireSync':
      for (let i = 0; i < count; i++) {
        const guard = lock.acquireSync();
        shared[1]!++;
        guard.release();
      }
      break;
    case 'SharedLock acquire':
      for (let i = 0; i < count; i++) {
        const guard = await lock.acquire();
        shared[1]!++;
        guard.release();
      }
      break;
    case 'futex mutex':
      for (let i = 0; i < count; i++) {
        futex.lock();
        shared[1]!++;
        futex.unlock();
      }
      break;
    case 'postMessage lock server':
      for (let i = 0; i < count; i++) {
        await askServer();
        shared[1]!++;
        port.postMessage('release');
      }
      break;
  }
  port.postMessage('done');
}

void main();
