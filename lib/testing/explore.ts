/**
 * Running a scenario over many schedules (`explore`), and re-running one (`replay`).
 *
 * @module
 */

import { SimulationError } from '../errors.js';
import { checkFunction, checkInteger } from '../core/options.js';
import { decodeSchedule, encodeSchedule, seedFor } from './schedule.js';
import { currentHook } from '../core/scheduler.js';
import {
  Simulation,
  activeExplore,
  explorerKey,
  type SimulationOptions,
  type SinonLikeClock,
  type Step,
} from './simulation.js';

/** A scenario: spawns tasks on the simulation it is given, and may `await sim.run()` and check the outcome. */
export type Scenario = (sim: Simulation) => Promise<void>;

/** Options of {@link explore}. */
export interface ExploreOptions {
  /**
   * `dfs` (the default) tries every schedule, depth first, and says when it has covered them all; `random` and `pct`
   * try `runs` seeded schedules.
   */
  readonly strategy?: 'dfs' | 'random' | 'pct';
  /** How many schedules at most. Default 1000 for `dfs`, 100 otherwise. */
  readonly runs?: number;
  /** Base seed of `random` and `pct`; each run's seed derives from it. Default `0`. */
  readonly seed?: number;
  /** `dfs` only: try only schedules that depart from FIFO order at most this many times (delay bounding). */
  readonly maxDelays?: number;
  /** `pct`'s bug depth. Default `3`. */
  readonly depth?: number;
  /** A sinon fake clock, when the scenario runs under `sinon.useFakeTimers()`. */
  readonly clock?: SinonLikeClock;
  /** Steps one run may take. Default `100000`. */
  readonly maxSteps?: number;
  /** Called after each run, for progress output. */
  readonly onRun?: (run: number, failed: boolean) => void;
}

/** What {@link explore} found. */
export interface ExploreResult {
  /** How many schedules ran (not counting the re-runs that check determinism). */
  readonly runs: number;
  /** True when `dfs` covered every schedule (none cut off by `runs` or `maxDelays`): a proof for this scenario. */
  readonly exhausted: boolean;
  /** The first failing run: its error, its schedule (for {@link replay}), its trace and steps. */
  readonly failure?: {
    readonly error: unknown;
    readonly schedule: string;
    readonly trace: readonly string[];
    readonly steps: readonly Step[];
  };
}

interface Outcome {
  readonly sim: Simulation;
  readonly error: unknown;
  readonly failed: boolean;
}

async function runOnce(scenario: Scenario, options: SimulationOptions): Promise<Outcome> {
  const sim = new Simulation(options);
  try {
    await scenario(sim);
    if (sim.state === 'ready') await sim.run();
    return { sim, error: undefined, failed: false };
  } catch (error) {
    if (
      error instanceof SimulationError &&
      (error.reason === 'schedule' || error.reason === 'nondeterministic' || error.reason === 'concurrent')
    ) {
      throw error;
    }
    return { sim, error, failed: true };
  }
}

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

/** Runs the same schedule twice and fails when the two runs differ. */
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

function failureOf(outcome: Outcome): ExploreResult['failure'] {
  return {
    error: outcome.error,
    schedule: outcome.sim.schedule,
    trace: outcome.sim.trace,
    steps: outcome.sim.history,
  };
}

/**
 * Runs `scenario` under many schedules and returns the first failure (a task error, a failed check after
 * `sim.run()`, a {@link DeadlockError}) with its replayable schedule. The scenario gets a fresh {@link Simulation}
 * each run; if it does not call `sim.run()` itself, `explore` does.
 *
 * The first schedule (and a failing one) is run twice: a scenario that behaves differently under the same schedule
 * is reported with a {@link SimulationError}, not with a failure that cannot be replayed.
 *
 * @param scenario - builds the world afresh each run: create primitives and state inside it.
 * @param options - see {@link ExploreOptions}.
 * @returns how many runs, whether `dfs` covered every schedule, and the first failure if any.
 * @throws TypeError / RangeError for bad options; {@link SimulationError} when the scenario is not deterministic.
 *
 * @example
 * ```ts
 * const result = await explore(async (sim) => {
 *   let count = 0;
 *   const add = async () => {
 *     const read = count;
 *     await sim.yield();
 *     count = read + 1;
 *   };
 *   sim.spawn('a', add);
 *   sim.spawn('b', add);
 *   await sim.run();
 *   if (count !== 2) throw new Error(`lost update: count = ${count}`);
 * });
 * console.log(result.failure?.schedule !== undefined); // true
 * ```
 */
export async function explore(scenario: Scenario, options: ExploreOptions = {}): Promise<ExploreResult> {
  checkFunction(scenario, 'scenario');
  if (typeof options !== 'object' || options === null) throw new TypeError('options must be an object');
  const { strategy = 'dfs', seed = 0, maxDelays = Infinity, onRun } = options;
  if (strategy !== 'dfs' && strategy !== 'random' && strategy !== 'pct') {
    throw new TypeError(`options.strategy must be 'dfs', 'random' or 'pct', got ${String(strategy)}`);
  }
  const runs = options.runs ?? (strategy === 'dfs' ? 1000 : 100);
  checkInteger(runs, 'options.runs', 1);
  checkInteger(seed, 'options.seed', Number.MIN_SAFE_INTEGER);
  if (maxDelays !== Infinity) checkInteger(maxDelays, 'options.maxDelays', 0);
  if (onRun !== undefined) checkFunction(onRun, 'options.onRun');
  if (activeExplore.owner !== undefined || currentHook() !== undefined) {
    throw new SimulationError(
      'concurrent',
      'another explore() (or Simulation) is running in this process: run explorations one at a time (run these ' +
        'tests serially: node:test `{ concurrency: 1 }`, vitest without `.concurrent`)',
      'cs1:',
    );
  }
  const token = {};
  activeExplore.owner = token;
  try {
    return await search(scenario, options, token);
  } finally {
    activeExplore.owner = undefined;
  }
}

async function search(scenario: Scenario, options: ExploreOptions, token: object): Promise<ExploreResult> {
  const { strategy = 'dfs', seed = 0, depth = 3, clock, maxSteps, maxDelays = Infinity, onRun } = options;
  const runs = options.runs ?? (strategy === 'dfs' ? 1000 : 100);
  const base = {
    [explorerKey]: token,
    depth,
    ...(clock && { clock }),
    ...(maxSteps !== undefined && { maxSteps }),
  } as SimulationOptions;

  let prefix: number[] = [];
  let steps = 32;
  let pruned = false;
  for (let run = 0; run < runs; run++) {
    const own: SimulationOptions =
      strategy === 'dfs'
        ? { ...base, schedule: encodeSchedule(prefix) }
        : { ...base, strategy, seed: seedFor(seed, run), steps };
    const outcome = await runOnce(scenario, own);
    if (run === 0 || outcome.failed) await checkDeterministic(scenario, base, outcome);
    onRun?.(run + 1, outcome.failed);
    if (outcome.failed) return { runs: run + 1, exhausted: false, failure: failureOf(outcome) };
    steps = Math.max(steps, outcome.sim.choicePoints.length);
    if (strategy !== 'dfs') continue;
    const next = nextPrefix(decodeSchedule(outcome.sim.schedule), outcome.sim.choicePoints, maxDelays);
    pruned ||= next.pruned;
    if (next.prefix === undefined) return { runs: run + 1, exhausted: !pruned };
    prefix = next.prefix;
  }
  return { runs, exhausted: false };
}

/**
 * The next schedule of the depth-first search: at the deepest choice point that has an untried candidate (within
 * the delay bound), take the next candidate; earlier choices stay, later ones start again from FIFO.
 */
function nextPrefix(
  picks: readonly number[],
  counts: readonly number[],
  maxDelays: number,
): { prefix: number[] | undefined; pruned: boolean } {
  let pruned = false;
  let delays = picks.reduce((sum, pick) => sum + pick, 0);
  for (let i = picks.length - 1; i >= 0; i--) {
    const pick = picks[i]!;
    delays -= pick;
    if (pick + 1 < counts[i]!) {
      if (delays + pick + 1 <= maxDelays) return { prefix: [...picks.slice(0, i), pick + 1], pruned };
      pruned = true;
    }
  }
  return { prefix: undefined, pruned };
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
