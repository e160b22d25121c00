import { expect } from 'chai';
import { AsyncKeyedLock, CancelledError, TimeoutError, type Guard } from '../lib/index.js';
import { explore, type Scenario } from '../lib/testing/index.js';
import { flush, yieldTurns, installFakeClock, observe, rejectionOf } from './suites/helpers.js';

async function expectProven(scenario: Scenario): Promise<number> {
  const result = await explore(scenario, { strategy: 'dfs', runs: 50_000 });
  if (result.failure !== undefined) {
    throw new Error(
      `${String(result.failure.error)}\nschedule: ${result.failure.schedule}\n${result.failure.trace.join('\n')}`,
    );
  }
  expect(result.exhausted).to.equal(true);
  return result.runs;
}

describe('AsyncKeyedLock', () => {
  it('excludes per key, and leaves other keys free', async () => {
    const locks = new AsyncKeyedLock({ name: 'users' });
    const ada = await locks.acquire('ada');
    expect(locks.isLocked('ada')).to.equal(true);
    expect(locks.isLocked('bob')).to.equal(false);
    const bob = locks.tryAcquire('bob') as Guard;
    expect(bob).to.not.equal(undefined);
    expect(locks.tryAcquire('ada')).to.equal(undefined);
    const second = observe(locks.acquire('ada'));
    await flush();
    expect(second.state).to.equal('pending');
    expect([locks.size, locks.waiting, locks.waitingFor('ada'), locks.waitingFor('bob')]).to.deep.equal([
      2, 1, 1, 0,
    ]);
    expect(String(locks)).to.equal('AsyncKeyedLock(users)[keys=2, waiting=1]');
    ada.release();
    expect([locks.isLocked('ada'), locks.waiting]).to.deep.equal([true, 0]);
    await flush();
    expect(second.state).to.equal('fulfilled');
    (second.value as Guard).release();
    bob.release();
    expect([locks.size, locks.isLocked('ada'), locks.isLocked('bob')]).to.deep.equal([0, false, false]);
  });

  it('serves each key in FIFO order with direct hand-off', async () => {
    const locks = new AsyncKeyedLock<number>();
    const events: string[] = [];
    const worker = (label: string) =>
      locks.run(7, async () => {
        events.push(`${label}:in`);
        await yieldTurns(3);
        events.push(`${label}:out`);
      });
    await Promise.all([worker('a'), worker('b'), worker('c')]);
    expect(events).to.deep.equal(['a:in', 'a:out', 'b:in', 'b:out', 'c:in', 'c:out']);
    expect(locks.size).to.equal(0);
  });

  it('takes several keys all or nothing, in one order, duplicates once; one guard releases them all', async () => {
    const locks = new AsyncKeyedLock<string>();
    const guard = await locks.acquire(['b', 'a', 'b']);
    expect([locks.isLocked('a'), locks.isLocked('b'), locks.size]).to.deep.equal([true, true, 2]);
    expect(locks.tryAcquire(['c', 'a'])).to.equal(undefined);
    expect(locks.isLocked('c')).to.equal(false);
    guard.release();
    guard.release();
    expect(locks.size).to.equal(0);
  });

  it('an abort part-way releases the keys already taken and leaves no trace', async () => {
    const locks = new AsyncKeyedLock<string>();
    const holdsB = locks.tryAcquire('b') as Guard;
    const controller = new AbortController();
    const both = observe(locks.acquire(['a', 'b'], { signal: controller.signal }));
    await flush();
    expect([locks.isLocked('a'), locks.waitingFor('b')]).to.deep.equal([true, 1]);
    const wantsA = observe(locks.acquire('a'));
    controller.abort(new Error('stop'));
    await flush();
    expect(both.state).to.equal('rejected');
    expect((both.reason as Error).message).to.equal('stop');
    // 'a' went to the caller queued for it; 'b' still belongs to its holder alone.
    expect(wantsA.state).to.equal('fulfilled');
    expect([locks.waiting, locks.waitingFor('b')]).to.deep.equal([0, 0]);
    (wantsA.value as Guard).release();
    holdsB.release();
    expect(locks.size).to.equal(0);
  });

  it('one timeout bounds the whole multi-key wait, and timeout 0 takes only what is free now', async () => {
    const clock = installFakeClock();
    try {
      const locks = new AsyncKeyedLock<number>({ name: 'k' });
      const holdsA = locks.tryAcquire(1) as Guard;
      const holdsB = locks.tryAcquire(2) as Guard;
      const both = observe(locks.acquire([2, 1, 3], { timeout: 30 }));
      await clock.tickAsync(10);
      holdsA.release(); // 1 is taken by `both`, which then waits for 2
      await clock.tickAsync(19);
      expect([both.state, locks.isLocked(1), locks.waitingFor(2)]).to.deep.equal(['pending', true, 1]);
      await clock.tickAsync(1);
      expect(both.state).to.equal('rejected');
      expect(both.reason).to.be.instanceOf(TimeoutError);
      expect((both.reason as Error).message).to.equal('AsyncKeyedLock(k) timed out after 30 ms');
      expect([locks.isLocked(1), locks.isLocked(3), locks.size]).to.deep.equal([false, false, 1]);
      const now = await rejectionOf(locks.acquire([1, 2], { timeout: 0 }));
      expect(now).to.be.instanceOf(TimeoutError);
      expect([locks.isLocked(1), locks.size]).to.deep.equal([false, 1]);
      holdsB.release();
      expect(locks.size).to.equal(0);
      expect(clock.countTimers()).to.equal(0);
    } finally {
      clock.restore();
    }
  });

  it('orders numbers before strings by default, and takes a custom total order', async () => {
    const order: string[] = [];
    const locks = new AsyncKeyedLock<{ id: number }>({ compare: (a, b) => b.id - a.id });
    const one = { id: 1 };
    const two = { id: 2 };
    const guard = await locks.acquire([one, two]);
    expect([locks.isLocked(one), locks.isLocked(two)]).to.deep.equal([true, true]);
    guard.release();
    const mixed = new AsyncKeyedLock<string | number>();
    const held = mixed.tryAcquire(['x', 3]) as Guard;
    order.push(String(mixed.isLocked(3)), String(mixed.isLocked('x')));
    held.release();
    expect(order).to.deep.equal(['true', 'true']);
  });

  it('rejects bad arguments naming them', async () => {
    const locks = new AsyncKeyedLock<unknown>({ name: 'n' });
    expect(await rejectionOf(locks.acquire([])))
      .to.be.instanceOf(RangeError)
      .with.property('message')
      .match(/keys/);
    const unordered = await rejectionOf(locks.acquire([{}, {}]));
    expect(unordered).to.be.instanceOf(TypeError);
    expect((unordered as Error).message).to.match(/AsyncKeyedLock\(n\)\.acquire: keys .* options\.compare/);
    expect(() => locks.tryAcquire([NaN, 1])).to.throw(TypeError, /keys/);
    const sloppy = new AsyncKeyedLock<{ id: number }>({ compare: () => 0 });
    expect(() => sloppy.tryAcquire([{ id: 1 }, { id: 2 }])).to.throw(RangeError, /options\.compare/);
    expect(await rejectionOf(locks.acquire('a', { timeout: -1 }))).to.be.instanceOf(RangeError);
    expect(await rejectionOf(locks.run('a', 'fn' as unknown as () => void))).to.be.instanceOf(TypeError);
    expect(() => new AsyncKeyedLock({ compare: 5 as unknown as () => number })).to.throw(
      TypeError,
      /options\.compare/,
    );
    expect(locks.size).to.equal(0);
  });

  it('cancelWaiters rejects every waiter over all keys and touches no holder', async () => {
    const locks = new AsyncKeyedLock<string>();
    const a = locks.tryAcquire('a') as Guard;
    const b = locks.tryAcquire('b') as Guard;
    const waiters = [
      observe(locks.acquire('a')),
      observe(locks.acquire(['b', 'c'])),
      observe(locks.acquire('b')),
    ];
    await flush();
    expect(locks.cancelWaiters()).to.equal(3);
    await flush();
    expect(waiters.map((waiter) => waiter.state)).to.deep.equal(['rejected', 'rejected', 'rejected']);
    for (const waiter of waiters) expect(waiter.reason).to.be.instanceOf(CancelledError);
    expect([locks.waiting, locks.isLocked('a'), locks.isLocked('b'), locks.isLocked('c')]).to.deep.equal([
      0,
      true,
      true,
      false,
    ]);
    const reason = new Error('shutdown');
    const later = observe(locks.acquire('a'));
    expect(locks.cancelWaiters(reason)).to.equal(1);
    await flush();
    expect(later.reason).to.equal(reason);
    a.release();
    b.release();
    expect(locks.size).to.equal(0);
  });

  it('an idle key keeps no memory: 1e5 distinct keys locked and released leave size 0', async () => {
    const locks = new AsyncKeyedLock<number>();
    const guards: Promise<Guard>[] = [];
    for (let key = 0; key < 100_000; key++) guards.push(locks.acquire(key));
    expect(locks.size).to.equal(100_000);
    for (const guard of await Promise.all(guards)) guard.release();
    expect(locks.size).to.equal(0);
    // Contended too: each key handed on once, then dropped.
    await Promise.all(
      Array.from({ length: 1000 }, (_, index) => locks.run(index % 100, () => yieldTurns(1))),
    );
    expect([locks.size, locks.waiting]).to.deep.equal([0, 0]);
  });

  describe('every schedule (harness)', () => {
    it('three tasks asking for overlapping key sets in different orders never deadlock, and exclude per key', async () => {
      const runs = await expectProven(async (sim) => {
        const locks = new AsyncKeyedLock<string>({ name: 'k' });
        const inside = new Map<string, string>();
        // Every key starts held, so that each task's set is taken over several wake-ups (a free set is taken in
        // one synchronous step, which no schedule could interleave); each task frees one of them.
        const initial = new Map(['a', 'b', 'c'].map((key) => [key, locks.tryAcquire(key) as Guard]));
        const task = (name: string, keys: string[]) =>
          sim.spawn(name, async () => {
            const acquisition = locks.acquire(keys);
            await sim.yield();
            initial.get(keys[0] as string)?.release();
            const guard = await acquisition;
            for (const key of keys) {
              if (inside.has(key)) throw new Error(`${name} and ${inside.get(key)} both hold ${key}`);
              inside.set(key, name);
            }
            await sim.yield();
            for (const key of keys) inside.delete(key);
            guard.release();
          });
        task('t1', ['a', 'b']);
        task('t2', ['b', 'c']);
        task('t3', ['c', 'a']);
        await sim.run();
        if (locks.size !== 0 || locks.waiting !== 0) throw new Error(`left ${locks}`);
      });
      expect(runs).to.be.greaterThan(10);
    });

    it('a multi-key waiter that times out part-way strands nobody and keeps no key', async () => {
      await expectProven(async (sim) => {
        const locks = new AsyncKeyedLock<string>({ name: 'k' });
        let finished = 0;
        sim.spawn('holder', async () => {
          const guard = await locks.acquire(['b']);
          await sim.sleep(10);
          guard.release();
          finished++;
        });
        sim.spawn('both', async () => {
          try {
            (await locks.acquire(['b', 'a'], { timeout: 5 })).release();
          } catch (error) {
            if (!(error instanceof TimeoutError)) throw error;
          }
          finished++;
        });
        sim.spawn('a-only', async () => {
          await sim.yield();
          (await locks.acquire('a')).release();
          finished++;
        });
        await sim.run();
        if (finished !== 3) throw new Error(`${finished} of 3 finished`);
        if (locks.size !== 0) throw new Error(`left ${locks}`);
      });
    });

    it('cancelWaiters racing the releases: a multi-key waiter holds all or none, and every key ends free', async () => {
      await expectProven(async (sim) => {
        const locks = new AsyncKeyedLock<string>({ name: 'k' });
        let settled = 0;
        const task = (name: string, keys: string[]) =>
          sim.spawn(name, async () => {
            try {
              const guard = await locks.acquire(keys);
              for (const key of keys) if (!locks.isLocked(key)) throw new Error(`${name} lacks ${key}`);
              await sim.yield();
              guard.release();
            } catch (error) {
              if ((error as Error).name !== 'CancelledError') throw error;
            }
            settled++;
          });
        task('t1', ['a']);
        task('t2', ['a', 'b']);
        task('t3', ['b']);
        sim.spawn('canceller', async () => {
          await sim.yield();
          locks.cancelWaiters();
        });
        await sim.run();
        if (settled !== 3) throw new Error(`${settled} of 3 settled`);
        if (locks.size !== 0 || locks.waiting !== 0) throw new Error(`left ${locks}`);
      });
    });
  });
});
