import { expect } from 'chai';
import sinon from 'sinon';
import { SharedLock, SharedSemaphore, TimeoutError } from '../../lib/threads/index.js';
import { flush, installFakeClock, rejectionOf } from '../suites/helpers.js';

describe('SharedSemaphore (one agent)', () => {
  let clock: sinon.SinonFakeTimers | undefined;
  afterEach(() => {
    clock?.restore();
    clock = undefined;
  });

  it('hands out at most value permits; guards give theirs back once', async () => {
    const sem = new SharedSemaphore(3, { name: 's' });
    const two = await sem.acquire({ permits: 2 });
    const one = sem.tryAcquire()!;
    expect(sem.value).to.equal(0);
    expect(sem.tryAcquire()).to.equal(undefined);
    expect(String(sem)).to.equal('SharedSemaphore(s)[value=0, waiting=0]');
    two.release();
    two.release();
    expect(sem.value).to.equal(2);
    one.release();
    expect(sem.value).to.equal(3);
    expect(await sem.run(() => sem.value, { permits: 3 })).to.equal(0);
  });

  it('head-of-line FIFO: a large request at the head is not overtaken by small ones behind it', async () => {
    const sem = new SharedSemaphore(2);
    const order: string[] = [];
    const held = await sem.acquire({ permits: 2 });
    const big = sem.acquire({ permits: 2 }).then((guard) => (order.push('big'), guard));
    await flush();
    const small = sem.acquire({ permits: 1 }).then((guard) => (order.push('small'), guard));
    await flush();
    expect(sem.waiting).to.equal(2);
    held.release(); // 2 free: the head (big) takes both; small must wait although 1 would do
    (await big).release();
    (await small).release();
    expect(order).to.deep.equal(['big', 'small']);
    expect(sem.value).to.equal(2);
    expect(sem.waiting).to.equal(0);
  });

  it('a timed-out or aborted acquire leaves the queue: the one behind it moves up', async () => {
    clock = installFakeClock();
    const sem = new SharedSemaphore(1);
    const held = sem.tryAcquire()!;
    const timedOut = rejectionOf(sem.acquire({ timeout: 50 }));
    const controller = new AbortController();
    const aborted = rejectionOf(sem.acquire({ signal: controller.signal }));
    const last = sem.acquire();
    await flush();
    expect(sem.waiting).to.equal(3);
    controller.abort(new Error('stop'));
    expect(((await aborted) as Error).message).to.equal('stop');
    await clock.tickAsync(50);
    expect(await timedOut).to.be.instanceOf(TimeoutError);
    expect(sem.waiting).to.equal(1);
    held.release();
    (await last).release();
    expect(sem.value).to.equal(1);
    expect(await rejectionOf(sem.acquire({ timeout: 0, permits: 2 }))).to.be.instanceOf(TimeoutError);
  });

  it('checks its arguments and refuses handles of another kind', async () => {
    expect(() => new SharedSemaphore(-1)).to.throw(RangeError, /value/);
    expect(() => new SharedSemaphore(1.5)).to.throw(RangeError, /value/);
    expect(() => new SharedSemaphore('2' as never)).to.throw(TypeError, /value/);
    const sem = new SharedSemaphore(1);
    expect(() => sem.tryAcquire(0)).to.throw(RangeError, /permits/);
    expect(await rejectionOf(sem.acquire({ permits: 0 }))).to.be.instanceOf(RangeError);
    expect(() => SharedSemaphore.from(new SharedLock().handle)).to.throw(
      TypeError,
      /got a SharedLock handle/,
    );
    expect(() => SharedLock.from(sem.handle)).to.throw(TypeError, /got a SharedSemaphore handle/);
    const same = SharedSemaphore.from(structuredClone(sem.handle));
    const guard = same.tryAcquire()!;
    expect(sem.value).to.equal(0);
    guard.release();
    expect(sem.value).to.equal(1);
  });
});
