/**
 * One run of a scenario, and the shrinking of a failing run to the fewest departures from FIFO order that still fail:
 * the simplest interleaving that shows the bug.
 *
 * @module
 */

import { DepthFirst } from './dfs.js';
import { SimulationError } from './errors.js';
import { decodeSchedule } from './schedule.js';
import { Simulation, RedundantRun, reducerKey } from './simulation.js';
import type { Scenario, SimulationOptions } from './types.js';

/** What one run gave. */
export interface Outcome {
  readonly sim: Simulation;
  readonly error: unknown;
  readonly failed: boolean;
  /** The reduction stopped it: an equivalent run was covered already. Neither a pass nor a failure. */
  readonly redundant: boolean;
}

/** Runs the scenario once on a fresh simulation (running it if the scenario does not). */
export async function runOnce(scenario: Scenario, options: SimulationOptions): Promise<Outcome> {
  const sim = new Simulation(options);
  try {
    await scenario(sim);
    if (sim.state === 'ready') await sim.run();
    if (sim.redundant) return { sim, error: undefined, failed: false, redundant: true };
    return { sim, error: undefined, failed: false, redundant: false };
  } catch (error) {
    // A redundant run may fail in the scenario's checks after `run()`: its half-run world proves nothing.
    if (sim.redundant || error instanceof RedundantRun) {
      return { sim, error: undefined, failed: false, redundant: true };
    }
    if (
      error instanceof SimulationError &&
      (error.reason === 'schedule' || error.reason === 'nondeterministic' || error.reason === 'concurrent')
    ) {
      throw error;
    }
    return { sim, error, failed: true, redundant: false };
  }
}

/** The error's kind: a shrunk run must fail the same way (a deadlock stays a deadlock). */
function kindOf(error: unknown): string {
  return error instanceof Error ? error.name : typeof error;
}

/**
 * Shrinks a failing run: first greedily (each departure from FIFO order dropped or made smaller, the run kept when it
 * still fails the same way with fewer departures), then by search: every schedule with fewer departures than the best
 * so far, depth first and without reduction (which may keep only a representative with more departures), until one
 * fails (the new best) or none does (the best is minimal), while the budget of runs lasts.
 */
export async function minimize(
  scenario: Scenario,
  base: SimulationOptions,
  failing: Outcome,
  budget: number,
): Promise<Outcome> {
  let best = failing;
  let left = Math.max(500, Math.min(budget, 5000));
  const kind = kindOf(failing.error);
  const stillFails = (outcome: Outcome): boolean =>
    outcome.failed && kindOf(outcome.error) === kind && outcome.sim.preemptions < best.sim.preemptions;

  // Greedy: each choice back at FIFO, or one step closer (later choices kept, modulo their new candidate counts).
  let improved = true;
  while (improved && left > 0 && best.sim.preemptions > 0) {
    improved = false;
    const picks = decodeSchedule(best.sim.schedule);
    search: for (let i = picks.length - 1; i >= 0; i--) {
      const pick = picks[i]!;
      for (const smaller of pick > 1 ? [0, pick - 1] : pick === 1 ? [0] : []) {
        if (left-- <= 0) break search;
        const choices = [...picks];
        choices[i] = smaller;
        const outcome = await runOnce(scenario, { ...base, choices });
        if (stillFails(outcome)) {
          best = outcome;
          improved = true;
          break search;
        }
      }
    }
  }

  // Search below the best: a failure found is the new best; a search that ends without one proves it minimal.
  while (best.sim.preemptions > 0 && left > 0) {
    const dfs = new DepthFirst(false, best.sim.preemptions - 1);
    let found: Outcome | undefined;
    for (;;) {
      if (left-- <= 0) return best;
      dfs.begin();
      const outcome = await runOnce(scenario, {
        ...base,
        strategy: dfs,
        [reducerKey]: dfs,
      } as SimulationOptions);
      if (stillFails(outcome)) {
        found = outcome;
        break;
      }
      if (!dfs.advance()) break;
    }
    if (found === undefined) return best;
    best = found;
  }
  return best;
}
