import { AsyncLocalStorage } from 'node:async_hooks';
import { expect } from 'chai';
import type sinon from 'sinon';
import { AsyncCondition, AsyncRLock, LockError, TimeoutError } from '../lib/index.js';
import { flush, yieldTurns, installFakeClock, observe, rejectionOf } from './suites/helpers.js';

// Captured at load, outside every scope: runs a function as "another task" that owns nothing.
const outsideContext = AsyncLocalStorage.snapshot();

function runOutside<T>(fn: () => T): T {
  return outsideContext(fn);
}

// Issue 4, "Semantics that must hold": one describe per requirement. The explicit { owner } form and the runtime
// without async context are in rlock.spec.ts (which also runs in Chromium).
describe('AsyncRLock in an async context', () => {
  describe('1. everything called from run re-enters at once; depth counts; n acquires need n releases', () => {
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

    it('re-enters across timers, setImmediate and promise chains started inside run', async () => {
      const rlock = new AsyncRLock();
      const log: string[] = [];
      const reenter = (where: string) =>
        rlock.run(async () => {
          log.push(`${where}(depth=${rlock.depth}, owned=${rlock.owned})`);
          await Promise.resolve();
        });
      await rlock.run(async () => {
        await new Promise<void>((resolve) => setTimeout(() => void reenter('timer').then(resolve), 0));
        await new Promise<void>((resolve) => setImmediate(() => void reenter('immediate').then(resolve)));
        await Promise.resolve()
          .then(() => reenter('then'))
          .then(() => new Promise((resolve) => setTimeout(resolve, 1)))
          .then(() => reenter('then-after-timer'));
        await new Promise<void>((resolve, reject) => {
          // A callback API: the callback runs from a timer set inside the scope.
          setTimeout(() => reenter('callback').then(resolve, reject), 0);
        });
      });
      expect(log).to.deep.equal([
        'timer(depth=2, owned=true)',
        'immediate(depth=2, owned=true)',
        'then(depth=2, owned=true)',
        'then-after-timer(depth=2, owned=true)',
        'callback(depth=2, owned=true)',
      ]);
      expect(rlock.locked).to.equal(false);
    });

    it('counts n nested acquires in depth, and stays held by the scope until all n are released', async () => {
      const rlock = new AsyncRLock();
      const depths: number[] = [];
      let outsider: Promise<number> | undefined;
      await rlock.run(async () => {
        // A bare level keeps the scope's context busy: the next levels re-enter it explicitly.
        const first = await rlock.acquire();
        const second = await rlock.acquire({ owner: first });
        const guards = [first, second, await rlock.acquire({ owner: second })];
        depths.push(rlock.depth);
        outsider = runOutside(() => rlock.run(() => rlock.depth));
        for (let i = 0; i < 3; i++) {
          rlock.release();
          depths.push(rlock.depth);
          expect(runOutside(() => rlock.tryAcquire())).to.equal(undefined);
        }
        expect(guards.every((guard) => guard.released)).to.equal(true);
      });
      expect(depths).to.deep.equal([4, 3, 2, 1]);
      expect(await outsider).to.equal(1);
      expect(rlock.locked).to.equal(false);
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
  });

  describe('2. concurrent children that re-enter with run take turns, without deadlocking the parent', () => {
    it('keeps concurrent children mutually exclusive, without deadlocking against the parent', async () => {
      const rlock = new AsyncRLock();
      const log: string[] = [];
      async function child(name: string): Promise<void> {
        await rlock.run(async () => {
          log.push(`${name}:enter(depth=${rlock.depth})`);
          await yieldTurns(3);
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

    it('keeps children and grandchildren that re-enter with run apart at every level', async () => {
      const rlock = new AsyncRLock();
      const inside = new Set<string>();
      const violations: string[] = [];
      const log: string[] = [];
      // A task may run while only its ancestors are inside.
      const enter = (name: string) => {
        for (const other of inside)
          if (!name.startsWith(`${other}.`)) violations.push(`${name} entered while ${other} was inside`);
        inside.add(name);
      };
      async function task(name: string, children: number): Promise<void> {
        await rlock.run(async () => {
          enter(name);
          log.push(`${name}:${rlock.depth}`);
          await yieldTurns(2);
          inside.delete(name);
          await Promise.all(Array.from({ length: children }, (_, i) => task(`${name}.${i}`, children - 1)));
          enter(name);
          await yieldTurns(1);
          inside.delete(name);
        });
      }
      await rlock.run(() => Promise.all([task('a', 2), task('b', 2)]));
      expect(violations).to.deep.equal([]);
      expect(log).to.deep.equal([
        'a:2',
        'a.0:3',
        'a.0.0:4',
        'a.1:3',
        'a.1.0:4',
        'b:2',
        'b.0:3',
        'b.0.0:4',
        'b.1:3',
        'b.1.0:4',
      ]);
      expect(rlock.locked).to.equal(false);
    });

    it('does not deadlock a parent that awaits children which queue behind each other', async () => {
      const rlock = new AsyncRLock();
      const results = await rlock.run(() =>
        Promise.all([1, 2, 3].map((n) => rlock.run(async () => (await yieldTurns(1), n * rlock.depth)))),
      );
      expect(results).to.deep.equal([2, 4, 6]);
      expect(rlock.locked).to.equal(false);
    });

    it('rejects the second of two children that re-enter with a bare acquire, and leaves the first alone', async () => {
      // A bare acquire opens a level of its own, owned by the scope; a further implicit acquire or run from that
      // scope cannot be told from a sibling's (both see the same context), so it is a LockError, never a shared level.
      const rlock = new AsyncRLock({ name: 'r' });
      const log: string[] = [];
      const child = async (name: string) => {
        let guard;
        try {
          guard = await rlock.acquire();
        } catch (error) {
          log.push(`${name}:${(error as Error).name}(depth=${rlock.depth})`);
          return error;
        }
        log.push(`${name}:in(depth=${rlock.depth}, owned=${rlock.owned})`);
        await yieldTurns(2);
        log.push(`${name}:out`);
        guard.release();
        return undefined;
      };
      const [first, second] = await rlock.run(() => Promise.all([child('c1'), child('c2')]));
      expect(log).to.deep.equal(['c1:in(depth=2, owned=true)', 'c2:LockError(depth=2)', 'c1:out']);
      expect(first).to.equal(undefined);
      expect(second)
        .to.be.instanceOf(LockError)
        .with.property('message')
        .that.matches(/^AsyncRLock\(r\)\.acquire: a bare acquire\(\) from this scope holds a level/)
        .and.matches(/\{ owner: guard \}/)
        .and.matches(/run\(fn\)/);
      expect([rlock.locked, rlock.depth, rlock.waiting]).to.deep.equal([false, 0, 0]);
    });

    it('rejects an implicit run, acquire or tryAcquire from the scope while its bare level is held', async () => {
      const rlock = new AsyncRLock();
      const outcomes: string[] = [];
      await rlock.run(async () => {
        const bare = await rlock.acquire();
        const run = await rejectionOf(rlock.run(() => outcomes.push('run entered')));
        outcomes.push(`run:${(run as Error).name}`, `run:${(run as Error).message.split(':')[0]}`);
        outcomes.push(`acquire:${((await rejectionOf(rlock.acquire())) as Error).name}`);
        expect(() => rlock.tryAcquire()).to.throw(LockError, /^AsyncRLock\.tryAcquire: a bare acquire\(\)/);
        outcomes.push(`depth=${rlock.depth}`);
        bare.release();
        // Released: the scope may re-enter implicitly again.
        await rlock.run(() => outcomes.push(`run after release(depth=${rlock.depth})`));
      });
      expect(outcomes).to.deep.equal([
        'run:LockError',
        'run:AsyncRLock.run',
        'acquire:LockError',
        'depth=2',
        'run after release(depth=2)',
      ]);
      expect(rlock.locked).to.equal(false);
    });

    it('lets the holder of a bare level re-enter it explicitly with { owner: guard }', async () => {
      const rlock = new AsyncRLock();
      const depths: number[] = [];
      await rlock.run(async () => {
        const bare = await rlock.acquire();
        const inner = await rlock.acquire({ owner: bare });
        depths.push(rlock.depth);
        inner.release();
        await rlock.run(
          async () => {
            depths.push(rlock.depth);
            // The explicit run is a scope of its own: implicit re-entry from it works again.
            await rlock.run(() => depths.push(rlock.depth));
          },
          { owner: bare },
        );
        expect(rlock.tryAcquire({ owner: bare })?.release()).to.equal(undefined);
        depths.push(rlock.depth);
        rlock.release(); // the bare level: the scope owns it
        depths.push(rlock.depth);
      });
      expect(depths).to.deep.equal([3, 3, 4, 2, 1]);
      expect(rlock.locked).to.equal(false);
    });

    it("makes a bare acquire wait behind a sibling's nested run, and keeps queued bare acquires apart", async () => {
      const rlock = new AsyncRLock();
      const log: string[] = [];
      const holder = () =>
        rlock.run(async () => {
          log.push(`run:in(depth=${rlock.depth})`);
          await yieldTurns(3);
          log.push('run:out');
        });
      // Both requests are made while the sibling's run holds: neither can be the other's nested call.
      const bare = async (name: string) => {
        const guard = await rlock.acquire();
        log.push(`${name}:in(depth=${rlock.depth})`);
        await yieldTurns(2);
        log.push(`${name}:out`);
        guard.release();
      };
      await rlock.run(() => Promise.all([holder(), bare('b1'), bare('b2')]));
      expect(log).to.deep.equal([
        'run:in(depth=2)',
        'run:out',
        'b1:in(depth=2)',
        'b1:out',
        'b2:in(depth=2)',
        'b2:out',
      ]);
      expect([rlock.locked, rlock.waiting]).to.deep.equal([false, 0]);
    });

    it('rejects a re-entry request whose timeout expires while a sibling holds, and serves the rest', async () => {
      const clock = installFakeClock();
      try {
        const rlock = new AsyncRLock({ name: 'r' });
        const log: string[] = [];
        await rlock.run(async () => {
          const holder = rlock.run(async () => {
            await new Promise((resolve) => setTimeout(resolve, 100));
            log.push('holder:done');
          });
          await yieldTurns(2);
          const late = rlock.run(() => log.push('late'), { timeout: 50 });
          const patient = rlock.run(() => log.push('patient'));
          clock.tick(50);
          const error = await rejectionOf(late);
          expect(error)
            .to.be.instanceOf(TimeoutError)
            .with.property('message', 'AsyncRLock(r) timed out after 50 ms');
          clock.tick(50);
          await Promise.all([holder, patient]);
        });
        expect(log).to.deep.equal(['holder:done', 'patient']);
        expect(rlock.locked).to.equal(false);
      } finally {
        clock.restore();
      }
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
              await yieldTurns(2);
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
        await yieldTurns(1);
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
        await yieldTurns(2);
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
  });

  describe('3. ownership never leaks out of run: owned is false outside it', () => {
    it('does not let ownership leak to the caller or to siblings', async () => {
      const rlock = new AsyncRLock();
      const log: string[] = [];
      const sibling = (async () => {
        await yieldTurns(1);
        log.push(`sibling:owned=${rlock.owned}`);
        await rlock.run(() => log.push('sibling:acquired'));
      })();
      await rlock.run(async () => {
        await yieldTurns(5);
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

    it('keeps a sibling started during the hold, from outside, waiting; it does not own the lock', async () => {
      const rlock = new AsyncRLock();
      const log: string[] = [];
      let sibling: Promise<unknown> | undefined;
      await rlock.run(async () => {
        sibling = runOutside(async () => {
          log.push(`sibling:owned=${rlock.owned}`);
          await rlock.run(() => log.push(`sibling:acquired(depth=${rlock.depth})`));
        });
        await flush();
        log.push('parent:done');
      });
      await sibling;
      expect(log).to.deep.equal(['sibling:owned=false', 'parent:done', 'sibling:acquired(depth=1)']);
    });

    it('gives a callback scheduled from outside, firing during the hold, no ownership', async () => {
      const rlock = new AsyncRLock();
      const log: string[] = [];
      let fromTimer: Promise<unknown> | undefined;
      const fired = new Promise<void>((resolve) =>
        setTimeout(() => {
          log.push(`timer:owned=${rlock.owned}, locked=${rlock.locked}`);
          fromTimer = rlock.run(() => log.push(`timer:acquired(depth=${rlock.depth})`));
          resolve();
        }, 0),
      );
      await rlock.run(async () => {
        await fired;
        await flush();
        log.push('run:done');
      });
      await fromTimer;
      expect(log).to.deep.equal(['timer:owned=false, locked=true', 'run:done', 'timer:acquired(depth=1)']);
    });

    it('gives code started inside run that outlives it (timer, promise chain) no ownership afterwards', async () => {
      const rlock = new AsyncRLock();
      const log: string[] = [];
      let release!: () => void;
      const later = new Promise<void>((resolve) => (release = resolve));
      let fromTimer!: Promise<unknown>;
      let fromChain!: Promise<unknown>;
      await rlock.run(() => {
        fromTimer = new Promise((resolve) => setTimeout(resolve, 1)).then(() => {
          log.push(`timer:owned=${rlock.owned}`);
          return rlock.run(() => log.push(`timer:acquired(depth=${rlock.depth})`));
        });
        fromChain = later.then(() => {
          log.push(`chain:owned=${rlock.owned}`);
          expect(() => rlock.release()).to.throw(LockError, /not locked/);
          return rlock.acquire().then((guard) => {
            log.push(`chain:acquired(depth=${rlock.depth}, owned=${rlock.owned})`);
            guard.release();
          });
        });
      });
      expect(rlock.locked).to.equal(false);
      expect(rlock.owned).to.equal(false);
      await fromTimer;
      release();
      await fromChain;
      expect(log).to.deep.equal([
        'timer:owned=false',
        'timer:acquired(depth=1)',
        'chain:owned=false',
        'chain:acquired(depth=1, owned=false)',
      ]);
      expect(rlock.locked).to.equal(false);
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
  });

  describe('4. release() by a context that does not own the hold, or beyond what was acquired, is a LockError', () => {
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

    it('throws LockError when release() is called more times than levels were acquired', async () => {
      const rlock = new AsyncRLock({ name: 'r' });
      await rlock.acquire();
      rlock.release();
      expect(() => rlock.release()).to.throw(LockError, /AsyncRLock\(r\) is not locked/);
      await rlock.run(async () => {
        await rlock.acquire();
        rlock.release(); // the bare level
        rlock.release(); // the run's own level: the scope owns it too
        expect(rlock.locked).to.equal(false);
        expect(() => rlock.release()).to.throw(LockError, /not locked/);
      });
      expect(rlock.locked).to.equal(false);
    });

    it('throws LockError, and releases nothing, when the scope has no level left while another task holds', async () => {
      const rlock = new AsyncRLock();
      let resume!: () => void;
      const gate = new Promise<void>((resolve) => (resume = resolve));
      let outsider!: Promise<unknown>;
      await rlock.run(async () => {
        rlock.release(); // ends this scope's level early
        outsider = runOutside(() => rlock.run(() => gate));
        await yieldTurns(2);
        expect(rlock.locked, 'the outsider holds it').to.equal(true);
        expect(() => rlock.release()).to.throw(LockError, /does not own/);
        expect(rlock.depth).to.equal(1);
      });
      resume();
      await outsider;
      expect(rlock.locked).to.equal(false);
    });

    it("throws LockError when a child releases the level a sibling child's run holds", async () => {
      const rlock = new AsyncRLock();
      let caught: unknown;
      await rlock.run(async () => {
        let sibling!: () => void;
        const holding = rlock.run(() => new Promise<void>((resolve) => (sibling = resolve)));
        await yieldTurns(2);
        try {
          rlock.release(); // the innermost level is the sibling's run
        } catch (error) {
          caught = error;
        }
        expect(rlock.depth).to.equal(2);
        sibling();
        await holding;
      });
      expect(caught)
        .to.be.instanceOf(LockError)
        .with.property('message')
        .that.matches(/does not own/);
      expect(rlock.locked).to.equal(false);
    });
  });

  describe('5. top-level contenders, as with AsyncLock', () => {
    let clock: sinon.SinonFakeTimers | undefined;
    afterEach(() => {
      clock?.restore();
      clock = undefined;
    });

    it('serves top-level runs in FIFO order, one at a time', async () => {
      const rlock = new AsyncRLock();
      const log: string[] = [];
      const task = (name: string) =>
        runOutside(() =>
          rlock.run(async () => {
            log.push(`${name}:in(depth=${rlock.depth})`);
            await yieldTurns(2);
            log.push(`${name}:out`);
          }),
        );
      await Promise.all(['a', 'b', 'c', 'd'].map(task));
      expect(log).to.deep.equal(
        ['a', 'b', 'c', 'd'].flatMap((name) => [`${name}:in(depth=1)`, `${name}:out`]),
      );
    });

    it('rejects a top-level run whose timeout expires with TimeoutError, holding nothing, and serves the next', async () => {
      clock = installFakeClock();
      const rlock = new AsyncRLock({ name: 'r' });
      const holder = await rlock.acquire();
      const late = observe(runOutside(() => rlock.run(() => 'late', { timeout: 50 })));
      const next = observe(runOutside(() => rlock.run(() => rlock.depth)));
      clock.tick(50);
      await flush();
      expect(late.state).to.equal('rejected');
      expect(late.reason)
        .to.be.instanceOf(TimeoutError)
        .with.property('message', 'AsyncRLock(r) timed out after 50 ms');
      expect(rlock.waiting).to.equal(1);
      holder.release();
      await flush();
      expect(next.value).to.equal(1);
      expect(rlock.locked).to.equal(false);
    });

    it('rejects a top-level run with the abort reason, holding nothing', async () => {
      const rlock = new AsyncRLock();
      const holder = await rlock.acquire();
      const controller = new AbortController();
      const reason = new Error('stop');
      const waiting = runOutside(() => rlock.run(() => 'never', { signal: controller.signal }));
      controller.abort(reason);
      expect(await rejectionOf(waiting)).to.equal(reason);
      expect(rlock.waiting).to.equal(0);
      holder.release();
      expect(rlock.locked).to.equal(false);
    });

    it('grant wins: granted, then aborted and timed out in the same tick, the run goes ahead', async () => {
      clock = installFakeClock();
      const rlock = new AsyncRLock();
      const holder = await rlock.acquire();
      const controller = new AbortController();
      const waiting = observe(
        runOutside(() => rlock.run(() => rlock.depth, { signal: controller.signal, timeout: 100 })),
      );
      await clock.tickAsync(99);
      holder.release();
      controller.abort(new Error('late'));
      clock.tick(1);
      await flush();
      expect(waiting.state).to.equal('fulfilled');
      expect(waiting.value).to.equal(1);
      expect(rlock.locked).to.equal(false);
    });
  });

  describe('6. as the lock of an AsyncCondition: a wait releases every level and restores the same depth', () => {
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

    it('restores depth 3 (run, run, bare acquire) after a wait, and after a wait that times out', async () => {
      const clock = installFakeClock();
      try {
        const rlock = new AsyncRLock();
        const cond = new AsyncCondition(rlock);
        const log: string[] = [];
        const waiter = rlock.run(() =>
          rlock.run(async () => {
            const bare = await rlock.acquire();
            await cond.wait();
            log.push(`woken(depth=${rlock.depth}, owned=${rlock.owned})`);
            const timedOut = await rejectionOf(cond.wait({ timeout: 10 }));
            log.push(`${(timedOut as Error).name}(depth=${rlock.depth}, owned=${rlock.owned})`);
            bare.release();
          }),
        );
        await flush();
        expect([rlock.locked, rlock.depth]).to.deep.equal([false, 0]);
        await runOutside(() => rlock.run(() => cond.notify()));
        await flush();
        expect([rlock.locked, rlock.depth], 'waiting again, with a timeout').to.deep.equal([false, 0]);
        clock.tick(10);
        await waiter;
        expect(log).to.deep.equal(['woken(depth=3, owned=true)', 'TimeoutError(depth=3, owned=true)']);
        expect(rlock.locked).to.equal(false);
      } finally {
        clock.restore();
      }
    });

    it('a child that entered while a sibling wait had set the parent level aside comes back on top of that level', async () => {
      // Issue 12 item 7. `depth` counts every active level of the lock: the child entered at depth 1 (its parent's
      // level was set aside by the sibling's wait), and its own wait restores exactly the level it set aside, on top
      // of the parent's level that the sibling's wait restored meanwhile: depth 2. This once deadlocked: the
      // child's restore was queued to re-enter the restored parent level, and nothing granted it.
      const rlock = new AsyncRLock();
      const cond = new AsyncCondition(rlock);
      const log: string[] = [];
      let go = false;
      const parent = observe(
        rlock.run(() =>
          Promise.all([
            (async () => {
              log.push(`sibling waits(depth=${rlock.depth})`);
              await cond.waitFor(() => go);
              log.push(`sibling woken(depth=${rlock.depth})`);
            })(),
            rlock.run(async () => {
              log.push(`child waits(depth=${rlock.depth})`);
              await cond.waitFor(() => go);
              log.push(`child woken(depth=${rlock.depth}, owned=${rlock.owned})`);
            }),
          ]),
        ),
      );
      await flush();
      expect([rlock.locked, cond.waiting]).to.deep.equal([false, 2]);
      await runOutside(() =>
        rlock.run(() => {
          go = true;
          cond.notifyAll();
        }),
      );
      await flush();
      expect(parent.state).to.equal('fulfilled');
      expect(log).to.deep.equal([
        'sibling waits(depth=1)',
        'child waits(depth=1)',
        'sibling woken(depth=2)', // the child re-entered on top of the restored parent level
        'child woken(depth=2, owned=true)',
      ]);
      expect([rlock.locked, rlock.depth, rlock.waiting]).to.deep.equal([false, 0, 0]);
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
        await yieldTurns(2);
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

    it('sets aside and restores a bare level on top of its scope, which still owns it and keeps it apart', async () => {
      const rlock = new AsyncRLock();
      const cond = new AsyncCondition(rlock);
      const log: string[] = [];
      await rlock.run(async () => {
        const bare = await rlock.acquire();
        const waiting = cond.wait();
        log.push(`waiting(locked=${rlock.locked})`);
        await runOutside(() => rlock.run(() => cond.notify()));
        await waiting;
        log.push(`woken(depth=${rlock.depth}, owned=${rlock.owned}, released=${bare.released})`);
        log.push(`acquire:${((await rejectionOf(rlock.acquire())) as Error).name}`);
        rlock.release(); // the restored bare level, released from its scope
        log.push(`released(depth=${rlock.depth}, bare=${bare.released})`);
        await rlock.run(() => log.push(`run(depth=${rlock.depth})`));
      });
      expect(log).to.deep.equal([
        'waiting(locked=false)',
        'woken(depth=2, owned=true, released=false)',
        'acquire:LockError',
        'released(depth=1, bare=true)',
        'run(depth=2)',
      ]);
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
});
