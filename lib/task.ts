/**
 * A task of a {@link TaskGroup}: its state, its start (a wake-up the scheduler hook orders) and its joiners.
 *
 * @module
 */
import { Primitive } from './core/primitive.js';
import { admit, type WaitOptions } from './core/options.js';
import { keepAliveWhile } from './core/keep-alive.js';
import { wakeUnasked, withDetachedTimers } from './core/scheduler.js';
import { WaitQueue } from './core/wait-queue.js';

/** What `TaskGroup.spawn` hands to the `Task` it constructs (set just before, read once by the constructor). */
export interface TaskInit {
  name: string;
  daemon: boolean;
  signal: AbortSignal;
  fn: (signal: AbortSignal) => unknown;
  onSettled: (task: Task<unknown>, fulfilled: boolean, outcome: unknown) => void;
}
let spawning: TaskInit | undefined;

/**
 * One task of a {@link TaskGroup}: the counterpart of a started thread. Created by `group.spawn(fn)`; its `fn`
 * starts on a later microtask (after `spawn` returns), with the task's `signal`.
 *
 * @example
 * ```ts
 * const task = group.spawn(async (signal) => fetchReport(signal), { name: 'report' });
 * const report = await task.join({ timeout: 5000 });
 * ```
 */
export class Task<T> extends Primitive {
  /** The name given to `spawn`, or `task-N` (the Nth task of its group). */
  declare readonly name: string;
  /** Whether the task is a daemon (see {@link SpawnOptions.daemon}). */
  readonly daemon: boolean;
  /** Aborted when the group aborts the task; `fn` should pass it to whatever it waits on. */
  readonly signal: AbortSignal;
  private state: 'running' | 'fulfilled' | 'rejected' = 'running';
  private outcome: unknown = undefined;
  /** Callers of `join`. Invariant: empty once the task is done. */
  private readonly joiners = new WaitQueue<unknown>(this);

  /** Tasks are created by {@link TaskGroup.spawn} only: `new Task()` throws a `TypeError`. */
  constructor() {
    const init = spawning;
    spawning = undefined;
    if (init === undefined)
      throw new TypeError('Task: tasks are created by TaskGroup.spawn, not by new Task()');
    super('Task', { name: init.name });
    this.daemon = init.daemon;
    this.signal = init.signal;
    // The start is a wake-up like any other: the scheduler hook (the harness) chooses when the task begins.
    wakeUnasked(this, () => this.run(init.fn, init.onSettled));
  }

  /** Whether the task has finished (fulfilled or rejected). */
  get done(): boolean {
    return this.state !== 'running';
  }

  /** How many callers wait in `join`. */
  get waiting(): number {
    return this.joiners.size;
  }

  /**
   * Waits for the task to finish and returns its result, or rejects with its error (for a task aborted before it
   * started, or one that gave up on its signal, that is the abort reason). Any number of callers may join, before
   * or after the task finished.
   *
   * @param options - `signal` aborts the wait, `timeout` (ms) bounds it; see {@link WaitOptions}.
   * @returns what `fn` returned.
   * @throws unknown - (rejection) whatever `fn` threw.
   * @throws TimeoutError - (rejection) when `timeout` expires first.
   * @throws TypeError | RangeError - (rejection) for bad options.
   *
   * @cancellation an abort or timeout of the join leaves the task running.
   *
   * @example
   * ```ts
   * const value = await task.join();
   * ```
   */
  join(options?: WaitOptions): Promise<T> {
    return admit(this, 'join', options, this.joinAdmitted);
  }

  /** The body of `join` once its options are checked: the outcome at once if settled, else parked until then. */
  private joinAdmitted(options: WaitOptions | undefined): Promise<T> {
    if (this.state === 'fulfilled') return Promise.resolve(this.outcome as T);
    if (this.state === 'rejected') return Promise.reject(this.outcome);
    // The task may be a daemon, whose timers do not keep Node alive: the joiner does, while it waits.
    return keepAliveWhile(this.joiners.park(options) as Promise<T>);
  }

  /** Describes the state, such as `Task(fetch)[daemon, running, waiting=1]`. */
  protected describeState(): string {
    return `${this.daemon ? 'daemon, ' : ''}${this.state}, waiting=${this.joiners.size}`;
  }

  private run(
    fn: (signal: AbortSignal) => unknown,
    onSettled: (task: Task<unknown>, fulfilled: boolean, outcome: unknown) => void,
  ): void {
    const finish = (fulfilled: boolean, outcome: unknown) => {
      this.state = fulfilled ? 'fulfilled' : 'rejected';
      this.outcome = outcome;
      if (fulfilled) this.joiners.grantAll(outcome);
      else this.joiners.rejectAll(() => outcome);
      onSettled(this, fulfilled, outcome);
    };
    // A task aborted before it started never runs (as an asyncio task cancelled before its first step).
    if (this.signal.aborted) return finish(false, this.signal.reason);
    let result: unknown;
    try {
      result = withDetachedTimers(this.daemon, () => fn(this.signal));
    } catch (error) {
      return finish(false, error);
    }
    Promise.resolve(result).then(
      (value) => finish(true, value),
      (error: unknown) => finish(false, error),
    );
  }
}

/** Creates the task that `init` describes: the one way to construct a {@link Task}. */
export function createTask<T>(init: TaskInit): Task<T> {
  spawning = init;
  return new Task<T>();
}
