/**
 * Property test of AsyncRWLock against a reference model, with fixed seeds: random arrivals of readers and
 * writers (some with a signal, a timeout or both), releases, aborts and clock ticks. After every step the lock must
 * agree with the model, and:
 *
 * - never a writer together with anyone;
 * - grants in arrival order: a request is granted only when every request that arrived before it was granted or
 *   gave up (so a queued writer blocks later readers, and readers behind a writer are next once it leaves);
 * - nothing waits that could be granted (the head of the queue is blocked);
 * - no starvation: once everyone releases, every request that did not give up was granted, and nothing is left.
 */
import { expect } from 'chai';
import fc from 'fast-check';
import { AsyncRWLock, TimeoutError, type Guard } from '../lib/index.js';
import { flush, installFakeClock } from './suites/helpers.js';

type Mode = 'read' | 'write';
type Operation =
  | {
      kind: 'acquire';
      mode: Mode;
      cancel: 'plain' | 'signal' | 'timeout' | 'both';
      timeout: number;
      priority?: number;
    }
  | { kind: 'try'; mode: Mode }
  | { kind: 'release'; pick: number }
  | { kind: 'abort'; pick: number }
  | { kind: 'tick'; ms: number };

type State = 'queued' | 'granted' | 'timed-out' | 'aborted' | 'refused' | 'released';

interface Request {
  id: number;
  mode: Mode;
  priority: number;
  controller: AbortController | undefined;
  deadline: number | undefined;
  expected: State;
  actual: State | 'pending';
  guard: Guard | undefined;
}

const mode = fc.constantFrom<Mode>('read', 'read', 'read', 'write');
const operation: fc.Arbitrary<Operation> = fc.oneof(
  {
    weight: 5,
    arbitrary: fc.record({
      kind: fc.constant('acquire' as const),
      mode,
      cancel: fc.constantFrom('plain' as const, 'signal' as const, 'timeout' as const, 'both' as const),
      timeout: fc.integer({ min: 0, max: 40 }),
      priority: fc.constantFrom(0, 0, 0, -1, 1, 2),
    }),
  },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('try' as const), mode }) },
  { weight: 4, arbitrary: fc.record({ kind: fc.constant('release' as const), pick: fc.nat() }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('abort' as const), pick: fc.nat() }) },
  {
    weight: 2,
    arbitrary: fc.record({ kind: fc.constant('tick' as const), ms: fc.integer({ min: 1, max: 30 }) }),
  },
);

async function check(steps: Operation[]): Promise<void> {
  const clock = installFakeClock();
  try {
    const rw = new AsyncRWLock({ name: 'model' });
    const requests: Request[] = [];
    const queue: Request[] = [];
    let readers = 0;
    let writer = false;
    let now = 0;

    const grant = (request: Request) => {
      request.expected = 'granted';
      if (request.mode === 'write') writer = true;
      else readers++;
    };
    const drain = () => {
      while (queue.length > 0 && !writer) {
        const head = queue[0] as Request;
        if (head.mode === 'write' && readers > 0) break;
        grant(queue.shift() as Request);
      }
    };
    /** Whether a newcomer would be the head: nobody queued, or it outranks the best waiter. */
    const wouldLead = (priority: number) => queue.length === 0 || priority > (queue[0] as Request).priority;
    const canGrantNow = (m: Mode, priority = 0) =>
      wouldLead(priority) && !writer && (m === 'read' || readers === 0);
    /** Queues by priority, then arrival. */
    const enqueue = (request: Request) => {
      const at = queue.findIndex((waiting) => waiting.priority < request.priority);
      if (at < 0) queue.push(request);
      else queue.splice(at, 0, request);
    };
    const held = () => requests.filter((request) => request.expected === 'granted');

    const verify = async (step: string) => {
      await flush();
      for (const request of requests) {
        const actual = request.actual === 'pending' ? 'queued' : request.actual;
        if (actual !== request.expected)
          throw new Error(`${step}: request ${request.id} is ${actual}, the model says ${request.expected}`);
      }
      const holders = held();
      const writers = holders.filter((request) => request.mode === 'write').length;
      expect(writers === 0 || holders.length === 1, `${step}: a writer with others`).to.equal(true);
      expect([rw.readers, rw.writing, rw.waiting], step).to.deep.equal([readers, writer, queue.length]);
      // Arrival order among equals: a granted request has nobody of its priority queued who arrived before it.
      for (const request of holders) {
        expect(
          queue.some((waiting) => waiting.priority === request.priority && waiting.id < request.id),
          `${step}: request ${request.id} overtook a queued one`,
        ).to.equal(false);
      }
    };

    for (const [index, step] of steps.entries()) {
      const label = `step ${index} ${JSON.stringify(step)}`;
      if (step.kind === 'acquire') {
        const controller =
          step.cancel === 'signal' || step.cancel === 'both' ? new AbortController() : undefined;
        const timeout = step.cancel === 'timeout' || step.cancel === 'both' ? step.timeout : undefined;
        const priority = step.priority ?? 0;
        const request: Request = {
          id: requests.length,
          mode: step.mode,
          priority,
          controller,
          deadline: timeout === undefined ? undefined : now + timeout,
          expected: 'queued',
          actual: 'pending',
          guard: undefined,
        };
        requests.push(request);
        const options = { signal: controller?.signal, timeout, priority };
        (step.mode === 'read' ? rw.acquireRead(options) : rw.acquireWrite(options)).then(
          (guard) => {
            request.actual = 'granted';
            request.guard = guard;
          },
          (error: unknown) => {
            request.actual = error instanceof TimeoutError ? 'timed-out' : 'aborted';
          },
        );
        if (canGrantNow(step.mode, priority)) grant(request);
        else if (timeout === 0) request.expected = 'timed-out';
        else enqueue(request);
      } else if (step.kind === 'try') {
        const request: Request = {
          id: requests.length,
          mode: step.mode,
          priority: 0,
          controller: undefined,
          deadline: undefined,
          expected: 'refused',
          actual: 'refused',
          guard: undefined,
        };
        requests.push(request);
        const guard = step.mode === 'read' ? rw.tryAcquireRead() : rw.tryAcquireWrite();
        if (guard !== undefined) {
          request.actual = 'granted';
          request.guard = guard;
        }
        if (canGrantNow(step.mode)) grant(request);
      } else if (step.kind === 'release') {
        const holders = held();
        if (holders.length > 0) {
          const request = holders[step.pick % holders.length] as Request;
          (request.guard as Guard).release();
          (request.guard as Guard).release(); // idempotent
          request.actual = request.expected = 'released';
          if (request.mode === 'write') writer = false;
          else readers--;
          drain();
        }
      } else if (step.kind === 'abort') {
        const abortable = requests.filter((request) => request.controller?.signal.aborted === false);
        if (abortable.length > 0) {
          const request = abortable[step.pick % abortable.length] as Request;
          (request.controller as AbortController).abort();
          if (request.expected === 'queued') {
            queue.splice(queue.indexOf(request), 1);
            request.expected = 'aborted';
            drain();
          }
        }
      } else {
        const target = now + step.ms;
        for (;;) {
          const due = queue
            .filter((request) => request.deadline !== undefined && request.deadline <= target)
            .sort((a, b) => (a.deadline as number) - (b.deadline as number) || a.id - b.id)[0];
          if (due === undefined) break;
          queue.splice(queue.indexOf(due), 1);
          due.expected = 'timed-out';
          drain();
        }
        now = target;
        clock.tick(step.ms);
      }
      await verify(label);
    }

    // No starvation: release every holder, round after round, without aborting anyone; all queued get their turn.
    for (let round = 0; round < 200 && (rw.waiting > 0 || held().length > 0); round++) {
      for (const request of held()) {
        (request.guard as Guard).release();
        request.actual = request.expected = 'released';
        if (request.mode === 'write') writer = false;
        else readers--;
      }
      drain();
      await verify(`final round ${round}`);
    }
    expect([rw.readers, rw.writing, rw.waiting]).to.deep.equal([0, false, 0]);
    const unsettled = requests.filter(
      (request) => request.actual === 'pending' || request.actual === 'granted',
    );
    expect(unsettled.map((request) => request.id)).to.deep.equal([]);
    for (const request of requests) request.controller?.abort();
    expect(clock.countTimers()).to.equal(0);
  } finally {
    clock.restore();
  }
}

describe('AsyncRWLock (property)', () => {
  it('agrees with the model: exclusion, priority then arrival order, no starvation, nothing left', async () => {
    await fc.assert(fc.asyncProperty(fc.array(operation, { minLength: 1, maxLength: 40 }), check), {
      numRuns: 300,
      seed: 20261201,
    });
  });

  it('a fixed scenario: a timed-out writer between readers lets the reader behind it join the holders', async () => {
    await check([
      { kind: 'acquire', mode: 'read', cancel: 'plain', timeout: 0 },
      { kind: 'acquire', mode: 'write', cancel: 'timeout', timeout: 10 },
      { kind: 'acquire', mode: 'read', cancel: 'plain', timeout: 0 },
      { kind: 'tick', ms: 10 },
      { kind: 'acquire', mode: 'write', cancel: 'plain', timeout: 0 },
      { kind: 'release', pick: 0 },
    ]);
  });
});
