/**
 * The story the examples that hunt a race tell (`if-not-while.ts`, `lost-update.ts`, and `npm start`): explore the
 * buggy scenario until the harness finds a failing interleaving, print it as a timeline with the command that
 * replays it, then explore every schedule of the fixed scenario. With `--replay <schedule>`, re-run that one
 * interleaving of the buggy scenario and print its timeline. Not a scenario itself; uses no Node module.
 *
 * @module
 */
import { Simulation, explore, formatTimeline, type Scenario } from 'coop-sync/testing';
import { defaultSeed, type ExampleOptions, type Print } from './run-main.js';

/** One race, told by {@link huntRace}. */
export interface Race {
  /** The example's name, for the replay command (`npm run example -- <name> --replay ...`). */
  readonly example: string;
  /** The scenario with the bug; it throws when the bug shows. */
  readonly buggy: Scenario;
  /** What the buggy version does, as in "Exploring schedules of <buggyLabel>". */
  readonly buggyLabel: string;
  /** The same scenario, fixed. */
  readonly fixed: Scenario;
  /** What the fix is. */
  readonly fixedLabel: string;
  /** Why the failing interleaving fails, in a sentence or two (printed under the timeline). */
  readonly why: readonly string[];
  /** How many schedules at most to try on the buggy version. */
  readonly runs?: number;
}

/** Width of a timeline cell: enough for the examples' log lines. */
const cellWidth = 40;

/** Runs the buggy scenario under `schedule` and prints its timeline and how it ended. */
async function replayRace(print: Print, race: Race, schedule: string): Promise<void> {
  print(`Replaying ${schedule} on ${race.buggyLabel}:`);
  print('');
  const sim = new Simulation({ schedule });
  let outcome = 'the run passed';
  try {
    await race.buggy(sim);
    if (sim.state === 'ready') await sim.run();
  } catch (error) {
    outcome = `the run fails: ${String(error)}`;
  }
  for (const line of formatTimeline(sim.history, { width: cellWidth }).split('\n')) print(line);
  print('');
  print(outcome);
}

/**
 * Tells the story of one race: found, shown, replayable, fixed (see the module comment).
 *
 * @param print - where every line goes.
 * @param options - `seed` of the search for the bug (`pct`), `replay` to re-run one schedule, `progress`.
 * @param race - the scenarios and the words.
 */
export async function huntRace(print: Print, options: ExampleOptions, race: Race): Promise<void> {
  const { seed = defaultSeed, replay, progress } = options;
  if (replay !== undefined) return replayRace(print, race, replay);

  print(`Exploring schedules of ${race.buggyLabel} (strategy pct, seed ${seed})...`);
  const found = await explore(race.buggy, {
    strategy: 'pct',
    seed,
    runs: race.runs ?? 1000,
    onRun: (run) => progress?.update(`  exploring: schedule ${run}`),
  });
  progress?.clear();
  const failure = found.failure;
  if (failure === undefined) {
    print(`No failure in ${found.runs} schedules with seed ${seed}: try another --seed.`);
  } else {
    print(`Schedule ${found.runs} fails: ${String(failure.error)}`);
    print('');
    for (const line of formatTimeline(failure.steps, { width: cellWidth }).split('\n')) print(line);
    print('');
    for (const line of race.why) print(line);
    print('');
    print('Replay exactly this interleaving:');
    print(`  npm run example -- ${race.example} --replay '${failure.schedule}'`);
  }

  print('');
  print(`Exploring every schedule of ${race.fixedLabel} (strategy dfs)...`);
  const proof = await explore(race.fixed, {
    strategy: 'dfs',
    runs: 100_000,
    onRun: (run) => progress?.update(`  exploring: schedule ${run}`),
  });
  progress?.clear();
  if (proof.failure !== undefined) {
    throw new Error(`the fixed version failed on schedule ${proof.failure.schedule}`, {
      cause: proof.failure.error,
    });
  }
  print(`${proof.runs} schedules, every one passes (exhausted: ${proof.exhausted}).`);
}
