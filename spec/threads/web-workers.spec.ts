/**
 * SharedLock across real Web Workers in headless Chromium (`npm run test:browser`: the page is cross-origin isolated,
 * so SharedArrayBuffer exists, and the worker script is bundled and served by scripts/browser-test.mjs). Node has
 * no Web Workers: there the same property is checked with worker_threads (workers.node.spec.ts).
 */
import { expect } from 'chai';
import { SharedLock } from '../../lib/threads/index.js';

const inBrowser = typeof window !== 'undefined' && typeof Worker === 'function';

if (inBrowser) {
  describe('threads: SharedLock across Web Workers (Chromium)', function () {
    this.timeout(60_000);
    const started: Worker[] = [];
    afterEach(() => {
      for (const worker of started.splice(0)) worker.terminate();
    });

    for (const mode of ['async', 'sync', 'mixed'] as const) {
      it(`4 Web Workers x 100000 plain increments under the lock (${mode}) end exact`, async () => {
        const lock = new SharedLock({ name: 'counter' });
        const cell = new SharedArrayBuffer(4);
        const count = 100_000;
        const done = Array.from({ length: 4 }, () => {
          const worker = new Worker('/workers/count.browser-worker.js', { type: 'module' });
          started.push(worker);
          const finished = new Promise<void>((resolve, reject) => {
            worker.onmessage = (event) => (event.data === 'done' ? resolve() : undefined);
            worker.onerror = (event) => reject(new Error(`worker error: ${event.message}`));
          });
          worker.postMessage({ lock: lock.handle, cell, count, mode });
          return finished;
        });
        await Promise.all(done);
        expect(new Int32Array(cell)[0]).to.equal(4 * count);
        expect(lock.locked).to.equal(false);
        expect(lock.waiting).to.equal(0);
      });
    }
  });
}
