/**
 * AsyncRateLimiter under the harness, over every schedule (`explore`, dfs, exhausted): small scenarios of tasks that
 * acquire at chosen virtual times, with timeouts, an abort and a pause racing the limiter's one timer. In every
 * schedule the window law holds over every window, nothing is granted during a pause, waiters are granted in
 * request order (the same outcomes in every schedule), and a cancelled waiter lets the one behind it through at once
 * if it now fits.
 */
import { expect } from 'chai';
import sinon from 'sinon';
import { AsyncRateLimiter, AsyncSemaphore, TimeoutError } from '../lib/index.js';
import { Simulation, explore, type Scenario } from '../lib/testing/index.js';
import { checkWindowLaw } from './suites/window-law.js';

async function expectProven(scenario: Scenario): Promise<number> {
  const result = await explore(scenario, { strategy: 'dfs', runs: 20_000 });
  if (result.failure !== undefined) {
    throw new Error(
      `${String(result.failure.error)}\nschedule: ${result.failure.schedule}\n${result.failure.trace.join('\n')}`,
    );
  }
  expect(result.exhausted).to.equal(true);
  return result.runs;
}

interface Log {
  grants: { time: number; permits: number }[];
}

/** A task that sleeps until `at`, then acquires; logs its grant, or returns how it gave up. */
function requester(
  sim: Simulation,
  limiter: AsyncRateLimiter,
  log: Log,
  name: string,
  at: number,
  options: { permits?: number; timeout?: number; signal?: AbortSignal } = {},
): { outcome: string } {
  const result = { outcome: 'pending' };
  sim.spawn(name, async () => {
    if (at > 0) await sim.sleep(at);
    try {
      await limiter.acquire(options);
      log.grants.push({ time: sim.now, permits: options.permits ?? 1 });
      result.outcome = `granted@${sim.now}`;
    } catch (error) {
      result.outcome = error instanceof TimeoutError ? `timeout@${sim.now}` : `aborted@${sim.now}`;
    }
  });
  return result;
}

describe('AsyncRateLimiter races over every schedule', function () {
  // Exhaustive explorations: each ends when its schedules are covered; a slow, loaded machine must not cut them off.
  this.timeout(60_000);
  it("measures the simulation's virtual time (the scheduler hook's now), not Date.now", async () => {
    // Date.now() frozen: only the hook's clock moves. A limiter reading Date.now would never refill.
    const clock = sinon.useFakeTimers();
    try {
      const sim = new Simulation({ maxSteps: 1_000 });
      const limiter = new AsyncRateLimiter({ limit: 1, interval: 100, name: 'api' });
      const grants: number[] = [];
      sim.spawn('caller', async () => {
        for (let i = 0; i < 3; i++) {
          await limiter.acquire();
          grants.push(sim.now);
        }
      });
      await sim.run();
      expect(grants).to.deep.equal([0, 100, 200]);
      expect(Date.now()).to.equal(0);
    } finally {
      clock.restore();
    }
  });

  for (const strict of [true, false]) {
    const kind = strict ? 'strict window' : 'token bucket';

    it(`${kind}: the window law, FIFO and the pause hold in every schedule`, async () => {
      const shape = strict ? { limit: 2, interval: 10, strict } : { limit: 2, interval: 10, burst: 3 };
      const law = { limit: 2, interval: 10, burst: strict ? 2 : 3, strict };
      const runs = await expectProven(async (sim) => {
        const limiter = new AsyncRateLimiter({ ...shape, name: 'api' });
        const log: Log = { grants: [] };
        // Distinct arrival times fix the request order; what races is everything that falls due together. b's
        // timeout (at 9) falls inside the pause [4, 12) while c, behind it, would fit: c must still wait for 12.
        const a = requester(sim, limiter, log, 'a', 0);
        const b = requester(sim, limiter, log, 'b', 1, { permits: strict ? 2 : 3, timeout: 8 });
        const c = requester(sim, limiter, log, 'c', 2);
        const d = requester(sim, limiter, log, 'd', 6);
        const pausedAt = 4;
        sim.spawn('pauser', async () => {
          await sim.sleep(pausedAt);
          limiter.pauseFor(8);
        });
        await sim.run();
        const violation = checkWindowLaw(log.grants, law);
        if (violation !== undefined) throw new Error(violation);
        const during = log.grants.filter((g) => g.time >= pausedAt && g.time < pausedAt + 8);
        if (during.length > 0) throw new Error(`granted during the pause: ${JSON.stringify(during)}`);
        // The harness may resume c and d (granted in one step) in either order; the grants themselves are FIFO
        // and the same in every schedule.
        const outcomes = [a.outcome, b.outcome, c.outcome, d.outcome].join(' ');
        if (outcomes !== 'granted@0 timeout@9 granted@12 granted@12')
          throw new Error(`outcomes: ${outcomes}`);
        if (limiter.waiting !== 0) throw new Error(`left ${limiter}`);
      });
      expect(runs).to.be.greaterThan(1); // several schedules (fewer once the harness reduces equivalent ones)
    });
  }

  for (const abortAt of [7, 30]) {
    it(`an abort at ${abortAt} ms removes the head at once; the waiter behind it goes through if it now fits`, async () => {
      const outcomes = new Set<string>();
      const runs = await expectProven(async (sim) => {
        const limiter = new AsyncRateLimiter({ limit: 3, interval: 30, strict: true, name: 'api' });
        const log: Log = { grants: [] };
        const controller = new AbortController();
        requester(sim, limiter, log, 'first', 0, { permits: 2 });
        const big = requester(sim, limiter, log, 'big', 1, { permits: 3, signal: controller.signal });
        const small = requester(sim, limiter, log, 'small', 2);
        sim.spawn('canceller', async () => {
          await sim.sleep(abortAt);
          controller.abort();
        });
        await sim.run();
        outcomes.add(`${big.outcome} ${small.outcome}`);
        const violation = checkWindowLaw(log.grants, { limit: 3, interval: 30, burst: 3, strict: true });
        if (violation !== undefined) throw new Error(violation);
        if (limiter.waiting !== 0) throw new Error(`left ${limiter}`);
      });
      expect(runs).to.be.greaterThan(1);
      // At 7 the abort can only come first: small takes the one free slot at once. At 30 the abort races the
      // limiter's timer: either big is granted (grant wins, small waits for the next slot) or small goes at once.
      expect([...outcomes].sort()).to.deep.equal(
        abortAt === 7 ? ['aborted@7 granted@7'] : ['aborted@30 granted@30', 'granted@30 granted@60'],
      );
    });
  }

  it('with AsyncSemaphore: at most N running and at most R started per window, in every schedule', async () => {
    const runs = await expectProven(async (sim) => {
      const connections = new AsyncSemaphore(2, { name: 'connections' });
      const api = new AsyncRateLimiter({ limit: 2, interval: 10, strict: true, name: 'api' });
      const starts: { time: number; permits: number }[] = [];
      let running = 0;
      for (const [name, arrives, works] of [
        ['a', 0, 12],
        ['b', 1, 3],
        ['c', 2, 5],
        ['d', 3, 1],
      ] as const) {
        sim.spawn(name, async () => {
          await sim.sleep(arrives);
          await connections.run(async () => {
            await api.acquire();
            running++;
            if (running > 2) throw new Error(`${running} running at ${sim.now}`);
            starts.push({ time: sim.now, permits: 1 });
            await sim.sleep(works);
            running--;
          });
        });
      }
      await sim.run();
      const violation = checkWindowLaw(starts, { limit: 2, interval: 10, burst: 2, strict: true });
      if (violation !== undefined) throw new Error(`starts: ${violation}`);
      if (starts.length !== 4) throw new Error(`${starts.length} of 4 started`);
    });
    expect(runs).to.be.greaterThan(1);
  });

  it('a timeout racing the grant: the waiter is granted or times out, never both, and loses no permit', async () => {
    const outcomes = new Set<string>();
    await expectProven(async (sim) => {
      const limiter = new AsyncRateLimiter({ limit: 1, interval: 10, name: 'api' });
      const log: Log = { grants: [] };
      requester(sim, limiter, log, 'first', 0);
      const racer = requester(sim, limiter, log, 'racer', 1, { timeout: 9 });
      const last = requester(sim, limiter, log, 'last', 2);
      await sim.run();
      outcomes.add(`${racer.outcome} ${last.outcome}`);
      const violation = checkWindowLaw(log.grants, { limit: 1, interval: 10, burst: 1, strict: false });
      if (violation !== undefined) throw new Error(violation);
    });
    // The racer's timeout timer was started before the limiter's timer for the same instant, so it fires first in
    // FIFO; the other order is explored too, and both outcomes are consistent.
    expect([...outcomes].sort()).to.deep.equal(['granted@10 granted@20', 'timeout@10 granted@10']);
  });
});
