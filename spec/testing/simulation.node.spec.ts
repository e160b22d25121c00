import { expect } from 'chai';
import { AsyncLock } from '../../lib/index.js';
import { DeadlockError, Simulation } from '../../lib/testing/index.js';
import { rejectionOf } from '../suites/helpers.js';

describe('testing/Simulation (Node: async context)', () => {
  it('a task resumed by a plain promise that another task settled is still itself in a deadlock report', async () => {
    const sim = new Simulation();
    const lock = new AsyncLock({ name: 'held' });
    let open!: () => void;
    const gate = new Promise<void>((resolve) => (open = resolve));
    sim.spawn('b', async () => {
      await gate;
      await lock.acquire();
    });
    sim.spawn('holder', async () => {
      await lock.acquire();
      open(); // b resumes inside this step, but it is b that then waits on the lock
    });
    const error = (await rejectionOf(sim.run())) as DeadlockError;
    expect(error).to.be.instanceOf(DeadlockError);
    expect(error.blocked).to.deep.equal([{ task: 'b', waitingOn: 'AsyncLock(held)' }]);
  });

  it('sim.yield() called by a task resumed that way yields that task', async () => {
    const sim = new Simulation();
    let open!: () => void;
    const gate = new Promise<void>((resolve) => (open = resolve));
    sim.spawn('a', async () => {
      await sim.yield();
      open();
    });
    sim.spawn('b', async () => {
      await gate;
      await sim.yield();
    });
    await sim.run();
    expect(sim.trace.at(-1)).to.equal('#4 0ms b: yield');
  });
});
