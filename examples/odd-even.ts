/**
 * Two tasks print 1..10 in strict turns, coordinated by one AsyncCondition: each waits (with `waitFor`) until the
 * shared counter is its kind of number, prints it, advances the counter and notifies the other. `waitFor` checks
 * its predicate with the lock held, first at once and again after every notification, so no turn is ever missed.
 */
import { AsyncCondition } from '../lib/index.js';
import { runMain } from './run-main.js';

export async function main(print: (line: string) => void = console.log): Promise<void> {
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
        next++;
        turn.notify(); // the other player is the only one that can be waiting
        return false;
      });
      if (done) return;
    }
  }

  // Even starts first, to show that it really waits for its turn.
  await Promise.all([player('even', 0), player('odd', 1)]);
  print(`${turn}`);
}

runMain(import.meta.url, main);
