/**
 * Schedules and the strategies that make them: how the harness picks, at each choice point, which enabled event
 * runs next, and how the picks are written down so that a run can be replayed.
 *
 * Only choice points with more than one enabled event are recorded: a step with one candidate has nothing to choose.
 *
 * @module
 */

import { checkInteger, describe } from '../core/options.js';
import { SimulationError } from './errors.js';
import type { Footprint } from './footprint.js';
import type { Candidate, SimulationOptions, Strategy, StrategyName } from './types.js';

const prefix = 'cs1:';

/** Writes the picks down as an opaque, pasteable string: runs of equal picks are counted (`cs1:0*4.1.0*2`). */
export function encodeSchedule(picks: readonly number[]): string {
  const tokens: string[] = [];
  for (let i = 0; i < picks.length;) {
    let j = i + 1;
    while (j < picks.length && picks[j] === picks[i]) j++;
    tokens.push(j - i > 1 ? `${picks[i]}*${j - i}` : `${picks[i]}`);
    i = j;
  }
  return prefix + tokens.join('.');
}

/**
 * Reads a string written by {@link encodeSchedule}.
 *
 * @throws TypeError naming `schedule` when it is not one.
 */
export function decodeSchedule(schedule: string): number[] {
  if (typeof schedule !== 'string' || !schedule.startsWith(prefix)) {
    throw new TypeError(
      `schedule must be a string printed by coop-sync/testing (starting with "${prefix}"), got ${
        typeof schedule === 'string' ? JSON.stringify(schedule.slice(0, 40)) : typeof schedule
      }`,
    );
  }
  const body = schedule.slice(prefix.length);
  const picks: number[] = [];
  if (body === '') return picks;
  for (const token of body.split('.')) {
    const match = /^(\d{1,9})(?:\*(\d{1,9}))?$/.exec(token);
    if (match === null) throw new TypeError(`schedule has a malformed entry ${JSON.stringify(token)}`);
    const pick = Number(match[1]);
    const count = match[2] === undefined ? 1 : Number(match[2]);
    for (let k = 0; k < count; k++) picks.push(pick);
  }
  return picks;
}

/** A small, fast, seeded generator (mulberry32): the same seed gives the same sequence on every runtime. */
export function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Mixes a base seed and a run number into a seed for that run. */
export function seedFor(seed: number, run: number): number {
  return Math.imul((seed ^ Math.imul(run + 1, 0x9e3779b1)) >>> 0, 0x85ebca6b) >>> 0;
}

/** Picks among enabled events. `step` counts the recorded choice points made so far. */
export type Chooser = Strategy;

/**
 * What `explore`'s systematic search needs from a run besides its choices: whether an enabled event is asleep (its
 * order against what ran since was covered by another run), and what each step touched.
 */
export interface Reducer {
  asleep(candidate: Candidate): boolean;
  stepped(candidate: Candidate, footprint: Footprint, chosen: boolean): void;
}

/** What production does: the event that became enabled first. */
const fifo: Chooser = { choose: () => 0 };

class RandomChooser implements Chooser {
  constructor(private readonly random: () => number) {}

  choose(candidates: readonly Candidate[]): number {
    return Math.floor(this.random() * candidates.length);
  }
}

/**
 * Probabilistic concurrency testing (Burckhardt et al., ASPLOS 2010): every task gets a random priority, the
 * highest-priority enabled task runs, and at `depth - 1` random choice points the running task drops below all
 * others. A bug that needs `d` ordering constraints is found with probability at least 1/(n k^(d-1)) per run.
 */
class PctChooser implements Chooser {
  private readonly priorities = new Map<string, number>();
  private readonly changePoints = new Map<number, number>();

  constructor(
    private readonly random: () => number,
    private readonly depth: number,
    steps: number,
  ) {
    for (let i = 1; i < depth; i++) {
      let point = Math.floor(random() * Math.max(1, steps));
      while (this.changePoints.has(point)) point++;
      this.changePoints.set(point, depth - i);
    }
  }

  private priority(candidate: Candidate): number {
    const key = candidate.task ?? '';
    let priority = this.priorities.get(key);
    if (priority === undefined) {
      priority = this.depth + this.random();
      this.priorities.set(key, priority);
    }
    return priority;
  }

  private highest(candidates: readonly Candidate[]): number {
    let best = 0;
    for (let i = 1; i < candidates.length; i++) {
      if (this.priority(candidates[i]!) > this.priority(candidates[best]!)) best = i;
    }
    return best;
  }

  choose(candidates: readonly Candidate[], step: number): number {
    const lowered = this.changePoints.get(step);
    if (lowered !== undefined) this.priorities.set(candidates[this.highest(candidates)]!.task ?? '', lowered);
    return this.highest(candidates);
  }
}

/** Builds the chooser for a built-in strategy. */
export function chooserFor(strategy: StrategyName, seed: number, depth: number, steps: number): Chooser {
  switch (strategy) {
    case 'fifo':
      return fifo;
    case 'random':
      return new RandomChooser(seededRandom(seed));
    case 'pct':
      return new PctChooser(seededRandom(seed), depth, steps);
  }
}

/**
 * Replays `picks` strictly (a pick that does not fit is a {@link SimulationError}), then leaves the rest to `then`.
 */
export class ReplayChooser implements Chooser {
  constructor(
    private readonly picks: readonly number[],
    private readonly then: Chooser,
    private readonly schedule: () => string,
  ) {}

  get length(): number {
    return this.picks.length;
  }

  choose(candidates: readonly Candidate[], step: number): number {
    if (step >= this.picks.length) return this.then.choose(candidates, step);
    const pick = this.picks[step]!;
    if (pick >= candidates.length) {
      throw new SimulationError(
        'schedule',
        `The schedule does not fit this scenario: choice ${step + 1} picks event ${pick + 1} of ${candidates.length}. ` +
          'Replay a schedule against the scenario that printed it; if that is what you did, the scenario is not ' +
          'deterministic (real I/O, Math.random, a timer that is not virtual)',
        this.schedule(),
      );
    }
    return pick;
  }
}

/**
 * Follows `choices` leniently (each taken modulo the number of candidates), then FIFO: the shape fast-check
 * needs, whose shrinking of the array towards fewer and smaller numbers shrinks the schedule towards FIFO.
 */
export class ChoicesChooser implements Chooser {
  constructor(private readonly choices: readonly number[]) {}

  choose(candidates: readonly Candidate[], step: number): number {
    if (step >= this.choices.length) return 0;
    return this.choices[step]! % candidates.length;
  }
}

/** Throws a TypeError naming `options.choices` unless it is an array of non-negative safe integers. */
function checkChoices(choices: unknown): asserts choices is readonly number[] {
  if (!Array.isArray(choices)) {
    throw new TypeError(
      `options.choices must be an array of non-negative integers, got ${describe(choices)}`,
    );
  }
  choices.forEach((choice: unknown, i) => {
    if (typeof choice !== 'number' || !Number.isSafeInteger(choice) || choice < 0) {
      throw new TypeError(
        `options.choices[${i}] must be a non-negative safe integer, got ${describe(choice)}`,
      );
    }
  });
}

/**
 * The strategy a simulation's options ask for (validated): the built-in one or the user's, behind `choices` when
 * given, behind a strict replay of `schedule` when given.
 *
 * @throws TypeError / RangeError naming the option that is not valid.
 */
export function strategyFor(options: SimulationOptions, schedule: () => string): Strategy {
  const { seed = 0, strategy = 'fifo', depth = 3, steps = 32 } = options;
  checkInteger(seed, 'options.seed', Number.MIN_SAFE_INTEGER);
  checkInteger(depth, 'options.depth', 1);
  checkInteger(steps, 'options.steps', 1);
  let chooser: Strategy;
  if (typeof strategy === 'object' && strategy !== null && typeof strategy.choose === 'function') {
    chooser = strategy;
  } else if (strategy === 'fifo' || strategy === 'random' || strategy === 'pct') {
    chooser = chooserFor(strategy, seed, depth, steps);
  } else {
    throw new TypeError(
      `options.strategy must be 'fifo', 'random', 'pct' or an object with choose(), got ${describe(strategy)}`,
    );
  }
  if (options.choices !== undefined) {
    checkChoices(options.choices);
    chooser = new ChoicesChooser(options.choices);
  }
  if (options.schedule !== undefined)
    chooser = new ReplayChooser(decodeSchedule(options.schedule), chooser, schedule);
  return chooser;
}
