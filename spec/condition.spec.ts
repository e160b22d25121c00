import { expect } from 'chai';
import sinon from 'sinon';
import { AsyncCondition, AsyncLock, AsyncRLock, LockError, TimeoutError, type Guard } from '../lib/index.js';
import { explore, type Scenario } from '../lib/testing/index.js';
import { describeLockLike } from './suites/lock-like.js';
import { flush, yieldTurns } from './suites/helpers.js';

describeLockLike('AsyncCondition', () => {
  const cond = new AsyncCondition();
  return { lock: cond, isHeld: () => cond.locked, queued: () => cond.lock.waiting };
});

describeLockLike('AsyncCondition on an AsyncRLock', () => {
  const rlock = new AsyncRLock();
  const cond = new AsyncCondition(rlock);
  return { lock: cond, isHeld: () => cond.locked, queued: () => rlock.waiting };
});

/** Starts a task that waits on `cond` while holding its lock and logs what happens. */
function waiter(
  cond: AsyncCondition,
  log: string[],
  name: string,
  options?: Parameters<AsyncCondition['wait']>[0],
) {
  return cond.run(async () => {
    log.push(`${name}:waiting`);
    try {
      await cond.wait(options);
      log.push(`${name}:woken(locked=${cond.locked})`);
    } catch (error) {
      log.push(`${name}:${(error as Error).name}(locked=${cond.locked})`);
    }
  });
}

describe('AsyncCondition', () => {
  let clock: sinon.SinonFakeTimers | undefined;
  afterEach(() => {
    clock?.restore();
    clock = undefined;
  });
  function useFakeTime(): sinon.SinonFakeTimers {
    clock = sinon.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'Date'] });
    return clock;
  }

  describe('notify', () => {
    it('wakes the first waiter only once the notifier releases the lock (CPython test_notify)', async () => {
      const cond = new AsyncCondition();
      const log: string[] = [];
      const tasks = ['a', 'b', 'c'].map((name) => waiter(cond, log, name));
      await flush();
      expect(log).to.deep.equal(['a:waiting', 'b:waiting', 'c:waiting']);
      expect(cond.waiting).to.equal(3);

      const guard = await cond.acquire();
      cond.notify(1);
      await flush();
      expect(log, 'nothing runs while the notifier holds the lock').to.have.length(3);
      expect(cond.waiting).to.equal(2);
      guard.release();
      await flush();
      expect(log.slice(3)).to.deep.equal(['a:woken(locked=true)']);

      await cond.run(() => cond.notify(2));
      await flush();
      expect(log.slice(4)).to.deep.equal(['b:woken(locked=true)', 'c:woken(locked=true)']);
      await Promise.all(tasks);
      expect(cond.locked).to.equal(false);
    });

    it('notifyAll wakes every waiter in FIFO order, one lock holder at a time', async () => {
      const cond = new AsyncCondition();
      const log: string[] = [];
      const tasks = ['a', 'b', 'c'].map((name) => waiter(cond, log, name));
      await flush();
      await cond.run(() => cond.notifyAll());
      await Promise.all(tasks);
      expect(log.slice(3)).to.deep.equal([
        'a:woken(locked=true)',
        'b:woken(locked=true)',
        'c:woken(locked=true)',
      ]);
      expect(cond.waiting).to.equal(0);
    });

    it('moves notified waiters behind callers already queued for the lock', async () => {
      const cond = new AsyncCondition();
      const log: string[] = [];
      const task = waiter(cond, log, 'w');
      await flush();
      const guard = await cond.acquire();
      const queued = cond.run(() => log.push('queued:acquired'));
      cond.notify();
      expect(cond.lock.waiting).to.equal(2);
      guard.release();
      await Promise.all([task, queued]);
      expect(log).to.deep.equal(['w:waiting', 'queued:acquired', 'w:woken(locked=true)']);
    });

    it('notify(0) wakes nobody and notify(n) beyond the waiters wakes them all', async () => {
      const cond = new AsyncCondition();
      const log: string[] = [];
      const tasks = ['a', 'b'].map((name) => waiter(cond, log, name));
      await flush();
      await cond.run(() => cond.notify(0));
      await flush();
      expect(cond.waiting).to.equal(2);
      await cond.run(() => cond.notify(2048));
      await Promise.all(tasks);
      expect(log).to.deep.equal(['a:waiting', 'b:waiting', 'a:woken(locked=true)', 'b:woken(locked=true)']);
    });

    it('rejects a bad count with an error naming n', async () => {
      const cond = new AsyncCondition();
      await cond.run(() => {
        expect(() => cond.notify(-1)).to.throw(RangeError, /notify: n/);
        expect(() => cond.notify(1.5)).to.throw(RangeError, /notify: n/);
        expect(() => cond.notify(NaN)).to.throw(RangeError, /notify: n/);
        expect(() => cond.notify('1' as unknown as number)).to.throw(TypeError, /notify: n/);
      });
    });

    it('throws LockError synchronously without the lock', () => {
      const cond = new AsyncCondition(new AsyncLock({ name: 'db' }), { name: 'rows' });
      expect(() => cond.notify()).to.throw(LockError, /AsyncCondition\(rows\)\.notify.*AsyncLock\(db\)/);
      expect(() => cond.notifyAll()).to.throw(LockError, /notifyAll/);
    });
  });

  describe('wait', () => {
    it('releases the lock while waiting and gives the caller its own guard back', async () => {
      const cond = new AsyncCondition();
      const guard = await cond.acquire();
      const waiting = cond.wait();
      expect(cond.locked, 'released while waiting').to.equal(false);
      const other = await cond.acquire();
      cond.notify();
      other.release();
      await waiting;
      expect(cond.locked).to.equal(true);
      expect(guard.released).to.equal(false);
      guard.release();
      expect(cond.locked).to.equal(false);
      expect(other.released).to.equal(true);
    });

    it('rejects with LockError when the lock is not held', async () => {
      const cond = new AsyncCondition();
      let error: unknown;
      await cond.wait().catch((caught: unknown) => (error = caught));
      expect(error).to.be.instanceOf(LockError);
      await cond.waitFor(() => true).catch((caught: unknown) => (error = caught));
      expect(error)
        .to.be.instanceOf(LockError)
        .with.property('message')
        .that.matches(/waitFor/);
    });

    it('rejects an already-aborted signal at once, without releasing the lock', async () => {
      const cond = new AsyncCondition();
      const guard = await cond.acquire();
      const reason = new Error('stop');
      const outcome = await cond.wait({ signal: AbortSignal.abort(reason) }).catch((error: unknown) => error);
      expect(outcome).to.equal(reason);
      expect(cond.waiting).to.equal(0);
      expect(cond.locked).to.equal(true);
      guard.release();
    });

    it('times out at once with timeout 0, still holding the lock', async () => {
      const cond = new AsyncCondition();
      const guard = await cond.acquire();
      const queued = cond.acquire();
      const outcome = await cond.wait({ timeout: 0 }).catch((error: unknown) => error);
      expect(outcome).to.be.instanceOf(TimeoutError);
      expect(cond.lock.waiting, 'the lock was never handed on').to.equal(1);
      guard.release();
      (await queued).release();
    });

    it('re-acquires the lock before rejecting on timeout, even if that takes longer', async () => {
      const time = useFakeTime();
      const cond = new AsyncCondition();
      const log: string[] = [];
      const task = waiter(cond, log, 'w', { timeout: 50 });
      await flush();
      const other = await cond.acquire();
      await time.tickAsync(49);
      expect(log).to.deep.equal(['w:waiting']);
      await time.tickAsync(1);
      expect(log, 'timed out, but the lock is still held by other').to.deep.equal(['w:waiting']);
      expect(cond.waiting).to.equal(0);
      log.push('other:release');
      other.release();
      await task;
      expect(log).to.deep.equal(['w:waiting', 'other:release', 'w:TimeoutError(locked=true)']);
      expect(time.countTimers()).to.equal(0);
    });

    it('re-acquires the lock before rejecting when aborted', async () => {
      const cond = new AsyncCondition();
      const controller = new AbortController();
      const reason = new Error('cancelled');
      const log: string[] = [];
      const task = cond.run(async () => {
        await cond.wait({ signal: controller.signal }).catch((error: unknown) => {
          log.push(`rejected:${error === reason}:locked=${cond.locked}`);
        });
      });
      await flush();
      controller.abort(reason);
      await task;
      expect(log).to.deep.equal(['rejected:true:locked=true']);
      expect(cond.locked).to.equal(false);
    });

    it('never loses a notification to a waiter that timed out first (CPython gh-112202)', async () => {
      const time = useFakeTime();
      const cond = new AsyncCondition();
      const log: string[] = [];
      const a = waiter(cond, log, 'a', { timeout: 10 });
      const b = waiter(cond, log, 'b');
      await flush();
      const guard = await cond.acquire();
      await time.tickAsync(10); // a times out, but cannot re-acquire: guard holds the lock
      cond.notify(1); // must go to b, the only live waiter
      expect(cond.waiting).to.equal(0);
      guard.release();
      await Promise.all([a, b]);
      expect(log).to.deep.equal([
        'a:waiting',
        'b:waiting',
        'a:TimeoutError(locked=true)',
        'b:woken(locked=true)',
      ]);
    });

    it('treats the notification as the grant: a later abort or timeout does not reject', async () => {
      const time = useFakeTime();
      const cond = new AsyncCondition();
      const controller = new AbortController();
      const log: string[] = [];
      const a = waiter(cond, log, 'a', { signal: controller.signal });
      const b = waiter(cond, log, 'b', { timeout: 10 });
      await flush();
      const guard = await cond.acquire();
      cond.notify(2);
      controller.abort(new Error('too late'));
      await time.tickAsync(10);
      guard.release();
      await Promise.all([a, b]);
      expect(log).to.deep.equal(['a:waiting', 'b:waiting', 'a:woken(locked=true)', 'b:woken(locked=true)']);
      expect(time.countTimers()).to.equal(0);
    });

    it('ends a hold released while its wait has it set aside, once the wait gets it back', async () => {
      const cond = new AsyncCondition();
      let waiting!: Promise<void>;
      await cond.run(async (guard) => {
        waiting = cond.wait(); // not awaited: run's finally releases the guard while the wait holds it aside
        await yieldTurns(2);
        expect(guard.released).to.equal(false);
      });
      expect(cond.locked).to.equal(false);
      await cond.run(() => cond.notify());
      await waiting;
      expect(cond.locked, 'the released hold ended when restored').to.equal(false);
      expect(cond.tryAcquire()).to.not.equal(undefined);
    });

    it('leaves no listener on a long-lived signal', async () => {
      const cond = new AsyncCondition();
      const controller = new AbortController();
      const add = sinon.spy(controller.signal, 'addEventListener');
      const remove = sinon.spy(controller.signal, 'removeEventListener');
      for (let round = 0; round < 100; round++) {
        const task = cond.run(() => cond.wait({ signal: controller.signal }));
        await yieldTurns(5);
        await cond.run(() => cond.notify());
        await task;
      }
      expect(add.callCount).to.equal(100);
      expect(remove.callCount).to.equal(100);
    });
  });

  describe('waitFor', () => {
    it('returns the predicate value at once when it already holds', async () => {
      const cond = new AsyncCondition();
      const result = await cond.run(() => cond.waitFor(() => 'ready'));
      expect(result).to.equal('ready');
    });

    it('re-checks after each notification and resolves with the first truthy value', async () => {
      const cond = new AsyncCondition();
      const items: number[] = [];
      const checks: number[] = [];
      const consumer = cond.run(() =>
        cond.waitFor(() => {
          checks.push(items.length);
          return items.length >= 2 && items.slice();
        }),
      );
      await flush();
      for (const item of [1, 2]) {
        await cond.run(() => {
          items.push(item);
          cond.notify();
        });
        await flush();
      }
      expect(await consumer).to.deep.equal([1, 2]);
      expect(checks).to.deep.equal([0, 1, 2]);
    });

    it('bounds the whole call by one timeout, not each wait', async () => {
      const time = useFakeTime();
      const cond = new AsyncCondition();
      let outcome: unknown;
      const consumer = cond
        .run(() => cond.waitFor(() => false, { timeout: 100 }))
        .catch((error: unknown) => (outcome = error));
      await flush();
      for (let step = 0; step < 3; step++) {
        await time.tickAsync(30);
        await cond.run(() => cond.notify());
      }
      expect(outcome).to.equal(undefined);
      await time.tickAsync(10);
      await consumer;
      expect(outcome).to.be.instanceOf(TimeoutError);
      expect(time.countTimers()).to.equal(0);
      expect(cond.locked).to.equal(false);
    });

    it('rejects when its signal fires while it queues to re-acquire the lock after a notification', async () => {
      const cond = new AsyncCondition();
      const controller = new AbortController();
      const reason = new Error('stop');
      const consumer = cond
        .run(() => cond.waitFor(() => false, { signal: controller.signal }))
        .catch((error: unknown) => error);
      await flush();
      const guard = await cond.acquire();
      cond.notify(); // the consumer now queues for the lock: no longer cancellable in this wait
      controller.abort(reason); // but the whole call is
      guard.release();
      expect(await consumer).to.equal(reason);
      expect(cond.waiting).to.equal(0);
      expect(cond.locked).to.equal(false);
    });

    it('times out when its deadline passes while it queues to re-acquire the lock', async () => {
      const time = useFakeTime();
      const cond = new AsyncCondition();
      const consumer = cond
        .run(() => cond.waitFor(() => false, { timeout: 20 }))
        .catch((error: unknown) => error);
      await flush();
      const guard = await cond.acquire();
      cond.notify();
      await time.tickAsync(20);
      guard.release();
      expect(await consumer).to.be.instanceOf(TimeoutError);
      expect(cond.locked).to.equal(false);
      expect(time.countTimers()).to.equal(0);
    });

    it('propagates an abort of the caller signal and rejects a predicate that is not a function', async () => {
      const cond = new AsyncCondition();
      const controller = new AbortController();
      const reason = new Error('stop');
      const consumer = cond.run(() => cond.waitFor(() => false, { signal: controller.signal }));
      await flush();
      controller.abort(reason);
      expect(await consumer.catch((error: unknown) => error)).to.equal(reason);
      const bad = await cond
        .run(() => cond.waitFor(42 as unknown as () => boolean))
        .catch((error: unknown) => error);
      expect(bad)
        .to.be.instanceOf(TypeError)
        .with.property('message')
        .that.matches(/predicate/);
    });
  });

  describe('sharing a lock', () => {
    it('lets two conditions on one lock wake their own waiters only', async () => {
      const lock = new AsyncLock();
      const notEmpty = new AsyncCondition(lock, { name: 'notEmpty' });
      const notFull = new AsyncCondition(lock, { name: 'notFull' });
      const log: string[] = [];
      const a = waiter(notEmpty, log, 'consumer');
      const b = waiter(notFull, log, 'producer');
      await flush();
      await lock.run(() => notFull.notify());
      await b;
      expect(log).to.deep.equal(['consumer:waiting', 'producer:waiting', 'producer:woken(locked=true)']);
      expect(notEmpty.waiting).to.equal(1);
      await lock.run(() => notEmpty.notify());
      await a;
      expect(log.at(-1)).to.equal('consumer:woken(locked=true)');
    });
  });

  describe('construction and introspection', () => {
    it('creates its own lock when none is given and rejects what is not a lock', () => {
      expect(new AsyncCondition().lock).to.be.instanceOf(AsyncLock);
      expect(() => new AsyncCondition({} as AsyncLock)).to.throw(TypeError, /lock must be an AsyncLock/);
      expect(() => new AsyncCondition(undefined, { name: 7 as unknown as string })).to.throw(
        TypeError,
        /name/,
      );
    });

    it('describes its state', async () => {
      const cond = new AsyncCondition(undefined, { name: 'items' });
      expect(String(cond)).to.equal('AsyncCondition(items)[unlocked, waiting=0]');
      const task = cond.run(() => cond.wait());
      await flush();
      const guard = await cond.acquire();
      expect(String(cond)).to.equal('AsyncCondition(items)[locked, waiting=1]');
      cond.notify();
      guard.release();
      await task;
    });
  });

  describe('over every schedule (the harness)', () => {
    /** Fails with the schedule and trace of the first failing interleaving; returns how many were run. */
    async function proven(scenario: Scenario): Promise<number> {
      const result = await explore(scenario, { strategy: 'dfs', runs: 50_000 });
      if (result.failure !== undefined) {
        const { error, schedule, trace } = result.failure;
        throw new Error(`${String(error)}\nschedule: ${schedule}\n${trace.join('\n')}`);
      }
      expect(result.exhausted).to.equal(true);
      return result.runs;
    }

    it('an AsyncRLock wait sets every level aside and takes them back, excluding the others, whatever the order', async () => {
      const runs = await proven(async (sim) => {
        const rlock = new AsyncRLock({ name: 'r' });
        const cond = new AsyncCondition(rlock, { name: 'c' });
        let inside: string | undefined;
        let ready = false;
        const enter = (who: string) => {
          if (inside !== undefined) throw new Error(`${who} holds the lock while ${inside} does`);
          inside = who;
        };
        const leave = () => (inside = undefined);
        const waiter = (name: string, timeout?: number) => async () => {
          await rlock.run(async (outer) => {
            await rlock.run(
              async () => {
                enter(name);
                leave(); // a wait gives up the lock
                await cond
                  .waitFor(() => ready, { timeout })
                  .catch((error: unknown) => {
                    if (!(error instanceof TimeoutError)) throw error;
                  });
                enter(name);
                if (rlock.depth !== 2) throw new Error(`${name} woke at depth ${rlock.depth}, not 2`);
                await sim.yield();
                leave();
              },
              { owner: outer },
            );
          });
        };
        sim.spawn('patient', waiter('patient'));
        sim.spawn('hasty', waiter('hasty', 5));
        sim.spawn('setter', async () => {
          await sim.yield();
          const guard = await rlock.acquire();
          enter('setter');
          ready = true;
          cond.notifyAll();
          leave();
          guard.release();
        });
        await sim.run();
        if (rlock.locked || rlock.waiting !== 0 || cond.waiting !== 0) {
          throw new Error(`left ${rlock.toString()}, ${cond.toString()}`);
        }
      });
      expect(runs).to.be.greaterThan(10);
    });

    it('an AsyncLock wait whose guard is released while set aside ends the hold once taken back, in every order', async () => {
      const runs = await proven(async (sim) => {
        const lock = new AsyncLock({ name: 'l' });
        const cond = new AsyncCondition(lock, { name: 'c' });
        let waiting: Promise<void> | undefined;
        let guard: Guard | undefined;
        sim.spawn('abandoner', async () => {
          guard = await lock.acquire();
          waiting = cond.wait({ timeout: 3 }).catch(() => undefined); // not awaited before the release
          guard.release();
          await waiting;
          if (lock.locked && !guard.released) throw new Error('the abandoned hold came back alive');
        });
        sim.spawn('notifier', async () => {
          await sim.yield();
          await lock.run(async () => {
            cond.notify();
            await sim.yield();
          });
        });
        sim.spawn('other', async () => {
          await sim.yield();
          await lock.run(() => sim.yield());
        });
        await sim.run();
        await waiting;
        if (lock.locked || lock.waiting !== 0 || cond.waiting !== 0) {
          throw new Error(`left ${lock.toString()}, ${cond.toString()}`);
        }
      });
      expect(runs).to.be.greaterThan(5);
    });
  });
});
