import { expect } from 'chai';
import fc from 'fast-check';
import sinon from 'sinon';
import { QueueShutDownError } from '../lib/errors.js';
import { AsyncQueue } from '../lib/queue.js';
import { AsyncLifoQueue, AsyncPriorityQueue } from '../lib/queue-kinds.js';

/** How a blocking call may give up: never, through an AbortController aborted by a later step, or a timeout. */
type Cancel = { via: 'none' } | { via: 'abort' } | { via: 'timeout'; ms: number };

type Step =
  | { op: 'put'; cancel: Cancel }
  | { op: 'putNowait' }
  | { op: 'get'; cancel: Cancel }
  | { op: 'getNowait' }
  | { op: 'abort'; index: number }
  | { op: 'tick'; ms: number }
  | { op: 'flush' }
  | { op: 'taskDone' }
  | { op: 'join' }
  | { op: 'shutdown'; immediate: boolean };

const cancelArbitrary: fc.Arbitrary<Cancel> = fc.oneof(
  { weight: 3, arbitrary: fc.constant<Cancel>({ via: 'none' }) },
  { weight: 1, arbitrary: fc.constant<Cancel>({ via: 'abort' }) },
  { weight: 1, arbitrary: fc.integer({ min: 0, max: 20 }).map<Cancel>((ms) => ({ via: 'timeout', ms })) },
);

const stepArbitrary: fc.Arbitrary<Step> = fc.oneof(
  { weight: 6, arbitrary: cancelArbitrary.map<Step>((cancel) => ({ op: 'put', cancel })) },
  { weight: 2, arbitrary: fc.constant<Step>({ op: 'putNowait' }) },
  { weight: 6, arbitrary: cancelArbitrary.map<Step>((cancel) => ({ op: 'get', cancel })) },
  { weight: 2, arbitrary: fc.constant<Step>({ op: 'getNowait' }) },
  { weight: 2, arbitrary: fc.nat(20).map<Step>((index) => ({ op: 'abort', index })) },
  { weight: 2, arbitrary: fc.integer({ min: 1, max: 15 }).map<Step>((ms) => ({ op: 'tick', ms })) },
  { weight: 4, arbitrary: fc.constant<Step>({ op: 'flush' }) },
  { weight: 3, arbitrary: fc.constant<Step>({ op: 'taskDone' }) },
  { weight: 1, arbitrary: fc.constant<Step>({ op: 'join' }) },
  { weight: 1, arbitrary: fc.boolean().map<Step>((immediate) => ({ op: 'shutdown', immediate })) },
);

const kinds = {
  fifo: (maxsize: number) => new AsyncQueue<number>(maxsize),
  lifo: (maxsize: number) => new AsyncLifoQueue<number>(maxsize),
  priority: (maxsize: number) => new AsyncPriorityQueue<number>(maxsize),
};

async function flush(): Promise<void> {
  for (let turn = 0; turn < 6; turn++) await Promise.resolve();
}

function checkInvariants(queue: AsyncQueue<number>): void {
  if (queue.waitingGetters > 0) expect(queue.size, 'getters wait only while the queue is empty').to.equal(0);
  if (queue.waitingPutters > 0)
    expect(queue.full, 'putters wait only while the queue is full').to.equal(true);
  if (queue.maxsize > 0) expect(queue.size).to.be.at.most(queue.maxsize);
}

/**
 * Runs `steps` against a queue and checks the accounting: every item consumed was produced (its put succeeded),
 * none twice, and produced = consumed + dropped by `shutdown(true)`; `join` resolves exactly when every item got
 * has been marked done.
 */
async function run(kind: keyof typeof kinds, maxsize: number, steps: Step[]): Promise<void> {
  const clock = sinon.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'Date'] });
  try {
    const queue = kinds[kind](maxsize);
    const produced = new Set<number>();
    const consumed: number[] = [];
    const controllers: AbortController[] = [];
    const joiners: { settled: boolean }[] = [];
    let pending = 0;
    let nextItem = 0;
    let dropped = 0;
    let gotNotDone = 0;

    const optionsFor = (cancel: Cancel): { signal?: AbortSignal; timeout?: number } | undefined => {
      if (cancel.via === 'timeout') return { timeout: cancel.ms };
      if (cancel.via === 'none') return undefined;
      const controller = new AbortController();
      controllers.push(controller);
      return { signal: controller.signal };
    };
    const consume = (item: number): void => {
      consumed.push(item);
      gotNotDone++;
    };
    const expectCancelled = (error: unknown): void => {
      // A cancelled, timed-out or shut-down call; anything else is a bug.
      const name = (error as Error).name;
      expect(['AbortError', 'TimeoutError', 'QueueShutDownError'], String(error)).to.include(name);
    };

    for (const step of steps) {
      switch (step.op) {
        case 'put': {
          const item = nextItem++;
          pending++;
          queue.put(item, optionsFor(step.cancel)).then(
            () => {
              pending--;
              produced.add(item);
            },
            (error: unknown) => {
              pending--;
              expectCancelled(error);
            },
          );
          break;
        }
        case 'putNowait': {
          const item = nextItem++;
          try {
            queue.putNowait(item);
            produced.add(item);
          } catch (error) {
            expect(['QueueFullError', 'QueueShutDownError']).to.include((error as Error).name);
          }
          break;
        }
        case 'get':
          pending++;
          queue.get(optionsFor(step.cancel)).then(
            (item) => {
              pending--;
              consume(item);
            },
            (error: unknown) => {
              pending--;
              expectCancelled(error);
            },
          );
          break;
        case 'getNowait':
          try {
            consume(queue.getNowait());
          } catch (error) {
            expect(['QueueEmptyError', 'QueueShutDownError']).to.include((error as Error).name);
          }
          break;
        case 'abort':
          if (controllers.length > 0) controllers[step.index % controllers.length]?.abort();
          break;
        case 'tick':
          clock.tick(step.ms);
          break;
        case 'flush':
          await flush();
          break;
        case 'taskDone':
          if (gotNotDone > 0) {
            queue.taskDone();
            gotNotDone--;
          }
          break;
        case 'join': {
          const joiner = { settled: false };
          joiners.push(joiner);
          void queue.join().then(() => (joiner.settled = true));
          break;
        }
        case 'shutdown':
          if (step.immediate) dropped += queue.size;
          queue.shutdown(step.immediate);
          expect(queue.waiting).to.equal(0);
          break;
      }
      checkInvariants(queue);
    }

    // Wind down: shut down, let every call settle, drain what is left.
    queue.shutdown();
    await flush();
    for (;;) {
      try {
        consume(queue.getNowait());
      } catch (error) {
        expect(error).to.be.instanceOf(QueueShutDownError);
        break;
      }
    }
    await flush();
    expect(pending, 'calls left pending').to.equal(0);
    expect(clock.countTimers(), 'timers left behind').to.equal(0);

    expect(new Set(consumed).size, 'an item was consumed twice').to.equal(consumed.length);
    for (const item of consumed)
      expect(produced.has(item), `item ${item} consumed but never produced`).to.equal(true);
    expect(produced.size, 'produced = consumed + dropped').to.equal(consumed.length + dropped);

    const last = { settled: false };
    joiners.push(last);
    void queue.join().then(() => (last.settled = true));
    await flush();
    expect(last.settled, 'join waits exactly while items got are not done').to.equal(gotNotDone === 0);
    while (gotNotDone > 0) {
      queue.taskDone();
      gotNotDone--;
    }
    await flush();
    for (const joiner of joiners)
      expect(joiner.settled, 'join resolves once everything is done').to.equal(true);
    await queue.join();
    expect(() => queue.taskDone()).to.throw(RangeError);
  } finally {
    clock.restore();
  }
}

describe('AsyncQueue, AsyncLifoQueue, AsyncPriorityQueue (properties)', function () {
  it('never lose or duplicate an item, whatever the producers, consumers, cancellations and shutdowns', async function () {
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom<keyof typeof kinds>('fifo', 'lifo', 'priority'),
        fc.integer({ min: 0, max: 4 }),
        fc.array(stepArbitrary, { maxLength: 80 }),
        run,
      ),
      { numRuns: 1000 },
    );
  });
});
