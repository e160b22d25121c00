import { expect } from 'chai';
import { AsyncRLock, LockError } from '../lib/index.js';
import { describeLockLike } from './suites/lock-like.js';
import { flush } from './suites/helpers.js';

describeLockLike('AsyncRLock', () => {
  const rlock = new AsyncRLock();
  return { lock: rlock, isHeld: () => rlock.locked };
});

// The explicit `{ owner }` form, which works on every runtime; the async-context cases are in rlock.node.spec.ts.
describe('AsyncRLock', () => {
  describe('explicit owner', () => {
    it('re-enters with { owner: guard } and counts the depth', async () => {
      const rlock = new AsyncRLock({ name: 'r' });
      const outer = await rlock.acquire();
      const inner = await rlock.acquire({ owner: outer });
      expect(rlock.depth).to.equal(2);
      expect(String(rlock)).to.equal('AsyncRLock(r)[locked, depth=2, waiting=0]');
      inner.release();
      expect(rlock.depth).to.equal(1);
      outer.release();
      expect(rlock.locked).to.equal(false);
      expect(String(rlock)).to.equal('AsyncRLock(r)[unlocked, waiting=0]');
    });

    it('makes an outsider wait, FIFO, while any level is held', async () => {
      const rlock = new AsyncRLock();
      const log: string[] = [];
      const outer = await rlock.acquire();
      const waiters = ['a', 'b'].map((name) =>
        rlock.acquire().then((guard) => {
          log.push(`${name}:acquired(depth=${rlock.depth})`);
          guard.release();
        }),
      );
      const inner = await rlock.run(async (guard) => guard, { owner: outer });
      expect(inner.released).to.equal(true);
      expect(rlock.tryAcquire()).to.equal(undefined);
      await flush();
      expect(log).to.deep.equal([]);
      outer.release();
      await Promise.all(waiters);
      expect(log).to.deep.equal(['a:acquired(depth=1)', 'b:acquired(depth=1)']);
    });

    it('rejects an owner that is released or not a hold of this lock', async () => {
      const rlock = new AsyncRLock();
      const stale = await rlock.acquire();
      stale.release();
      const outcome = await rlock.acquire({ owner: stale }).catch((error: unknown) => error);
      expect(outcome).to.be.instanceOf(LockError).with.property('message').that.matches(/owner/);
      const other = await new AsyncRLock().acquire();
      expect(() => rlock.tryAcquire({ owner: other })).to.throw(LockError, /owner/);
      expect(rlock.locked).to.equal(false);
    });

    it('ends an outer level released early only when the levels above it end', async () => {
      const rlock = new AsyncRLock();
      const outer = await rlock.acquire();
      const inner = await rlock.acquire({ owner: outer });
      outer.release();
      expect(outer.released).to.equal(true);
      expect(rlock.locked, 'still held by the inner level').to.equal(true);
      inner.release();
      expect(rlock.locked).to.equal(false);
      expect(rlock.depth).to.equal(0);
    });

    it('throws LockError from release() when nothing is held', () => {
      expect(() => new AsyncRLock({ name: 'r' }).release()).to.throw(
        LockError,
        /AsyncRLock\(r\) is not locked/,
      );
    });
  });
});
