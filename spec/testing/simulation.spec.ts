import { expect } from 'chai';
import fc from 'fast-check';
import sinon from 'sinon';
import { AsyncEvent, AsyncLock, AsyncRLock, TimeoutError } from '../../lib/index.js';
import { withoutAsyncContext } from '../../lib/core/context.js';
import { currentHook } from '../../lib/core/scheduler.js';
import {
  DeadlockError,
  Simulation,
  SimulationError,
  explore,
  formatTimeline,
  replay,
  type Scenario,
} from '../../lib/testing/index.js';
import { rejectionOf } from '../suites/helpers.js';

/**
 * A read-modify-write across an await. Task `a` reads, awaits (a choice point) and writes; task `b` first does two
 * awaits of its own (a login, say), then reads and writes with no await between. In production order (FIFO) `a`
 * writes before `b` reads; only an interleaving in which `b` reads while `a` waits loses an update.
 */
function lostUpdate(locked: boolean): Scenario {
  return async (sim) => {
    let count = 0;
    const lock = new AsyncLock({ name: 'count' });
    const critical = async <T>(fn: () => Promise<T>): Promise<T> => (locked ? lock.run(fn) : fn());
    sim.spawn('a', () =>
      critical(async () => {
        const read = count;
        sim.log(`read ${read}`);
        await sim.yield();
        count = read + 1;
        sim.log(`wrote ${count}`);
      }),
    );
    sim.spawn('b', async () => {
      await sim.yield();
      await sim.yield();
      await critical(async () => {
        const read = count;
        count = read + 1;
        sim.log(`read ${read}, wrote ${count}`);
      });
    });
    await sim.run();
    if (count !== 2) throw new Error(`lost update: count = ${count}`);
  };
}

/** Two tasks take two locks in opposite orders. */
const lockOrderInversion: Scenario = async (sim) => {
  const a = new AsyncLock({ name: 'A' });
  const b = new AsyncLock({ name: 'B' });
  sim.spawn('t1', () =>
    a.run(async () => {
      await sim.yield();
      await b.run(async () => {});
    }),
  );
  sim.spawn('t2', () =>
    b.run(async () => {
      await sim.yield();
      await a.run(async () => {});
    }),
  );
};

describe('testing/Simulation', () => {
  describe('running tasks', () => {
    it('runs every task to its end and records one trace line a step', async () => {
      const sim = new Simulation();
      const lock = new AsyncLock({ name: 'db' });
      const log: string[] = [];
      for (const name of ['a', 'b']) {
        sim.spawn(name, () =>
          lock.run(async () => {
            log.push(`${name} in`);
            await sim.sleep(10);
            log.push(`${name} out`);
          }),
        );
      }
      await sim.run();
      expect(log).to.deep.equal(['a in', 'a out', 'b in', 'b out']);
      expect(sim.now).to.equal(20);
      expect(sim.trace).to.deep.equal([
        '#1 0ms a: start',
        '#2 0ms b: start',
        '#3 10ms a: sleep, sleep(10) ends',
        '#4 10ms b: resume, granted AsyncLock(db)',
        '#5 20ms b: sleep, sleep(10) ends',
      ]);
      expect(sim.state).to.equal('settled');
    });

    it('runs every microtask of a step before the next step: a chain of awaits is one step', async () => {
      const sim = new Simulation();
      let depth = 0;
      sim.spawn('deep', async () => {
        for (let i = 0; i < 1000; i++) await Promise.resolve(i);
        depth = 1000;
      });
      sim.spawn('next', async () => {
        expect(depth).to.equal(1000);
      });
      await sim.run();
      expect(sim.trace).to.deep.equal(['#1 0ms deep: start', '#2 0ms next: start']);
    });

    it('a call that succeeds at once is not a choice point', async () => {
      const sim = new Simulation();
      const lock = new AsyncLock();
      sim.spawn('only', async () => {
        for (let i = 0; i < 5; i++) await lock.run(async () => {});
      });
      await sim.run();
      expect(sim.trace).to.deep.equal(['#1 0ms only: start']);
    });

    it('fails the run with the first task error and stops there', async () => {
      const sim = new Simulation();
      const boom = new Error('boom');
      let after = false;
      sim.spawn('bad', async () => {
        throw boom;
      });
      sim.spawn('late', async () => {
        after = true;
      });
      expect(await rejectionOf(sim.run())).to.equal(boom);
      expect(after).to.equal(false);
    });

    it('a task that throws synchronously fails the run too', async () => {
      const sim = new Simulation();
      const boom = new Error('sync');
      sim.spawn('bad', (() => {
        throw boom;
      }) as () => Promise<void>);
      expect(await rejectionOf(sim.run())).to.equal(boom);
    });

    it('tasks may spawn tasks while the simulation runs', async () => {
      const sim = new Simulation();
      const seen: string[] = [];
      sim.spawn('parent', async () => {
        sim.spawn('child', async () => {
          seen.push('child');
        });
        seen.push('parent');
      });
      await sim.run();
      expect(seen).to.deep.equal(['parent', 'child']);
    });

    it('after run settles, primitives resume at once again and no hook is left', async () => {
      const sim = new Simulation();
      const lock = new AsyncLock();
      sim.spawn('a', () => lock.run(() => sim.sleep(5)));
      await sim.run();
      expect(currentHook()).to.equal(undefined);
      const guard = await lock.acquire();
      const next = lock.acquire();
      guard.release();
      (await next).release();
      expect(lock.locked).to.equal(false);
    });

    it('a waiter left parked by a failed run resumes at once later, and its virtual timer is cleared', async () => {
      const sim = new Simulation();
      const lock = new AsyncLock({ name: 'held' });
      const guard = await lock.acquire();
      let waiting: Promise<{ release(): void }> | undefined;
      sim.spawn('waiter', async () => {
        waiting = lock.acquire({ timeout: 50 });
        await waiting;
      });
      sim.spawn('failing', async () => {
        throw new Error('stop');
      });
      expect(String(await rejectionOf(sim.run()))).to.equal('Error: stop');
      expect(lock.waiting).to.equal(1);
      guard.release();
      (await waiting!).release();
      expect(lock.locked).to.equal(false);
    });
  });

  describe('virtual time', () => {
    it('an hour of sleeping finishes at once, at virtual time 3,600,000 ms', async () => {
      const sim = new Simulation();
      sim.spawn('sleeper', async () => {
        for (let minute = 0; minute < 60; minute++) await sim.sleep(60_000);
      });
      await sim.run();
      expect(sim.now).to.equal(3_600_000);
      expect(sim.trace).to.have.length(61);
    });

    it('timeouts fire at the right virtual time, through the primitive', async () => {
      const sim = new Simulation();
      const lock = new AsyncLock({ name: 'slow' });
      let failedAt = -1;
      let error: unknown;
      sim.spawn('holder', () => lock.run(() => sim.sleep(100)));
      sim.spawn('impatient', async () => {
        try {
          await lock.acquire({ timeout: 30 });
        } catch (caught) {
          error = caught;
          failedAt = sim.now;
        }
      });
      await sim.run();
      expect(error).to.be.instanceOf(TimeoutError);
      expect(failedAt).to.equal(30);
      expect(sim.trace).to.include('#3 30ms impatient: timer, timeout(30ms) on AsyncLock(slow) fires');
      expect(sim.trace).to.include('#4 30ms impatient: resume, TimeoutError from AsyncLock(slow)');
      expect(sim.now).to.equal(100);
    });

    it('fifo matches production when timers fall due together: what a timer wakes runs before the next timer', async () => {
      // Production runs every microtask a timer's callback causes before the next timer's callback.
      const scenario = (sleep: (ms: number) => Promise<void>, log: string[]) => {
        const lock = new AsyncLock({ name: 'l' });
        const holder = lock.run(() => sleep(500));
        const impatient = lock.acquire({ timeout: 100 }).catch(() => log.push('impatient timed out'));
        const sleeper = sleep(100).then(() => log.push('sleeper woke'));
        return [holder, impatient, sleeper];
      };
      const clock = sinon.useFakeTimers();
      const production: string[] = [];
      try {
        const running = scenario((ms) => new Promise((resolve) => setTimeout(resolve, ms)), production);
        await clock.tickAsync(500);
        await Promise.all(running);
      } finally {
        clock.restore();
      }
      const sim = new Simulation();
      const simulated: string[] = [];
      sim.spawn('all', async () => {
        await Promise.all(scenario((ms) => sim.sleep(ms), simulated));
      });
      await sim.run();
      expect(production).to.deep.equal(['impatient timed out', 'sleeper woke']);
      expect(simulated).to.deep.equal(production);
    });

    it('time does not move while something can run', async () => {
      const sim = new Simulation();
      const times: number[] = [];
      sim.spawn('sleeper', () => sim.sleep(5));
      sim.spawn('busy', async () => {
        for (let i = 0; i < 3; i++) {
          times.push(sim.now);
          await sim.yield();
        }
      });
      await sim.run();
      expect(times).to.deep.equal([0, 0, 0]);
      expect(sim.now).to.equal(5);
    });
  });

  describe('strategies and schedules', () => {
    it('the lost update passes in FIFO order and is found by random and by dfs', async () => {
      const fifo = new Simulation();
      await lostUpdate(false)(fifo);
      const random = await explore(lostUpdate(false), { strategy: 'random', runs: 200, seed: 1 });
      expect(String(random.failure?.error)).to.equal('Error: lost update: count = 1');
      const dfs = await explore(lostUpdate(false));
      expect(String(dfs.failure?.error)).to.equal('Error: lost update: count = 1');
      expect(dfs.failure?.schedule).to.match(/^cs1:/);
    });

    it('the locked version is proven over every schedule', async () => {
      const result = await explore(lostUpdate(true));
      expect(result.failure).to.equal(undefined);
      expect(result.exhausted).to.equal(true);
      expect(result.runs).to.be.greaterThan(1);
    });

    it('replays a failure exactly from its schedule', async () => {
      const found = await explore(lostUpdate(false), { strategy: 'random', runs: 200, seed: 3 });
      const failure = found.failure!;
      const sim = new Simulation({ schedule: failure.schedule });
      expect(String(await rejectionOf(lostUpdate(false)(sim)))).to.equal(String(failure.error));
      expect(sim.trace).to.deep.equal(failure.trace);
      expect(String(await rejectionOf(replay(lostUpdate(false), failure.schedule)))).to.equal(
        String(failure.error),
      );
    });

    it('the same seed gives the same trace, byte for byte; different seeds differ', async () => {
      const traceOf = async (seed: number, strategy: 'random' | 'pct') => {
        const sim = new Simulation({ strategy, seed });
        const event = new AsyncEvent();
        for (const name of ['a', 'b', 'c', 'd']) {
          sim.spawn(name, async () => {
            for (let i = 0; i < 3; i++) await sim.yield();
            await event.wait();
          });
        }
        sim.spawn('setter', async () => {
          await sim.sleep(1);
          event.set();
        });
        await sim.run();
        return sim.trace.join('\n');
      };
      for (const strategy of ['random', 'pct'] as const) {
        expect(await traceOf(42, strategy)).to.equal(await traceOf(42, strategy));
        const traces = new Set<string>();
        for (let seed = 0; seed < 5; seed++) traces.add(await traceOf(seed, strategy));
        expect(traces.size, strategy).to.be.greaterThan(1);
      }
    });

    it('a schedule that does not fit the scenario is a SimulationError', async () => {
      const error = await rejectionOf(
        replay(async (sim) => {
          sim.spawn('a', async () => {});
          sim.spawn('b', async () => {});
        }, 'cs1:5'),
      );
      expect(error).to.be.instanceOf(SimulationError);
      expect((error as SimulationError).reason).to.equal('schedule');
      const leftover = await rejectionOf(replay(async (sim) => sim.spawn('a', async () => {}), 'cs1:0*3'));
      expect((leftover as SimulationError).reason).to.equal('schedule');
    });

    it('a malformed schedule is a TypeError naming it', () => {
      expect(() => new Simulation({ schedule: 'hello' })).to.throw(TypeError, /schedule/);
      expect(() => new Simulation({ schedule: 'cs1:1.x' })).to.throw(TypeError, /schedule/);
    });

    it('maxDelays bounds dfs: fewer runs, and not exhausted when it cut schedules off', async () => {
      const full = await explore(lostUpdate(true), { strategy: 'dfs' });
      const bounded = await explore(lostUpdate(true), { strategy: 'dfs', maxDelays: 1 });
      expect(bounded.failure).to.equal(undefined);
      expect(bounded.runs).to.be.lessThan(full.runs);
      expect(bounded.exhausted).to.equal(false);
      const none = await explore(lostUpdate(false), { strategy: 'dfs', maxDelays: 0 });
      expect(none).to.deep.equal({ runs: 1, exhausted: false });
    });

    it('stops at `runs` without claiming to be exhaustive', async () => {
      const result = await explore(lostUpdate(true), { strategy: 'dfs', runs: 2 });
      expect(result).to.deep.equal({ runs: 2, exhausted: false });
    });

    it('pct finds the lost update over a few seeds, and reports progress', async () => {
      const progress: number[] = [];
      const result = await explore(lostUpdate(false), {
        strategy: 'pct',
        runs: 100,
        onRun: (run) => progress.push(run),
      });
      expect(result.failure).to.not.equal(undefined);
      expect(progress).to.deep.equal(Array.from({ length: result.runs }, (_, i) => i + 1));
    });

    it('lets fast-check drive the choices, and shrinks the failing schedule', async () => {
      let smallest: number[] | undefined;
      const outcome = await fc.check(
        fc.asyncProperty(fc.array(fc.nat({ max: 5 }), { maxLength: 12 }), async (choices) => {
          const sim = new Simulation({ choices });
          try {
            await lostUpdate(false)(sim);
            return true;
          } catch {
            smallest = choices;
            return false;
          }
        }),
        { seed: 7, numRuns: 200 },
      );
      expect(outcome.failed).to.equal(true);
      // Shrunk to a handful of picks that replay the same failure.
      expect(smallest!.length).to.be.at.most(4);
      const sim = new Simulation({ choices: smallest! });
      expect(String(await rejectionOf(lostUpdate(false)(sim)))).to.equal('Error: lost update: count = 1');
    });

    it('a scenario that is not deterministic is reported as such, not as a failure', async () => {
      let runs = 0;
      const flaky: Scenario = async (sim) => {
        runs++;
        sim.spawn('a', async () => {
          if (runs % 2 === 0) await sim.yield();
        });
        sim.spawn('b', async () => {});
      };
      const error = await rejectionOf(explore(flaky));
      expect(error).to.be.instanceOf(SimulationError);
      expect((error as SimulationError).reason).to.equal('nondeterministic');
      expect((error as Error).message).to.match(/not deterministic/);
    });
  });

  describe('deadlocks and livelocks', () => {
    it('reports a lock-order inversion naming both tasks and both locks, and replays it', async () => {
      const result = await explore(lockOrderInversion);
      const error = result.failure?.error as DeadlockError;
      expect(error).to.be.instanceOf(DeadlockError);
      expect(error.blocked).to.deep.equal([
        { task: 't1', waitingOn: 'AsyncLock(B)' },
        { task: 't2', waitingOn: 'AsyncLock(A)' },
      ]);
      expect(error.message).to.contain('t1 waits on AsyncLock(B)').and.contain('t2 waits on AsyncLock(A)');
      expect(error.schedule).to.equal(result.failure?.schedule);
      const again = await rejectionOf(replay(lockOrderInversion, error.schedule));
      expect(again).to.be.instanceOf(DeadlockError);
      expect((again as DeadlockError).blocked).to.deep.equal(error.blocked);
    });

    it('a plain run reports the deadlock that production would hang on', async () => {
      const sim = new Simulation();
      await lockOrderInversion(sim);
      const error = (await rejectionOf(sim.run())) as DeadlockError;
      expect(error).to.be.instanceOf(DeadlockError);
      expect(error.schedule).to.equal(sim.schedule);
      expect(sim.state).to.equal('settled');
    });

    it('an AsyncRLock nested without { owner } where there is no async context: reported, not hung', async () => {
      const sim = new Simulation();
      const rlock = withoutAsyncContext(() => new AsyncRLock({ name: 'tree' }));
      sim.spawn('walker', () => rlock.run(() => rlock.run(async () => {})));
      const error = (await rejectionOf(sim.run())) as DeadlockError;
      expect(error).to.be.instanceOf(DeadlockError);
      expect(error.blocked).to.deep.equal([{ task: 'walker', waitingOn: 'AsyncRLock(tree)' }]);
    });

    it('a task waiting on a promise outside coop-sync is named as such', async () => {
      const sim = new Simulation();
      sim.spawn('stuck', () => new Promise(() => {}));
      const error = (await rejectionOf(sim.run())) as DeadlockError;
      expect(error.blocked).to.deep.equal([
        {
          task: 'stuck',
          waitingOn: 'a promise outside coop-sync (real I/O, a real timer, or one nothing settles)',
        },
      ]);
    });

    it('a pending timer is not a deadlock: time jumps to it', async () => {
      const sim = new Simulation();
      const lock = new AsyncLock();
      let timedOut = false;
      sim.spawn('holder', async () => {
        await lock.acquire();
        await new Promise(() => {});
      });
      sim.spawn('waiter', async () => {
        timedOut = (await rejectionOf(lock.acquire({ timeout: 1000 }))) instanceof TimeoutError;
      });
      const error = (await rejectionOf(sim.run())) as DeadlockError;
      expect(timedOut).to.equal(true);
      expect(sim.now).to.equal(1000);
      expect(error.blocked.map((entry) => entry.task)).to.deep.equal(['holder']);
    });

    it('turns a livelock into a SimulationError with the schedule, at the step budget', async () => {
      const sim = new Simulation({ maxSteps: 50 });
      sim.spawn('spinner', async () => {
        for (;;) await sim.yield();
      });
      const error = (await rejectionOf(sim.run())) as SimulationError;
      expect(error).to.be.instanceOf(SimulationError);
      expect(error.reason).to.equal('steps');
      expect(error.message).to.contain('50 steps');
      expect(sim.trace).to.have.length(50);
    });
  });

  describe('with sinon fake timers', () => {
    let clock: sinon.SinonFakeTimers | undefined;

    afterEach(() => {
      clock?.restore();
      clock = undefined;
    });

    it('uses the clock for virtual time, fires its timers, and runs its faked microtasks between steps', async () => {
      clock = sinon.useFakeTimers({ now: 1000 });
      const sim = new Simulation({ clock });
      const seen: string[] = [];
      const lock = new AsyncLock({ name: 'l' });
      sim.spawn('timers', async () => {
        await new Promise<void>((resolve) => setTimeout(resolve, 40));
        seen.push(`setTimeout at ${Date.now()}`);
        queueMicrotask(() => seen.push('microtask'));
      });
      sim.spawn('locker', () =>
        lock.run(async () => {
          await sim.sleep(100);
          seen.push(`slept until ${sim.now}`);
        }),
      );
      sim.spawn('timeout', async () => {
        await sim.sleep(1);
        const error = await rejectionOf(lock.acquire({ timeout: 10 }));
        seen.push(`${(error as Error).name} at ${sim.now}`);
      });
      await sim.run();
      expect(seen).to.deep.equal([
        'TimeoutError at 1011',
        'setTimeout at 1040',
        'microtask',
        'slept until 1100',
      ]);
      expect(clock.countTimers()).to.equal(0);
    });

    it("explore runs many schedules on one fake clock: steps are timed from each simulation's start", async () => {
      clock = sinon.useFakeTimers({ now: 5000 });
      const result = await explore(
        async (sim) => {
          const lock = new AsyncLock();
          sim.spawn('a', () => lock.run(() => sim.sleep(10)));
          sim.spawn('b', async () => {
            await lock.acquire({ timeout: 5 }).then(
              (guard) => guard.release(),
              () => {},
            );
          });
        },
        { clock },
      );
      expect(result.failure).to.equal(undefined);
      expect(result.exhausted).to.equal(true);
      expect(clock.now).to.be.greaterThan(5000 + 10);
    });

    it('says to pass the clock when fake timers hold the only timer', async () => {
      clock = sinon.useFakeTimers();
      const sim = new Simulation();
      sim.spawn('t', () => new Promise((resolve) => setTimeout(resolve, 10)));
      const error = (await rejectionOf(sim.run())) as DeadlockError;
      expect(error.message).to.contain('pass the clock');
    });
  });

  describe('misuse', () => {
    it('rejects bad options, naming them', () => {
      expect(() => new Simulation({ strategy: 'lifo' as 'fifo' })).to.throw(TypeError, /options.strategy/);
      expect(() => new Simulation({ seed: 1.5 })).to.throw(RangeError, /options.seed/);
      expect(() => new Simulation({ maxSteps: 0 })).to.throw(RangeError, /options.maxSteps/);
      expect(() => new Simulation({ depth: 0 })).to.throw(RangeError, /options.depth/);
      expect(() => new Simulation({ watchdog: -1 })).to.throw(RangeError, /options.watchdog/);
      expect(() => new Simulation({ clock: {} as sinon.SinonFakeTimers })).to.throw(
        TypeError,
        /options.clock/,
      );
    });

    it('rejects a bad, duplicate or late spawn', async () => {
      const sim = new Simulation();
      expect(() => sim.spawn('', async () => {})).to.throw(TypeError, /name/);
      expect(() => sim.spawn('a', 'no' as unknown as () => Promise<void>)).to.throw(TypeError, /fn/);
      sim.spawn('a', async () => {});
      expect(() => sim.spawn('a', async () => {})).to.throw(TypeError, /already exists/);
      await sim.run();
      expect(() => sim.spawn('b', async () => {})).to.throw(Error, /run is over/);
      expect(String(await rejectionOf(sim.run()))).to.match(/once/);
    });

    it('yield and sleep must be called from a running task', () => {
      const sim = new Simulation();
      expect(() => sim.yield()).to.throw(Error, /from a task/);
      expect(() => sim.sleep(1)).to.throw(Error, /from a task/);
      expect(() => sim.sleep(-1)).to.throw(RangeError, /ms/);
      expect(() => sim.log(1 as unknown as string)).to.throw(TypeError, /message/);
    });

    it('one simulation at a time', async () => {
      const outer = new Simulation();
      let inner: unknown;
      outer.spawn('nested', async () => {
        inner = await rejectionOf(new Simulation().run());
      });
      await outer.run();
      expect(String(inner)).to.match(/one at a time/);
    });

    it('explore rejects bad options, naming them', async () => {
      const scenario: Scenario = async () => {};
      expect(String(await rejectionOf(explore(scenario, { runs: 0 })))).to.match(/options.runs/);
      expect(String(await rejectionOf(explore(scenario, { strategy: 'bfs' as 'dfs' })))).to.match(
        /options.strategy/,
      );
      expect(String(await rejectionOf(explore(scenario, { maxDelays: -1 })))).to.match(/options.maxDelays/);
      expect(String(await rejectionOf(explore('x' as unknown as Scenario)))).to.match(/scenario/);
    });
  });

  describe('formatTimeline', () => {
    it('shows one column per task and one row per step, with virtual time and logged lines', async () => {
      const result = await explore(lostUpdate(false));
      const sim = new Simulation({ schedule: result.failure!.schedule });
      await rejectionOf(lostUpdate(false)(sim));
      expect(formatTimeline(sim.history)).to.equal(
        [
          'step  time  a        b',
          '   1   0ms  read 0',
          '   2   0ms           start',
          '   3   0ms           yield',
          '   4   0ms           read 0, wrote 1',
          '   5   0ms  wrote 1',
        ].join('\n'),
      );
    });
  });
});
