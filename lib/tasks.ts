import { Primitive } from './core/primitive.js';
import { admit, checkFunction, describe, type NameOptions, type WaitOptions } from './core/options.js';
import { keepAliveWhile } from './core/keep-alive.js';
import { WaitQueue } from './core/wait-queue.js';
import { createTask, type Task } from './task.js';

export { sleep, waitUntil, type SleepOptions, type WaitUntilOptions } from './sleep.js';
export { Task } from './task.js';

/** Options of {@link TaskGroup.spawn}. */
export interface SpawnOptions {
  /** Names the task in `toString()`, error messages and deadlock reports; default `task-1`, `task-2`, ... */
  name?: string | undefined;
  /**
   * A daemon task never keeps `join` waiting: it is aborted once the group's other tasks are done, its failure is
   * reported only through its own `Task.join()`, and in Node no timer its code starts (a `sleep`, a `waitUntil` poll,
   * the `timeout` of any primitive it waits on, across its awaits) keeps the process alive. Default `false`.
   */
  daemon?: boolean | undefined;
}

/**
 * Runs tasks together and waits for them: the counterpart of starting threads and joining them, with the
 * structured error handling of Python's `asyncio.TaskGroup` and Trio's nurseries.
 *
 * - `spawn(fn)` starts a task; `join()` waits until every **non-daemon** task has finished, then aborts the daemon
 *   tasks (their signals) and resolves. Daemons never keep `join` waiting.
 * - If a non-daemon task fails, the group aborts every other task (their signals) and `join` rejects, once the
 *   non-daemon tasks have finished, with an `AggregateError` of the failures. A rejection that merely echoes the
 *   abort reason of the task's own signal is not a failure. A daemon's failure is reported only through its own
 *   `Task.join()`.
 * - `abort(reason)` aborts every task; `join` then resolves once they have stopped (unless some failed with
 *   another error), as leaving a cancelled Trio cancel scope.
 * - The group **settles** when `join()` (or `abort()`) has been called and no non-daemon task is left; from then on
 *   `spawn` throws. Tasks may spawn more tasks while `join` waits.
 * - `await using group = new TaskGroup()` joins the group when the block ends, then also waits for the aborted
 *   daemons to stop, so no task outlives the block. JavaScript does not tell `[Symbol.asyncDispose]` whether the
 *   block threw, so it cannot abort the tasks on error as `asyncio.TaskGroup` does: catch the error and call
 *   `abort()` for that.
 *
 * Every task must honour its signal (pass it on to `sleep`, `lock.acquire({ signal })`, `fetch`, ...), or an abort
 * cannot stop it and `join` waits for it.
 *
 * @fairness callers of `join` are released together, in the order they started waiting.
 *
 * @example
 * ```ts
 * const group = new TaskGroup({ name: 'crawl' });
 * group.spawn(async (signal) => crawl('a', signal));
 * group.spawn(async (signal) => crawl('b', signal));
 * group.spawn(async (signal) => reportProgress(signal), { daemon: true });
 * await group.join(); // both crawls done; the progress reporter aborted
 * ```
 */
export class TaskGroup extends Primitive implements AsyncDisposable {
  /** Every task not yet finished, with the controller of its signal. */
  private readonly live = new Map<Task<unknown>, AbortController>();
  /** How many of `live` are not daemons. Invariant: once settled, 0. */
  private nonDaemons = 0;
  /** How many tasks were spawned, for default names. */
  private spawned = 0;
  /** `join` (or `[Symbol.asyncDispose]`) was called: the group settles as soon as no non-daemon task is left. */
  private joinRequested = false;
  /** Set by the first abort (explicit, or caused by a failure): `{ reason }`. */
  private abortedWith: { reason: unknown } | undefined = undefined;
  private isSettled = false;
  /** Failures of non-daemon tasks, in the order they happened. */
  private readonly failures: { task: Task<unknown>; error: unknown }[] = [];
  /** Callers of `join`. Invariant: empty once settled. */
  private readonly joiners = new WaitQueue<void>(this);
  /** Disposers waiting for the last daemon to stop. Invariant: empty once settled and no task is left. */
  private readonly drainers = new WaitQueue<void>(this);

  /**
   * @param options - `name`: shown by `toString()`, in error messages and in deadlock reports.
   * @throws TypeError - when `options.name` is not a string.
   */
  constructor(options?: NameOptions) {
    super('TaskGroup', options);
  }

  /** How many non-daemon tasks have not finished. */
  get running(): number {
    return this.nonDaemons;
  }

  /** How many daemon tasks have not finished (aborted daemons count until they stop). */
  get daemons(): number {
    return this.live.size - this.nonDaemons;
  }

  /** How many callers wait in `join` or `[Symbol.asyncDispose]`. */
  get waiting(): number {
    return this.joiners.size + this.drainers.size;
  }

  /** Whether the group was aborted, by `abort()` or by a failing task. */
  get aborted(): boolean {
    return this.abortedWith !== undefined;
  }

  /** Whether the group has settled: joined (or aborted) with no non-daemon task left. `spawn` then throws. */
  get settled(): boolean {
    return this.isSettled;
  }

  /**
   * Starts `fn(signal)` as a task of the group, on a later microtask (after `spawn` returns), in an async context
   * of its own. Tasks may spawn siblings until the group settles.
   *
   * @param fn - the task's code; it receives the task's signal, aborted when the group aborts the task.
   * @param options - `name` and `daemon`; see {@link SpawnOptions}.
   * @returns the task, to join it or read its state.
   * @throws TypeError - when `fn` is not a function, `options.name` not a string or `options.daemon` not a boolean.
   * @throws Error - when the group has settled or was aborted.
   *
   * @example
   * ```ts
   * const task = group.spawn(async (signal) => { await sleep(100, { signal }); return 42; }, { name: 'answer' });
   * ```
   */
  spawn<T>(fn: (signal: AbortSignal) => T | PromiseLike<T>, options?: SpawnOptions): Task<T> {
    const method = `${this.label}.spawn`;
    checkFunction(fn, `${method}: fn`);
    if (options !== undefined && (typeof options !== 'object' || options === null)) {
      throw new TypeError(`${method}: options must be an object, got ${describe(options)}`);
    }
    const name: unknown = options?.name;
    if (name !== undefined && typeof name !== 'string') {
      throw new TypeError(`${method}: options.name must be a string, got ${describe(name)}`);
    }
    const daemon: unknown = options?.daemon === undefined ? false : options.daemon;
    if (typeof daemon !== 'boolean') {
      throw new TypeError(`${method}: options.daemon must be a boolean, got ${describe(daemon)}`);
    }
    if (this.isSettled) throw new Error(`${this.label} has settled: it cannot spawn more tasks`);
    if (this.abortedWith !== undefined)
      throw new Error(`${this.label} was aborted: it cannot spawn more tasks`);
    this.spawned++;
    const controller = new AbortController();
    const task = createTask<T>({
      name: name ?? `task-${this.spawned}`,
      daemon,
      signal: controller.signal,
      fn,
      onSettled: (settled, fulfilled, outcome) => this.taskSettled(settled, fulfilled, outcome),
    });
    this.live.set(task as Task<unknown>, controller);
    if (!daemon) this.nonDaemons++;
    return task;
  }

  /**
   * Waits until every non-daemon task has finished, then aborts the daemon tasks and resolves (without waiting for
   * the daemons to stop). Calling `join` closes the group: once no non-daemon task is left, it settles and `spawn`
   * throws. Joining a settled group resolves (or rejects) at once, as often as asked.
   *
   * @param options - `signal` aborts the wait, `timeout` (ms) bounds it; see {@link WaitOptions}.
   * @throws AggregateError - (rejection) of the non-daemon tasks' failures, in the order they failed, once all
   *   non-daemon tasks have finished (each caller gets its own `AggregateError`).
   * @throws TimeoutError - (rejection) when `timeout` expires first.
   * @throws TypeError | RangeError - (rejection) for bad options.
   *
   * @cancellation an abort or timeout of the join leaves the tasks running (call `abort()` to stop them); the
   * group stays closed.
   *
   * @example
   * ```ts
   * await group.join({ timeout: 60_000 });
   * ```
   */
  join(options?: WaitOptions): Promise<void> {
    return admit(this, 'join', options, this.joinAdmitted);
  }

  /** The body of `join` once its options are checked. */
  private joinAdmitted(options: WaitOptions | undefined): Promise<void> {
    this.joinRequested = true;
    if (!this.isSettled && this.nonDaemons === 0) this.settle();
    // Settled with failures, the joiners' queue is closed: the park rejects at once with the failures.
    if (this.isSettled && !this.joiners.closed) return Promise.resolve();
    return keepAliveWhile(this.joiners.park(options));
  }

  /**
   * Aborts every task that has not finished (daemons included) with `reason`, and closes the group: `spawn` throws
   * from now on. `join` resolves once the non-daemon tasks have stopped, and rejects only for failures other than
   * the abort reason. Aborting an aborted or settled group does nothing.
   *
   * @param reason - the tasks' `signal.reason`; default a `DOMException` named `AbortError`.
   *
   * @example
   * ```ts
   * group.abort(new Error('shutting down'));
   * await group.join();
   * ```
   */
  abort(reason?: unknown): void {
    if (this.isSettled || this.abortedWith !== undefined) return;
    this.abortTasks(
      reason === undefined ? new DOMException(`${this.label} was aborted`, 'AbortError') : reason,
    );
    if (this.nonDaemons === 0) this.settle();
  }

  /**
   * Joins the group (as {@link TaskGroup.join}), then waits for its aborted daemon tasks to stop, so that no task
   * outlives an `await using` block. Rejects as `join` does.
   *
   * @example
   * ```ts
   * {
   *   await using group = new TaskGroup();
   *   group.spawn(work);
   * } // joined here
   * ```
   */
  async [Symbol.asyncDispose](): Promise<void> {
    try {
      await this.join();
    } finally {
      // The daemons left are aborted and their timers do not keep Node alive: the disposal does, while it waits.
      if (this.live.size > 0) await keepAliveWhile(this.drainers.park(undefined));
    }
  }

  /** Describes the state, such as `TaskGroup(crawl)[running=2, daemons=1]`, with `aborted` or `settled` if so. */
  protected describeState(): string {
    const state = this.isSettled ? ', settled' : this.abortedWith !== undefined ? ', aborted' : '';
    return `running=${this.nonDaemons}, daemons=${this.daemons}${state}`;
  }

  private abortTasks(reason: unknown): void {
    this.abortedWith = { reason };
    for (const controller of [...this.live.values()]) controller.abort(reason);
  }

  private taskSettled(task: Task<unknown>, fulfilled: boolean, outcome: unknown): void {
    this.live.delete(task);
    if (!task.daemon) {
      this.nonDaemons--;
      const echo = task.signal.aborted && outcome === task.signal.reason;
      if (!fulfilled && !echo) {
        this.failures.push({ task, error: outcome });
        if (this.abortedWith === undefined) {
          this.abortTasks(new DOMException(`${this.label} was aborted: ${task.label} failed`, 'AbortError'));
        }
      }
      if (
        this.nonDaemons === 0 &&
        !this.isSettled &&
        (this.joinRequested || this.abortedWith !== undefined)
      ) {
        this.settle();
      }
    }
    if (this.isSettled && this.live.size === 0) this.drainers.grantAll(undefined);
  }

  /** No non-daemon task is left and the group was joined or aborted: abort the daemons, release the joiners. */
  private settle(): void {
    this.isSettled = true;
    if (this.abortedWith === undefined) {
      const reason = new DOMException(`${this.label} has settled: daemon tasks are aborted`, 'AbortError');
      for (const [task, controller] of [...this.live]) if (task.daemon) controller.abort(reason);
    }
    // Every joiner, now and from now on, gets its own AggregateError of the failures.
    if (this.failures.length > 0) this.joiners.close(() => this.failure());
    else this.joiners.grantAll(undefined);
    if (this.live.size === 0) this.drainers.grantAll(undefined);
  }

  private failure(): AggregateError {
    const count = this.failures.length;
    const tasks = this.failures.map(({ task }) => task.label).join(', ');
    return new AggregateError(
      this.failures.map(({ error }) => error),
      `${this.label}: ${count === 1 ? 'a task' : `${count} tasks`} failed: ${tasks}`,
    );
  }
}
