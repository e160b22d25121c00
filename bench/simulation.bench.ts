/**
 * Workload 9: the harness's own speed. How many steps and how many whole schedules per second `explore` gets
 * through on the two scenarios of issue 5: a lost update (two tasks, unlocked and locked) and a lock-order
 * inversion (found, then the fixed order proven over every schedule).
 *
 * There is no peer library to compare with: the numbers say how large a scenario can be explored in a test.
 *
 * @module
 */
import { AsyncLock } from '../lib/index.js';
import { explore, type Scenario, type Simulation } from '../lib/testing/index.js';
import { now } from './harness.js';

/** One scenario's throughput. */
export interface SimulationRow {
  readonly name: string;
  readonly runs: number;
  readonly steps: number;
  readonly seconds: number;
  readonly stepsPerSecond: number;
  readonly schedulesPerSecond: number;
}

/** `tasks` tasks each add 1 to a shared counter `rounds` times, reading before an await and writing after it. */
function counter(tasks: number, rounds: number, locked: boolean): Scenario {
  return async (sim: Simulation) => {
    const lock = new AsyncLock();
    let count = 0;
    const add = async (): Promise<void> => {
      const read = count;
      await sim.yield();
      count = read + 1;
    };
    for (let t = 0; t < tasks; t++) {
      sim.spawn(`t${t}`, async () => {
        for (let r = 0; r < rounds; r++) await (locked ? lock.run(add) : add());
      });
    }
    await sim.run();
    if (count !== tasks * rounds) throw new Error(`lost update: ${count}`);
  };
}

/** Two tasks take locks A and B; `inverted` takes them in opposite orders (a deadlock in some schedules). */
function lockOrder(inverted: boolean): Scenario {
  return async (sim: Simulation) => {
    const a = new AsyncLock({ name: 'A' });
    const b = new AsyncLock({ name: 'B' });
    const take = (first: AsyncLock, second: AsyncLock) => () =>
      first.run(async () => {
        await sim.yield();
        await second.run(() => sim.yield());
      });
    sim.spawn('t1', take(a, b));
    sim.spawn('t2', inverted ? take(b, a) : take(a, b));
    sim.spawn('t3', take(a, b));
  };
}

/**
 * Explores `scenario` again and again for at least `minSeconds` (a short exploration alone is too quick to time),
 * counting the steps of every run.
 */
async function measure(
  name: string,
  scenario: Scenario,
  options: Parameters<typeof explore>[1],
  minSeconds: number,
): Promise<SimulationRow> {
  let steps = 0;
  const counted: Scenario = async (sim) => {
    try {
      await scenario(sim);
      if (sim.state === 'ready') await sim.run();
    } finally {
      steps += sim.trace.length;
    }
  };
  let runs = 0;
  let outcome: string;
  const start = now();
  let seconds: number;
  do {
    const result = await explore(counted, options);
    runs += result.runs;
    outcome = `${result.runs} runs${result.exhausted ? ', exhausted' : ''}${result.failure ? ', found' : ''}`;
    seconds = (now() - start) / 1e9;
  } while (seconds < minSeconds);
  return {
    name: `${name} (${outcome})`,
    runs,
    steps,
    seconds,
    stepsPerSecond: steps / seconds,
    schedulesPerSecond: runs / seconds,
  };
}

/** Runs every harness workload; `scale` shrinks the random-strategy run counts for a quick pass. */
export async function benchSimulation(scale = 1): Promise<SimulationRow[]> {
  const seconds = 0.5 * scale;
  // Warm-up: the JIT compiles the harness before anything is timed.
  await explore(counter(2, 2, true), { strategy: 'random', runs: 200 });
  return [
    await measure(
      'lost update, 3 tasks x 3, locked, random',
      counter(3, 3, true),
      { strategy: 'random', runs: 500 },
      seconds,
    ),
    await measure('lost update, 3 tasks x 2, locked, dfs', counter(3, 2, true), { runs: 100_000 }, seconds),
    await measure('lost update, 3 tasks x 2, unlocked, dfs to the bug', counter(3, 2, false), {}, seconds),
    await measure('lock order A,B / A,B / A,B, dfs', lockOrder(false), { runs: 100_000 }, seconds),
    await measure(
      'lock order A,B / B,A / A,B, dfs to the deadlock',
      lockOrder(true),
      { runs: 100_000 },
      seconds,
    ),
  ];
}
