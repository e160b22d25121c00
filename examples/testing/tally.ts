/**
 * The scenario the test-runner examples check: two tasks add to a shared total; `locked` decides whether the
 * read-modify-write is inside the lock. Each declares what its steps touch, so the search can prove the locked
 * version in a few schedules. `EXAMPLE_BUG=1` makes the examples check the unlocked version, to show the report.
 *
 * @module
 */
import { AsyncLock } from 'coop-sync';
import type { Scenario } from 'coop-sync/testing';

export function tally(locked: boolean): Scenario {
  return async (sim) => {
    const lock = new AsyncLock({ name: 'total' });
    let total = 0;
    const add = async () => {
      const read = total;
      sim.log(`read ${read}`);
      await sim.yield([lock, 'total']); // any await: a query, a fetch
      total = read + 1;
      sim.log(`wrote ${total}`);
    };
    for (const name of ['a', 'b']) {
      // Every step of these tasks touches the lock and the total: the first, and the one after a grant.
      const task = async () => {
        sim.declare([lock, 'total']);
        await (locked ? lock.run(add) : add());
      };
      sim.spawn(name, task, [lock, 'total']);
    }
    await sim.run();
    if (total !== 2) throw new Error(`lost update: total = ${total}`);
  };
}

/** The version the examples check: the locked one, or the unlocked one under `EXAMPLE_BUG=1`. */
export const checked: Scenario = tally(process.env['EXAMPLE_BUG'] !== '1');
