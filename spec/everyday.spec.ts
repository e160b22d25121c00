/**
 * The everyday additions to the existing primitives (issue 14): cancelWaiters, waitUnlocked, wrap and
 * CancelledError, on AsyncLock, AsyncRLock and the semaphores.
 */
import { expect } from 'chai';
import * as api from '../lib/index.js';
import {
  AsyncBoundedSemaphore,
  AsyncCondition,
  AsyncLock,
  AsyncRLock,
  AsyncSemaphore,
  CancelledError,
  TimeoutError,
  type Guard,
} from '../lib/index.js';
import { flush, yieldTurns, installFakeClock, observe, rejectionOf } from './suites/helpers.js';

describe('CancelledError', () => {
  it('is exported, an Error named CancelledError, with a default message and a cause', () => {
    expect((api as Record<string, unknown>).CancelledError).to.equal(CancelledError);
    const plain = new CancelledError();
    expect(plain).to.be.instanceOf(Error);
    expect(plain.name).to.equal('CancelledError');
    expect(plain.message).to.equal('the wait was cancelled');
    expect(String(new CancelledError('gone'))).to.equal('CancelledError: gone');
    const cause = new Error('why');
    expect(new CancelledError('x', { cause }).cause).to.equal(cause);
  });
});

describe('cancelWaiters', () => {
  const subjects: [
    string,
    () => {
      acquire(): Promise<unknown>;
      cancelWaiters(reason?: unknown): number;
      waiting: number;
      hold(): Promise<Guard>;
    },
  ][] = [
    [
      'AsyncLock',
      () => {
        const l = new AsyncLock({ name: 'l' });
        return Object.assign(l, { hold: () => l.acquire() });
      },
    ],
    [
      'AsyncRLock',
      () => {
        const l = new AsyncRLock({ name: 'l' });
        return Object.assign(l, { hold: () => l.acquire() });
      },
    ],
    [
      'AsyncSemaphore',
      () => {
        const s = new AsyncSemaphore(1, { name: 'l' });
        return Object.assign(s, { hold: () => s.acquire() });
      },
    ],
    [
      'AsyncBoundedSemaphore',
      () => {
        const s = new AsyncBoundedSemaphore(1, { name: 'l' });
        return Object.assign(s, { hold: () => s.acquire() });
      },
    ],
  ];
  for (const [name, make] of subjects) {
    describe(name, () => {
      it('rejects every queued waiter with its own CancelledError naming the primitive, and returns the count', async () => {
        const subject = make();
        const holder = await subject.hold();
        const waiters = [observe(subject.acquire()), observe(subject.acquire())];
        expect(subject.cancelWaiters()).to.equal(2);
        expect(subject.waiting).to.equal(0);
        await flush();
        expect(waiters.map((waiter) => waiter.state)).to.deep.equal(['rejected', 'rejected']);
        const [first, second] = waiters.map((waiter) => waiter.reason as Error);
        expect(first).to.be.instanceOf(CancelledError);
        expect(second).to.be.instanceOf(CancelledError);
        expect(first).to.not.equal(second);
        expect(first?.message).to.match(new RegExp(`^${name}\\(l\\)`));
        expect(holder.released).to.equal(false);
        // Later calls queue as usual, and the holder hands over normally.
        const later = observe(subject.acquire());
        holder.release();
        await flush();
        expect(later.state).to.equal('fulfilled');
        expect(subject.cancelWaiters()).to.equal(0);
      });

      it('with a reason, every waiter rejects with that very value (even undefined)', async () => {
        const subject = make();
        await subject.hold();
        const waiters = [observe(subject.acquire()), observe(subject.acquire())];
        const reason = { code: 'SHUTDOWN' };
        expect(subject.cancelWaiters(reason)).to.equal(2);
        await flush();
        expect(waiters.map((waiter) => waiter.reason)).to.deep.equal([reason, reason]);
        expect(waiters[1]?.reason).to.equal(reason);
        const late = observe(subject.acquire());
        expect(subject.cancelWaiters(undefined)).to.equal(1);
        await flush();
        expect([late.state, late.reason]).to.deep.equal(['rejected', undefined]);
      });
    });
  }

  it('leaves a notified condition waiter re-acquiring the lock alone: its wait still resolves holding the lock', async () => {
    const lock = new AsyncLock();
    const condition = new AsyncCondition(lock);
    const events: string[] = [];
    const waiting = lock.run(async () => {
      await condition.wait();
      events.push(`woke holding=${lock.locked}`);
    });
    await flush();
    const guard = await lock.acquire();
    condition.notify();
    const other = observe(lock.acquire());
    expect(lock.cancelWaiters()).to.equal(1);
    guard.release();
    await waiting;
    await flush();
    expect(events).to.deep.equal(['woke holding=true']);
    expect(other.reason).to.be.instanceOf(CancelledError);
    expect(lock.locked).to.equal(false);
  });

  it('AsyncRLock: cancels the outsiders waiting on a nested hold, and leaves every level of the hold', async () => {
    const rlock = new AsyncRLock();
    const outer = await rlock.acquire();
    const inner = await rlock.acquire({ owner: outer });
    const outsiders = [observe(rlock.acquire()), observe(rlock.run(() => 1))];
    await flush();
    expect(rlock.waiting).to.equal(2);
    expect(rlock.cancelWaiters()).to.equal(2);
    await flush();
    expect(outsiders.map((waiter) => waiter.state)).to.deep.equal(['rejected', 'rejected']);
    expect([rlock.depth, rlock.waiting]).to.deep.equal([2, 0]);
    inner.release();
    outer.release();
    expect(rlock.locked).to.equal(false);
  });

  it('queued run(fn) calls are cancelled too, and their fn never runs (lock and semaphore)', async () => {
    const lock = new AsyncLock();
    const semaphore = new AsyncSemaphore(1);
    const holders = [lock.tryAcquire() as Guard, semaphore.tryAcquire() as Guard];
    let ran = 0;
    const runs = [
      observe(lock.run(() => ran++)),
      observe(lock.run(() => ran++, { priority: 1 })),
      observe(semaphore.run(() => ran++)),
      observe(semaphore.run(() => ran++, { priority: 1 })),
    ];
    expect(lock.cancelWaiters() + semaphore.cancelWaiters()).to.equal(4);
    for (const holder of holders) holder.release();
    await flush();
    expect(runs.map((run) => run.state)).to.deep.equal(['rejected', 'rejected', 'rejected', 'rejected']);
    for (const run of runs) expect(run.reason).to.be.instanceOf(CancelledError);
    expect([ran, lock.locked, semaphore.value]).to.deep.equal([0, false, 1]);
  });

  it('a weighted semaphore: rejecting the blocking head does not let the waiters behind it slip through', async () => {
    const semaphore = new AsyncSemaphore(2);
    const one = semaphore.tryAcquire() as Guard;
    const big = observe(semaphore.acquire({ permits: 2 }));
    const small = observe(semaphore.acquire());
    expect(semaphore.cancelWaiters()).to.equal(2);
    await flush();
    expect([big.state, small.state, semaphore.value]).to.deep.equal(['rejected', 'rejected', 1]);
    one.release();
    expect(semaphore.value).to.equal(2);
  });
});

describe('AsyncLock.waitUnlocked', () => {
  it('resolves at once when the lock is free and nobody waits, taking nothing', async () => {
    const lock = new AsyncLock();
    await lock.waitUnlocked();
    expect(lock.locked).to.equal(false);
  });

  it('queues like an acquirer: resolves in its turn, with the lock free, and the waiter behind it proceeds in the same step', async () => {
    const lock = new AsyncLock();
    const events: string[] = [];
    const holder = (await lock.acquire()) as Guard;
    const first = lock.acquire().then((guard) => {
      events.push('first:acquired');
      return guard;
    });
    const waited = lock.waitUnlocked().then(() => events.push(`waitUnlocked:locked=${lock.locked}`));
    const last = lock.acquire().then((guard) => {
      events.push('last:acquired');
      return guard;
    });
    expect(lock.waiting).to.equal(3);
    holder.release();
    (await first).release();
    // The waitUnlocked turn passed in the same step: `last` holds the lock already.
    expect([lock.locked, lock.waiting]).to.deep.equal([true, 0]);
    await waited;
    (await last).release();
    expect(events).to.deep.equal(['first:acquired', 'waitUnlocked:locked=true', 'last:acquired']);
  });

  it('resolves with the lock free when nobody queues behind it', async () => {
    const lock = new AsyncLock();
    const holder = lock.tryAcquire() as Guard;
    const waited = observe(lock.waitUnlocked());
    holder.release();
    expect([lock.locked, lock.waiting]).to.deep.equal([false, 0]);
    await flush();
    expect(waited.state).to.equal('fulfilled');
    expect(waited.value).to.equal(undefined);
  });

  it('takes the wait options: a timeout rejects with TimeoutError and removes it at once; bad options are named', async () => {
    const clock = installFakeClock();
    try {
      const lock = new AsyncLock({ name: 'db' });
      const holder = lock.tryAcquire() as Guard;
      const waited = observe(lock.waitUnlocked({ timeout: 10 }));
      await clock.tickAsync(10);
      expect(waited.reason).to.be.instanceOf(TimeoutError);
      expect(lock.waiting).to.equal(0);
      const bad = await rejectionOf(lock.waitUnlocked({ timeout: NaN }));
      expect((bad as Error).message).to.match(/AsyncLock\(db\)\.waitUnlocked: options\.timeout/);
      const controller = new AbortController();
      controller.abort(new Error('stop'));
      expect(await rejectionOf(lock.waitUnlocked({ signal: controller.signal }))).to.have.property(
        'message',
        'stop',
      );
      holder.release();
      expect(clock.countTimers()).to.equal(0);
    } finally {
      clock.restore();
    }
  });

  it('is rejected by cancelWaiters like any waiter', async () => {
    const lock = new AsyncLock();
    const holder = lock.tryAcquire() as Guard;
    const waited = observe(lock.waitUnlocked());
    expect(lock.cancelWaiters()).to.equal(1);
    await flush();
    expect(waited.reason).to.be.instanceOf(CancelledError);
    holder.release();
  });
});

describe('wrap', () => {
  it('AsyncLock.wrap runs each call of the wrapper holding the lock, with its arguments, in call order', async () => {
    const lock = new AsyncLock();
    const events: string[] = [];
    const save = lock.wrap(async (id: number, tag: string) => {
      events.push(`${id}${tag}:in locked=${lock.locked}`);
      await yieldTurns(2);
      events.push(`${id}${tag}:out`);
      return id * 2;
    });
    expect(await Promise.all([save(1, 'a'), save(2, 'b')])).to.deep.equal([2, 4]);
    expect(events).to.deep.equal(['1a:in locked=true', '1a:out', '2b:in locked=true', '2b:out']);
    expect(lock.locked).to.equal(false);
  });

  it('AsyncSemaphore.wrap limits concurrency and passes its options (permits, timeout) to every call', async () => {
    const semaphore = new AsyncSemaphore(4);
    let inside = 0;
    let most = 0;
    const work = semaphore.wrap(
      async () => {
        inside++;
        most = Math.max(most, inside);
        await yieldTurns(2);
        inside--;
      },
      { permits: 2 },
    );
    await Promise.all([work(), work(), work(), work(), work()]);
    expect(most).to.equal(2);
    const held = semaphore.tryAcquire(4) as Guard;
    const quick = semaphore.wrap(() => 1, { timeout: 0 });
    expect(await rejectionOf(quick())).to.be.instanceOf(TimeoutError);
    held.release();
    expect(await quick()).to.equal(1);
  });

  it('the wrapper passes on what fn throws and releases', async () => {
    const lock = new AsyncLock();
    const fail = lock.wrap(() => {
      throw new Error('nope');
    });
    expect(await rejectionOf(fail())).to.have.property('message', 'nope');
    expect(lock.locked).to.equal(false);
  });

  it('a non-function fn is a TypeError at once, naming fn', () => {
    expect(() => new AsyncLock({ name: 'x' }).wrap(5 as unknown as () => void)).to.throw(
      TypeError,
      /AsyncLock\(x\)\.wrap: fn/,
    );
    expect(() => new AsyncSemaphore(1).wrap('f' as unknown as () => void)).to.throw(TypeError, /wrap: fn/);
  });
});
