/**
 * The waiting that the threads primitives share: an asynchronous wait on one word (`Atomics.waitAsync`), a blocking
 * one (`Atomics.wait`), and the timeout and abort signal that end a wait early.
 *
 * @module
 */

import { TimeoutError } from '../errors.js';
import { checkTimeout, checkWaitOptions, describe, type WaitOptions } from '../core/options.js';
import { canBlock, waitEnded, waitStarted } from './agent.js';

type WaitAsync = (
  words: Int32Array,
  index: number,
  value: number,
) => { async: false; value: 'not-equal' | 'timed-out' } | { async: true; value: Promise<'ok' | 'timed-out'> };

const waitAsync = (Atomics as unknown as { waitAsync: WaitAsync }).waitAsync;

/**
 * Waits for `words[index]` to stop being `value` or to be notified, without blocking. Returns `false` when the word
 * differs already (nothing is pending); else `onWake` runs once, later. While the wait is pending, a Node process
 * stays alive.
 */
export function waitWord(words: Int32Array, index: number, value: number, onWake: () => void): boolean {
  const result = waitAsync(words, index, value);
  if (!result.async) return false;
  waitStarted();
  // Atomics.waitAsync never rejects; onWake is the package's own and does not throw.
  void result.value.then(() => {
    waitEnded();
    onWake();
  });
  return true;
}

/**
 * Blocks the calling agent until `words[index]` stops being `value`, it is notified, or `deadline`
 * (`performance.now()` time) passes. Returns `false` once the deadline has passed.
 */
export function blockOnWord(words: Int32Array, index: number, value: number, deadline: number): boolean {
  const remaining = deadline === Infinity ? Infinity : deadline - performance.now();
  if (remaining <= 0) return false;
  return Atomics.wait(words, index, value, remaining) !== 'timed-out' || performance.now() < deadline;
}

/** Throws the TypeError of a blocking call where the agent may not block. */
export function checkCanBlock(label: string, method: string): void {
  if (!canBlock()) {
    throw new TypeError(
      `${label}.${method}: this agent may not block (a browser's main thread): use the asynchronous method`,
    );
  }
}

/** Checks the options of a blocking method and returns its deadline (`performance.now()` time, or Infinity). */
export function syncDeadline(options: { timeout?: number | undefined } | undefined, method: string): number {
  if (options === undefined) return Infinity;
  if (typeof options !== 'object' || options === null) {
    throw new TypeError(`${method}: options must be an object, got ${describe(options)}`);
  }
  const timeout = options.timeout;
  if (timeout === undefined) return Infinity;
  checkTimeout(timeout, `${method}: options.timeout`);
  return performance.now() + timeout;
}

/**
 * Checks wait options; returns the reason to reject at once (bad input, an aborted signal), or undefined.
 */
export function earlyReason(
  options: WaitOptions | undefined,
  method: string,
): { reason: unknown } | undefined {
  if (options === undefined) return undefined;
  try {
    checkWaitOptions(options, method);
  } catch (error) {
    return { reason: error };
  }
  if (options.signal?.aborted) return { reason: options.signal.reason };
  return undefined;
}

/**
 * Arms the timeout (a timer looked up now, so fake timers control it) and the abort listener of one wait; either
 * calls `onCancel(reason)` once. Returns the function that disarms both (call it when the wait settles).
 */
export function armCancellation(
  options: WaitOptions | undefined,
  what: string,
  onCancel: (reason: unknown) => void,
): () => void {
  const timeout = options?.timeout;
  const signal = options?.signal;
  let timer: ReturnType<typeof setTimeout> | undefined;
  let onAbort: (() => void) | undefined;
  const disarm = () => {
    if (timer !== undefined) globalThis.clearTimeout(timer);
    if (onAbort !== undefined) signal!.removeEventListener('abort', onAbort);
    timer = undefined;
    onAbort = undefined;
  };
  if (timeout !== undefined && timeout !== Infinity) {
    const fire = (left: number) => {
      // setTimeout's limit is 2^31-1 ms: longer timeouts wait in steps.
      const now = Math.min(left, 0x7fffffff);
      timer = globalThis.setTimeout(() => {
        if (left > now) return fire(left - now);
        disarm();
        onCancel(new TimeoutError(`${what} timed out after ${timeout} ms`));
      }, now);
    };
    fire(timeout);
  }
  if (signal !== undefined) {
    onAbort = () => {
      disarm();
      onCancel(signal.reason);
    };
    signal.addEventListener('abort', onAbort);
  }
  return disarm;
}
