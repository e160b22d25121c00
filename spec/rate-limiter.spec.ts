/**
 * AsyncRateLimiter: options, the token bucket and the sliding window at their edges, FIFO head-of-line, cancellation,
 * pauses, cancelWaiters, run/wrap, the one-timer rule. Time is sinon's fake clock throughout.
 */
import { expect } from 'chai';
import type sinon from 'sinon';
import { AsyncRateLimiter, CancelledError, TimeoutError } from '../lib/index.js';
import { flush, installFakeClock, observe, rejectionOf } from './suites/helpers.js';

describe('AsyncRateLimiter', () => {
  let clock: sinon.SinonFakeTimers;

  beforeEach(() => {
    clock = installFakeClock();
  });

  afterEach(() => {
    clock.restore();
  });

  /** Starts `count` acquires and records, in order, `id@time` as each is granted. */
  function queue(limiter: AsyncRateLimiter, ids: string[], permits: number[] = [], log: string[] = []) {
    return ids.map((id, i) =>
      limiter.acquire({ permits: permits[i] ?? 1 }).then(() => log.push(`${id}@${Date.now()}`)),
    );
  }

  describe('options', () => {
    const bad: [unknown, typeof TypeError | typeof RangeError, RegExp][] = [
      [undefined, TypeError, /options/],
      [null, TypeError, /options/],
      [{ interval: 1000 }, TypeError, /options\.limit/],
      [{ limit: 0, interval: 1000 }, RangeError, /options\.limit/],
      [{ limit: 1.5, interval: 1000 }, RangeError, /options\.limit/],
      [{ limit: '3', interval: 1000 }, TypeError, /options\.limit/],
      [{ limit: 2 ** 53, interval: 1000 }, RangeError, /options\.limit/],
      [{ limit: 3 }, TypeError, /options\.interval/],
      [{ limit: 3, interval: '1000' }, TypeError, /options\.interval/],
      [{ limit: 3, interval: 0 }, RangeError, /options\.interval/],
      [{ limit: 3, interval: -5 }, RangeError, /options\.interval/],
      [{ limit: 3, interval: NaN }, RangeError, /options\.interval/],
      [{ limit: 3, interval: Infinity }, RangeError, /options\.interval/],
      [{ limit: 3, interval: 1000, burst: 0 }, RangeError, /options\.burst/],
      [{ limit: 3, interval: 1000, burst: 2.5 }, RangeError, /options\.burst/],
      [{ limit: 3, interval: 1000, strict: true, burst: 5 }, RangeError, /options\.burst/],
      [{ limit: 3, interval: 1000, strict: 'yes' }, TypeError, /options\.strict/],
      [{ limit: 3, interval: 1000, name: 7 }, TypeError, /options\.name/],
    ];
    for (const [options, ErrorClass, message] of bad) {
      it(`rejects ${JSON.stringify(options) ?? String(options)} with ${ErrorClass.name}`, () => {
        expect(() => new AsyncRateLimiter(options as never)).to.throw(ErrorClass, message);
      });
    }

    it('defaults burst to limit, and shows its state', () => {
      const limiter = new AsyncRateLimiter({ limit: 3, interval: 1000, name: 'api' });
      expect([limiter.burst, limiter.strict, limiter.available, limiter.waiting]).to.deep.equal([
        3,
        false,
        3,
        0,
      ]);
      expect(limiter.name).to.equal('api');
      expect(String(limiter)).to.equal('AsyncRateLimiter(api)[available=3, waiting=0]');
      limiter.pauseFor(10);
      expect(String(limiter)).to.equal('AsyncRateLimiter(api)[available=0, waiting=0, paused]');
    });

    it('rejects bad permits: acquire rejects, tryAcquire throws, naming the argument', async () => {
      const limiter = new AsyncRateLimiter({ limit: 3, interval: 1000, burst: 5 });
      for (const [permits, ErrorClass] of [
        [0, RangeError],
        [1.5, RangeError],
        ['1', TypeError],
        [6, RangeError],
        [2 ** 60, RangeError],
      ] as const) {
        const error = await rejectionOf(limiter.acquire({ permits: permits as number }));
        expect(error).to.be.instanceOf(ErrorClass);
        expect((error as Error).message).to.match(/options\.permits/);
        expect(() => limiter.tryAcquire(permits as number)).to.throw(ErrorClass, /permits/);
      }
      const strict = new AsyncRateLimiter({ limit: 3, interval: 1000, strict: true });
      expect(() => strict.tryAcquire(4)).to.throw(RangeError, /limit \(3\)/);
      expect(await rejectionOf(limiter.acquire({ timeout: -1 }))).to.be.instanceOf(RangeError);
      expect(limiter.available).to.equal(5);
    });

    it('checks pauseFor(ms)', () => {
      const limiter = new AsyncRateLimiter({ limit: 3, interval: 1000 });
      expect(() => limiter.pauseFor('5' as never)).to.throw(TypeError, /ms/);
      for (const ms of [-1, NaN, Infinity]) expect(() => limiter.pauseFor(ms)).to.throw(RangeError, /ms/);
    });
  });

  describe('token bucket', () => {
    it('starts full with burst, then refills continuously at limit per interval', async () => {
      const limiter = new AsyncRateLimiter({ limit: 4, interval: 1000, burst: 6 });
      expect([1, 2, 3, 4, 5, 6, 7].map(() => limiter.tryAcquire())).to.deep.equal([
        ...Array<boolean>(6).fill(true),
        false,
      ]);
      clock.tick(249);
      expect(limiter.available).to.equal(0);
      clock.tick(1);
      expect(limiter.available).to.equal(1);
      clock.tick(10_000);
      expect(limiter.available).to.equal(6); // capped at burst
      await flush();
    });

    it('grants waiters at the exact moment their tokens are in, one timer at a time', async () => {
      const limiter = new AsyncRateLimiter({ limit: 3, interval: 1000 });
      const log: string[] = [];
      const all = queue(limiter, ['a', 'b', 'c', 'd', 'e', 'f'], [], log);
      await flush();
      expect(log).to.deep.equal(['a@0', 'b@0', 'c@0']);
      expect(clock.countTimers()).to.equal(1);
      await clock.tickAsync(2000);
      await Promise.all(all);
      // 1000/3 ms per token, rounded up to whole ms, with no drift: the third lands on 1000 exactly.
      expect(log).to.deep.equal(['a@0', 'b@0', 'c@0', 'd@334', 'e@667', 'f@1000']);
      expect(clock.countTimers()).to.equal(0);
    });

    it('after an idle hour behaves like a fresh full bucket', () => {
      const limiter = new AsyncRateLimiter({ limit: 5, interval: 100, burst: 8 });
      for (let i = 0; i < 8; i++) expect(limiter.tryAcquire()).to.equal(true);
      clock.tick(3_600_000);
      const fresh = new AsyncRateLimiter({ limit: 5, interval: 100, burst: 8 });
      const outcomes = (l: AsyncRateLimiter) => Array.from({ length: 10 }, () => l.tryAcquire());
      expect(outcomes(limiter)).to.deep.equal(outcomes(fresh));
      clock.tick(20);
      expect([limiter.available, fresh.available]).to.deep.equal([1, 1]);
    });
  });

  describe('strict sliding window', () => {
    it('frees a slot at t + interval exactly, never at a window edge', async () => {
      const limiter = new AsyncRateLimiter({ limit: 3, interval: 1000, strict: true });
      expect(limiter.tryAcquire()).to.equal(true); // 0
      clock.tick(500);
      expect(limiter.tryAcquire(2)).to.equal(true); // 500, 500
      clock.tick(499);
      expect(limiter.tryAcquire()).to.equal(false); // 999: three in [0, 1000)
      clock.tick(1);
      expect(limiter.available).to.equal(1); // 1000: the grant at 0 has left
      const log: string[] = [];
      const all = queue(limiter, ['a', 'b', 'c', 'd'], [], log);
      await clock.tickAsync(2000);
      await Promise.all(all);
      expect(log).to.deep.equal(['a@1000', 'b@1500', 'c@1500', 'd@2000']);
    });
  });

  describe('FIFO head-of-line', () => {
    it('a large request at the head blocks later small ones even while tokens are free', async () => {
      const limiter = new AsyncRateLimiter({ limit: 4, interval: 400 });
      expect(limiter.tryAcquire(4)).to.equal(true);
      const log: string[] = [];
      const all = queue(limiter, ['big', 'small'], [4, 1], log);
      await clock.tickAsync(100);
      expect(limiter.available).to.equal(1);
      expect(limiter.tryAcquire()).to.equal(false); // no barging past the queue either
      expect(log).to.deep.equal([]);
      await clock.tickAsync(800);
      await Promise.all(all);
      expect(log).to.deep.equal(['big@400', 'small@500']);
    });

    it('an abort removes the head at once and lets those behind through if they now fit', async () => {
      const limiter = new AsyncRateLimiter({ limit: 4, interval: 400, name: 'api' });
      limiter.tryAcquire(4);
      clock.tick(200); // 2 tokens in
      const controller = new AbortController();
      const big = observe(limiter.acquire({ permits: 4, signal: controller.signal }));
      const log: string[] = [];
      const small = queue(limiter, ['s1', 's2', 's3'], [], log);
      await flush();
      expect([limiter.waiting, log.length]).to.deep.equal([4, 0]);
      controller.abort(new Error('user left'));
      expect(limiter.waiting).to.equal(1); // removed, and s1, s2 granted, in the same step
      await flush();
      expect(big.state).to.equal('rejected');
      expect((big.reason as Error).message).to.equal('user left');
      expect(log).to.deep.equal(['s1@200', 's2@200']);
      expect(clock.countTimers()).to.equal(1);
      await clock.tickAsync(100);
      await Promise.all(small);
      expect(log).to.deep.equal(['s1@200', 's2@200', 's3@300']);
      expect(clock.countTimers()).to.equal(0);
    });

    it('a timeout does the same, with a TimeoutError naming the limiter', async () => {
      const limiter = new AsyncRateLimiter({ limit: 1, interval: 1000, strict: true, name: 'api' });
      limiter.tryAcquire();
      const first = observe(limiter.acquire({ timeout: 300 }));
      const second = observe(limiter.acquire());
      await clock.tickAsync(300);
      expect(first.state).to.equal('rejected');
      expect(first.reason).to.be.instanceOf(TimeoutError);
      expect((first.reason as Error).message).to.match(/AsyncRateLimiter\(api\) timed out after 300 ms/);
      expect(limiter.waiting).to.equal(1);
      await clock.tickAsync(700);
      expect(second.state).to.equal('fulfilled');
      expect(clock.countTimers()).to.equal(0);
    });

    it('timeout 0 spends only if free now; an aborted signal wins before anything', async () => {
      const limiter = new AsyncRateLimiter({ limit: 1, interval: 1000 });
      await limiter.acquire({ timeout: 0 });
      expect(await rejectionOf(limiter.acquire({ timeout: 0 }))).to.be.instanceOf(TimeoutError);
      clock.tick(1000);
      const reason = new Error('gone');
      expect(await rejectionOf(limiter.acquire({ signal: AbortSignal.abort(reason) }))).to.equal(reason);
      expect(limiter.available).to.equal(1);
      expect(clock.countTimers()).to.equal(0);
    });

    it('grant wins: an abort after the grant does nothing', async () => {
      const limiter = new AsyncRateLimiter({ limit: 1, interval: 100 });
      limiter.tryAcquire();
      const controller = new AbortController();
      const waiter = observe(limiter.acquire({ signal: controller.signal, timeout: 500 }));
      clock.tick(100);
      controller.abort();
      await flush();
      expect(waiter.state).to.equal('fulfilled');
      expect(clock.countTimers()).to.equal(0); // its timeout timer went with the grant
    });
  });

  describe('timers', () => {
    it('keeps exactly one pending timer for 1e5 waiters, and none once all have settled', async () => {
      const limiter = new AsyncRateLimiter({ limit: 1000, interval: 10 });
      expect(limiter.tryAcquire(1000)).to.equal(true);
      let granted = 0;
      const all: Promise<void>[] = [];
      for (let i = 0; i < 100_000; i++) all.push(limiter.acquire().then(() => void granted++));
      expect(clock.countTimers()).to.equal(1);
      await clock.tickAsync(500);
      expect(clock.countTimers()).to.equal(1);
      expect(granted).to.equal(50_000);
      await clock.tickAsync(500);
      await Promise.all(all);
      expect([granted, limiter.waiting, clock.countTimers()]).to.deep.equal([100_000, 0, 0]);
    });

    it('10,000 waits on one long-lived signal leave no listener and no timer', async () => {
      const limiter = new AsyncRateLimiter({ limit: 1, interval: 10 });
      const longLived = new AbortController().signal;
      let live = 0;
      const add = longLived.addEventListener.bind(longLived);
      const remove = longLived.removeEventListener.bind(longLived);
      longLived.addEventListener = ((type: string, listener: EventListenerOrEventListenerObject) => {
        live++;
        add(type, listener);
      }) as AbortSignal['addEventListener'];
      longLived.removeEventListener = ((type: string, listener: EventListenerOrEventListenerObject) => {
        live--;
        remove(type, listener);
      }) as AbortSignal['removeEventListener'];
      for (let round = 0; round < 2_500; round++) {
        clock.tick(10); // the bucket is full again
        await limiter.acquire({ signal: longLived, timeout: 1000 }); // at once
        const granted = limiter.acquire({ signal: longLived, timeout: 1000 }); // after 10 ms
        const own = new AbortController();
        const aborted = limiter.acquire({ signal: own.signal, timeout: 1000 });
        const timedOut = limiter.acquire({ signal: longLived, timeout: 5 });
        own.abort(new Error('aborted on purpose'));
        clock.tick(10);
        await granted;
        await aborted.catch(() => undefined);
        await timedOut.catch(() => undefined);
        if (live !== 0 || clock.countTimers() !== 0 || limiter.waiting !== 0) {
          throw new Error(`round ${round}: ${live} listeners, ${clock.countTimers()} timers, ${limiter}`);
        }
      }
    });

    it('holds no timer when nothing waits', async () => {
      const limiter = new AsyncRateLimiter({ limit: 2, interval: 10 });
      await limiter.acquire();
      await limiter.run(() => 1);
      expect(clock.countTimers()).to.equal(0);
    });
  });

  describe('pauseFor', () => {
    it('grants nothing until the pause ends; pauses extend to the latest end, not the sum', async () => {
      const limiter = new AsyncRateLimiter({ limit: 2, interval: 100 });
      limiter.pauseFor(1000);
      expect([limiter.available, limiter.tryAcquire()]).to.deep.equal([0, false]);
      const log: string[] = [];
      const all = queue(limiter, ['a', 'b', 'c', 'd', 'e'], [1, 1, 1, 1, 1], log);
      clock.tick(100);
      limiter.pauseFor(400); // ends at 500: earlier than 1000, changes nothing
      clock.tick(100);
      limiter.pauseFor(1000); // ends at 1200: the latest end wins
      expect(clock.countTimers()).to.equal(1);
      await clock.tickAsync(999); // 1199
      expect(log).to.deep.equal([]);
      await clock.tickAsync(1);
      // the bucket kept refilling during the pause, up to burst: two at once, then the rate, in order
      expect(log).to.deep.equal(['a@1200', 'b@1200']);
      await clock.tickAsync(200);
      await Promise.all(all);
      expect(log).to.deep.equal(['a@1200', 'b@1200', 'c@1250', 'd@1300', 'e@1350']);
      expect(clock.countTimers()).to.equal(0);
    });

    it('pauses a strict window too, and 0 does nothing', async () => {
      const limiter = new AsyncRateLimiter({ limit: 2, interval: 100, strict: true });
      limiter.pauseFor(0);
      expect(limiter.tryAcquire()).to.equal(true);
      limiter.pauseFor(50);
      const waiter = observe(limiter.acquire());
      await clock.tickAsync(49);
      expect(waiter.state).to.equal('pending');
      await clock.tickAsync(1);
      expect(waiter.state).to.equal('fulfilled');
    });
  });

  describe('cancelWaiters', () => {
    it('rejects each waiter with its own CancelledError, returns the count, leaves no timer', async () => {
      const limiter = new AsyncRateLimiter({ limit: 1, interval: 1000, name: 'api' });
      limiter.tryAcquire();
      const waiters = [observe(limiter.acquire()), observe(limiter.acquire())];
      expect(limiter.cancelWaiters()).to.equal(2);
      expect(clock.countTimers()).to.equal(0);
      await flush();
      const [a, b] = waiters.map((w) => w.reason as Error);
      expect(a).to.be.instanceOf(CancelledError);
      expect(a).not.to.equal(b);
      expect([a!.name, a!.message]).to.deep.equal([
        'CancelledError',
        'AsyncRateLimiter(api): the wait was cancelled',
      ]);
      expect(limiter.cancelWaiters()).to.equal(0);
      // later calls queue as usual
      const later = observe(limiter.acquire());
      await clock.tickAsync(1000);
      expect(later.state).to.equal('fulfilled');
    });

    it('with a reason, every waiter gets that same value', async () => {
      const limiter = new AsyncRateLimiter({ limit: 1, interval: 1000 });
      limiter.tryAcquire();
      const reason = { shutdown: true };
      const waiters = [observe(limiter.acquire()), observe(limiter.run(() => 1))];
      expect(limiter.cancelWaiters(reason)).to.equal(2);
      await flush();
      expect(waiters.map((w) => w.reason)).to.deep.equal([reason, reason]);
      expect(waiters[0]!.reason).to.equal(reason);
      // An explicit undefined is a reason too, as for every primitive's cancelWaiters.
      const more = [observe(limiter.acquire()), observe(limiter.acquire())];
      expect(limiter.cancelWaiters(undefined)).to.equal(2);
      await flush();
      expect(more.map((w) => [w.state, w.reason])).to.deep.equal([
        ['rejected', undefined],
        ['rejected', undefined],
      ]);
    });
  });

  describe('run and wrap', () => {
    it('run returns what fn returns, propagates its error, and spends its permits either way', async () => {
      const limiter = new AsyncRateLimiter({ limit: 3, interval: 1000 });
      expect(await limiter.run(() => Promise.resolve('ok'), { permits: 2 })).to.equal('ok');
      const error = await rejectionOf(
        limiter.run(() => {
          throw new Error('boom');
        }),
      );
      expect((error as Error).message).to.equal('boom');
      expect(limiter.available).to.equal(0);
      expect(await rejectionOf(limiter.run('nope' as never))).to.be.instanceOf(TypeError);
    });

    it('wrap limits every call, with its options; a non-function is a TypeError at once', async () => {
      const limiter = new AsyncRateLimiter({ limit: 2, interval: 100, name: 'api' });
      const add = limiter.wrap((a: number, b: number) => a + b, { permits: 2 });
      const first = observe(add(1, 2));
      const second = observe(add(3, 4));
      await flush();
      expect([first.value, second.state]).to.deep.equal([3, 'pending']);
      await clock.tickAsync(100);
      expect(second.value).to.equal(7);
      expect(() => limiter.wrap(42 as never)).to.throw(TypeError, /AsyncRateLimiter\(api\)\.wrap: fn/);
    });
  });
});
