/**
 * SharedLock across real Node worker threads: exclusion under contention, recovery from a worker that dies holding
 * the lock. Every worker is terminated after each test.
 */
import { expect } from 'chai';
import { SharedLock } from '../../lib/threads/index.js';
import { exited, nextMessage, startWorker, stopAll } from './fixtures/workers.js';

describe('threads: SharedLock across Node workers', function () {
  this.timeout(30_000);
  afterEach(stopAll);

  for (const mode of ['async', 'sync', 'mixed'] as const) {
    it(`4 workers x 100000 plain increments under the lock (${mode}) end exact`, async () => {
      const lock = new SharedLock({ name: 'counter' });
      const cell = new SharedArrayBuffer(4);
      const count = 100_000;
      const workers = [0, 1, 2, 3].map(() => startWorker('count', { lock: lock.handle, cell, count, mode }));
      await Promise.all(workers.map((worker) => nextMessage(worker, (message) => message === 'done')));
      expect(new Int32Array(cell)[0]).to.equal(4 * count);
      expect(lock.locked).to.equal(false);
      expect(lock.waiting).to.equal(0);
    });
  }

  it('a worker terminated while holding the lock: recover(threadId) frees it, the next waiter learns previousOwnerDied', async () => {
    const lock = new SharedLock({ name: 'robust' });
    const doomed = startWorker('hold', { lock: lock.handle });
    await nextMessage(doomed, (message) => message === 'held');
    const first = startWorker('take', { lock: lock.handle });
    const second = startWorker('take', { lock: lock.handle });
    await Promise.all([nextMessage(first), nextMessage(second)]);
    expect(String(lock)).to.equal(`SharedLock(robust)[locked by ${doomed.threadId}, waiting=2]`);
    const id = doomed.threadId;
    const recovered = new Promise<boolean>((resolve) => {
      doomed.once('exit', () => resolve(lock.recover(id)));
    });
    await doomed.terminate();
    expect(await recovered).to.equal(true);
    expect(lock.recover(id)).to.equal(false); // once only
    // The two waiters get the lock in turn; only the first is told that the previous owner died.
    const told = await Promise.race([
      nextMessage<{ previousOwnerDied: boolean }>(first).then((m) => ({ who: first, ...m })),
      nextMessage<{ previousOwnerDied: boolean }>(second).then((m) => ({ who: second, ...m })),
    ]);
    expect(told.previousOwnerDied).to.equal(true);
    const other = told.who === first ? second : first;
    const next = nextMessage<{ previousOwnerDied: boolean }>(other);
    told.who.postMessage('release');
    expect(await next).to.deep.equal({ previousOwnerDied: false });
    other.postMessage('release');
    await Promise.all([exited(first), exited(second)]);
    expect(lock.locked).to.equal(false);
  });
});
