/**
 * Workload 9: the harness's own speed. How many steps and how many whole schedules per second `explore` gets
 * through on the two scenarios of issue 5: a lost update (two tasks, unlocked and locked) and a lock-order
 * inversion (found, then the fixed order proven over every schedule).
 *
 * There is no peer library to compare with: the numbers say how large a scenario can be explored in a test. Then,
 * on the bug zoo of spec/testing/zoo.ts (issue 18): the schedules each proof takes with and without the reduction,
 * and the median schedules each strategy takes to find each bug, `auto` against the best single one.
 *
 * @module
 */
import { AsyncLock } from '../lib/index.js';
import { explore, type ExploreOptions, type Scenario, type Simulation } from '../lib/testing/index.js';
import { invariant, zoo } from '../spec/testing/zoo.js';
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
    await measure(
      'lost update, 3 tasks x 2, locked, dfs',
      counter(3, 2, true),
      { strategy: 'dfs', runs: 100_000 },
      seconds,
    ),
    await measure(
      'lost update, 3 tasks x 2, unlocked, dfs to the bug',
      counter(3, 2, false),
      { strategy: 'dfs', minimize: false },
      seconds,
    ),
    await measure(
      'lock order A,B / A,B / A,B, dfs',
      lockOrder(false),
      { strategy: 'dfs', runs: 100_000 },
      seconds,
    ),
    await measure(
      'lock order A,B / B,A / A,B, dfs to the deadlock',
      lockOrder(true),
      { strategy: 'dfs', runs: 100_000, minimize: false },
      seconds,
    ),
  ];
}

/** One proof of the zoo: schedules with and without the reduction. */
export interface ProofRow {
  readonly name: string;
  readonly reduced: number;
  readonly reducedExhausted: boolean;
  /** Schedules without the reduction; when not exhausted, the cap it ran into. */
  readonly full: number;
  readonly fullExhausted: boolean;
}

/**
 * The proofs of the zoo's fixed versions (spec/testing/zoo.ts) and of the four-task invariant: how many schedules
 * `dfs` needs with the reduction and without (`reduction: false`, what explore did before it), up to `cap`.
 */
export async function benchProofs(cap: number): Promise<ProofRow[]> {
  const specimens = [
    ...zoo.map((s) => [s.name, s.fixed] as const),
    ['four-task invariant', invariant(true, 4)] as const,
  ];
  const rows: ProofRow[] = [];
  for (const [name, scenario] of specimens) {
    const reduced = await explore(scenario, { strategy: 'dfs', runs: Math.max(cap, 50_000) });
    const full = await explore(scenario, { strategy: 'dfs', reduction: false, runs: cap });
    rows.push({
      name,
      reduced: reduced.runs,
      reducedExhausted: reduced.exhausted,
      full: full.runs,
      fullExhausted: full.exhausted,
    });
  }
  return rows;
}

/** One bug of the zoo: the median number of schedules each strategy needs to find it. */
export interface FindRow {
  readonly name: string;
  /** Median runs to the bug per strategy (`Infinity`: not found within the cap by most seeds). */
  readonly medians: Readonly<Record<string, number>>;
  /** The best single strategy's median, and auto's over it. */
  readonly best: number;
  readonly ratio: number;
}

/** Median runs to find each bug of the zoo, over `seeds` seeds, per strategy (capped at `cap` runs a search). */
export async function benchFinds(seeds: number, cap: number): Promise<FindRow[]> {
  const strategies: [string, ExploreOptions][] = [
    ['dfs', { strategy: 'dfs' }],
    ['dfs, no reduction', { strategy: 'dfs', reduction: false }],
    ['random', { strategy: 'random' }],
    ['pct', { strategy: 'pct' }],
    ['pct depth 2', { strategy: 'pct', depth: 2 }],
    ['auto', { strategy: 'auto' }],
  ];
  const rows: FindRow[] = [];
  for (const specimen of zoo) {
    const medians: Record<string, number> = {};
    for (const [label, options] of strategies) {
      const seeded = options.strategy !== 'dfs';
      const found: number[] = [];
      for (let seed = 0; seed < (seeded ? seeds : 1); seed++) {
        const result = await explore(specimen.buggy, { ...options, seed, runs: cap, minimize: false });
        found.push(result.failure === undefined ? Infinity : result.runs);
      }
      found.sort((a, b) => a - b);
      medians[label] = found[Math.floor(found.length / 2)]!;
    }
    const best = Math.min(
      ...Object.entries(medians)
        .filter(([label]) => label !== 'auto')
        .map(([, n]) => n),
    );
    rows.push({ name: specimen.name, medians, best, ratio: medians['auto']! / best });
  }
  return rows;
}
