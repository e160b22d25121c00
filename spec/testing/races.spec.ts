/**
 * The primitives' own races, checked over every interleaving of a few tasks by the harness: each scenario states
 * its invariant, and `explore` must cover every schedule without a failure.
 */
import { expect } from 'chai';
import { AsyncCondition, AsyncLock, AsyncQueue, AsyncSemaphore } from '../../lib/index.js';
import { explore, type Scenario } from '../../lib/testing/index.js';

function isAbort(error: unknown): boolean {
  return (error as Error | undefined)?.name === 'AbortError';
}

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

describe('testing: primitive races over every schedule', function () {
  // Exhaustive explorations: each ends when its schedules are covered; a slow, loaded machine must not cut them off.
  this.timeout(60_000);
  it('lock: cancel vs release — the waiter holds the lock or rejects, never both, and the lock ends free', async () => {
    const runs = await expectProven(async (sim) => {
      const lock = new AsyncLock({ name: 'l' });
      const controller = new AbortController();
      let outcome = 'pending';
      sim.spawn('holder', async () => {
        const guard = await lock.acquire();
        await sim.yield();
        guard.release();
      });
      sim.spawn('waiter', async () => {
        await sim.yield();
        try {
          const guard = await lock.acquire({ signal: controller.signal });
          outcome = 'granted';
          if (!lock.locked) throw new Error('granted but the lock is not held');
          guard.release();
        } catch (error) {
          if (!isAbort(error)) throw error;
          outcome = 'aborted';
        }
      });
      sim.spawn('canceller', async () => {
        await sim.yield();
        controller.abort();
      });
      await sim.run();
      if (outcome === 'pending') throw new Error('the waiter never settled');
      if (lock.locked || lock.waiting !== 0) throw new Error(`lock left ${lock.toString()}`);
    });
    expect(runs).to.be.greaterThan(5);
  });

  it('semaphore: a weighted waiter cancelled while a release hands permits out loses none', async () => {
    await expectProven(async (sim) => {
      const sem = new AsyncSemaphore(2, { name: 's' });
      const controller = new AbortController();
      sim.spawn('big', async () => {
        const guard = await sem.acquire({ permits: 2 });
        await sim.yield();
        guard.release();
      });
      sim.spawn('greedy', async () => {
        await sim.yield();
        try {
          (await sem.acquire({ permits: 2, signal: controller.signal })).release();
        } catch (error) {
          if (!isAbort(error)) throw error;
        }
      });
      sim.spawn('small', async () => {
        await sim.yield();
        await sim.yield();
        (await sem.acquire({ timeout: 10 }).catch(() => undefined))?.release();
      });
      sim.spawn('canceller', async () => {
        await sim.yield();
        controller.abort();
      });
      await sim.run();
      if (sem.value !== 2 || sem.waiting !== 0) throw new Error(`permits lost: ${sem.toString()}`);
    });
  });

  it('condition: notify vs abort — a notify wakes exactly one waiter if any waits; each holds the lock after', async () => {
    await expectProven(async (sim) => {
      const cond = new AsyncCondition(new AsyncLock({ name: 'm' }), { name: 'c' });
      const controller = new AbortController();
      let woken = 0;
      let waitingAtNotify = -1;
      const waitFor = (options: { signal?: AbortSignal; timeout?: number }) => async () => {
        await cond.run(async () => {
          try {
            await cond.wait(options);
            woken++;
          } catch (error) {
            if (!isAbort(error) && (error as Error).name !== 'TimeoutError') throw error;
          }
          if (!cond.locked) throw new Error('wait settled without the lock');
        });
      };
      sim.spawn('abortable', waitFor({ signal: controller.signal }));
      sim.spawn('patient', waitFor({ timeout: 100 }));
      sim.spawn('notifier', async () => {
        await sim.yield();
        await cond.run(async () => {
          waitingAtNotify = cond.waiting;
          cond.notify();
        });
      });
      sim.spawn('canceller', async () => {
        await sim.yield();
        controller.abort();
      });
      await sim.run();
      // A notify with nobody waiting is lost (as in Python); otherwise it wakes exactly one, even if that one's
      // abort comes after the notification (grant wins).
      const expected = Math.min(1, waitingAtNotify);
      if (woken !== expected) throw new Error(`notify with ${waitingAtNotify} waiting woke ${woken}`);
      if (cond.locked) throw new Error('lock left held');
    });
  });

  it('queue: get vs cancel — an item is received or stays queued, never lost, never delivered twice', async () => {
    await expectProven(async (sim) => {
      const queue = new AsyncQueue<string>(0, { name: 'q' });
      const controller = new AbortController();
      const received: string[] = [];
      sim.spawn('consumer', async () => {
        try {
          received.push(await queue.get({ signal: controller.signal }));
        } catch (error) {
          if (!isAbort(error)) throw error;
        }
      });
      sim.spawn('producer', async () => {
        await sim.yield();
        await queue.put('item');
      });
      sim.spawn('canceller', async () => {
        await sim.yield();
        controller.abort();
      });
      await sim.run();
      const left = queue.size;
      if (received.length + left !== 1)
        throw new Error(`received ${received.length}, left ${left}: expected 1 in all`);
    });
  });
});
