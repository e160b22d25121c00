/**
 * RedisLock and RedisSemaphore across child processes (spec/redis/worker.ts), against a real redis-server that the
 * spec starts: half the workers on ioredis, half on node-redis, contending for the same keys.
 */
import { expect } from 'chai';
import { RedisLock } from '../../lib/redis/index.js';
import { connect, until, within, Worker, type ClientKind, type TestClient } from './helpers.js';
import { expectOnlyCounters } from './keyspace.js';
import { RedisServer } from './server.js';

describe('coop-sync/redis across processes (real redis-server)', function () {
  this.timeout(30_000);
  let server: RedisServer;
  let redis: TestClient;
  const workers: Worker[] = [];
  const kindOf = (index: number): ClientKind => (index % 2 === 0 ? 'ioredis' : 'node-redis');

  /** `count` workers, ready (connected) before the test goes on. */
  async function start(count: number): Promise<Worker[]> {
    const started = Array.from({ length: count }, (_, index) => new Worker(server.port, kindOf(index)));
    workers.push(...started);
    await Promise.all(started.map((worker) => worker.next('ready', 20_000)));
    return started;
  }

  before(async () => {
    server = await RedisServer.start();
    redis = await connect('ioredis', server.port);
  });
  afterEach(async () => {
    await Promise.all(workers.splice(0).map((worker) => worker.stop()));
  });
  after(async () => {
    await redis?.close();
    await server?.stop();
  });

  it('4 processes doing GET/SET read-modify-write under the lock lose no update; tokens are 1..N', async () => {
    const n = 25;
    const team = await start(4);
    for (const worker of team) worker.send({ op: 'count', key: 'counted', counter: 'counter', n, ttl: 1000 });
    const reports = await Promise.all(team.map((worker) => worker.next('counted', 25_000)));
    expect(Number(await redis.command('GET', 'counter'))).to.equal(4 * n);
    const all = reports.flatMap((report) => (report.tokens as string[]).map(BigInt));
    for (const report of reports) {
      const own = (report.tokens as string[]).map(BigInt);
      expect(own.every((token, i) => i === 0 || token > own[i - 1]!)).to.equal(true);
    }
    expect(all.sort((x, y) => (x < y ? -1 : 1))).to.deep.equal(
      Array.from({ length: 4 * n }, (_, i) => BigInt(i + 1)),
    );
    await redis.command('DEL', 'counter');
  });

  it('serves waiting processes FIFO, each woken by a notification', async () => {
    const key = 'fifo';
    const holder = await new RedisLock(redis.client, key, { ttl: 1000 }).acquire();
    const team = await start(3);
    for (const [index, worker] of team.entries()) {
      worker.send({ op: 'acquire', key, ttl: 1000 });
      await until(
        async () => Number(await redis.command('ZCOUNT', `${key}:queue`, '-inf', '(0')) === index + 1,
        10_000,
        'queued',
      );
    }
    await holder.release();
    const tokens = await Promise.all(
      team.map(async (worker) => BigInt((await worker.next('acquired')).token as string)),
    );
    expect(tokens).to.deep.equal([holder.token + 1n, holder.token + 2n, holder.token + 3n]);
    await Promise.all(team.map((worker) => worker.next('released')));
  });

  it('a holder stopped past its ttl loses to a higher token, and sees `lost` aborted as soon as it resumes', async () => {
    const key = 'stopped';
    const [paused] = await start(1);
    paused!.send({ op: 'hold', key, ttl: 500 });
    const first = BigInt((await paused!.next('acquired')).token as string);
    await paused!.next('tick');
    paused!.signal('SIGSTOP');
    const lease = await new RedisLock(redis.client, key, { ttl: 1000 }).acquire({ timeout: 10_000 });
    expect(lease.token > first).to.equal(true);
    // Everything it wrote before the stop has been read while we waited past its ttl.
    const seenBefore = paused!.events.length;
    paused!.signal('SIGCONT');
    paused!.send({ op: 'check' });
    const check = await paused!.next('check');
    expect(check.held).to.equal(false);
    const after = paused!.events.slice(seenBefore).filter((event) => event.event === 'tick');
    expect(after.map((event) => event.held)).to.not.include(true);
    // Its release after the loss resolves, and leaves the new holder alone.
    paused!.send({ op: 'release' });
    await paused!.next('released');
    expect(await new RedisLock(redis.client, key).tryAcquire()).to.equal(undefined);
    expect(lease.lost.aborted).to.equal(false);
    await lease.release();
  });

  it('a holder killed with SIGKILL frees the lock after its ttl', async () => {
    const key = 'killed';
    const [doomed] = await start(1);
    doomed!.send({ op: 'hold', key, ttl: 500 });
    const first = BigInt((await doomed!.next('acquired')).token as string);
    doomed!.signal('SIGKILL');
    const lease = await new RedisLock(redis.client, key, { ttl: 1000 }).acquire({ timeout: 10_000 });
    expect(lease.token).to.equal(first + 1n);
    await lease.release();
  });

  it('a waiter killed with SIGKILL leaves the queue within a ttl; the next waiter is served', async () => {
    const key = 'dead-waiter';
    const holder = await new RedisLock(redis.client, key, { ttl: 1000 }).acquire();
    const [doomed] = await start(1);
    doomed!.send({ op: 'acquire', key, ttl: 500 });
    await until(
      async () => Number(await redis.command('ZCOUNT', `${key}:queue`, '-inf', '(0')) === 1,
      10_000,
      'queued',
    );
    const next = new RedisLock(redis.client, key, { ttl: 1000 }).acquire();
    await until(
      async () => Number(await redis.command('ZCOUNT', `${key}:queue`, '-inf', '(0')) === 2,
      10_000,
      'queued',
    );
    doomed!.signal('SIGKILL');
    // The live waiter's refreshes (every ttl/3) purge the dead one once its liveness deadline has passed.
    await until(
      async () => Number(await redis.command('ZCOUNT', `${key}:queue`, '-inf', '(0')) === 1,
      10_000,
      'purged',
    );
    await holder.release();
    const lease = await next;
    expect(lease.token).to.equal(holder.token + 1n);
    await lease.release();
  });

  it('a waiter granted after its process was killed holds the lock only for its ttl; then the next is served', async () => {
    const key = 'granted-dead';
    const holder = await new RedisLock(redis.client, key, { ttl: 10_000 }).acquire();
    const [doomed] = await start(1);
    doomed!.send({ op: 'acquire', key, ttl: 1500 });
    await until(
      async () => Number(await redis.command('ZCOUNT', `${key}:queue`, '-inf', '(0')) === 1,
      10_000,
      'queued',
    );
    const next = new RedisLock(redis.client, key, { ttl: 10_000 }).acquire();
    await until(
      async () => Number(await redis.command('ZCOUNT', `${key}:queue`, '-inf', '(0')) === 2,
      10_000,
      'queued',
    );
    doomed!.signal('SIGKILL');
    // At once, within the dead waiter's liveness deadline: the release hands the lock to it, and nobody reads the
    // notification.
    await holder.release();
    const holders = ((await redis.command('ZRANGEBYSCORE', `${key}:holders`, '0', '+inf')) as string[]).map(
      String,
    );
    expect(holders).to.have.length(1);
    expect(holders[0]).to.match(/^1:1500:/);
    // Its 1.5 s ttl frees it: the next waiter looks again at that holder's deadline, and is served.
    const lease = await within(next, 10_000, 'the next waiter after the dead holder ttl');
    expect(lease.token).to.equal(holder.token + 2n);
    await lease.release();
  });

  it('RedisSemaphore: never more than `permits` holders across 6 processes, weighted', async () => {
    const team = await start(6);
    team.forEach((worker, index) =>
      worker.send({
        op: 'semaphore',
        key: 'pool',
        permits: 3,
        weight: index % 3 === 0 ? 2 : 1,
        n: 15,
        ttl: 1000,
        inUse: 'in-use',
      }),
    );
    const reports = await Promise.all(team.map((worker) => worker.next('semaphore', 25_000)));
    const max = Math.max(...reports.map((report) => report.max as number));
    expect(max).to.be.at.most(3);
    expect(Number(await redis.command('GET', 'in-use'))).to.equal(0);
    await redis.command('DEL', 'in-use');
  });

  it('leaves nothing in the keyspace but one fencing counter per lock key', async () => {
    // The killed and the stopped holders' entries were purged when the next process took their keys.
    await expectOnlyCounters(redis);
    const keys = ((await redis.command('KEYS', '*')) as string[]).map(String).sort();
    expect(keys).to.deep.equal([
      'counted',
      'dead-waiter',
      'fifo',
      'granted-dead',
      'killed',
      'pool',
      'stopped',
    ]);
  });
});
