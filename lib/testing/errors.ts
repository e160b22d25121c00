/**
 * The harness's own errors. They live with the harness (`coop-sync/testing`), so the main bundle never carries them.
 *
 * @module
 */

/** One task that the harness found blocked, and what it waits on (such as `AsyncLock(db)`). */
export interface BlockedTask {
  readonly task: string;
  readonly waitingOn: string;
}

/**
 * The harness found every task blocked and no timer pending: none can ever resume. The message lists each blocked
 * task and what it waits on; `schedule` replays the interleaving that led there.
 *
 * @example
 * ```ts
 * const error = result.failure?.error;
 * if (error instanceof DeadlockError) console.log(error.blocked, error.schedule);
 * ```
 */
export class DeadlockError extends Error {
  // Spelled out: a minifier may rename the class.
  override name = 'DeadlockError';

  /** The replayable schedule that led to the deadlock. */
  readonly schedule: string;
  /** Every blocked task and what it waits on. */
  readonly blocked: readonly BlockedTask[];

  /**
   * @param blocked - every blocked task and what it waits on.
   * @param schedule - the schedule that led there.
   * @param options - the standard `cause`.
   */
  constructor(blocked: readonly BlockedTask[], schedule: string, options?: ErrorOptions) {
    const lines = blocked.map(({ task, waitingOn }) => `  ${task} waits on ${waitingOn}`);
    super(
      `Deadlock: every task is blocked and no timer is pending\n${lines.join('\n')}\nschedule: ${schedule}`,
      options,
    );
    this.blocked = blocked;
    this.schedule = schedule;
  }
}

/**
 * The harness could not run a scenario to its end for a reason of its own: the step budget or the real-time watchdog
 * ran out (a livelock), a schedule does not fit the scenario, the scenario is not deterministic, or another
 * simulation was running. `schedule` replays the run up to the point where it stopped.
 *
 * @example
 * ```ts
 * try {
 *   await sim.run();
 * } catch (error) {
 *   if (error instanceof SimulationError && error.reason === 'steps') console.log('a livelock?', error.schedule);
 * }
 * ```
 */
export class SimulationError extends Error {
  // Spelled out: a minifier may rename the class.
  override name = 'SimulationError';

  /** The replayable schedule of the run that stopped. */
  readonly schedule: string;
  /**
   * Why: `steps` (the step budget ran out), `watchdog` (the real-time limit did), `schedule` (a replayed schedule
   * does not fit the scenario), `nondeterministic` (the same schedule ran twice differently) or `concurrent` (another
   * simulation or `explore` was running in the process: run them one at a time).
   */
  readonly reason: 'steps' | 'watchdog' | 'schedule' | 'nondeterministic' | 'concurrent';

  /**
   * @param reason - see {@link SimulationError.reason}.
   * @param message - what happened.
   * @param schedule - the schedule of the run that stopped.
   * @param options - the standard `cause`.
   */
  constructor(reason: SimulationError['reason'], message: string, schedule: string, options?: ErrorOptions) {
    super(`${message}\nschedule: ${schedule}`, options);
    this.reason = reason;
    this.schedule = schedule;
  }
}

/**
 * Thrown by {@link check} when the scenario fails under some schedule (its message holds the error, the timeline with
 * each task's log lines, and the replay command), or when a randomised search covered only part of the schedules.
 *
 * @example
 * ```ts
 * it('the counter is safe', () => check(counterScenario));
 * ```
 */
export class ExplorationError extends Error {
  // Spelled out: a minifier may rename the class.
  override name = 'ExplorationError';

  /** The failing run's schedule, or `undefined` when the search was only partial. */
  readonly schedule: string | undefined;

  /**
   * @param message - the report.
   * @param schedule - the failing schedule, if any.
   * @param options - the standard `cause` (the scenario's own error).
   */
  constructor(message: string, schedule: string | undefined, options?: ErrorOptions) {
    super(message, options);
    this.schedule = schedule;
  }
}
