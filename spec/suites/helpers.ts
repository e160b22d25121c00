/**
 * Small helpers shared by the specs. Browser-compatible: no Node built-ins.
 */
import sinon from 'sinon';

/** A macrotask turn, captured at load so that fake timers (which may fake `setImmediate`) never delay it. */
const nextTurn: (resolve: () => void) => void = (() => {
  const immediate = (globalThis as { setImmediate?: (callback: () => void) => unknown }).setImmediate;
  if (typeof immediate === 'function') return (resolve: () => void) => void immediate(resolve);
  const channel = new MessageChannel();
  const waiting: (() => void)[] = [];
  channel.port1.onmessage = () => (waiting.shift() as () => void)();
  return (resolve: () => void) => {
    waiting.push(resolve);
    channel.port2.postMessage(undefined);
  };
})();

/**
 * Resolves once everything pending has run: every promise reaction, and every reaction those queue, however long
 * the chain (a macrotask runs only when the microtask queue is empty). Exact, unlike counting microtask turns; uses
 * no timer, so it works the same with or without fake timers installed.
 */
export function flush(): Promise<void> {
  return new Promise<void>((resolve) => nextTurn(resolve));
}

/**
 * Yields `turns` microtask turns: lets other tasks interleave with the caller at a chosen point of a scenario.
 * Not a way to wait until things have settled (that is {@link flush}).
 */
export async function yieldTurns(turns: number): Promise<void> {
  for (let turn = 0; turn < turns; turn++) await Promise.resolve();
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
