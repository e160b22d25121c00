/**
 * The wait options every blocking method takes, and their validation, done once here for every primitive.
 *
 * @module
 */

/**
 * Options accepted by every method that can wait.
 *
 * - `signal`: an already-aborted signal rejects with `signal.reason` before the call touches any queue (and wins
 *   over every other outcome); an abort while waiting rejects with `signal.reason` and removes the waiter at once.
 * - `timeout`: milliseconds, `>= 0`. `0` means "only if available now"; `Infinity` or leaving it out means no limit;
 *   delays above `setTimeout`'s 2^31-1 ms limit still wait the full time. On expiry the call rejects with
 *   `TimeoutError`.
 *
 * Once a waiter has been granted what it asked for, a later abort or timeout does nothing ("grant wins").
 */
export interface WaitOptions {
  /** Aborts the wait: the call rejects with `signal.reason`. */
  signal?: AbortSignal | undefined;
  /** Gives up after this many milliseconds with a `TimeoutError`. */
  timeout?: number | undefined;
}

/** Shows a bad argument in an error message: strings quoted, objects by their tag, never their contents. */
export function describe(value: unknown): string {
  if (typeof value === 'string') return JSON.stringify(value);
  if (typeof value === 'bigint') return `${value}n`;
  if (value === null || (typeof value !== 'object' && typeof value !== 'function')) return String(value);
  return Object.prototype.toString.call(value);
}

function isAbortSignal(value: unknown): value is AbortSignal {
  return (
    typeof value === 'object' &&
    value !== null &&
    typeof (value as AbortSignal).aborted === 'boolean' &&
    typeof (value as AbortSignal).addEventListener === 'function' &&
    typeof (value as AbortSignal).removeEventListener === 'function'
  );
}

/**
 * Checks the members of a method's options beyond `signal` and `timeout` (a poll's `interval`), throwing for bad
 * input; `name` is `label.method` (or `label` alone, for a function), to start the message with.
 */
export type OptionsCheck<Options> = (options: NonNullable<Options>, name: string) => void;

/**
 * Checks `options` and returns a rejected promise for bad input or an already-aborted signal, or `undefined` when
 * the call may go on. The order is the contract's: bad input (`signal` and `timeout`, then what `check` checks),
 * then an aborted signal, before anything else. Messages name `label.method` (or `label` alone, for a function); the
 * name is only built when there are options to check (the hot path has none).
 */
export function rejectEarly<Options extends WaitOptions | undefined>(
  options: Options,
  label: string,
  method?: string,
  check?: OptionsCheck<Options>,
): Promise<never> | undefined {
  if (options === undefined) return undefined;
  try {
    const name = method === undefined ? label : `${label}.${method}`;
    checkWaitOptions(options, name);
    if (check !== undefined) check(options as NonNullable<Options>, name);
  } catch (error) {
    return Promise.reject(error);
  }
  const signal = (options as WaitOptions).signal;
  if (signal !== undefined && signal.aborted) return Promise.reject(signal.reason);
  return undefined;
}

/** What {@link admit} needs of a primitive: its label, which names the method in error messages. */
export interface Labelled {
  readonly label: string;
}

/**
 * The body of a waiting method, run by {@link admit} once its options passed the prologue: the primitive's fast
 * path (the event already set, the lock free, an item there), then its park. `arg` is what the method passes along
 * (an item, a function, checked keys).
 */
export type AdmittedBody<O, Options, A, R> = (this: O, options: Options, arg: A) => Promise<R>;

/**
 * The prologue of every waiting method, written once: checks `options` (bad input, then an already-aborted
 * signal, which rejects whatever the primitive's state, even with the resource free: DESIGN.md section 2), and only
 * then runs `body` on `owner` with them. A primitive writes `return admit(this, 'wait', options, this.waitAdmitted)`
 * and its fast path never sees unchecked options. Never throws: every early outcome is a rejected promise.
 *
 * @param owner - the primitive, `this` of `body`; its label names `method` in messages.
 * @param method - the method's name in messages; `undefined` for a function (`sleep`), named by `owner.label` alone.
 * @param arg - passed to `body` as it is. The method's own arguments (an item, keys, `permits`) are checked by the
 *   method before it calls `admit`, since bad input rejects before an aborted signal does.
 * @param check - checks the members of `options` beyond `signal` and `timeout`, before the signal is looked at.
 */
export function admit<O extends Labelled, Options extends WaitOptions | undefined, A, R>(
  owner: O,
  method: string | undefined,
  options: Options,
  body: AdmittedBody<O, Options, A, R>,
  arg?: A,
  check?: OptionsCheck<Options>,
): Promise<R> {
  if (options !== undefined) {
    const early = rejectEarly(options, owner.label, method, check);
    if (early !== undefined) return early;
  }
  return body.call(owner, options, arg as A);
}

/** Throws a `TypeError`/`RangeError` naming the bad member of `options`. */
export function checkWaitOptions(options: WaitOptions | undefined, method: string): void {
  if (options === undefined) return;
  if (typeof options !== 'object' || options === null) {
    throw new TypeError(`${method}: options must be an object, got ${describe(options)}`);
  }
  const { signal, timeout } = options;
  if (signal !== undefined && !isAbortSignal(signal)) {
    throw new TypeError(`${method}: options.signal must be an AbortSignal, got ${describe(signal)}`);
  }
  if (timeout !== undefined) checkTimeout(timeout, `${method}: options.timeout`);
}

/** Throws unless `value` is a number of milliseconds `>= 0` (`Infinity` allowed). */
export function checkTimeout(value: unknown, name: string): asserts value is number {
  if (typeof value !== 'number') {
    throw new TypeError(`${name} must be a number of milliseconds, got ${describe(value)}`);
  }
  if (!(value >= 0)) throw new RangeError(`${name} must be >= 0, got ${describe(value)}`);
}

/**
 * Throws unless `value` is a safe integer `>= min`. `NaN`, fractions, `Infinity`, integers beyond
 * `Number.MAX_SAFE_INTEGER` (where arithmetic silently loses units), strings and the like are rejected, never coerced.
 */
export function checkInteger(value: unknown, name: string, min: number): asserts value is number {
  if (typeof value !== 'number') throw new TypeError(`${name} must be an integer, got ${describe(value)}`);
  if (!Number.isInteger(value)) throw new RangeError(`${name} must be an integer, got ${describe(value)}`);
  if (value < min) throw new RangeError(`${name} must be >= ${min}, got ${describe(value)}`);
  if (!Number.isSafeInteger(value)) {
    throw new RangeError(`${name} must be a safe integer (at most 2^53 - 1 in size), got ${describe(value)}`);
  }
}

/**
 * Throws unless `value` is a waiter priority: a finite number (larger is served first; 0 is the default). What a
 * primitive passes to `WaitQueue.park` once checked.
 */
export function checkPriority(value: unknown, name: string): asserts value is number {
  if (typeof value !== 'number')
    throw new TypeError(`${name} must be a finite number, got ${describe(value)}`);
  if (!Number.isFinite(value))
    throw new RangeError(`${name} must be a finite number, got ${describe(value)}`);
}

/** Throws unless `value` is a function. */
export function checkFunction(value: unknown, name: string): asserts value is (...args: never[]) => unknown {
  if (typeof value !== 'function') throw new TypeError(`${name} must be a function, got ${describe(value)}`);
}

/** Options every primitive's constructor takes. */
export interface NameOptions {
  /** Shown by `toString()`, in timeout messages and in the harness's deadlock reports. */
  name?: string | undefined;
}

/**
 * Checks a constructor's `options` and returns the primitive's label: `kind(name)`, or `kind` when unnamed.
 *
 * @throws TypeError - when `options` is not an object or `options.name` is not a string.
 */
export function labelFor(kind: string, options: NameOptions | undefined): string {
  if (options === undefined) return kind;
  if (typeof options !== 'object' || options === null) {
    throw new TypeError(`${kind}: options must be an object, got ${describe(options)}`);
  }
  const name: unknown = options.name;
  if (name === undefined) return kind;
  if (typeof name !== 'string')
    throw new TypeError(`${kind}: options.name must be a string, got ${describe(name)}`);
  return `${kind}(${name})`;
}
