/** Bad arguments of coop-sync/redis: TypeError/RangeError naming the argument, before any command is sent. */
import { expect } from 'chai';
import { RedisLock, RedisSemaphore, type RedisClientLike } from '../../lib/redis/index.js';

/** A client that records commands and never answers: validation must reject before sending any. */
function silentClient(): { client: RedisClientLike; sent: unknown[][] } {
  const sent: unknown[][] = [];
  const client: RedisClientLike = {
    call: (...args: (string | number)[]) => {
      sent.push(args);
      return new Promise<unknown>(() => {});
    },
    duplicate: () => {
      throw new Error('no subscriber in this spec');
    },
  };
  return { client, sent };
}

const rejection = (promise: Promise<unknown>): Promise<unknown> =>
  promise.then(
    () => undefined,
    (error: unknown) => error,
  );

describe('coop-sync/redis: bad arguments', () => {
  it('constructors throw TypeError/RangeError naming the argument', () => {
    const { client } = silentClient();
    expect(() => new RedisLock({} as any, 'k')).to.throw(TypeError, /RedisLock: client must be/);
    expect(() => new RedisLock(client, '')).to.throw(TypeError, /RedisLock: key must be a non-empty string/);
    expect(() => new RedisLock(client, 7 as any)).to.throw(TypeError, /key/);
    expect(() => new RedisLock(client, 'k', { ttl: 5 })).to.throw(
      RangeError,
      /RedisLock: options.ttl must be >= 10/,
    );
    expect(() => new RedisLock(client, 'k', { ttl: 1.5 })).to.throw(RangeError, /options.ttl/);
    expect(() => new RedisLock(client, 'k', { ttl: '100' as any })).to.throw(TypeError, /options.ttl/);
    expect(() => new RedisLock(client, 'k', { name: 3 as any })).to.throw(TypeError, /options.name/);
    expect(() => new RedisLock(client, 'k', null as any)).to.throw(TypeError, /options must be an object/);
    expect(() => new RedisSemaphore(client, 'k', 0)).to.throw(
      RangeError,
      /RedisSemaphore: permits must be >= 1/,
    );
    expect(() => new RedisSemaphore(client, 'k', 2 ** 53)).to.throw(
      RangeError,
      /permits must be a safe integer/,
    );
    expect(() => new RedisSemaphore(client, 'k', NaN)).to.throw(RangeError, /permits/);
  });

  it('acquire rejects bad options and permits before sending a command', async () => {
    const { client, sent } = silentClient();
    const lock = new RedisLock(client, 'k', { name: 'jobs' });
    const semaphore = new RedisSemaphore(client, 'k', 3);
    const cases: [Promise<unknown>, ErrorConstructor | RangeErrorConstructor, RegExp][] = [
      [lock.acquire({ timeout: -1 }), RangeError, /RedisLock\(jobs\)\.acquire: options.timeout must be >= 0/],
      [lock.acquire({ timeout: NaN }), RangeError, /options.timeout/],
      [lock.acquire({ timeout: '5' as any }), TypeError, /options.timeout/],
      [lock.acquire({ signal: {} as any }), TypeError, /options.signal must be an AbortSignal/],
      [lock.acquire(5 as any), TypeError, /options must be an object/],
      [
        semaphore.acquire({ permits: 4 }),
        RangeError,
        /RedisSemaphore\.acquire: options.permits must be <= 3/,
      ],
      [semaphore.acquire({ permits: 0 }), RangeError, /options.permits must be >= 1/],
      [semaphore.acquire({ permits: 1.5 }), RangeError, /options.permits/],
      [semaphore.tryAcquire(4), RangeError, /RedisSemaphore\.tryAcquire: permits must be <= 3/],
      [lock.run('no' as any), TypeError, /RedisLock\(jobs\)\.run: fn must be a function/],
    ];
    for (const [promise, type, message] of cases) {
      const error = await rejection(promise);
      expect(error).to.be.instanceOf(type);
      expect((error as Error).message).to.match(message);
    }
    expect(sent).to.deep.equal([]);
    expect(String(lock)).to.equal('RedisLock(jobs)[key="k", waiting=0]');
  });
});
