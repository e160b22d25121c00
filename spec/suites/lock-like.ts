/**
 * The behaviour every lock-like primitive shares: exclusion, FIFO hand-off, cancellation, timeouts, guards and
 * argument checks. Run it against each of them (AsyncLock, AsyncSemaphore(1), AsyncBoundedSemaphore(1),
 * AsyncCondition, AsyncRLock) with `describeLockLike(name, make)`.
 */
import { expect } from 'chai';
import type sinon from 'sinon';
import { LockError, TimeoutError, type Guard, type WaitOptions } from '../../lib/index.js';
import { flush, installFakeClock, observe, rejectionOf, yieldTurns } from './helpers.js';

/** The members the suite uses: what AsyncLock, AsyncSemaphore, AsyncCondition and AsyncRLock have in common. */
export interface LockLike {
  acquire(options?: WaitOptions): Promise<Guard>;
  tryAcquire(): Guard | undefined;
  release(): void;
  run<T>(fn: (guard: Guard) => T | PromiseLike<T>, options?: WaitOptions): Promise<T>;
  toString(): string;
}

/** A fresh lock-like object plus the way to observe its state. */
export interface LockLikeSubject {
  lock: LockLike;
  /** Whether the lock is held now (`locked`, or `value === 0` for a semaphore of 1). */
  isHeld(): boolean;
  /** How many callers are queued for the lock (default `lock.waiting`). */
  queued?: () => number;
  /**
   * What `release()` throws when nothing is held: `LockError` (the default) or `RangeError` (a bounded
   * semaphore). `'adds-permit'` for a counting semaphore, whose `release()` then raises its value; the case is
   * left to that primitive's own spec.
   */
  unheldRelease?: 'LockError' | 'RangeError' | 'adds-permit';
  /**
   * Whether `lock.release()` ends the holder's guard, so that the stale guard can no longer release anything
   * (true for owner-tracking locks, the default). A counting semaphore tracks no owner: its guard still owns its
   * permits after a bare `release()`, so the stale-guard case is left to its own spec.
   */
  releaseEndsGuard?: boolean;
}

const badOptions: [
  label: string,
  options: unknown,
  error: typeof TypeError | typeof RangeError,
  names: RegExp,
][] = [
  ['timeout -1', { timeout: -1 }, RangeError, /options\.timeout/],
  ['timeout NaN', { timeout: NaN }, RangeError, /options\.timeout/],
  ["timeout '5'", { timeout: '5' }, TypeError, /options\.timeout/],
  ['timeout null', { timeout: null }, TypeError, /options\.timeout/],
  ['a signal that is not an AbortSignal', { signal: { aborted: true } }, TypeError, /options\.signal/],
  ['a string signal', { signal: 'abort' }, TypeError, /options\.signal/],
  ['options that are not an object', 5, TypeError, /options/],
  ['null options', null, TypeError, /options/],
];

/**
 * Registers the shared lock-like cases under `describe(name)`.
 *
 * @param make - builds a fresh, unheld subject for each case.
 */
export function describeLockLike(name: string, make: () => LockLikeSubject): void {
  describe(`${name} (lock-like behaviour)`, () => {
    let clock: sinon.SinonFakeTimers | undefined;

    afterEach(() => {
      clock?.restore();
      clock = undefined;
    });

    function subject() {
      const made = make();
      const lock = made.lock;
      const queued = made.queued ?? (() => (lock as unknown as { waiting: number }).waiting);
      return { ...made, lock, queued };
    }

    describe('mutual exclusion', () => {
      it('keeps critical sections that await from interleaving', async () => {
        const { lock, isHeld } = subject();
        const events: string[] = [];
        let inside = 0;
        let mostInside = 0;
        const worker = (label: string) =>
          lock.run(async () => {
            inside++;
            mostInside = Math.max(mostInside, inside);
            events.push(`${label}:enter`);
            await yieldTurns(3);
            events.push(`${label}:middle`);
            await yieldTurns(3);
            events.push(`${label}:exit`);
            inside--;
          });
        await Promise.all([worker('a'), worker('b'), worker('c')]);
        expect(events).to.deep.equal([
          'a:enter',
          'a:middle',
          'a:exit',
          'b:enter',
          'b:middle',
          'b:exit',
          'c:enter',
          'c:middle',
          'c:exit',
        ]);
        expect(mostInside).to.equal(1);
        expect(isHeld()).to.equal(false);
      });

      it('makes a second acquirer wait until the holder releases', async () => {
        const { lock, isHeld, queued } = subject();
        const events: string[] = [];
        const task = async (label: string, work: () => Promise<void>) => {
          if (isHeld()) events.push(`${label}:waiting`);
          const guard = await lock.acquire();
          events.push(`${label}:acquired`);
          await work();
          events.push(`${label}:released`);
          guard.release();
        };
        let finishA!: () => void;
        const a = task('a', () => new Promise<void>((resolve) => (finishA = resolve)));
        await flush();
        const b = task('b', () => yieldTurns(2));
        await flush();
        expect(events).to.deep.equal(['a:acquired', 'b:waiting']);
        expect(queued()).to.equal(1);
        finishA();
        await Promise.all([a, b]);
        expect(events).to.deep.equal(['a:acquired', 'b:waiting', 'a:released', 'b:acquired', 'b:released']);
        expect(isHeld()).to.equal(false);
        expect(queued()).to.equal(0);
      });
    });

    describe('fairness', () => {
      it('grants waiters in FIFO order', async () => {
        const { lock, queued } = subject();
        const events: string[] = [];
        const first = lock.tryAcquire() as Guard;
        expect(first).to.not.equal(undefined);
        const guards: Guard[] = [];
        for (const label of ['w1', 'w2', 'w3', 'w4', 'w5']) {
          void lock.acquire().then((guard) => {
            events.push(label);
            guards.push(guard);
          });
        }
        await flush();
        expect(events).to.deep.equal([]);
        expect(queued()).to.equal(5);
        first.release();
        for (let i = 1; i <= 5; i++) {
          await flush();
          expect(events).to.deep.equal(['w1', 'w2', 'w3', 'w4', 'w5'].slice(0, i));
          expect(queued()).to.equal(5 - i);
          guards[i - 1]?.release();
        }
      });

      it('keeps FIFO order when waiters arrive while others are being served', async () => {
        const { lock, isHeld } = subject();
        const events: string[] = [];
        const worker = async (label: string) => {
          events.push(`${label}:waiting`);
          await lock.run(async () => {
            events.push(`${label}:acquired`);
            await yieldTurns(2);
          });
        };
        const holder = lock.tryAcquire() as Guard;
        const a = worker('a');
        const b = worker('b');
        holder.release();
        const c = worker('c');
        await Promise.all([a, b, c]);
        expect(events).to.deep.equal([
          'a:waiting',
          'b:waiting',
          'c:waiting',
          'a:acquired',
          'b:acquired',
          'c:acquired',
        ]);
        expect(isHeld()).to.equal(false);
      });

      it('hands the lock to the queued waiter on release: a newcomer cannot barge in', async () => {
        const { lock, isHeld, queued } = subject();
        const a = lock.tryAcquire() as Guard;
        const b = observe(lock.acquire());
        a.release();
        // Handed to b in the same synchronous step.
        expect(isHeld()).to.equal(true);
        expect(queued()).to.equal(0);
        expect(lock.tryAcquire()).to.equal(undefined);
        const zero = observe(lock.acquire({ timeout: 0 }));
        const c = observe(lock.acquire());
        expect(queued()).to.equal(1);
        await flush();
        expect(b.state).to.equal('fulfilled');
        expect(zero.state).to.equal('rejected');
        expect(zero.reason).to.be.instanceOf(TimeoutError);
        expect(c.state).to.equal('pending');
        (b.value as Guard).release();
        await flush();
        expect(c.state).to.equal('fulfilled');
        (c.value as Guard).release();
        expect(isHeld()).to.equal(false);
      });
    });

    describe('cancellation racing a release', () => {
      it('abort first, then release: the aborted waiter rejects and the next waiter gets the lock', async () => {
        const { lock, isHeld, queued } = subject();
        const a = lock.tryAcquire() as Guard;
        const controller = new AbortController();
        const reason = new Error('stop b');
        const b = observe(lock.acquire({ signal: controller.signal }));
        const c = observe(lock.acquire());
        controller.abort(reason);
        expect(queued()).to.equal(1);
        a.release();
        await flush();
        expect(b.state).to.equal('rejected');
        expect(b.reason).to.equal(reason);
        expect(c.state).to.equal('fulfilled');
        expect(isHeld()).to.equal(true);
        (c.value as Guard).release();
        expect(isHeld()).to.equal(false);
        expect(queued()).to.equal(0);
      });

      it('abort first, then release, with no one else queued: the lock is left free', async () => {
        const { lock, isHeld, queued } = subject();
        const a = lock.tryAcquire() as Guard;
        const controller = new AbortController();
        const b = observe(lock.acquire({ signal: controller.signal }));
        controller.abort();
        a.release();
        expect(isHeld()).to.equal(false);
        expect(queued()).to.equal(0);
        await flush();
        expect(b.state).to.equal('rejected');
        expect(b.reason).to.equal(controller.signal.reason);
        // Nothing was lost: the lock can be taken again.
        const again = lock.tryAcquire();
        expect(again).to.not.equal(undefined);
        again?.release();
      });

      it('release first, then abort: the waiter was granted and keeps the lock', async () => {
        const { lock, isHeld, queued } = subject();
        const a = lock.tryAcquire() as Guard;
        const controller = new AbortController();
        const b = observe(lock.acquire({ signal: controller.signal }));
        const c = observe(lock.acquire());
        a.release();
        controller.abort(new Error('too late'));
        await flush();
        expect(b.state).to.equal('fulfilled');
        expect(c.state).to.equal('pending');
        expect(isHeld()).to.equal(true);
        expect(queued()).to.equal(1);
        (b.value as Guard).release();
        await flush();
        expect(c.state).to.equal('fulfilled');
        (c.value as Guard).release();
        expect(isHeld()).to.equal(false);
      });

      it('a timeout due at the same instant as a release: the timer created first wins', async () => {
        clock = installFakeClock();
        const { lock, isHeld } = subject();
        // The waiter's timer was started first, so it fires first: the release then frees the lock.
        const first = lock.tryAcquire() as Guard;
        const timedOut = observe(lock.acquire({ timeout: 50 }));
        setTimeout(() => first.release(), 50);
        clock.tick(50);
        expect(isHeld()).to.equal(false);
        await flush();
        expect(timedOut.state).to.equal('rejected');
        expect(timedOut.reason).to.be.instanceOf(TimeoutError);

        // The release's timer was started first: the waiter is granted and its timeout does nothing.
        const second = lock.tryAcquire() as Guard;
        setTimeout(() => second.release(), 50);
        const granted = observe(lock.acquire({ timeout: 50 }));
        clock.tick(50);
        expect(isHeld()).to.equal(true);
        await flush();
        expect(granted.state).to.equal('fulfilled');
        expect(clock.countTimers()).to.equal(0);
        (granted.value as Guard).release();
        expect(isHeld()).to.equal(false);
      });
    });

    describe('timeout', () => {
      it('rejects with TimeoutError exactly when the timeout expires, not a millisecond earlier', async () => {
        clock = installFakeClock();
        const { lock, isHeld, queued } = subject();
        const holder = lock.tryAcquire() as Guard;
        const waiter = observe(lock.acquire({ timeout: 50 }));
        await clock.tickAsync(49);
        expect(waiter.state).to.equal('pending');
        expect(queued()).to.equal(1);
        await clock.tickAsync(1);
        expect(waiter.state).to.equal('rejected');
        expect(waiter.reason).to.be.instanceOf(TimeoutError);
        expect(queued()).to.equal(0);
        expect(isHeld()).to.equal(true);
        holder.release();
        expect(isHeld()).to.equal(false);
        expect(clock.countTimers()).to.equal(0);
      });

      it('removes a timed-out waiter at once: the waiter behind it moves up', async () => {
        clock = installFakeClock();
        const { lock, isHeld, queued } = subject();
        const holder = lock.tryAcquire() as Guard;
        const early = observe(lock.acquire({ timeout: 10 }));
        const late = observe(lock.acquire({ timeout: 100 }));
        await clock.tickAsync(10);
        expect(early.state).to.equal('rejected');
        expect(queued()).to.equal(1);
        holder.release();
        await flush();
        expect(late.state).to.equal('fulfilled');
        expect(isHeld()).to.equal(true);
        // Grant cleared the waiter's timer.
        expect(clock.countTimers()).to.equal(0);
        await clock.tickAsync(200);
        expect(isHeld()).to.equal(true);
        (late.value as Guard).release();
      });

      it('timeout 0 takes a free lock', async () => {
        const { lock, isHeld } = subject();
        const guard = await lock.acquire({ timeout: 0 });
        expect(isHeld()).to.equal(true);
        guard.release();
        expect(isHeld()).to.equal(false);
      });

      it('timeout 0 on a held lock rejects with TimeoutError without queueing', async () => {
        const { lock, isHeld, queued } = subject();
        const holder = lock.tryAcquire() as Guard;
        const queuedBefore = observe(lock.acquire());
        const reason = await rejectionOf(lock.acquire({ timeout: 0 }));
        expect(reason).to.be.instanceOf(TimeoutError);
        expect(queued()).to.equal(1);
        holder.release();
        await flush();
        expect(queuedBefore.state).to.equal('fulfilled');
        (queuedBefore.value as Guard).release();
        expect(isHeld()).to.equal(false);
      });

      it('timeout Infinity waits without a timer', async () => {
        clock = installFakeClock();
        const { lock } = subject();
        const holder = lock.tryAcquire() as Guard;
        const waiter = observe(lock.acquire({ timeout: Infinity }));
        expect(clock.countTimers()).to.equal(0);
        await clock.tickAsync(2 ** 40);
        expect(waiter.state).to.equal('pending');
        holder.release();
        await flush();
        expect(waiter.state).to.equal('fulfilled');
        (waiter.value as Guard).release();
      });
    });

    describe('abort signal', () => {
      it('an already-aborted signal rejects with its reason even when the lock is free, and takes nothing', async () => {
        const { lock, isHeld, queued } = subject();
        const reason = new Error('already');
        const signal = AbortSignal.abort(reason);
        expect(await rejectionOf(lock.acquire({ signal }))).to.equal(reason);
        expect(isHeld()).to.equal(false);
        expect(queued()).to.equal(0);
      });

      it('an already-aborted signal rejects without queueing on a held lock', async () => {
        clock = installFakeClock();
        const { lock, isHeld, queued } = subject();
        const holder = lock.tryAcquire() as Guard;
        const reason = new Error('already');
        const signal = AbortSignal.abort(reason);
        const rejected = observe(lock.acquire({ signal, timeout: 10 }));
        expect(queued()).to.equal(0);
        expect(clock.countTimers()).to.equal(0);
        await flush();
        expect(rejected.state).to.equal('rejected');
        expect(rejected.reason).to.equal(reason);
        holder.release();
        expect(isHeld()).to.equal(false);
      });

      it('an already-aborted signal wins over timeout 0 and over run', async () => {
        const { lock, isHeld } = subject();
        const reason = new Error('already');
        const signal = AbortSignal.abort(reason);
        expect(await rejectionOf(lock.acquire({ signal, timeout: 0 }))).to.equal(reason);
        let called = false;
        expect(await rejectionOf(lock.run(() => (called = true), { signal }))).to.equal(reason);
        expect(called).to.equal(false);
        expect(isHeld()).to.equal(false);
      });

      it('an abort while waiting rejects with signal.reason and removes the waiter at once', async () => {
        const { lock, isHeld, queued } = subject();
        const holder = lock.tryAcquire() as Guard;
        const controller = new AbortController();
        const before = observe(lock.acquire());
        const aborted = observe(lock.acquire({ signal: controller.signal }));
        const after = observe(lock.acquire());
        expect(queued()).to.equal(3);
        const reason = { custom: 'reason' };
        controller.abort(reason);
        expect(queued()).to.equal(2);
        await flush();
        expect(aborted.state).to.equal('rejected');
        expect(aborted.reason).to.equal(reason);
        holder.release();
        await flush();
        expect(before.state).to.equal('fulfilled');
        expect(after.state).to.equal('pending');
        (before.value as Guard).release();
        await flush();
        expect(after.state).to.equal('fulfilled');
        (after.value as Guard).release();
        expect(isHeld()).to.equal(false);
      });

      it('grant wins: granted, then aborted and timed out in the same tick, the call resolves holding the lock', async () => {
        clock = installFakeClock();
        const { lock, isHeld, queued } = subject();
        const holder = lock.tryAcquire() as Guard;
        const controller = new AbortController();
        const waiter = observe(lock.acquire({ signal: controller.signal, timeout: 100 }));
        await clock.tickAsync(99);
        holder.release();
        controller.abort(new Error('late'));
        clock.tick(1);
        await flush();
        expect(waiter.state).to.equal('fulfilled');
        expect(isHeld()).to.equal(true);
        expect(queued()).to.equal(0);
        const guard = waiter.value as Guard;
        expect(guard.released).to.equal(false);
        guard.release();
        expect(isHeld()).to.equal(false);
      });
    });

    describe('run', () => {
      it('returns what fn returns and holds the lock only while fn runs', async () => {
        const { lock, isHeld } = subject();
        let heldInside: boolean | undefined;
        let guardInside: Guard | undefined;
        const result = await lock.run(async (guard) => {
          heldInside = isHeld();
          guardInside = guard;
          expect(guard.released).to.equal(false);
          await yieldTurns(2);
          return 42;
        });
        expect(result).to.equal(42);
        expect(heldInside).to.equal(true);
        expect(guardInside?.released).to.equal(true);
        expect(isHeld()).to.equal(false);
        expect(await lock.run(() => 'sync')).to.equal('sync');
      });

      it('releases the lock when fn throws synchronously or rejects, and passes the error on', async () => {
        const { lock, isHeld, queued } = subject();
        const thrown = new Error('sync');
        expect(
          await rejectionOf(
            lock.run(() => {
              throw thrown;
            }),
          ),
        ).to.equal(thrown);
        expect(isHeld()).to.equal(false);
        const holder = lock.tryAcquire() as Guard;
        const rejected = new Error('async');
        const failing = observe(
          lock.run(async () => {
            await yieldTurns(1);
            throw rejected;
          }),
        );
        const next = observe(lock.acquire());
        holder.release();
        await flush();
        expect(failing.state).to.equal('rejected');
        expect(failing.reason).to.equal(rejected);
        expect(next.state).to.equal('fulfilled');
        expect(queued()).to.equal(0);
        (next.value as Guard).release();
        expect(isHeld()).to.equal(false);
      });

      it('does not call fn when the wait times out', async () => {
        clock = installFakeClock();
        const { lock, isHeld } = subject();
        const holder = lock.tryAcquire() as Guard;
        let called = false;
        const running = observe(lock.run(() => (called = true), { timeout: 20 }));
        await clock.tickAsync(20);
        expect(running.state).to.equal('rejected');
        expect(running.reason).to.be.instanceOf(TimeoutError);
        expect(called).to.equal(false);
        holder.release();
        expect(isHeld()).to.equal(false);
      });
    });

    describe('guards', () => {
      it('guard.release() is idempotent: the second call does not release the next holder', async () => {
        const { lock, isHeld } = subject();
        const a = lock.tryAcquire() as Guard;
        const b = observe(lock.acquire());
        const c = observe(lock.acquire());
        expect(a.released).to.equal(false);
        a.release();
        expect(a.released).to.equal(true);
        a.release();
        a[Symbol.dispose]();
        await flush();
        expect(b.state).to.equal('fulfilled');
        expect(c.state).to.equal('pending');
        expect(isHeld()).to.equal(true);
        const guardB = b.value as Guard;
        guardB.release();
        await flush();
        expect(c.state).to.equal('fulfilled');
        guardB.release();
        expect(isHeld()).to.equal(true);
        (c.value as Guard).release();
        expect(isHeld()).to.equal(false);
      });

      it('a guard released while free twice leaves the lock free', () => {
        const { lock, isHeld } = subject();
        const a = lock.tryAcquire() as Guard;
        a.release();
        a.release();
        expect(isHeld()).to.equal(false);
        const b = lock.tryAcquire() as Guard;
        expect(b).to.not.equal(undefined);
        a.release();
        expect(isHeld()).to.equal(true);
        b.release();
      });

      if (make().releaseEndsGuard !== false) {
        it('a stale guard (after lock.release() and a re-acquire by another) cannot release the new holder', async () => {
          const { lock, isHeld } = subject();
          const a = await lock.acquire();
          lock.release();
          expect(a.released).to.equal(true);
          const b = await lock.acquire();
          a.release();
          a[Symbol.dispose]();
          expect(isHeld()).to.equal(true);
          expect(b.released).to.equal(false);
          b.release();
          expect(isHeld()).to.equal(false);
        });
      }

      it('works with `using`', async () => {
        const { lock, isHeld } = subject();
        let guardSeen: Guard | undefined;
        {
          using guard = await lock.acquire();
          guardSeen = guard;
          expect(isHeld()).to.equal(true);
          expect(guard.released).to.equal(false);
        }
        expect(guardSeen.released).to.equal(true);
        expect(isHeld()).to.equal(false);
      });

      it('`using` releases when the block throws, and hands the lock on', async () => {
        const { lock, isHeld } = subject();
        const events: string[] = [];
        const failure = new Error('inside');
        const blockA = async () => {
          using _guard = await lock.acquire();
          events.push('a:acquired');
          await yieldTurns(2);
          events.push('a:throws');
          throw failure;
        };
        const blockB = async () => {
          using _guard = await lock.acquire();
          events.push('b:acquired');
        };
        const a = observe(blockA());
        const b = observe(blockB());
        await flush();
        expect(a.state).to.equal('rejected');
        expect(a.reason).to.equal(failure);
        expect(b.state).to.equal('fulfilled');
        expect(events).to.deep.equal(['a:acquired', 'a:throws', 'b:acquired']);
        expect(isHeld()).to.equal(false);
      });
    });

    describe('misuse and bad arguments', () => {
      const unheld = make().unheldRelease ?? 'LockError';
      if (unheld !== 'adds-permit') {
        it(`release() when not held throws ${unheld} synchronously`, async () => {
          const { lock, isHeld } = subject();
          const expected = unheld === 'LockError' ? LockError : RangeError;
          expect(() => lock.release()).to.throw(expected);
          const guard = await lock.acquire();
          lock.release();
          if (make().releaseEndsGuard !== false) expect(guard.released).to.equal(true);
          expect(() => lock.release()).to.throw(expected);
          expect(isHeld()).to.equal(false);
          // The throw changed nothing: the lock can still be taken.
          const again = lock.tryAcquire();
          expect(again).to.not.equal(undefined);
          again?.release();
        });
      }

      for (const [label, options, errorClass, names] of badOptions) {
        it(`acquire with ${label} rejects with ${errorClass.name} naming the argument, free or held`, async () => {
          const { lock, isHeld, queued } = subject();
          const call = () => lock.acquire(options as WaitOptions);
          let promise: Promise<Guard> | undefined;
          expect(() => (promise = call())).to.not.throw();
          const reason = await rejectionOf(promise as Promise<Guard>);
          expect(reason).to.be.instanceOf(errorClass);
          expect((reason as Error).message).to.match(names);
          expect(isHeld()).to.equal(false);
          const holder = lock.tryAcquire() as Guard;
          const held = await rejectionOf(call());
          expect(held).to.be.instanceOf(errorClass);
          expect(queued()).to.equal(0);
          holder.release();
          expect(isHeld()).to.equal(false);
          const viaRun = await rejectionOf(lock.run(() => 1, options as WaitOptions));
          expect(viaRun).to.be.instanceOf(errorClass);
          expect(isHeld()).to.equal(false);
        });
      }

      for (const fn of [undefined, null, 42, 'fn', {}]) {
        it(`run with fn = ${String(fn)} rejects with TypeError naming fn, and takes nothing`, async () => {
          const { lock, isHeld, queued } = subject();
          let promise: Promise<unknown> | undefined;
          expect(() => (promise = lock.run(fn as never))).to.not.throw();
          const reason = await rejectionOf(promise as Promise<unknown>);
          expect(reason).to.be.instanceOf(TypeError);
          expect((reason as Error).message).to.match(/\bfn\b/);
          expect(isHeld()).to.equal(false);
          expect(queued()).to.equal(0);
          // Checked before waiting: on a held lock it rejects at once, without queueing.
          const holder = lock.tryAcquire() as Guard;
          const running = observe(lock.run(fn as never));
          expect(queued()).to.equal(0);
          await flush();
          expect(running.state).to.equal('rejected');
          expect(running.reason).to.be.instanceOf(TypeError);
          holder.release();
          expect(isHeld()).to.equal(false);
        });
      }
    });
  });
}
