/**
 * Small helpers shared by the specs. Browser-compatible: no Node built-ins.
 */
import sinon from 'sinon';

/**
 * Lets every pending promise reaction run: awaits `rounds` microtask turns. Uses no timer, so it works the same
 * with or without fake timers installed.
 */
export async function flush(rounds = 50): Promise<void> {
  for (let i = 0; i < rounds; i++) await Promise.resolve();
}

/** The observed state of a promise, updated by its reactions (so read it after {@link flush}). */
export interface Observed<T> {
  state: 'pending' | 'fulfilled' | 'rejected';
  value: T | undefined;
  reason: unknown;
}

/** Starts observing `promise` (and marks its rejection as handled). */
export function observe<T>(promise: Promise<T>): Observed<T> {
  const observed: Observed<T> = { state: 'pending', value: undefined, reason: undefined };
  promise.then(
    (value) => {
      observed.state = 'fulfilled';
      observed.value = value;
    },
    (reason: unknown) => {
      observed.state = 'rejected';
      observed.reason = reason;
    },
  );
  return observed;
}

/** Resolves to the rejection reason of `promise`; fails when it fulfils. */
export async function rejectionOf(promise: Promise<unknown>): Promise<unknown> {
  let value: unknown;
  try {
    value = await promise;
  } catch (reason) {
    return reason;
  }
  throw new Error(`expected a rejection, got a fulfilment with ${String(value)}`);
}

/**
 * Installs sinon's fake clock for the timer functions only: promise jobs, `queueMicrotask`, `nextTick` and
 * `setImmediate` stay real, so awaiting works as usual while time stands still.
 */
export function installFakeClock(): sinon.SinonFakeTimers {
  return sinon.useFakeTimers({
    toFake: ['setTimeout', 'clearTimeout', 'setInterval', 'clearInterval', 'Date'],
  });
}
