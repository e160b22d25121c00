import { expect } from 'chai';
import sinon from 'sinon';
import { AsyncEvent, AsyncLock, AsyncSemaphore, TimeoutError, type Guard } from '../../lib/index.js';
import {
  cancelTimer,
  clearTimer,
  currentHook,
  installHook,
  setTimer,
  type HookTimer,
  type ParkedWaiter,
  type SchedulerHook,
} from '../../lib/core/scheduler.js';
import { flush, installFakeClock, observe } from '../suites/helpers.js';

/** A hook that records everything and resumes nothing on its own; timers are kept for the test to fire. */
class RecordingHook implements SchedulerHook {
  readonly log: string[] = [];
  readonly parkedWaiters: ParkedWaiter[] = [];
  readonly woken: ParkedWaiter[] = [];
  readonly timers = new Map<number, { callback: () => void; ms: number }>();
  private nextTimer = 1;

  parked(waiter: ParkedWaiter): void {
    this.parkedWaiters.push(waiter);
    this.log.push(`parked:${this.parkedWaiters.length}`);
  }

  wake(waiter: ParkedWaiter, _from?: object): void {
    this.woken.push(waiter);
    this.log.push(`wake:${this.parkedWaiters.indexOf(waiter) + 1}`);
  }

  setTimer(callback: () => void, ms: number, _waiter?: ParkedWaiter): HookTimer {
    const id = this.nextTimer++;
    this.timers.set(id, { callback, ms });
    this.log.push(`setTimer:${id}:${ms}`);
    return {
      [cancelTimer]: () => {
        this.timers.delete(id);
        this.log.push(`clearTimer:${id}`);
      },
    };
  }

  fire(id: number): void {
    const timer = this.timers.get(id);
    if (timer === undefined) throw new Error(`no timer ${id}`);
    this.timers.delete(id);
    timer.callback();
  }
}

describe('core/scheduler', () => {
  let clock: sinon.SinonFakeTimers | undefined;

  afterEach(() => {
    installHook(undefined);
    clock?.restore();
    clock = undefined;
  });

  describe('installHook', () => {
    it('installs, reports and removes the hook, returning the one it replaced', () => {
      expect(currentHook()).to.equal(undefined);
      const first = new RecordingHook();
      const second = new RecordingHook();
      expect(installHook(first)).to.equal(undefined);
      expect(currentHook()).to.equal(first);
      expect(installHook(second)).to.equal(first);
      expect(installHook(undefined)).to.equal(second);
      expect(currentHook()).to.equal(undefined);
    });

    it('keeps the hook in a global slot shared by every copy of the package', () => {
      const hook = new RecordingHook();
      installHook(hook);
      const slot = (globalThis as Record<symbol, { hook: unknown } | undefined>)[
        Symbol.for('coop-sync.scheduler')
      ];
      expect(slot?.hook).to.equal(hook);
    });
  });

  describe('timers without a hook', () => {
    it('uses globalThis.setTimeout looked up at call time, so a fake clock installed later controls it', async () => {
      clock = installFakeClock();
      const callback = sinon.spy();
      const handle = setTimer(callback, 10);
      expect(clock.countTimers()).to.equal(1);
      clock.tick(9);
      expect(callback.called).to.equal(false);
      clock.tick(1);
      expect(callback.calledOnce).to.equal(true);
      clearTimer(handle);
      const cleared = sinon.spy();
      clearTimer(setTimer(cleared, 10));
      expect(clock.countTimers()).to.equal(0);
      clock.tick(20);
      expect(cleared.called).to.equal(false);
    });

    it('a delay above 2^31-1 ms fires after the full delay, not at once', () => {
      clock = installFakeClock();
      const callback = sinon.spy();
      const delay = 2 ** 32 + 7;
      setTimer(callback, delay);
      clock.tick(1);
      expect(callback.called).to.equal(false);
      clock.tick(2 ** 31 - 1);
      expect(callback.called).to.equal(false);
      clock.tick(delay - 2 ** 31 - 1);
      expect(callback.called).to.equal(false);
      clock.tick(1);
      expect(callback.calledOnce).to.equal(true);
      expect(clock.countTimers()).to.equal(0);
    });

    it('a delay of exactly 2^31-1 ms is one timer', () => {
      clock = installFakeClock();
      const callback = sinon.spy();
      setTimer(callback, 2 ** 31 - 1);
      clock.tick(2 ** 31 - 2);
      expect(callback.called).to.equal(false);
      clock.tick(1);
      expect(callback.calledOnce).to.equal(true);
    });

    it('a long timer can be cleared before and after it re-armed', () => {
      clock = installFakeClock();
      const before = sinon.spy();
      clearTimer(setTimer(before, 2 ** 31 + 1));
      expect(clock.countTimers()).to.equal(0);
      const after = sinon.spy();
      const handle = setTimer(after, 2 ** 31 + 1);
      clock.tick(2 ** 31 - 1);
      expect(clock.countTimers()).to.equal(1);
      clearTimer(handle);
      expect(clock.countTimers()).to.equal(0);
      clock.tick(2 ** 32);
      expect(before.called || after.called).to.equal(false);
    });
  });

  describe('timers with a hook', () => {
    it('go through hook.setTimer with the full delay, and their handles clear themselves', () => {
      clock = installFakeClock();
      const hook = new RecordingHook();
      installHook(hook);
      const callback = sinon.spy();
      const handle = setTimer(callback, 2 ** 40);
      expect(hook.log).to.deep.equal([`setTimer:1:${2 ** 40}`]);
      expect(clock.countTimers()).to.equal(0);
      clearTimer(handle);
      expect(hook.log).to.deep.equal([`setTimer:1:${2 ** 40}`, 'clearTimer:1']);
      expect(callback.called).to.equal(false);
    });

    it('a timer started under a hook is cleared by that hook after the hook was removed', () => {
      clock = installFakeClock();
      const hook = new RecordingHook();
      installHook(hook);
      const handle = setTimer(() => {}, 10);
      installHook(undefined);
      clearTimer(handle);
      expect(hook.log).to.deep.equal(['setTimer:1:10', 'clearTimer:1']);
      expect(hook.timers.size).to.equal(0);
    });

    it("passes the waiter whose timeout it is, and wake names the queue's primitive and the outcome", async () => {
      const hook = new RecordingHook();
      const seen: unknown[] = [];
      hook.setTimer = (callback: () => void, ms: number, waiter?: ParkedWaiter) => {
        seen.push(waiter);
        return RecordingHook.prototype.setTimer.call(hook, callback, ms);
      };
      const woken: [boolean, unknown, object][] = [];
      hook.wake = (waiter: ParkedWaiter, from?: object) => {
        woken.push([waiter.granted, waiter.outcome, from!]);
      };
      installHook(hook);
      const lock = new AsyncLock();
      const guard = await lock.acquire();
      void lock.acquire({ timeout: 50 }).catch(() => {});
      expect(seen).to.deep.equal([hook.parkedWaiters[0]]);
      hook.fire(1);
      expect(woken).to.have.length(1);
      expect(woken[0]![0]).to.equal(false);
      expect(woken[0]![1]).to.be.instanceOf(TimeoutError);
      expect(woken[0]![2]).to.equal(lock);
      hook.parkedWaiters[0]!.resume();
      guard.release();
    });
  });

  describe('wake-ups through the hook', () => {
    it('a granted waiter is not resumed until the hook resumes it, but the lock is its at grant', async () => {
      const hook = new RecordingHook();
      installHook(hook);
      const lock = new AsyncLock({ name: 'db' });
      const holder = lock.tryAcquire() as Guard;
      const waiter = observe(lock.acquire());
      expect(hook.log).to.deep.equal(['parked:1']);
      const parked = hook.parkedWaiters[0] as ParkedWaiter;
      expect(parked.waitingOn).to.equal(lock);
      holder.release();
      expect(hook.log).to.deep.equal(['parked:1', 'wake:1']);
      // The state changed synchronously at the grant: nobody else can take the lock.
      expect(lock.locked).to.equal(true);
      expect(lock.waiting).to.equal(0);
      expect(lock.tryAcquire()).to.equal(undefined);
      expect(parked.waitingOn).to.equal(undefined);
      await flush();
      expect(waiter.state).to.equal('pending');
      expect(lock.locked).to.equal(true);
      parked.resume();
      await flush();
      expect(waiter.state).to.equal('fulfilled');
      (waiter.value as Guard).release();
      expect(lock.locked).to.equal(false);
    });

    it('an acquisition that succeeds at once is not a choice point', async () => {
      const hook = new RecordingHook();
      installHook(hook);
      const lock = new AsyncLock();
      const guard = await lock.acquire();
      guard.release();
      const semaphore = new AsyncSemaphore(2);
      (await semaphore.acquire({ permits: 2 })).release();
      expect(hook.log).to.deep.equal([]);
    });

    it("a waiter's timeout runs through hook.setTimer; the timed-out waiter resumes only when the hook says", async () => {
      clock = installFakeClock();
      const hook = new RecordingHook();
      installHook(hook);
      const lock = new AsyncLock({ name: 'db' });
      const holder = lock.tryAcquire() as Guard;
      const waiter = observe(lock.acquire({ timeout: 50 }));
      expect(hook.log).to.deep.equal(['setTimer:1:50', 'parked:1']);
      expect(clock.countTimers()).to.equal(0);
      hook.fire(1);
      expect(hook.log).to.deep.equal(['setTimer:1:50', 'parked:1', 'wake:1']);
      expect(lock.waiting).to.equal(0);
      await flush();
      expect(waiter.state).to.equal('pending');
      hook.woken[0]?.resume();
      await flush();
      expect(waiter.state).to.equal('rejected');
      expect(waiter.reason).to.be.instanceOf(TimeoutError);
      holder.release();
      expect(lock.locked).to.equal(false);
    });

    it('a grant clears the waiter timer through hook.clearTimer', async () => {
      const hook = new RecordingHook();
      installHook(hook);
      const lock = new AsyncLock();
      const holder = lock.tryAcquire() as Guard;
      void lock.acquire({ timeout: 50 });
      holder.release();
      expect(hook.log).to.deep.equal(['setTimer:1:50', 'parked:1', 'clearTimer:1', 'wake:1']);
      expect(hook.timers.size).to.equal(0);
    });

    it('an abort wakes through the hook and rejects with signal.reason on resume', async () => {
      const hook = new RecordingHook();
      installHook(hook);
      const lock = new AsyncLock();
      const holder = lock.tryAcquire() as Guard;
      const controller = new AbortController();
      const waiter = observe(lock.acquire({ signal: controller.signal }));
      controller.abort('stop');
      expect(hook.log).to.deep.equal(['parked:1', 'wake:1']);
      expect(lock.waiting).to.equal(0);
      await flush();
      expect(waiter.state).to.equal('pending');
      hook.woken[0]?.resume();
      await flush();
      expect(waiter.reason).to.equal('stop');
      holder.release();
    });

    it('the hook may resume woken waiters in any order it chooses', async () => {
      const hook = new RecordingHook();
      installHook(hook);
      const event = new AsyncEvent();
      const events: string[] = [];
      for (const label of ['a', 'b', 'c']) void event.wait().then(() => events.push(label));
      event.set();
      expect(hook.log).to.deep.equal(['parked:1', 'parked:2', 'parked:3', 'wake:1', 'wake:2', 'wake:3']);
      await flush();
      expect(events).to.deep.equal([]);
      for (const index of [2, 0, 1]) {
        hook.woken[index]?.resume();
        await flush();
      }
      expect(events).to.deep.equal(['c', 'a', 'b']);
    });

    it('a semaphore grants several waiters on one release, each woken through the hook', async () => {
      const hook = new RecordingHook();
      installHook(hook);
      const semaphore = new AsyncSemaphore(0);
      const a = observe(semaphore.acquire());
      const b = observe(semaphore.acquire({ permits: 2 }));
      semaphore.release(3);
      expect(hook.log).to.deep.equal(['parked:1', 'parked:2', 'wake:1', 'wake:2']);
      expect(semaphore.value).to.equal(0);
      await flush();
      expect([a.state, b.state]).to.deep.equal(['pending', 'pending']);
      for (const waiter of hook.woken) waiter.resume();
      await flush();
      expect([a.state, b.state]).to.deep.equal(['fulfilled', 'fulfilled']);
    });
  });
});
