/** Every integer a primitive checks refuses values beyond `Number.MAX_SAFE_INTEGER`, naming the argument. */
import { expect } from 'chai';
import {
  AsyncBarrier,
  AsyncBoundedSemaphore,
  AsyncCondition,
  AsyncQueue,
  AsyncSemaphore,
} from '../lib/index.js';
import { rejectionOf } from './suites/helpers.js';

const unsafe = [2 ** 53, Number.MAX_SAFE_INTEGER + 2, 2 ** 80];

describe('integers beyond 2^53 - 1', () => {
  for (const value of unsafe) {
    it(`${value} is a RangeError naming the argument everywhere an integer is checked`, async () => {
      expect(() => new AsyncSemaphore(value)).to.throw(RangeError, /value must be a safe integer/);
      expect(() => new AsyncBoundedSemaphore(value)).to.throw(RangeError, /value must be a safe integer/);
      expect(() => new AsyncQueue(value)).to.throw(RangeError, /maxsize must be a safe integer/);
      expect(() => new AsyncBarrier(value)).to.throw(RangeError, /parties must be a safe integer/);
      const semaphore = new AsyncSemaphore(1);
      expect(() => semaphore.release(value)).to.throw(RangeError, /permits must be a safe integer/);
      expect(() => semaphore.tryAcquire(value)).to.throw(RangeError, /permits must be a safe integer/);
      const reason = await rejectionOf(semaphore.acquire({ permits: value }));
      expect(reason).to.be.instanceOf(RangeError);
      expect((reason as Error).message).to.match(/options\.permits must be a safe integer/);
      expect(semaphore.value).to.equal(1);
      const cond = new AsyncCondition();
      await cond.run(() => {
        expect(() => cond.notify(value)).to.throw(RangeError, /notify: n must be a safe integer/);
      });
    });
  }
});
