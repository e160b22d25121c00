/**
 * Three workers run three phases in lockstep with an AsyncBarrier: none starts phase n+1 before all have finished
 * phase n, however long each takes. Who is slowest changes from phase to phase; the barrier does not care. The
 * last to arrive (arrival index `parties - 1`) announces the end of the phase. The workers run in a `Simulation` of
 * `coop-sync/testing`, in virtual time.
 */
import { AsyncBarrier } from 'coop-sync';
import { at, runMain, simulation, type ExampleOptions, type Print } from './run-main.js';

export async function main(print: Print = console.log, options: ExampleOptions = {}): Promise<void> {
  const sim = simulation(options);
  const workers = ['ann', 'bob', 'cid'];
  const barrier = new AsyncBarrier(workers.length, { name: 'phase' });
  // Work per worker and phase, in tens of ms: far apart, so arrivals never tie.
  const effort: Record<string, number[]> = { ann: [1, 3, 2], bob: [2, 1, 3], cid: [3, 2, 1] };

  async function worker(name: string): Promise<void> {
    for (let phase = 1; phase <= 3; phase++) {
      await sim.sleep(effort[name]![phase - 1]! * 10);
      print(
        `${at(sim)}    ${name} finished phase ${phase}; ${barrier.waiting} of ${barrier.parties} already at the barrier`,
      );
      const index = await barrier.wait();
      if (index === barrier.parties - 1) print(`${at(sim)}  phase ${phase} done (${name} arrived last)`);
    }
  }

  print(`${workers.length} workers, 3 phases`);
  for (const name of workers) sim.spawn(name, () => worker(name));
  await sim.run();
  print(`all phases done: ${barrier}`);
}

runMain(import.meta.url, main);
