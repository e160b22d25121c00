/**
 * Workload 6: removal of cancelled waiters. `size` waiters are queued on a held lock; then every one of them is
 * removed, in a shuffled order (never head-first), by its AbortSignal or by its timeout (fired in virtual time by
 * @sinonjs/fake-timers; each waiter gets a distinct, shuffled delay). Only the removal is timed (abort/tick plus the
 * settling of the rejections); per-removal cost must not grow with `size` (O(1) unlink).
 *
 * Each kind of removal also runs without any queue ("runtime only": the signal's listener or the timer rejects a
 * bare promise). In shuffled order that baseline grows with `size` too: every removal touches objects scattered over
 * a heap that outgrows the CPU caches at 1e5 waiters. O(1) removal therefore shows as a flat coop-sync / runtime ratio.
 */
import { getEventListeners, setMaxListeners } from 'node:events';
import FakeTimers from '@sinonjs/fake-timers';
import type { Guard } from '../lib/core/guard.js';
import { TimeoutError } from '../lib/errors.js';
import { AsyncLock } from '../lib/lock.js';
import { compare, now, shuffled, Timed, type Result, type Subject } from './harness.js';
import {
  AsyncLockLib,
  AsyncMutexMutex,
  EsfxMutex,
  EsfxSemaphore,
  esfxCancelable,
  PQueue,
  task,
  withTimeout,
} from './peers.js';

export const SIZES = [1e3, 1e4, 1e5] as const;

/** A pre-built abort reason: the bench measures the removal, not the construction of a DOMException. */
const reason = new Error('bench abort');

/** Resolves once `n` rejections have been observed. */
function settleCounter(n: number): { onReject: () => void; all: Promise<void> } {
  let seen = 0;
  let done!: () => void;
  const all = new Promise<void>((resolve) => (done = resolve));
  return { onReject: () => void (++seen === n && done()), all };
}

function check(lock: AsyncLock): void {
  if (lock.waiting !== 0 || !lock.locked) throw new Error(`cancel bench: bad final state ${lock.toString()}`);
}

/**
 * What the runtime alone costs: the same aborts and rejections, but each signal's listener just rejects a bare
 * promise (no queue). coop-sync's own share of a removal is the difference.
 */
function abortBaseline(size: number): Subject {
  const order = shuffled(size, size);
  return {
    name: 'abort, runtime only',
    async run(ops) {
      let ns = 0;
      for (let rep = 0; rep < ops / size; rep++) {
        const controllers: AbortController[] = [];
        const { onReject, all } = settleCounter(size);
        for (let i = 0; i < size; i++) {
          const controller = new AbortController();
          controllers.push(controller);
          const signal = controller.signal;
          new Promise<void>((_, reject) => {
            const listener = (): void => {
              signal.removeEventListener('abort', listener);
              reject(signal.reason);
            };
            signal.addEventListener('abort', listener);
          }).then(undefined, onReject);
        }
        const start = now();
        for (let i = 0; i < size; i++) (controllers[order[i] as number] as AbortController).abort(reason);
        await all;
        ns += now() - start;
      }
      return new Timed(ns);
    },
  };
}

function abortSubject(size: number): Subject {
  const order = shuffled(size, size);
  return {
    name: 'abort',
    async run(ops) {
      let ns = 0;
      for (let rep = 0; rep < ops / size; rep++) {
        const lock = new AsyncLock();
        const held = lock.tryAcquire() as Guard;
        const controllers: AbortController[] = [];
        const { onReject, all } = settleCounter(size);
        for (let i = 0; i < size; i++) {
          const controller = new AbortController();
          controllers.push(controller);
          lock.acquire({ signal: controller.signal }).then(undefined, onReject);
        }
        const start = now();
        for (let i = 0; i < size; i++) (controllers[order[i] as number] as AbortController).abort(reason);
        await all;
        ns += now() - start;
        check(lock);
        held.release();
      }
      return new Timed(ns);
    },
  };
}

/**
 * The least an abort signal can be (one listener slot, `abort()` calls it): the contract only needs `aborted`,
 * `reason` and the two listener methods. With it the removal timed is coop-sync's own work, without the ~4-8 µs of
 * Node's EventTarget dispatch (an Event object per abort, listener maps) that dominates the AbortController rows.
 */
class MinimalSignal {
  aborted = false;
  reason: unknown = undefined;
  private listener: EventListenerObject | undefined = undefined;

  addEventListener(_type: string, listener: EventListenerObject): void {
    this.listener = listener;
  }

  removeEventListener(_type: string, listener: EventListenerObject): void {
    if (this.listener === listener) this.listener = undefined;
  }

  abort(why: unknown): void {
    this.aborted = true;
    this.reason = why;
    this.listener?.handleEvent(undefined as never);
  }
}

function minimalAbortSubject(size: number): Subject {
  const order = shuffled(size, size);
  return {
    name: 'abort, minimal signal',
    async run(ops) {
      let ns = 0;
      for (let rep = 0; rep < ops / size; rep++) {
        const lock = new AsyncLock();
        const held = lock.tryAcquire() as Guard;
        const signals: MinimalSignal[] = [];
        const { onReject, all } = settleCounter(size);
        for (let i = 0; i < size; i++) {
          const signal = new MinimalSignal();
          signals.push(signal);
          lock.acquire({ signal: signal as unknown as AbortSignal }).then(undefined, onReject);
        }
        const start = now();
        for (let i = 0; i < size; i++) (signals[order[i] as number] as MinimalSignal).abort(reason);
        await all;
        ns += now() - start;
        check(lock);
        held.release();
      }
      return new Timed(ns);
    },
  };
}

/** Minimal signals alone: each listener rejects a bare promise, in the same shuffled order (no queue). */
function minimalAbortBaseline(size: number): Subject {
  const order = shuffled(size, size);
  return {
    name: 'abort, minimal signal, runtime only',
    async run(ops) {
      let ns = 0;
      for (let rep = 0; rep < ops / size; rep++) {
        const signals: MinimalSignal[] = [];
        const { onReject, all } = settleCounter(size);
        for (let i = 0; i < size; i++) {
          const signal = new MinimalSignal();
          signals.push(signal);
          new Promise<void>((_, reject) => {
            const listener = {
              handleEvent(): void {
                signal.removeEventListener('abort', listener);
                reject(signal.reason);
              },
            };
            signal.addEventListener('abort', listener);
          }).then(undefined, onReject);
        }
        const start = now();
        for (let i = 0; i < size; i++) (signals[order[i] as number] as MinimalSignal).abort(reason);
        await all;
        ns += now() - start;
      }
      return new Timed(ns);
    },
  };
}

/** The fake clock alone: the same timers, each rejecting a bare promise with a new TimeoutError. */
function timeoutBaseline(size: number): Subject {
  const order = shuffled(size, size + 1);
  return {
    name: 'timeout, runtime only',
    async run(ops) {
      const clock = FakeTimers.withGlobal(globalThis).install({ toFake: ['setTimeout', 'clearTimeout'] });
      let ns = 0;
      try {
        for (let rep = 0; rep < ops / size; rep++) {
          const { onReject, all } = settleCounter(size);
          for (let i = 0; i < size; i++) {
            const delay = 1 + (order[i] as number);
            new Promise<void>((_, reject) => {
              globalThis.setTimeout(() => reject(new TimeoutError(`timed out after ${delay} ms`)), delay);
            }).then(undefined, onReject);
          }
          const start = now();
          clock.tick(size + 1);
          await all;
          ns += now() - start;
        }
      } finally {
        clock.uninstall();
      }
      return new Timed(ns);
    },
  };
}

function timeoutSubject(size: number): Subject {
  const order = shuffled(size, size + 1);
  return {
    name: 'timeout',
    async run(ops) {
      const clock = FakeTimers.withGlobal(globalThis).install({ toFake: ['setTimeout', 'clearTimeout'] });
      let ns = 0;
      try {
        for (let rep = 0; rep < ops / size; rep++) {
          const lock = new AsyncLock();
          const held = lock.tryAcquire() as Guard;
          const { onReject, all } = settleCounter(size);
          for (let i = 0; i < size; i++)
            lock.acquire({ timeout: 1 + (order[i] as number) }).then(undefined, onReject);
          const start = now();
          clock.tick(size + 1);
          await all;
          ns += now() - start;
          check(lock);
          held.release();
        }
      } finally {
        clock.uninstall();
      }
      return new Timed(ns);
    },
  };
}

// ---- peers ------------------------------------------------------------------------------------------------

/**
 * p-queue removes an aborted task with `findIndex` + `splice` (O(n) each: quadratic in shuffled order), so it runs
 * only up to this many waiters.
 */
export const P_QUEUE_MAX = 1e4;

/** A promise and the function that resolves it. */
function gate(): { opened: Promise<void>; open: () => void } {
  let open!: () => void;
  const opened = new Promise<void>((resolve) => (open = resolve));
  return { opened, open };
}

/** A peer that takes an AbortSignal (or, for @esfx, a Cancelable made from one): `park` queues one waiter. */
function abortPeer(
  name: string,
  size: number,
  hold: () => { park: (signal: AbortSignal) => Promise<unknown>; end: () => void },
): Subject {
  const order = shuffled(size, size);
  return {
    name,
    async run(ops) {
      let ns = 0;
      for (let rep = 0; rep < ops / size; rep++) {
        const { park, end } = hold();
        const controllers: AbortController[] = [];
        const { onReject, all } = settleCounter(size);
        for (let i = 0; i < size; i++) {
          const controller = new AbortController();
          controllers.push(controller);
          park(controller.signal).then(undefined, onReject);
        }
        const start = now();
        for (let i = 0; i < size; i++) (controllers[order[i] as number] as AbortController).abort(reason);
        await all;
        ns += now() - start;
        end();
        await new Promise((resolve) => setImmediate(resolve)); // let the peer's clean-up finish, untimed
      }
      return new Timed(ns);
    },
  };
}

function abortPeers(size: number): Subject[] {
  const peers = [
    abortPeer('abort: @esfx/async-mutex', size, () => {
      const lock = new EsfxMutex();
      lock.tryLock();
      return { park: (signal) => lock.lock(esfxCancelable(signal)), end: () => lock.unlock() };
    }),
    abortPeer('abort: @esfx/async-semaphore', size, () => {
      const semaphore = new EsfxSemaphore(0);
      return { park: (signal) => semaphore.wait(esfxCancelable(signal)), end: () => undefined };
    }),
  ];
  if (size <= P_QUEUE_MAX) {
    peers.push(
      abortPeer('abort: p-queue', size, () => {
        const queue = new PQueue({ concurrency: 1 });
        const { opened, open } = gate();
        void queue.add(() => opened);
        return { park: (signal) => queue.add(task, { signal }), end: open };
      }),
    );
  }
  return peers;
}

/** A peer with per-call timeouts: `park(delay)` queues one waiter. Runs under @sinonjs/fake-timers. */
function timeoutPeer(
  name: string,
  size: number,
  hold: () => { park: (delay: number) => Promise<unknown>; end: () => void },
): Subject {
  const order = shuffled(size, size + 1);
  return {
    name,
    async run(ops) {
      const clock = FakeTimers.withGlobal(globalThis).install({ toFake: ['setTimeout', 'clearTimeout'] });
      let ns = 0;
      try {
        for (let rep = 0; rep < ops / size; rep++) {
          const { park, end } = hold();
          const { onReject, all } = settleCounter(size);
          for (let i = 0; i < size; i++) park(1 + (order[i] as number)).then(undefined, onReject);
          const start = now();
          clock.tick(size + 1);
          await all;
          ns += now() - start;
          end();
          await new Promise((resolve) => setImmediate(resolve)); // let the peer's clean-up finish, untimed
        }
      } finally {
        clock.uninstall();
      }
      return new Timed(ns);
    },
  };
}

function timeoutPeers(size: number): Subject[] {
  // Both leave a timed-out waiter queued (it is skipped when its turn comes): the timeout is O(1), the queue keeps
  // the dead entry until then. Neither is released at the end: async-mutex would then dequeue its dead entries with
  // shift() (quadratic at 1e5), and async-lock skips them by a synchronous recursion one frame deep per entry (it
  // overflows the stack at 1e4).
  return [
    timeoutPeer('timeout: async-mutex', size, () => {
      const lock = new AsyncMutexMutex();
      void lock.acquire();
      return { park: (delay) => withTimeout(lock, delay).acquire(), end: () => undefined };
    }),
    timeoutPeer('timeout: async-lock', size, () => {
      const lock = new AsyncLockLib({ maxPending: Infinity });
      void lock.acquire('key', () => new Promise<void>(() => undefined));
      return { park: (timeout) => lock.acquire('key', task, { timeout }), end: () => undefined };
    }),
  ];
}

/**
 * Listeners left on one AbortSignal reused for `count` acquisitions, each of which waits (two tasks take turns, so
 * every acquisition but the first is queued while the other holds). A library that does not remove its listener on
 * grant leaks one per acquisition.
 */
export async function listenersLeft(count: number): Promise<{ name: string; listeners: number }[]> {
  const fresh = (): AbortSignal => {
    const signal = new AbortController().signal;
    setMaxListeners(count + 10, signal);
    return signal;
  };
  const twoTasks = async (body: () => Promise<void>): Promise<void> => {
    await Promise.all([body(), body()]);
  };
  const out: { name: string; listeners: number }[] = [];

  const coopSignal = fresh();
  const lock = new AsyncLock();
  await twoTasks(async () => {
    for (let i = 0; i < count / 2; i++) {
      const guard = await lock.acquire({ signal: coopSignal });
      await undefined;
      guard.release();
    }
  });
  out.push({ name: 'coop-sync', listeners: getEventListeners(coopSignal, 'abort').length });

  const queueSignal = fresh();
  const queue = new PQueue({ concurrency: 1 });
  const tick = async (): Promise<void> => void (await undefined);
  await twoTasks(async () => {
    for (let i = 0; i < count / 2; i++) await queue.add(tick, { signal: queueSignal });
  });
  out.push({ name: 'p-queue', listeners: getEventListeners(queueSignal, 'abort').length });

  const mutexSignal = fresh();
  const cancelable = esfxCancelable(mutexSignal);
  const mutex = new EsfxMutex();
  await twoTasks(async () => {
    for (let i = 0; i < count / 2; i++) {
      const handle = await mutex.lock(cancelable);
      await undefined;
      handle.unlock();
    }
  });
  out.push({ name: '@esfx/async-mutex', listeners: getEventListeners(mutexSignal, 'abort').length });
  return out;
}

/** Per-removal results for every size in `sizes`, in order. */
export async function benchCancel(sizes: readonly number[], scale: number): Promise<Result[][]> {
  const out: Result[][] = [];
  for (const size of sizes) {
    const ops = Math.max(size, Math.round(20_000 * scale));
    const subjects = [
      abortSubject(size),
      abortBaseline(size),
      minimalAbortSubject(size),
      minimalAbortBaseline(size),
      timeoutSubject(size),
      timeoutBaseline(size),
      ...abortPeers(size),
      ...timeoutPeers(size),
    ];
    // The largest size runs last, on warm code, with fewer rounds: one removal costs ~10 µs (mostly the runtime's).
    out.push(
      await compare(subjects, {
        ops,
        warmup: size >= 1e5 ? 0 : 1,
        rounds: size >= 1e5 ? 3 : 5,
        slowBatchMs: 1000,
      }),
    );
  }
  return out;
}

/**
 * Row 6d: `size` waiters queued at once on a held lock, all on one shared AbortSignal, then all granted (each leaves
 * the signal as it is granted) or all aborted at once; against the same with a signal of their own each. ns per
 * waiter, park + settle. With one listener per signal, shared, the shared case costs what the separate one does.
 */
export async function benchSharedSignal(
  size: number,
  rounds: number,
): Promise<{ name: string; nsPerWaiter: number; listenersAtPeak: number }[]> {
  const out: { name: string; nsPerWaiter: number; listenersAtPeak: number }[] = [];
  for (const [name, shared, abort] of [
    ['granted, one shared signal', true, false],
    ['granted, a signal each', false, false],
    ['aborted, one shared signal', true, true],
    ['aborted, a signal each', false, true],
  ] as const) {
    let ns = 0;
    let peak = 0;
    for (let round = 0; round < rounds; round++) {
      const lock = new AsyncLock();
      const held = lock.tryAcquire() as Guard;
      const controllers = Array.from({ length: shared ? 1 : size }, () => new AbortController());
      const { onReject, all } = settleCounter(size);
      const start = now();
      for (let i = 0; i < size; i++) {
        const signal = (controllers[shared ? 0 : i] as AbortController).signal;
        lock.acquire({ signal }).then((guard) => {
          guard.release();
          onReject();
        }, onReject);
      }
      peak = Math.max(peak, getEventListeners((controllers[0] as AbortController).signal, 'abort').length);
      if (abort) for (const controller of controllers) controller.abort(reason);
      held.release();
      await all;
      ns += now() - start;
      check2(lock);
    }
    out.push({ name, nsPerWaiter: ns / rounds / size, listenersAtPeak: peak });
  }
  return out;
}

function check2(lock: AsyncLock): void {
  if (lock.waiting !== 0 || lock.locked)
    throw new Error(`shared-signal bench: bad final state ${lock.toString()}`);
}
