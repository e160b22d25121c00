/**
 * Three workers run three phases in lockstep with an AsyncBarrier: none starts phase n+1 before all have finished
 * phase n, however long each takes. Who is slowest changes from phase to phase; the barrier does not care. The
 * last to arrive (arrival index `parties - 1`) announces the end of the phase.
 */
import { AsyncBarrier } from '../lib/index.js';
import { runMain } from './run-main.js';

/** Simulated work: `turns` turns of the microtask queue. */
async function work(turns: number): Promise<void> {
  for (let turn = 0; turn < turns; turn++) await Promise.resolve();
}

export async function main(print: (line: string) => void = console.log): Promise<void> {
  const workers = ['ann', 'bob', 'cid'];
  const barrier = new AsyncBarrier(workers.length, { name: 'phase' });
  // Work per worker and phase, in thousands of microtask turns: far apart, so arrivals never tie.
  const effort: Record<string, number[]> = { ann: [1, 3, 2], bob: [2, 1, 3], cid: [3, 2, 1] };

  async function worker(name: string): Promise<void> {
    for (let phase = 1; phase <= 3; phase++) {
      await work(effort[name]![phase - 1]! * 1000);
      print(
        `  ${name} finished phase ${phase}; ${barrier.waiting} of ${barrier.parties} already at the barrier`,
      );
      const index = await barrier.wait();
      if (index === barrier.parties - 1) print(`phase ${phase} done (${name} arrived last)`);
    }
  }

  print(`${workers.length} workers, 3 phases`);
  await Promise.all(workers.map(worker));
  print(`all phases done: ${barrier}`);
}

runMain(import.meta.url, main);
