/**
 * Zero cost when idle: after many acquisitions that share one long-lived AbortSignal (granted at once, granted
 * after waiting, timed out, aborted through their own signal), no abort listener and no timer remains.
 */
import { expect } from 'chai';
import type sinon from 'sinon';
import {
  AsyncBoundedSemaphore,
  AsyncEvent,
  AsyncLock,
  AsyncSemaphore,
  TimeoutError,
  type Guard,
} from '../lib/index.js';
import type { WaitOptions } from '../lib/index.js';
import { installFakeClock, rejectionOf } from './suites/helpers.js';

/** Counts the abort listeners registered on `signal`, by wrapping its own add/removeEventListener. */
function countListeners(signal: AbortSignal) {
  const live = new Set<unknown>();
  let added = 0;
  const add = signal.addEventListener.bind(signal);
  const remove = signal.removeEventListener.bind(signal);
  signal.addEventListener = ((
    type: string,
    listener: EventListenerOrEventListenerObject,
    options?: unknown,
  ) => {
    if (type === 'abort' && listener !== null) {
      live.add(listener);
      added++;
    }
    add(type, listener, options as AddEventListenerOptions);
  }) as AbortSignal['addEventListener'];
  signal.removeEventListener = ((
    type: string,
    listener: EventListenerOrEventListenerObject,
    options?: unknown,
  ) => {
    if (type === 'abort') live.delete(listener);
    remove(type, listener, options as EventListenerOptions);
  }) as AbortSignal['removeEventListener'];
  return {
    get live() {
      return live.size;
    },
    get added() {
      return added;
    },
  };
}

interface Acquirable {
  acquire(options?: WaitOptions & { permits?: number }): Promise<Guard>;
  tryAcquire(permits?: number): Guard | undefined;
}

const rounds = 2_500; // four acquisitions a round: 10,000 in all
/** An explicit reason: aborting without one builds a DOMException, which dominates the loop's run time. */
const abortReason = new Error('aborted on purpose');

/** A cheap assertion for the hot loops (chai's `expect` dominates their run time otherwise). */
function check(actual: unknown, expected: unknown, what: string, round: number): void {
  if (actual !== expected)
    throw new Error(`round ${round}: ${what} is ${String(actual)}, expected ${String(expected)}`);
}

const subjects: [string, () => Acquirable, number][] = [
  ['AsyncLock', () => new AsyncLock(), 1],
  ['AsyncSemaphore(1)', () => new AsyncSemaphore(1), 1],
  ['AsyncSemaphore(3), 2 permits a request', () => new AsyncSemaphore(3), 2],
  ['AsyncBoundedSemaphore(2)', () => new AsyncBoundedSemaphore(2), 2],
];

describe('no leaks', () => {
  let clock: sinon.SinonFakeTimers | undefined;

  afterEach(() => {
    clock?.restore();
    clock = undefined;
  });

  for (const [name, make, permits] of subjects) {
    it(`${name}: 10,000 acquisitions on one long-lived signal leave no listener and no timer`, async () => {
      clock = installFakeClock();
      const subject = make();
      const longLived = new AbortController().signal;
      const listeners = countListeners(longLived);
      const ask = permits === 1 ? {} : { permits };
      let abortedOwn = 0;
      for (let round = 0; round < rounds; round++) {
        // Uncontended: granted at once.
        (await subject.acquire({ ...ask, signal: longLived, timeout: 1_000 })).release();

        // Contended: one granted after waiting, one aborted through its own signal, one timed out.
        const holder = subject.tryAcquire(permits) as Guard;
        const granted = subject.acquire({ ...ask, signal: longLived, timeout: 1_000 });
        const own = new AbortController();
        const ownListeners = countListeners(own.signal);
        const aborted = subject.acquire({ ...ask, signal: own.signal, timeout: 1_000 });
        const timedOut = subject.acquire({ ...ask, signal: longLived, timeout: 10 });
        // One listener on the long-lived signal, shared by the two waits that use it.
        check(listeners.live, 1, 'listeners.live', round);
        check(ownListeners.live, 1, 'ownListeners.live', round);
        check(clock.countTimers(), 3, 'clock.countTimers()', round);

        own.abort(abortReason);
        check(ownListeners.live, 0, 'ownListeners.live', round);
        clock.tick(10);
        check(listeners.live, 1, 'listeners.live', round);
        holder.release();
        // Granted: its listener and timer are gone in the same step.
        check(listeners.live, 0, 'listeners.live', round);
        check(clock.countTimers(), 0, 'clock.countTimers()', round);

        (await granted).release();
        check(await rejectionOf(aborted), own.signal.reason, 'the abort reason', round);
        check((await rejectionOf(timedOut)) instanceof TimeoutError, true, 'a TimeoutError', round);
        abortedOwn += ownListeners.added;
      }
      expect(listeners.live).to.equal(0);
      expect(listeners.added).to.equal(rounds);
      expect(abortedOwn).to.equal(rounds);
      expect(clock.countTimers()).to.equal(0);
    });
  }

  it('AsyncEvent: 10,000 waits on one long-lived signal leave no listener and no timer', async () => {
    clock = installFakeClock();
    const event = new AsyncEvent();
    const longLived = new AbortController().signal;
    const listeners = countListeners(longLived);
    for (let round = 0; round < rounds; round++) {
      event.clear();
      const woken = event.wait({ signal: longLived, timeout: 1_000 });
      const own = new AbortController();
      const ownListeners = countListeners(own.signal);
      const aborted = event.wait({ signal: own.signal, timeout: 1_000 });
      const timedOut = event.wait({ signal: longLived, timeout: 10 });
      check(listeners.live, 1, 'listeners.live', round);
      own.abort(abortReason);
      clock.tick(10);
      event.set();
      check(listeners.live, 0, 'listeners.live', round);
      check(ownListeners.live, 0, 'ownListeners.live', round);
      check(clock.countTimers(), 0, 'clock.countTimers()', round);
      await woken;
      check(await rejectionOf(aborted), own.signal.reason, 'the abort reason', round);
      check((await rejectionOf(timedOut)) instanceof TimeoutError, true, 'a TimeoutError', round);
      // Set: resolves at once, without listening.
      await event.wait({ signal: longLived, timeout: 1_000 });
    }
    expect(listeners.live).to.equal(0);
    expect(listeners.added).to.equal(rounds);
    expect(clock.countTimers()).to.equal(0);
  });
});
