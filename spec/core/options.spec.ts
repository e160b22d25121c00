import { expect } from 'chai';
import {
  admit,
  checkFunction,
  checkInteger,
  checkPriority,
  checkTimeout,
  checkWaitOptions,
  labelFor,
  rejectEarly,
  type WaitOptions,
} from '../../lib/core/options.js';
import { admitRanked } from '../../lib/core/priority.js';
import { rejectionOf } from '../suites/helpers.js';

describe('core/options', () => {
  describe('checkTimeout', () => {
    for (const ok of [0, 1, 0.5, 2 ** 31, Infinity]) {
      it(`accepts ${ok}`, () => {
        expect(() => checkTimeout(ok, 'options.timeout')).to.not.throw();
      });
    }
    for (const [value, errorClass] of [
      [-1, RangeError],
      [-Infinity, RangeError],
      [NaN, RangeError],
      ['5', TypeError],
      [null, TypeError],
      [5n, TypeError],
    ] as const) {
      it(`rejects ${typeof value === 'string' ? `'${value}'` : String(value)} with ${errorClass.name} naming it`, () => {
        expect(() => checkTimeout(value, 'X.acquire: options.timeout')).to.throw(
          errorClass,
          /^X\.acquire: options\.timeout must be/,
        );
      });
    }

    it('shows the bad value in the message', () => {
      expect(() => checkTimeout('5', 't')).to.throw(TypeError, /got "5"/);
      expect(() => checkTimeout(-1, 't')).to.throw(RangeError, /got -1/);
      expect(() => checkTimeout({}, 't')).to.throw(TypeError, /got \[object Object\]/);
    });
  });

  describe('checkInteger', () => {
    it('accepts integers at or above the minimum', () => {
      expect(() => checkInteger(0, 'value', 0)).to.not.throw();
      expect(() => checkInteger(5, 'permits', 1)).to.not.throw();
      expect(() => checkInteger(Number.MAX_SAFE_INTEGER, 'permits', 1)).to.not.throw();
      expect(() => checkInteger(Number.MIN_SAFE_INTEGER, 'seed', Number.MIN_SAFE_INTEGER)).to.not.throw();
    });
    it('says why an integer beyond 2^53 - 1 is refused', () => {
      expect(() => checkInteger(2 ** 60, 'permits', 1)).to.throw(
        RangeError,
        /permits must be a safe integer/,
      );
    });
    for (const [value, errorClass] of [
      [0, RangeError],
      [-3, RangeError],
      [1.5, RangeError],
      [NaN, RangeError],
      [Infinity, RangeError],
      [2 ** 53, RangeError],
      [Number.MAX_SAFE_INTEGER + 2, RangeError],
      [-(2 ** 53), RangeError],
      ['2', TypeError],
      [undefined, TypeError],
    ] as const) {
      it(`rejects ${typeof value === 'string' ? `'${value}'` : String(value)} (min 1) with ${errorClass.name} naming it`, () => {
        expect(() => checkInteger(value, 'permits', 1)).to.throw(errorClass, /^permits must be/);
      });
    }
  });

  describe('checkPriority', () => {
    it('accepts any finite number and rejects anything else, naming it', () => {
      for (const ok of [0, -3, 2.5, 1e300])
        expect(() => checkPriority(ok, 'options.priority')).to.not.throw();
      for (const bad of [NaN, Infinity, -Infinity]) {
        expect(() => checkPriority(bad, 'options.priority')).to.throw(
          RangeError,
          /^options\.priority must be a finite/,
        );
      }
      for (const bad of ['1', null, 1n]) {
        expect(() => checkPriority(bad, 'options.priority')).to.throw(
          TypeError,
          /^options\.priority must be a finite/,
        );
      }
    });
  });

  describe('checkFunction', () => {
    it('accepts functions and rejects anything else with a TypeError naming it', () => {
      expect(() => checkFunction(() => 1, 'fn')).to.not.throw();
      expect(() => checkFunction(async () => 1, 'fn')).to.not.throw();
      for (const bad of [undefined, null, 1, 'fn', {}]) {
        expect(() => checkFunction(bad, 'run: fn')).to.throw(TypeError, /^run: fn must be a function/);
      }
    });
  });

  describe('checkWaitOptions', () => {
    it('accepts no options, empty options and good ones', () => {
      expect(() => checkWaitOptions(undefined, 'm')).to.not.throw();
      expect(() => checkWaitOptions({}, 'm')).to.not.throw();
      expect(() =>
        checkWaitOptions({ signal: new AbortController().signal, timeout: 5 }, 'm'),
      ).to.not.throw();
      expect(() => checkWaitOptions({ signal: undefined, timeout: undefined }, 'm')).to.not.throw();
    });

    it('names the bad member', () => {
      expect(() => checkWaitOptions({ timeout: -1 }, 'L.acquire')).to.throw(
        RangeError,
        /^L\.acquire: options\.timeout/,
      );
      expect(() => checkWaitOptions({ signal: {} as AbortSignal }, 'L.acquire')).to.throw(
        TypeError,
        /^L\.acquire: options\.signal must be an AbortSignal/,
      );
      expect(() => checkWaitOptions(null as never, 'L.acquire')).to.throw(
        TypeError,
        /^L\.acquire: options must be/,
      );
      expect(() => checkWaitOptions('x' as never, 'L.acquire')).to.throw(
        TypeError,
        /^L\.acquire: options must be/,
      );
    });
  });

  describe('rejectEarly', () => {
    it('returns undefined when the call may go on', () => {
      expect(rejectEarly(undefined, 'L', 'm')).to.equal(undefined);
      expect(rejectEarly({ timeout: 0, signal: new AbortController().signal }, 'L', 'm')).to.equal(undefined);
    });

    it('rejects (never throws) for bad options', async () => {
      const rejected = rejectEarly({ timeout: NaN }, 'L', 'acquire');
      expect(rejected).to.be.instanceOf(Promise);
      const error = await rejectionOf(rejected as Promise<never>);
      expect(error).to.be.instanceOf(RangeError);
      expect((error as Error).message).to.contain('L.acquire: options.timeout');
    });

    it('rejects with the reason of an already-aborted signal', async () => {
      const reason = new Error('gone');
      const rejected = rejectEarly({ signal: AbortSignal.abort(reason), timeout: 5 }, 'L', 'm');
      expect(await rejectionOf(rejected as Promise<never>)).to.equal(reason);
    });

    it('checks the arguments before the signal', async () => {
      const rejected = rejectEarly({ signal: AbortSignal.abort(), timeout: -1 }, 'L', 'm');
      expect(await rejectionOf(rejected as Promise<never>)).to.be.instanceOf(RangeError);
    });
  });

  describe('admit', () => {
    const owner = { label: 'L' };
    /** A body that records what it ran with. */
    const recorder = () => {
      const calls: unknown[][] = [];
      const body = function (this: unknown, options: unknown, ...rest: unknown[]) {
        calls.push([this, options, ...rest]);
        return Promise.resolve('ran');
      };
      return { calls, body };
    };

    it('runs the body on the owner with the options and the argument once they pass', async () => {
      const { calls, body } = recorder();
      const options = { timeout: 5 };
      expect(await admit(owner, 'm', options, body, 'arg')).to.equal('ran');
      expect(await admit(owner, 'm', undefined, body)).to.equal('ran');
      expect(calls).to.deep.equal([
        [owner, options, 'arg'],
        [owner, undefined, undefined],
      ]);
    });

    it('rejects bad options, then an already-aborted signal, without running the body', async () => {
      const { calls, body } = recorder();
      const reason = new Error('gone');
      const bad = await rejectionOf(
        admit(owner, 'm', { signal: AbortSignal.abort(reason), timeout: -1 }, body),
      );
      expect(bad).to.be.instanceOf(RangeError);
      expect((bad as Error).message).to.contain('L.m: options.timeout');
      expect(await rejectionOf(admit(owner, 'm', { signal: AbortSignal.abort(reason) }, body))).to.equal(
        reason,
      );
      expect(calls).to.deep.equal([]);
    });

    it('runs the extra check after signal and timeout and before the aborted signal, naming the call', async () => {
      const { calls, body } = recorder();
      const names: string[] = [];
      const check = (options: WaitOptions & { step?: number }, name: string) => {
        names.push(name);
        if (options.step !== undefined && options.step < 1) throw new RangeError(`${name}: options.step`);
      };
      const aborted = AbortSignal.abort(new Error('gone'));
      const typed = await rejectionOf(
        admit(owner, undefined, { timeout: 'x' as never, step: 0 }, body, 1, check),
      );
      expect(typed).to.be.instanceOf(TypeError);
      const ranged = await rejectionOf(admit(owner, undefined, { signal: aborted, step: 0 }, body, 1, check));
      expect((ranged as Error).message).to.equal('L: options.step');
      const fine: WaitOptions & { step?: number } = { step: 2 };
      expect(await admit(owner, 'm', fine, body, 1, check)).to.equal('ran');
      expect(names).to.deep.equal(['L', 'L.m']);
      expect(calls).to.have.length(1);
    });

    it('admitRanked checks the priority before the other options and gives it to the body', async () => {
      const { calls, body } = recorder();
      const aborted = AbortSignal.abort(new Error('gone'));
      const bad = await rejectionOf(
        admitRanked(owner, 'acquire', { priority: NaN, signal: aborted }, body, 'a'),
      );
      expect(bad).to.be.instanceOf(RangeError);
      expect((bad as Error).message).to.contain('L.acquire: options.priority');
      expect(await admitRanked(owner, 'acquire', { priority: 3 }, body, 'a')).to.equal('ran');
      expect(await admitRanked(owner, 'acquire', undefined, body, 'b')).to.equal('ran');
      expect(calls).to.deep.equal([
        [owner, { priority: 3 }, 3, 'a'],
        [owner, undefined, 0, 'b'],
      ]);
    });
  });

  describe('labelFor', () => {
    it('is the kind, with the name in parentheses when there is one', () => {
      expect(labelFor('AsyncLock', undefined)).to.equal('AsyncLock');
      expect(labelFor('AsyncLock', {})).to.equal('AsyncLock');
      expect(labelFor('AsyncLock', { name: 'db' })).to.equal('AsyncLock(db)');
    });

    it('rejects bad options with a TypeError naming them', () => {
      expect(() => labelFor('AsyncLock', { name: 1 as never })).to.throw(
        TypeError,
        /^AsyncLock: options\.name must be a string/,
      );
      expect(() => labelFor('AsyncLock', 'db' as never)).to.throw(
        TypeError,
        /^AsyncLock: options must be an object/,
      );
      expect(() => labelFor('AsyncLock', null as never)).to.throw(
        TypeError,
        /^AsyncLock: options must be an object/,
      );
    });
  });
});
