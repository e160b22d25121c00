/**
 * Two tasks print 1..10 in strict turns, coordinated by one AsyncCondition: each waits (with `waitFor`) until the
 * shared counter is its kind of number, prints it, advances the counter and notifies the other. `waitFor` checks
 * its predicate with the lock held, first at once and again after every notification, so no turn is ever missed.
 * The two tasks run in a `Simulation` of `coop-sync/testing`; whichever schedule it picks (`--seed N`), the turns
 * come out the same, and the example checks that they do.
 */
import { AsyncCondition } from 'coop-sync';
import { runMain, simulation, type ExampleOptions, type Print } from './run-main.js';

export async function main(print: Print = console.log, options: ExampleOptions = {}): Promise<void> {
  const sim = simulation(options);
  const printed: number[] = [];
  const turn = new AsyncCondition(undefined, { name: 'turn' });
  let next = 1;
  const last = 10;

  async function player(name: string, parity: 0 | 1): Promise<void> {
    for (;;) {
      const done = await turn.run(async () => {
        // Our turn, or the end: the predicate runs with the lock held.
        await turn.waitFor(() => next > last || next % 2 === parity);
        if (next > last) return true;
        print(`${name.padEnd(4)} ${next}`);
        printed.push(next);
        next++;
        turn.notify(); // the other player is the only one that can be waiting
        return false;
      });
      if (done) return;
    }
  }

  sim.spawn('even', () => player('even', 0));
  sim.spawn('odd', () => player('odd', 1));
  await sim.run();
  if (printed.join() !== '1,2,3,4,5,6,7,8,9,10') throw new Error(`out of turn: ${printed.join(' ')}`);
  print(`${turn}`);
}

runMain(import.meta.url, main);
