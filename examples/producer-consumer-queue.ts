/**
 * A work queue: two producers feed eight jobs through an AsyncQueue of at most 2 items to three consumers.
 *
 * - Back-pressure: `put` waits while the queue is full, so fast producers slow down to the consumers' pace.
 * - Consumers iterate with `for await`, and call `taskDone()` for each job once it is handled.
 * - `join()` resolves when every job put has been marked done; `shutdown()` then ends the consumers' loops.
 * - After shutdown, `put` is refused with `QueueShutDownError`.
 */
import { AsyncQueue, QueueShutDownError } from '../lib/index.js';
import { runMain } from './run-main.js';

/** Simulated work: `turns` turns of the microtask queue. */
async function work(turns: number): Promise<void> {
  for (let turn = 0; turn < turns; turn++) await Promise.resolve();
}

export async function main(print: (line: string) => void = console.log): Promise<void> {
  const queue = new AsyncQueue<string>(2, { name: 'jobs' });
  const size = () => `size=${queue.size}/${queue.maxsize}`;

  // Paces, in thousands of microtask turns: producers are faster than consumers, so the queue fills up.
  async function producer(name: string, jobs: string[], pace: number): Promise<void> {
    for (const job of jobs) {
      await work(pace * 1000);
      const full = queue.full;
      // Consumers wait in `get` only while the queue is empty; a put hands its job straight to the first of them.
      const handOff = queue.empty && queue.waiting > 0;
      if (full) print(`${name}: queue full, waits to put ${job}`);
      await queue.put(job);
      const note = full ? ' (a consumer made room)' : handOff ? ' (straight to a waiting consumer)' : '';
      print(`${name}: put ${job}${note}  ${size()}`);
    }
  }

  async function consumer(name: string, pace: number): Promise<string[]> {
    const handled: string[] = [];
    for await (const job of queue) {
      await work(pace * 1000); // handle the job
      print(`${name}: done with ${job}`);
      handled.push(job);
      queue.taskDone();
    }
    return handled;
  }

  const consumers = [consumer('consumer A', 7), consumer('consumer B', 9), consumer('consumer C', 11)];
  await Promise.all([
    producer('producer 1', ['a1', 'a2', 'a3', 'a4'], 1),
    producer('producer 2', ['b1', 'b2', 'b3', 'b4'], 2),
  ]);
  print(`main: every job is queued, join() waits for them to be done (${queue})`);
  await queue.join();
  print('main: every job is done, shutdown()');
  queue.shutdown();
  const handled = await Promise.all(consumers);
  handled.forEach((jobs, index) => print(`consumer ${'ABC'[index]} handled ${jobs.join(' ')}`));

  try {
    await queue.put('late');
  } catch (error) {
    if (!(error instanceof QueueShutDownError)) throw error;
    print(`a late put is refused: ${error.name}`);
  }
  print(`${queue}`);
}

runMain(import.meta.url, main);
