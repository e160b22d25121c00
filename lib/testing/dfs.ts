/**
 * The systematic search: depth first over the choice points, stateless (each schedule is a fresh run that replays a
 * prefix of picks), with sleep sets (Godefroid, 1996) as its partial-order reduction.
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
  }

  asleep(candidate: Candidate): boolean {
    return this.reduction && this.sleep.has(candidate.key);
  }

  choose(candidates: readonly Candidate[], step: number): number {
    let node = this.tree[step];
    if (node === undefined) {
      node = {
        keys: candidates.map((candidate) => candidate.key),
        sleep: this.sleep,
        done: new Map(),
        pick: candidates.findIndex((candidate) => !this.asleep(candidate)),
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
    if (chosen && this.pending !== undefined) {
      const node = this.pending;
      this.pending = undefined;
      node.footprint = footprint;
      base = [...node.sleep, ...node.done];
    }
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
    for (let depth = this.tree.length - 1; depth >= 0; depth--) {
      const node = this.tree[depth]!;
      node.done.set(node.keys[node.pick]!, node.footprint ?? everything());
      let delays = 0;
      for (let i = 0; i < depth; i++) delays += this.tree[i]!.pick;
      for (let next = 0; next < node.keys.length; next++) {
        const key = node.keys[next]!;
        if (node.done.has(key) || (this.reduction && node.sleep.has(key))) continue;
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
}
