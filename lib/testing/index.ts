/**
 * `coop-sync/testing`: the deterministic test harness. The scheduler it drives is the hook in `lib/core` that every
 * primitive already routes its wake-ups and timers through.
 *
 * @module
 */
export { DeadlockError, SimulationError, type BlockedTask } from '../errors.js';
export { Simulation, type SimulationOptions, type SinonLikeClock, type Step } from './simulation.js';
export { explore, replay, type ExploreOptions, type ExploreResult, type Scenario } from './explore.js';
export { formatTimeline, type TimelineOptions } from './timeline.js';
export type { StrategyName } from './schedule.js';
