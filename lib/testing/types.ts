/**
 * The public interface of `coop-sync/testing`: every type a user of the harness writes down, documented in one place,
 * apart from the code that implements them.
 *
 * @module
 */

import type { Simulation } from './simulation.js';

/**
 * The part of a `sinon.useFakeTimers()` / `@sinonjs/fake-timers` clock the harness uses. Pass the clock so that
 * virtual time is the clock's time, the clock's own timers fire as virtual time passes, and its faked microtasks
 * (`queueMicrotask`, `process.nextTick`) run between steps.
 */
export interface SinonLikeClock {
  readonly now: number;
  tick(ms: number): unknown;
  countTimers(): number;
  runMicrotasks(): void;
}

/** The strategies a {@link Simulation} has built in. */
export type StrategyName = 'fifo' | 'random' | 'pct';

/** An enabled event as a strategy sees it. */
export interface Candidate {
  /** The task it would resume; `undefined` for a timer started outside every task. */
  readonly task: string | undefined;
  /** What it is: `start`, `resume`, `yield`, `sleep` or `timer`. */
  readonly kind: Step['kind'];
  /** Names the event among the enabled ones, the same way in every run that reaches it (`b yield yield`). */
  readonly key: string;
}

/**
 * A strategy of your own: given the enabled events, in the order `fifo` would take them, pick the index of the one to
 * run. Called only at choice points (two or more candidates). Pass it as {@link SimulationOptions.strategy}.
 */
export interface Strategy {
  /**
   * @param candidates - the enabled events, FIFO order first.
   * @param step - how many choice points came before this one in the run.
   * @returns an index into `candidates`.
   */
  choose(candidates: readonly Candidate[], step: number): number;
}

/**
 * Shared state a step may touch, as the harness's reduction sees it: a name of your own (`'count'`, `'cache:user1'`)
 * or a coop-sync primitive (named by its label, so give primitives a `name`). Other objects all count as one.
 */
export type Touch = string | object;

/** What a step reads and what it writes; two steps commute when neither writes what the other touches. */
export interface Access {
  readonly reads?: readonly Touch[];
  readonly writes?: readonly Touch[];
}

/**
 * Declares what the code of one step touches, for the reduction of `explore`: a {@link Touch} or a list of them (read
 * and written), or an {@link Access} that tells reads from writes. `[]` declares a step that touches no shared state.
 * A step that declares nothing is taken to touch everything, so leaving it out is always sound; a declaration that
 * leaves out what the step touches can make `explore` skip a schedule that matters.
 *
 * The harness adds what it sees itself: the primitive a step parks on, the one whose queue wakes a task, the one that
 * woke it; and where the runtime has async context (Node), a step in which another task's code runs counts as
 * touching everything. What it cannot see is a call that succeeds at once (a free lock taken, a release with nobody
 * waiting): name those primitives in the declaration.
 */
export type Declaration = Touch | readonly Touch[] | Access;

/** Options of a {@link Simulation}. */
export interface SimulationOptions {
  /** Seed of the `random` and `pct` strategies. Default `0`. */
  readonly seed?: number;
  /**
   * How to choose among enabled events: `fifo` (production's order, the default), `random`, `pct`, or a
   * {@link Strategy} of your own.
   */
  readonly strategy?: StrategyName | Strategy;
  /** `pct`'s bug depth: how many ordering constraints a bug may need. Default `3`. */
  readonly depth?: number;
  /** A sinon fake clock, when the scenario runs under `sinon.useFakeTimers()`. */
  readonly clock?: SinonLikeClock;
  /** Steps one run may take before it fails as a livelock. Default `100000`. */
  readonly maxSteps?: number;
  /** Real milliseconds one run may take before it fails (checked between steps). Default `30000`. */
  readonly watchdog?: number;
  /** A schedule printed by an earlier run: its choices are made again, strictly; then `strategy` goes on. */
  readonly schedule?: string;
  /**
   * Picks for the choice points, each a non-negative integer taken modulo the number of candidates, then FIFO: lets
   * a property-testing library drive the choices (`fc.array(fc.nat())`), so that its shrinking minimises a failing
   * schedule.
   */
  readonly choices?: readonly number[];
  /** How many choice points `pct` should expect, to place its priority changes (`explore` learns it). */
  readonly steps?: number;
}

/** One step of a run: which task resumed, why, and at what virtual time. */
export interface Step {
  /** 1-based step number. */
  readonly index: number;
  /** Virtual time of the step: ms since the simulation was created (so a run under a fake clock that has already
   *  moved gives the same steps as a fresh one). */
  readonly time: number;
  /** The task that resumed; `undefined` for a timer started outside every task. */
  readonly task: string | undefined;
  /** What happened: `start`, `resume` (woken by a primitive), `yield`, `sleep` or `timer`. */
  readonly kind: 'start' | 'resume' | 'yield' | 'sleep' | 'timer';
  /** Why, such as `granted AsyncLock(db)` or `TimeoutError from AsyncQueue(jobs)`. */
  readonly detail: string;
  /** Lines the task logged with {@link Simulation.log} during the step. */
  readonly logs: readonly string[];
}

/** A scenario: spawns tasks on the simulation it is given, and may `await sim.run()` and check the outcome. */
export type Scenario = (sim: Simulation) => Promise<void>;

/** The strategies of {@link explore}. */
export type ExploreStrategy = 'auto' | 'dfs' | 'random' | 'pct';

/** Options of {@link explore}. */
export interface ExploreOptions {
  /**
   * `auto` (the default) proves where it can and searches where it cannot: systematic search with reduction first,
   * then randomised runs (`random`, `pct` at depths 2 to 4) alternating with it, within `runs`. `dfs` tries every
   * schedule, depth first, and says when it has covered them all; `random` and `pct` try `runs` seeded schedules.
   */
  readonly strategy?: ExploreStrategy;
  /** How many schedules at most. Default 2000 for `auto` (1000 of them systematic), 1000 for `dfs`, 100 otherwise. */
  readonly runs?: number;
  /** Base seed of `random` and `pct` (and of `auto`'s randomised runs); each run's seed derives from it. Default 0. */
  readonly seed?: number;
  /** `dfs` only: try only schedules that depart from FIFO order at most this many times (delay bounding). */
  readonly maxDelays?: number;
  /** `pct`'s bug depth. Default `3`. */
  readonly depth?: number;
  /**
   * Partial-order reduction of the systematic search (sleep sets over what each step touches, see
   * {@link Declaration}): one order of each pair of steps that commute. Default `true`; `false` tries every order.
   */
  readonly reduction?: boolean;
  /** Shrink a failure to the fewest departures from FIFO order that still fail. Default `true`. */
  readonly minimize?: boolean;
  /** A sinon fake clock, when the scenario runs under `sinon.useFakeTimers()`. */
  readonly clock?: SinonLikeClock;
  /** Steps one run may take. Default `100000`. */
  readonly maxSteps?: number;
  /** Called after each run, for progress output. */
  readonly onRun?: (run: number, failed: boolean) => void;
}

/** A failing run found by {@link explore}. */
export interface ExploreFailure {
  /** What the run threw: a task's error, a failed check after `sim.run()`, a `DeadlockError`. */
  readonly error: unknown;
  /** Replays this run, byte for byte: `replay(scenario, schedule)`. */
  readonly schedule: string;
  /** One line a step, as {@link Simulation.trace}. */
  readonly trace: readonly string[];
  /** The steps, for {@link formatTimeline}. */
  readonly steps: readonly Step[];
  /**
   * How many times the run departs from FIFO order (an event passed over counts once): after minimising, the fewest
   * with which the scenario fails.
   */
  readonly preemptions: number;
}

/** What {@link explore} found. */
export interface ExploreResult {
  /**
   * How many schedules ran, counting those the reduction stopped early as redundant (not counting the re-runs that
   * check determinism, or those that minimise a failure).
   */
  readonly runs: number;
  /** True when every schedule was covered (up to the reduction's equivalence): a proof for this scenario. */
  readonly exhausted: boolean;
  /** The first failing run (minimised), if any. */
  readonly failure?: ExploreFailure;
  /**
   * Set when a randomised search ended without a failure and without covering every schedule: how much it covered,
   * and what to try.
   */
  readonly warning?: string;
}

/** Options of {@link formatTimeline}. */
export interface TimelineOptions {
  /** Widest a task's column may be; longer cells are cut with `…`. Default `32`. */
  readonly width?: number;
}

/** Options of {@link check}: those of {@link explore}, and what to accept. */
export interface CheckOptions extends ExploreOptions {
  /** Pass when a randomised search found nothing without covering every schedule (else that fails). Default false. */
  readonly partial?: boolean;
  /** Names the scenario in the failure's replay command. Default `scenario`. */
  readonly name?: string;
}
