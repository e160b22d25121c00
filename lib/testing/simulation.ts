/**
 * The simulation: named tasks whose every wake-up, start, explicit yield and timer firing is a step the harness
 * chooses, in virtual time. This file is the loop; virtual time is in `clock.ts`, the record in `trace.ts`, the
 * strategies in `schedule.ts`, and what a step touched (for the reduction) in `footprint.ts`.
 *
 * @module
 */

import { createContextVariable } from '../core/context.js';
import { checkFunction, checkInteger } from '../core/options.js';
import { currentHook, installHook, type HookTimer, type ParkedWaiter } from '../core/scheduler.js';
import { VirtualClock } from './clock.js';
import { DeadlockError, SimulationError, type BlockedTask } from './errors.js';
import { declared, everything, keyOf, nothing, type Footprint } from './footprint.js';
import { macrotask } from './macrotask.js';
import { strategyFor, type Reducer } from './schedule.js';
import { Trace } from './trace.js';
import type { Candidate, Declaration, SimulationOptions, Step, Strategy } from './types.js';
import { encodeSchedule } from './schedule.js';

interface TaskState {
  readonly sim: Simulation;
  readonly name: string;
  readonly fn: () => Promise<unknown>;
  state: 'new' | 'running' | 'done';
  /** Waiters it parked that have not been woken yet: what it waits on. */
  readonly blocked: Set<ParkedWaiter>;
  /** What its next step touches, from {@link Simulation.declare}; taken by its next wait. */
  declared: Footprint | undefined;
}

interface Event {
  readonly task: TaskState | undefined;
  readonly kind: Step['kind'];
  readonly detail: string;
  readonly fire: () => void;
  /** What the step this event starts touches, as declared; `undefined`: everything. */
  readonly access: Footprint | undefined;
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

/** Thrown by `run` when the reduction finds that every enabled event leads where another run already went. */
export class RedundantRun extends Error {}

/**
 * The task whose code is running, followed across awaits where the runtime has async context (Node, or TC39
 * `AsyncContext`): a task resumed by a plain promise that another task settled is still itself. Elsewhere the
 * harness falls back to the task of the step being run.
 */
const runningTask = createContextVariable<TaskState>();

/**
 * The `explore` that is running in this process, if any: one slot shared by every copy of the package, like the
 * scheduler hook. A simulation of that exploration may run; any other is refused.
 */
export const activeExplore: { owner: object | undefined } = ((
  globalThis as { [key: symbol]: { owner: object | undefined } }
)[Symbol.for('coop-sync.testing.explore')] ??= { owner: undefined });

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
  private readonly tasks: TaskState[] = [];
  private readonly names = new Set<string>();
  /**
   * The enabled events, in the order `fifo` takes them: wake-ups, starts and yields first, in the order they became
   * enabled, then the timers that fell due (production runs every microtask before the next timer's callback).
   */
  private readonly enabled: Event[] = [];
  /** How many of `enabled`, at its end, are timers that fell due. */
  private dueTimers = 0;
  private readonly clock: VirtualClock<Event>;
  private readonly owners = new Map<ParkedWaiter, { task: TaskState | undefined; access?: Footprint }>();
  private readonly record = new Trace();
  private readonly picks: number[] = [];
  private readonly counts: number[] = [];
  private readonly strategy: Strategy;
  private readonly reducer: Reducer | undefined;
  private readonly maxSteps: number;
  private readonly watchdog: number;
  private current: TaskState | undefined = undefined;
  /** The step running now: its candidate and what it touched so far (for the reducer). */
  private stepping: { candidate: Candidate; footprint: Footprint; chosen: boolean } | undefined;
  private phase: 'ready' | 'running' | 'settled' = 'ready';
  private failure: { error: unknown } | undefined = undefined;
  /** The `explore` call this simulation belongs to, if any. */
  private readonly explorer: object | undefined;
  /** Set when the reduction stopped the run: every enabled event was already covered. */
  redundant = false;

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
    this.clock = new VirtualClock(clock);
    this.maxSteps = maxSteps;
    this.watchdog = watchdog;
    this.strategy = strategyFor(options, () => this.schedule);
    const internal = options as { [explorerKey]?: object; [reducerKey]?: Reducer };
    this.explorer = internal[explorerKey];
    this.reducer = internal[reducerKey];
  }

  /** `ready` until `run()` is called, `running` while it runs, `settled` once it has settled. */
  get state(): 'ready' | 'running' | 'settled' {
    return this.phase;
  }

  /** Virtual time in ms: the clock's `now` when a clock was given, else starting at 0. */
  get now(): number {
    return this.clock.now;
  }

  /** One line a step: `#3 0ms b: resume, granted AsyncLock(db)`. Identical for identical runs. */
  get trace(): readonly string[] {
    return this.record.lines;
  }

  /** The steps so far, as records (for {@link formatTimeline}). */
  get history(): readonly Step[] {
    return this.record.steps;
  }

  /** The choices made so far, as an opaque string to print and paste into {@link replay}. */
  get schedule(): string {
    return encodeSchedule(this.picks);
  }

  /** How many candidates each recorded choice point had (used by `explore`'s systematic search). */
  get choicePoints(): readonly number[] {
    return this.counts;
  }

  /** How many times the run departed from FIFO order so far: the enabled events passed over, summed. */
  get preemptions(): number {
    return this.picks.reduce((sum, pick) => sum + pick, 0);
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
    this.tasks.push(task);
    this.enable({ task, kind: 'start', detail: 'start', fire: () => this.start(task), access });
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
      this.enable({ task, kind: 'yield', detail: 'yield', fire: resolve, access });
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
      this.clock.add(ms, { task, kind: 'sleep', detail: `sleep(${ms}) ends`, fire: resolve, access });
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
    this.record.log(message);
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
    const exploring = activeExplore.owner;
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
    installHook({
      parked: (waiter) => this.parked(waiter),
      wake: (waiter, from) => this.wake(waiter, from),
      setTimer: (callback, ms, waiter) => this.timerFor(callback, ms, waiter),
    });
    const started = realNow();
    try {
      for (let count = 0; ; count++) {
        await this.settle();
        this.endStep();
        if (this.failure !== undefined) throw this.failure.error;
        // The named tasks may be done while what they started is not: a wake-up a primitive already decided (a
        // fire-and-forget `lock.run` granted the lock), a timeout still pending. Those run to completion too.
        const finished = this.tasks.every((task) => task.state === 'done');
        if (finished && this.enabled.length === 0 && this.clock.pending === 0) return;
        if (this.enabled.length === 0 && !this.advance()) throw this.deadlock();
        if (this.enabled.length === 0) continue;
        if (this.record.steps.length >= this.maxSteps || count >= 2 * this.maxSteps) {
          throw new SimulationError(
            'steps',
            `The run took more than ${this.maxSteps} steps (options.maxSteps): a livelock, or a longer scenario`,
            this.schedule,
          );
        }
        if ((count & 255) === 255 && realNow() - started > this.watchdog) {
          throw new SimulationError(
            'watchdog',
            `The run took more than ${this.watchdog} ms of real time (options.watchdog) after ${this.record.steps.length} steps`,
            this.schedule,
          );
        }
        this.step();
      }
    } finally {
      installHook(undefined);
      this.phase = 'settled';
      this.current = undefined;
      this.stepping = undefined;
      this.leave();
    }
  }

  /**
   * A run that ended early (a failure, a deadlock, the step budget) leaves its unfinished tasks where they stand:
   * their `sim.yield()` and `sim.sleep()` never resume. But what the primitives decided is not dropped, so that they
   * stay consistent: a decided wake-up is delivered now (a granted waiter gets what it holds), a due timeout fires
   * now, and a pending timeout carries on on the real clock (or the fake one installed) for its remaining time.
   */
  private leave(): void {
    const enabled = this.enabled.splice(0);
    this.dueTimers = 0;
    this.owners.clear();
    this.record.close();
    this.clock.leave((event) => event.kind === 'timer');
    for (const event of enabled) if (event.kind === 'resume' || event.kind === 'timer') event.fire();
  }

  /** The task whose code calls: its async context where the runtime has one, else the task of the current step. */
  private caller(): TaskState | undefined {
    const task = runningTask?.get();
    if (task === undefined) return this.current;
    // Code of a task of an earlier simulation, resumed after that one settled, is outside this one.
    if (task.sim !== this) return undefined;
    // Code of another task than the step's runs in this step: what the step touches is no longer declared.
    if (task !== this.current && this.stepping !== undefined) this.stepping.footprint.all = true;
    return task;
  }

  private callingTask(method: string): TaskState {
    const task = this.caller();
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

  /** Marks `primitive` as touched by the step that runs now. */
  private touch(primitive: object | undefined): void {
    if (primitive !== undefined && this.stepping !== undefined) {
      this.stepping.footprint.writes.add(keyOf(primitive));
    }
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
    const jobs = this.clock.fake as { jobs?: unknown[] } | undefined;
    for (;;) {
      await macrotask();
      if (jobs === undefined || jobs.jobs === undefined || jobs.jobs.length === 0) return;
      this.clock.fake!.runMicrotasks();
    }
  }

  /** The step that ran is over: tells the reducer what it touched. */
  private endStep(): void {
    const stepping = this.stepping;
    if (stepping === undefined) return;
    this.stepping = undefined;
    this.reducer?.stepped(stepping.candidate, stepping.footprint, stepping.chosen);
  }

  /** Makes one choice and fires it. */
  private step(): void {
    const seen = new Map<string, number>();
    const candidates: Candidate[] = this.enabled.map((event) => {
      let key = `${event.task?.name ?? '(clock)'} ${event.kind} ${event.detail}`;
      const n = seen.get(key) ?? 0;
      seen.set(key, n + 1);
      if (n > 0) key += ` #${n + 1}`;
      return { task: event.task?.name, kind: event.kind, key };
    });
    if (this.reducer !== undefined && candidates.every((candidate) => this.reducer!.asleep(candidate))) {
      this.redundant = true;
      throw new RedundantRun('every enabled event was covered by an equivalent run');
    }
    let pick = 0;
    const chosen = candidates.length > 1;
    if (chosen) {
      pick = this.strategy.choose(candidates, this.picks.length);
      if (!Number.isInteger(pick) || pick < 0 || pick >= candidates.length) {
        throw new RangeError(
          `strategy.choose must return an index below ${candidates.length}, got ${String(pick)}`,
        );
      }
      this.picks.push(pick);
      this.counts.push(candidates.length);
    }
    if (pick >= this.enabled.length - this.dueTimers) this.dueTimers--;
    const [event] = this.enabled.splice(pick, 1) as [Event];
    this.record.record(this.now - this.clock.origin, event.task?.name, event.kind, event.detail);
    this.current = event.task;
    if (this.reducer !== undefined) {
      const footprint = event.access === undefined ? everything() : nothing();
      if (event.access !== undefined) {
        for (const key of event.access.reads) footprint.reads.add(key);
        for (const key of event.access.writes) footprint.writes.add(key);
      }
      this.stepping = { candidate: candidates[pick]!, footprint, chosen };
    }
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
    this.touch(waiter.waitingOn);
    const access = task?.declared;
    if (task !== undefined) task.declared = undefined;
    this.owners.set(waiter, access === undefined ? { task } : { task, access });
    task?.blocked.add(waiter);
  }

  private wake(waiter: ParkedWaiter, from: object): void {
    const owner = this.owners.get(waiter);
    if (owner === undefined) {
      // Parked before this simulation ran: not ours to schedule.
      waiter.resume();
      return;
    }
    this.touch(from);
    this.owners.delete(waiter);
    const task = owner.task;
    task?.blocked.delete(waiter);
    const detail = waiter.granted
      ? `granted ${labelOf(from)}`
      : `${describeReason(waiter.outcome)} from ${labelOf(from)}`;
    // The woken code holds (or gave up on) `from`: it touches it, besides what it declared.
    const access = owner.access;
    access?.writes.add(keyOf(from));
    this.enable({ task, kind: 'resume', detail, fire: () => waiter.resume(), access });
  }

  private timerFor(callback: () => void, ms: number, waiter: ParkedWaiter | undefined): HookTimer {
    // The waiter is not registered yet (a waiter's timer starts before it is reported parked): the calling task owns it.
    const task = this.caller();
    const detail =
      waiter === undefined
        ? `timer(${ms}ms) fires`
        : `timeout(${ms}ms) on ${labelOf(waiter.waitingOn)} fires`;
    return this.clock.add(ms, { task, kind: 'timer', detail, fire: callback, access: undefined });
  }

  /**
   * Nothing can run: moves virtual time to the next timer (the simulation's or the fake clock's) and enables every
   * timer due then. Returns false when no timer is pending.
   */
  private advance(): boolean {
    // The clock's own timers run the scenario's code outside every task, and outside every declared step.
    this.current = undefined;
    const due = this.clock.advance();
    if (due === undefined) return false;
    if (this.clock.fake !== undefined) {
      this.reducer?.stepped({ task: undefined, kind: 'timer', key: '(clock) tick' }, everything(), false);
    }
    for (const event of due) {
      this.enabled.push(event);
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
    if (faked !== undefined && this.clock.fake === undefined) {
      error.message +=
        '\nnote: fake timers are installed; pass the clock (new Simulation({ clock })) so that their timers fire';
    }
    return error;
  }
}
