/**
 * Workload 11 (issue 15): `n` calls through a rate limiter of LIMIT per INTERVAL ms, in fake time
 * (@sinonjs/fake-timers), against p-queue (`intervalCap`/`interval`, and `strict`), p-throttle (default and
 * `strict`) and Bottleneck (a reservoir refreshed every interval, and `minTime`). The calls arrive in seeded random
 * bursts (1..2*LIMIT calls, gaps of 0..2.2 intervals), so each limiter alternates between a backlog and idle spells:
 * the traffic that shows bursts at window edges and stale windows after idle.
 *
 * Measured per implementation: wall time per call (submission to the last call run, the fake clock's own cost
 * included alike for all), timers created (every `setTimeout`/`setInterval` call), and the grant log: the worst
 * window of INTERVAL ms (the most calls run in any `[t, t + INTERVAL)`), checked against the law the implementation
 * states for itself: "at most LIMIT per INTERVAL" for all but coop-sync's token bucket, whose law is
 * `burst + LIMIT * t / INTERVAL` in any window of length t.
 */
import FakeTimers from '@sinonjs/fake-timers';
import Bottleneck from 'bottleneck';
import pThrottle from 'p-throttle';
import { AsyncRateLimiter } from '../lib/rate-limiter.js';
import { median, rng } from './harness.js';
import { PQueue } from './peers.js';

export const LIMIT = 10;
export const INTERVAL = 1000;
export const CALLS = 100_000;

/** What an implementation promises: a strict window, or a token bucket with `burst`. */
type Law = { kind: 'window' } | { kind: 'bucket'; burst: number };

interface RateSubject {
  readonly name: string;
  readonly law: Law;
  /** Runs a tenth of the calls (at most 2000: the first of the same arrivals); it costs far more per call. */
  readonly slow?: boolean;
  /** Returns `submit(fn)`, which runs `fn` through the limiter; `close` stops what it left running. */
  create(): { submit(fn: () => void): Promise<unknown>; close?(): void };
}

const windowLaw: Law = { kind: 'window' };

const subjects: RateSubject[] = [
  {
    name: 'coop-sync strict',
    law: windowLaw,
    create() {
      const limiter = new AsyncRateLimiter({ limit: LIMIT, interval: INTERVAL, strict: true });
      return { submit: (fn) => limiter.run(fn) };
    },
  },
  {
    name: 'coop-sync bucket',
    law: { kind: 'bucket', burst: LIMIT },
    create() {
      const limiter = new AsyncRateLimiter({ limit: LIMIT, interval: INTERVAL });
      return { submit: (fn) => limiter.run(fn) };
    },
  },
  {
    name: 'p-queue',
    law: windowLaw,
    create() {
      const queue = new PQueue({ intervalCap: LIMIT, interval: INTERVAL });
      return { submit: (fn) => queue.add(fn) };
    },
  },
  {
    name: 'p-queue strict',
    law: windowLaw,
    create() {
      const queue = new PQueue({ intervalCap: LIMIT, interval: INTERVAL, strict: true });
      return { submit: (fn) => queue.add(fn) };
    },
  },
  {
    name: 'p-throttle',
    law: windowLaw,
    create() {
      const throttled = pThrottle({ limit: LIMIT, interval: INTERVAL })((fn: () => void) =>
        Promise.resolve(fn()),
      );
      return { submit: (fn) => throttled(fn) };
    },
  },
  {
    name: 'p-throttle strict',
    law: windowLaw,
    create() {
      const throttled = pThrottle({ limit: LIMIT, interval: INTERVAL, strict: true })((fn: () => void) =>
        Promise.resolve(fn()),
      );
      return { submit: (fn) => throttled(fn) };
    },
  },
  {
    name: 'Bottleneck reservoir',
    law: windowLaw,
    slow: true,
    create() {
      const limiter = new Bottleneck({
        reservoir: LIMIT,
        reservoirRefreshAmount: LIMIT,
        reservoirRefreshInterval: INTERVAL,
      });
      return {
        submit: (fn) => limiter.schedule(() => Promise.resolve(fn())),
        close: () => void limiter.disconnect(),
      };
    },
  },
  {
    name: 'Bottleneck minTime',
    law: windowLaw,
    slow: true,
    create() {
      const limiter = new Bottleneck({ minTime: INTERVAL / LIMIT });
      return {
        submit: (fn) => limiter.schedule(() => Promise.resolve(fn())),
        close: () => void limiter.disconnect(),
      };
    },
  },
];

/** The most grants in any half-open window `[t, t + interval)`; `times` sorted. */
export function worstWindow(times: readonly number[], interval: number): number {
  let worst = 0;
  let start = 0;
  for (let end = 0; end < times.length; end++) {
    while ((times[end] as number) - (times[start] as number) >= interval) start++;
    worst = Math.max(worst, end - start + 1);
  }
  return worst;
}

/**
 * The bucket's excess: the largest `count - limit * t / interval` over closed windows `[times[i], times[j]]` of length
 * `t`, in O(n) (the law holds when it is at most `burst`). `times` sorted, one permit each.
 */
export function worstBucketExcess(times: readonly number[], limit: number, interval: number): number {
  let worst = 0;
  let lowest = Infinity; // min over i <= j of (i - limit * t_i / interval)
  for (let j = 0; j < times.length; j++) {
    const level = j - (limit * (times[j] as number)) / interval;
    lowest = Math.min(lowest, level);
    worst = Math.max(worst, level - lowest + 1);
  }
  return worst;
}

export interface RateResult {
  readonly name: string;
  /** Calls it ran (slow peers: fewer). */
  readonly calls: number;
  readonly law: Law;
  readonly nsPerCall: number;
  readonly timersCreated: number;
  readonly worstWindow: number;
  /** The bucket's worst excess (bucket law only). */
  readonly bucketExcess: number | undefined;
  readonly withinLaw: boolean;
  /** Virtual ms from the first arrival to the last call run. */
  readonly virtualMs: number;
}

/** Seeded bursts: [gap before the burst in ms, calls in it], `n` calls in all. */
function arrivals(n: number): [number, number][] {
  const random = rng(15);
  const bursts: [number, number][] = [];
  for (let left = n; left > 0;) {
    const size = Math.min(left, 1 + Math.floor(random() * 2 * LIMIT));
    bursts.push([bursts.length === 0 ? 0 : Math.floor(random() * 2.2 * INTERVAL), size]);
    left -= size;
  }
  return bursts;
}

/** A real macrotask: every promise job queued before it has run (setImmediate is not faked here). */
const immediate = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

type Clock = ReturnType<typeof FakeTimers.install>;

/** The due time of the clock's next timer, or `undefined` when none is pending. */
function nextTimerAt(clock: Clock): number | undefined {
  const timers = (
    clock as unknown as {
      timers?: Map<unknown, { callAt: number }> | Record<string, { callAt: number }>;
    }
  ).timers;
  if (timers === undefined) return undefined;
  let next = Infinity;
  for (const timer of timers instanceof Map ? timers.values() : Object.values(timers)) {
    if (timer.callAt < next) next = timer.callAt;
  }
  return next === Infinity ? undefined : next;
}

/**
 * Fires the clock's timers one at a time up to `target` (inclusive), letting every promise job run after each, so
 * that code resumed by a timer runs at that timer's time. (`tickAsync` waits for a real `setTimeout` after every
 * timer, which would make the wall time a count of timers.)
 */
async function advanceTo(clock: Clock, target: number): Promise<void> {
  for (let at = nextTimerAt(clock); at !== undefined && at <= target; at = nextTimerAt(clock)) {
    clock.next();
    await immediate();
  }
  if (clock.now < target) clock.tick(target - clock.now);
}

async function runOnce(subject: RateSubject, bursts: readonly [number, number][], n: number) {
  const clock = FakeTimers.install({
    toFake: ['setTimeout', 'clearTimeout', 'setInterval', 'clearInterval', 'Date'],
    loopLimit: 10_000_000,
  });
  let timersCreated = 0;
  const fakeSetTimeout = globalThis.setTimeout;
  const fakeSetInterval = globalThis.setInterval;
  globalThis.setTimeout = ((...args: Parameters<typeof setTimeout>) => {
    timersCreated++;
    return fakeSetTimeout(...args);
  }) as typeof setTimeout;
  globalThis.setInterval = ((...args: Parameters<typeof setInterval>) => {
    timersCreated++;
    return fakeSetInterval(...args);
  }) as typeof setInterval;
  const times: number[] = [];
  const first = Date.now();
  let instance: ReturnType<RateSubject['create']> | undefined;
  const start = process.hrtime.bigint();
  try {
    instance = subject.create();
    const record = () => void times.push(Date.now());
    const pending: Promise<unknown>[] = [];
    let submitted = 0;
    for (const [gap, size] of bursts) {
      if (submitted >= n) break;
      if (gap > 0) await advanceTo(clock, clock.now + gap);
      for (let i = 0; i < size && submitted < n; i++, submitted++) pending.push(instance.submit(record));
      await immediate();
    }
    // Drain, in bounded virtual time: far more than the calls need at the stated rate.
    const deadline = clock.now + ((4 * n) / LIMIT) * INTERVAL;
    while (times.length < n && clock.now < deadline) {
      const at = nextTimerAt(clock);
      if (at === undefined) break;
      await advanceTo(clock, at);
    }
    await Promise.all(pending);
    if (times.length !== n) throw new Error(`${subject.name}: ${times.length} of ${n} calls ran`);
    const ns = Number(process.hrtime.bigint() - start);
    return { ns, timersCreated, times, virtualMs: Date.now() - first };
  } finally {
    instance?.close?.();
    clock.uninstall();
  }
}

/**
 * Runs every subject once untimed (a tenth of the calls, to warm up), then `rounds` times (interleaved) over the same
 * arrivals; the median wall time is reported.
 */
export async function benchRateLimiter(n: number, rounds: number): Promise<RateResult[]> {
  const bursts = arrivals(n);
  const calls = subjects.map((subject) => (subject.slow === true ? Math.min(Math.ceil(n / 10), 2_000) : n));
  const samples = subjects.map((): number[] => []);
  const last: (Awaited<ReturnType<typeof runOnce>> | undefined)[] = subjects.map(() => undefined);
  for (const [index, subject] of subjects.entries())
    await runOnce(subject, bursts, Math.ceil((calls[index] as number) / 10));
  for (let round = 0; round < rounds; round++) {
    for (let k = 0; k < subjects.length; k++) {
      const index = (k + round) % subjects.length;
      const outcome = await runOnce(subjects[index] as RateSubject, bursts, calls[index] as number);
      (samples[index] as number[]).push(outcome.ns / (calls[index] as number));
      last[index] = outcome;
    }
  }
  return subjects.map((subject, index) => {
    const outcome = last[index]!;
    const times = [...outcome.times].sort((a, b) => a - b);
    const worst = worstWindow(times, INTERVAL);
    const excess = subject.law.kind === 'bucket' ? worstBucketExcess(times, LIMIT, INTERVAL) : undefined;
    const withinLaw =
      subject.law.kind === 'bucket' ? (excess as number) <= subject.law.burst + 1e-9 : worst <= LIMIT;
    return {
      name: subject.name,
      calls: calls[index] as number,
      law: subject.law,
      nsPerCall: median(samples[index] as number[]),
      timersCreated: outcome.timersCreated,
      worstWindow: worst,
      bucketExcess: excess,
      withinLaw,
      virtualMs: outcome.virtualMs,
    };
  });
}
