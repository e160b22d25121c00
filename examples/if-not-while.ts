/**
 * The classic condition-variable bug, found by the harness: a consumer checks "is the buffer empty?" with `if`
 * before it waits, instead of `while`. One producer, two consumers, a buffer of one item. A notified consumer is only
 * moved to the lock's queue; a task already queued there takes the lock first, and the item with it, so the woken
 * consumer must look at the buffer again. With `if`, it takes from an empty buffer.
 *
 * `npm start` runs this example: the harness explores schedules until one fails, prints it as a timeline (one column
 * per task, one row per step, with virtual time) and the command that replays it, then checks every schedule of the
 * `while` version. `npm run example -- if-not-while --replay '<schedule>'` re-runs one interleaving.
 */
import { AsyncCondition, AsyncLock } from 'coop-sync';
import type { Scenario } from 'coop-sync/testing';
import { huntRace } from './race-report.js';
import { runMain, type ExampleOptions, type Print } from './run-main.js';

/**
 * The bounded buffer, with `guard` around the consumers' wait: the producer puts 4 items, one at a time; consumers
 * A and B take 2 each. Throws when a consumer takes from an empty buffer.
 */
export function boundedBuffer(guard: 'if' | 'while'): Scenario {
  return async (sim) => {
    const capacity = 1;
    const lock = new AsyncLock({ name: 'buffer' });
    const notFull = new AsyncCondition(lock, { name: 'notFull' });
    const notEmpty = new AsyncCondition(lock, { name: 'notEmpty' });
    const buffer: string[] = [];
    const show = () => `[${buffer.join(' ')}]`;

    sim.spawn('producer', async () => {
      for (const item of ['x1', 'x2', 'x3', 'x4']) {
        if (lock.locked) sim.log('lock busy: queues');
        await lock.run(async () => {
          while (buffer.length === capacity) {
            sim.log('full: waits');
            await notFull.wait();
          }
          buffer.push(item);
          sim.log(`puts ${item}`);
          notEmpty.notify();
        });
      }
    });

    const consumer = (who: string) => async () => {
      for (let n = 0; n < 2; n++) {
        if (lock.locked) sim.log('lock busy: queues');
        await lock.run(async () => {
          if (guard === 'if') {
            if (buffer.length === 0) {
              sim.log('empty: waits');
              await notEmpty.wait();
              sim.log(`wakes: ${show()}`);
            }
          } else {
            while (buffer.length === 0) {
              sim.log('empty: waits');
              await notEmpty.wait();
              sim.log(`wakes: ${show()}`);
            }
          }
          const item = buffer.shift();
          if (item === undefined) {
            sim.log('takes from []!');
            throw new Error(`${who} took from an empty buffer`);
          }
          sim.log(`takes ${item}`);
          notFull.notify();
        });
      }
    };
    sim.spawn('consumer A', consumer('consumer A'));
    sim.spawn('consumer B', consumer('consumer B'));
    await sim.run();
  };
}

export async function main(print: Print = console.log, options: ExampleOptions = {}): Promise<void> {
  print('A buffer of 1 item, one producer, two consumers. Each consumer checks the buffer with');
  print('`if (buffer.length === 0) await notEmpty.wait()` instead of `while`.');
  print('');
  await huntRace(print, options, {
    example: 'if-not-while',
    buggy: boundedBuffer('if'),
    buggyLabel: 'the `if` version',
    fixed: boundedBuffer('while'),
    fixedLabel: 'the `while` version',
    why: [
      "notify() only moves a waiter to the lock's queue: a task queued there before it gets the lock first,",
      'and the item with it. The woken consumer must check the buffer again: `while`, not `if`.',
    ],
  });
}

runMain(import.meta.url, main, { replay: true });
