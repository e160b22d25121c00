/**
 * Defects of the harness found by adversarial testing (issue 12, items 3-5): each spec failed before its fix.
 */
import { expect } from 'chai';
import sinon from 'sinon';
import { AsyncLock, TimeoutError } from '../../lib/index.js';
import { Simulation, SimulationError, explore, type Scenario } from '../../lib/testing/index.js';
import { rejectionOf } from '../suites/helpers.js';

describe('testing: harness defects (issue 12)', () => {
  describe('item 3: a run never drops what a primitive decided', () => {
    it('a fire-and-forget lock.run granted the lock runs its critical section before run() returns', async () => {
      const sim = new Simulation();
      const lock = new AsyncLock({ name: 'l' });
      let ran = false;
      sim.spawn('a', async () => {
        const guard = await lock.acquire();
        void lock.run(async () => {
          ran = true;
        });
        await sim.yield();
        guard.release(); // grants the lock to the fire-and-forget waiter; then the task ends
      });
      await sim.run();
      expect(ran).to.equal(true);
      expect(lock.locked).to.equal(false);
      expect(sim.trace.at(-1)).to.match(/resume, granted AsyncLock\(l\)$/);
    });

    it('a timeout still pending when the tasks end fires in virtual time within the run', async () => {
      const sim = new Simulation();
      const lock = new AsyncLock({ name: 'held' });
      const guard = await lock.acquire();
      let outcome: unknown;
      sim.spawn('a', async () => {
        lock.acquire({ timeout: 10 }).then(
          (g) => g.release(),
          (error: unknown) => (outcome = error),
        );
      });
      await sim.run();
      expect(outcome).to.be.instanceOf(TimeoutError);
      expect(sim.now).to.equal(10);
      expect(lock.waiting).to.equal(0);
      guard.release();
    });

    it('a run that fails early carries a pending timeout on to the real (here: fake) clock', async () => {
      const sim = new Simulation();
      const lock = new AsyncLock({ name: 'held' });
      const guard = await lock.acquire();
      let outcome: unknown;
      sim.spawn('waiter', async () => {
        await sim.sleep(5);
        outcome = await rejectionOf(lock.acquire({ timeout: 10 }));
      });
      sim.spawn('failing', async () => {
        await sim.sleep(6);
        throw new Error('stop');
      });
      const clock = sinon.useFakeTimers();
      try {
        expect(String(await rejectionOf(sim.run()))).to.equal('Error: stop');
        expect(lock.waiting).to.equal(1);
        expect(clock.countTimers()).to.equal(1);
        await clock.tickAsync(8);
        expect(lock.waiting).to.equal(1);
        await clock.tickAsync(1); // 10 ms after the waiter parked at virtual 5
        expect(outcome).to.be.instanceOf(TimeoutError);
        expect(lock.waiting).to.equal(0);
      } finally {
        clock.restore();
      }
      guard.release();
    });

    it('a grant decided before an early failure is delivered: the lock does not stay locked', async () => {
      const sim = new Simulation();
      const lock = new AsyncLock({ name: 'l' });
      let ran = false;
      sim.spawn('holder', async () => {
        const guard = await lock.acquire();
        await sim.yield();
        guard.release();
        throw new Error('stop'); // the run stops here, with the grant to 'waiter' decided
      });
      sim.spawn('waiter', () =>
        lock.run(async () => {
          ran = true;
        }),
      );
      expect(String(await rejectionOf(sim.run()))).to.equal('Error: stop');
      await Promise.resolve();
      await Promise.resolve();
      expect(ran).to.equal(true);
      expect(lock.locked).to.equal(false);
    });

    it('explore proves a scenario with fire-and-forget work: every schedule runs it to its end', async () => {
      const result = await explore(async (sim) => {
        const lock = new AsyncLock();
        let done = 0;
        sim.spawn('a', async () => {
          for (let i = 0; i < 2; i++) {
            void lock.run(async () => {
              await sim.yield();
              done++;
            });
          }
        });
        await sim.run();
        if (done !== 2 || lock.locked) throw new Error(`done = ${done}, ${lock.toString()}`);
      });
      expect(result.failure).to.equal(undefined);
      expect(result.exhausted).to.equal(true);
    });
  });

  describe('item 4: two explore() calls at once', () => {
    const lostUpdate: Scenario = async (sim) => {
      let count = 0;
      for (const name of ['a', 'b']) {
        sim.spawn(name, async () => {
          const read = count;
          await sim.yield();
          count = read + 1;
        });
      }
      await sim.run();
      if (count !== 2) throw new Error(`lost update: ${count}`);
    };
    const proven: Scenario = async (sim) => {
      sim.spawn('a', () => sim.yield());
      sim.spawn('b', () => sim.yield());
    };

    it('the second call is rejected with a SimulationError, never reported as a failure of its scenario', async () => {
      const [first, second] = await Promise.allSettled([explore(proven), explore(proven)]);
      expect(first.status).to.equal('fulfilled');
      expect(first.status === 'fulfilled' && first.value).to.deep.include({ exhausted: true });
      expect(second.status).to.equal('rejected');
      const error = (second as PromiseRejectedResult).reason as SimulationError;
      expect(error).to.be.instanceOf(SimulationError);
      expect(error.reason).to.equal('concurrent');
      expect(error.message).to.match(/one at a time/);
    });

    it('a bare Simulation run during an explore is rejected too, and the explore is not disturbed', async () => {
      const exploring = explore(lostUpdate);
      const sim = new Simulation();
      sim.spawn('x', async () => {});
      const error = (await rejectionOf(sim.run())) as SimulationError;
      expect(error.reason).to.equal('concurrent');
      const result = await exploring;
      expect(String(result.failure?.error)).to.equal('Error: lost update: 1');
      // Once it is over, the next one runs.
      expect((await explore(proven)).exhausted).to.equal(true);
    });
  });

  describe('item 5: options.choices is validated', () => {
    it('NaN, Infinity, fractions, negative numbers and strings are a TypeError naming options.choices', () => {
      for (const bad of [NaN, Infinity, 1.5, -1, '1', 2 ** 53]) {
        expect(() => new Simulation({ choices: [0, bad as number] }), String(bad)).to.throw(
          TypeError,
          /options\.choices\[1\]/,
        );
      }
      expect(() => new Simulation({ choices: 'x' as unknown as number[] })).to.throw(
        TypeError,
        /options\.choices/,
      );
    });

    it('valid choices still print a schedule that replays', async () => {
      const sim = new Simulation({ choices: [1, 0, 7] });
      sim.spawn('a', async () => {});
      sim.spawn('b', async () => {});
      sim.spawn('c', async () => {});
      await sim.run();
      expect(sim.schedule).to.match(/^cs1:\d/);
      const again = new Simulation({ schedule: sim.schedule });
      again.spawn('a', async () => {});
      again.spawn('b', async () => {});
      again.spawn('c', async () => {});
      await again.run();
      expect(again.trace).to.deep.equal(sim.trace);
    });
  });
});
