/**
 * The harness's injected strategies and the declarations the reduction reads: what they accept, what they refuse,
 * and what the reduction does with them.
 */
import { expect } from 'chai';
import { AsyncLock } from '../../lib/index.js';
import { Simulation, explore, type Candidate, type Scenario } from '../../lib/testing/index.js';
import { rejectionOf } from '../suites/helpers.js';

/** `tasks` tasks that each yield `steps` times, touching only their own state. */
function independentTasks(tasks: number, steps: number, declare: boolean): Scenario {
  return async (sim) => {
    for (let t = 0; t < tasks; t++) {
      const mine = `own${t}`;
      sim.spawn(
        `t${t}`,
        async () => {
          for (let i = 0; i < steps; i++) await (declare ? sim.yield(mine) : sim.yield());
        },
        declare ? mine : undefined,
      );
    }
  };
}

describe('testing: strategies and declarations', () => {
  describe('a Strategy of your own', () => {
    it('is asked at each choice point, with the candidates in FIFO order and their keys', async () => {
      const seen: string[][] = [];
      const last = {
        choose(candidates: readonly Candidate[]): number {
          seen.push(candidates.map((candidate) => candidate.key));
          return candidates.length - 1;
        },
      };
      const sim = new Simulation({ strategy: last });
      sim.spawn('a', () => sim.yield());
      sim.spawn('b', () => sim.yield());
      await sim.run();
      expect(seen[0]).to.deep.equal(['a start start', 'b start start']);
      expect(sim.trace).to.deep.equal([
        '#1 0ms b: start',
        '#2 0ms b: yield',
        '#3 0ms a: start',
        '#4 0ms a: yield',
      ]);
      // Its schedule replays without it.
      const again = new Simulation({ schedule: sim.schedule });
      again.spawn('a', () => again.yield());
      again.spawn('b', () => again.yield());
      await again.run();
      expect(again.trace).to.deep.equal(sim.trace);
    });

    it('an index out of range is a RangeError naming strategy.choose; a bad strategy a TypeError', async () => {
      const sim = new Simulation({ strategy: { choose: () => 5 } });
      sim.spawn('a', async () => {});
      sim.spawn('b', async () => {});
      expect(String(await rejectionOf(sim.run()))).to.match(
        /RangeError: strategy\.choose must return an index/,
      );
      expect(() => new Simulation({ strategy: {} as never })).to.throw(TypeError, /options\.strategy/);
    });
  });

  describe('declarations', () => {
    it('declared independent steps are proven in a fraction of the schedules; undeclared, every order is run', async () => {
      const reduced = await explore(independentTasks(3, 2, true), { strategy: 'dfs' });
      const full = await explore(independentTasks(3, 2, false), { strategy: 'dfs', runs: 5000 });
      expect(full.exhausted).to.equal(true);
      expect(full.runs).to.equal(1680); // 9! / (3! 3! 3!) interleavings of each task's start and two yields
      expect(reduced.exhausted).to.equal(true);
      // One interleaving runs to its end; the others stop as soon as the reduction sees they are redundant.
      expect(reduced.runs).to.be.at.most(30);
    });

    it('reads commute with reads, not with writes', async () => {
      const scenario =
        (access: 'reads' | 'writes'): Scenario =>
        async (sim) => {
          for (const name of ['a', 'b', 'c']) {
            sim.spawn(name, async () => {
              await sim.yield({ [access]: ['config'] });
              await sim.yield({ [access]: ['config'] });
            }, []);
          }
        };
      const reads = await explore(scenario('reads'), { strategy: 'dfs' });
      const writes = await explore(scenario('writes'), { strategy: 'dfs', runs: 5000 });
      const full = await explore(scenario('writes'), { strategy: 'dfs', reduction: false, runs: 5000 });
      expect([reads.exhausted, writes.exhausted, full.exhausted]).to.deep.equal([true, true, true]);
      expect(reads.runs).to.be.lessThan(writes.runs);
      expect(writes.runs).to.be.lessThan(full.runs);
    });

    it('the harness adds the primitive a step parks on and the one that wakes it: a declared [] is not trusted there', async () => {
      // Each waiter declares that its steps touch nothing, but they queue on the same held lock: their order matters.
      const order: string[] = [];
      const scenario: Scenario = async (sim) => {
        const lock = new AsyncLock({ name: 'l' });
        const guard = await lock.acquire();
        for (const name of ['a', 'b']) {
          sim.spawn(name, async () => {
            await sim.yield([]);
            sim.declare([]);
            (await lock.acquire()).release();
          }, []);
        }
        sim.spawn(
          'releaser',
          async () => {
            await sim.yield([lock]);
            guard.release();
          },
          [],
        );
        await sim.run();
        order.push(sim.trace.filter((line) => line.includes('granted')).join('|'));
      };
      const reduced = await explore(scenario, { strategy: 'dfs' });
      const reducedOrders = new Set(order.splice(0));
      await explore(scenario, { strategy: 'dfs', reduction: false });
      const fullOrders = new Set(order);
      expect(reduced.exhausted).to.equal(true);
      expect([...reducedOrders].some((o) => o.startsWith('#') && o.includes('a: resume'))).to.equal(true);
      // Every order of the grants the full search sees is seen with the reduction too.
      const grants = (orders: Set<string>) =>
        new Set(
          [...orders].map((o) => o.replace(/#\d+ \d+ms /g, '').replace(/, granted AsyncLock\(l\)/g, '')),
        );
      expect([...grants(fullOrders)].sort()).to.deep.equal([...grants(reducedOrders)].sort());
    });

    it('a bad declaration is a TypeError naming it; declare() outside a task is an Error', async () => {
      const sim = new Simulation();
      expect(() => sim.spawn('a', async () => {}, 5 as never)).to.throw(TypeError, /touches/);
      expect(() => sim.spawn('b', async () => {}, [null] as never)).to.throw(TypeError, /touches/);
      expect(() => sim.spawn('c', async () => {}, { reads: 'x' } as never)).to.throw(
        TypeError,
        /touches\.reads/,
      );
      expect(() => sim.declare([])).to.throw(Error, /from a task/);
      let inside: unknown;
      sim.spawn('d', async () => {
        try {
          await sim.yield(7 as never);
        } catch (error) {
          inside = error;
        }
      });
      await sim.run();
      expect(inside).to.be.instanceOf(TypeError);
    });
  });
});
