/**
 * Diagnostics over Node's `diagnostics_channel` (issue 14): every wait publishes start / granted / rejected with the
 * primitive's label and how long it waited, every hold its duration, on channels named `coop-sync:*`; holder
 * descriptions when switched on. Time is sinon's fake clock (it fakes `performance.now()` too).
 */
import { subscribe, unsubscribe } from 'node:diagnostics_channel';
import { expect } from 'chai';
import sinon from 'sinon';
import {
  AsyncCondition,
  AsyncEvent,
  AsyncKeyedLock,
  AsyncLock,
  AsyncQueue,
  AsyncRLock,
  AsyncRWLock,
  AsyncSemaphore,
  CancelledError,
  TimeoutError,
  configureDiagnostics,
  diagnosticsChannels,
  type Guard,
} from '../lib/index.js';
import { flush, observe } from './suites/helpers.js';

type Event = [channel: string, label: string, detail: string];

/** Subscribes to every channel for the duration of `body`, recording one line per message. */
async function recording(body: (events: Event[]) => Promise<void>): Promise<void> {
  const events: Event[] = [];
  const listeners = Object.entries(diagnosticsChannels).map(([key, name]) => {
    const listener = (message: unknown) => {
      const m = message as {
        label: string;
        waited?: number;
        held?: number;
        reason?: unknown;
        name?: string;
        mode?: string;
      };
      const detail = [
        m.waited !== undefined ? `waited=${m.waited}` : '',
        m.held !== undefined ? `held=${m.held}` : '',
        m.reason !== undefined ? `reason=${(m.reason as Error).name}` : '',
        m.mode !== undefined ? `mode=${m.mode}` : '',
        m.name !== undefined ? `name=${m.name}` : '',
      ]
        .filter(Boolean)
        .join(' ');
      events.push([key, m.label, detail]);
    };
    subscribe(name, listener);
    return [name, listener] as const;
  });
  try {
    await body(events);
  } finally {
    for (const [name, listener] of listeners) unsubscribe(name, listener);
  }
}

describe('diagnostics (diagnostics_channel)', () => {
  let clock: sinon.SinonFakeTimers;
  beforeEach(() => {
    clock = sinon.useFakeTimers({
      toFake: ['setTimeout', 'clearTimeout', 'setInterval', 'clearInterval', 'Date', 'performance'],
    });
  });
  afterEach(() => {
    clock.restore();
    configureDiagnostics({ holders: false, stacks: false });
  });

  it('names its channels coop-sync:*', () => {
    expect(Object.values(diagnosticsChannels)).to.deep.equal([
      'coop-sync:wait:start',
      'coop-sync:wait:granted',
      'coop-sync:wait:rejected',
      'coop-sync:hold:start',
      'coop-sync:hold:end',
    ]);
  });

  it('a lock: each wait publishes start and granted with how long it waited, each hold its duration and name', async () => {
    await recording(async (events) => {
      const lock = new AsyncLock({ name: 'db' });
      const first = await lock.acquire({ name: 'migration' });
      const second = lock.acquire({ name: 'report' });
      await clock.tickAsync(30);
      first.release();
      await clock.tickAsync(5);
      (await second).release();
      expect(events).to.deep.equal([
        ['holdStart', 'AsyncLock(db)', 'name=migration'],
        ['waitStart', 'AsyncLock(db)', ''],
        ['holdEnd', 'AsyncLock(db)', 'held=30 name=migration'],
        ['holdStart', 'AsyncLock(db)', 'name=report'],
        ['waitGranted', 'AsyncLock(db)', 'waited=30'],
        ['holdEnd', 'AsyncLock(db)', 'held=5 name=report'],
      ]);
    });
  });

  it('an AsyncRLock: one hold per outermost hold, none per nested level; a condition wait ends it, its restore begins one', async () => {
    await recording(async (events) => {
      const rlock = new AsyncRLock({ name: 'r' });
      const first = await rlock.acquire();
      const nested = await rlock.acquire({ owner: first });
      const second = rlock.acquire();
      await clock.tickAsync(20);
      nested.release();
      expect(events.map(([channel]) => channel)).to.deep.equal(['holdStart', 'waitStart']);
      first.release();
      await clock.tickAsync(5);
      (await second).release();
      expect(events).to.deep.equal([
        ['holdStart', 'AsyncRLock(r)', ''],
        ['waitStart', 'AsyncRLock(r)', ''],
        ['holdEnd', 'AsyncRLock(r)', 'held=20'],
        ['holdStart', 'AsyncRLock(r)', ''],
        ['waitGranted', 'AsyncRLock(r)', 'waited=20'],
        ['holdEnd', 'AsyncRLock(r)', 'held=5'],
      ]);
      events.length = 0;

      const cond = new AsyncCondition(rlock, { name: 'c' });
      const waiter = rlock.run(() => rlock.run(() => cond.wait()));
      await flush();
      await clock.tickAsync(7);
      await rlock.run(() => cond.notify());
      await waiter;
      expect(events).to.deep.equal([
        ['holdStart', 'AsyncRLock(r)', ''],
        ['holdEnd', 'AsyncRLock(r)', 'held=0'], // the wait sets both levels aside: the hold ends
        ['waitStart', 'AsyncCondition(c)', ''],
        ['holdStart', 'AsyncRLock(r)', ''], // the notifier's hold
        ['holdEnd', 'AsyncRLock(r)', 'held=0'],
        ['holdStart', 'AsyncRLock(r)', ''], // the waiter's levels restored: a new outermost hold
        ['waitGranted', 'AsyncRLock(r)', 'waited=7'],
        ['holdEnd', 'AsyncRLock(r)', 'held=0'],
      ]);
      expect(rlock.locked).to.equal(false);
    });
  });

  it('rejected waits: a timeout, an abort and cancelWaiters, with the reason and the time waited', async () => {
    await recording(async (events) => {
      const semaphore = new AsyncSemaphore(0, { name: 's' });
      const timed = observe(semaphore.acquire({ timeout: 10 }));
      const controller = new AbortController();
      const aborted = observe(semaphore.acquire({ signal: controller.signal }));
      const cancelled = observe(semaphore.acquire());
      await clock.tickAsync(10);
      controller.abort();
      await clock.tickAsync(4);
      semaphore.cancelWaiters();
      await flush();
      expect(timed.reason).to.be.instanceOf(TimeoutError);
      expect(aborted.state).to.equal('rejected');
      expect(cancelled.reason).to.be.instanceOf(CancelledError);
      expect(events).to.deep.equal([
        ['waitStart', 'AsyncSemaphore(s)', ''],
        ['waitStart', 'AsyncSemaphore(s)', ''],
        ['waitStart', 'AsyncSemaphore(s)', ''],
        ['waitRejected', 'AsyncSemaphore(s)', 'waited=10 reason=TimeoutError'],
        ['waitRejected', 'AsyncSemaphore(s)', 'waited=10 reason=AbortError'],
        ['waitRejected', 'AsyncSemaphore(s)', 'waited=14 reason=CancelledError'],
      ]);
    });
  });

  it('every primitive waits through the one queue, so every wait is published: event, queue, condition, rwlock, keyed lock', async () => {
    await recording(async (events) => {
      const event = new AsyncEvent({ name: 'e' });
      const queue = new AsyncQueue<number>(0, { name: 'q' });
      const condition = new AsyncCondition(undefined, { name: 'c' });
      const rw = new AsyncRWLock({ name: 'rw' });
      const keyed = new AsyncKeyedLock({ name: 'k' });
      const waits = [
        event.wait(),
        queue.get(),
        condition.run(() => condition.wait({ timeout: 1 }).catch(() => 0)),
      ];
      const write = rw.tryAcquireWrite() as Guard;
      const read = rw.acquireRead();
      const key = keyed.tryAcquire('ada') as Guard;
      const other = keyed.acquire('ada');
      event.set();
      queue.putNowait(1);
      write.release();
      key.release();
      await clock.tickAsync(1);
      await Promise.all(waits);
      (await read).release();
      (await other).release();
      const waitEvents = events.filter(([channel]) => channel.startsWith('wait'));
      expect(waitEvents.map(([channel, label]) => `${channel} ${label}`)).to.have.members([
        'waitStart AsyncEvent(e)',
        'waitStart AsyncQueue(q)',
        'waitStart AsyncCondition(c)',
        'waitStart AsyncRWLock(rw)',
        'waitStart AsyncKeyedLock(k)["ada"]',
        'waitGranted AsyncEvent(e)',
        'waitGranted AsyncQueue(q)',
        'waitRejected AsyncCondition(c)',
        'waitGranted AsyncRWLock(rw)',
        'waitGranted AsyncKeyedLock(k)["ada"]',
      ]);
      expect(events).to.deep.include(['holdEnd', 'AsyncRWLock(rw)', 'held=0 mode=write']);
      expect(events).to.deep.include(['holdEnd', 'AsyncKeyedLock(k)', 'held=1 mode=["ada"]']);
    });
  });

  it('a wait or hold that began while nobody subscribed publishes nothing later: no invented durations', async () => {
    const lock = new AsyncLock();
    const guard = await lock.acquire();
    const waiting = lock.acquire();
    const events: Event[] = [];
    await recording(async (recorded) => {
      guard.release();
      (await waiting).release();
      events.push(...recorded);
    });
    // The first hold and the wait began unobserved: neither end is published. The hold granted afterwards is new.
    expect(events).to.deep.equal([
      ['holdStart', 'AsyncLock', ''],
      ['holdEnd', 'AsyncLock', 'held=0'],
    ]);
  });
});
