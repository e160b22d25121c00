/**
 * The engine of a simulation: the enabled events and the choice among them, the scheduler hook's side (who parked,
 * who woke, which timer), the footprint of each step for the reduction, and the deadlock report. `Simulation` is its
 * public face and its loop.
 *
 * @module
 */

import { createContextVariable, type ContextVariable } from '../core/context.js';
import type { HookTimer, ParkedWaiter, SchedulerHook } from '../core/scheduler.js';
import { VirtualClock } from './clock.js';
import { DeadlockError, type BlockedTask } from './errors.js';
import { everything, keyOf, nothing, type Footprint } from './footprint.js';
import { macrotask } from './macrotask.js';
import { encodeSchedule, type Reducer } from './schedule.js';
import { Trace } from './trace.js';
import type { Candidate, SinonLikeClock, Step, Strategy } from './types.js';

export interface TaskState {
  /** The simulation it belongs to. */
  readonly sim: object;
  readonly name: string;
  readonly fn: () => Promise<unknown>;
  state: 'new' | 'running' | 'done';
  /** Waiters it parked that have not been woken yet: what it waits on. */
  readonly blocked: Set<ParkedWaiter>;
  /** What its next step touches, from {@link Simulation.declare}; taken by its next wait. */
  declared: Footprint | undefined;
}

export interface Event {
  readonly task: TaskState | undefined;
  readonly kind: Step['kind'];
  readonly detail: string;
  readonly fire: () => void;
  /** What the step this event starts touches, as declared; `undefined`: everything. */
  readonly access: Footprint | undefined;
}

export function labelOf(primitive: object | undefined): string {
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
 * harness falls back to the task of the step being run. Created by the first call, never at load; `null` until then.
 */
let runningTaskVariable: ContextVariable<TaskState> | undefined | null = null;

/** {@link runningTaskVariable}; `undefined` where the runtime has no async context. */
export function runningTask(): ContextVariable<TaskState> | undefined {
  if (runningTaskVariable === null) runningTaskVariable = createContextVariable<TaskState>(true);
  return runningTaskVariable;
}

/** The state of one run of a simulation, and what makes its steps. */
export class Engine {
  readonly tasks: TaskState[] = [];
  /**
   * The enabled events, in the order `fifo` takes them: wake-ups, starts and yields first, in the order they became
   * enabled, then the timers that fell due (production runs every microtask before the next timer's callback).
   */
  readonly enabled: Event[] = [];
  /** How many of `enabled`, at its end, are timers that fell due. */
  private dueTimers = 0;
  readonly clock: VirtualClock<Event>;
  private readonly owners = new Map<ParkedWaiter, { task: TaskState | undefined; access?: Footprint }>();
  readonly record = new Trace();
  readonly picks: number[] = [];
  readonly counts: number[] = [];
  /** The task of the step that runs now. */
  current: TaskState | undefined = undefined;
  /** The step running now: its candidate and what it touched so far (for the reducer). */
  private stepping: { candidate: Candidate; footprint: Footprint; chosen: boolean } | undefined;
  /** Set when the reduction stopped the run: every enabled event was already covered. */
  redundant = false;

  constructor(
    private readonly owner: object,
    fake: SinonLikeClock | undefined,
    private readonly strategy: Strategy,
    private readonly reducer: Reducer | undefined,
  ) {
    this.clock = new VirtualClock(fake);
  }

  /** The choices made so far, as a schedule string. */
  get schedule(): string {
    return encodeSchedule(this.picks);
  }

  /** The hook the simulation installs while it runs. */
  hook(): SchedulerHook {
    return {
      parked: (waiter) => this.parked(waiter),
      wake: (waiter, from) => this.wake(waiter, from),
      setTimer: (callback, ms, waiter) => this.timerFor(callback, ms, waiter),
      now: () => this.clock.now,
    };
  }

  /** The run is over: no step runs any more. */
  close(): void {
    this.current = undefined;
    this.stepping = undefined;
    this.leave();
  }

  /** The task whose code calls: its async context where the runtime has one, else the task of the current step. */
  caller(): TaskState | undefined {
    const task = runningTask()?.get();
    if (task === undefined) return this.current;
    // Code of a task of an earlier simulation, resumed after that one settled, is outside this one.
    if (task.sim !== this.owner) return undefined;
    // Code of another task than the step's runs in this step: what the step touches is no longer declared.
    if (task !== this.current && this.stepping !== undefined) this.stepping.footprint.all = true;
    return task;
  }

  /** Marks `primitive` as touched by the step that runs now. */
  private touch(primitive: object | undefined): void {
    if (primitive !== undefined && this.stepping !== undefined) {
      this.stepping.footprint.writes.add(keyOf(primitive));
    }
  }

  /** Lets every microtask run: waits for a real macrotask, and runs a fake clock's microtask jobs until none is left. */
  async settle(): Promise<void> {
    const jobs = this.clock.fake as { jobs?: unknown[] } | undefined;
    for (;;) {
      await macrotask();
      if (jobs === undefined || jobs.jobs === undefined || jobs.jobs.length === 0) return;
      this.clock.fake!.runMicrotasks();
    }
  }

  /** The step that ran is over: tells the reducer what it touched. */
  endStep(): void {
    const stepping = this.stepping;
    if (stepping === undefined) return;
    this.stepping = undefined;
    this.reducer?.stepped(stepping.candidate, stepping.footprint, stepping.chosen);
  }

  /** Makes one choice and fires it. */
  step(): void {
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
    this.record.record(this.clock.now - this.clock.origin, event.task?.name, event.kind, event.detail);
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
  enable(event: Event): void {
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
  advance(): boolean {
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

  deadlock(): DeadlockError {
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
}
