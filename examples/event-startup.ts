/**
 * An AsyncEvent as a start gate: workers wait until the service is ready; `set()` releases all of them at once, in
 * the order they started waiting, and every later `wait()` passes straight through until `clear()`.
 *
 * Also shown, without any timer: `wait({ timeout: 0 })` as a non-blocking check ("only if available now"), and a
 * waiter that gives up through an AbortSignal, which removes it from the event's queue at once.
 */
import { AsyncEvent, TimeoutError } from '../lib/index.js';
import { runMain } from './run-main.js';

/** Simulated work: `turns` turns of the microtask queue. */
async function work(turns: number): Promise<void> {
  for (let turn = 0; turn < turns; turn++) await Promise.resolve();
}

export async function main(print: (line: string) => void = console.log): Promise<void> {
  const ready = new AsyncEvent({ name: 'ready' });

  async function worker(name: string, options?: { signal?: AbortSignal }): Promise<void> {
    print(`${name}: waiting for ready`);
    try {
      await ready.wait(options);
    } catch (error) {
      print(`${name}: gave up (${(error as Error).message})`);
      return;
    }
    print(`${name}: started`);
  }

  const impatient = new AbortController();
  const workers = [worker('worker 1'), worker('worker 2', { signal: impatient.signal }), worker('worker 3')];
  print(`${ready}`);

  // A health check must not block: timeout 0 means "only if it is set now".
  try {
    await ready.wait({ timeout: 0 });
  } catch (error) {
    if (!(error instanceof TimeoutError)) throw error;
    print(`health check: not ready yet (${error.name})`);
  }

  impatient.abort(new Error('shutting down worker 2'));
  await workers[1];
  print(`${ready}`);

  await work(1000); // load the configuration
  print('main: configuration loaded, ready.set()');
  ready.set();
  await Promise.all(workers);

  await ready.wait({ timeout: 0 });
  print(`health check: ready (${ready})`);
  await worker('worker 4'); // passes straight through

  ready.clear();
  print(`main: ready.clear() (${ready})`);
}

runMain(import.meta.url, main);
