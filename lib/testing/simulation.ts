/**
 * The simulation: named tasks whose every wake-up, start, explicit yield and timer firing is a step the harness
 * chooses, in virtual time. This file is its public face and its loop; the engine (events, choices, the hook) is in
 * `engine.ts`, virtual time in `clock.ts`, the record in `trace.ts`, the strategies in `schedule.ts`, and what a step
 * touched (for the reduction) in `footprint.ts`.
 *
 * @module
 */

import { checkFunction, checkInteger } from '../core/options.js';
import { currentHook, installHook } from '../core/scheduler.js';
import { Engine, runningTask, type TaskState } from './engine.js';
import { SimulationError } from './errors.js';
import { declared, type Footprint } from './footprint.js';
import { strategyFor, type Reducer } from './schedule.js';
import type { Declaration, SimulationOptions, Step } from './types.js';

export { RedundantRun } from './engine.js';

/**
 * The `explore` that is running in this process, if any: one slot shared by every copy of the package, like the
 * scheduler hook. A simulation of that exploration may run; any other is refused. Looked up (or created) at the
 * first call, never at load.
 */
export function activeExplore(): { owner: object | undefined } {
  return ((globalThis as { [key: symbol]: { owner: object | undefined } })[
    Symbol.for('coop-sync.testing.explore')
  ] ??= { owner: undefined });
}

/** The internal options by which `explore` tells a simulation which exploration it belongs to, and its reducer. */
export const explorerKey = Symbol('explorer');
export const reducerKey = Symbol('reducer');

const realNow: () => number =
  typeof performance !== 'undefined' && typeof performance.now === 'function'
    ? performance.now.bind(performance)
    : Date.now;

/**
 * A deterministic world for async tasks. Spawn named tasks, then `run()`: the simulation steps until every task is
 * done. A step is one choice among the enabled events (a task start, a wake-up from any coop-sync primitive, an
 * explicit {@link Simulation.yield}, a timer firing); between steps every microtask runs, so each step runs a task
 * until it waits again. Time is virtual: it jumps to the next timer only when nothing else can run, so an hour of
 * waiting costs nothing.
 *
 * The same scenario with the same options gives the same {@link Simulation.trace}, byte for byte;
 * {@link Simulation.schedule} replays it (`new Simulation({ schedule })` or {@link replay}).
 *
 * Only one simulation runs at a time: while it runs, every coop-sync primitive in the process is under its control.
 * When `run` settles, primitives resume at once again.
 *
 * @example
 * ```ts
 * const sim = new Simulation({ strategy: 'random', seed: 7 });
 * const lock = new AsyncLock({ name: 'db' });
 * for (const name of ['a', 'b']) {
 *   sim.spawn(name, () => lock.run(() => sim.sleep(10)));
 * }
 * await sim.run();
 * console.log(sim.now); // 20
 * ```
 */
export class Simulation {
  private readonly engine: Engine;
  private readonly names = new Set<string>();
  private readonly maxSteps: number;
  private readonly watchdog: number;
  private phase: 'ready' | 'running' | 'settled' = 'ready';
  private failure: { error: unknown } | undefined = undefined;
  /** The `explore` call this simulation belongs to, if any. */
  private readonly explorer: object | undefined;

  /**
   * @param options - see {@link SimulationOptions}.
   * @throws TypeError / RangeError naming the option that is not valid.
   */
  constructor(options: SimulationOptions = {}) {
    if (typeof options !== 'object' || options === null) throw new TypeError('options must be an object');
    const { clock, maxSteps = 100_000, watchdog = 30_000 } = options;
    checkInteger(maxSteps, 'options.maxSteps', 1);
    if (typeof watchdog !== 'number' || !(watchdog > 0)) {
      throw new RangeError(`options.watchdog must be a positive number of ms, got ${String(watchdog)}`);
    }
    if (clock !== undefined) {
      if (typeof clock !== 'object' || clock === null || typeof clock.tick !== 'function') {
        throw new TypeError('options.clock must be a sinon / @sinonjs/fake-timers clock');
      }
    }
    this.maxSteps = maxSteps;
    this.watchdog = watchdog;
    const internal = options as { [explorerKey]?: object; [reducerKey]?: Reducer };
    this.explorer = internal[explorerKey];
    this.engine = new Engine(
      this,
      clock,
      strategyFor(options, () => this.schedule),
      internal[reducerKey],
    );
  }

  /** @internal Set when the reduction stopped the run: every enabled event was already covered. */
  get redundant(): boolean {
    return this.engine.redundant;
  }

  /** `ready` until `run()` is called, `running` while it runs, `settled` once it has settled. */
  get state(): 'ready' | 'running' | 'settled' {
    return this.phase;
  }

  /** Virtual time in ms: the clock's `now` when a clock was given, else starting at 0. */
  get now(): number {
    return this.engine.clock.now;
  }

  /** One line a step: `#3 0ms b: resume, granted AsyncLock(db)`. Identical for identical runs. */
  get trace(): readonly string[] {
    return this.engine.record.lines;
  }

  /** The steps so far, as records (for {@link formatTimeline}). */
  get history(): readonly Step[] {
    return this.engine.record.steps;
  }

  /** The choices made so far, as an opaque string to print and paste into {@link replay}. */
  get schedule(): string {
    return this.engine.schedule;
  }

  /** How many candidates each recorded choice point had (used by `explore`'s systematic search). */
  get choicePoints(): readonly number[] {
    return this.engine.counts;
  }

  /** How many times the run departed from FIFO order so far: the enabled events passed over, summed. */
  get preemptions(): number {
    return this.engine.picks.reduce((sum, pick) => sum + pick, 0);
  }

  /**
   * Adds a task. It starts when the simulation chooses its start, which is a step like any other.
   *
   * @param name - shown in the trace and in deadlock reports; unique within the simulation.
   * @param fn - the task's body. Its error fails the run.
   * @param touches - what the task's first step (its code up to its first wait) touches, for `explore`'s reduction:
   *   see {@link Declaration}. Leave it out when unsure: the step then touches everything.
   * @throws TypeError for a bad or duplicate name, a `fn` that is not a function or a bad declaration; Error after
   *   `run` settled.
   *
   * @example
   * ```ts
   * const sim = new Simulation();
   * sim.spawn('worker', async () => {
   *   await sim.sleep(5);
   *   sim.spawn('helper', async () => {}); // tasks may spawn tasks
   * });
   * sim.spawn('quiet', async () => {}, []); // its first step touches no shared state
   * await sim.run();
   * ```
   */
  spawn(name: string, fn: () => Promise<unknown>, touches?: Declaration): void {
    if (typeof name !== 'string' || name === '') throw new TypeError('name must be a non-empty string');
    checkFunction(fn, 'fn');
    if (this.names.has(name))
      throw new TypeError(`name: a task named ${JSON.stringify(name)} already exists`);
    if (this.phase === 'settled')
      throw new Error(`Simulation.spawn(${JSON.stringify(name)}): the run is over`);
    const access = declared(touches, 'touches');
    this.names.add(name);
    const task: TaskState = { sim: this, name, fn, state: 'new', blocked: new Set(), declared: undefined };
    this.engine.tasks.push(task);
    this.engine.enable({ task, kind: 'start', detail: 'start', fire: () => this.start(task), access });
  }

  /**
   * An explicit choice point: the calling task steps aside, and the simulation chooses what runs next (maybe the
   * caller again). Must be called from inside a task while the simulation runs. Stands in for any await at which
   * another task could run: a query, a fetch. Under `fifo` the caller resumes after the events enabled before it.
   *
   * @param touches - what the caller's code after this yield touches, up to its next wait, for `explore`'s
   *   reduction: see {@link Declaration}. Leave it out when unsure: the step then touches everything.
   * @throws Error when called outside a running task; TypeError for a bad declaration.
   *
   * @example
   * ```ts
   * sim.spawn('a', async () => {
   *   const read = counter;
   *   await sim.yield('counter'); // others may run here; what follows touches `counter` only
   *   counter = read + 1;
   * });
   * ```
   */
  yield(touches?: Declaration): Promise<void> {
    const task = this.callingTask('yield');
    const access = this.nextAccess(task, touches);
    return new Promise<void>((resolve) => {
      this.engine.enable({ task, kind: 'yield', detail: 'yield', fire: resolve, access });
    });
  }

  /**
   * Waits `ms` of virtual time. Its end is a timer firing, so it is a choice point. Not cancellable; a task that
   * must be woken early waits on a primitive with a `timeout` instead (every coop-sync timeout is virtual here).
   *
   * @param ms - how long, `>= 0`.
   * @param touches - what the caller's code after the sleep touches, as for {@link Simulation.yield}.
   * @throws RangeError for a negative or non-finite `ms`; Error when called outside a running task.
   *
   * @example
   * ```ts
   * sim.spawn('poller', async () => {
   *   await sim.sleep(60_000); // a virtual minute, no real time
   * });
   * ```
   */
  sleep(ms: number, touches?: Declaration): Promise<void> {
    if (typeof ms !== 'number' || !(ms >= 0) || ms === Infinity) {
      throw new RangeError(`ms must be a finite number >= 0, got ${String(ms)}`);
    }
    const task = this.callingTask('sleep');
    const access = this.nextAccess(task, touches);
    return new Promise<void>((resolve) => {
      this.engine.clock.add(ms, { task, kind: 'sleep', detail: `sleep(${ms}) ends`, fire: resolve, access });
    });
  }

  /**
   * Declares what the calling task's next step touches, for `explore`'s reduction: the code that runs when its next
   * wait resumes (on a primitive, a yield or a sleep), up to the wait after it. See {@link Declaration}.
   *
   * @param touches - the declaration.
   * @throws Error when called outside a running task; TypeError for a bad declaration.
   *
   * @example
   * ```ts
   * sim.spawn('a', async () => {
   *   sim.declare([lock, 'count']); // after the grant: the lock and `count`, nothing else
   *   await lock.run(async () => count++);
   * });
   * ```
   */
  declare(touches: Declaration): void {
    const task = this.callingTask('declare');
    task.declared = declared(touches, 'touches');
  }

  /**
   * Writes a line into the current step's record ({@link Step.logs}); shown by {@link formatTimeline}. Deterministic
   * runs log the same lines. Before the first step the line is kept with it.
   *
   * @param message - the line.
   * @throws TypeError when `message` is not a string.
   *
   * @example
   * ```ts
   * sim.spawn('a', async () => sim.log('read 0'));
   * ```
   */
  log(message: string): void {
    if (typeof message !== 'string') throw new TypeError(`message must be a string, got ${typeof message}`);
    this.engine.record.log(message);
  }

  /**
   * Runs the tasks until every one is done, and with them what they started: a wake-up a primitive already decided
   * and a pending timeout run to their end in virtual time, so that nothing decided is ever dropped. A run that fails
   * early delivers the decided wake-ups at once and carries pending timeouts on to the real clock (its tasks' own
   * `sim.yield()` / `sim.sleep()` never resume).
   *
   * @throws the first error a task throws (the run stops there); {@link DeadlockError} when tasks remain but none can
   *   ever resume; {@link SimulationError} when the step budget or the watchdog runs out, a schedule does not fit, or
   *   another simulation is running. Read {@link Simulation.schedule} and {@link Simulation.trace} after a failure.
   *
   * @example
   * ```ts
   * try {
   *   await sim.run();
   * } catch (error) {
   *   console.log(sim.trace.join('\n'), `replay with: ${sim.schedule}`);
   *   throw error;
   * }
   * ```
   */
  async run(): Promise<void> {
    if (this.phase !== 'ready') throw new Error('Simulation.run() can be called once');
    const exploring = activeExplore().owner;
    if (currentHook() !== undefined || (exploring !== undefined && exploring !== this.explorer)) {
      throw new SimulationError(
        'concurrent',
        `another Simulation (or explore()) is running: run simulations one at a time (${
          exploring === undefined ? 'a simulation runs' : 'an explore() runs'
        }; a test runner that runs tests concurrently must run these serially)`,
        this.schedule,
      );
    }
    this.phase = 'running';
    installHook(this.engine.hook());
    const started = realNow();
    try {
      for (let count = 0; ; count++) {
        await this.engine.settle();
        this.engine.endStep();
        if (this.failure !== undefined) throw this.failure.error;
        // The named tasks may be done while what they started is not: a wake-up a primitive already decided (a
        // fire-and-forget `lock.run` granted the lock), a timeout still pending. Those run to completion too.
        const finished = this.engine.tasks.every((task) => task.state === 'done');
        if (finished && this.engine.enabled.length === 0 && this.engine.clock.pending === 0) return;
        if (this.engine.enabled.length === 0 && !this.engine.advance()) throw this.engine.deadlock();
        if (this.engine.enabled.length === 0) continue;
        if (this.engine.record.steps.length >= this.maxSteps || count >= 2 * this.maxSteps) {
          throw new SimulationError(
            'steps',
            `The run took more than ${this.maxSteps} steps (options.maxSteps): a livelock, or a longer scenario`,
            this.schedule,
          );
        }
        if ((count & 255) === 255 && realNow() - started > this.watchdog) {
          throw new SimulationError(
            'watchdog',
            `The run took more than ${this.watchdog} ms of real time (options.watchdog) after ${this.engine.record.steps.length} steps`,
            this.schedule,
          );
        }
        this.engine.step();
      }
    } finally {
      installHook(undefined);
      this.phase = 'settled';
      this.engine.close();
    }
  }

  private callingTask(method: string): TaskState {
    const task = this.engine.caller();
    if (this.phase !== 'running' || task === undefined) {
      throw new Error(`Simulation.${method}() must be called from a task while the simulation runs`);
    }
    return task;
  }

  /** What the task's next step touches: `touches` if given, else what it declared before, else everything. */
  private nextAccess(task: TaskState, touches: Declaration | undefined): Footprint | undefined {
    const access = touches === undefined ? task.declared : declared(touches, 'touches');
    task.declared = undefined;
    return access;
  }

  private start(task: TaskState): void {
    task.state = 'running';
    let result: Promise<unknown>;
    const running = runningTask();
    try {
      result = Promise.resolve(running === undefined ? task.fn() : running.run(task, task.fn));
    } catch (error) {
      result = Promise.reject(error);
    }
    result.then(
      () => {
        task.state = 'done';
      },
      (error: unknown) => {
        task.state = 'done';
        this.failure ??= { error };
      },
    );
  }
}
