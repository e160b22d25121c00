/**
 * The simulation: named tasks whose every wake-up, start, explicit yield and timer firing is a step the harness
 * chooses, in virtual time.
 *
 * @module
 */

import { DeadlockError, SimulationError, type BlockedTask } from '../errors.js';
import { createContextVariable } from '../core/context.js';
import { checkFunction, checkInteger } from '../core/options.js';
import {
  cancelTimer,
  currentHook,
  installHook,
  type HookTimer,
  type ParkedWaiter,
} from '../core/scheduler.js';
import { macrotask } from './macrotask.js';
import {
  ChoicesChooser,
  ReplayChooser,
  chooserFor,
  decodeSchedule,
  encodeSchedule,
  type Chooser,
  type StrategyName,
} from './schedule.js';

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

/** Options of a {@link Simulation}. */
export interface SimulationOptions {
  /** Seed of the `random` and `pct` strategies. Default `0`. */
  readonly seed?: number;
  /** How to choose among enabled events: `fifo` (production's order, the default), `random` or `pct`. */
  readonly strategy?: StrategyName;
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
   * Picks for the choice points, each taken modulo the number of candidates, then FIFO: lets a property-testing
   * library drive the choices (`fc.array(fc.nat())`), so that its shrinking minimises a failing schedule.
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

interface TaskState {
  readonly sim: Simulation;
  readonly name: string;
  readonly fn: () => Promise<unknown>;
  state: 'new' | 'running' | 'done';
  /** Waiters it parked that have not been woken yet: what it waits on. */
  readonly blocked: Set<ParkedWaiter>;
}

interface Event {
  readonly task: TaskState | undefined;
  readonly kind: Step['kind'];
  readonly detail: string;
  readonly fire: () => void;
}

class VirtualTimer implements HookTimer {
  cleared = false;

  constructor(
    readonly at: number,
    readonly event: Event,
    private readonly drop: (timer: VirtualTimer) => void,
  ) {}

  [cancelTimer](): void {
    if (this.cleared) return;
    this.cleared = true;
    this.drop(this);
  }
}

function labelOf(primitive: object | undefined): string {
  if (primitive === undefined) return 'nothing';
  const label = (primitive as { label?: unknown }).label;
  return typeof label === 'string' ? label : Object.prototype.toString.call(primitive);
}

function describeReason(reason: unknown): string {
  if (reason instanceof Error || (typeof reason === 'object' && reason !== null && 'name' in reason)) {
    return String((reason as { name: unknown }).name);
  }
  return `rejection ${String(reason).slice(0, 40)}`;
}

/**
 * The task whose code is running, followed across awaits where the runtime has async context (Node, or TC39
 * `AsyncContext`): a task resumed by a plain promise that another task settled is still itself. Elsewhere the
 * harness falls back to the task of the step being run.
 */
const runningTask = createContextVariable<TaskState>();

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
  private readonly tasks: TaskState[] = [];
  private readonly names = new Set<string>();
  /**
   * The enabled events, in the order `fifo` takes them: wake-ups, starts and yields first, in the order they became
   * enabled, then the timers that fell due (production runs every microtask before the next timer's callback).
   */
  private readonly enabled: Event[] = [];
  /** How many of `enabled`, at its end, are timers that fell due. */
  private dueTimers = 0;
  private readonly timers: VirtualTimer[] = [];
  private readonly owners = new Map<ParkedWaiter, TaskState | undefined>();
  private readonly steps: Step[] = [];
  private readonly lines: string[] = [];
  private readonly picks: number[] = [];
  private readonly counts: number[] = [];
  private readonly chooser: Chooser;
  private readonly clock: SinonLikeClock | undefined;
  private readonly maxSteps: number;
  private readonly watchdog: number;
  private virtualNow = 0;
  /** `now` when the simulation was created: steps are timed from here. */
  private readonly origin: number;
  private current: TaskState | undefined = undefined;
  private currentLogs: string[] | undefined = undefined;
  private phase: 'ready' | 'running' | 'settled' = 'ready';
  private failure: { error: unknown } | undefined = undefined;

  /**
   * @param options - see {@link SimulationOptions}.
   * @throws TypeError / RangeError naming the option that is not valid.
   */
  constructor(options: SimulationOptions = {}) {
    if (typeof options !== 'object' || options === null) throw new TypeError('options must be an object');
    const { seed = 0, strategy = 'fifo', depth = 3, clock, maxSteps = 100_000, watchdog = 30_000 } = options;
    checkInteger(seed, 'options.seed', Number.MIN_SAFE_INTEGER);
    if (strategy !== 'fifo' && strategy !== 'random' && strategy !== 'pct') {
      throw new TypeError(`options.strategy must be 'fifo', 'random' or 'pct', got ${String(strategy)}`);
    }
    checkInteger(depth, 'options.depth', 1);
    checkInteger(maxSteps, 'options.maxSteps', 1);
    if (typeof watchdog !== 'number' || !(watchdog > 0)) {
      throw new RangeError(`options.watchdog must be a positive number of ms, got ${String(watchdog)}`);
    }
    if (clock !== undefined) {
      if (typeof clock !== 'object' || clock === null || typeof clock.tick !== 'function') {
        throw new TypeError('options.clock must be a sinon / @sinonjs/fake-timers clock');
      }
      this.virtualNow = clock.now;
    }
    const steps = options.steps ?? 32;
    checkInteger(steps, 'options.steps', 1);
    this.clock = clock;
    this.origin = this.now;
    this.maxSteps = maxSteps;
    this.watchdog = watchdog;
    let chooser = chooserFor(strategy, seed, depth, steps);
    if (options.choices !== undefined) {
      if (!Array.isArray(options.choices)) throw new TypeError('options.choices must be an array of numbers');
      chooser = new ChoicesChooser(options.choices);
    }
    if (options.schedule !== undefined) {
      chooser = new ReplayChooser(decodeSchedule(options.schedule), chooser, () => this.schedule);
    }
    this.chooser = chooser;
  }

  /** `ready` until `run()` is called, `running` while it runs, `settled` once it has settled. */
  get state(): 'ready' | 'running' | 'settled' {
    return this.phase;
  }

  /** Virtual time in ms: the clock's `now` when a clock was given, else starting at 0. */
  get now(): number {
    return this.clock === undefined ? this.virtualNow : this.clock.now;
  }

  /** One line a step: `#3 0ms b: resume, granted AsyncLock(db)`. Identical for identical runs. */
  get trace(): readonly string[] {
    return this.lines;
  }

  /** The steps so far, as records (for {@link formatTimeline}). */
  get history(): readonly Step[] {
    return this.steps;
  }

  /** The choices made so far, as an opaque string to print and paste into {@link replay}. */
  get schedule(): string {
    return encodeSchedule(this.picks);
  }

  /** How many candidates each recorded choice point had (used by `explore`'s systematic search). */
  get choicePoints(): readonly number[] {
    return this.counts;
  }

  /**
   * Adds a task. It starts when the simulation chooses its start, which is a step like any other.
   *
   * @param name - shown in the trace and in deadlock reports; unique within the simulation.
   * @param fn - the task's body. Its error fails the run.
   * @throws TypeError for a bad or duplicate name or a `fn` that is not a function; Error after `run` settled.
   *
   * @example
   * ```ts
   * const sim = new Simulation();
   * sim.spawn('worker', async () => {
   *   await sim.sleep(5);
   *   sim.spawn('helper', async () => {}); // tasks may spawn tasks
   * });
   * await sim.run();
   * ```
   */
  spawn(name: string, fn: () => Promise<unknown>): void {
    if (typeof name !== 'string' || name === '') throw new TypeError('name must be a non-empty string');
    checkFunction(fn, 'fn');
    if (this.names.has(name))
      throw new TypeError(`name: a task named ${JSON.stringify(name)} already exists`);
    if (this.phase === 'settled')
      throw new Error(`Simulation.spawn(${JSON.stringify(name)}): the run is over`);
    this.names.add(name);
    const task: TaskState = { sim: this, name, fn, state: 'new', blocked: new Set() };
    this.tasks.push(task);
    this.enable({ task, kind: 'start', detail: 'start', fire: () => this.start(task) });
  }

  /**
   * An explicit choice point: the calling task steps aside, and the simulation chooses what runs next (maybe the
   * caller again). Must be called from inside a task while the simulation runs. Stands in for any await at which
   * another task could run: a query, a fetch. Under `fifo` the caller resumes after the events enabled before it.
   *
   * @throws Error when called outside a running task.
   *
   * @example
   * ```ts
   * sim.spawn('a', async () => {
   *   const read = counter;
   *   await sim.yield(); // others may run here
   *   counter = read + 1;
   * });
   * ```
   */
  yield(): Promise<void> {
    const task = this.callingTask('yield');
    return new Promise<void>((resolve) => {
      this.enable({ task, kind: 'yield', detail: 'yield', fire: resolve });
    });
  }

  /**
   * Waits `ms` of virtual time. Its end is a timer firing, so it is a choice point. Not cancellable; a task that
   * must be woken early waits on a primitive with a `timeout` instead (every coop-sync timeout is virtual here).
   *
   * @param ms - how long, `>= 0`.
   * @throws RangeError for a negative or non-finite `ms`; Error when called outside a running task.
   *
   * @example
   * ```ts
   * sim.spawn('poller', async () => {
   *   await sim.sleep(60_000); // a virtual minute, no real time
   * });
   * ```
   */
  sleep(ms: number): Promise<void> {
    if (typeof ms !== 'number' || !(ms >= 0) || ms === Infinity) {
      throw new RangeError(`ms must be a finite number >= 0, got ${String(ms)}`);
    }
    const task = this.callingTask('sleep');
    return new Promise<void>((resolve) => {
      this.addTimer(ms, { task, kind: 'sleep', detail: `sleep(${ms}) ends`, fire: resolve });
    });
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
    (this.currentLogs ??= []).push(message);
  }

  /**
   * Runs the tasks until every one is done.
   *
   * @throws the first error a task throws (the run stops there); {@link DeadlockError} when tasks remain but none can
   *   ever resume; {@link SimulationError} when the step budget or the watchdog runs out, or a schedule does not fit.
   *   Read {@link Simulation.schedule} and {@link Simulation.trace} after a failure.
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
    const previous = currentHook();
    if (previous !== undefined) {
      throw new Error('another Simulation (or scheduler hook) is running: run simulations one at a time');
    }
    this.phase = 'running';
    installHook({
      parked: (waiter) => this.parked(waiter),
      wake: (waiter, from) => this.wake(waiter, from),
      setTimer: (callback, ms, waiter) => this.timerFor(callback, ms, waiter),
      now: () => this.now,
    });
    const started = realNow();
    try {
      for (let count = 0; ; count++) {
        await this.settle();
        if (this.failure !== undefined) throw this.failure.error;
        if (this.tasks.every((task) => task.state === 'done')) return;
        if (this.enabled.length === 0 && !this.advance()) throw this.deadlock();
        if (this.enabled.length === 0) continue;
        if (this.steps.length >= this.maxSteps || count >= 2 * this.maxSteps) {
          throw new SimulationError(
            'steps',
            `The run took more than ${this.maxSteps} steps (options.maxSteps): a livelock, or a longer scenario`,
            this.schedule,
          );
        }
        if ((count & 255) === 255 && realNow() - started > this.watchdog) {
          throw new SimulationError(
            'watchdog',
            `The run took more than ${this.watchdog} ms of real time (options.watchdog) after ${this.steps.length} steps`,
            this.schedule,
          );
        }
        this.step();
      }
    } finally {
      installHook(undefined);
      this.phase = 'settled';
      this.current = undefined;
      for (const timer of this.timers) timer.cleared = true;
      this.timers.length = 0;
      this.enabled.length = 0;
      this.dueTimers = 0;
      this.owners.clear();
    }
  }

  /** The task whose code calls: its async context where the runtime has one, else the task of the current step. */
  private caller(): TaskState | undefined {
    const task = runningTask?.get();
    if (task === undefined) return this.current;
    // Code of a task of an earlier simulation, resumed after that one settled, is outside this one.
    return task.sim === this ? task : undefined;
  }

  private callingTask(method: string): TaskState {
    const task = this.caller();
    if (this.phase !== 'running' || task === undefined) {
      throw new Error(`Simulation.${method}() must be called from a task while the simulation runs`);
    }
    return task;
  }

  private start(task: TaskState): void {
    task.state = 'running';
    let result: Promise<unknown>;
    try {
      result = Promise.resolve(runningTask === undefined ? task.fn() : runningTask.run(task, task.fn));
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

  /** Lets every microtask run: waits for a real macrotask, and runs a fake clock's microtask jobs until none is left. */
  private async settle(): Promise<void> {
    const jobs = this.clock as { jobs?: unknown[] } | undefined;
    for (;;) {
      await macrotask();
      if (jobs === undefined || jobs.jobs === undefined || jobs.jobs.length === 0) return;
      this.clock!.runMicrotasks();
    }
  }

  /** Makes one choice and fires it. */
  private step(): void {
    let pick = 0;
    if (this.enabled.length > 1) {
      pick = this.chooser.choose(
        this.enabled.map((event) => ({ task: event.task?.name })),
        this.picks.length,
      );
      this.picks.push(pick);
      this.counts.push(this.enabled.length);
    }
    if (pick >= this.enabled.length - this.dueTimers) this.dueTimers--;
    const [event] = this.enabled.splice(pick, 1) as [Event];
    // Lines logged before the first step are kept with it; later ones belong to the step whose code logged them.
    const logs = this.steps.length === 0 && this.currentLogs !== undefined ? this.currentLogs : [];
    const record: Step = {
      index: this.steps.length + 1,
      time: this.now - this.origin,
      task: event.task?.name,
      kind: event.kind,
      detail: event.detail,
      logs,
    };
    this.steps.push(record);
    this.lines.push(
      `#${record.index} ${record.time}ms ${record.task ?? '(clock)'}: ${record.kind}${
        record.kind === event.detail ? '' : `, ${event.detail}`
      }`,
    );
    this.current = event.task;
    this.currentLogs = logs;
    event.fire();
    // Code that runs from here until the next step belongs to this step.
  }

  /** Enables a wake-up, start or yield: after the others, before the timers that fell due. */
  private enable(event: Event): void {
    if (this.dueTimers === 0) this.enabled.push(event);
    else this.enabled.splice(this.enabled.length - this.dueTimers, 0, event);
  }

  private parked(waiter: ParkedWaiter): void {
    const task = this.caller();
    this.owners.set(waiter, task);
    task?.blocked.add(waiter);
  }

  private wake(waiter: ParkedWaiter, from: object): void {
    if (!this.owners.has(waiter)) {
      // Parked before this simulation ran: not ours to schedule.
      waiter.resume();
      return;
    }
    const task = this.owners.get(waiter);
    this.owners.delete(waiter);
    task?.blocked.delete(waiter);
    const detail = waiter.granted
      ? `granted ${labelOf(from)}`
      : `${describeReason(waiter.outcome)} from ${labelOf(from)}`;
    this.enable({ task, kind: 'resume', detail, fire: () => waiter.resume() });
  }

  private timerFor(callback: () => void, ms: number, waiter: ParkedWaiter | undefined): HookTimer {
    // The waiter is not registered yet (a waiter's timer starts before it is reported parked): the calling task owns it.
    const task = this.caller();
    const detail =
      waiter === undefined
        ? `timer(${ms}ms) fires`
        : `timeout(${ms}ms) on ${labelOf(waiter.waitingOn)} fires`;
    return this.addTimer(ms, { task, kind: 'timer', detail, fire: callback });
  }

  private addTimer(ms: number, event: Event): VirtualTimer {
    const timer = new VirtualTimer(this.now + ms, event, this.dropTimer);
    // Kept sorted by (time, creation order); timers are few, so an insertion from the back is cheap.
    let i = this.timers.length;
    while (i > 0 && this.timers[i - 1]!.at > timer.at) i--;
    this.timers.splice(i, 0, timer);
    return timer;
  }

  /** Called by a timer that clears itself. */
  private readonly dropTimer = (timer: VirtualTimer): void => {
    const i = this.timers.indexOf(timer);
    if (i >= 0) this.timers.splice(i, 1);
  };

  /**
   * Nothing can run: moves virtual time to the next timer (the simulation's or the fake clock's) and enables every
   * timer due then. Returns false when no timer is pending.
   */
  private advance(): boolean {
    const own = this.timers.length > 0 ? this.timers[0]!.at : Infinity;
    const clock = this.clock;
    if (clock !== undefined) {
      const theirs = nextClockTimer(clock);
      if (own === Infinity && theirs === undefined) return false;
      const target = theirs === undefined ? own : Math.min(own, theirs);
      // The clock's own timers run the scenario's code outside every task.
      this.current = undefined;
      clock.tick(Math.max(0, target - clock.now));
    } else {
      if (own === Infinity) return false;
      this.virtualNow = own;
    }
    const now = this.now;
    while (this.timers.length > 0 && this.timers[0]!.at <= now) {
      const timer = this.timers.shift()!;
      timer.cleared = true;
      this.enabled.push(timer.event);
      this.dueTimers++;
    }
    return true;
  }

  private deadlock(): DeadlockError {
    const blocked: BlockedTask[] = [];
    for (const task of this.tasks) {
      if (task.state === 'done') continue;
      if (task.blocked.size === 0) {
        blocked.push({
          task: task.name,
          waitingOn: 'a promise outside coop-sync (real I/O, a real timer, or one nothing settles)',
        });
      }
      for (const waiter of task.blocked)
        blocked.push({ task: task.name, waitingOn: labelOf(waiter.waitingOn) });
    }
    const error = new DeadlockError(blocked, this.schedule);
    const faked = (globalThis.setTimeout as { clock?: unknown }).clock;
    if (faked !== undefined && this.clock === undefined) {
      error.message +=
        '\nnote: fake timers are installed; pass the clock (new Simulation({ clock })) so that their timers fire';
    }
    return error;
  }
}

/** The time of a fake clock's next timer, or `undefined` when it has none. */
function nextClockTimer(clock: SinonLikeClock): number | undefined {
  if (clock.countTimers() === 0) return undefined;
  const timers = (clock as { timers?: Map<unknown, { callAt: number }> | Record<string, { callAt: number }> })
    .timers;
  if (timers === undefined) return undefined;
  let next = Infinity;
  for (const timer of timers instanceof Map ? timers.values() : Object.values(timers)) {
    if (timer.callAt < next) next = timer.callAt;
  }
  return next === Infinity ? undefined : next;
}
