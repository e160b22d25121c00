/**
 * An AsyncSemaphore bounds concurrency: 10 jobs, at most 3 at a time. Jobs that find no free permit queue up and
 * start in FIFO order as permits come back. Then a weighted acquire: a job that needs every permit at once waits
 * for all of them, and the single-permit job that comes after it waits behind it (head-of-line fairness), so the
 * big job is never starved by a stream of small ones.
 */
import { AsyncSemaphore } from '../lib/index.js';
import { runMain } from './run-main.js';

/** Simulated work: `turns` turns of the microtask queue. */
async function work(turns: number): Promise<void> {
  for (let turn = 0; turn < turns; turn++) await Promise.resolve();
}

export async function main(print: (line: string) => void = console.log): Promise<void> {
  print('-- 10 jobs, at most 3 at a time --');
  const pool = new AsyncSemaphore(3, { name: 'pool' });
  // How long each job works, in thousands of microtask turns; no two jobs finish at the same moment.
  const durations = [6, 4, 1, 1, 1, 4, 6, 5, 1, 1].map((units) => units * 1000);
  let running = 0;
  let maxRunning = 0;
  await Promise.all(
    durations.map((duration, index) =>
      pool.run(async () => {
        running++;
        maxRunning = Math.max(maxRunning, running);
        const job = `job ${index + 1}`.padEnd(6);
        print(`${job} starts    running=${running}`);
        await work(duration);
        running--;
        print(`${job} finishes  running=${running}`);
      }),
    ),
  );
  print(`max concurrency observed: ${maxRunning}`);
  print(`${pool}`);

  print('-- weighted: a job that needs all 3 permits --');
  const small1 = await pool.acquire();
  const small2 = await pool.acquire();
  print(`two small jobs hold a permit each: ${pool}`);
  const big = pool.acquire({ permits: 3 }).then((guard) => {
    print(`big job got 3 permits: ${pool}`);
    return guard;
  });
  const small3 = pool.acquire().then((guard) => {
    print(`small job 3 got its permit: ${pool}`);
    return guard;
  });
  print(`big job and small job 3 wait, although a permit is free: ${pool}`);
  small1.release();
  print(`small job 1 done: ${pool}`);
  small2.release();
  print(`small job 2 done: ${pool}`);
  (await big).release();
  print('big job done');
  (await small3).release();
  print(`small job 3 done: ${pool}`);
}

runMain(import.meta.url, main);
