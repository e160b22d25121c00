/**
 * A bounded buffer built from one AsyncLock and two AsyncConditions that share it, the textbook way:
 * producers wait on `notFull` while the buffer is full, consumers wait on `notEmpty` while it is empty, and each
 * side notifies the other after changing the buffer. The tasks run in a `Simulation` of `coop-sync/testing`, in
 * virtual time: making an item takes a producer 10 or 13 ms, handling one takes a consumer 40 ms.
 *
 * Things to notice in the output:
 * - every line is printed while holding the lock, so it shows the buffer exactly as the lock protects it;
 * - a task that finds the buffer full (or empty) releases the lock inside `wait()`, and holds it again when it
 *   resumes ("resumes"), before it looks at the buffer again;
 * - notified waiters take the lock in FIFO order, behind tasks already queued for it.
 */
import { AsyncCondition, AsyncLock } from 'coop-sync';
import { at, runMain, simulation, type ExampleOptions, type Print } from './run-main.js';

const capacity = 2;

export async function main(print: Print = console.log, options: ExampleOptions = {}): Promise<void> {
  const sim = simulation(options);
  const lock = new AsyncLock({ name: 'buffer' });
  const notFull = new AsyncCondition(lock, { name: 'notFull' });
  const notEmpty = new AsyncCondition(lock, { name: 'notEmpty' });
  const buffer: string[] = [];
  const show = () => `${at(sim)}  ${`[${buffer.join(', ')}]`.padEnd(10)}`;

  async function put(who: string, item: string): Promise<void> {
    await lock.run(async () => {
      while (buffer.length === capacity) {
        print(`${show()} ${who}: full, waits on notFull`);
        await notFull.wait();
        print(`${show()} ${who}: resumes`);
      }
      buffer.push(item);
      print(`${show()} ${who}: put ${item}`);
      notEmpty.notify();
    });
  }

  async function take(who: string): Promise<string> {
    return lock.run(async () => {
      while (buffer.length === 0) {
        print(`${show()} ${who}: empty, waits on notEmpty`);
        await notEmpty.wait();
        print(`${show()} ${who}: resumes`);
      }
      const item = buffer.shift()!;
      print(`${show()} ${who}: took ${item}`);
      notFull.notify();
      return item;
    });
  }

  async function producer(who: string, items: string[], pace: number): Promise<void> {
    for (const item of items) {
      await sim.sleep(pace); // make the item, without holding the lock
      await put(who, item);
    }
  }

  async function consumer(who: string, count: number): Promise<string[]> {
    const got: string[] = [];
    for (let n = 0; n < count; n++) {
      got.push(await take(who));
      await sim.sleep(40); // handle the item
    }
    return got;
  }

  print(`a buffer of ${capacity}; two producers, two consumers`);
  print(` time  ${'buffer'.padEnd(10)} event`);
  const got: Record<string, string[]> = {};
  for (const who of ['consumer A', 'consumer B']) {
    sim.spawn(who, async () => {
      got[who] = await consumer(who, 3);
    });
  }
  sim.spawn('producer 1', () => producer('producer 1', ['x1', 'x2', 'x3'], 10));
  sim.spawn('producer 2', () => producer('producer 2', ['y1', 'y2', 'y3'], 13));
  await sim.run();
  print(`consumer A got ${got['consumer A']!.join(' ')}; consumer B got ${got['consumer B']!.join(' ')}`);
  for (const primitive of [lock, notFull, notEmpty]) print(`${primitive}`);
}

runMain(import.meta.url, main);
