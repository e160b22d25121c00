/**
 * Waiter priorities (issue 14, DESIGN.md section 6): `acquire`/`run` of AsyncLock, AsyncSemaphore (and bounded),
 * AsyncRWLock and AsyncKeyedLock take `priority` (any finite number, default 0, larger first); waiters are served
 * by priority, then FIFO among equals; a release hands off to the best waiter in the same step.
 */
import { expect } from 'chai';
import fc from 'fast-check';
import {
  AsyncBoundedSemaphore,
  AsyncCondition,
  AsyncKeyedLock,
  AsyncLock,
  AsyncRWLock,
  AsyncSemaphore,
  type Guard,
  type PriorityOptions,
} from '../lib/index.js';
import { flush, yieldTurns, installFakeClock, observe, rejectionOf } from './suites/helpers.js';

/** Queues one waiter per priority on a held lock, releases one at a time, and returns the order served. */
async function servedOrder(priorities: readonly number[]): Promise<number[]> {
  const lock = new AsyncLock();
  const holder = lock.tryAcquire() as Guard;
  const order: number[] = [];
  const waiters = priorities.map((priority, index) =>
    lock.acquire({ priority }).then((guard) => {
      order.push(index);
      return guard;
    }),
  );
  holder.release();
  for (let served = 0; served < waiters.length; served++) {
    await flush();
    (await waiters[order[served] as number])?.release();
  }
  return order;
}

describe('priorities', () => {
  it('AsyncLock: served by priority, then FIFO among equals; default 0; negative below it', async () => {
    expect(await servedOrder([0, 5, 0, 5, -1, 2.5, 0])).to.deep.equal([1, 3, 5, 0, 2, 6, 4]);
  });

  it('hands off to the best waiter in the release step: a newcomer cannot barge in, whatever its priority', async () => {
    const lock = new AsyncLock();
    const holder = lock.tryAcquire() as Guard;
    const low = observe(lock.acquire());
    const high = observe(lock.acquire({ priority: 10 }));
    holder.release();
    expect([lock.locked, lock.waiting]).to.deep.equal([true, 1]);
    expect(lock.tryAcquire()).to.equal(undefined);
    const newcomer = observe(lock.acquire({ priority: 100 }));
    await flush();
    expect([high.state, low.state, newcomer.state]).to.deep.equal(['fulfilled', 'pending', 'pending']);
    (high.value as Guard).release();
    await flush();
    // The newcomer outranks the older default-priority waiter.
    expect([newcomer.state, low.state]).to.deep.equal(['fulfilled', 'pending']);
    (newcomer.value as Guard).release();
    await flush();
    expect(low.state).to.equal('fulfilled');
  });

  it('a cancelled or timed-out prioritized waiter leaves at once, and the order of the others holds', async () => {
    const clock = installFakeClock();
    try {
      const lock = new AsyncLock();
      const holder = lock.tryAcquire() as Guard;
      const order: string[] = [];
      const controller = new AbortController();
      const track = (label: string, promise: Promise<Guard>) =>
        promise.then(
          (guard) => {
            order.push(label);
            guard.release();
          },
          () => order.push(`${label}:gave up`),
        );
      const all = [
        track('a0', lock.acquire()),
        track('b3', lock.acquire({ priority: 3, signal: controller.signal })),
        track('c3', lock.acquire({ priority: 3, timeout: 5 })),
        track('d3', lock.acquire({ priority: 3 })),
        track('e1', lock.acquire({ priority: 1 })),
      ];
      controller.abort();
      await clock.tickAsync(5);
      expect(lock.waiting).to.equal(3);
      holder.release();
      await Promise.all(all);
      expect(order).to.deep.equal(['b3:gave up', 'c3:gave up', 'd3', 'e1', 'a0']);
    } finally {
      clock.restore();
    }
  });

  it('property: any mix of priorities is served by priority then arrival (fixed seed)', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(fc.integer({ min: -3, max: 3 }), { maxLength: 30 }), async (priorities) => {
        const expected = priorities
          .map((priority, index) => ({ priority, index }))
          .sort((a, b) => b.priority - a.priority || a.index - b.index)
          .map(({ index }) => index);
        expect(await servedOrder(priorities)).to.deep.equal(expected);
      }),
      { numRuns: 200, seed: 1402 },
    );
  });

  it('condition waiters moved to a lock that has prioritized waiters keep the order by priority', async () => {
    const lock = new AsyncLock();
    const condition = new AsyncCondition(lock);
    const order: string[] = [];
    const waiting = lock.run(async () => {
      await condition.wait();
      order.push('notified');
    });
    await flush();
    const holder = await lock.acquire();
    const high = lock.run(() => order.push('high'), { priority: 1 });
    const low = lock.run(() => order.push('low'), { priority: -1 });
    condition.notify();
    holder.release();
    await Promise.all([waiting, high, low]);
    expect(order).to.deep.equal(['high', 'notified', 'low']);
  });

  describe('AsyncSemaphore', () => {
    it('grants permits to the best waiter first', async () => {
      const semaphore = new AsyncSemaphore(1);
      const holder = semaphore.tryAcquire() as Guard;
      const order: number[] = [];
      const waiters = [0, 2, 1].map((priority) => semaphore.run(() => order.push(priority), { priority }));
      holder.release();
      await Promise.all(waiters);
      expect(order).to.deep.equal([2, 1, 0]);
    });

    it('head-of-line on the best waiter: a large best request blocks smaller ones even while permits are free', async () => {
      const semaphore = new AsyncBoundedSemaphore(3);
      const one = semaphore.tryAcquire() as Guard;
      const two = semaphore.tryAcquire() as Guard;
      const big = observe(semaphore.acquire({ permits: 3, priority: 1 }));
      const later = observe(semaphore.acquire({ priority: 0 }));
      await flush();
      // One permit is free, but the best waiter needs three: the smaller one behind it waits.
      expect([semaphore.value, big.state, later.state]).to.deep.equal([1, 'pending', 'pending']);
      one.release();
      two.release();
      await flush();
      expect([big.state, later.state]).to.deep.equal(['fulfilled', 'pending']);
      (big.value as Guard).release();
      await flush();
      expect(later.state).to.equal('fulfilled');
    });

    it('a newcomer that outranks every waiter and fits is granted at once', async () => {
      const semaphore = new AsyncSemaphore(2);
      const holder = semaphore.tryAcquire() as Guard;
      const big = observe(semaphore.acquire({ permits: 2 }));
      // "Only if available now" holds with priorities too: it is available to a request that outranks the queue.
      const urgent = observe(semaphore.acquire({ priority: 1, timeout: 0 }));
      expect([semaphore.value, semaphore.waiting]).to.deep.equal([0, 1]);
      await flush();
      expect([big.state, urgent.state]).to.deep.equal(['pending', 'fulfilled']);
      holder.release();
      (urgent.value as Guard).release();
      await flush();
      expect(big.state).to.equal('fulfilled');
    });

    it('AsyncRWLock: a reader that outranks a queued writer joins the readers at once, also with timeout 0', async () => {
      const rw = new AsyncRWLock();
      const reading = rw.tryAcquireRead() as Guard;
      const writer = observe(rw.acquireWrite());
      const urgent = await rw.acquireRead({ priority: 1, timeout: 0 });
      expect([rw.readers, rw.waiting]).to.deep.equal([2, 1]);
      expect(await rejectionOf(rw.acquireRead({ timeout: 0 }))).to.have.property('name', 'TimeoutError');
      urgent.release();
      reading.release();
      await flush();
      expect(writer.state).to.equal('fulfilled');
    });
  });

  it('AsyncRWLock: a writer that outranks queued readers goes first; readers of equal rank are granted together', async () => {
    const rw = new AsyncRWLock();
    const writing = rw.tryAcquireWrite() as Guard;
    const order: string[] = [];
    const reader = (label: string, priority: number) =>
      rw.runRead(
        async () => {
          order.push(`${label}:in`);
          await yieldTurns(2);
          order.push(`${label}:out`);
        },
        { priority },
      );
    const all = [
      reader('r1', 0),
      rw.runWrite(() => order.push('w:in'), { priority: 1 }),
      reader('r2', 0),
      reader('r3', 2),
    ];
    writing.release();
    await Promise.all(all);
    expect(order).to.deep.equal(['r3:in', 'r3:out', 'w:in', 'r1:in', 'r2:in', 'r1:out', 'r2:out']);
  });

  it('AsyncKeyedLock: waiters for one key are served by priority', async () => {
    const locks = new AsyncKeyedLock<string>();
    const holder = locks.tryAcquire('k') as Guard;
    const order: number[] = [];
    const all = [0, 3, 1].map((priority) =>
      locks.run(['k', 'other'], () => order.push(priority), { priority }),
    );
    holder.release();
    await Promise.all(all);
    expect(order).to.deep.equal([3, 1, 0]);
  });

  it('rejects a priority that is not a finite number, naming options.priority, before queueing', async () => {
    const lock = new AsyncLock({ name: 'p' });
    const holder = lock.tryAcquire() as Guard;
    const cases: [unknown, typeof TypeError | typeof RangeError][] = [
      ['1', TypeError],
      [null, TypeError],
      [NaN, RangeError],
      [Infinity, RangeError],
      [-Infinity, RangeError],
    ];
    for (const [priority, errorClass] of cases) {
      const options = { priority } as unknown as PriorityOptions;
      const reason = await rejectionOf(lock.acquire(options));
      expect(reason, String(priority)).to.be.instanceOf(errorClass);
      expect((reason as Error).message).to.match(/AsyncLock\(p\)\.acquire: options\.priority/);
      expect(await rejectionOf(new AsyncSemaphore(0).acquire(options))).to.be.instanceOf(errorClass);
      expect(await rejectionOf(new AsyncRWLock().acquireRead(options))).to.be.instanceOf(errorClass);
      expect(await rejectionOf(new AsyncKeyedLock().acquire('k', options))).to.be.instanceOf(errorClass);
    }
    expect(lock.waiting).to.equal(0);
    holder.release();
  });
});
