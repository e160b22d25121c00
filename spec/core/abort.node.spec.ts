/**
 * One abort listener per signal, shared by every waiter on it: 1e5 waiters on one signal register one listener,
 * Node prints no MaxListenersExceededWarning, and the listener is gone once the last waiter leaves.
 */
import { getEventListeners } from 'node:events';
import { expect } from 'chai';
import { AsyncCondition, AsyncEvent, AsyncLock, AsyncSemaphore, sleep } from '../../lib/index.js';

const many = 100_000;

describe('core/abort: one listener per signal', function () {
  this.timeout(60_000);
  const warnings: Error[] = [];
  const onWarning = (warning: Error): void => void warnings.push(warning);
  beforeEach(() => {
    warnings.length = 0;
    process.on('warning', onWarning);
  });
  afterEach(() => {
    process.off('warning', onWarning);
  });

  /** Lets Node emit the warnings it queued (it emits them on a later tick). */
  const settleWarnings = () => new Promise<void>((resolve) => setImmediate(resolve));

  it('1e5 waiters on one signal: one listener, no warning, rejected in FIFO order on abort', async () => {
    const lock = new AsyncLock();
    const guard = lock.tryAcquire();
    const controller = new AbortController();
    const order: number[] = [];
    const waits = Array.from({ length: many }, (_, index) =>
      lock.acquire({ signal: controller.signal }).then(
        () => order.push(-1),
        () => order.push(index),
      ),
    );
    expect(getEventListeners(controller.signal, 'abort')).to.have.length(1);
    controller.abort(new Error('stop'));
    expect(getEventListeners(controller.signal, 'abort')).to.have.length(0);
    expect(lock.waiting).to.equal(0);
    await Promise.all(waits);
    expect(order).to.deep.equal(Array.from({ length: many }, (_, index) => index));
    await settleWarnings();
    expect(warnings.map(String)).to.deep.equal([]);
    guard?.release();
  });

  it('waiters that leave one by one (granted, timed out) drop the listener with the last of them', async () => {
    const semaphore = new AsyncSemaphore(0);
    const event = new AsyncEvent();
    const controller = new AbortController();
    const signal = controller.signal;
    const grants = Array.from({ length: 50 }, () => semaphore.acquire({ signal }));
    const sleeps = Array.from({ length: 50 }, () => sleep(1, { signal }));
    const waits = Array.from({ length: 50 }, () => event.wait({ signal }));
    const cond = new AsyncCondition();
    const conditionWait = cond.run(() =>
      cond.waitFor(() => false, { signal, timeout: 5 }).catch(() => 'gave up'),
    );
    expect(getEventListeners(signal, 'abort')).to.have.length(1);
    semaphore.release(50);
    (await Promise.all(grants)).forEach((held) => held.release());
    await Promise.all(sleeps);
    expect(getEventListeners(signal, 'abort')).to.have.length(1);
    event.set();
    await Promise.all(waits);
    expect(await conditionWait).to.equal('gave up');
    expect(getEventListeners(signal, 'abort')).to.have.length(0);
    await settleWarnings();
    expect(warnings.map(String)).to.deep.equal([]);
  });
});
