/**
 * A Web Worker of spec/threads/web-workers.spec.ts (bundled and served by scripts/browser-test.mjs as
 * /workers/count.browser-worker.js): increments a plain cell `count` times under the lock, in the mode it is given,
 * then posts 'done'.
 */
import { SharedLock, type SharedHandle } from '../../lib/threads/index.js';

interface Job {
  readonly lock: SharedHandle;
  readonly cell: SharedArrayBuffer;
  readonly count: number;
  readonly mode: 'async' | 'sync' | 'mixed';
}

const scope = globalThis as unknown as {
  postMessage(message: unknown): void;
  addEventListener(type: 'message', listener: (event: MessageEvent<Job>) => void): void;
};

scope.addEventListener('message', async (event) => {
  const { lock: handle, cell, count, mode } = event.data;
  const lock = SharedLock.from(handle);
  const value = new Int32Array(cell);
  for (let i = 0; i < count; i++) {
    const sync = mode === 'sync' || (mode === 'mixed' && i % 2 === 0);
    const guard = sync ? lock.acquireSync() : await lock.acquire();
    const read = value[0]!;
    value[0] = read + 1;
    guard.release();
  }
  scope.postMessage('done');
});
