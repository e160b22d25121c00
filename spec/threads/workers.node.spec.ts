/**
 * SharedLock across real Node worker threads: exclusion under contention, recovery from a worker that dies holding
 * the lock. Every worker is terminated after each test.
 */
import { expect } from 'chai';
import { SharedCondition, SharedLock, SharedSemaphore } from '../../lib/threads/index.js';
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
    const cond = new SharedCondition(lock, { name: 'later' });
    const sleeper = startWorker('condition-wait', { lock: lock.handle, cond: cond.handle });
    await nextMessage(sleeper, (message) => message === 'waiting');
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
    // The waiter on the condition bound to the lock was not disturbed: a notify wakes it, holding the lock.
    const woken = nextMessage(sleeper);
    await lock.run(() => cond.notify());
    expect(await woken).to.deep.equal({ woken: true, locked: true, previousOwnerDied: false });
    await exited(sleeper);
    expect(lock.locked).to.equal(false);
  });

  it("the seed's producer/consumer: 2 producers, 2 consumers, a ring of 4 and two conditions lose no item", async () => {
    const lock = new SharedLock({ name: 'ring' });
    const notFull = new SharedCondition(lock, { name: 'notFull' });
    const notEmpty = new SharedCondition(lock, { name: 'notEmpty' });
    const ring = new SharedArrayBuffer((3 + 4) * 4);
    const perWorker = 5000;
    const seen = new SharedArrayBuffer((2 * perWorker + 1) * 4);
    const common = { lock: lock.handle, notFull: notFull.handle, notEmpty: notEmpty.handle, ring, seen };
    const workers = [
      startWorker('buffer', { ...common, role: 'producer', first: 1, count: perWorker }),
      startWorker('buffer', { ...common, role: 'producer', first: 1 + perWorker, count: perWorker }),
      startWorker('buffer', { ...common, role: 'consumer', first: 0, count: perWorker }),
      startWorker('buffer', { ...common, role: 'consumer', first: 0, count: perWorker }),
    ];
    await Promise.all(workers.map((worker) => nextMessage(worker, (message) => message === 'done')));
    const counts = new Int32Array(seen);
    expect(counts[0]).to.equal(0);
    expect(counts.slice(1).every((count) => count === 1)).to.equal(true);
    expect(new Int32Array(ring)[2]).to.equal(0);
    expect([notFull.waiting, notEmpty.waiting, lock.waiting, lock.locked]).to.deep.equal([0, 0, 0, false]);
  });

  it('a SharedSemaphore(2) across 4 workers (blocking and not, alternately): never more than 2 inside', async () => {
    const sem = new SharedSemaphore(2, { name: 'two' });
    const stats = new SharedArrayBuffer(12);
    const count = 2000;
    const workers = [0, 1, 2, 3].map(() => startWorker('semaphore', { semaphore: sem.handle, stats, count }));
    await Promise.all(workers.map((worker) => nextMessage(worker, (message) => message === 'done')));
    const [inside, most, entries] = new Int32Array(stats);
    expect({ inside, entries }).to.deep.equal({ inside: 0, entries: 4 * count });
    expect(most).to.be.at.most(2);
    expect(String(sem)).to.equal('SharedSemaphore(two)[value=2, waiting=0]');
  });

  it('a worker killed after taking its ticket, before moving NEXT or queuing: recover gives it up, the lock goes on', async () => {
    const lock = new SharedLock({ name: 'ticket' });
    const held = lock.tryAcquire()!;
    const doomed = startWorker('die-at', { lock: lock.handle, stopAt: 'TakeAdvance' });
    await nextMessage(doomed, (message) => message === 'stopped at TakeAdvance');
    const next = startWorker('take', { lock: lock.handle });
    await nextMessage(next, (message) => message === 'waiting');
    const id = doomed.threadId;
    await doomed.terminate();
    expect(lock.recover(id)).to.equal(false); // it held nothing
    const told = nextMessage<{ previousOwnerDied: boolean }>(next);
    held.release();
    expect(await told).to.deep.equal({ previousOwnerDied: false });
    next.postMessage('release');
    await exited(next);
    expect([lock.locked, lock.waiting]).to.deep.equal([false, 0]);
    const again = await lock.acquire({ timeout: 5000 });
    again.release();
  });

  it('a worker killed after the lock was handed to it, before it claimed it: recover frees it, the next is told', async () => {
    const lock = new SharedLock({ name: 'handed' });
    const held = lock.tryAcquire()!;
    const doomed = startWorker('die-at', { lock: lock.handle, stopAt: 'Claim' });
    await nextMessage(doomed, (message) => message === 'parked');
    const next = startWorker('take', { lock: lock.handle });
    await nextMessage(next, (message) => message === 'waiting');
    const stopped = nextMessage(doomed, (message) => message === 'stopped at Claim');
    held.release(); // handed to the doomed worker, which never claims it
    await stopped;
    expect(String(lock)).to.equal(`SharedLock(handed)[locked by ${doomed.threadId}, waiting=1]`);
    const id = doomed.threadId;
    await doomed.terminate();
    const told = nextMessage<{ previousOwnerDied: boolean }>(next);
    expect(lock.recover(id)).to.equal(true);
    expect(await told).to.deep.equal({ previousOwnerDied: true });
    next.postMessage('release');
    await exited(next);
    expect([lock.locked, lock.waiting]).to.deep.equal([false, 0]);
  });

  for (const [stopAt, held] of [
    ['RelOffer', true],
    ['RelNotify', false],
  ] as const) {
    it(`a worker killed releasing, before ${stopAt}: recover(threadId) = ${held}, the waiter gets the lock (told ${held})`, async () => {
      const lock = new SharedLock({ name: 'releaser' });
      const doomed = startWorker('die-at', { lock: lock.handle, stopAt });
      await nextMessage(doomed, (message) => message === 'holding');
      const next = startWorker('take', { lock: lock.handle });
      await nextMessage(next, (message) => message === 'waiting');
      const stopped = nextMessage(doomed, (message) => message === `stopped at ${stopAt}`);
      doomed.postMessage('release');
      await stopped;
      const id = doomed.threadId;
      await doomed.terminate();
      const told = nextMessage<{ previousOwnerDied: boolean }>(next);
      // Before its offer it still held the lock; after it, the lock was the waiter's, only its wake-up was missing.
      expect(lock.recover(id)).to.equal(held);
      expect(await told).to.deep.equal({ previousOwnerDied: held });
      next.postMessage('release');
      await exited(next);
      expect([lock.locked, lock.waiting]).to.deep.equal([false, 0]);
    });
  }

  it('a worker killed while waiting on a condition bound to the lock: recover withdraws its wait, notify reaches the others', async () => {
    const lock = new SharedLock({ name: 'cv' });
    const cond = new SharedCondition(lock, { name: 'ready' });
    const flag = new SharedArrayBuffer(4);
    const common = { lock: lock.handle, cond: cond.handle, flag };
    const doomed = startWorker('condition-waiter', common);
    await nextMessage(doomed, (message) => message === 'waiting');
    const survivor = startWorker('condition-waiter', common);
    await nextMessage(survivor, (message) => message === 'waiting');
    expect(cond.waiting).to.equal(2);
    const id = doomed.threadId;
    await doomed.terminate();
    expect(lock.recover(id)).to.equal(false); // it waited on the condition, the lock was lent out
    expect(cond.waiting).to.equal(1);
    const proceeded = nextMessage(survivor, (message) => message === 'proceeded');
    await lock.run(() => {
      new Int32Array(flag)[0] = 1;
      cond.notify(); // one notify: it must reach the survivor, not the dead worker
    });
    await proceeded;
    await exited(survivor);
    expect([lock.locked, lock.waiting, cond.waiting]).to.deep.equal([false, 0, 0]);
  });
});
