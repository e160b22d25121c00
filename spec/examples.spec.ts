import { expect } from 'chai';
import sinon from 'sinon';
import { main as barrierPhases } from '../examples/barrier-phases.js';
import { main as eventStartup } from '../examples/event-startup.js';
import { main as oddEven } from '../examples/odd-even.js';
import { main as producerConsumerCondition } from '../examples/producer-consumer-condition.js';
import { main as producerConsumerQueue } from '../examples/producer-consumer-queue.js';
import { main as semaphorePool } from '../examples/semaphore-pool.js';

/** Runs an example's `main` and returns every line it printed. */
async function output(main: (print: (line: string) => void) => Promise<void>): Promise<string[]> {
  const lines: string[] = [];
  await main((line) => lines.push(line));
  return lines;
}

describe('examples/', () => {
  // The examples must not depend on real time: with the clock faked (and never advanced), a timer would hang them.
  let clock: sinon.SinonFakeTimers;
  beforeEach(() => {
    clock = sinon.useFakeTimers();
  });
  afterEach(() => {
    clock.restore();
  });

  it('producer-consumer-condition (npm run demo): a bounded buffer with notFull/notEmpty on one lock', async () => {
    expect(await output(producerConsumerCondition)).to.deep.equal([
      'a buffer of 2; two producers, two consumers',
      'buffer         event',
      '[]             consumer A: empty, waits on notEmpty',
      '[]             consumer B: empty, waits on notEmpty',
      '[x1]           producer 1: put x1',
      '[x1]           consumer A: resumes',
      '[]             consumer A: took x1',
      '[y1]           producer 2: put y1',
      '[y1]           consumer B: resumes',
      '[]             consumer B: took y1',
      '[x2]           producer 1: put x2',
      '[x2, y2]       producer 2: put y2',
      '[x2, y2]       producer 1: full, waits on notFull',
      '[x2, y2]       producer 2: full, waits on notFull',
      '[y2]           consumer A: took x2',
      '[y2]           producer 1: resumes',
      '[y2, x3]       producer 1: put x3',
      '[x3]           consumer B: took y2',
      '[x3]           producer 2: resumes',
      '[x3, y3]       producer 2: put y3',
      '[y3]           consumer A: took x3',
      '[]             consumer B: took y3',
      'consumer A got x1 x2 x3; consumer B got y1 y2 y3',
      'AsyncLock(buffer)[unlocked, waiting=0]',
      'AsyncCondition(notFull)[unlocked, waiting=0]',
      'AsyncCondition(notEmpty)[unlocked, waiting=0]',
    ]);
  });

  it('producer-consumer-queue: back-pressure, taskDone/join, shutdown and for await', async () => {
    expect(await output(producerConsumerQueue)).to.deep.equal([
      'producer 1: put a1 (straight to a waiting consumer)  size=0/2',
      'producer 2: put b1 (straight to a waiting consumer)  size=0/2',
      'producer 1: put a2 (straight to a waiting consumer)  size=0/2',
      'producer 1: put a3  size=1/2',
      'producer 2: put b2  size=2/2',
      'producer 1: queue full, waits to put a4',
      'producer 2: queue full, waits to put b3',
      'consumer A: done with a1',
      'producer 1: put a4 (a consumer made room)  size=2/2',
      'consumer B: done with b1',
      'producer 2: put b3 (a consumer made room)  size=2/2',
      'consumer C: done with a2',
      'producer 2: put b4  size=2/2',
      'main: every job is queued, join() waits for them to be done (AsyncQueue(jobs)[size=2/2, getters=0, putters=0])',
      'consumer A: done with a3',
      'consumer B: done with b2',
      'consumer A: done with b3',
      'consumer C: done with a4',
      'consumer B: done with b4',
      'main: every job is done, shutdown()',
      'consumer A handled a1 a3 b3',
      'consumer B handled b1 b2 b4',
      'consumer C handled a2 a4',
      'a late put is refused: QueueShutDownError',
      'AsyncQueue(jobs)[size=0/2, getters=0, putters=0, shut down]',
    ]);
  });

  it('odd-even: two tasks take strict turns through one condition', async () => {
    expect(await output(oddEven)).to.deep.equal([
      'odd  1',
      'even 2',
      'odd  3',
      'even 4',
      'odd  5',
      'even 6',
      'odd  7',
      'even 8',
      'odd  9',
      'even 10',
      'AsyncCondition(turn)[unlocked, waiting=0]',
    ]);
  });

  it('semaphore-pool: at most 3 jobs at a time, FIFO; a weighted request is served head-of-line', async () => {
    expect(await output(semaphorePool)).to.deep.equal([
      '-- 10 jobs, at most 3 at a time --',
      'job 1  starts    running=1',
      'job 2  starts    running=2',
      'job 3  starts    running=3',
      'job 3  finishes  running=2',
      'job 4  starts    running=3',
      'job 4  finishes  running=2',
      'job 5  starts    running=3',
      'job 5  finishes  running=2',
      'job 6  starts    running=3',
      'job 2  finishes  running=2',
      'job 7  starts    running=3',
      'job 1  finishes  running=2',
      'job 8  starts    running=3',
      'job 6  finishes  running=2',
      'job 9  starts    running=3',
      'job 9  finishes  running=2',
      'job 10 starts    running=3',
      'job 10 finishes  running=2',
      'job 7  finishes  running=1',
      'job 8  finishes  running=0',
      'max concurrency observed: 3',
      'AsyncSemaphore(pool)[value=3, waiting=0]',
      '-- weighted: a job that needs all 3 permits --',
      'two small jobs hold a permit each: AsyncSemaphore(pool)[value=1, waiting=0]',
      'big job and small job 3 wait, although a permit is free: AsyncSemaphore(pool)[value=1, waiting=2]',
      'small job 1 done: AsyncSemaphore(pool)[value=2, waiting=2]',
      'small job 2 done: AsyncSemaphore(pool)[value=0, waiting=1]',
      'big job got 3 permits: AsyncSemaphore(pool)[value=0, waiting=1]',
      'big job done',
      'small job 3 got its permit: AsyncSemaphore(pool)[value=2, waiting=0]',
      'small job 3 done: AsyncSemaphore(pool)[value=3, waiting=0]',
    ]);
  });

  it('barrier-phases: three workers in lockstep phases', async () => {
    expect(await output(barrierPhases)).to.deep.equal([
      '3 workers, 3 phases',
      '  ann finished phase 1; 0 of 3 already at the barrier',
      '  bob finished phase 1; 1 of 3 already at the barrier',
      '  cid finished phase 1; 2 of 3 already at the barrier',
      'phase 1 done (cid arrived last)',
      '  bob finished phase 2; 0 of 3 already at the barrier',
      '  cid finished phase 2; 1 of 3 already at the barrier',
      '  ann finished phase 2; 2 of 3 already at the barrier',
      'phase 2 done (ann arrived last)',
      '  cid finished phase 3; 0 of 3 already at the barrier',
      '  ann finished phase 3; 1 of 3 already at the barrier',
      '  bob finished phase 3; 2 of 3 already at the barrier',
      'phase 3 done (bob arrived last)',
      'all phases done: AsyncBarrier(phase)[waiting=0/3]',
    ]);
  });

  it('event-startup: an event gates workers; timeout 0 polls; an aborted waiter leaves the queue', async () => {
    expect(await output(eventStartup)).to.deep.equal([
      'worker 1: waiting for ready',
      'worker 2: waiting for ready',
      'worker 3: waiting for ready',
      'AsyncEvent(ready)[clear, waiting=3]',
      'health check: not ready yet (TimeoutError)',
      'worker 2: gave up (shutting down worker 2)',
      'AsyncEvent(ready)[clear, waiting=2]',
      'main: configuration loaded, ready.set()',
      'worker 1: started',
      'worker 3: started',
      'health check: ready (AsyncEvent(ready)[set, waiting=0])',
      'worker 4: waiting for ready',
      'worker 4: started',
      'main: ready.clear() (AsyncEvent(ready)[clear, waiting=0])',
    ]);
  });
});
