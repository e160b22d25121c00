/**
 * Running a scenario over many schedules (`explore`), and re-running one (`replay`).
 *
 * @module
 */

import { checkFunction, checkInteger } from '../core/options.js';
import { currentHook } from '../core/scheduler.js';
import { DepthFirst } from './dfs.js';
import { SimulationError } from './errors.js';
import { minimize, runOnce, type Outcome } from './minimize.js';
import { decodeSchedule, seedFor } from './schedule.js';
import { Simulation, activeExplore, explorerKey, reducerKey } from './simulation.js';
import type {
  ExploreFailure,
  ExploreOptions,
  ExploreResult,
  ExploreStrategy,
  Scenario,
  SimulationOptions,
} from './types.js';

function sameRun(a: Outcome, b: Outcome): boolean {
  const x = a.sim.trace;
  const y = b.sim.trace;
  return a.failed === b.failed && x.length === y.length && x.every((line, i) => line === y[i]);
}

function firstDifference(a: readonly string[], b: readonly string[]): string {
  const n = Math.max(a.length, b.length);
  for (let i = 0; i < n; i++) {
    if (a[i] !== b[i]) return `first run: ${a[i] ?? '(ended)'}\n  second run: ${b[i] ?? '(ended)'}`;
  }
  return 'the traces are the same, but one run failed and the other did not';
}

/** Runs the same schedule again and fails when the two runs differ. */
async function checkDeterministic(
  scenario: Scenario,
  options: SimulationOptions,
  first: Outcome,
): Promise<void> {
  const again = await runOnce(scenario, { ...options, schedule: first.sim.schedule });
  if (!sameRun(first, again)) {
    throw new SimulationError(
      'nondeterministic',
      'The scenario is not deterministic: the same schedule ran twice differently (real I/O, Math.random, Date, ' +
        'a timer that is not virtual, or state shared between runs)\n  ' +
        firstDifference(first.sim.trace, again.sim.trace),
      first.sim.schedule,
    );
  }
}

function failureOf(outcome: Outcome): ExploreFailure {
  return {
    error: outcome.error,
    schedule: outcome.sim.schedule,
    trace: outcome.sim.trace,
    steps: outcome.sim.history,
    preemptions: outcome.sim.preemptions,
  };
}

/**
 * The randomised runs of `auto`, as (strategy, depth): `random` first (the best sampler on small scenarios), then
 * `random` alternating with `pct` at depths 2, 3 and 4 (which find bugs of few ordering constraints in long runs).
 */
function randomisedRun(index: number): readonly ['random' | 'pct', number] {
  if (index < autoRandomFirst || index % 2 === 0) return ['random', 0];
  return ['pct', 2 + ((index >> 1) % 3)];
}

/** How many randomised runs of `auto` are `random` before `pct` joins in. */
const autoRandomFirst = 64;

/** What the randomised runs covered: distinct schedules, and Knuth's estimate of how many there are. */
class Coverage {
  private readonly seen = new Set<string>();
  private products = 0;
  private walks = 0;

  add(sim: Simulation): void {
    this.seen.add(sim.schedule);
    let product = 1;
    for (const count of sim.choicePoints) product *= count;
    this.products += product;
    this.walks++;
  }

  warning(label: string, runs: number, systematic: number | undefined): string | undefined {
    if (this.walks === 0) return undefined;
    const total = Math.max(this.seen.size, Math.round(this.products / this.walks));
    const share = (100 * this.seen.size) / total;
    const searched =
      systematic === undefined ? '' : `; the systematic search ran ${systematic} of them without finishing`;
    return (
      `${label}: ${runs} runs found no failure, but covered only ${this.seen.size} distinct schedules of about ` +
      `${total} (${share < 1 ? share.toPrecision(2) : Math.round(share)}%)${searched}. This is not a proof. Try: more ` +
      `runs (runs: ${Math.max(runs * 10, 1000)}); declaring what steps touch (sim.yield('name'), sim.declare), so ` +
      "that the reduction can prove it; strategy 'dfs' with maxDelays: 2 to cover the schedules with few preemptions"
    );
  }
}

/**
 * Runs `scenario` under many schedules and returns the first failure (a task error, a failed check after
 * `sim.run()`, a {@link DeadlockError}) with its replayable schedule, minimised to the fewest departures from FIFO
 * order that still fail. The scenario gets a fresh {@link Simulation} each run; if it does not call `sim.run()`
 * itself, `explore` does.
 *
 * The first schedule (and a failing one) is run twice: a scenario that behaves differently under the same schedule
 * is reported with a {@link SimulationError}, not with a failure that cannot be replayed. One `explore` runs at a
 * time in a process: a second one started meanwhile is rejected with a {@link SimulationError} (`concurrent`).
 *
 * @param scenario - builds the world afresh each run: create primitives and state inside it.
 * @param options - see {@link ExploreOptions}.
 * @returns how many runs, whether every schedule was covered, the first failure if any, and a warning when a
 *   randomised search ended without either.
 * @throws TypeError / RangeError for bad options; {@link SimulationError} when the scenario is not deterministic
 *   or another exploration is running.
 *
 * @example
 * ```ts
 * const result = await explore(async (sim) => {
 *   let count = 0;
 *   const add = async () => {
 *     const read = count;
 *     await sim.yield('count');
 *     count = read + 1;
 *   };
 *   sim.spawn('a', add, 'count');
 *   sim.spawn('b', add, 'count');
 *   await sim.run();
 *   if (count !== 2) throw new Error(`lost update: count = ${count}`);
 * });
 * console.log(result.failure?.preemptions); // 1
 * ```
 */
export async function explore(scenario: Scenario, options: ExploreOptions = {}): Promise<ExploreResult> {
  checkFunction(scenario, 'scenario');
  if (typeof options !== 'object' || options === null) throw new TypeError('options must be an object');
  const {
    strategy = 'auto',
    seed = 0,
    maxDelays = Infinity,
    onRun,
    reduction = true,
    minimize = true,
  } = options;
  if (strategy !== 'auto' && strategy !== 'dfs' && strategy !== 'random' && strategy !== 'pct') {
    throw new TypeError(
      `options.strategy must be 'auto', 'dfs', 'random' or 'pct', got ${String(strategy as unknown)}`,
    );
  }
  checkInteger(options.runs ?? 1, 'options.runs', 1);
  checkInteger(seed, 'options.seed', Number.MIN_SAFE_INTEGER);
  checkInteger(options.depth ?? 1, 'options.depth', 1);
  if (maxDelays !== Infinity) checkInteger(maxDelays, 'options.maxDelays', 0);
  if (onRun !== undefined) checkFunction(onRun, 'options.onRun');
  if (typeof reduction !== 'boolean') throw new TypeError('options.reduction must be a boolean');
  if (typeof minimize !== 'boolean') throw new TypeError('options.minimize must be a boolean');
  if (activeExplore().owner !== undefined || currentHook() !== undefined) {
    throw new SimulationError(
      'concurrent',
      'another explore() (or Simulation) is running in this process: run explorations one at a time (run these ' +
        'tests serially: node:test `{ concurrency: 1 }`, vitest without `.concurrent`)',
      'cs1:',
    );
  }
  const token = {};
  activeExplore().owner = token;
  try {
    return await search(scenario, options, strategy, token);
  } finally {
    activeExplore().owner = undefined;
  }
}

async function search(
  scenario: Scenario,
  options: ExploreOptions,
  strategy: ExploreStrategy,
  token: object,
): Promise<ExploreResult> {
  const { seed = 0, depth = 3, clock, maxSteps, maxDelays = Infinity, onRun, reduction = true } = options;
  const runs = options.runs ?? (strategy === 'auto' ? 2000 : strategy === 'dfs' ? 1000 : 100);
  const base = {
    [explorerKey]: token,
    ...(clock && { clock }),
    ...(maxSteps !== undefined && { maxSteps }),
  } as SimulationOptions;
  const dfs = strategy === 'dfs' || strategy === 'auto' ? new DepthFirst(reduction, maxDelays) : undefined;
  const coverage = new Coverage();
  let systematic = 0;
  let dfsDone = false;
  let steps = 32;
  let randomRuns = 0;
  const found = async (outcome: Outcome, run: number): Promise<ExploreResult> => {
    const minimal = options.minimize === false ? outcome : await minimize(scenario, base, outcome, runs);
    await checkDeterministic(scenario, base, minimal);
    return { runs: run, exhausted: false, failure: failureOf(minimal) };
  };
  for (let run = 0; run < runs; run++) {
    // `auto` alternates: the systematic search takes every other run (FIFO first), the randomised runs the others.
    const systematicTurn = dfs !== undefined && !dfsDone && (strategy === 'dfs' || run % 2 === 0);
    let outcome: Outcome;
    if (systematicTurn) {
      dfs.begin();
      outcome = await runOnce(scenario, { ...base, strategy: dfs, [reducerKey]: dfs } as SimulationOptions);
      systematic++;
    } else {
      const [kind, level] =
        strategy === 'auto' ? randomisedRun(randomRuns) : [strategy as 'random' | 'pct', depth];
      outcome = await runOnce(scenario, {
        ...base,
        strategy: kind,
        depth: Math.max(1, level),
        seed: seedFor(seed, randomRuns),
        steps,
      });
      randomRuns++;
      coverage.add(outcome.sim);
    }
    if (run === 0 && !outcome.redundant) await checkDeterministic(scenario, base, outcome);
    onRun?.(run + 1, outcome.failed);
    if (outcome.failed) return found(outcome, run + 1);
    steps = Math.max(steps, outcome.sim.choicePoints.length);
    if (systematicTurn && !dfs.advance()) {
      if (!dfs.pruned) return { runs: run + 1, exhausted: true };
      if (strategy === 'dfs') return { runs: run + 1, exhausted: false };
      dfsDone = true;
    }
  }
  const label = strategy === 'auto' ? "explore (strategy 'auto')" : `explore (strategy '${strategy}')`;
  const warning =
    strategy === 'dfs'
      ? undefined
      : coverage.warning(label, runs, dfs === undefined ? undefined : systematic);
  return warning === undefined ? { runs, exhausted: false } : { runs, exhausted: false, warning };
}

/**
 * Re-runs `scenario` under `schedule` (printed by a failing run, from `explore`'s `failure.schedule`, a
 * {@link DeadlockError} or {@link Simulation.schedule}) and makes the same choices, so the same failure happens again:
 * the one to debug.
 *
 * @param scenario - the scenario that printed the schedule.
 * @param schedule - the schedule string.
 * @param options - the simulation options the schedule was made with (a fake `clock`, `maxSteps`).
 * @returns the simulation, for its `trace` and `history`, when the run passes.
 * @throws what the run throws; {@link SimulationError} when the schedule does not fit the scenario.
 *
 * @example
 * ```ts
 * await replay(async (sim) => {
 *   sim.spawn('a', async () => {});
 *   sim.spawn('b', async () => {});
 * }, 'cs1:1');
 * ```
 */
export async function replay(
  scenario: Scenario,
  schedule: string,
  options: Pick<SimulationOptions, 'clock' | 'maxSteps' | 'watchdog'> = {},
): Promise<Simulation> {
  checkFunction(scenario, 'scenario');
  const picks = decodeSchedule(schedule);
  const sim = new Simulation({ ...options, schedule });
  await scenario(sim);
  if (sim.state === 'ready') await sim.run();
  if (sim.choicePoints.length < picks.length) {
    throw new SimulationError(
      'schedule',
      `The schedule does not fit this scenario: it has ${picks.length} choices, the run made ${sim.choicePoints.length}`,
      sim.schedule,
    );
  }
  return sim;
}
