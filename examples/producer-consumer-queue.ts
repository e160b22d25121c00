/**
 * A work queue: two producers feed eight jobs through an AsyncQueue of at most 2 items to three consumers.
 *
 * - Back-pressure: `put` waits while the queue is full, so fast producers slow down to the consumers' pace.
 * - Consumers iterate with `for await`, and call `taskDone()` for each job once it is handled.
 * - `join()` resolves when every job put has been marked done; `shutdown()` then ends the consumers' loops.
 * - After shutdown, `put` is refused with `QueueShutDownError`.
 *
 * The tasks run in a `Simulation` of `coop-sync/testing`, in virtual time.
 */
import { AsyncQueue, QueueShutDownError } from 'coop-sync';
import { at, runMain, simulation, type ExampleOptions, type Print } from './run-main.js';

export async function main(print: Print = console.log, options: ExampleOptions = {}): Promise<void> {
  const sim = simulation(options);
  const say = (line: string) => print(`${at(sim)}  ${line}`);
  const queue = new AsyncQueue<string>(2, { name: 'jobs' });
  const size = () => `size=${queue.size}/${queue.maxsize}`;

  // Paces, in ms: producers are faster than consumers, so the queue fills up.
  async function producer(name: string, jobs: string[], pace: number): Promise<void> {
    for (const job of jobs) {
      await sim.sleep(pace);
      const full = queue.full;
      // Consumers wait in `get` only while the queue is empty; a put hands its job straight to the first of them.
      const handOff = queue.empty && queue.waiting > 0;
      if (full) say(`${name}: queue full, waits to put ${job}`);
      await queue.put(job);
      const note = full ? ' (a consumer made room)' : handOff ? ' (straight to a waiting consumer)' : '';
      say(`${name}: put ${job}${note}  ${size()}`);
    }
  }

  async function consumer(name: string, pace: number): Promise<string[]> {
    const handled: string[] = [];
    for await (const job of queue) {
      await sim.sleep(pace); // handle the job
      say(`${name}: done with ${job}`);
      handled.push(job);
      queue.taskDone();
    }
    return handled;
  }

  const handled: string[][] = [];
  [7, 9, 11].forEach((pace, index) => {
    const name = `consumer ${'ABC'[index]}`;
    sim.spawn(name, async () => {
      handled[index] = await consumer(name, pace * 10);
    });
  });
  sim.spawn('main', async () => {
    await Promise.all([
      producer('producer 1', ['a1', 'a2', 'a3', 'a4'], 10),
      producer('producer 2', ['b1', 'b2', 'b3', 'b4'], 20),
    ]);
    say(`main: every job is queued, join() waits for them to be done (${queue})`);
    await queue.join();
    say('main: every job is done, shutdown()');
    queue.shutdown();
    try {
      await queue.put('late');
    } catch (error) {
      if (!(error instanceof QueueShutDownError)) throw error;
      say(`main: a late put is refused: ${error.name}`);
    }
  });
  await sim.run();
  handled.forEach((jobs, index) => print(`consumer ${'ABC'[index]} handled ${jobs.join(' ')}`));
  const all = handled.flat().sort();
  if (all.join() !== 'a1,a2,a3,a4,b1,b2,b3,b4')
    throw new Error(`jobs lost or handled twice: ${all.join(' ')}`);
  print(`${queue}`);
}

runMain(import.meta.url, main);
