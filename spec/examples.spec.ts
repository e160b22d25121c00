import { expect } from 'chai';
import sinon from 'sinon';
import { main as barrierPhases } from '../examples/barrier-phases.js';
import { main as connectionPool } from '../examples/connection-pool.js';
import { main as daemonHeartbeat } from '../examples/daemon-heartbeat.js';
import { main as eventStartup } from '../examples/event-startup.js';
import { main as ifNotWhile } from '../examples/if-not-while.js';
import { main as lockVsRlock } from '../examples/lock-vs-rlock.js';
import { main as lostUpdate } from '../examples/lost-update.js';
import { main as oddEven } from '../examples/odd-even.js';
import { main as producerConsumerCondition } from '../examples/producer-consumer-condition.js';
import { main as producerConsumerQueue } from '../examples/producer-consumer-queue.js';
import { main as semaphorePool } from '../examples/semaphore-pool.js';
import { main as spinVsCondition } from '../examples/spin-vs-condition.js';
import { parseArguments, type ExampleOptions, type Main, type Progress } from '../examples/run-main.js';

/** Runs an example's `main` and returns every line it printed. */
async function output(main: Main, options?: ExampleOptions): Promise<string[]> {
  const lines: string[] = [];
  await main((line) => lines.push(line), options);
  return lines;
}

const examples: [string, Main][] = [
  ['if-not-while', ifNotWhile],
  ['lost-update', lostUpdate],
  ['lock-vs-rlock', lockVsRlock],
  ['connection-pool', connectionPool],
  ['daemon-heartbeat', daemonHeartbeat],
  ['spin-vs-condition', spinVsCondition],
  ['producer-consumer-condition', producerConsumerCondition],
  ['producer-consumer-queue', producerConsumerQueue],
  ['odd-even', oddEven],
  ['semaphore-pool', semaphorePool],
  ['barrier-phases', barrierPhases],
  ['event-startup', eventStartup],
];

describe('examples/', () => {
  // Each example runs in a Simulation, whose virtual clock serves every coop-sync timer. With the real clock faked
  // (and never advanced), a timer that escaped the harness would hang the example instead of passing by luck.
  let clock: sinon.SinonFakeTimers;
  beforeEach(() => {
    clock = sinon.useFakeTimers();
  });
  afterEach(() => {
    clock.restore();
  });

  it('if-not-while (npm start): finds the `if` bug, prints its timeline and replay command, proves the `while` version', async () => {
    expect(await output(ifNotWhile)).to.deep.equal([
      'A buffer of 1 item, one producer, two consumers. Each consumer checks the buffer with',
      '`if (buffer.length === 0) await notEmpty.wait()` instead of `while`.',
      '',
      'Exploring schedules of the `if` version (strategy pct, seed 1)...',
      'Schedule 3 fails: Error: consumer A took from an empty buffer',
      '',
      'step  time  consumer A                                producer                    consumer B',
      '   1   0ms  empty: waits',
      '   2   0ms                                            puts x1; lock busy: queues',
      '   3   0ms                                                                        lock busy: queues',
      '   4   0ms  wakes: [x1]; takes x1; lock busy: queues',
      '   5   0ms                                            puts x2; lock busy: queues',
      '   6   0ms                                                                        takes x2; lock busy: queues',
      '   7   0ms  empty: waits',
      '   8   0ms                                            puts x3; lock busy: queues',
      '   9   0ms                                                                        takes x3',
      '  10   0ms  wakes: []; takes from []!',
      '',
      "notify() only moves a waiter to the lock's queue: a task queued there before it gets the lock first,",
      'and the item with it. The woken consumer must check the buffer again: `while`, not `if`.',
      '',
      'Replay exactly this interleaving:',
      "  npm run example -- if-not-while --replay 'cs1:1.0*2'",
      '',
      'Exploring every schedule of the `while` version (strategy dfs)...',
      '20 schedules, every one passes (exhausted: true).',
    ]);
  });

  it('lost-update: finds the lost update across an await, proves the locked version', async () => {
    expect(await output(lostUpdate)).to.deep.equal([
      'A balance of 100 in a database; `salary` adds 50, `rent` takes 30, each as',
      '`const balance = await db.read(); await db.write(balance + amount)`.',
      '',
      'Exploring schedules of the unlocked version (strategy pct, seed 1)...',
      'Schedule 3 fails: Error: lost update: the balance is 70, not 100 + 50 - 30 = 120',
      '',
      'step  time  rent       salary',
      '   1   0ms  start',
      '   2   0ms             start',
      '   3   2ms  arrives',
      '   4   2ms             reads 100',
      '   5   4ms  reads 100',
      '   6   4ms             writes 150',
      '   7   6ms  writes 70',
      '',
      'Both read the balance before either wrote it back: the second write overwrites the first.',
      'Every await between a read and the write that depends on it is a point where another task may run.',
      '',
      'Replay exactly this interleaving:',
      "  npm run example -- lost-update --replay 'cs1:1.0*2'",
      '',
      'Exploring every schedule of the version that holds an AsyncLock from read to write (strategy dfs)...',
      '4 schedules, every one passes (exhausted: true).',
    ]);
  });

  it('lock-vs-rlock: the recursive walk deadlocks on AsyncLock (reported, not hung) and works on AsyncRLock', async () => {
    expect(await output(lockVsRlock)).to.deep.equal([
      '-- sizeOf() on an AsyncLock --',
      'step  time  mover             walker',
      '   1   0ms  start',
      '   2   0ms                    start',
      '   3  10ms                    reads /; sizeOf(/docs): acquire',
      '   4  15ms  lock held: waits',
      'DeadlockError at 15ms, reported instead of a hang:',
      '  walker waits on AsyncLock(tree)',
      '  mover waits on AsyncLock(tree)',
      '',
      '-- sizeOf() on an AsyncRLock --',
      'step  time  mover             walker',
      '   1   0ms  start',
      '   2   0ms                    start',
      '   3  10ms                    reads /',
      '   4  15ms  lock held: waits',
      '   5  20ms                    reads /docs',
      '   6  30ms                    reads /docs/old',
      '   7  40ms                    reads /src; total 30 bytes',
      '   8  40ms  moves /src',
      'done at 40ms: AsyncRLock(tree)[unlocked, waiting=0]',
    ]);
  });

  it('daemon-heartbeat: the daemon beats while the workers run, and join stops it when they are done', async () => {
    expect(await output(daemonHeartbeat)).to.deep.equal([
      '  0ms  download: starts (60 ms of work)',
      '  0ms  heartbeat 1: 2 worker(s) running',
      '  0ms  index: starts (90 ms of work)',
      ' 25ms  heartbeat 2: 2 worker(s) running',
      ' 50ms  heartbeat 3: 2 worker(s) running',
      ' 60ms  download: done',
      ' 75ms  heartbeat 4: 1 worker(s) running',
      ' 90ms  index: done',
      ' 90ms  join resolved: TaskGroup(jobs)[running=0, daemons=1, settled]',
      ' 90ms  heartbeat: stopped, the workers are done',
      ' 90ms  heartbeat task: done=true',
    ]);
  });

  it('spin-vs-condition: polling looks 11 times and lags up to an interval; the condition looks twice, on time', async () => {
    expect(await output(spinVsCondition)).to.deep.equal([
      '-- spin-wait --',
      ' 95ms  setup: ready',
      '100ms  waiter: goes on, 5 ms after the change, having looked 11 times',
      'steps the harness ran: 14',
      '-- condition --',
      ' 95ms  setup: ready',
      ' 95ms  waiter: goes on, 0 ms after the change, having looked 2 times',
      'steps the harness ran: 4',
    ]);
  });

  it('connection-pool: at most 2 connections, callers time out after 40 ms, a double release is refused', async () => {
    expect(await output(connectionPool)).to.deep.equal([
      '  0ms  request 1: got a connection (1 of 2 in use), query takes 70ms',
      '  5ms  request 2: got a connection (2 of 2 in use), query takes 40ms',
      ' 10ms  request 3: no free connection, waits (0 ahead)',
      ' 15ms  request 4: no free connection, waits (1 ahead)',
      ' 20ms  request 5: no free connection, waits (2 ahead)',
      ' 45ms  request 2: done (2 of 2 in use)',
      ' 45ms  request 3: got a connection (2 of 2 in use), query takes 12ms',
      ' 55ms  request 4: gave up after 40ms (TimeoutError)',
      ' 57ms  request 3: done (2 of 2 in use)',
      ' 57ms  request 5: got a connection (2 of 2 in use), query takes 10ms',
      ' 67ms  request 5: done (1 of 2 in use)',
      ' 70ms  request 1: done (0 of 2 in use)',
      ' 80ms  request 6: got a connection (1 of 2 in use), query takes 10ms',
      ' 90ms  request 6: done (0 of 2 in use)',
      'served: request 2, request 3, request 5, request 1, request 6',
      'gave up: request 4',
      'AsyncBoundedSemaphore(connections)[value=2, waiting=0]',
      '-- a connection given back twice --',
      'refused: AsyncBoundedSemaphore(connections): releasing 1 permit(s) would raise the value above its bound (2)',
      'AsyncBoundedSemaphore(connections)[value=2, waiting=0]',
    ]);
  });

  it('producer-consumer-condition: a bounded buffer with notFull/notEmpty on one lock', async () => {
    expect(await output(producerConsumerCondition)).to.deep.equal([
      'a buffer of 2; two producers, two consumers',
      ' time  buffer     event',
      '  0ms  []         consumer A: empty, waits on notEmpty',
      '  0ms  []         consumer B: empty, waits on notEmpty',
      ' 10ms  [x1]       producer 1: put x1',
      ' 10ms  [x1]       consumer A: resumes',
      ' 10ms  []         consumer A: took x1',
      ' 13ms  [y1]       producer 2: put y1',
      ' 13ms  [y1]       consumer B: resumes',
      ' 13ms  []         consumer B: took y1',
      ' 20ms  [x2]       producer 1: put x2',
      ' 26ms  [x2, y2]   producer 2: put y2',
      ' 30ms  [x2, y2]   producer 1: full, waits on notFull',
      ' 39ms  [x2, y2]   producer 2: full, waits on notFull',
      ' 50ms  [y2]       consumer A: took x2',
      ' 50ms  [y2]       producer 1: resumes',
      ' 50ms  [y2, x3]   producer 1: put x3',
      ' 53ms  [x3]       consumer B: took y2',
      ' 53ms  [x3]       producer 2: resumes',
      ' 53ms  [x3, y3]   producer 2: put y3',
      ' 90ms  [y3]       consumer A: took x3',
      ' 93ms  []         consumer B: took y3',
      'consumer A got x1 x2 x3; consumer B got y1 y2 y3',
      'AsyncLock(buffer)[unlocked, waiting=0]',
      'AsyncCondition(notFull)[unlocked, waiting=0]',
      'AsyncCondition(notEmpty)[unlocked, waiting=0]',
    ]);
  });

  it('producer-consumer-queue: back-pressure, taskDone/join, shutdown and for await', async () => {
    expect(await output(producerConsumerQueue)).to.deep.equal([
      ' 10ms  producer 1: put a1 (straight to a waiting consumer)  size=0/2',
      ' 20ms  producer 1: put a2 (straight to a waiting consumer)  size=0/2',
      ' 20ms  producer 2: put b1 (straight to a waiting consumer)  size=0/2',
      ' 30ms  producer 1: put a3  size=1/2',
      ' 40ms  producer 1: put a4  size=2/2',
      ' 40ms  producer 2: queue full, waits to put b2',
      ' 90ms  consumer A: done with a2',
      ' 90ms  producer 2: put b2 (a consumer made room)  size=2/2',
      '110ms  producer 2: queue full, waits to put b3',
      '110ms  consumer B: done with b1',
      '110ms  producer 2: put b3 (a consumer made room)  size=2/2',
      '120ms  consumer C: done with a1',
      '130ms  producer 2: put b4  size=2/2',
      '130ms  main: every job is queued, join() waits for them to be done (AsyncQueue(jobs)[size=2/2, getters=0, putters=0])',
      '160ms  consumer A: done with a3',
      '200ms  consumer B: done with a4',
      '230ms  consumer C: done with b2',
      '230ms  consumer A: done with b3',
      '290ms  consumer B: done with b4',
      '290ms  main: every job is done, shutdown()',
      '290ms  main: a late put is refused: QueueShutDownError',
      'consumer A handled a2 a3 b3',
      'consumer B handled b1 a4 b4',
      'consumer C handled a1 b2',
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
      '  0ms  job 1  starts    running=1',
      '  1ms  job 2  starts    running=2',
      '  2ms  job 3  starts    running=3',
      ' 12ms  job 3  finishes  running=2',
      ' 12ms  job 4  starts    running=3',
      ' 23ms  job 4  finishes  running=2',
      ' 23ms  job 5  starts    running=3',
      ' 35ms  job 5  finishes  running=2',
      ' 35ms  job 6  starts    running=3',
      ' 41ms  job 2  finishes  running=2',
      ' 41ms  job 7  starts    running=3',
      ' 60ms  job 1  finishes  running=2',
      ' 60ms  job 8  starts    running=3',
      ' 76ms  job 6  finishes  running=2',
      ' 76ms  job 9  starts    running=3',
      ' 90ms  job 9  finishes  running=2',
      ' 90ms  job 10 starts    running=3',
      '103ms  job 7  finishes  running=2',
      '105ms  job 10 finishes  running=1',
      '113ms  job 8  finishes  running=0',
      'max concurrency observed: 3',
      'AsyncSemaphore(pool)[value=3, waiting=0]',
      '-- weighted: a job that needs all 3 permits --',
      '  0ms  small 1 got 1 (AsyncSemaphore(pool)[value=2, waiting=0])',
      '  1ms  small 2 got 1 (AsyncSemaphore(pool)[value=1, waiting=0])',
      ' 10ms  big needs 3, 1 free: waits (AsyncSemaphore(pool)[value=1, waiting=0])',
      ' 20ms  small 3 needs 1, 1 free: waits (AsyncSemaphore(pool)[value=1, waiting=1])',
      ' 30ms  small 1 done (AsyncSemaphore(pool)[value=2, waiting=2])',
      ' 51ms  small 2 done (AsyncSemaphore(pool)[value=0, waiting=1])',
      ' 51ms  big got 3 (AsyncSemaphore(pool)[value=0, waiting=1])',
      ' 71ms  big done (AsyncSemaphore(pool)[value=2, waiting=0])',
      ' 71ms  small 3 got 1 (AsyncSemaphore(pool)[value=2, waiting=0])',
      ' 81ms  small 3 done (AsyncSemaphore(pool)[value=3, waiting=0])',
    ]);
  });

  it('barrier-phases: three workers in lockstep phases', async () => {
    expect(await output(barrierPhases)).to.deep.equal([
      '3 workers, 3 phases',
      ' 10ms    ann finished phase 1; 0 of 3 already at the barrier',
      ' 20ms    bob finished phase 1; 1 of 3 already at the barrier',
      ' 30ms    cid finished phase 1; 2 of 3 already at the barrier',
      ' 30ms  phase 1 done (cid arrived last)',
      ' 40ms    bob finished phase 2; 0 of 3 already at the barrier',
      ' 50ms    cid finished phase 2; 1 of 3 already at the barrier',
      ' 60ms    ann finished phase 2; 2 of 3 already at the barrier',
      ' 60ms  phase 2 done (ann arrived last)',
      ' 70ms    cid finished phase 3; 0 of 3 already at the barrier',
      ' 80ms    ann finished phase 3; 1 of 3 already at the barrier',
      ' 90ms    bob finished phase 3; 2 of 3 already at the barrier',
      ' 90ms  phase 3 done (bob arrived last)',
      'all phases done: AsyncBarrier(phase)[waiting=0/3]',
    ]);
  });

  it('event-startup: an event gates workers; timeout 0 polls; an aborted waiter leaves the queue', async () => {
    expect(await output(eventStartup)).to.deep.equal([
      '  0ms  worker 1: waiting for ready',
      '  1ms  worker 2: waiting for ready',
      '  2ms  worker 3: waiting for ready',
      '  5ms  main: AsyncEvent(ready)[clear, waiting=3]',
      '  5ms  health check: not ready yet (TimeoutError)',
      " 10ms  main: aborted worker 2's wait: AsyncEvent(ready)[clear, waiting=2]",
      ' 10ms  worker 2: gave up (shutting down worker 2)',
      ' 30ms  main: configuration loaded, ready.set()',
      ' 30ms  worker 3: started',
      ' 30ms  worker 1: started',
      ' 35ms  health check: ready (AsyncEvent(ready)[set, waiting=0])',
      ' 40ms  worker 4: waiting for ready',
      ' 40ms  worker 4: started',
      ' 50ms  main: ready.clear() (AsyncEvent(ready)[clear, waiting=0])',
    ]);
  });

  it('if-not-while --replay: re-runs the printed schedule, the same failure', async () => {
    const lines = await output(ifNotWhile);
    const command = lines.find((line) => line.includes('--replay'))!;
    const schedule = /--replay '([^']+)'/.exec(command)![1]!;
    const replayed = await output(ifNotWhile, { replay: schedule });
    expect(replayed).to.include(`Replaying ${schedule} on the \`if\` version:`);
    expect(replayed.at(-1)).to.equal('the run fails: Error: consumer A took from an empty buffer');
    // The same timeline as the one the search printed.
    const timeline = (from: string[]) => from.filter((line) => /^ {3}\d|^step/.test(line));
    expect(timeline(replayed)).to.deep.equal(timeline(lines)).and.to.have.length.above(3);
  });

  it('if-not-while --replay with a schedule under which the `if` version passes says so', async () => {
    const replayed = await output(ifNotWhile, { replay: 'cs1:' });
    expect(replayed.at(-1)).to.equal('the run passed');
  });

  it('the demo reports progress while it explores, and clears it before printing results', async () => {
    const events: string[] = [];
    const progress: Progress = {
      update: (text) => events.push(text.trim()),
      clear: () => events.push('clear'),
    };
    const lines: string[] = [];
    await ifNotWhile(
      (line) => {
        if (events.at(-1)?.startsWith('exploring')) events.push('printed before clear');
        lines.push(line);
      },
      { progress },
    );
    expect(events.slice(0, 4)).to.deep.equal([
      'exploring: schedule 1',
      'exploring: schedule 2',
      'exploring: schedule 3',
      'clear',
    ]);
    expect(events).to.not.include('printed before clear');
    expect(events.at(-1)).to.equal('clear');
    expect(events.filter((event) => event !== 'clear')).to.have.length(3 + 20);
  });

  it('every example finishes and passes its own checks under other seeds', async () => {
    for (const [name, main] of examples) {
      for (const seed of [2, 3, 4, 5, 6, 7, 8]) {
        const lines = await output(main, { seed }).catch((error: unknown) => {
          throw new Error(`${name} --seed ${seed}: ${String(error)}`);
        });
        expect(lines, `${name} --seed ${seed}`).to.not.be.empty;
      }
    }
  });

  it('the examples that do not depend on the schedule print the same under every seed', async () => {
    for (const main of [
      connectionPool,
      oddEven,
      semaphorePool,
      barrierPhases,
      lockVsRlock,
      spinVsCondition,
    ]) {
      const expected = await output(main);
      for (const seed of [2, 3, 4, 5]) expect(await output(main, { seed })).to.deep.equal(expected);
    }
  });
});

describe('examples/run-main.ts parseArguments', () => {
  it('reads --seed, and --replay where the example explores', () => {
    expect(parseArguments([], { replay: true })).to.deep.equal({});
    expect(parseArguments(['--seed', '7'], { replay: false })).to.deep.equal({ seed: 7 });
    expect(parseArguments(['--replay', 'cs1:1*2', '--seed', '3'], { replay: true })).to.deep.equal({
      replay: 'cs1:1*2',
      seed: 3,
    });
  });

  it('refuses anything else with a usage message', () => {
    expect(() => parseArguments(['--replay', 'cs1:0'], { replay: false })).to.throw(
      'unexpected argument "--replay"; usage: [--seed N]',
    );
    expect(() => parseArguments(['--seed', 'x'], { replay: true })).to.throw(
      'unexpected argument "--seed"; usage: [--seed N] [--replay <schedule>]',
    );
    expect(() => parseArguments(['--seed'], { replay: true })).to.throw('unexpected argument "--seed"');
    expect(() => parseArguments(['extra'], { replay: true })).to.throw('unexpected argument "extra"');
  });
});
