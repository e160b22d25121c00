/**
 * The `{ signal, timeout }` contract (DESIGN.md section 2), one suite run over every waiting method of every
 * primitive: each case below makes the call block, then checks the already-aborted signal, the abort while waiting,
 * the timeout (exact, on the fake clock), `timeout: 0`, `timeout: Infinity` and bad options.
 */
import { expect } from 'chai';
import type sinon from 'sinon';
import {
  AsyncBarrier,
  AsyncBoundedSemaphore,
  AsyncCondition,
  AsyncEvent,
  AsyncLock,
  AsyncQueue,
  AsyncKeyedLock,
  AsyncRateLimiter,
  AsyncRLock,
  AsyncRWLock,
  AsyncSemaphore,
  TaskGroup,
  TimeoutError,
  sleep,
  waitUntil,
  type WaitOptions,
} from '../lib/index.js';
import { flush, installFakeClock, observe, rejectionOf } from './suites/helpers.js';

/** A primitive set up so that `call` blocks, with how many wait on it and how to tear it down. */
interface Blocked {
  call(options: WaitOptions): Promise<unknown>;
  waiting(): number;
  cleanup(): void;
  /** Undoes what giving up did to the primitive (a barrier breaks when a party gives up). */
  recover?(): void;
}

interface WaitingMethod {
  readonly name: string;
  /** Whether the method takes `timeout` (sleep does not: its `ms` is the time). */
  readonly timeout: boolean;
  setup(): Promise<Blocked> | Blocked;
}

const never = () => false;

const methods: WaitingMethod[] = [
  ...(['acquire', 'run'] as const).flatMap((method) => [
    {
      name: `AsyncLock.${method}`,
      timeout: true,
      setup() {
        const lock = new AsyncLock();
        const held = lock.tryAcquire();
        return {
          call: (options: WaitOptions) =>
            method === 'run' ? lock.run(() => 1, options) : lock.acquire(options),
          waiting: () => lock.waiting,
          cleanup: () => held?.release(),
        };
      },
    },
    {
      name: `AsyncRLock.${method}`,
      timeout: true,
      setup() {
        const lock = new AsyncRLock();
        const held = lock.tryAcquire();
        return {
          call: (options: WaitOptions) =>
            method === 'run' ? lock.run(() => 1, options) : lock.acquire(options),
          waiting: () => lock.waiting,
          cleanup: () => held?.release(),
        };
      },
    },
    {
      name: `AsyncSemaphore.${method}`,
      timeout: true,
      setup() {
        const semaphore = new AsyncSemaphore(0);
        return {
          call: (options: WaitOptions) =>
            method === 'run' ? semaphore.run(() => 1, options) : semaphore.acquire(options),
          waiting: () => semaphore.waiting,
          cleanup: () => undefined,
        };
      },
    },
    {
      name: `AsyncBoundedSemaphore.${method}`,
      timeout: true,
      setup() {
        const semaphore = new AsyncBoundedSemaphore(1);
        const held = semaphore.tryAcquire();
        return {
          call: (options: WaitOptions) =>
            method === 'run' ? semaphore.run(() => 1, options) : semaphore.acquire(options),
          waiting: () => semaphore.waiting,
          cleanup: () => held?.release(),
        };
      },
    },
  ]),
  ...(['acquire', 'run'] as const).map((method) => ({
    name: `AsyncRateLimiter.${method}`,
    timeout: true,
    setup() {
      const limiter = new AsyncRateLimiter({ limit: 1, interval: 1_000_000, strict: true });
      limiter.tryAcquire();
      return {
        call: (options: WaitOptions) =>
          method === 'run' ? limiter.run(() => 1, options) : limiter.acquire(options),
        waiting: () => limiter.waiting,
        cleanup: () => limiter.cancelWaiters(),
      };
    },
  })),
  ...(['wait', 'waitFor'] as const).map((method) => ({
    name: `AsyncCondition.${method}`,
    timeout: true,
    setup() {
      const cond = new AsyncCondition();
      return {
        // The wait needs the lock; it holds it again when the call settles, and releases it then.
        call: async (options: WaitOptions) => {
          await cond.acquire();
          try {
            return await (method === 'wait' ? cond.wait(options) : cond.waitFor(never, options));
          } finally {
            cond.release();
          }
        },
        waiting: () => cond.waiting,
        cleanup: () => undefined,
      };
    },
  })),
  {
    name: 'AsyncEvent.wait',
    timeout: true,
    setup() {
      const event = new AsyncEvent();
      return {
        call: (options) => event.wait(options),
        waiting: () => event.waiting,
        cleanup: () => undefined,
      };
    },
  },
  {
    name: 'AsyncQueue.get',
    timeout: true,
    setup() {
      const queue = new AsyncQueue<number>();
      return {
        call: (options) => queue.get(options),
        waiting: () => queue.waiting,
        cleanup: () => undefined,
      };
    },
  },
  {
    name: 'AsyncQueue.put',
    timeout: true,
    setup() {
      const queue = new AsyncQueue<number>(1);
      queue.putNowait(0);
      return {
        call: (options) => queue.put(1, options),
        waiting: () => queue.waiting,
        cleanup: () => undefined,
      };
    },
  },
  {
    name: 'AsyncQueue.join',
    timeout: true,
    setup() {
      const queue = new AsyncQueue<number>();
      queue.putNowait(0);
      let joiners = 0;
      return {
        call: (options) => {
          joiners++;
          return queue.join(options).finally(() => joiners--);
        },
        waiting: () => joiners,
        cleanup: () => undefined,
      };
    },
  },
  {
    name: 'AsyncBarrier.wait',
    timeout: true,
    setup() {
      const barrier = new AsyncBarrier(2);
      return {
        call: (options) => barrier.wait(options),
        waiting: () => barrier.waiting,
        cleanup: () => undefined,
        recover: () => barrier.reset(),
      };
    },
  },
  {
    name: 'Task.join',
    timeout: true,
    setup() {
      const group = new TaskGroup();
      const task = group.spawn((signal) => sleep(Infinity, { signal }));
      return {
        call: (options) => task.join(options),
        waiting: () => task.waiting,
        cleanup: () => group.abort(),
      };
    },
  },
  {
    name: 'TaskGroup.join',
    timeout: true,
    setup() {
      const group = new TaskGroup();
      group.spawn((signal) => sleep(Infinity, { signal }));
      return {
        call: (options) => group.join(options),
        waiting: () => group.waiting,
        cleanup: () => group.abort(),
      };
    },
  },
  {
    name: 'sleep',
    timeout: false,
    setup() {
      let sleepers = 0;
      return {
        call: (options) => {
          sleepers++;
          return sleep(Infinity, options).finally(() => sleepers--);
        },
        waiting: () => sleepers,
        cleanup: () => undefined,
      };
    },
  },
  {
    name: 'waitUntil',
    timeout: true,
    setup() {
      let pollers = 0;
      return {
        call: (options) => {
          pollers++;
          return waitUntil(never, { ...options, interval: 1_000_000 }).finally(() => pollers--);
        },
        waiting: () => pollers,
        cleanup: () => undefined,
      };
    },
  },
  // Issue 14's waiting methods.
  {
    name: 'AsyncLock.waitUnlocked',
    timeout: true,
    setup() {
      const lock = new AsyncLock();
      const held = lock.tryAcquire();
      return {
        call: (options: WaitOptions) => lock.waitUnlocked(options),
        waiting: () => lock.waiting,
        cleanup: () => held?.release(),
      };
    },
  },
  ...(['acquireRead', 'acquireWrite', 'runRead', 'runWrite'] as const).map((method) => ({
    name: `AsyncRWLock.${method}`,
    timeout: true,
    setup() {
      const lock = new AsyncRWLock();
      const held = lock.tryAcquireWrite();
      return {
        call: (options: WaitOptions) =>
          method === 'runRead' || method === 'runWrite'
            ? lock[method](() => 1, options)
            : lock[method](options),
        waiting: () => lock.waiting,
        cleanup: () => held?.release(),
      };
    },
  })),
  ...(['acquire', 'run'] as const).flatMap((method) =>
    [['k'], ['a', 'k']].map((keys) => ({
      name: `AsyncKeyedLock.${method}(${JSON.stringify(keys)})`,
      timeout: true,
      setup() {
        const lock = new AsyncKeyedLock<string>();
        const held = lock.tryAcquire('k');
        return {
          call: (options: WaitOptions) =>
            method === 'run' ? lock.run(keys, () => 1, options) : lock.acquire(keys, options),
          waiting: () => lock.waiting,
          cleanup: () => held?.release(),
        };
      },
    })),
  ),
];

describe('the { signal, timeout } contract, over every waiting method', () => {
  let clock: sinon.SinonFakeTimers | undefined;
  afterEach(() => {
    clock?.restore();
    clock = undefined;
  });

  for (const method of methods) {
    describe(method.name, () => {
      let blocked: Blocked;
      let timersBefore = 0;
      beforeEach(async () => {
        clock = installFakeClock();
        blocked = await method.setup();
        await flush();
        timersBefore = clock.countTimers();
      });
      afterEach(async () => {
        blocked.cleanup();
        await flush();
      });

      it('an already-aborted signal rejects with its reason, queueing nothing', async () => {
        const reason = new Error('aborted before');
        const waitingBefore = blocked.waiting();
        const call = observe(blocked.call({ signal: AbortSignal.abort(reason) }));
        await flush();
        expect(call.state).to.equal('rejected');
        expect(call.reason).to.equal(reason);
        expect(blocked.waiting()).to.equal(waitingBefore);
        expect((clock as sinon.SinonFakeTimers).countTimers()).to.equal(timersBefore);
      });

      it('an abort while waiting rejects with the reason, removes the waiter and leaves no timer', async () => {
        const controller = new AbortController();
        const waitingBefore = blocked.waiting();
        const call = observe(
          blocked.call({ signal: controller.signal, ...(method.timeout ? { timeout: 5_000 } : {}) }),
        );
        await flush();
        expect(call.state).to.equal('pending');
        expect(blocked.waiting()).to.be.greaterThan(waitingBefore);
        const reason = new Error('aborted while waiting');
        controller.abort(reason);
        await flush();
        expect(call.state).to.equal('rejected');
        expect(call.reason).to.equal(reason);
        expect(blocked.waiting()).to.equal(waitingBefore);
        expect((clock as sinon.SinonFakeTimers).countTimers()).to.equal(timersBefore);
      });

      if (!method.timeout) return;

      it('a timeout rejects with TimeoutError exactly when it expires, and removes the waiter', async () => {
        const fake = clock as sinon.SinonFakeTimers;
        const waitingBefore = blocked.waiting();
        const call = observe(blocked.call({ timeout: 10 }));
        await flush();
        fake.tick(9);
        await flush();
        expect(call.state).to.equal('pending');
        fake.tick(1);
        await flush();
        expect(call.state).to.equal('rejected');
        expect(call.reason).to.be.instanceOf(TimeoutError);
        expect(blocked.waiting()).to.equal(waitingBefore);
        expect(fake.countTimers()).to.equal(timersBefore);
      });

      it('timeout 0 rejects with TimeoutError at once; Infinity waits without a timer', async () => {
        const fake = clock as sinon.SinonFakeTimers;
        const waitingBefore = blocked.waiting();
        expect(await rejectionOf(blocked.call({ timeout: 0 }))).to.be.instanceOf(TimeoutError);
        expect(blocked.waiting()).to.equal(waitingBefore);
        blocked.recover?.();
        const controller = new AbortController();
        const forever = observe(blocked.call({ timeout: Infinity, signal: controller.signal }));
        await flush();
        expect(forever.state).to.equal('pending');
        // waitUntil's poll timer; a rate limiter's one timer, due when the head's permit frees
        const extra = method.name === 'waitUntil' || method.name.startsWith('AsyncRateLimiter') ? 1 : 0;
        expect(fake.countTimers()).to.equal(timersBefore + extra);
        controller.abort(new Error('done'));
        await flush();
        expect(forever.state).to.equal('rejected');
      });

      it('bad options reject with a TypeError or RangeError naming the option', async () => {
        const negative = await rejectionOf(blocked.call({ timeout: -1 }));
        expect(negative).to.be.instanceOf(RangeError);
        expect((negative as Error).message).to.match(/options\.timeout/);
        const notSignal = await rejectionOf(blocked.call({ signal: 'stop' as never }));
        expect(notSignal).to.be.instanceOf(TypeError);
        expect((notSignal as Error).message).to.match(/options\.signal/);
      });
    });
  }
});
