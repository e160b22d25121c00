/**
 * The systematic search: depth first over the choice points, stateless (each schedule is a fresh run that replays a
 * prefix of picks), with dynamic partial-order reduction (Flanagan and Godefroid, POPL 2005) and sleep sets
 * (Godefroid, 1996).
 *
 * DPOR: a choice point starts with one candidate to explore, its backtrack set. After each run, every race of the run
 * (two steps of different tasks that touch something in common, the first not ordered before the second by the
 * steps between them) adds the second task's event to the backtrack set of the choice point before the first (or
 * every candidate there, when that task had none), so that the other order gets run too. Orders of steps that do not
 * race are never tried.
 *
 * Sleep sets: once the subtree under event `t` at a choice point is explored, `t` is put to sleep for the siblings
 * explored after it, and stays asleep along a run for as long as the steps taken are independent of it (touch
 * nothing it writes, write nothing it touches): every run in which it would come next is equivalent to one already
 * covered. A run whose enabled events are all asleep is redundant and stops at once. Every Mazurkiewicz trace (every
 * class of runs equal up to swapping adjacent independent steps) is still run at least once, so the verdicts are
 * those of the full search, in fewer schedules.
 *
 * @module
 */

import { SimulationError } from './errors.js';
import { everything, independent, type Footprint } from './footprint.js';
import { encodeSchedule, type Reducer } from './schedule.js';
import type { Candidate, Strategy } from './types.js';

interface Node {
  /** The candidates' keys, in FIFO order. */
  readonly keys: readonly string[];
  /** The task of each candidate (its key for the clock's timers). */
  readonly procs: readonly string[];
  /** The candidates to explore here (DPOR); every candidate without the reduction. */
  readonly backtrack: Set<string>;
  /** The sleep set when the search arrived here. */
  readonly sleep: ReadonlyMap<string, Footprint>;
  /** The siblings whose subtrees are explored, with what their step touched. */
  readonly done: Map<string, Footprint>;
  /** The candidate taken in the run going on. */
  pick: number;
  /** What the taken candidate's step touched. */
  footprint: Footprint | undefined;
}

/** Depth-first search over the schedules of one scenario, as a strategy driven run after run. */
export class DepthFirst implements Strategy, Reducer {
  private readonly tree: Node[] = [];
  private sleep = new Map<string, Footprint>();
  /** The node whose step runs now, until its footprint is known. */
  private pending: Node | undefined = undefined;
  /** The steps of the run going on: their task, what they touched, their choice point if they had one. */
  private steps: { proc: string; footprint: Footprint; node: Node | undefined }[] = [];
  /** Whether some schedule was left out by the delay bound. */
  pruned = false;

  /**
   * @param reduction - use sleep sets (else every order of every step is tried).
   * @param maxDelays - try only schedules whose picks sum to at most this (delay bounding).
   */
  constructor(
    private readonly reduction: boolean,
    private readonly maxDelays: number,
  ) {}

  /** The picks of the run about to start, for its schedule string. */
  get prefix(): string {
    return encodeSchedule(this.tree.map((node) => node.pick));
  }

  /** Starts a run. */
  begin(): void {
    this.sleep = new Map();
    this.pending = undefined;
    this.steps = [];
  }

  asleep(candidate: Candidate): boolean {
    return this.reduction && this.sleep.has(candidate.key);
  }

  choose(candidates: readonly Candidate[], step: number): number {
    let node = this.tree[step];
    if (node === undefined) {
      const keys = candidates.map((candidate) => candidate.key);
      const pick = candidates.findIndex((candidate) => !this.asleep(candidate));
      node = {
        keys,
        procs: candidates.map(procOf),
        backtrack: new Set(this.reduction ? [keys[pick]!] : keys),
        sleep: this.sleep,
        done: new Map(),
        pick,
        footprint: undefined,
      };
      this.tree.push(node);
    } else if (
      node.keys.length !== candidates.length ||
      node.keys.some((key, i) => key !== candidates[i]!.key)
    ) {
      throw new SimulationError(
        'nondeterministic',
        `The scenario is not deterministic: choice ${step + 1} offers [${candidates
          .map((candidate) => candidate.key)
          .join(
            ', ',
          )}], an earlier run offered [${node.keys.join(', ')}] after the same choices (real I/O, ` +
          'Math.random, Date, a timer that is not virtual, or state shared between runs)',
        this.prefix,
      );
    }
    this.pending = node;
    return node.pick;
  }

  stepped(candidate: Candidate, footprint: Footprint, chosen: boolean): void {
    if (!this.reduction) return;
    let base: Iterable<[string, Footprint]> = this.sleep;
    let node: Node | undefined;
    if (chosen && this.pending !== undefined) {
      node = this.pending;
      this.pending = undefined;
      node.footprint = footprint;
      base = [...node.sleep, ...node.done];
    }
    this.steps.push({ proc: procOf(candidate), footprint, node });
    const next = new Map<string, Footprint>();
    for (const [key, asleep] of base) {
      if (key !== candidate.key && independent(asleep, footprint)) next.set(key, asleep);
    }
    this.sleep = next;
  }

  /**
   * The run is over: moves to the next schedule. At the deepest choice point with a candidate not yet explored, not
   * asleep and within the delay bound, takes it; earlier choices stay, later ones start afresh.
   *
   * @returns false when every schedule has been covered.
   */
  advance(): boolean {
    if (this.reduction) this.addRaces();
    for (let depth = this.tree.length - 1; depth >= 0; depth--) {
      const node = this.tree[depth]!;
      node.done.set(node.keys[node.pick]!, node.footprint ?? everything());
      let delays = 0;
      for (let i = 0; i < depth; i++) delays += this.tree[i]!.pick;
      for (let next = 0; next < node.keys.length; next++) {
        const key = node.keys[next]!;
        if (!node.backtrack.has(key) || node.done.has(key) || (this.reduction && node.sleep.has(key)))
          continue;
        if (delays + next > this.maxDelays) {
          this.pruned = true;
          break;
        }
        node.pick = next;
        node.footprint = undefined;
        this.tree.length = depth + 1;
        return true;
      }
    }
    this.tree.length = 0;
    return false;
  }

  /**
   * DPOR's step: for each step j of the run, the last earlier step k of another task that touched something in common
   * with it and is not ordered before j's task by what ran between them races with j: at k's choice point, j's task
   * must also be tried first (or every candidate, when it had none there).
   */
  private addRaces(): void {
    const steps = this.steps;
    /** For each step, its vector clock: for each task, the last of its steps that happens before (or is) this one. */
    const clocks: Map<string, number>[] = [];
    const lastOf = new Map<string, number>();
    for (let j = 0; j < steps.length; j++) {
      const { proc, footprint } = steps[j]!;
      const previous = lastOf.get(proc);
      const before = previous === undefined ? new Map<string, number>() : clocks[previous]!;
      let race: number | undefined;
      const clock = new Map(before);
      for (let k = j - 1; k >= 0; k--) {
        const other = steps[k]!;
        if (independent(other.footprint, footprint)) continue;
        if (race === undefined && other.proc !== proc && (before.get(other.proc) ?? -1) < k) race = k;
        for (const [task, index] of clocks[k]!) if ((clock.get(task) ?? -1) < index) clock.set(task, index);
      }
      clock.set(proc, j);
      clocks.push(clock);
      lastOf.set(proc, j);
      const node = race === undefined ? undefined : steps[race]!.node;
      if (node === undefined) continue;
      const at = node.procs.indexOf(proc);
      if (at >= 0) node.backtrack.add(node.keys[at]!);
      else for (const key of node.keys) node.backtrack.add(key);
    }
  }
}

/** The task an event belongs to, for DPOR; a timer outside every task is its own. */
function procOf(candidate: Candidate): string {
  return candidate.task === undefined ? `(clock) ${candidate.key}` : `task ${candidate.task}`;
}
