import { expect } from 'chai';
import type sinon from 'sinon';
import { Task, TaskGroup, TimeoutError, sleep, waitUntil } from '../lib/index.js';
import {
  cancelTimer,
  installHook,
  type HookTimer,
  type ParkedWaiter,
  type SchedulerHook,
} from '../lib/core/scheduler.js';
import { flush, yieldTurns, installFakeClock, observe, rejectionOf } from './suites/helpers.js';

/** Counts the abort listeners live on `signal`, by wrapping its own add/removeEventListener. */
function countListeners(signal: AbortSignal): { readonly live: number } {
  const live = new Set<unknown>();
  const add = signal.addEventListener.bind(signal);
  const remove = signal.removeEventListener.bind(signal);
  signal.addEventListener = ((type: string, listener: EventListenerOrEventListenerObject) => {
    if (type === 'abort') live.add(listener);
    add(type, listener);
  }) as AbortSignal['addEventListener'];
  signal.removeEventListener = ((type: string, listener: EventListenerOrEventListenerObject) => {
    if (type === 'abort') live.delete(listener);
    remove(type, listener);
  }) as AbortSignal['removeEventListener'];
  return {
    get live() {
      return live.size;
    },
  };
}

/** A promise that never settles unless `signal` aborts: a task that waits until the group stops it. */
function untilAborted(signal: AbortSignal): Promise<never> {
  return sleep(Infinity, { signal }) as Promise<never>;
}

describe('sleep', () => {
  let clock: sinon.SinonFakeTimers | undefined;

  afterEach(() => {
    clock?.restore();
    clock = undefined;
  });

  it('resolves exactly after ms, through a timer that is gone afterwards', async () => {
    clock = installFakeClock();
    const slept = observe(sleep(100));
    expect(clock.countTimers()).to.equal(1);
    await clock.tickAsync(99);
    expect(slept.state).to.equal('pending');
    await clock.tickAsync(1);
    expect(slept.state).to.equal('fulfilled');
    expect(clock.countTimers()).to.equal(0);
  });

  it('sleep(0) still waits for a timer turn', async () => {
    clock = installFakeClock();
    const slept = observe(sleep(0));
    await flush();
    expect(slept.state).to.equal('pending');
    await clock.tickAsync(0);
    expect(slept.state).to.equal('fulfilled');
  });

  it('waits the full time beyond setTimeout’s 2^31-1 ms limit', async () => {
    clock = installFakeClock();
    const ms = 2 ** 31 + 5;
    const slept = observe(sleep(ms));
    await clock.tickAsync(ms - 1);
    expect(slept.state).to.equal('pending');
    await clock.tickAsync(1);
    expect(slept.state).to.equal('fulfilled');
    expect(clock.countTimers()).to.equal(0);
  });

  it('an abort rejects with signal.reason and clears the timer and the listener at once', async () => {
    clock = installFakeClock();
    const controller = new AbortController();
    const listeners = countListeners(controller.signal);
    const reason = new Error('wake up');
    const slept = observe(sleep(1000, { signal: controller.signal }));
    expect(listeners.live).to.equal(1);
    await clock.tickAsync(400);
    controller.abort(reason);
    expect(clock.countTimers()).to.equal(0);
    expect(listeners.live).to.equal(0);
    await flush();
    expect(slept.state).to.equal('rejected');
    expect(slept.reason).to.equal(reason);
  });

  it('an already-aborted signal rejects with its reason without starting a timer', async () => {
    clock = installFakeClock();
    const reason = new Error('already');
    expect(await rejectionOf(sleep(10, { signal: AbortSignal.abort(reason) }))).to.equal(reason);
    expect(clock.countTimers()).to.equal(0);
  });

  it('a sleep that ran out leaves no listener on a long-lived signal', async () => {
    clock = installFakeClock();
    const controller = new AbortController();
    const listeners = countListeners(controller.signal);
    const naps = [sleep(5, { signal: controller.signal }), sleep(10, { signal: controller.signal })];
    expect(listeners.live).to.equal(1); // one listener, shared by every wait on the signal
    await clock.tickAsync(10);
    await Promise.all(naps);
    expect(listeners.live).to.equal(0);
  });

  it('sleep(Infinity) starts no timer and ends only when aborted', async () => {
    clock = installFakeClock();
    const controller = new AbortController();
    const slept = observe(sleep(Infinity, { signal: controller.signal }));
    expect(clock.countTimers()).to.equal(0);
    await clock.tickAsync(10 ** 9);
    expect(slept.state).to.equal('pending');
    controller.abort();
    await flush();
    expect(slept.state).to.equal('rejected');
    expect((slept.reason as Error).name).to.equal('AbortError');
  });

  it('rejects bad arguments with errors naming them, before looking at the signal', async () => {
    const aborted = AbortSignal.abort(new Error('aborted'));
    const cases: [() => Promise<void>, new (...args: never[]) => Error, string][] = [
      [
        () => sleep('10' as unknown as number),
        TypeError,
        'sleep: ms must be a number of milliseconds, got "10"',
      ],
      [() => sleep(-1, { signal: aborted }), RangeError, 'sleep: ms must be >= 0, got -1'],
      [() => sleep(Number.NaN), RangeError, 'sleep: ms must be >= 0, got NaN'],
      [() => sleep(10, 'fast' as never), TypeError, 'sleep: options must be an object, got "fast"'],
      [
        () => sleep(10, { signal: {} as AbortSignal }),
        TypeError,
        'sleep: options.signal must be an AbortSignal',
      ],
      [() => sleep(10, { timeout: 5 } as never), TypeError, 'sleep: options.timeout is not supported'],
    ];
    for (const [call, ErrorClass, message] of cases) {
      const error = await rejectionOf(call());
      expect(error).to.be.instanceOf(ErrorClass);
      expect((error as Error).message).to.contain(message);
    }
  });
});

describe('waitUntil', () => {
  let clock: sinon.SinonFakeTimers | undefined;

  afterEach(() => {
    clock?.restore();
    clock = undefined;
  });

  it('checks once at once: a true predicate resolves without a timer', async () => {
    clock = installFakeClock();
    let calls = 0;
    const waited = observe(waitUntil(() => ++calls));
    expect(calls).to.equal(1);
    expect(clock.countTimers()).to.equal(0);
    await yieldTurns(2);
    expect(waited.state).to.equal('fulfilled');
  });

  it('polls every interval and resolves on the first check that holds', async () => {
    clock = installFakeClock();
    const checkedAt: number[] = [];
    let ready = false;
    const waited = observe(
      waitUntil(
        () => {
          checkedAt.push(Date.now());
          return ready;
        },
        { interval: 25 },
      ),
    );
    await clock.tickAsync(60);
    ready = true;
    await clock.tickAsync(14);
    expect(waited.state).to.equal('pending');
    await clock.tickAsync(1);
    expect(waited.state).to.equal('fulfilled');
    expect(checkedAt).to.deep.equal([0, 25, 50, 75]);
    expect(clock.countTimers()).to.equal(0);
  });

  it('polls every 10 ms by default', async () => {
    clock = installFakeClock();
    const checkedAt: number[] = [];
    const controller = new AbortController();
    const waited = observe(waitUntil(() => void checkedAt.push(Date.now()), { signal: controller.signal }));
    await clock.tickAsync(30);
    controller.abort();
    await flush();
    expect(waited.state).to.equal('rejected');
    expect(checkedAt).to.deep.equal([0, 10, 20, 30]);
  });

  it('a timeout rejects with TimeoutError naming the predicate, exactly on time, and stops polling', async () => {
    clock = installFakeClock();
    let calls = 0;
    function isReady(): boolean {
      calls++;
      return false;
    }
    const waited = observe(waitUntil(isReady, { interval: 10, timeout: 35 }));
    await clock.tickAsync(34);
    expect(waited.state).to.equal('pending');
    await clock.tickAsync(1);
    expect(waited.state).to.equal('rejected');
    expect(waited.reason).to.be.instanceOf(TimeoutError);
    expect((waited.reason as Error).message).to.equal('waitUntil(isReady) timed out after 35 ms');
    expect(clock.countTimers()).to.equal(0);
    const callsAtTimeout = calls;
    await clock.tickAsync(100);
    expect(calls).to.equal(callsAtTimeout);
    expect(callsAtTimeout).to.equal(4); // at 0, 10, 20, 30
  });

  it('timeout 0 checks once: resolves if the predicate holds, else TimeoutError', async () => {
    clock = installFakeClock();
    await waitUntil(() => true, { timeout: 0 });
    expect(await rejectionOf(waitUntil(() => false, { timeout: 0 }))).to.be.instanceOf(TimeoutError);
    expect(clock.countTimers()).to.equal(0);
  });

  it('an abort rejects with signal.reason; no timer or listener remains', async () => {
    clock = installFakeClock();
    const controller = new AbortController();
    const listeners = countListeners(controller.signal);
    const reason = new Error('give up');
    const waited = observe(waitUntil(() => false, { signal: controller.signal, timeout: 1000 }));
    await clock.tickAsync(25);
    expect(clock.countTimers()).to.equal(2); // the poll and the timeout
    expect(listeners.live).to.equal(1);
    controller.abort(reason);
    expect(clock.countTimers()).to.equal(0);
    expect(listeners.live).to.equal(0);
    await flush();
    expect(waited.reason).to.equal(reason);
  });

  it('success leaves no timer or listener behind either', async () => {
    clock = installFakeClock();
    const controller = new AbortController();
    const listeners = countListeners(controller.signal);
    let ready = false;
    const waited = waitUntil(() => ready, { signal: controller.signal, timeout: 1000, interval: 5 });
    await clock.tickAsync(12);
    ready = true;
    await clock.tickAsync(3);
    await waited;
    expect(clock.countTimers()).to.equal(0);
    expect(listeners.live).to.equal(0);
  });

  it('an already-aborted signal wins over a predicate that holds', async () => {
    const reason = new Error('already');
    expect(await rejectionOf(waitUntil(() => true, { signal: AbortSignal.abort(reason) }))).to.equal(reason);
  });

  it('a predicate that throws rejects with its error, at once or on a later poll, and polling stops', async () => {
    clock = installFakeClock();
    const first = new Error('first check');
    expect(
      await rejectionOf(
        waitUntil(() => {
          throw first;
        }),
      ),
    ).to.equal(first);
    const later = new Error('third check');
    let calls = 0;
    const waited = observe(
      waitUntil(
        () => {
          if (++calls === 3) throw later;
          return false;
        },
        { timeout: 1000 },
      ),
    );
    await clock.tickAsync(20);
    expect(waited.state).to.equal('rejected');
    expect(waited.reason).to.equal(later);
    expect(clock.countTimers()).to.equal(0);
    await clock.tickAsync(100);
    expect(calls).to.equal(3);
  });

  it('a predicate that returns a promise is a TypeError (a promise is always truthy)', async () => {
    const error = await rejectionOf(waitUntil(async () => false));
    expect(error).to.be.instanceOf(TypeError);
    expect((error as Error).message).to.contain('waitUntil: predicate returned a promise');
  });

  it('rejects bad arguments with errors naming them, before looking at the signal', async () => {
    const signal = AbortSignal.abort(new Error('aborted'));
    const cases: [() => Promise<void>, new (...args: never[]) => Error, string][] = [
      [() => waitUntil(true as never), TypeError, 'waitUntil: predicate must be a function, got true'],
      [
        () => waitUntil(() => false, { interval: 0, signal }),
        RangeError,
        'options.interval must be a finite',
      ],
      [
        () => waitUntil(() => false, { interval: -5 }),
        RangeError,
        'waitUntil: options.interval must be >= 0',
      ],
      [() => waitUntil(() => false, { interval: Infinity }), RangeError, 'options.interval must be a finite'],
      [() => waitUntil(() => false, { interval: Number.NaN }), RangeError, 'options.interval must be >= 0'],
      [
        () => waitUntil(() => false, { interval: '5' as never }),
        TypeError,
        'waitUntil: options.interval must be a',
      ],
      [() => waitUntil(() => false, { timeout: -1 }), RangeError, 'waitUntil: options.timeout must be >= 0'],
      [() => waitUntil(() => false, { signal: 1 as never }), TypeError, 'waitUntil: options.signal must be'],
    ];
    for (const [call, ErrorClass, message] of cases) {
      const error = await rejectionOf(call());
      expect(error).to.be.instanceOf(ErrorClass);
      expect((error as Error).message).to.contain(message);
    }
  });
});

describe('TaskGroup', () => {
  let clock: sinon.SinonFakeTimers | undefined;

  afterEach(() => {
    clock?.restore();
    clock = undefined;
  });

  describe('spawn', () => {
    it('starts fn after spawn returns, with the task’s own signal', async () => {
      const group = new TaskGroup();
      const events: string[] = [];
      let received: AbortSignal | undefined;
      const task = group.spawn(async (signal) => {
        received = signal;
        events.push('task runs');
        return 1;
      });
      events.push('spawn returned');
      await flush();
      expect(events).to.deep.equal(['spawn returned', 'task runs']);
      expect(received).to.equal(task.signal);
      expect(task.signal.aborted).to.equal(false);
    });

    it('names tasks task-1, task-2, ... unless given a name, and keeps the daemon flag', () => {
      const group = new TaskGroup({ name: 'g' });
      const tasks = [
        group.spawn(async () => 1),
        group.spawn(async () => 2, { name: 'named' }),
        group.spawn(async () => 3, { daemon: true }),
      ];
      expect(tasks.map((task) => [task.name, task.label, task.daemon])).to.deep.equal([
        ['task-1', 'Task(task-1)', false],
        ['named', 'Task(named)', false],
        ['task-3', 'Task(task-3)', true],
      ]);
      expect(tasks[0]).to.be.instanceOf(Task);
    });

    it('accepts a function that returns a plain value', async () => {
      const group = new TaskGroup();
      const task = group.spawn(() => 'plain');
      expect(await task.join()).to.equal('plain');
    });

    it('rejects bad arguments with errors naming them', () => {
      const group = new TaskGroup({ name: 'g' });
      expect(() => group.spawn('work' as never)).to.throw(
        TypeError,
        'TaskGroup(g).spawn: fn must be a function',
      );
      expect(() => group.spawn(async () => 1, 'x' as never)).to.throw(
        TypeError,
        'TaskGroup(g).spawn: options must be an object, got "x"',
      );
      expect(() => group.spawn(async () => 1, { name: 7 as never })).to.throw(
        TypeError,
        'TaskGroup(g).spawn: options.name must be a string, got 7',
      );
      expect(() => group.spawn(async () => 1, { daemon: 'yes' as never })).to.throw(
        TypeError,
        'TaskGroup(g).spawn: options.daemon must be a boolean, got "yes"',
      );
      expect(() => group.spawn(async () => 1, { daemon: null as never })).to.throw(
        TypeError,
        'TaskGroup(g).spawn: options.daemon must be a boolean, got null',
      );
      expect(() => group.spawn(async () => 1, { daemon: 0 as never })).to.throw(
        TypeError,
        'TaskGroup(g).spawn: options.daemon must be a boolean, got 0',
      );
      expect(() => new TaskGroup({ name: 1 as never })).to.throw(
        TypeError,
        'TaskGroup: options.name must be a string',
      );
      expect(group.running).to.equal(0);
    });

    it('tasks are created by spawn only: new Task() throws', () => {
      expect(() => new (Task as unknown as new () => Task<unknown>)()).to.throw(
        TypeError,
        'tasks are created by TaskGroup.spawn',
      );
    });

    it('a task may spawn siblings while join waits, and join waits for them too', async () => {
      const group = new TaskGroup();
      const events: string[] = [];
      group.spawn(async () => {
        await yieldTurns(2);
        group.spawn(async () => {
          await yieldTurns(5);
          events.push('child done');
        });
        events.push('parent done');
      });
      await group.join();
      events.push('joined');
      expect(events).to.deep.equal(['parent done', 'child done', 'joined']);
    });

    it('throws once the group has settled', async () => {
      const group = new TaskGroup({ name: 'g' });
      group.spawn(async () => 1);
      await group.join();
      expect(group.settled).to.equal(true);
      expect(() => group.spawn(async () => 2)).to.throw(
        Error,
        'TaskGroup(g) has settled: it cannot spawn more tasks',
      );
    });

    it('a group that was never joined does not settle when its tasks are done', async () => {
      const group = new TaskGroup();
      await group.spawn(async () => 1).join();
      expect(group.settled).to.equal(false);
      const late = group.spawn(async () => 2);
      await group.join();
      expect(await late.join()).to.equal(2);
    });
  });

  describe('join', () => {
    it('waits for every non-daemon task and resolves; each task keeps its result', async () => {
      clock = installFakeClock();
      const group = new TaskGroup({ name: 'g' });
      const fast = group.spawn(async (signal) => {
        await sleep(10, { signal });
        return 'fast';
      });
      const slow = group.spawn(async (signal) => {
        await sleep(30, { signal });
        return 'slow';
      });
      const joined = observe(group.join());
      await clock.tickAsync(10);
      expect(fast.done).to.equal(true);
      expect(joined.state).to.equal('pending');
      expect(group.running).to.equal(1);
      await clock.tickAsync(20);
      expect(joined.state).to.equal('fulfilled');
      expect([await fast.join(), await slow.join()]).to.deep.equal(['fast', 'slow']);
      expect(clock.countTimers()).to.equal(0);
    });

    it('an empty group joins at once, and settles', async () => {
      const group = new TaskGroup();
      await group.join();
      expect(group.settled).to.equal(true);
    });

    it('releases every caller, in the order they joined; a settled group joins at once, again and again', async () => {
      const group = new TaskGroup();
      const release = new AbortController();
      group.spawn(async () => {
        await sleep(Infinity, { signal: release.signal }).catch(() => undefined);
      });
      const events: string[] = [];
      const joins = ['a', 'b', 'c'].map((name) => group.join().then(() => events.push(name)));
      await flush();
      expect(group.waiting).to.equal(3);
      release.abort();
      await Promise.all(joins);
      expect(events).to.deep.equal(['a', 'b', 'c']);
      await group.join();
      await group.join();
    });

    it('a timeout rejects with TimeoutError naming the group and leaves the tasks running', async () => {
      clock = installFakeClock();
      const group = new TaskGroup({ name: 'g' });
      const task = group.spawn(async (signal) => {
        await sleep(100, { signal });
        return 'done';
      });
      const error = rejectionOf(group.join({ timeout: 50 }));
      await clock.tickAsync(50);
      expect(await error).to.be.instanceOf(TimeoutError);
      expect(((await error) as Error).message).to.equal('TaskGroup(g) timed out after 50 ms');
      expect(task.signal.aborted).to.equal(false);
      expect(group.waiting).to.equal(0);
      const joined = observe(group.join());
      await clock.tickAsync(50);
      expect(joined.state).to.equal('fulfilled');
      expect(await task.join()).to.equal('done');
      expect(clock.countTimers()).to.equal(0);
    });

    it('an abort of the join rejects with its reason and removes its listener; the tasks run on', async () => {
      const group = new TaskGroup();
      const controller = new AbortController();
      const listeners = countListeners(controller.signal);
      const release = new AbortController();
      const task = group.spawn(async () =>
        sleep(Infinity, { signal: release.signal }).catch(() => 'released'),
      );
      const reason = new Error('stop waiting');
      const joined = observe(group.join({ signal: controller.signal }));
      expect(listeners.live).to.equal(1);
      controller.abort(reason);
      expect(listeners.live).to.equal(0);
      await flush();
      expect(joined.reason).to.equal(reason);
      expect(task.done).to.equal(false);
      release.abort();
      expect(await task.join()).to.equal('released');
    });

    it('an already-aborted signal rejects even when the group has settled', async () => {
      const group = new TaskGroup();
      await group.join();
      const reason = new Error('already');
      expect(await rejectionOf(group.join({ signal: AbortSignal.abort(reason) }))).to.equal(reason);
      expect(await rejectionOf(group.join({ timeout: -1 }))).to.be.instanceOf(RangeError);
    });
  });

  describe('daemon tasks', () => {
    it('never keep join waiting: they are aborted when the last non-daemon task finishes, before join resolves', async () => {
      clock = installFakeClock();
      const group = new TaskGroup({ name: 'g' });
      const events: string[] = [];
      const beats: number[] = [];
      const daemon = group.spawn(
        async (signal) => {
          signal.addEventListener('abort', () => events.push('daemon aborted'));
          for (;;) {
            await sleep(10, { signal });
            beats.push(Date.now());
          }
        },
        { name: 'heartbeat', daemon: true },
      );
      group.spawn(async (signal) => {
        await sleep(35, { signal });
        events.push('worker done');
      });
      const joined = group.join().then(() => events.push('joined'));
      await clock.tickAsync(35);
      await joined;
      expect(events).to.deep.equal(['worker done', 'daemon aborted', 'joined']);
      expect(beats).to.deep.equal([10, 20, 30]);
      const reason = await rejectionOf(daemon.join());
      expect(reason).to.equal(daemon.signal.reason);
      expect((reason as Error).name).to.equal('AbortError');
      expect((reason as Error).message).to.equal('TaskGroup(g) has settled: daemon tasks are aborted');
      expect(clock.countTimers()).to.equal(0);
    });

    it('a group of daemons only settles as soon as it is joined', async () => {
      const group = new TaskGroup();
      const daemon = group.spawn(untilAborted, { daemon: true });
      await flush();
      expect(daemon.signal.aborted).to.equal(false);
      await group.join();
      expect(daemon.signal.aborted).to.equal(true);
    });

    it('a daemon’s failure is reported by its own join, not the group’s, and aborts nothing', async () => {
      const group = new TaskGroup();
      const failure = new Error('daemon broke');
      const daemon = group.spawn(
        async () => {
          throw failure;
        },
        { daemon: true },
      );
      const release = new AbortController();
      const worker = group.spawn(async () =>
        sleep(Infinity, { signal: release.signal }).catch(() => 'worked'),
      );
      expect(await rejectionOf(daemon.join())).to.equal(failure);
      expect(worker.signal.aborted).to.equal(false);
      expect(group.aborted).to.equal(false);
      release.abort();
      await group.join();
      expect(await worker.join()).to.equal('worked');
    });
  });

  describe('failures', () => {
    it('a failing task aborts its siblings and daemons; join rejects with an AggregateError of the failures', async () => {
      clock = installFakeClock();
      const group = new TaskGroup({ name: 'g' });
      const failure = new Error('boom');
      const sibling = group.spawn(async (signal) => sleep(1000, { signal }), { name: 'sibling' });
      const daemon = group.spawn(untilAborted, { daemon: true });
      group.spawn(
        async (signal) => {
          await sleep(10, { signal });
          throw failure;
        },
        { name: 'bad' },
      );
      const joined = observe(group.join());
      await clock.tickAsync(10);
      expect(group.aborted).to.equal(true);
      expect(sibling.signal.aborted).to.equal(true);
      expect(daemon.signal.reason).to.equal(sibling.signal.reason);
      expect((sibling.signal.reason as Error).name).to.equal('AbortError');
      expect((sibling.signal.reason as Error).message).to.equal('TaskGroup(g) was aborted: Task(bad) failed');
      expect(joined.state).to.equal('rejected');
      const error = joined.reason as AggregateError;
      expect(error).to.be.instanceOf(AggregateError);
      expect(error.errors).to.deep.equal([failure]);
      expect(error.message).to.equal('TaskGroup(g): a task failed: Task(bad)');
      expect(await rejectionOf(sibling.join())).to.equal(sibling.signal.reason);
      expect(clock.countTimers()).to.equal(0);
    });

    it('join waits for the aborted siblings to stop, and counts their failures other than the abort reason', async () => {
      const group = new TaskGroup({ name: 'g' });
      const first = new Error('first');
      const cleanup = new Error('cleanup failed');
      const release = new AbortController();
      group.spawn(
        async (signal) => {
          await untilAborted(signal).catch(() => undefined);
          await sleep(Infinity, { signal: release.signal }).catch(() => undefined); // a slow cleanup
          throw cleanup;
        },
        { name: 'careless' },
      );
      group.spawn(async (signal) => untilAborted(signal), { name: 'echo' });
      const ignorer = group.spawn(async () =>
        sleep(Infinity, { signal: release.signal }).catch(() => 'ignored it'),
      );
      group.spawn(
        async () => {
          throw first;
        },
        { name: 'bad' },
      );
      const joined = observe(group.join());
      await flush();
      expect(group.aborted).to.equal(true);
      expect(joined.state).to.equal('pending');
      expect(group.running).to.equal(2);
      release.abort();
      await flush();
      expect(joined.state).to.equal('rejected');
      const error = joined.reason as AggregateError;
      expect(error.errors).to.deep.equal([first, cleanup]);
      expect(error.message).to.equal('TaskGroup(g): 2 tasks failed: Task(bad), Task(careless)');
      expect(await ignorer.join()).to.equal('ignored it');
    });

    it('a function that throws synchronously is a failing task', async () => {
      const group = new TaskGroup();
      const failure = new Error('sync');
      const task = group.spawn(() => {
        throw failure;
      });
      expect(await rejectionOf(task.join())).to.equal(failure);
      expect(((await rejectionOf(group.join())) as AggregateError).errors).to.deep.equal([failure]);
    });

    it('the group settles after a failure even if nobody joins; every join gets its own AggregateError', async () => {
      const group = new TaskGroup({ name: 'g' });
      const failure = new Error('boom');
      group.spawn(async () => {
        throw failure;
      });
      await flush();
      expect(group.settled).to.equal(true);
      expect(() => group.spawn(async () => 1)).to.throw(Error, 'TaskGroup(g) has settled');
      const [a, b] = [await rejectionOf(group.join()), await rejectionOf(group.join())] as AggregateError[];
      expect(a).to.not.equal(b);
      expect(a!.errors).to.deep.equal([failure]);
      expect(b!.errors).to.deep.equal([failure]);
    });
  });

  describe('abort', () => {
    it('aborts every task with the reason; join resolves once they stopped; spawn throws', async () => {
      const group = new TaskGroup({ name: 'g' });
      const reason = new Error('shutting down');
      const worker = group.spawn(untilAborted);
      const daemon = group.spawn(untilAborted, { daemon: true });
      await flush();
      group.abort(reason);
      expect(worker.signal.reason).to.equal(reason);
      expect(daemon.signal.reason).to.equal(reason);
      expect(group.aborted).to.equal(true);
      expect(`${group}`).to.equal('TaskGroup(g)[running=1, daemons=1, aborted]');
      expect(() => group.spawn(async () => 1)).to.throw(
        Error,
        'TaskGroup(g) was aborted: it cannot spawn more tasks',
      );
      await group.join();
      expect(await rejectionOf(worker.join())).to.equal(reason);
    });

    it('without a reason, aborts with an AbortError naming the group; a second abort changes nothing', async () => {
      const group = new TaskGroup({ name: 'g' });
      const task = group.spawn(untilAborted);
      group.abort();
      group.abort(new Error('later'));
      const reason = task.signal.reason as Error;
      expect(reason.name).to.equal('AbortError');
      expect(reason.message).to.equal('TaskGroup(g) was aborted');
      await group.join();
    });

    it('a task aborted before it started never runs', async () => {
      const group = new TaskGroup();
      let ran = false;
      const task = group.spawn(async () => {
        ran = true;
      });
      const reason = new Error('too late');
      group.abort(reason);
      expect(await rejectionOf(task.join())).to.equal(reason);
      expect(ran).to.equal(false);
      await group.join();
    });

    it('a group with no task left settles at once when aborted', () => {
      const group = new TaskGroup();
      group.abort();
      expect(group.settled).to.equal(true);
    });

    it('aborting a settled group does nothing', async () => {
      const group = new TaskGroup();
      await group.join();
      group.abort(new Error('late'));
      expect(group.aborted).to.equal(false);
    });
  });

  describe('Symbol.asyncDispose', () => {
    it('joins the group at the end of an await using block, then waits for the aborted daemons to stop', async () => {
      clock = installFakeClock();
      const events: string[] = [];
      const block = (async () => {
        await using group = new TaskGroup();
        group.spawn(
          async (signal) => {
            await untilAborted(signal).catch(() => undefined);
            await sleep(5); // cleanup after the abort
            events.push('daemon stopped');
          },
          { daemon: true },
        );
        group.spawn(async (signal) => {
          await sleep(10, { signal });
          events.push('worker done');
        });
      })();
      const left = observe(block.then(() => events.push('block left')));
      await clock.tickAsync(10);
      expect(events).to.deep.equal(['worker done']);
      expect(left.state).to.equal('pending');
      await clock.tickAsync(5);
      expect(events).to.deep.equal(['worker done', 'daemon stopped', 'block left']);
    });

    it('rejects with the AggregateError of the failures', async () => {
      const failure = new Error('boom');
      const block = async () => {
        await using group = new TaskGroup();
        group.spawn(async () => {
          throw failure;
        });
      };
      const error = (await rejectionOf(block())) as AggregateError;
      expect(error).to.be.instanceOf(AggregateError);
      expect(error.errors).to.deep.equal([failure]);
    });
  });

  describe('Task.join', () => {
    it('resolves for every caller, before and after the task finished', async () => {
      const group = new TaskGroup();
      const release = new AbortController();
      const task = group.spawn(async () => {
        await sleep(Infinity, { signal: release.signal }).catch(() => undefined);
        return 42;
      });
      const early = [task.join(), task.join()];
      await flush();
      expect(task.waiting).to.equal(2);
      release.abort();
      expect(await Promise.all(early)).to.deep.equal([42, 42]);
      expect(await task.join()).to.equal(42);
      expect(task.waiting).to.equal(0);
    });

    it('a timeout or abort of the join rejects and leaves the task running', async () => {
      clock = installFakeClock();
      const group = new TaskGroup();
      const task = group.spawn(
        async (signal) => {
          await sleep(100, { signal });
          return 'done';
        },
        { name: 'slow' },
      );
      const timedOut = rejectionOf(task.join({ timeout: 10 }));
      await clock.tickAsync(10);
      expect(((await timedOut) as Error).message).to.equal('Task(slow) timed out after 10 ms');
      const reason = new Error('no more');
      expect(await rejectionOf(task.join({ signal: AbortSignal.abort(reason) }))).to.equal(reason);
      expect(task.done).to.equal(false);
      await clock.tickAsync(90);
      expect(await task.join({ timeout: 0 })).to.equal('done');
    });
  });

  describe('introspection', () => {
    it('toString shows running and daemon counts, then the settled state; tasks show theirs', async () => {
      clock = installFakeClock();
      const group = new TaskGroup({ name: 'crawl' });
      const worker = group.spawn(async (signal) => sleep(10, { signal }), { name: 'a' });
      group.spawn(async (signal) => sleep(10, { signal }), { name: 'b' });
      const daemon = group.spawn(untilAborted, { name: 'progress', daemon: true });
      expect(`${group}`).to.equal('TaskGroup(crawl)[running=2, daemons=1]');
      expect(`${worker}`).to.equal('Task(a)[running, waiting=0]');
      const joined = group.join();
      await clock.tickAsync(10);
      await joined;
      expect(`${group}`).to.equal('TaskGroup(crawl)[running=0, daemons=0, settled]');
      expect(`${worker}`).to.equal('Task(a)[fulfilled, waiting=0]');
      expect(`${daemon}`).to.equal('Task(progress)[daemon, rejected, waiting=0]');
      expect(group.name).to.equal('crawl');
      expect(`${new TaskGroup()}`).to.equal('TaskGroup[running=0, daemons=0]');
    });
  });
});

/** A scheduler hook like the harness's: it logs who parks on what and who wakes whom, and resumes when told. */
class StepHook implements SchedulerHook {
  readonly log: string[] = [];
  private readonly woken: ParkedWaiter[] = [];
  private readonly timers = new Map<number, () => void>();
  private nextTimer = 1;

  parked(waiter: ParkedWaiter): void {
    this.log.push(`parked on ${labelOf(waiter.waitingOn)}`);
  }

  wake(waiter: ParkedWaiter, from: object): void {
    this.log.push(`${waiter.granted ? 'granted' : 'rejected'} by ${labelOf(from)}`);
    this.woken.push(waiter);
  }

  setTimer(callback: () => void, ms: number, waiter: ParkedWaiter | undefined): HookTimer {
    const id = this.nextTimer++;
    this.timers.set(id, callback);
    this.log.push(`timer ${id}: ${ms} ms for ${labelOf(waiter?.waitingOn)}`);
    return { [cancelTimer]: () => void this.timers.delete(id) };
  }

  /** Resumes every task woken so far, in order, and lets their code run. */
  async resumeAll(): Promise<void> {
    for (let waiter = this.woken.shift(); waiter !== undefined; waiter = this.woken.shift()) waiter.resume();
    await flush();
  }

  fire(id: number): void {
    const callback = this.timers.get(id);
    if (callback === undefined) throw new Error(`no timer ${id}`);
    this.timers.delete(id);
    this.log.push(`fire ${id}`);
    callback();
  }

  get pendingTimers(): number {
    return this.timers.size;
  }
}

function labelOf(owner: object | undefined): string {
  return owner === undefined ? '-' : (owner as { label: string }).label;
}

describe('tasks under a scheduler hook (what the harness sees)', () => {
  let hook: StepHook;

  beforeEach(() => {
    hook = new StepHook();
    installHook(hook);
  });

  afterEach(() => {
    installHook(undefined);
  });

  it('a task starts when the hook resumes its start; joins park on the group and the task; sleeps use hook timers', async () => {
    const group = new TaskGroup({ name: 'g' });
    const events: string[] = [];
    const task = group.spawn(
      async (signal) => {
        events.push('started');
        await sleep(10, { signal });
        events.push('slept');
        return 'done';
      },
      { name: 'worker' },
    );
    const joined = observe(group.join());
    const result = observe(task.join());
    await flush();
    expect(events).to.deep.equal([]); // not started until the hook says so
    await hook.resumeAll();
    expect(events).to.deep.equal(['started']);
    hook.fire(1);
    await hook.resumeAll();
    await hook.resumeAll();
    expect(events).to.deep.equal(['started', 'slept']);
    expect(result.value).to.equal('done');
    expect(joined.state).to.equal('fulfilled');
    expect(hook.log).to.deep.equal([
      'parked on Task(worker)',
      'granted by Task(worker)',
      'parked on TaskGroup(g)',
      'parked on Task(worker)',
      'parked on sleep(10 ms)',
      'timer 1: 10 ms for sleep(10 ms)',
      'fire 1',
      'granted by sleep(10 ms)',
      'granted by Task(worker)',
      'granted by TaskGroup(g)',
    ]);
  });

  it('waitUntil polls on hook timers and parks on a queue named after its predicate', async () => {
    let ready = false;
    function isReady(): boolean {
      return ready;
    }
    const waited = observe(waitUntil(isReady, { interval: 5, timeout: 100 }));
    hook.fire(2); // the first poll; timer 1 is the timeout
    ready = true;
    hook.fire(3);
    await hook.resumeAll();
    expect(waited.state).to.equal('fulfilled');
    expect(hook.pendingTimers).to.equal(0);
    expect(hook.log).to.deep.equal([
      'timer 1: 100 ms for waitUntil(isReady)',
      'parked on waitUntil(isReady)',
      'timer 2: 5 ms for waitUntil(isReady)',
      'fire 2',
      'timer 3: 5 ms for waitUntil(isReady)',
      'fire 3',
      'granted by waitUntil(isReady)',
    ]);
  });
});
