import { expect } from 'chai';
import sinon from 'sinon';
import { LockError, SharedCondition, SharedLock, TimeoutError } from '../../lib/threads/index.js';
import { installFakeClock, rejectionOf } from '../suites/helpers.js';

describe('SharedCondition (one agent)', () => {
  let clock: sinon.SinonFakeTimers | undefined;
  afterEach(() => {
    clock?.restore();
    clock = undefined;
  });

  it('notify and notifyAll without the lock are a LockError, and so is wait', async () => {
    const lock = new SharedLock({ name: 'l' });
    const cond = new SharedCondition(lock, { name: 'c' });
    expect(() => cond.notify()).to.throw(LockError, /SharedCondition\(c\)\.notify: the lock SharedLock\(l\)/);
    expect(() => cond.notifyAll()).to.throw(LockError);
    expect(await rejectionOf(cond.wait())).to.be.instanceOf(LockError);
    expect(await rejectionOf(cond.waitFor(() => false))).to.be.instanceOf(LockError);
    expect(cond.waiting).to.equal(0);
  });

  it('wait releases the lock, and returns holding it again after a notify', async () => {
    const lock = new SharedLock();
    const cond = new SharedCondition(lock, { name: 'c' });
    const log: string[] = [];
    const waiter = lock.run(async () => {
      const waiting = cond.wait();
      log.push(`waiting, locked=${lock.locked}`);
      await waiting;
      log.push(`woken, locked=${lock.locked}`);
    });
    await lock.run(() => {
      log.push(`notifier in, waiting=${cond.waiting}`);
      cond.notify();
      log.push(`notified, waiting=${cond.waiting}`);
    });
    await waiter;
    expect(log).to.deep.equal([
      'waiting, locked=true', // handed straight to the notifier, queued meanwhile
      'notifier in, waiting=1',
      'notified, waiting=0',
      'woken, locked=true',
    ]);
    expect(lock.locked).to.equal(false);
  });

  it('notify(n) wakes the n longest waiters, in order; notifyAll the rest', async () => {
    const lock = new SharedLock();
    const cond = new SharedCondition(lock);
    const woken: string[] = [];
    const waiters = ['a', 'b', 'c', 'd'].map((name) =>
      lock.run(async () => {
        await cond.wait();
        woken.push(name);
      }),
    );
    await lock.run(() => expect(cond.waiting).to.equal(4));
    await lock.run(() => cond.notify(2));
    await lock.run(() => expect(cond.waiting).to.equal(2));
    await lock.run(() => cond.notifyAll());
    await Promise.all(waiters);
    expect(woken).to.deep.equal(['a', 'b', 'c', 'd']);
  });

  it('a timed-out wait rejects holding the lock again, and is skipped by the next notify', async () => {
    clock = installFakeClock();
    const lock = new SharedLock();
    const cond = new SharedCondition(lock, { name: 'c' });
    const results: string[] = [];
    const impatient = lock.run(async () => {
      try {
        await cond.wait({ timeout: 50 });
      } catch (error) {
        results.push(`impatient: ${(error as Error).name}, locked=${lock.locked}`);
      }
    });
    const patient = lock.run(async () => {
      await cond.wait();
      results.push('patient: woken');
    });
    await lock.run(() => expect(cond.waiting).to.equal(2));
    await clock.tickAsync(49);
    expect(results).to.deep.equal([]);
    await clock.tickAsync(1);
    await impatient;
    expect(cond.waiting).to.equal(1);
    await lock.run(() => cond.notify(1));
    await patient;
    expect(results).to.deep.equal(['impatient: TimeoutError, locked=true', 'patient: woken']);
  });

  it('waitFor checks the predicate first, then after each notify; its timeout bounds the whole wait', async () => {
    clock = installFakeClock();
    const lock = new SharedLock();
    const cond = new SharedCondition(lock);
    let state = 0;
    expect(await lock.run(() => cond.waitFor(() => 'ready'))).to.equal('ready');
    const waiting = lock.run(() => cond.waitFor(() => state >= 2 && `state ${state}`));
    for (const next of [1, 2]) {
      await lock.run(() => {
        state = next;
        cond.notify();
      });
    }
    expect(await waiting).to.equal('state 2');
    const never = rejectionOf(lock.run(() => cond.waitFor(() => false, { timeout: 10 })));
    await clock.tickAsync(10);
    expect(await never).to.be.instanceOf(TimeoutError);
    expect(lock.locked).to.equal(false);
  });

  it('an abort while waiting rejects with the reason; a notify that came first wins', async () => {
    const lock = new SharedLock();
    const cond = new SharedCondition(lock);
    const controller = new AbortController();
    const aborted = lock.run(() => cond.wait({ signal: controller.signal }));
    controller.abort(new Error('stop'));
    expect(((await rejectionOf(aborted)) as Error).message).to.equal('stop');
    const second = new AbortController();
    const granted = lock.run(() => cond.wait({ signal: second.signal }));
    await lock.run(() => {
      cond.notify();
      second.abort();
    });
    await granted; // resolves: the notify was first
    expect(cond.waiting).to.equal(0);
  });

  it('checks its arguments and refuses handles of another kind', () => {
    const lock = new SharedLock();
    const cond = new SharedCondition(lock);
    expect(() => new SharedCondition({} as SharedLock)).to.throw(TypeError, /lock must be a SharedLock/);
    const guard = lock.tryAcquire()!;
    expect(() => cond.notify(-1)).to.throw(RangeError, /notify: n/);
    expect(() => cond.notify(1.5)).to.throw(RangeError, /notify: n/);
    expect(() => cond.notify('2' as never)).to.throw(TypeError, /notify: n/);
    guard.release();
    expect(() => SharedLock.from(cond.handle)).to.throw(TypeError, /got a SharedCondition handle/);
    expect(() => SharedCondition.from(lock.handle, lock)).to.throw(TypeError, /got a SharedLock handle/);
    expect(() => SharedCondition.from({ kind: 'SharedCondition' } as never, lock)).to.throw(
      TypeError,
      /buffer/,
    );
    const same = SharedCondition.from(cond.handle, lock);
    expect(String(same)).to.equal('SharedCondition[waiting=0]');
  });
});
