import { expect } from 'chai';
import sinon from 'sinon';
import { AsyncBoundedSemaphore, AsyncSemaphore, TimeoutError, type Guard } from '../lib/index.js';
import { describeLockLike } from './suites/lock-like.js';
import { flush, installFakeClock, observe, rejectionOf } from './suites/helpers.js';

describeLockLike('AsyncSemaphore(1)', () => {
  const semaphore = new AsyncSemaphore(1);
  return {
    lock: semaphore,
    isHeld: () => semaphore.value === 0,
    unheldRelease: 'adds-permit',
    releaseEndsGuard: false,
  };
});

describeLockLike('AsyncBoundedSemaphore(1)', () => {
  const semaphore = new AsyncBoundedSemaphore(1);
  return {
    lock: semaphore,
    isHeld: () => semaphore.value === 0,
    unheldRelease: 'RangeError',
    releaseEndsGuard: false,
  };
});

const kinds = [
  [AsyncSemaphore, 'AsyncSemaphore'],
  [AsyncBoundedSemaphore, 'AsyncBoundedSemaphore'],
] as const;

for (const [Semaphore, kind] of kinds) {
  describe(kind, () => {
    let clock: sinon.SinonFakeTimers | undefined;

    afterEach(() => {
      clock?.restore();
      clock = undefined;
    });

    describe('constructor', () => {
      it('defaults to one permit and accepts 0', () => {
        expect(new Semaphore().value).to.equal(1);
        expect(new Semaphore(undefined).value).to.equal(1);
        expect(new Semaphore(0).value).to.equal(0);
        expect(new Semaphore(7).value).to.equal(7);
      });

      const bad: [unknown, typeof RangeError | typeof TypeError][] = [
        [-1, RangeError],
        [NaN, RangeError],
        [1.5, RangeError],
        [Infinity, RangeError],
        [2 ** 53, RangeError],
        ['2', TypeError],
        [null, TypeError],
      ];
      for (const [value, errorClass] of bad) {
        it(`rejects value ${typeof value === 'string' ? `'${value}'` : String(value)} with ${errorClass.name} naming value`, () => {
          expect(() => new Semaphore(value as number)).to.throw(errorClass, /\bvalue\b/);
        });
      }

      it('rejects a name that is not a string', () => {
        expect(() => new Semaphore(1, { name: 3 as unknown as string })).to.throw(TypeError, /options\.name/);
      });
    });

    describe('introspection', () => {
      it('has name, value, waiting and toString', async () => {
        const semaphore = new Semaphore(2, { name: 'pool' });
        expect(semaphore.name).to.equal('pool');
        expect(String(semaphore)).to.equal(`${kind}(pool)[value=2, waiting=0]`);
        const guard = await semaphore.acquire({ permits: 2 });
        const waiter = semaphore.acquire();
        expect(semaphore.waiting).to.equal(1);
        expect(String(semaphore)).to.equal(`${kind}(pool)[value=0, waiting=1]`);
        guard.release();
        expect(semaphore.waiting).to.equal(0);
        expect(String(semaphore)).to.equal(`${kind}(pool)[value=1, waiting=0]`);
        (await waiter).release();
        expect(semaphore.value).to.equal(2);
      });

      it('is unnamed by default', () => {
        const semaphore = new Semaphore(3);
        expect(semaphore.name).to.equal(undefined);
        expect(semaphore.toString()).to.equal(`${kind}[value=3, waiting=0]`);
      });

      it('names itself in timeout messages', async () => {
        clock = installFakeClock();
        const semaphore = new Semaphore(0, { name: 'pool' });
        const waiter = observe(semaphore.acquire({ timeout: 5 }));
        await clock.tickAsync(5);
        expect(waiter.reason).to.be.instanceOf(TimeoutError);
        expect((waiter.reason as Error).message).to.contain(`${kind}(pool)`);
      });
    });

    describe('weighted acquire', () => {
      it('takes several permits at once and the guard gives all of them back, once', async () => {
        const semaphore = new Semaphore(5);
        const three = await semaphore.acquire({ permits: 3 });
        expect(semaphore.value).to.equal(2);
        const two = await semaphore.acquire({ permits: 2 });
        expect(semaphore.value).to.equal(0);
        const one = observe(semaphore.acquire());
        await flush();
        expect(one.state).to.equal('pending');
        three.release();
        expect(semaphore.value).to.equal(2);
        await flush();
        expect(one.state).to.equal('fulfilled');
        three.release();
        expect(semaphore.value).to.equal(2);
        two.release();
        (one.value as Guard).release();
        expect(semaphore.value).to.equal(5);
      });

      it('a waiter for several permits waits until enough are free', async () => {
        const semaphore = new Semaphore(3);
        const a = semaphore.tryAcquire() as Guard;
        const b = semaphore.tryAcquire() as Guard;
        const big = observe(semaphore.acquire({ permits: 3 }));
        a.release();
        await flush();
        expect(big.state).to.equal('pending');
        expect(semaphore.value).to.equal(2);
        b.release();
        expect(semaphore.value).to.equal(0);
        await flush();
        expect(big.state).to.equal('fulfilled');
        (big.value as Guard).release();
        expect(semaphore.value).to.equal(3);
      });

      it('run holds the permits while fn runs', async () => {
        const semaphore = new Semaphore(4);
        const seen = await semaphore.run(() => semaphore.value, { permits: 3 });
        expect(seen).to.equal(1);
        expect(semaphore.value).to.equal(4);
      });

      const badPermits: [unknown, typeof RangeError | typeof TypeError][] = [
        [0, RangeError],
        [-1, RangeError],
        [1.5, RangeError],
        [NaN, RangeError],
        [2 ** 53, RangeError],
        ['1', TypeError],
        [null, TypeError],
      ];
      for (const [permits, errorClass] of badPermits) {
        const shown = typeof permits === 'string' ? `'${permits}'` : String(permits);
        it(`permits ${shown}: acquire and run reject, tryAcquire throws, with ${errorClass.name} naming permits`, async () => {
          const semaphore = new Semaphore(2);
          const reason = await rejectionOf(semaphore.acquire({ permits: permits as number }));
          expect(reason).to.be.instanceOf(errorClass);
          expect((reason as Error).message).to.contain('options.permits');
          const viaRun = await rejectionOf(semaphore.run(() => 1, { permits: permits as number }));
          expect(viaRun).to.be.instanceOf(errorClass);
          expect(() => semaphore.tryAcquire(permits as number)).to.throw(errorClass, /\bpermits\b/);
          expect(semaphore.value).to.equal(2);
          expect(semaphore.waiting).to.equal(0);
        });
      }
    });

    describe('head-of-line fairness', () => {
      it('a large request at the head blocks smaller ones even while permits are free', async () => {
        const semaphore = new Semaphore(3);
        const events: string[] = [];
        const held = await semaphore.acquire({ permits: 2 });
        const big = semaphore.acquire({ permits: 3 }).then((guard) => {
          events.push('big');
          return guard;
        });
        const small = semaphore.acquire({ permits: 1 }).then((guard) => {
          events.push('small');
          return guard;
        });
        await flush();
        expect(events).to.deep.equal([]);
        expect(semaphore.value).to.equal(1);
        expect(semaphore.tryAcquire(1)).to.equal(undefined);
        const zero = await rejectionOf(semaphore.acquire({ timeout: 0 }));
        expect(zero).to.be.instanceOf(TimeoutError);
        expect(semaphore.waiting).to.equal(2);
        held.release();
        await flush();
        expect(events).to.deep.equal(['big']);
        expect(semaphore.value).to.equal(0);
        (await big).release();
        await flush();
        expect(events).to.deep.equal(['big', 'small']);
        (await small).release();
        expect(semaphore.value).to.equal(3);
      });

      it('when the large head is aborted, the smaller requests behind it are granted at once', async () => {
        const semaphore = new Semaphore(3);
        const held = await semaphore.acquire({ permits: 2 });
        const controller = new AbortController();
        const big = observe(semaphore.acquire({ permits: 2, signal: controller.signal }));
        const small1 = observe(semaphore.acquire());
        const small2 = observe(semaphore.acquire());
        controller.abort();
        // Granted in the same synchronous step as the abort.
        expect(semaphore.value).to.equal(0);
        expect(semaphore.waiting).to.equal(1);
        await flush();
        expect(big.state).to.equal('rejected');
        expect(small1.state).to.equal('fulfilled');
        expect(small2.state).to.equal('pending');
        held.release();
        await flush();
        expect(small2.state).to.equal('fulfilled');
        (small1.value as Guard).release();
        (small2.value as Guard).release();
        expect(semaphore.value).to.equal(3);
      });

      it('when the large head times out, the smaller requests behind it are granted at once', async () => {
        clock = installFakeClock();
        const semaphore = new Semaphore(4);
        const held = await semaphore.acquire({ permits: 2 });
        const events: string[] = [];
        const track = (label: string, promise: Promise<Guard>) =>
          promise.then(
            (guard) => {
              events.push(`${label}:granted`);
              return guard;
            },
            (error: unknown) => {
              events.push(`${label}:${(error as Error).name}`);
              return undefined;
            },
          );
        const big = track('big', semaphore.acquire({ permits: 4, timeout: 30 }));
        const a = track('a', semaphore.acquire());
        const b = track('b', semaphore.acquire());
        const c = track('c', semaphore.acquire());
        await clock.tickAsync(29);
        expect(events).to.deep.equal([]);
        await clock.tickAsync(1);
        expect(events).to.deep.equal(['big:TimeoutError', 'a:granted', 'b:granted']);
        expect(semaphore.value).to.equal(0);
        expect(semaphore.waiting).to.equal(1);
        held.release();
        await flush();
        expect(events).to.deep.equal(['big:TimeoutError', 'a:granted', 'b:granted', 'c:granted']);
        for (const guard of await Promise.all([big, a, b, c])) guard?.release();
        expect(semaphore.value).to.equal(4);
        expect(clock.countTimers()).to.equal(0);
      });

      it('a waiter removed from the middle leaves the order of the others intact', async () => {
        const semaphore = new Semaphore(4);
        semaphore.tryAcquire(4);
        const events: string[] = [];
        const controller = new AbortController();
        const guards: Guard[] = [];
        for (const [label, permits, signal] of [
          ['a', 1, undefined],
          ['b', 2, controller.signal],
          ['c', 2, undefined],
          ['d', 1, undefined],
        ] as const) {
          semaphore.acquire({ permits, signal }).then(
            (guard) => {
              events.push(label);
              guards.push(guard);
            },
            () => events.push(`${label}:aborted`),
          );
        }
        controller.abort();
        await flush();
        expect(events).to.deep.equal(['b:aborted']);
        semaphore.release(2);
        await flush();
        expect(events).to.deep.equal(['b:aborted', 'a']);
        expect(semaphore.value).to.equal(1);
        semaphore.release(2);
        await flush();
        expect(events).to.deep.equal(['b:aborted', 'a', 'c', 'd']);
        expect(semaphore.value).to.equal(0);
        for (const guard of guards) guard.release();
        expect(semaphore.value).to.equal(4);
      });
    });

    describe('tryAcquire(permits)', () => {
      it('takes the permits when free, and nothing otherwise', () => {
        const semaphore = new Semaphore(3);
        const two = semaphore.tryAcquire(2) as Guard;
        expect(two).to.not.equal(undefined);
        expect(semaphore.value).to.equal(1);
        expect(semaphore.tryAcquire(2)).to.equal(undefined);
        expect(semaphore.value).to.equal(1);
        const one = semaphore.tryAcquire() as Guard;
        expect(one).to.not.equal(undefined);
        expect(semaphore.value).to.equal(0);
        two.release();
        one.release();
        expect(semaphore.value).to.equal(3);
      });

      it('takes nothing while someone is queued, even when enough permits are free', async () => {
        const semaphore = new Semaphore(2);
        const held = semaphore.tryAcquire() as Guard;
        const waiter = observe(semaphore.acquire({ permits: 2 }));
        expect(semaphore.value).to.equal(1);
        expect(semaphore.tryAcquire(1)).to.equal(undefined);
        held.release();
        await flush();
        expect(waiter.state).to.equal('fulfilled');
        (waiter.value as Guard).release();
        expect(semaphore.tryAcquire(1)).to.not.equal(undefined);
      });
    });

    describe('release(n)', () => {
      it('grants as many waiters, in order, as the released permits satisfy', async () => {
        const semaphore = new Semaphore(4);
        semaphore.tryAcquire(4);
        const events: string[] = [];
        const guards: Guard[] = [];
        for (const [label, permits] of [
          ['a', 1],
          ['b', 2],
          ['c', 1],
        ] as const) {
          void semaphore.acquire({ permits }).then((guard) => {
            events.push(label);
            guards.push(guard);
          });
        }
        semaphore.release(3);
        expect(semaphore.value).to.equal(0);
        expect(semaphore.waiting).to.equal(1);
        await flush();
        expect(events).to.deep.equal(['a', 'b']);
        semaphore.release(1);
        await flush();
        expect(events).to.deep.equal(['a', 'b', 'c']);
        for (const guard of guards) guard.release();
        expect(semaphore.value).to.equal(4);
      });

      for (const [permits, errorClass] of [
        [0, RangeError],
        [1.5, RangeError],
        [-2, RangeError],
        ['1', TypeError],
      ] as const) {
        it(`release(${String(permits)}) throws ${errorClass.name} naming permits, and changes nothing`, () => {
          const semaphore = new Semaphore(1);
          semaphore.tryAcquire();
          expect(() => semaphore.release(permits as number)).to.throw(errorClass, /\bpermits\b/);
          expect(semaphore.value).to.equal(0);
        });
      }
    });
  });
}

describe('AsyncSemaphore (unbounded)', () => {
  it('never counts beyond 2^53 - 1, where permits would be lost silently', () => {
    const semaphore = new AsyncSemaphore(0);
    expect(() => semaphore.release(2 ** 53)).to.throw(RangeError, /release: permits must be a safe integer/);
    semaphore.release(Number.MAX_SAFE_INTEGER);
    expect(() => semaphore.release(1)).to.throw(RangeError, /above 2\^53 - 1/);
    expect(semaphore.value).to.equal(Number.MAX_SAFE_INTEGER);
    expect(() => semaphore.tryAcquire(2 ** 53)).to.throw(RangeError, /safe integer/);
    expect(semaphore.tryAcquire(Number.MAX_SAFE_INTEGER)).not.to.equal(undefined);
    expect(semaphore.value).to.equal(0);
  });

  it('release() may raise the value above the initial value', () => {
    const semaphore = new AsyncSemaphore(1);
    semaphore.release();
    expect(semaphore.value).to.equal(2);
    semaphore.release(3);
    expect(semaphore.value).to.equal(5);
  });

  it('with value 0 it is a signal: acquire waits for a release', async () => {
    const semaphore = new AsyncSemaphore(0);
    const waiter = observe(semaphore.acquire());
    await flush();
    expect(waiter.state).to.equal('pending');
    semaphore.release();
    expect(semaphore.value).to.equal(0);
    await flush();
    expect(waiter.state).to.equal('fulfilled');
  });
});

describe('AsyncBoundedSemaphore', () => {
  it('exposes its bound', () => {
    expect(new AsyncBoundedSemaphore(3).bound).to.equal(3);
  });

  it('release above the initial value throws RangeError and changes nothing', () => {
    const semaphore = new AsyncBoundedSemaphore(2, { name: 'conn' });
    expect(() => semaphore.release()).to.throw(RangeError, /AsyncBoundedSemaphore\(conn\)/);
    expect(semaphore.value).to.equal(2);
    semaphore.tryAcquire();
    expect(() => semaphore.release(2)).to.throw(RangeError);
    expect(semaphore.value).to.equal(1);
    semaphore.release(1);
    expect(semaphore.value).to.equal(2);
  });

  it('detects a guard released after a bare release() already returned its permit', async () => {
    const semaphore = new AsyncBoundedSemaphore(1);
    const guard = await semaphore.acquire();
    semaphore.release();
    expect(() => guard.release()).to.throw(RangeError);
    expect(semaphore.value).to.equal(1);
  });

  it('a request for more permits than it can ever hold rejects with RangeError and leaves the queue untouched', async () => {
    const semaphore = new AsyncBoundedSemaphore(2);
    const held = semaphore.tryAcquire(2) as Guard;
    const queued = observe(semaphore.acquire());
    const reason = await rejectionOf(semaphore.acquire({ permits: 3 }));
    expect(reason).to.be.instanceOf(RangeError);
    expect((reason as Error).message).to.contain('permits');
    expect(await rejectionOf(semaphore.run(() => 1, { permits: 3 }))).to.be.instanceOf(RangeError);
    expect(() => semaphore.tryAcquire(3)).to.throw(RangeError, /\bpermits\b/);
    expect(semaphore.waiting).to.equal(1);
    expect(semaphore.value).to.equal(0);
    held.release();
    await flush();
    expect(queued.state).to.equal('fulfilled');
    (queued.value as Guard).release();
    expect(semaphore.value).to.equal(2);
  });

  it('a request for exactly the bound waits for it', async () => {
    const semaphore = new AsyncBoundedSemaphore(2);
    const one = semaphore.tryAcquire() as Guard;
    const all = observe(semaphore.acquire({ permits: 2 }));
    await flush();
    expect(all.state).to.equal('pending');
    one.release();
    await flush();
    expect(all.state).to.equal('fulfilled');
  });
});
