/**
 * A connection pool of 2, limited by an AsyncBoundedSemaphore: six requests arrive over time, each holds a
 * connection while its query runs, and a request waits at most 40 ms for a connection before it gives up with a
 * `TimeoutError` (and leaves the queue at once: the next waiter is served as if it had never been there). Times are
 * virtual: the harness runs the scenario in milliseconds of simulated time.
 *
 * The bound catches a classic pool bug: giving a connection back twice. A plain AsyncSemaphore would count it and
 * let three queries run on two connections; the bounded one refuses with a RangeError.
 */
import { AsyncBoundedSemaphore, TimeoutError } from 'coop-sync';
import { Simulation } from 'coop-sync/testing';
import { defaultSeed, runMain, type ExampleOptions, type Print } from './run-main.js';

export async function main(print: Print = console.log, options: ExampleOptions = {}): Promise<void> {
  const sim = new Simulation({ strategy: 'random', seed: options.seed ?? defaultSeed });
  const pool = new AsyncBoundedSemaphore(2, { name: 'connections' });
  const say = (line: string) => print(`${`${sim.now}ms`.padStart(5)}  ${line}`);
  const inUse = () => `${pool.bound - pool.value} of ${pool.bound} in use`;
  const patience = 40;
  const served: string[] = [];
  const gaveUp: string[] = [];

  // [name, arrives at, query takes], in ms: arrivals and durations far apart, so nothing ties.
  const requests: [string, number, number][] = [
    ['request 1', 0, 70],
    ['request 2', 5, 40],
    ['request 3', 10, 12],
    ['request 4', 15, 30],
    ['request 5', 20, 10],
    ['request 6', 80, 10],
  ];

  for (const [name, arrives, takes] of requests) {
    sim.spawn(name, async () => {
      await sim.sleep(arrives);
      if (pool.value === 0) say(`${name}: no free connection, waits (${pool.waiting} ahead)`);
      let connection;
      try {
        connection = await pool.acquire({ timeout: patience });
      } catch (error) {
        if (!(error instanceof TimeoutError)) throw error;
        say(`${name}: gave up after ${patience}ms (${error.name})`);
        gaveUp.push(name);
        return;
      }
      say(`${name}: got a connection (${inUse()}), query takes ${takes}ms`);
      try {
        await sim.sleep(takes);
      } finally {
        connection.release();
      }
      say(`${name}: done (${inUse()})`);
      served.push(name);
    });
  }
  await sim.run();
  print(`served: ${served.join(', ')}`);
  print(`gave up: ${gaveUp.join(', ')}`);
  print(`${pool}`);

  print('-- a connection given back twice --');
  const connection = await pool.acquire();
  connection.release();
  try {
    pool.release(); // the bug: a second release for the same connection
  } catch (error) {
    if (!(error instanceof RangeError)) throw error;
    print(`refused: ${error.message}`);
  }
  print(`${pool}`);
}

runMain(import.meta.url, main);
