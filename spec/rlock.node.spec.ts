import { AsyncLocalStorage } from 'node:async_hooks';
import { expect } from 'chai';
import { AsyncCondition, AsyncRLock, LockError } from '../lib/index.js';
import { flush } from './suites/helpers.js';

// Captured at load, outside every scope: runs a function as "another task" that owns nothing.
const outsideContext = AsyncLocalStorage.snapshot();

function runOutside<T>(fn: () => T): T {
  return outsideContext(fn);
}

describe('AsyncRLock in an async context', () => {
  it('re-enters from every async call made inside run, across awaits', async () => {
    const rlock = new AsyncRLock();
    const depths: number[] = [];
    async function inner(): Promise<void> {
      await Promise.resolve();
      await rlock.run(async () => {
        depths.push(rlock.depth);
        await Promise.resolve();
      });
    }
    await rlock.run(async () => {
      expect(rlock.owned).to.equal(true);
      await inner();
      depths.push(rlock.depth);
    });
    expect(depths).to.deep.equal([2, 1]);
    expect(rlock.owned).to.equal(false);
    expect(rlock.locked).to.equal(false);
  });

  it('keeps concurrent children mutually exclusive, without deadlocking against the parent', async () => {
    const rlock = new AsyncRLock();
    const log: string[] = [];
    async function child(name: string): Promise<void> {
      await rlock.run(async () => {
        log.push(`${name}:enter(depth=${rlock.depth})`);
        await flush(3);
        log.push(`${name}:exit`);
      });
    }
    await rlock.run(async () => {
      await Promise.all([child('c1'), child('c2')]);
      log.push(`parent:depth=${rlock.depth}`);
    });
    expect(log).to.deep.equal([
      'c1:enter(depth=2)',
      'c1:exit',
      'c2:enter(depth=2)',
      'c2:exit',
      'parent:depth=1',
    ]);
  });

  it('does not let ownership leak to the caller or to siblings', async () => {
    const rlock = new AsyncRLock();
    const log: string[] = [];
    const sibling = (async () => {
      await flush(1);
      log.push(`sibling:owned=${rlock.owned}`);
      await rlock.run(() => log.push('sibling:acquired'));
    })();
    await rlock.run(async () => {
      await flush(5);
      log.push('parent:done');
    });
    log.push(`caller:owned=${rlock.owned}`);
    await sibling;
    // The release hands the lock straight to the waiting sibling, which runs before the caller resumes.
    expect(log).to.deep.equal([
      'sibling:owned=false',
      'parent:done',
      'sibling:acquired',
      'caller:owned=false',
    ]);
  });

  it('treats a bare acquire inside a scope as a nested level released from that scope', async () => {
    const rlock = new AsyncRLock();
    await rlock.run(async () => {
      const guard = await rlock.acquire();
      expect(rlock.depth).to.equal(2);
      expect(rlock.owned).to.equal(true);
      rlock.release();
      expect(guard.released).to.equal(true);
      expect(rlock.depth).to.equal(1);
    });
  });

  it('throws LockError when a context that does not own the innermost level releases', async () => {
    const rlock = new AsyncRLock();
    let caught: unknown;
    await rlock.run(async () => {
      await (async () => {
        try {
          // Outside the scope's async tree: a fresh promise chain started from a callback is still inside it,
          // so ask from a detached context instead.
          await runOutside(() => rlock.release());
        } catch (error) {
          caught = error;
        }
      })();
    });
    expect(caught)
      .to.be.instanceOf(LockError)
      .with.property('message')
      .that.matches(/does not own/);
  });

  it('lets a bare acquire outside any scope hold for its guard only', async () => {
    const rlock = new AsyncRLock();
    const guard = await rlock.acquire();
    expect(rlock.owned).to.equal(false);
    expect(rlock.tryAcquire()).to.equal(undefined);
    rlock.release();
    expect(guard.released).to.equal(true);
    expect(rlock.locked).to.equal(false);
  });

  it('hands re-entry requests the lock before outsiders queued earlier', async () => {
    const rlock = new AsyncRLock();
    const log: string[] = [];
    let outsider: Promise<unknown> | undefined;
    await rlock.run(async () => {
      outsider = runOutside(() => rlock.run(() => log.push('outsider')));
      await Promise.all(
        ['c1', 'c2'].map((name) =>
          rlock.run(async () => {
            log.push(name);
            await flush(2);
          }),
        ),
      );
    });
    await outsider;
    expect(log).to.deep.equal(['c1', 'c2', 'outsider']);
  });

  it('keeps the lock held until a child that outlives its parent scope releases', async () => {
    const rlock = new AsyncRLock();
    const log: string[] = [];
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    let child: Promise<unknown> | undefined;
    await rlock.run(async () => {
      child = rlock.run(async () => {
        await gate;
        log.push('child:done');
      });
      await flush(1);
    });
    log.push(`after-run:locked=${rlock.locked}`);
    const outsider = rlock.run(() => log.push('outsider'));
    await flush();
    release();
    await Promise.all([child, outsider]);
    expect(log).to.deep.equal(['after-run:locked=true', 'child:done', 'outsider']);
    expect(rlock.locked).to.equal(false);
  });

  it('removes a cancelled re-entry request at once', async () => {
    const rlock = new AsyncRLock();
    const controller = new AbortController();
    const reason = new Error('stop');
    await rlock.run(async () => {
      let blocker!: () => void;
      const holding = rlock.run(() => new Promise<void>((resolve) => (blocker = resolve)));
      await flush(2);
      const request = rlock.acquire({ signal: controller.signal }).catch((error: unknown) => error);
      expect(rlock.waiting).to.equal(1);
      controller.abort(reason);
      expect(await request).to.equal(reason);
      expect(rlock.waiting).to.equal(0);
      blocker();
      await holding;
    });
    expect(rlock.locked).to.equal(false);
  });

  describe('with explicit owners', () => {
    it('lets the task holding levels taken with { owner } release them and use a condition', async () => {
      const rlock = new AsyncRLock();
      const cond = new AsyncCondition(rlock);
      const outer = await rlock.acquire();
      const inner = await rlock.acquire({ owner: outer });
      expect(() => cond.notify()).to.not.throw();
      rlock.release();
      expect(inner.released).to.equal(true);
      expect(rlock.depth).to.equal(1);
      outer.release();
      expect(rlock.locked).to.equal(false);
    });
  });

  describe('as the lock of an AsyncCondition', () => {
    it('releases every level while waiting and restores the same depth', async () => {
      const rlock = new AsyncRLock();
      const cond = new AsyncCondition(rlock);
      const log: string[] = [];
      const consumer = rlock.run(() =>
        rlock.run(async () => {
          log.push(`waiting(depth=${rlock.depth})`);
          await cond.wait();
          log.push(`woken(depth=${rlock.depth}, owned=${rlock.owned})`);
        }),
      );
      await flush();
      expect(rlock.locked).to.equal(false);
      await runOutside(() =>
        rlock.run(() => {
          log.push(`notifier(depth=${rlock.depth})`);
          cond.notify();
        }),
      );
      await consumer;
      expect(log).to.deep.equal(['waiting(depth=2)', 'notifier(depth=1)', 'woken(depth=2, owned=true)']);
      expect(rlock.locked).to.equal(false);
    });

    it('lets a sibling notify a child that waits inside the same parent scope', async () => {
      const rlock = new AsyncRLock();
      const cond = new AsyncCondition(rlock);
      const items: number[] = [];
      const log: string[] = [];
      await rlock.run(async () => {
        await Promise.all([
          rlock.run(async () => {
            const item = await cond.waitFor(() => items.shift());
            log.push(`consumed ${item} at depth ${rlock.depth}`);
          }),
          rlock.run(() => {
            items.push(7);
            cond.notify();
            log.push('produced 7');
          }),
        ]);
      });
      expect(log).to.deep.equal(['produced 7', 'consumed 7 at depth 2']);
    });

    it('serves a child that asks while its scope is set aside, after the wait restores it', async () => {
      const rlock = new AsyncRLock();
      const cond = new AsyncCondition(rlock);
      const log: string[] = [];
      let outsiderHolds!: () => void;
      const outsiderGate = new Promise<void>((resolve) => (outsiderHolds = resolve));
      let release!: () => void;
      const outsiderReleases = new Promise<void>((resolve) => (release = resolve));
      const parent = rlock.run(async () => {
        const waiter = rlock.run(async () => {
          await cond.wait();
          log.push('waiter:woken');
        });
        await outsiderGate; // an outsider has taken the lock and notified the waiter
        const late = rlock.run(() => log.push('late child')); // asks while the parent's level is set aside
        release();
        await Promise.all([waiter, late]);
        log.push(`parent:depth=${rlock.depth}`);
      });
      await flush();
      const outsider = runOutside(() =>
        rlock.run(async () => {
          cond.notify();
          outsiderHolds();
          await outsiderReleases;
        }),
      );
      await Promise.all([parent, outsider]);
      expect(log).to.deep.equal(['waiter:woken', 'late child', 'parent:depth=1']);
      expect(rlock.locked).to.equal(false);
    });

    it('ends the levels of a scope that returned while its child waited on a condition', async () => {
      const rlock = new AsyncRLock();
      const cond = new AsyncCondition(rlock);
      let child!: Promise<void>;
      await rlock.run(async () => {
        child = rlock.run(() => cond.wait()); // not awaited: the parent's run ends while its level is set aside
        await flush(2);
      });
      expect(rlock.locked).to.equal(false);
      await runOutside(() => rlock.run(() => cond.notify()));
      await child;
      expect(rlock.locked, 'no level outlives its run').to.equal(false);
      expect(rlock.depth).to.equal(0);
    });

    it('ends a level released while set aside as soon as the wait restores it', async () => {
      const rlock = new AsyncRLock();
      const cond = new AsyncCondition(rlock);
      const depths: number[] = [];
      await rlock.run(async () => {
        const bare = await rlock.acquire();
        const waiting = cond.wait();
        bare.release(); // the wait has it set aside
        expect(bare.released).to.equal(true);
        await runOutside(() => rlock.run(() => cond.notify()));
        await waiting;
        depths.push(rlock.depth);
      });
      expect(depths).to.deep.equal([1]);
      expect(rlock.locked).to.equal(false);
    });

    it('wakes two children of one scope that both wait, notified by an outsider', async () => {
      const rlock = new AsyncRLock();
      const cond = new AsyncCondition(rlock);
      const log: string[] = [];
      let ready = false;
      const child = (name: string) =>
        rlock.run(async () => {
          await cond.waitFor(() => ready);
          log.push(`${name}:woken(depth=${rlock.depth})`);
        });
      const parent = rlock.run(async () => {
        await Promise.all([child('c1'), child('c2')]);
        log.push(`parent(depth=${rlock.depth})`);
      });
      await flush();
      expect(rlock.locked, 'both waits set the whole hold aside').to.equal(false);
      await runOutside(() =>
        rlock.run(() => {
          ready = true;
          cond.notifyAll();
        }),
      );
      await parent;
      expect(log).to.deep.equal(['c1:woken(depth=2)', 'c2:woken(depth=2)', 'parent(depth=1)']);
      expect(rlock.locked).to.equal(false);
    });

    it('sets the parent level aside again while another child still waits, so outsiders can notify it', async () => {
      const rlock = new AsyncRLock();
      const cond = new AsyncCondition(rlock);
      const flags = [false, false];
      const log: string[] = [];
      const child = (flag: number) =>
        rlock.run(async () => {
          await cond.waitFor(() => flags[flag]);
          log.push(`waiter${flag}:woken`);
        });
      let startSecondChild!: () => void;
      const secondChild = new Promise<void>((resolve) => (startSecondChild = resolve));
      const parent = rlock.run(async () => {
        const first = child(0);
        await secondChild;
        await Promise.all([first, child(1)]); // asks while waiter0's wait has the parent's level set aside
      });
      await flush();
      await runOutside(() =>
        rlock.run(async () => {
          startSecondChild();
          await flush(); // the second child queues behind this outsider
          flags[0] = true;
          cond.notifyAll(); // waiter0's restore queues behind the second child
        }),
      );
      await flush();
      // waiter0 has finished; waiter1 waits with the parent's level set aside beneath its own.
      expect(log).to.deep.equal(['waiter0:woken']);
      expect(rlock.locked, 'the parent level is not held for a child that waits').to.equal(false);
      await runOutside(() =>
        rlock.run(() => {
          flags[1] = true;
          cond.notifyAll();
        }),
      );
      await parent;
      expect(log).to.deep.equal(['waiter0:woken', 'waiter1:woken']);
      expect(rlock.locked).to.equal(false);
      expect(rlock.depth).to.equal(0);
    });

    it('refuses wait and notify from a context that does not own the lock', async () => {
      const rlock = new AsyncRLock();
      const cond = new AsyncCondition(rlock);
      await rlock.run(async () => {
        const outcome = await runOutside(() => cond.wait()).catch((error: unknown) => error);
        expect(outcome).to.be.instanceOf(LockError);
        expect(() => runOutside(() => cond.notify())).to.throw(LockError);
      });
    });
  });
});
