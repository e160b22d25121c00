/**
 * `coop-sync/testing`: the deterministic test harness. The scheduler it drives is the hook in `lib/core` that every
 * primitive already routes its wake-ups and timers through. The types are in `types.ts`, apart from the code.
 *
 * @module coop-sync/testing
 */
export { DeadlockError, SimulationError, ExplorationError, type BlockedTask } from './errors.js';
export { Simulation } from './simulation.js';
export { explore, replay } from './explore.js';
export { check } from './check.js';
export { formatTimeline } from './timeline.js';
export type {
  Access,
  Candidate,
  CheckOptions,
  Declaration,
  ExploreFailure,
  ExploreOptions,
  ExploreResult,
  ExploreStrategy,
  Scenario,
  SimulationOptions,
  SinonLikeClock,
  Step,
  Strategy,
  StrategyName,
  TimelineOptions,
  Touch,
} from './types.js';
