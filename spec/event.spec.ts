import { expect } from 'chai';
import sinon from 'sinon';
import { AsyncEvent, TimeoutError } from '../lib/index.js';
import { flush, yieldTurns, installFakeClock, observe, rejectionOf } from './suites/helpers.js';

describe('AsyncEvent', () => {
  let clock: sinon.SinonFakeTimers | undefined;

  afterEach(() => {
    clock?.restore();
    clock = undefined;
  });

  describe('set', () => {
    it('wakes every waiter, in the order they started waiting', async () => {
      const event = new AsyncEvent();
      const events: string[] = [];
      const waiters = ['a', 'b', 'c'].map((label) => event.wait().then(() => events.push(label)));
      await flush();
      expect(events).to.deep.equal([]);
      expect(event.waiting).to.equal(3);
      event.set();
      expect(event.isSet).to.equal(true);
      expect(event.waiting).to.equal(0);
      await Promise.all(waiters);
      expect(events).to.deep.equal(['a', 'b', 'c']);
    });

    it('lets later waits through at once, until cleared', async () => {
      const event = new AsyncEvent();
      event.set();
      const now = observe(event.wait());
      const zero = observe(event.wait({ timeout: 0 }));
      expect(event.waiting).to.equal(0);
      await yieldTurns(2);
      expect(now.state).to.equal('fulfilled');
      expect(zero.state).to.equal('fulfilled');
    });

    it('setting a set event does nothing', async () => {
      const event = new AsyncEvent();
      event.set();
      event.set();
      expect(event.isSet).to.equal(true);
      await event.wait();
    });
  });

  describe('clear', () => {
    it('makes later waits block until the next set', async () => {
      const event = new AsyncEvent();
      event.set();
      event.clear();
      expect(event.isSet).to.equal(false);
      const waiter = observe(event.wait());
      await flush();
      expect(waiter.state).to.equal('pending');
      expect(event.waiting).to.equal(1);
      event.set();
      await flush();
      expect(waiter.state).to.equal('fulfilled');
    });

    it('does not take back a wake-up: set then clear in the same tick still wakes the waiters', async () => {
      const event = new AsyncEvent();
      const waiters = [observe(event.wait()), observe(event.wait())];
      event.set();
      event.clear();
      const late = observe(event.wait());
      await flush();
      expect(waiters.map((waiter) => waiter.state)).to.deep.equal(['fulfilled', 'fulfilled']);
      expect(late.state).to.equal('pending');
      expect(event.waiting).to.equal(1);
    });
  });

  describe('timeout', () => {
    it('rejects with TimeoutError exactly at the timeout and removes only that waiter', async () => {
      clock = installFakeClock();
      const event = new AsyncEvent({ name: 'ready' });
      const timed = observe(event.wait({ timeout: 30 }));
      const patient = observe(event.wait());
      await clock.tickAsync(29);
      expect(timed.state).to.equal('pending');
      await clock.tickAsync(1);
      expect(timed.state).to.equal('rejected');
      expect(timed.reason).to.be.instanceOf(TimeoutError);
      expect((timed.reason as Error).message).to.contain('AsyncEvent(ready)');
      expect(event.waiting).to.equal(1);
      event.set();
      await flush();
      expect(patient.state).to.equal('fulfilled');
      expect(clock.countTimers()).to.equal(0);
    });

    it('timeout 0 on a clear event rejects without queueing', async () => {
      const event = new AsyncEvent();
      expect(await rejectionOf(event.wait({ timeout: 0 }))).to.be.instanceOf(TimeoutError);
      expect(event.waiting).to.equal(0);
    });

    it('a set before the timeout wins and clears the timer', async () => {
      clock = installFakeClock();
      const event = new AsyncEvent();
      const waiter = observe(event.wait({ timeout: 30 }));
      await clock.tickAsync(29);
      event.set();
      expect(clock.countTimers()).to.equal(0);
      await clock.tickAsync(10);
      expect(waiter.state).to.equal('fulfilled');
    });
  });

  describe('abort', () => {
    it('an abort while waiting rejects with signal.reason and removes the waiter', async () => {
      const event = new AsyncEvent();
      const controller = new AbortController();
      const reason = new Error('stop');
      const aborted = observe(event.wait({ signal: controller.signal }));
      const other = observe(event.wait());
      controller.abort(reason);
      expect(event.waiting).to.equal(1);
      await flush();
      expect(aborted.state).to.equal('rejected');
      expect(aborted.reason).to.equal(reason);
      expect(other.state).to.equal('pending');
      event.set();
      await flush();
      expect(other.state).to.equal('fulfilled');
    });

    it('an already-aborted signal rejects even when the event is set', async () => {
      const event = new AsyncEvent();
      const reason = new Error('already');
      expect(await rejectionOf(event.wait({ signal: AbortSignal.abort(reason) }))).to.equal(reason);
      event.set();
      expect(await rejectionOf(event.wait({ signal: AbortSignal.abort(reason) }))).to.equal(reason);
      expect(event.waiting).to.equal(0);
    });

    it('set wins over an abort in the same tick', async () => {
      const event = new AsyncEvent();
      const controller = new AbortController();
      const waiter = observe(event.wait({ signal: controller.signal }));
      event.set();
      controller.abort();
      await flush();
      expect(waiter.state).to.equal('fulfilled');
    });
  });

  describe('bad arguments', () => {
    for (const [label, options, errorClass, names] of [
      ['timeout -1', { timeout: -1 }, RangeError, /options\.timeout/],
      ["timeout '5'", { timeout: '5' }, TypeError, /options\.timeout/],
      ['a signal that is not an AbortSignal', { signal: {} }, TypeError, /options\.signal/],
    ] as const) {
      it(`wait with ${label} rejects with ${errorClass.name} naming the argument, set or not`, async () => {
        const event = new AsyncEvent();
        const reason = await rejectionOf(event.wait(options as never));
        expect(reason).to.be.instanceOf(errorClass);
        expect((reason as Error).message).to.match(names);
        event.set();
        expect(await rejectionOf(event.wait(options as never))).to.be.instanceOf(errorClass);
        expect(event.waiting).to.equal(0);
      });
    }

    it('rejects a name that is not a string', () => {
      expect(() => new AsyncEvent({ name: 1 as unknown as string })).to.throw(TypeError, /options\.name/);
    });
  });

  describe('introspection', () => {
    it('has name, isSet, waiting and toString', () => {
      const event = new AsyncEvent({ name: 'ready' });
      expect(event.name).to.equal('ready');
      expect(event.isSet).to.equal(false);
      expect(String(event)).to.equal('AsyncEvent(ready)[clear, waiting=0]');
      void event.wait();
      void event.wait();
      expect(String(event)).to.equal('AsyncEvent(ready)[clear, waiting=2]');
      event.set();
      expect(String(event)).to.equal('AsyncEvent(ready)[set, waiting=0]');
    });

    it('is unnamed by default', () => {
      const event = new AsyncEvent();
      expect(event.name).to.equal(undefined);
      expect(event.toString()).to.equal('AsyncEvent[clear, waiting=0]');
    });
  });
});
