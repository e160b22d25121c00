/**
 * An AsyncEvent as a start gate: workers wait until the service is ready; `set()` releases all of them at once, and
 * every later `wait()` passes straight through until `clear()`.
 *
 * Also shown: `wait({ timeout: 0 })` as a non-blocking check ("only if available now"), and a waiter that gives up
 * through an AbortSignal, which removes it from the event's queue at once. The tasks run in a `Simulation` of
 * `coop-sync/testing`, in virtual time; which of the released workers runs first is the harness's choice (its
 * `random` strategy, from the seed), as it would be the event loop's.
 */
import { AsyncEvent, TimeoutError } from 'coop-sync';
import { at, runMain, simulation, type ExampleOptions, type Print } from './run-main.js';

export async function main(print: Print = console.log, options: ExampleOptions = {}): Promise<void> {
  const sim = simulation(options);
  const say = (line: string) => print(`${at(sim)}  ${line}`);
  const ready = new AsyncEvent({ name: 'ready' });

  async function worker(name: string, arrives: number, options?: { signal?: AbortSignal }): Promise<void> {
    await sim.sleep(arrives);
    say(`${name}: waiting for ready`);
    try {
      await ready.wait(options);
    } catch (error) {
      say(`${name}: gave up (${(error as Error).message})`);
      return;
    }
    say(`${name}: started`);
  }

  const impatient = new AbortController();
  sim.spawn('worker 1', () => worker('worker 1', 0));
  sim.spawn('worker 2', () => worker('worker 2', 1, { signal: impatient.signal }));
  sim.spawn('worker 3', () => worker('worker 3', 2));
  sim.spawn('worker 4', () => worker('worker 4', 40)); // comes after set(): passes straight through

  sim.spawn('main', async () => {
    await sim.sleep(5);
    say(`main: ${ready}`);
    // A health check must not block: timeout 0 means "only if it is set now".
    try {
      await ready.wait({ timeout: 0 });
    } catch (error) {
      if (!(error instanceof TimeoutError)) throw error;
      say(`health check: not ready yet (${error.name})`);
    }

    await sim.sleep(5);
    impatient.abort(new Error('shutting down worker 2'));
    say(`main: aborted worker 2's wait: ${ready}`);

    await sim.sleep(20); // load the configuration
    say('main: configuration loaded, ready.set()');
    ready.set();

    await sim.sleep(5);
    await ready.wait({ timeout: 0 });
    say(`health check: ready (${ready})`);

    await sim.sleep(15);
    ready.clear();
    say(`main: ready.clear() (${ready})`);
  });
  await sim.run();
}

runMain(import.meta.url, main);
