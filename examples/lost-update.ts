/**
 * Atomicity: a read-modify-write across an `await` loses updates. Two tasks change one account balance stored in a
 * (simulated) database whose reads and writes take virtual milliseconds: each reads the balance, awaits, and writes
 * back what it read plus its amount. When both read before either writes, one update is lost. The harness finds the
 * interleaving; the fix, holding an AsyncLock from the read to the write, is checked over every schedule.
 *
 * `npm run example -- lost-update --replay '<schedule>'` re-runs one interleaving.
 */
import { AsyncLock } from 'coop-sync';
import type { Scenario } from 'coop-sync/testing';
import { huntRace } from './race-report.js';
import { runMain, type ExampleOptions, type Print } from './run-main.js';

/**
 * The balance starts at 100; `salary` adds 50 and `rent` takes 30, each as read, then write. `rent` arrives 2 ms
 * after `salary`. Throws when the final balance is not 120.
 */
export function account(locked: boolean): Scenario {
  return async (sim) => {
    const lock = new AsyncLock({ name: 'account' });
    let stored = 100;
    const database = {
      async read(): Promise<number> {
        await sim.sleep(2);
        return stored;
      },
      async write(value: number): Promise<void> {
        await sim.sleep(2);
        stored = value;
      },
    };

    async function change(amount: number): Promise<void> {
      const balance = await database.read();
      sim.log(`reads ${balance}`);
      await database.write(balance + amount);
      sim.log(`writes ${balance + amount}`);
    }

    const task = (amount: number, delay: number) => async () => {
      if (delay > 0) {
        await sim.sleep(delay);
        sim.log('arrives');
      }
      if (!locked) return change(amount);
      if (lock.locked) sim.log('account locked: waits');
      return lock.run(() => change(amount));
    };
    sim.spawn('salary', task(+50, 0));
    sim.spawn('rent', task(-30, 2));
    await sim.run();
    if (stored !== 120) throw new Error(`lost update: the balance is ${stored}, not 100 + 50 - 30 = 120`);
  };
}

export async function main(print: Print = console.log, options: ExampleOptions = {}): Promise<void> {
  print('A balance of 100 in a database; `salary` adds 50, `rent` takes 30, each as');
  print('`const balance = await db.read(); await db.write(balance + amount)`.');
  print('');
  await huntRace(print, options, {
    example: 'lost-update',
    buggy: account(false),
    buggyLabel: 'the unlocked version',
    fixed: account(true),
    fixedLabel: 'the version that holds an AsyncLock from read to write',
    why: [
      'Both read the balance before either wrote it back: the second write overwrites the first.',
      'Every await between a read and the write that depends on it is a point where another task may run.',
    ],
  });
}

runMain(import.meta.url, main, { replay: true });
