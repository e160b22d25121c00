/**
 * An AsyncSemaphore bounds concurrency: 10 jobs, at most 3 at a time. Jobs that find no free permit queue up and
 * start in FIFO order as permits come back. Then a weighted acquire: a job that needs every permit at once waits
 * for all of them, and the single-permit job that comes after it waits behind it (head-of-line fairness), so the
 * big job is never starved by a stream of small ones. The jobs run in a `Simulation` of `coop-sync/testing`, in
 * virtual time.
 */
import { AsyncSemaphore } from 'coop-sync';
import { at, runMain, simulation, type ExampleOptions, type Print } from './run-main.js';

export async function main(print: Print = console.log, options: ExampleOptions = {}): Promise<void> {
  print('-- 10 jobs, at most 3 at a time --');
  let sim = simulation(options);
  const pool = new AsyncSemaphore(3, { name: 'pool' });
  // How long each job works, in ms; no two jobs finish at the same moment.
  const durations = [60, 40, 10, 11, 12, 41, 62, 53, 14, 15];
  let running = 0;
  let maxRunning = 0;
  durations.forEach((duration, index) => {
    const job = `job ${index + 1}`;
    sim.spawn(job, async () => {
      await sim.sleep(index); // job n arrives at n-1 ms
      await pool.run(async () => {
        running++;
        maxRunning = Math.max(maxRunning, running);
        print(`${at(sim)}  ${job.padEnd(6)} starts    running=${running}`);
        await sim.sleep(duration);
        running--;
        print(`${at(sim)}  ${job.padEnd(6)} finishes  running=${running}`);
      });
    });
  });
  await sim.run();
  if (maxRunning > 3) throw new Error(`${maxRunning} jobs ran at once`);
  print(`max concurrency observed: ${maxRunning}`);
  print(`${pool}`);

  print('-- weighted: a job that needs all 3 permits --');
  sim = simulation(options);
  const job = (name: string, arrives: number, permits: number, works: number) =>
    sim.spawn(name, async () => {
      await sim.sleep(arrives);
      const free = pool.value;
      if (free < permits || pool.waiting > 0) {
        print(`${at(sim)}  ${name} needs ${permits}, ${free} free: waits (${pool})`);
      }
      const guard = await pool.acquire({ permits });
      print(`${at(sim)}  ${name} got ${permits} (${pool})`);
      await sim.sleep(works);
      guard.release();
      print(`${at(sim)}  ${name} done (${pool})`);
    });
  job('small 1', 0, 1, 30);
  job('small 2', 1, 1, 50);
  job('big', 10, 3, 20);
  job('small 3', 20, 1, 10);
  await sim.run();
}

runMain(import.meta.url, main);
