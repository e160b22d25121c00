import { expect } from 'chai';
import sinon from 'sinon';
import { TimeoutError } from '../../lib/errors.js';
import type { Guard } from '../../lib/core/guard.js';
import { cancelTimer, installHook, type ParkedWaiter, type SchedulerHook } from '../../lib/core/scheduler.js';
import { WaitQueue, type WaitHandle } from '../../lib/core/wait-queue.js';
import type { Waiter } from '../../lib/core/waiter.js';
import { flush, installFakeClock, observe, type Observed } from '../suites/helpers.js';

/** Parks one waiter per label, each carrying its label as its value, and observes its promise. */
function parkAll(
  queue: WaitQueue<string, string>,
  labels: string[],
  options?: Parameters<WaitQueue<string, string>['park']>[0],
) {
  const observed = new Map<string, Observed<string>>();
  for (const label of labels) observed.set(label, observe(queue.park(options, label, 0, handles)));
  return observed;
}

/** The handles of the waiters parked by {@link parkAll} and {@link recordSettlements}. */
let handles: WaitHandle<string>[] = [];

function labels(queue: WaitQueue<string, string>): unknown[] {
  return queue.values();
}

/** The waiter object behind the handle of the waiter parked (last) with `label`, to look at its internals. */
function waiterOf(_queue: WaitQueue<string, string>, label: string): Waiter<string, string> {
  const found = [...handles].reverse().find((handle) => handle.value === label);
  if (found === undefined) throw new Error(`no waiter ${label}`);
  return found as Waiter<string, string>;
}

/** Records the order in which promises settle. */
function recordSettlements(queue: WaitQueue<string, string>, labelsToPark: string[], events: string[]) {
  for (const label of labelsToPark) {
    queue.park(undefined, label, 0, handles).then(
      (value) => events.push(`${label}:granted(${value})`),
      (reason: unknown) => events.push(`${label}:rejected(${String(reason)})`),
    );
  }
}

describe('core/WaitQueue', () => {
  const owner = { label: 'Owner(q)' };
  let clock: sinon.SinonFakeTimers | undefined;

  afterEach(() => {
    clock?.restore();
    clock = undefined;
    installHook(undefined);
    handles = [];
  });

  describe('park', () => {
    it('queues waiters FIFO and reports size, head and iteration order', () => {
      const queue = new WaitQueue<string, string>(owner);
      expect(queue.size).to.equal(0);
      expect(queue.bestValue).to.equal(undefined);
      parkAll(queue, ['a', 'b', 'c']);
      expect(queue.size).to.equal(3);
      expect(queue.bestValue).to.equal('a');
      expect(labels(queue)).to.deep.equal(['a', 'b', 'c']);
      expect(waiterOf(queue, 'a').waitingOn).to.equal(owner);
    });

    it('keeps the value it was given, typed', () => {
      const queue = new WaitQueue<string, number>(owner);
      void queue.park(undefined, 3);
      void queue.park(undefined, 1);
      expect(queue.values()).to.deep.equal([3, 1]);
    });

    it('timeout 0 rejects with TimeoutError naming the owner without queueing', async () => {
      const queue = new WaitQueue<string, string>(owner);
      const parked = observe(queue.park({ timeout: 0 }));
      expect(queue.size).to.equal(0);
      await flush();
      expect(parked.reason).to.be.instanceOf(TimeoutError);
      expect((parked.reason as Error).message).to.equal('Owner(q) timed out after 0 ms');
    });
  });

  describe('grant', () => {
    it('grants the head with a value, unlinks it at once and leaves the rest in order', async () => {
      const queue = new WaitQueue<string, string>(owner);
      const events: string[] = [];
      recordSettlements(queue, ['a', 'b', 'c'], events);
      const head = waiterOf(queue, 'a');
      queue.grantBest('x');
      expect(queue.size).to.equal(2);
      expect(labels(queue)).to.deep.equal(['b', 'c']);
      expect(head.queue).to.equal(undefined);
      expect(head.waitingOn).to.equal(undefined);
      queue.grantBest('y');
      await flush();
      expect(events).to.deep.equal(['a:granted(x)', 'b:granted(y)']);
    });

    it('grant wins: a later abort or timeout of a granted waiter does nothing', async () => {
      clock = installFakeClock();
      const onCancel = sinon.spy();
      const queue = new WaitQueue<string, string>(owner, onCancel);
      const controller = new AbortController();
      const parked = observe(queue.park({ signal: controller.signal, timeout: 10 }));
      queue.grantBest('mine');
      expect(clock.countTimers()).to.equal(0);
      controller.abort();
      await clock.tickAsync(10);
      expect(parked.state).to.equal('fulfilled');
      expect(parked.value).to.equal('mine');
      expect(onCancel.called).to.equal(false);
      expect(queue.size).to.equal(0);
    });

    it('grantAll grants every waiter in FIFO order with the same value', async () => {
      const queue = new WaitQueue<string, string>(owner);
      const events: string[] = [];
      recordSettlements(queue, ['a', 'b', 'c'], events);
      queue.grantAll('go');
      expect(queue.size).to.equal(0);
      await flush();
      expect(events).to.deep.equal(['a:granted(go)', 'b:granted(go)', 'c:granted(go)']);
    });

    it('grantAll leaves waiters parked during it (by a hook that resumes at once) in the queue', async () => {
      const queue = new WaitQueue<string, string>(owner);
      const parkedDuring: Promise<string>[] = [];
      installHook({
        parked() {},
        wake(waiter: ParkedWaiter) {
          waiter.resume();
          // Resumed code that parks again at once must not be granted by the same grantAll.
          parkedDuring.push(queue.park(undefined, 'again'));
        },
        setTimer: () => {
          throw new Error('no timers here');
        },
      });
      parkAll(queue, ['a', 'b']);
      queue.grantAll('go');
      expect(parkedDuring).to.have.length(2);
      expect(queue.size).to.equal(2);
      expect(labels(queue)).to.deep.equal(['again', 'again']);
    });
  });

  describe('cancel', () => {
    it('removing a middle waiter keeps the others in order', async () => {
      const onCancel = sinon.spy();
      const queue = new WaitQueue<string, string>(owner, onCancel);
      const observed = parkAll(queue, ['a', 'b', 'c', 'd', 'e']);
      const c = waiterOf(queue, 'c');
      queue.cancel(c, 'gone');
      expect(labels(queue)).to.deep.equal(['a', 'b', 'd', 'e']);
      expect(queue.size).to.equal(4);
      expect(onCancel.calledOnceWithExactly(c)).to.equal(true);
      // Removing the head and the tail keeps the links consistent in both directions.
      queue.cancel(waiterOf(queue, 'a'), 'gone');
      queue.cancel(waiterOf(queue, 'e'), 'gone');
      expect(labels(queue)).to.deep.equal(['b', 'd']);
      expect(queue.bestValue).to.equal('b');
      void queue.park(undefined, 'f');
      expect(labels(queue)).to.deep.equal(['b', 'd', 'f']);
      queue.cancel(waiterOf(queue, 'd'), 'gone');
      queue.grantBest('B');
      expect(labels(queue)).to.deep.equal(['f']);
      await flush();
      expect(observed.get('c')?.reason).to.equal('gone');
      expect(observed.get('b')?.value).to.equal('B');
    });

    it('does nothing for a waiter that was already granted or cancelled', async () => {
      const onCancel = sinon.spy();
      const queue = new WaitQueue<string, string>(owner, onCancel);
      const observed = parkAll(queue, ['a', 'b']);
      const a = waiterOf(queue, 'a');
      queue.grantBest('A');
      queue.cancel(a, 'late');
      const b = waiterOf(queue, 'b');
      queue.cancel(b, 'first');
      queue.cancel(b, 'second');
      expect(onCancel.callCount).to.equal(1);
      expect(queue.size).to.equal(0);
      await flush();
      expect(observed.get('a')?.state).to.equal('fulfilled');
      expect(observed.get('b')?.reason).to.equal('first');
    });

    it('an abort cancels with signal.reason and calls onCancel after the removal', async () => {
      const seen: number[] = [];
      const queue: WaitQueue<string, string> = new WaitQueue<string, string>(owner, () =>
        seen.push(queue.size),
      );
      const controller = new AbortController();
      const kept = observe(queue.park(undefined, 'kept'));
      const aborted = observe(queue.park({ signal: controller.signal }, 'aborted'));
      controller.abort('why');
      expect(seen).to.deep.equal([1]);
      expect(labels(queue)).to.deep.equal(['kept']);
      await flush();
      expect(aborted.reason).to.equal('why');
      expect(kept.state).to.equal('pending');
    });

    it('a timeout cancels with a TimeoutError naming the owner and the delay', async () => {
      clock = installFakeClock();
      const queue = new WaitQueue<string, string>(owner);
      const timed = observe(queue.park({ timeout: 40 }, 'timed'));
      await clock.tickAsync(39);
      expect(queue.size).to.equal(1);
      await clock.tickAsync(1);
      expect(queue.size).to.equal(0);
      expect(timed.reason).to.be.instanceOf(TimeoutError);
      expect((timed.reason as Error).message).to.equal('Owner(q) timed out after 40 ms');
      expect(clock.countTimers()).to.equal(0);
    });
  });

  describe('rejectAll', () => {
    it('rejects every waiter in FIFO order, each with its own reason, and drops listeners and timers', async () => {
      clock = installFakeClock();
      const onCancel = sinon.spy();
      const queue = new WaitQueue<string, string>(owner, onCancel);
      const controller = new AbortController();
      const removeEventListener = sinon.spy(controller.signal, 'removeEventListener');
      const events: string[] = [];
      for (const label of ['a', 'b', 'c']) {
        queue.park({ signal: controller.signal, timeout: 100 }, label).catch((reason: Error) => {
          events.push(`${label}:${reason.message}`);
          return reason;
        });
      }
      const reasons: Error[] = [];
      queue.rejectAll((value) => {
        const reason = new Error(`closed ${value}`);
        reasons.push(reason);
        return reason;
      });
      expect(queue.size).to.equal(0);
      expect(clock.countTimers()).to.equal(0);
      expect(removeEventListener.callCount).to.equal(1); // the one listener the three waiters shared
      expect(new Set(reasons).size).to.equal(3);
      expect(onCancel.called).to.equal(false);
      await flush();
      expect(events).to.deep.equal(['a:closed a', 'b:closed b', 'c:closed c']);
    });
  });

  describe('moveTo', () => {
    it('moves the first n waiters, in order, to the tail of another queue', async () => {
      const source = new WaitQueue<string, string>(owner);
      const targetOwner = { label: 'Target' };
      const target = new WaitQueue<string, string>(targetOwner);
      const observed = parkAll(source, ['a', 'b', 'c']);
      parkAll(target, ['t']);
      expect(source.repark(target, 2)).to.equal(2);
      expect(labels(source)).to.deep.equal(['c']);
      expect(labels(target)).to.deep.equal(['t', 'a', 'b']);
      expect(source.size).to.equal(1);
      expect(target.size).to.equal(3);
      expect(waiterOf(target, 'a').waitingOn).to.equal(targetOwner);
      target.grantAll('T');
      await flush();
      expect(observed.get('a')?.value).to.equal('T');
      expect(observed.get('b')?.value).to.equal('T');
      expect(observed.get('c')?.state).to.equal('pending');
    });

    it('returns how many it moved when there were fewer than asked', () => {
      const source = new WaitQueue<string, string>(owner);
      const target = new WaitQueue<string, string>(owner);
      parkAll(source, ['a']);
      expect(source.repark(target, 5)).to.equal(1);
      expect(source.repark(target, 5)).to.equal(0);
      expect(labels(target)).to.deep.equal(['a']);
    });

    it('a moved waiter is no longer cancellable: its listener and timer are gone', async () => {
      clock = installFakeClock();
      const sourceCancel = sinon.spy();
      const targetCancel = sinon.spy();
      const source = new WaitQueue<string, string>(owner, sourceCancel);
      const target = new WaitQueue<string, string>(owner, targetCancel);
      const controller = new AbortController();
      const moved = observe(source.park({ signal: controller.signal, timeout: 10 }, 'moved'));
      source.repark(target, 1);
      expect(clock.countTimers()).to.equal(0);
      controller.abort();
      await clock.tickAsync(10);
      expect(labels(target)).to.deep.equal(['moved']);
      expect(moved.state).to.equal('pending');
      expect(sourceCancel.called || targetCancel.called).to.equal(false);
      target.grantBest('ok');
      await flush();
      expect(moved.value).to.equal('ok');
    });
  });

  describe('moveTo, keeping the waiters cancellable', () => {
    it('a moved waiter keeps its signal and timer, and is cancelled from its new queue', async () => {
      clock = installFakeClock();
      const sourceCancel = sinon.spy();
      const targetCancel = sinon.spy();
      const source = new WaitQueue<string, string>(owner, sourceCancel);
      const target = new WaitQueue<string, string>(owner, targetCancel);
      const controller = new AbortController();
      const aborted = observe(source.park({ signal: controller.signal }, 'aborted'));
      const timed = observe(source.park({ timeout: 10 }, 'timed'));
      expect(source.repark(target, 2, true)).to.equal(2);
      expect(labels(target)).to.deep.equal(['aborted', 'timed']);
      controller.abort('why');
      expect(labels(target)).to.deep.equal(['timed']);
      await clock.tickAsync(10);
      expect(target.size).to.equal(0);
      expect(aborted.reason).to.equal('why');
      expect(timed.reason).to.be.instanceOf(TimeoutError);
      expect(sourceCancel.called).to.equal(false);
      expect(targetCancel.callCount).to.equal(2);
    });

    it('the target may be chosen per waiter', () => {
      const source = new WaitQueue<string, string>(owner);
      const even = new WaitQueue<string, string>(owner);
      const odd = new WaitQueue<string, string>(owner);
      parkAll(source, ['a', 'b', 'c', 'd']);
      const pick = (value: string) => (['a', 'c'].includes(value) ? even : odd);
      expect(source.repark(pick, 3)).to.equal(3);
      expect(labels(even)).to.deep.equal(['a', 'c']);
      expect(labels(odd)).to.deep.equal(['b']);
      expect(labels(source)).to.deep.equal(['d']);
    });
  });

  describe('timers', () => {
    it('a timeout above 2^31-1 ms still waits the full time', async () => {
      clock = installFakeClock();
      const queue = new WaitQueue<string, string>(owner);
      const timeout = 2 ** 31 + 5_000;
      const parked = observe(queue.park({ timeout }, 'long'));
      await clock.tickAsync(2 ** 31);
      expect(parked.state).to.equal('pending');
      expect(queue.size).to.equal(1);
      await clock.tickAsync(timeout - 2 ** 31 - 1);
      expect(parked.state).to.equal('pending');
      await clock.tickAsync(1);
      expect(parked.state).to.equal('rejected');
      expect(parked.reason).to.be.instanceOf(TimeoutError);
      expect(clock.countTimers()).to.equal(0);
    });

    it('a grant clears a long timer, also after it re-armed', async () => {
      clock = installFakeClock();
      const queue = new WaitQueue<string, string>(owner);
      const parked = observe(queue.park({ timeout: 2 ** 33 }, 'long'));
      await clock.tickAsync(2 ** 32);
      expect(clock.countTimers()).to.equal(1);
      queue.grantBest('done');
      expect(clock.countTimers()).to.equal(0);
      await clock.tickAsync(2 ** 33);
      expect(parked.value).to.equal('done');
    });
  });

  describe('with a scheduler hook', () => {
    it('reports parking, and delivers outcomes only when the hook resumes the waiter', async () => {
      const parked: ParkedWaiter[] = [];
      const woken: ParkedWaiter[] = [];
      const hook: SchedulerHook = {
        parked: (waiter) => parked.push(waiter),
        wake: (waiter) => woken.push(waiter),
        setTimer: () => ({ [cancelTimer]: () => {} }),
      };
      installHook(hook);
      const queue = new WaitQueue<string, string>(owner);
      const a = observe(queue.park(undefined, 'a'));
      const b = observe(queue.park(undefined, 'b'));
      expect(parked.map((waiter) => (waiter as Waiter<string, string>).value)).to.deep.equal(['a', 'b']);
      queue.grantBest('A');
      queue.cancel(parked[1] as Waiter<string, string>, 'B gone');
      expect(queue.size).to.equal(0);
      expect(woken).to.deep.equal(parked);
      await flush();
      expect([a.state, b.state]).to.deep.equal(['pending', 'pending']);
      woken[1]?.resume();
      await flush();
      expect([a.state, b.state]).to.deep.equal(['pending', 'rejected']);
      expect(b.reason).to.equal('B gone');
      woken[0]?.resume();
      await flush();
      expect(a.value).to.equal('A');
    });
  });

  describe('priorities', () => {
    /** Parks `label:priority` entries, each with its label as value. */
    const parkWith = (queue: WaitQueue<string, string>, entries: [string, number][]) => {
      for (const [label, priority] of entries)
        void queue.park(undefined, label, priority).catch(() => undefined);
    };

    it('serves the larger priority first, FIFO among equals, negative ones after the default', () => {
      const queue = new WaitQueue<string, string>(owner);
      parkWith(queue, [
        ['a', 0],
        ['b', 5],
        ['c', -1],
        ['d', 5],
        ['e', 0],
        ['f', 2.5],
      ]);
      expect(labels(queue)).to.deep.equal(['b', 'd', 'f', 'a', 'e', 'c']);
      const served: unknown[] = [];
      for (let best = queue.bestValue; best !== undefined; best = queue.bestValue) {
        served.push(best);
        queue.grantBest('ok');
      }
      expect(served).to.deep.equal(['b', 'd', 'f', 'a', 'e', 'c']);
      expect(queue.size).to.equal(0);
      expect(queue.statistics()).to.deep.equal({ waiting: 0, closed: false, bestPriority: undefined });
    });

    it('a cancelled waiter of a priority level leaves it at once; an emptied level is skipped', async () => {
      const queue = new WaitQueue<string, string>(owner);
      const controller = new AbortController();
      const high = observe(queue.park({ signal: controller.signal }, 'high', 9));
      parkWith(queue, [
        ['low', 0],
        ['mid', 3],
      ]);
      expect(queue.bestValue).to.equal('high');
      controller.abort(new Error('gone'));
      expect(queue.size).to.equal(2);
      expect(queue.bestValue).to.equal('mid');
      expect(queue.statistics().bestPriority).to.equal(3);
      parkWith(queue, [['again', 9]]);
      expect(labels(queue)).to.deep.equal(['again', 'mid', 'low']);
      await flush();
      expect(high.state).to.equal('rejected');
    });

    it('repark keeps each waiter its priority in the target queue', () => {
      const source = new WaitQueue<string, string>(owner);
      const target = new WaitQueue<string, string>(owner);
      parkWith(target, [['t0', 0]]);
      parkWith(source, [
        ['s0', 0],
        ['s7', 7],
      ]);
      expect(source.repark(target, 2)).to.equal(2);
      expect(labels(target)).to.deep.equal(['s7', 't0', 's0']);
      expect(target.bestPriority).to.equal(7);
    });
  });

  describe('rejectAll, close and reopen', () => {
    it('rejectAll returns how many it rejected, and later parks queue as usual', async () => {
      const queue = new WaitQueue<string, string>(owner);
      const parked = parkAll(queue, ['a', 'b']);
      const shared = new Error('cancelled');
      expect(queue.rejectAll(() => shared)).to.equal(2);
      expect(queue.rejectAll(() => shared)).to.equal(0);
      const later = observe(queue.park(undefined, 'c'));
      expect(queue.size).to.equal(1);
      await flush();
      expect([...parked.values()].map((o) => o.reason)).to.deep.equal([shared, shared]);
      expect(later.state).to.equal('pending');
    });

    it('close rejects every waiter and every later park until reopen', async () => {
      const queue = new WaitQueue<string, string>(owner);
      const parked = parkAll(queue, ['a', 'b']);
      const closed = queue.close((value) => new Error(`closed ${value ?? 'at once'}`));
      expect(closed).to.equal(2);
      expect(queue.closed).to.equal(true);
      expect(queue.statistics()).to.deep.equal({ waiting: 0, closed: true, bestPriority: undefined });
      const refused = observe(queue.park(undefined, 'c'));
      expect(queue.size).to.equal(0);
      queue.reopen();
      const accepted = observe(queue.park(undefined, 'd'));
      expect(queue.size).to.equal(1);
      await flush();
      expect([...parked.values()].map((o) => (o.reason as Error).message)).to.deep.equal([
        'closed a',
        'closed b',
      ]);
      expect((refused.reason as Error).message).to.equal('closed at once');
      expect(accepted.state).to.equal('pending');
    });

    it('an aborted signal wins over a closed queue', async () => {
      const queue = new WaitQueue<string, string>(owner);
      queue.close(() => new Error('closed'));
      const reason = new Error('aborted first');
      const parked = observe(queue.park({ signal: AbortSignal.abort(reason) }, 'a'));
      await flush();
      expect(parked.reason).to.equal(reason);
    });
  });

  describe('parkRun', () => {
    /** A guard that records its release. */
    const guardOf = (events: string[]): Guard => {
      const guard = {
        released: false,
        release() {
          if (guard.released) return;
          guard.released = true;
          events.push('released');
        },
        [Symbol.dispose]() {
          guard.release();
        },
      };
      return guard;
    };

    it('starts fn on a later microtask after the grant, releases the guard when fn settles, then settles the run', async () => {
      const queue = new WaitQueue<Guard, undefined>(owner);
      const events: string[] = [];
      const run = observe(
        queue.parkRun(undefined, undefined, 0, async (guard) => {
          events.push(`fn(${String(guard.released)})`);
          await Promise.resolve();
          return 'result';
        }),
      );
      expect(queue.size).to.equal(1);
      queue.grantBest(guardOf(events));
      events.push('granted');
      await flush();
      expect(events).to.deep.equal(['granted', 'fn(false)', 'released']);
      expect(run.value).to.equal('result');
    });

    it('a throwing fn rejects the run after the guard is released; a cancelled run never calls fn', async () => {
      const queue = new WaitQueue<Guard, undefined>(owner);
      const events: string[] = [];
      const failure = new Error('fn failed');
      const failing = observe(
        queue.parkRun(undefined, undefined, 0, () => {
          throw failure;
        }),
      );
      const controller = new AbortController();
      const cancelled = observe(
        queue.parkRun({ signal: controller.signal }, undefined, 0, () => events.push('never called')),
      );
      queue.grantBest(guardOf(events));
      controller.abort(new Error('stop'));
      await flush();
      expect(events).to.deep.equal(['released']);
      expect(failing.reason).to.equal(failure);
      expect((cancelled.reason as Error).message).to.equal('stop');
      expect(queue.size).to.equal(0);
    });
  });

  describe('serveBest', () => {
    it('grants the best waiter what serve makes of its value, or rejects it with what serve threw', async () => {
      const queue = new WaitQueue<string, string>(owner);
      const observed = parkAll(queue, ['a', 'bad', 'c']);
      const serve = (value: string) => {
        if (value === 'bad') throw new Error(`refused ${value}`);
        return value.toUpperCase();
      };
      expect(queue.serveBest(serve)).to.equal(true);
      expect(queue.serveBest(serve)).to.equal(false);
      expect(queue.size).to.equal(1);
      expect(queue.serveBest(serve)).to.equal(true);
      expect(queue.serveBest(serve)).to.equal(false);
      await flush();
      expect(observed.get('a')?.value).to.equal('A');
      expect((observed.get('bad')?.reason as Error).message).to.equal('refused bad');
      expect(observed.get('c')?.value).to.equal('C');
    });
  });

  describe('rejectWhere', () => {
    it('rejects only the waiters whose value passes, best first, and leaves the rest in order', async () => {
      clock = installFakeClock();
      const onCancel = sinon.spy();
      const queue = new WaitQueue<string, string>(owner, onCancel);
      const events: string[] = [];
      for (const [label, priority] of [
        ['x1', 0],
        ['keep', 0],
        ['x2', 3],
        ['x3', 0],
      ] as const) {
        queue.park({ timeout: 50 }, label, priority).then(
          (value) => events.push(`${label}:${value}`),
          (reason: Error) => events.push(`${label}:${reason.message}`),
        );
      }
      const count = queue.rejectWhere(
        (value) => value.startsWith('x'),
        (value) => new Error(`no ${value}`),
      );
      expect(count).to.equal(3);
      expect(queue.values()).to.deep.equal(['keep']);
      expect(queue.size).to.equal(1);
      expect(clock.countTimers()).to.equal(1);
      expect(onCancel.called).to.equal(false);
      expect(
        queue.rejectWhere(
          () => false,
          () => 'never',
        ),
      ).to.equal(0);
      queue.grantBest('ok');
      await flush();
      expect(events).to.deep.equal(['x2:no x2', 'x1:no x1', 'x3:no x3', 'keep:ok']);
    });

    it('a ring packed by it still serves and cancels its waiter objects', async () => {
      const queue = new WaitQueue<string, number>(owner);
      const handles: WaitHandle<number>[] = [];
      for (let i = 0; i < 300; i++) void queue.park(undefined, i, 0, handles).catch(() => undefined);
      expect(
        queue.rejectWhere(
          (value) => value % 3 !== 0,
          () => 'gone',
        ),
      ).to.equal(200);
      expect(queue.size).to.equal(100);
      expect(queue.cancel(handles[297] as WaitHandle<number>, 'late')).to.equal(true);
      expect(queue.cancel(handles[296] as WaitHandle<number>, 'late')).to.equal(false);
      expect(queue.bestValue).to.equal(0);
      expect(queue.values().at(-1)).to.equal(294);
    });
  });

  describe('handles', () => {
    it('park collects a handle only when it queues; reparkHandle moves that waiter, still cancellable', async () => {
      const source = new WaitQueue<string, string>(owner);
      const target = new WaitQueue<string, string>({ label: 'Target' });
      const collected: WaitHandle<string>[] = [];
      const controller = new AbortController();
      const refused = observe(source.park({ timeout: 0 }, 'refused', 0, collected));
      const a = observe(source.park({ signal: controller.signal }, 'a', 0, collected));
      const b = observe(source.park(undefined, 'b', 0, collected));
      expect(collected.map((handle) => handle.value)).to.deep.equal(['a', 'b']);
      expect(source.reparkHandle(collected[1] as WaitHandle<string>, target)).to.equal(true);
      expect(source.reparkHandle(collected[1] as WaitHandle<string>, target)).to.equal(false);
      expect(source.values()).to.deep.equal(['a']);
      expect(target.values()).to.deep.equal(['b']);
      expect(source.reparkHandle(collected[0] as WaitHandle<string>, target)).to.equal(true);
      controller.abort(new Error('stop'));
      expect(target.values()).to.deep.equal(['b']);
      target.grantAll('moved');
      await flush();
      expect(refused.reason).to.be.instanceOf(TimeoutError);
      expect((a.reason as Error).message).to.equal('stop');
      expect(b.value).to.equal('moved');
    });

    it('repark collects a handle of each waiter it moves, in order', () => {
      const source = new WaitQueue<string, string>(owner);
      const target = new WaitQueue<string, string>(owner);
      parkAll(source, ['a', 'b', 'c']);
      const moved: WaitHandle<string>[] = [];
      expect(source.repark(target, 2, true, moved)).to.equal(2);
      expect(moved.map((handle) => handle.value)).to.deep.equal(['a', 'b']);
      expect(target.reparkHandle(moved[0] as WaitHandle<string>, source)).to.equal(true);
      expect(source.values()).to.deep.equal(['c', 'a']);
    });
  });

  describe('parkAlarmed', () => {
    it('an alarm that throws rejects its waiter with the error, and leaves no timer', async () => {
      clock = installFakeClock();
      const queue = new WaitQueue<string, undefined>(owner);
      const failure = new Error('poll failed');
      const polled = observe(
        queue.parkAlarmed({ timeout: 100 }, 10, () => {
          throw failure;
        }),
      );
      await clock.tickAsync(10);
      expect(polled.reason).to.equal(failure);
      expect(queue.size).to.equal(0);
      expect(clock.countTimers()).to.equal(0);
    });
  });
});
