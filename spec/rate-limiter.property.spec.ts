/**
 * The window law of AsyncRateLimiter, as properties under sinon's fake clock (fast-check, fixed seeds), and its
 * long-run exactness (no drift).
 *
 * Random limiters (bucket or strict; limit, interval, burst) get random sequences of acquires (weights, some with a
 * timeout, some aborted later), tryAcquires, pauses and clock ticks. Every grant is logged with its time; then:
 * - strict: every window `[t, t + interval)` holds at most `limit` permits (checked from every grant, so every
 *   window that could be the worst);
 * - bucket: every window `[s, s + t]` holds at most `burst + limit * t / interval` (checked over every pair of
 *   grants, which bound the worst windows);
 * - nothing is granted during a pause; waiters are granted in request order; nobody that gave up is granted;
 * - at every observation the queue is justified (someone waits only if the head cannot be granted now), and the
 *   limiter holds at most one timer of its own;
 * - at the end every live request was granted and no timer is left.
 * And, for plain acquires with whole-ms intervals, an exact model: each request is granted at the first whole ms at
 * which the law allows it after the one before (never later: a timer aimed 1 ms late fails it).
 */
import { expect } from 'chai';
import fc from 'fast-check';
import type sinon from 'sinon';
import { AsyncRateLimiter, TimeoutError } from '../lib/index.js';
import { flush, installFakeClock } from './suites/helpers.js';
import { checkWindowLaw, type Grant } from './suites/window-law.js';

type Operation =
  | { kind: 'acquire'; permits: number; mode: 'plain' | 'timeout' | 'abortable'; timeout: number }
  | { kind: 'tryAcquire'; permits: number }
  | { kind: 'abort'; pick: number }
  | { kind: 'pause'; ms: number }
  | { kind: 'tick'; ms: number };

const limiterShape = fc.record({
  limit: fc.integer({ min: 1, max: 5 }),
  interval: fc.oneof(fc.integer({ min: 1, max: 60 }), fc.constantFrom(2.5, 1000 / 3, 7 / 3)),
  extra: fc.integer({ min: 0, max: 4 }),
  strict: fc.boolean(),
});

function operations(maxPermits: number): fc.Arbitrary<Operation[]> {
  const permits = fc.integer({ min: 1, max: maxPermits });
  const operation: fc.Arbitrary<Operation> = fc.oneof(
    {
      weight: 5,
      arbitrary: fc.record({
        kind: fc.constant('acquire' as const),
        permits,
        mode: fc.constantFrom('plain' as const, 'timeout' as const, 'abortable' as const),
        timeout: fc.integer({ min: 0, max: 80 }),
      }),
    },
    { weight: 1, arbitrary: fc.record({ kind: fc.constant('tryAcquire' as const), permits }) },
    { weight: 1, arbitrary: fc.record({ kind: fc.constant('abort' as const), pick: fc.nat() }) },
    {
      weight: 1,
      arbitrary: fc.record({ kind: fc.constant('pause' as const), ms: fc.integer({ min: 0, max: 90 }) }),
    },
    {
      weight: 4,
      arbitrary: fc.record({ kind: fc.constant('tick' as const), ms: fc.integer({ min: 1, max: 40 }) }),
    },
  );
  return fc.array(operation, { minLength: 1, maxLength: 30 });
}

interface Request {
  readonly id: number;
  readonly permits: number;
  readonly controller: AbortController | undefined;
  readonly hasTimeout: boolean;
  state: 'pending' | 'granted' | 'timed-out' | 'aborted';
}

describe('AsyncRateLimiter (properties)', () => {
  let clock: sinon.SinonFakeTimers;

  beforeEach(() => {
    clock = installFakeClock();
  });

  afterEach(() => {
    clock.restore();
  });

  it('keeps the window law, FIFO, pauses and the one-timer rule for random workloads', async () => {
    const scenario = fc.tuple(limiterShape, fc.integer({ min: 1, max: 9 })).chain(([shape, seedPermits]) => {
      const burst = shape.strict ? shape.limit : shape.limit + shape.extra;
      return fc.tuple(fc.constant({ ...shape, burst }), operations(Math.min(burst, seedPermits + 1)));
    });
    await fc.assert(
      fc.asyncProperty(scenario, async ([shape, ops]) => {
        clock.reset(); // each run starts at 0 with no timer, whatever an earlier (failed) run left
        const start = Date.now();
        const { limit, interval, burst, strict } = shape;
        const limiter = strict
          ? new AsyncRateLimiter({ limit, interval, strict })
          : new AsyncRateLimiter({ limit, interval, burst });
        const grants: Grant[] = [];
        const requests: Request[] = [];
        const order: number[] = [];
        const pauses: [number, number, number][] = [];
        let seq = 0;
        let pausedUntil = -Infinity;
        const settled: Promise<void>[] = [];

        const observe = () => {
          const pending = requests.filter((r) => r.state === 'pending');
          expect(limiter.waiting).to.equal(pending.length);
          const head = pending[0];
          if (head !== undefined) {
            // someone waits only if the head cannot be granted now
            expect(Date.now() < pausedUntil || limiter.available < head.permits).to.equal(true);
          }
          const withTimeout = pending.filter((r) => r.hasTimeout).length;
          expect(clock.countTimers()).to.be.at.most(withTimeout + 1);
          if (pending.length === 0) expect(clock.countTimers()).to.equal(0);
        };

        for (const op of ops) {
          const now = Date.now();
          switch (op.kind) {
            case 'acquire': {
              const controller = op.mode === 'abortable' ? new AbortController() : undefined;
              const request: Request = {
                id: requests.length,
                permits: op.permits,
                controller,
                hasTimeout: op.mode === 'timeout' && op.timeout > 0,
                state: 'pending',
              };
              requests.push(request);
              const promise = limiter.acquire({
                permits: op.permits,
                signal: controller?.signal,
                timeout: op.mode === 'timeout' ? op.timeout : undefined,
              });
              settled.push(
                promise.then(
                  () => {
                    expect(request.state).to.equal('pending');
                    request.state = 'granted';
                    grants.push({ time: Date.now(), permits: request.permits, seq: seq++ });
                    order.push(request.id);
                  },
                  (reason: unknown) => {
                    expect(request.state).to.equal('pending');
                    if (reason instanceof TimeoutError) request.state = 'timed-out';
                    else {
                      expect(reason).to.equal('aborted');
                      request.state = 'aborted';
                    }
                  },
                ),
              );
              break;
            }
            case 'tryAcquire':
              if (limiter.tryAcquire(op.permits)) grants.push({ time: now, permits: op.permits, seq: seq++ });
              break;
            case 'abort': {
              const abortable = requests.filter((r) => r.controller !== undefined && r.state === 'pending');
              if (abortable.length > 0) abortable[op.pick % abortable.length]!.controller!.abort('aborted');
              break;
            }
            case 'pause':
              limiter.pauseFor(op.ms);
              if (op.ms > 0) {
                pausedUntil = Math.max(pausedUntil, now + op.ms);
                pauses.push([now, pausedUntil, seq++]);
              }
              break;
            case 'tick':
              await clock.tickAsync(op.ms);
              break;
          }
          await flush();
          observe();
        }
        // Drain: every live request is granted in bounded virtual time.
        const permitsLeft = requests.reduce((sum, r) => sum + r.permits, 0);
        await clock.tickAsync(
          Math.max(0, pausedUntil - Date.now()) + Math.ceil((permitsLeft + 1) * interval) + 100,
        );
        await Promise.all(settled);
        observe();
        expect(requests.filter((r) => r.state === 'pending')).to.deep.equal([]);
        expect(clock.countTimers()).to.equal(0);

        const violation = checkWindowLaw(grants, { limit, interval, burst, strict });
        expect(violation, `window law (start ${start})`).to.equal(undefined);
        for (const grant of grants) {
          for (const [from, to, pausedAt] of pauses) {
            const during = grant.seq! > pausedAt && grant.time >= from && grant.time < to;
            expect(during, `grant at ${grant.time} during a pause`).to.equal(false);
          }
        }
        expect(order).to.deep.equal([...order].sort((a, b) => a - b));
      }),
      { seed: 15, numRuns: 150 },
    );
  });

  it('grants each request at the earliest whole ms the law allows, in order (an exact model)', async () => {
    /** The model: head-of-line FIFO, each request at the first whole ms when the budget holds its permits. */
    function expectedTimes(
      shape: { limit: number; interval: number; burst: number; strict: boolean },
      requests: readonly { at: number; permits: number }[],
    ): number[] {
      const { limit, interval, burst, strict } = shape;
      const times: number[] = [];
      const granted: { time: number; permits: number }[] = [];
      let scaled = burst * interval; // bucket tokens times interval: exact with whole-ms times
      let last = 0;
      for (const { at, permits } of requests) {
        let t = Math.max(at, times.at(-1) ?? -Infinity);
        if (strict) {
          const used = (c: number) =>
            granted.filter((g) => g.time + interval > c).reduce((sum, g) => sum + g.permits, 0);
          const candidates = [t, ...granted.map((g) => g.time + interval).filter((c) => c > t)].sort(
            (x, y) => x - y,
          );
          t = candidates.find((c) => used(c) + permits <= limit)!;
        } else {
          scaled = Math.min(burst * interval, scaled + (t - last) * limit);
          const deficit = permits * interval - scaled;
          if (deficit > 0) {
            const wait = Math.ceil(deficit / limit);
            scaled = Math.min(burst * interval, scaled + wait * limit);
            t += wait;
          }
          scaled -= permits * interval;
          last = t;
        }
        times.push(t);
        granted.push({ time: t, permits });
      }
      return times;
    }

    const scenario = limiterShape.chain((shape) => {
      const burst = shape.strict ? shape.limit : shape.limit + shape.extra;
      const interval = Math.max(1, Math.round(shape.interval));
      const request = fc.record({
        gap: fc.integer({ min: 0, max: 50 }),
        permits: fc.integer({ min: 1, max: burst }),
      });
      return fc.tuple(
        fc.constant({ limit: shape.limit, interval, burst, strict: shape.strict }),
        fc.array(request, { minLength: 1, maxLength: 25 }),
      );
    });
    await fc.assert(
      fc.asyncProperty(scenario, async ([shape, requests]) => {
        clock.reset();
        const { limit, interval, burst, strict } = shape;
        const limiter = strict
          ? new AsyncRateLimiter({ limit, interval, strict })
          : new AsyncRateLimiter({ limit, interval, burst });
        const arrivals: { at: number; permits: number }[] = [];
        const times: number[] = [];
        const all: Promise<void>[] = [];
        for (const { gap, permits } of requests) {
          await clock.tickAsync(gap);
          const index = arrivals.length;
          arrivals.push({ at: Date.now(), permits });
          all.push(limiter.acquire({ permits }).then(() => void (times[index] = Date.now())));
          await flush();
        }
        const permits = requests.reduce((sum, r) => sum + r.permits, 0);
        await clock.tickAsync(Math.ceil(((permits + burst) * interval) / limit) + 1);
        await Promise.all(all);
        expect(times).to.deep.equal(expectedTimes(shape, arrivals));
        expect(clock.countTimers()).to.equal(0);
      }),
      { seed: 1515, numRuns: 150 },
    );
  });

  it('the law check itself catches a burst at a window edge and a bucket overrun', () => {
    const edge = [
      { time: 999, permits: 3 },
      { time: 1000, permits: 3 },
    ];
    expect(checkWindowLaw(edge, { limit: 3, interval: 1000, burst: 3, strict: true })).to.be.a('string');
    expect(checkWindowLaw(edge, { limit: 3, interval: 1000, burst: 3, strict: false })).to.be.a('string');
    expect(
      checkWindowLaw([...edge, { time: 1998, permits: 3 }], {
        limit: 3,
        interval: 1000,
        burst: 6,
        strict: false,
      }),
    ).to.be.a('string');
    expect(checkWindowLaw(edge, { limit: 3, interval: 1001, burst: 6, strict: false })).to.equal(undefined);
  });

  describe('no drift', () => {
    it('1e6 grants at a steady rate end within one permit of the ideal count', () => {
      for (const { limit, interval } of [
        { limit: 7, interval: 3 },
        { limit: 3, interval: 1000 / 3 }, // 9 a second, an interval that is not a whole number of ms
      ]) {
        const limiter = new AsyncRateLimiter({ limit, interval });
        const start = Date.now();
        let granted = 0;
        const step = Math.max(1, Math.floor(interval / limit));
        // Bounded: a step can grant at most what refills in it, plus a full bucket at first.
        const most = limit + Math.ceil((limit * step) / interval);
        while (granted < 1_000_000) {
          let now = 0;
          while (now <= most && limiter.tryAcquire()) now++;
          if (now > most) throw new Error(`${now} permits granted at once, more than ${most}`);
          granted += now;
          clock.tick(step);
        }
        const elapsed = Date.now() - start - step;
        const ideal = limit + (limit * elapsed) / interval;
        expect(Math.abs(granted - ideal), `limit ${limit} per ${interval} ms`).to.be.below(1 + 1e-6);
      }
    });

    it('1e6 grants to waiters, one timer at a time, end exactly on time', async () => {
      const limiter = new AsyncRateLimiter({ limit: 1000, interval: 7, strict: true });
      let granted = 0;
      const batch = 10_000;
      const start = Date.now();
      for (let round = 0; round < 100; round++) {
        const all: Promise<void>[] = [];
        for (let i = 0; i < batch; i++) all.push(limiter.acquire().then(() => void granted++));
        expect(clock.countTimers()).to.be.at.most(1);
        await clock.tickAsync(70);
        await Promise.all(all);
      }
      expect(granted).to.equal(1_000_000);
      // 1000 per 7 ms, starting at once: the millionth permit is granted at 999 windows in, 6993 ms.
      expect(Date.now() - start).to.equal(7000);
      expect(limiter.available).to.equal(1000);
    });
  });
});
