import { expect } from 'chai';
import * as api from '../lib/index.js';
import {
  AsyncLock,
  BrokenBarrierError,
  LockError,
  QueueEmptyError,
  QueueFullError,
  QueueShutDownError,
  TimeoutError,
} from '../lib/index.js';
import { rejectionOf } from './suites/helpers.js';

const classes = [
  [TimeoutError, 'TimeoutError'],
  [LockError, 'LockError'],
  [QueueEmptyError, 'QueueEmptyError'],
  [QueueFullError, 'QueueFullError'],
  [QueueShutDownError, 'QueueShutDownError'],
  [BrokenBarrierError, 'BrokenBarrierError'],
] as const;

describe('errors', () => {
  for (const [ErrorClass, name] of classes) {
    describe(name, () => {
      it(`is exported from the entry point as ${name}`, () => {
        expect((api as Record<string, unknown>)[name]).to.equal(ErrorClass);
      });

      it('is an Error with its own name', () => {
        const error = new ErrorClass('what happened');
        expect(error).to.be.instanceOf(Error);
        expect(error).to.be.instanceOf(ErrorClass);
        expect(error.name).to.equal(name);
        expect(error.message).to.equal('what happened');
        expect(String(error)).to.equal(`${name}: what happened`);
        expect(error.stack).to.be.a('string');
      });

      it('keeps a cause', () => {
        const cause = new Error('root');
        expect(new ErrorClass('wrapped', { cause }).cause).to.equal(cause);
      });
    });
  }

  it('the classes are distinct', () => {
    const errors = classes.map(([ErrorClass]) => new ErrorClass('x'));
    for (const [index, [ErrorClass]] of classes.entries()) {
      expect(errors.filter((error) => error instanceof ErrorClass)).to.deep.equal([errors[index]]);
    }
  });

  it('the classes with a default message have a non-empty one', () => {
    for (const ErrorClass of [
      TimeoutError,
      QueueEmptyError,
      QueueFullError,
      QueueShutDownError,
      BrokenBarrierError,
    ]) {
      expect(new ErrorClass().message).to.not.equal('');
    }
  });

  it('LockError names the primitive', () => {
    const lock = new AsyncLock({ name: 'db' });
    let caught: unknown;
    try {
      lock.release();
    } catch (error) {
      caught = error;
    }
    expect(caught).to.be.instanceOf(LockError);
    expect((caught as Error).name).to.equal('LockError');
    expect((caught as Error).message).to.contain('AsyncLock(db)');
  });

  it('errors are built where they are thrown, never shared', async () => {
    const lock = new AsyncLock();
    const thrown: unknown[] = [];
    for (let i = 0; i < 2; i++) {
      try {
        lock.release();
      } catch (error) {
        thrown.push(error);
      }
    }
    expect(thrown).to.have.length(2);
    expect(thrown[0]).to.not.equal(thrown[1]);
    const guard = lock.tryAcquire();
    const timeouts = [
      await rejectionOf(lock.acquire({ timeout: 0 })),
      await rejectionOf(lock.acquire({ timeout: 0 })),
    ];
    expect(timeouts[0]).to.be.instanceOf(TimeoutError);
    expect(timeouts[0]).to.not.equal(timeouts[1]);
    guard?.release();
  });
});
