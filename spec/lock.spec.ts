import { expect } from 'chai';
import sinon from 'sinon';
import { AsyncLock, LockError, TimeoutError, type Guard } from '../lib/index.js';
import { describeLockLike } from './suites/lock-like.js';
import { flush, installFakeClock, observe, rejectionOf } from './suites/helpers.js';

describeLockLike('AsyncLock', () => {
  const lock = new AsyncLock();
  return { lock, isHeld: () => lock.locked };
});

describe('AsyncLock', () => {
  describe('introspection', () => {
    it('has name, locked, waiting and toString', async () => {
      const lock = new AsyncLock({ name: 'db' });
      expect(lock.name).to.equal('db');
      expect(lock.locked).to.equal(false);
      expect(lock.waiting).to.equal(0);
      expect(String(lock)).to.equal('AsyncLock(db)[unlocked, waiting=0]');
      const guard = lock.tryAcquire() as Guard;
      const second = lock.acquire();
      const third = lock.acquire();
      expect(lock.locked).to.equal(true);
      expect(lock.waiting).to.equal(2);
      expect(String(lock)).to.equal('AsyncLock(db)[locked, waiting=2]');
      guard.release();
      (await second).release();
      (await third).release();
      expect(String(lock)).to.equal('AsyncLock(db)[unlocked, waiting=0]');
    });

    it('is unnamed by default', () => {
      const lock = new AsyncLock();
      expect(lock.name).to.equal(undefined);
      expect(lock.toString()).to.equal('AsyncLock[unlocked, waiting=0]');
    });

    it('rejects a name that is not a string, and options that are not an object', () => {
      expect(() => new AsyncLock({ name: 5 as unknown as string })).to.throw(TypeError, /options\.name/);
      expect(() => new AsyncLock('db' as never)).to.throw(TypeError, /options/);
    });
  });

  describe('errors name the lock', () => {
    it('release() of an unlocked lock throws a LockError naming it', () => {
      const lock = new AsyncLock({ name: 'db' });
      let caught: unknown;
      try {
        lock.release();
      } catch (error) {
        caught = error;
      }
      expect(caught).to.be.instanceOf(LockError);
      expect((caught as Error).message).to.contain('AsyncLock(db)');
    });

    it('a timeout rejects with a TimeoutError naming the lock and the delay', async () => {
      const clock = installFakeClock();
      try {
        const lock = new AsyncLock({ name: 'db' });
        const holder = lock.tryAcquire() as Guard;
        const waiter = observe(lock.acquire({ timeout: 25 }));
        await clock.tickAsync(25);
        expect(waiter.reason).to.be.instanceOf(TimeoutError);
        expect((waiter.reason as Error).message)
          .to.contain('AsyncLock(db)')
          .and.to.contain('25');
        holder.release();
      } finally {
        clock.restore();
      }
    });

    it('bad options name the method', async () => {
      const lock = new AsyncLock({ name: 'db' });
      const reason = await rejectionOf(lock.acquire({ timeout: -1 }));
      expect((reason as Error).message).to.contain('AsyncLock(db).acquire');
    });
  });

  describe("under sinon's default fake timers (queueMicrotask, nextTick and setImmediate faked too)", () => {
    it('hands off, times out in fake time and leaves no timer behind', async () => {
      const clock = sinon.useFakeTimers();
      try {
        const lock = new AsyncLock();
        const log: string[] = [];
        const holder = await lock.acquire();
        const queued = lock.acquire().then((guard) => {
          log.push('queued:acquired');
          return guard;
        });
        const timed = lock.acquire({ timeout: 50 }).catch((error: Error) => log.push(`timed:${error.name}`));
        await clock.tickAsync(49);
        expect(log).to.deep.equal([]);
        await clock.tickAsync(1);
        expect(log).to.deep.equal(['timed:TimeoutError']);
        holder.release();
        (await queued).release();
        await timed;
        expect(log).to.deep.equal(['timed:TimeoutError', 'queued:acquired']);
        expect(clock.countTimers()).to.equal(0);
        expect(lock.locked).to.equal(false);
      } finally {
        clock.restore();
      }
    });
  });

  describe('not reentrant', () => {
    it('a holder that acquires again waits for its own release', async () => {
      const lock = new AsyncLock();
      const first = await lock.acquire();
      const second = observe(lock.acquire());
      await flush();
      expect(second.state).to.equal('pending');
      first.release();
      await flush();
      expect(second.state).to.equal('fulfilled');
      (second.value as Guard).release();
      expect(lock.locked).to.equal(false);
    });
  });

  describe('lock.release()', () => {
    it('releases whoever holds the lock and hands it to the head waiter', async () => {
      const lock = new AsyncLock();
      const holder = await lock.acquire();
      const next = observe(lock.acquire());
      lock.release();
      expect(holder.released).to.equal(true);
      expect(lock.locked).to.equal(true);
      await flush();
      expect(next.state).to.equal('fulfilled');
      lock.release();
      expect((next.value as Guard).released).to.equal(true);
      expect(lock.locked).to.equal(false);
    });
  });
});
