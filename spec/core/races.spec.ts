/**
 * The core verbs' races, proven over every schedule by the harness: each scenario drives a WaitQueue directly
 * (park, grant or serve the best waiter, cancel by signal or timeout, repark whole or by handle, rejectAll,
 * rejectWhere, close/reopen, alarms) from several tasks,
 * states its invariant, and `explore` must cover every interleaving without a failure.
 */
import { expect } from 'chai';
import { ringAgain, WaitQueue, type WaitHandle } from '../../lib/core/wait-queue.js';
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
        queue.grantBest('granted');
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
        target.grantBest('granted');
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
        const head = queue.bestValue;
        if (head === undefined) return false;
        const waiting = parked.filter((entry) => !served.includes(entry.name));
        // The first of the highest priority: reduce keeps the earlier entry on ties.
        const best = waiting.reduce((a, b) => (b.priority > a.priority ? b : a));
        if (head !== best.name) throw new Error(`granted ${head}, best was ${best.name}`);
        if (queue.bestPriority !== best.priority) throw new Error(`best priority ${queue.bestPriority}`);
        served.push(head);
        queue.grantBest(undefined);
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
        queue.grantBest(guard);
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
        queue.grantBest('granted');
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

  it('serveBest vs abort: a throwing serve rejects only the waiter it served, and every waiter settles once', async () => {
    await expectProven(async (sim) => {
      const queue = new WaitQueue<string, string>({ label: 'Q(q)' });
      const controller = new AbortController();
      const outcomes = new Map<string, string>();
      const settle = (name: string, outcome: string) => {
        if (outcomes.has(name)) throw new Error(`${name} settled twice`);
        outcomes.set(name, outcome);
      };
      for (const name of ['bad', 'good']) {
        sim.spawn(name, async () => {
          try {
            settle(name, await queue.park({ signal: controller.signal }, name));
          } catch (error) {
            settle(name, isAbort(error) ? 'aborted' : (error as Error).message);
          }
        });
      }
      let served = 0;
      sim.spawn('server', async () => {
        await sim.yield();
        const serve = (value: string) => {
          if (value === 'bad') throw new Error('refused');
          return `served ${value}`;
        };
        while (queue.size > 0) if (queue.serveBest(serve)) served++;
      });
      sim.spawn('aborter', async () => {
        await sim.yield();
        controller.abort();
      });
      await sim.run();
      if (outcomes.size !== 2 || queue.size !== 0)
        throw new Error(`outcomes ${JSON.stringify([...outcomes])}`);
      const bad = outcomes.get('bad');
      if (bad !== 'refused' && bad !== 'aborted') throw new Error(`bad got ${String(bad)}`);
      if (served !== (outcomes.get('good') === 'served good' ? 1 : 0)) throw new Error(`served ${served}`);
    });
  });

  it('rejectWhere vs grant vs timeout: only accepted waiters are rejected, the rest keep their order, the count is exact', async () => {
    await expectProven(async (sim) => {
      const queue = new WaitQueue<string, string>({ label: 'Q(q)' });
      const outcomes = new Map<string, string>();
      for (const name of ['x', 'keep']) {
        sim.spawn(name, async () => {
          try {
            // A waiter parked after the last grant times out (in virtual time): a valid outcome.
            const parked = queue.park({ timeout: 5 }, name);
            arrived.push(name);
            outcomes.set(name, await parked);
          } catch (error) {
            outcomes.set(name, error instanceof TimeoutError ? 'timed out' : (error as Error).message);
          }
        });
      }
      let rejected = 0;
      let left: string[] = [];
      const arrived: string[] = [];
      sim.spawn('granter', async () => {
        await sim.yield();
        queue.grantBest('granted');
      });
      sim.spawn('canceller', async () => {
        await sim.yield();
        rejected = queue.rejectWhere(
          (value) => value.startsWith('x'),
          (value) => new Error(`rejected ${value}`),
        );
        left = queue.values();
        queue.grantAll('granted');
      });
      await sim.run();
      if (outcomes.size !== 2 || queue.size !== 0)
        throw new Error(`outcomes ${JSON.stringify([...outcomes])}`);
      const byRejection = [...outcomes].filter(([, outcome]) => outcome.startsWith('rejected'));
      if (byRejection.length !== rejected) throw new Error(`rejectWhere said ${rejected}`);
      for (const [name, outcome] of byRejection)
        if (!name.startsWith('x') || outcome !== `rejected ${name}`) throw new Error(`${name}: ${outcome}`);
      if (left.some((value) => value.startsWith('x'))) throw new Error(`left ${left.join(', ')}`);
      // The waiters left keep their arrival order.
      const order = arrived.filter((name) => left.includes(name));
      if (left.join() !== order.join())
        throw new Error(`left ${left.join(', ')}, arrived ${arrived.join(', ')}`);
    });
  });

  it('park with handles, repark with handles and reparkHandle vs abort vs grant: each waiter settles once, from where it is', async () => {
    await expectProven(async (sim) => {
      const home = new WaitQueue<string, string>({ label: 'Q(home)' });
      const away = new WaitQueue<string, string>({ label: 'Q(away)' });
      const controller = new AbortController();
      const handles: WaitHandle<string>[] = [];
      const outcomes = new Map<string, string>();
      for (const name of ['a', 'b']) {
        sim.spawn(name, async () => {
          try {
            outcomes.set(name, await home.park({ signal: controller.signal }, name, 0, handles));
          } catch (error) {
            if (!isAbort(error)) throw error;
            outcomes.set(name, 'aborted');
          }
        });
      }
      sim.spawn('mover', async () => {
        await sim.yield();
        const moved: WaitHandle<string>[] = [];
        home.repark(away, home.size, true, moved);
        if (moved.map((handle) => handle.value).join() !== away.values().join())
          throw new Error(`moved ${moved.length}, away holds ${away.values().join(', ')}`);
        await sim.yield();
        // Each handle moves back only if it is still parked away.
        for (const handle of moved) away.reparkHandle(handle, home);
        for (const handle of handles) if (away.reparkHandle(handle, home)) throw new Error('moved twice');
        await sim.yield();
        home.grantAll('home');
        away.grantAll('away');
      });
      sim.spawn('aborter', async () => {
        await sim.yield();
        controller.abort();
      });
      await sim.run();
      if (outcomes.size !== 2) throw new Error(`outcomes ${JSON.stringify([...outcomes])}`);
      if (home.size + away.size !== 0) throw new Error('a waiter was left queued');
      for (const [name, outcome] of outcomes)
        if (outcome !== 'aborted' && outcome !== 'home') throw new Error(`${name}: ${outcome}`);
    });
  });

  it('parkAlarmed vs abort vs timeout: the alarm rings again or grants, the waiter settles once, no timer is left', async () => {
    await expectProven(async (sim) => {
      const queue = new WaitQueue<string, undefined>({ label: 'Q(alarm)' });
      const controller = new AbortController();
      const outcomes: string[] = [];
      let rings = 0;
      sim.spawn('sleeper', async () => {
        try {
          const alarm = () => (++rings < 2 ? ringAgain : 'rang');
          outcomes.push(await queue.parkAlarmed({ signal: controller.signal, timeout: 2 }, 1, alarm));
        } catch (error) {
          if (isAbort(error)) outcomes.push('aborted');
          else if (error instanceof TimeoutError) outcomes.push('timed out');
          else throw error;
        }
      });
      sim.spawn('aborter', async () => {
        await sim.yield();
        controller.abort();
      });
      await sim.run();
      if (outcomes.length !== 1) throw new Error(`settled ${outcomes.length} times: ${outcomes.join(', ')}`);
      if (outcomes[0] === 'rang' && rings !== 2) throw new Error(`granted after ${rings} rings`);
      if (queue.size !== 0) throw new Error('left queued');
    });
  });
});
