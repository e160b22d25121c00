/**
 * WebLock runs where `navigator.locks` exists (Chromium, `npm run test:browser`; Node >= 24); where it does not
 * (Node 20), constructing one is a clear TypeError. One file, the cases for the runtime it runs in.
 */
import { expect } from 'chai';
import { TimeoutError, WebLock } from '../../lib/threads/index.js';
import { rejectionOf } from '../suites/helpers.js';

const hasLocks = typeof (globalThis as { navigator?: { locks?: unknown } }).navigator?.locks === 'object';
let unique = 0;
const freshName = () => `coop-sync-spec-${Date.now()}-${unique++}`;

if (!hasLocks) {
  describe('WebLock without navigator.locks (Node 20)', () => {
    it('constructing one throws a TypeError that says why', () => {
      expect(() => new WebLock('x')).to.throw(
        TypeError,
        /WebLock\(x\): this runtime has no navigator\.locks/,
      );
    });
  });
} else {
  describe('WebLock over navigator.locks', () => {
    it('exclusive: a second acquire waits until the first releases', async () => {
      const name = freshName();
      const a = new WebLock(name);
      const b = new WebLock(name, { name: 'b' });
      const log: string[] = [];
      const first = await a.acquire();
      const second = b.acquire().then((guard) => {
        log.push('b granted');
        return guard;
      });
      expect(await rejectionOf(b.acquire({ timeout: 0 }))).to.be.instanceOf(TimeoutError);
      log.push('a releases');
      first.release();
      (await second).release();
      expect(log).to.deep.equal(['a releases', 'b granted']);
      expect(String(b)).to.equal('WebLock(b)');
    });

    it('shared: holders share it, an exclusive request waits for all of them', async () => {
      const lock = new WebLock(freshName());
      const one = await lock.acquire({ mode: 'shared' });
      const two = await lock.acquire({ mode: 'shared', timeout: 0 });
      expect(await rejectionOf(lock.acquire({ timeout: 0 }))).to.be.instanceOf(TimeoutError);
      let exclusive = false;
      const waiting = lock.acquire().then((guard) => {
        exclusive = true;
        return guard;
      });
      one.release();
      expect(await rejectionOf(lock.acquire({ mode: 'exclusive', timeout: 0 }))).to.be.instanceOf(
        TimeoutError,
      );
      expect(exclusive).to.equal(false);
      two.release();
      (await waiting).release();
      expect(exclusive).to.equal(true);
    });

    it('timeout 0 is ifAvailable: granted when free; a signal aborts a waiting request with its reason', async () => {
      const lock = new WebLock(freshName());
      const held = await lock.acquire({ timeout: 0 });
      const controller = new AbortController();
      const waiting = lock.acquire({ signal: controller.signal });
      controller.abort(new Error('stop'));
      expect(((await rejectionOf(waiting)) as Error).message).to.equal('stop');
      const early = await rejectionOf(lock.acquire({ signal: AbortSignal.abort(new Error('early')) }));
      expect((early as Error).message).to.equal('early');
      held.release(); // the browser frees it asynchronously
      expect(await lock.run(() => 'free again', { timeout: 5000 })).to.equal('free again');
    });

    it('a finite timeout rejects with TimeoutError and withdraws the request', async () => {
      const lock = new WebLock(freshName());
      const held = await lock.acquire();
      const error = await rejectionOf(lock.acquire({ timeout: 5 }));
      expect(error).to.be.instanceOf(TimeoutError);
      held.release();
      expect(await lock.run(() => 1, { timeout: 5000 })).to.equal(1);
    });

    it('checks its arguments', async () => {
      expect(() => new WebLock(5 as never)).to.throw(TypeError, /name must be a string/);
      const lock = new WebLock(freshName());
      expect(await rejectionOf(lock.acquire({ mode: 'read' as never }))).to.be.instanceOf(TypeError);
      expect(await rejectionOf(lock.acquire({ timeout: -1 }))).to.be.instanceOf(RangeError);
      expect(await rejectionOf(lock.run(5 as never))).to.be.instanceOf(TypeError);
    });
  });
}
