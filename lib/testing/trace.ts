/**
 * The record of a run: one {@link Step} a step, its trace line, and the lines each task logged during it.
 *
 * @module
 */

import type { Step } from './types.js';

/** Records the steps of one run. */
export class Trace {
  readonly steps: Step[] = [];
  readonly lines: string[] = [];
  /** Where `log` writes: the current step's lines (before the first step, kept for it). */
  private logs: string[] | undefined = undefined;

  /** Records a step and makes it the one that log lines go to. */
  record(time: number, task: string | undefined, kind: Step['kind'], detail: string): Step {
    // Lines logged before the first step are kept with it; later ones belong to the step whose code logged them.
    const logs = this.steps.length === 0 && this.logs !== undefined ? this.logs : [];
    const step: Step = { index: this.steps.length + 1, time, task, kind, detail, logs };
    this.steps.push(step);
    this.lines.push(
      `#${step.index} ${time}ms ${task ?? '(clock)'}: ${kind}${kind === detail ? '' : `, ${detail}`}`,
    );
    this.logs = logs;
    return step;
  }

  /** Adds a line to the current step. */
  log(message: string): void {
    (this.logs ??= []).push(message);
  }

  /** The run is over: what runs from here on is not part of any step, and its lines are kept nowhere. */
  close(): void {
    this.logs = [];
  }
}
