/**
 * One signal and one timeout spanning a sequence of waits (a condition's `waitFor` loop, a queue iteration step):
 * the time budget is the whole call's, not each wait's.
 *
 * @module
 */

import { TimeoutError } from '../errors.js';
import { unwatchSignal, watchSignal, type AbortWatcher } from './abort.js';
import type { WaitOptions } from './options.js';
import { clearTimer, setTimer } from './scheduler.js';

/**
 * Turns a caller's `{ signal, timeout }` into wait options for each step of a longer call. With no timeout, the
 * caller's options pass through untouched; with one, a single timer (through the scheduler hook) aborts an inner
 * signal when the budget runs out, with a `TimeoutError`. Call {@link Deadline.dispose} when the call settles: it
 * clears the timer and the listener on the caller's signal.
 */
export class Deadline implements AbortWatcher {
  /** The options to pass to each step. */
  readonly options: WaitOptions | undefined;
  private readonly controller: AbortController | undefined;
  private readonly outer: AbortSignal | undefined;
  private timer: unknown = undefined;

  /**
   * @param options - the caller's options, already checked (`rejectEarly`).
   * @param label - names the primitive in the timeout message.
   */
  constructor(options: WaitOptions | undefined, label: string) {
    const timeout = options?.timeout;
    if (timeout === undefined || timeout === Infinity || timeout === 0) {
      this.options = options;
      return;
    }
    const controller = new AbortController();
    this.controller = controller;
    this.options = { signal: controller.signal };
    this.outer = options?.signal;
    if (this.outer !== undefined) watchSignal(this.outer, this);
    this.timer = setTimer(() => {
      this.timer = undefined;
      controller.abort(new TimeoutError(`${label} timed out after ${timeout} ms`));
    }, timeout);
  }

  /** Forwards an abort of the caller's signal. */
  signalAborted(reason: unknown): void {
    this.controller?.abort(reason);
  }

  /** Clears the timer and the listener; the options must not be used afterwards. */
  dispose(): void {
    if (this.outer !== undefined) unwatchSignal(this.outer, this);
    if (this.timer !== undefined) {
      clearTimer(this.timer);
      this.timer = undefined;
    }
  }
}
