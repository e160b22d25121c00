import { expect } from 'chai';
import type sinon from 'sinon';
import { AsyncRLock, LockError, TimeoutError, type Guard } from '../lib/index.js';
import { withoutAsyncContext } from '../lib/core/context.js';
import { describeLockLike } from './suites/lock-like.js';
import { flush, yieldTurns, installFakeClock, observe, rejectionOf } from './suites/helpers.js';

describeLockLike('AsyncRLock', () => {
  const rlock = new AsyncRLock();
  return { lock: rlock, isHeld: () => rlock.locked };
});

// In a browser the two are the same: it has no async context.
describeLockLike('AsyncRLock without async context', () => {
  const rlock = withoutAsyncContext(() => new AsyncRLock());
  return { lock: rlock, isHeld: () => rlock.locked };
});

// The explicit `{ owner }` form, which works on every runtime (these specs also run in headless Chromium, which has
// no async context); the async-context cases are in rlock.node.spec.ts.
describe('AsyncRLock', () => {
  describe('explicit owner', () => {
    it('run passes its guard to fn; run and acquire with { owner: guard } re-enter it, n levels needing n releases', async () => {
      const rlock = new AsyncRLock({ name: 'r' });
      const depths: number[] = [];
      const result = await rlock.run(async (guard) => {
        depths.push(rlock.depth);
        expect(guard.released).to.equal(false);
        const inner = await rlock.run(
          async (nested) => {
            depths.push(rlock.depth);
            const level3 = await rlock.acquire({ owner: nested });
            const level4 = await rlock.acquire({ owner: level3 });
            depths.push(rlock.depth);
            level4.release();
            depths.push(rlock.depth);
            level3.release();
            depths.push(rlock.depth);
            return 'inner';
          },
          { owner: guard },
        );
        depths.push(rlock.depth);
        return inner;
      });
      expect(result).to.equal('inner');
      expect(depths).to.deep.equal([1, 2, 4, 3, 2, 1]);
      expect(rlock.locked).to.equal(false);
    });

    it('keeps concurrent children that re-enter with { owner } apart, without deadlocking against the parent', async () => {
      const rlock = new AsyncRLock();
      const log: string[] = [];
      let inside = 0;
      const child = (name: string, owner: Guard) =>
        rlock.run(
          async (guard) => {
            inside++;
            log.push(`${name}:enter(depth=${rlock.depth}, inside=${inside})`);
            await yieldTurns(3);
            // A grandchild re-enters the child's own level.
            await rlock.run(() => log.push(`${name}.grandchild(depth=${rlock.depth})`), { owner: guard });
            inside--;
            log.push(`${name}:exit`);
          },
          { owner },
        );
      await rlock.run(async (guard) => {
        await Promise.all([child('c1', guard), child('c2', guard)]);
        log.push(`parent(depth=${rlock.depth})`);
      });
      expect(log).to.deep.equal([
        'c1:enter(depth=2, inside=1)',
        'c1.grandchild(depth=3)',
        'c1:exit',
        'c2:enter(depth=2, inside=1)',
        'c2.grandchild(depth=3)',
        'c2:exit',
        'parent(depth=1)',
      ]);
      expect(rlock.locked).to.equal(false);
    });

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

    it('tryAcquire refuses options that are not an object (it takes no permits)', () => {
      const rlock = new AsyncRLock({ name: 'r' });
      for (const bad of [-1, 'x', 2, null]) {
        expect(() => rlock.tryAcquire(bad as never)).to.throw(
          TypeError,
          'AsyncRLock(r).tryAcquire: options must be an object',
        );
      }
      expect(rlock.locked).to.equal(false);
      expect(rlock.tryAcquire({})).not.to.equal(undefined);
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

  // What a browser sees: no async context (simulated here, so that the cases also run in Node).
  describe('without async context', () => {
    let clock: sinon.SinonFakeTimers | undefined;
    afterEach(() => {
      clock?.restore();
      clock = undefined;
    });

    it('cannot tell a nested run without owner from another task: it waits for the hold, and owned is false', async () => {
      const rlock = withoutAsyncContext(() => new AsyncRLock({ name: 'r' }));
      let nested: ReturnType<typeof observe<string>> | undefined;
      let ownedInside: boolean | undefined;
      const outer = rlock.run(async () => {
        ownedInside = rlock.owned;
        nested = observe(rlock.run(() => 'nested'));
        await flush();
        expect(nested.state, 'no async context: the nested run waits for the hold').to.equal('pending');
        expect(rlock.waiting).to.equal(1);
      });
      await outer;
      expect(ownedInside).to.equal(false);
      await flush();
      expect(nested?.state).to.equal('fulfilled');
      expect(rlock.locked).to.equal(false);
    });

    it('says in the TimeoutError that a nested run needs { owner: guard } when its timeout expires', async () => {
      clock = installFakeClock();
      const rlock = withoutAsyncContext(() => new AsyncRLock({ name: 'r' }));
      await rlock.run(async (guard) => {
        const nested = rlock.run(() => 'never', { timeout: 50 });
        const bare = rlock.acquire({ timeout: 50 });
        clock?.tick(50);
        for (const [method, call] of [
          ['run', nested],
          ['acquire', bare],
        ] as const) {
          const error = await rejectionOf(call);
          expect(error).to.be.instanceOf(TimeoutError);
          const message = (error as Error).message;
          expect(message).to.match(/^AsyncRLock\(r\) timed out after 50 ms while it was held; /);
          expect(message).to.include(
            `a ${method} nested in a hold of AsyncRLock(r) cannot re-enter implicitly`,
          );
          expect(message).to.include('pass { owner: guard }');
          expect((error as Error).cause).to.be.instanceOf(TimeoutError);
        }
        expect(rlock.depth, 'the timed-out calls hold nothing').to.equal(1);
        // The explicit form the message points to works.
        expect(await rlock.run(() => rlock.depth, { owner: guard, timeout: 50 })).to.equal(2);
      });
      expect(rlock.locked).to.equal(false);
      expect(rlock.waiting).to.equal(0);
    });

    it('leaves an abort reason as it is', async () => {
      const rlock = withoutAsyncContext(() => new AsyncRLock());
      const controller = new AbortController();
      const reason = new Error('stop');
      await rlock.run(async () => {
        const nested = rlock.run(() => 'never', { signal: controller.signal, timeout: 1000 });
        controller.abort(reason);
        expect(await rejectionOf(nested)).to.equal(reason);
      });
    });

    it('lets any caller release the innermost level, as AsyncLock does', async () => {
      const rlock = withoutAsyncContext(() => new AsyncRLock());
      const outer = await rlock.acquire();
      const inner = await rlock.acquire({ owner: outer });
      rlock.release();
      expect(inner.released).to.equal(true);
      rlock.release();
      expect(outer.released).to.equal(true);
      expect(() => rlock.release()).to.throw(LockError, /not locked/);
    });
  });
});
