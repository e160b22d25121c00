/**
 * A bounded buffer built from one AsyncLock and two AsyncConditions that share it, the textbook way:
 * producers wait on `notFull` while the buffer is full, consumers wait on `notEmpty` while it is empty, and each
 * side notifies the other after changing the buffer. Run it with `npm run demo`.
 *
 * Things to notice in the output:
 * - every line is printed while holding the lock, so it shows the buffer exactly as the lock protects it;
 * - a task that finds the buffer full (or empty) releases the lock inside `wait()`, and holds it again when it
 *   resumes ("resumes"), before it looks at the buffer again;
 * - notified waiters take the lock in FIFO order, behind tasks already queued for it.
 */
import { AsyncCondition, AsyncLock } from '../lib/index.js';
import { runMain } from './run-main.js';

const capacity = 2;

export async function main(print: (line: string) => void = console.log): Promise<void> {
  const lock = new AsyncLock({ name: 'buffer' });
  const notFull = new AsyncCondition(lock, { name: 'notFull' });
  const notEmpty = new AsyncCondition(lock, { name: 'notEmpty' });
  const buffer: string[] = [];
  const show = () => `[${buffer.join(', ')}]`.padEnd(14);

  /**
   * Simulated work, done without holding the lock: `turns` turns of the microtask queue. The lengths below are far
   * apart, so the order of events comes from the work and the primitives, never from a photo finish.
   */
  const work = async (turns: number) => {
    for (let turn = 0; turn < turns; turn++) await Promise.resolve();
  };

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
      await work(pace); // make the item
      await put(who, item);
    }
  }

  async function consumer(who: string, count: number): Promise<string[]> {
    const got: string[] = [];
    for (let n = 0; n < count; n++) {
      got.push(await take(who));
      await work(4000); // handle the item
    }
    return got;
  }

  print(`a buffer of ${capacity}; two producers, two consumers`);
  print(`${'buffer'.padEnd(14)} event`);
  const [a, b] = await Promise.all([
    consumer('consumer A', 3),
    consumer('consumer B', 3),
    producer('producer 1', ['x1', 'x2', 'x3'], 1000),
    producer('producer 2', ['y1', 'y2', 'y3'], 1300),
  ]);
  print(`consumer A got ${a.join(' ')}; consumer B got ${b.join(' ')}`);
  for (const primitive of [lock, notFull, notEmpty]) print(`${primitive}`);
}

runMain(import.meta.url, main);
