/**
 * Daemon tasks: a heartbeat that reports every 25 ms while two workers run, and stops on its own when they are
 * done. `TaskGroup.join()` waits for the workers only; once the last one finishes it aborts the daemon (its
 * `signal`), so the heartbeat's sleep ends at once and the program is over. Python's daemon threads, without the
 * abrupt end: the daemon sees its signal and can say goodbye. Times are virtual (the harness's clock).
 */
import { TaskGroup, sleep } from 'coop-sync';
import { at, runMain, simulation, type ExampleOptions, type Print } from './run-main.js';

export async function main(print: Print = console.log, options: ExampleOptions = {}): Promise<void> {
  const sim = simulation(options);
  const say = (line: string) => print(`${at(sim)}  ${line}`);

  sim.spawn('main', async () => {
    const group = new TaskGroup({ name: 'jobs' });
    const heartbeat = group.spawn(
      async (signal) => {
        try {
          for (let beat = 1; ; beat++) {
            say(`heartbeat ${beat}: ${group.running} worker(s) running`);
            await sleep(25, { signal });
          }
        } catch (error) {
          if (!signal.aborted) throw error;
          say('heartbeat: stopped, the workers are done');
        }
      },
      { name: 'heartbeat', daemon: true },
    );
    for (const [name, takes] of [
      ['download', 60],
      ['index', 90],
    ] as const) {
      group.spawn(
        async (signal) => {
          say(`${name}: starts (${takes} ms of work)`);
          await sleep(takes, { signal });
          say(`${name}: done`);
        },
        { name },
      );
    }
    await group.join();
    say(`join resolved: ${group}`);
    await heartbeat.join();
    say(`heartbeat task: done=${heartbeat.done}`);
  });
  await sim.run();
}

runMain(import.meta.url, main);
