/**
 * The core verbs' races, proven over every schedule by the harness: each scenario drives a WaitQueue directly
 * (park, grant the best waiter, cancel by signal or timeout, repark, rejectAll, close/reopen) from several tasks,
 * states its invariant, and `explore` must cover every interleaving without a failure.
 */
import { expect } from 'chai';
import { WaitQueue } from '../../lib/core/wait-queue.js';
import type { Guard } from '../../lib/core/guard.js';
import { TimeoutError } from '../../lib/errors.js';
import { explore, type Scenario } from '../../lib/testing/index.js';

async function expectProven(scenario: Scenario): Promise<number> {
  const result = await explore(scenario, { runs: 20_000 });
  if (result.failure !== undefined) {
    throw new Error(
      `${String(result.failure.error)}\nschedule: ${result.failure.schedule}\n${result.failure.trace.join('\n')}`,
    );
  }
  expect(result.exhausted).to.equal(true);
  return result.runs;
}

const isAbort = (error: unknown) => (error as Error | undefined)?.name === 'AbortError';

describe('core: WaitQueue verbs over every schedule', function () {
  // Exhaustive explorations: each ends when its schedules are covered; a slow, loaded machine must not cut them off.
  this.timeout(60_000);
  it('grant vs abort vs timeout: each waiter settles exactly once, and the queue ends empty', async () => {
    const runs = await expectProven(async (sim) => {
      const queue = new WaitQueue<string, string>({ label: 'Q(q)' });
      const controller = new AbortController();
      const outcomes: string[] = [];
      sim.spawn('waiter', async () => {
        try {
          outcomes.push(await queue.park({ signal: controller.signal, timeout: 5 }, 'w'));
        } catch (error) {
          if (isAbort(error)) outcomes.push('aborted');
          else if (error instanceof TimeoutError) outcomes.push('timed out');
          else throw error;
        }
      });
      sim.spawn('granter', async () => {
        await sim.yield();
        const head = queue.head;
        if (head !== undefined) queue.grant(head, 'granted');
      });
      sim.spawn('aborter', async () => {
        await sim.yield();
        controller.abort();
      });
      await sim.run();
      if (outcomes.length !== 1) throw new Error(`settled ${outcomes.length} times: ${outcomes.join(', ')}`);
      if (queue.size !== 0) throw new Error(`queue left with ${queue.size}`);
    });
    expect(runs).to.be.greaterThan(3);
  });

  it('repark vs abort: a waiter is either moved (and later granted there) or rejected, never both', async () => {
    await expectProven(async (sim) => {
      const source = new WaitQueue<string, string>({ label: 'Q(source)' });
      const target = new WaitQueue<string, string>({ label: 'Q(target)' });
      const controller = new AbortController();
      const outcomes: string[] = [];
      sim.spawn('waiter', async () => {
        try {
          outcomes.push(await source.park({ signal: controller.signal }, 'w'));
        } catch (error) {
          if (!isAbort(error)) throw error;
          outcomes.push('aborted');
        }
      });
      sim.spawn('mover', async () => {
        await sim.yield();
        // Cancellable: the move is not the grant, so an abort after it cancels from the target.
        source.repark(target, 1, true);
        await sim.yield();
        const head = target.head;
        if (head !== undefined) target.grant(head, 'granted');
      });
      sim.spawn('aborter', async () => {
        await sim.yield();
        controller.abort();
      });
      await sim.run();
      if (outcomes.length !== 1) throw new Error(`settled ${outcomes.length} times: ${outcomes.join(', ')}`);
      if (source.size + target.size !== 0) throw new Error('a waiter was left queued');
    });
  });

  it('close vs park: the count returned is exact, and a closed queue refuses parks until reopened', async () => {
    await expectProven(async (sim) => {
      const queue = new WaitQueue<void, string>({ label: 'Q(q)' });
      const outcomes = new Map<string, number>();
      const count = (outcome: string) => outcomes.set(outcome, (outcomes.get(outcome) ?? 0) + 1);
      let counted = 0;
      for (const name of ['a', 'b']) {
        sim.spawn(name, async () => {
          await sim.yield();
          try {
            // A park after the last grant times out (in virtual time): a valid outcome, and no deadlock.
            await queue.park({ timeout: 10 }, name);
            count('granted');
          } catch (error) {
            if (error instanceof TimeoutError) count('timed out');
            else count((error as Error).message);
          }
        });
      }
      sim.spawn('closer', async () => {
        await sim.yield();
        counted = queue.close((waiter) => new Error(waiter === undefined ? 'refused' : 'closed'));
        await sim.yield();
        queue.reopen();
        await sim.yield();
        queue.grantAll(undefined);
      });
      await sim.run();
      if (counted !== (outcomes.get('closed') ?? 0)) throw new Error(`close counted ${counted}`);
      const total = [...outcomes.values()].reduce((a, b) => a + b, 0);
      if (total !== 2 || queue.size !== 0) throw new Error(`outcomes ${JSON.stringify([...outcomes])}`);
    });
  });

  it('grant the best waiter: every grant goes to the highest priority parked at that moment, FIFO among equals', async () => {
    await expectProven(async (sim) => {
      const queue = new WaitQueue<void, string>({ label: 'Q(q)' });
      const parked: { name: string; priority: number }[] = [];
      const served: string[] = [];
      const grantBest = () => {
        const head = queue.head;
        if (head === undefined) return false;
        const waiting = parked.filter((entry) => !served.includes(entry.name));
        // The first of the highest priority: reduce keeps the earlier entry on ties.
        const best = waiting.reduce((a, b) => (b.priority > a.priority ? b : a));
        if (head.value !== best.name) throw new Error(`granted ${head.value}, best was ${best.name}`);
        served.push(head.value);
        queue.grant(head, undefined);
        return true;
      };
      sim.spawn('arrivals', async () => {
        for (const [name, priority] of [
          ['zero', 0],
          ['low', -1],
          ['high', 2],
          ['zero2', 0],
        ] as const) {
          parked.push({ name, priority });
          void queue.park(undefined, name, priority);
          await sim.yield();
        }
      });
      sim.spawn('granter', async () => {
        await sim.yield();
        grantBest();
        await sim.yield();
        grantBest();
      });
      await sim.run();
      while (grantBest());
      if (served.length !== 4 || queue.size !== 0) throw new Error(`served ${served.join(', ')}`);
    });
  });
  it('parkRun vs abort vs grant: fn runs at most once, the run settles once, and the guard is always released', async () => {
    await expectProven(async (sim) => {
      const queue = new WaitQueue<Guard, undefined>({ label: 'Q(q)' });
      const controller = new AbortController();
      let calls = 0;
      let releases = 0;
      const outcomes: string[] = [];
      const guard: Guard = {
        released: false,
        release() {
          releases++;
        },
        [Symbol.dispose]() {
          releases++;
        },
      };
      sim.spawn('runner', async () => {
        try {
          outcomes.push(
            await queue.parkRun({ signal: controller.signal }, undefined, 0, async () => {
              calls++;
              await sim.yield();
              return 'ran';
            }),
          );
        } catch (error) {
          if (!isAbort(error)) throw error;
          outcomes.push('aborted');
        }
      });
      sim.spawn('granter', async () => {
        await sim.yield();
        const head = queue.head;
        if (head !== undefined) queue.grant(head, guard);
      });
      sim.spawn('aborter', async () => {
        await sim.yield();
        controller.abort();
      });
      await sim.run();
      if (outcomes.length !== 1) throw new Error(`settled ${outcomes.length} times`);
      const ran = outcomes[0] === 'ran';
      if (calls !== (ran ? 1 : 0) || releases !== (ran ? 1 : 0)) {
        throw new Error(`outcome ${String(outcomes[0])}: fn called ${calls}, guard released ${releases}`);
      }
    });
  });

  it('rejectAll vs grant vs timeout: every waiter gets exactly one outcome and the count is exact', async () => {
    await expectProven(async (sim) => {
      const queue = new WaitQueue<string, string>({ label: 'Q(q)' });
      const outcomes: string[] = [];
      let cancelled = 0;
      for (const name of ['a', 'b']) {
        sim.spawn(name, async () => {
          try {
            outcomes.push(await queue.park({ timeout: 5 }, name));
          } catch (error) {
            outcomes.push(error instanceof TimeoutError ? 'timed out' : (error as Error).message);
          }
        });
      }
      sim.spawn('granter', async () => {
        await sim.yield();
        const head = queue.head;
        if (head !== undefined) queue.grant(head, 'granted');
      });
      sim.spawn('canceller', async () => {
        await sim.yield();
        cancelled = queue.rejectAll(() => new Error('cancelled'));
      });
      await sim.run();
      if (outcomes.length !== 2) throw new Error(`outcomes ${outcomes.join(', ')}`);
      if (outcomes.filter((outcome) => outcome === 'cancelled').length !== cancelled) {
        throw new Error(`rejectAll said ${cancelled}; outcomes ${outcomes.join(', ')}`);
      }
    });
  });
});
