/**
 * Spin-wait vs condition wait: the same handshake twice. A setup task makes the system ready after 95 ms; a waiter
 * must not go on before that.
 *
 * - Spinning (`waitUntil`, polling every 10 ms): the waiter wakes up on every tick to look, and sees the change only
 *   at the next tick after it happened.
 * - A condition (`AsyncCondition.waitFor`): the waiter sleeps until the setup task notifies it, looks once more,
 *   and goes on at the moment the change happened.
 *
 * Nothing blocks the event loop in either case (waitUntil polls on a timer), but polling costs a wake-up per tick
 * and up to one interval of lag. Poll only when the code that changes the state cannot notify. Times are virtual.
 */
import { AsyncCondition, waitUntil } from 'coop-sync';
import { at, runMain, simulation, type ExampleOptions, type Print } from './run-main.js';

const readyAt = 95;

export async function main(print: Print = console.log, options: ExampleOptions = {}): Promise<void> {
  for (const style of ['spin-wait', 'condition'] as const) {
    const sim = simulation(options);
    const say = (line: string) => print(`${at(sim)}  ${line}`);
    const cond = new AsyncCondition(undefined, { name: 'ready' });
    let ready = false;
    let looks = 0;
    const isReady = () => {
      looks++;
      return ready;
    };

    print(`-- ${style} --`);
    sim.spawn('setup', async () => {
      await sim.sleep(readyAt);
      await cond.run(async () => {
        ready = true;
        cond.notifyAll();
      });
      say('setup: ready');
    });
    sim.spawn('waiter', async () => {
      if (style === 'spin-wait') await waitUntil(isReady, { interval: 10 });
      else await cond.run(() => cond.waitFor(isReady));
      say(`waiter: goes on, ${sim.now - readyAt} ms after the change, having looked ${looks} times`);
    });
    await sim.run();
    print(`steps the harness ran: ${sim.history.length}`);
  }
}

runMain(import.meta.url, main);
