/**
 * The capacity of an AsyncBoundedSemaphore (issue 14): raising grants at once in order, lowering revokes nothing,
 * and `held <= capacity` once the holders of the old capacity are gone (a property test with fixed seeds).
 */
import { expect } from 'chai';
import fc from 'fast-check';
import { AsyncBoundedSemaphore, type Guard } from '../lib/index.js';
import { flush, observe, rejectionOf } from './suites/helpers.js';

describe('AsyncBoundedSemaphore capacity', () => {
  it('starts at the initial value; value is max(0, capacity - held)', async () => {
    const limit = new AsyncBoundedSemaphore(3);
    expect([limit.capacity, limit.held, limit.value]).to.deep.equal([3, 0, 3]);
    const guard = await limit.acquire({ permits: 2 });
    expect([limit.capacity, limit.held, limit.value]).to.deep.equal([3, 2, 1]);
    limit.capacity = 1;
    expect([limit.capacity, limit.held, limit.value]).to.deep.equal([1, 2, 0]);
    guard.release();
    expect([limit.held, limit.value]).to.deep.equal([0, 1]);
  });

  it('raising it grants queued callers at once, in order, in the same step', async () => {
    const limit = new AsyncBoundedSemaphore(1);
    const events: string[] = [];
    const holder = limit.tryAcquire() as Guard;
    const waiters = ['a', 'b', 'c'].map((label) =>
      limit.acquire().then((guard) => {
        events.push(label);
        return guard;
      }),
    );
    limit.capacity = 3;
    expect([limit.held, limit.waiting]).to.deep.equal([3, 1]);
    await flush();
    expect(events).to.deep.equal(['a', 'b']);
    holder.release();
    await flush();
    expect(events).to.deep.equal(['a', 'b', 'c']);
    for (const guard of await Promise.all(waiters)) guard.release();
    expect(limit.held).to.equal(0);
  });

  it('lowering it below held revokes nothing; nobody new is admitted until held drops below it', async () => {
    const limit = new AsyncBoundedSemaphore(3);
    const holders = [limit.tryAcquire(), limit.tryAcquire(), limit.tryAcquire()] as Guard[];
    limit.capacity = 1;
    expect(holders.map((guard) => guard.released)).to.deep.equal([false, false, false]);
    const next = observe(limit.acquire());
    expect(limit.tryAcquire()).to.equal(undefined);
    holders[0]?.release();
    holders[1]?.release();
    await flush();
    expect([next.state, limit.held]).to.deep.equal(['pending', 1]);
    holders[2]?.release();
    await flush();
    expect([next.state, limit.held]).to.deep.equal(['fulfilled', 1]);
  });

  it('capacity 0 pauses it: every request waits, even one larger than any capacity so far', async () => {
    const limit = new AsyncBoundedSemaphore(2);
    limit.capacity = 0;
    const one = observe(limit.acquire());
    const five = observe(limit.acquire({ permits: 5 }));
    expect(limit.tryAcquire()).to.equal(undefined);
    await flush();
    expect([one.state, five.state, limit.waiting]).to.deep.equal(['pending', 'pending', 2]);
    limit.capacity = 6;
    await flush();
    expect([one.state, five.state, limit.held]).to.deep.equal(['fulfilled', 'fulfilled', 6]);
  });

  it('a new request above a non-zero capacity is a RangeError; lowering never rejects requests already queued', async () => {
    const limit = new AsyncBoundedSemaphore(4);
    const all = limit.tryAcquire(4) as Guard;
    const three = observe(limit.acquire({ permits: 3 }));
    limit.capacity = 2;
    expect(await rejectionOf(limit.acquire({ permits: 3 }))).to.be.instanceOf(RangeError);
    expect(() => limit.tryAcquire(3)).to.throw(RangeError, /permits/);
    all.release();
    await flush();
    expect([three.state, limit.waiting]).to.deep.equal(['pending', 1]);
    limit.capacity = 3;
    await flush();
    expect(three.state).to.equal('fulfilled');
  });

  it('a release above the capacity is a RangeError; a bad capacity is refused, naming it', () => {
    const limit = new AsyncBoundedSemaphore(1, { name: 'p' });
    expect(() => limit.release()).to.throw(RangeError);
    for (const bad of [-1, 1.5, NaN, Infinity, 2 ** 53]) {
      expect(() => (limit.capacity = bad)).to.throw(RangeError, /AsyncBoundedSemaphore\(p\)\.capacity/);
    }
    expect(() => (limit.capacity = '2' as unknown as number)).to.throw(TypeError, /capacity/);
    expect(limit.capacity).to.equal(1);
  });

  const steps = fc.array(
    fc.oneof(
      fc.record({ kind: fc.constant('acquire' as const), permits: fc.integer({ min: 1, max: 3 }) }),
      fc.record({ kind: fc.constant('release' as const), pick: fc.nat() }),
      fc.record({ kind: fc.constant('capacity' as const), value: fc.integer({ min: 0, max: 5 }) }),
    ),
    { minLength: 1, maxLength: 40 },
  );

  it('property: held never exceeds capacity once the holders admitted under an older capacity are gone', async () => {
    await fc.assert(
      fc.asyncProperty(steps, async (script) => {
        const limit = new AsyncBoundedSemaphore(3);
        const guards: { guard: Guard; permits: number; epoch: number }[] = [];
        let epoch = 0;
        let lastLowered = 0;
        const track = (permits: number, admittedIn: () => number) => (guard: Guard) => {
          guards.push({ guard, permits, epoch: admittedIn() });
        };
        for (const step of script) {
          if (step.kind === 'acquire') {
            if (step.permits > limit.capacity && limit.capacity > 0) continue;
            limit.acquire({ permits: step.permits }).then(
              track(step.permits, () => epoch),
              () => undefined,
            );
          } else if (step.kind === 'release') {
            const live = guards.filter((entry) => !entry.guard.released);
            live[step.pick % Math.max(1, live.length)]?.guard.release();
          } else {
            if (step.value < limit.capacity) lastLowered = epoch + 1;
            epoch++;
            limit.capacity = step.value;
          }
          await flush();
          const live = guards.filter((entry) => !entry.guard.released);
          const held = live.reduce((sum, entry) => sum + entry.permits, 0);
          expect(limit.held, 'held counts the live guards').to.equal(held);
          expect(limit.value).to.equal(Math.max(0, limit.capacity - held));
          // Holders admitted before the last lowering may exceed it; once they are gone, the law holds.
          if (live.every((entry) => entry.epoch >= lastLowered)) {
            expect(limit.held, `held <= capacity after ${JSON.stringify(step)}`).to.be.at.most(
              limit.capacity,
            );
          }
        }
        limit.capacity = 5;
        await flush();
        for (let round = 0; round < 50 && (limit.held > 0 || limit.waiting > 0); round++) {
          for (const entry of guards) entry.guard.release();
          await flush();
        }
        expect([limit.held, limit.waiting]).to.deep.equal([0, 0]);
      }),
      { numRuns: 200, seed: 1414 },
    );
  });
});
