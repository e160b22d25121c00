/**
 * RedisLock and RedisSemaphore in one process, against a real redis-server that the spec starts, with each client.
 * Cross-process behaviour: processes.node.spec.ts.
 */
import { expect } from 'chai';
import sinon from 'sinon';
import {
  RedisLock,
  RedisSemaphore,
  RedisUnavailableError,
  TimeoutError,
  type Lease,
} from '../../lib/redis/index.js';
import { clientKinds, connect, until, within, type TestClient } from './helpers.js';
import { RedisServer } from './server.js';
import { expectOnlyCounters } from './keyspace.js';

const evalOps = (client: TestClient, op: string): number =>
  client.sent.filter((args) => args[0] === 'EVALSHA' && args[3 + Number(args[2])] === op).length;

for (const kind of clientKinds) {
  describe(`coop-sync/redis with ${kind} (real redis-server)`, function () {
    this.timeout(20_000);
    let server: RedisServer;
    let a: TestClient;
    let b: TestClient;
    let keys = 0;
    const key = (): string => `${kind}:lock:${++keys}`;

    before(async () => {
      server = await RedisServer.start();
      a = await connect(kind, server.port);
      b = await connect(kind, server.port);
    });
    after(async () => {
      await a?.close();
      await b?.close();
      await server?.stop();
    });

    it('grants a free lock in one round trip; tryAcquire refuses a held one; release frees it', async () => {
      const name = key();
      const lock = new RedisLock(a.client, name, { ttl: 1000 });
      await lock.tryAcquire().then((lease) => lease?.release()); // loads the script
      const before = a.sent.length;
      const lease = await lock.acquire();
      expect(a.sent.length - before).to.equal(1);
      expect(await new RedisLock(b.client, name).tryAcquire()).to.equal(undefined);
      const busy = await new RedisLock(b.client, name)
        .acquire({ timeout: 0 })
        .catch((error: unknown) => error);
      expect(busy).to.be.instanceOf(TimeoutError);
      await lease.release();
      expect(lease.released).to.equal(true);
      expect(lease.lost.aborted).to.equal(false);
      const again = await new RedisLock(b.client, name).tryAcquire();
      expect(again!.token).to.equal(lease.token + 1n);
      await again!.release();
    });

    it('await using releases the lease at the end of the block', async () => {
      const name = key();
      const lock = new RedisLock(a.client, name, { ttl: 1000 });
      let held: Lease | undefined;
      {
        await using lease = await lock.acquire();
        held = lease;
        expect(await new RedisLock(b.client, name).tryAcquire()).to.equal(undefined);
      }
      expect(held.released).to.equal(true);
      const next = await new RedisLock(b.client, name).tryAcquire();
      expect(next!.token).to.equal(held.token + 1n);
      await next!.release();
    });

    it('mints strictly increasing tokens across clients and client restarts', async () => {
      const name = key();
      const tokens: bigint[] = [];
      for (let round = 0; round < 3; round++) {
        const client = await connect(kind, server.port);
        const lock = new RedisLock(client.client, name, { ttl: 1000 });
        for (let i = 0; i < 2; i++) await lock.run((lease) => tokens.push(lease.token));
        await client.close();
      }
      expect(tokens).to.deep.equal([1n, 2n, 3n, 4n, 5n, 6n]);
      expect(String(await a.command('GET', name))).to.equal('6');
    });

    it('renews a 1 s lease held for 3 s, and leaves no timer once released', async () => {
      const name = key();
      const lock = new RedisLock(a.client, name, { ttl: 1000 });
      const timers = trackTimers();
      try {
        const lease = await lock.acquire();
        const first = lease.expiresAt;
        // Nine renewals, one every ttl/3: the lease has been held for 3 s.
        await until(() => evalOps(a, 'renew') >= 9, 6000, 'nine renewals');
        expect(lease.lost.aborted).to.equal(false);
        expect(lease.expiresAt).to.be.above(first);
        expect(await new RedisLock(b.client, name).tryAcquire()).to.equal(undefined);
        await lease.release();
        expect(timers.live()).to.deep.equal([]);
        expect(lease.lost.aborted).to.equal(false);
      } finally {
        timers.restore();
      }
    });

    it('hands off FIFO, and a newcomer cannot barge in at release', async () => {
      const name = key();
      const lock = new RedisLock(a.client, name, { ttl: 1000 });
      const other = new RedisLock(b.client, name, { ttl: 1000 });
      const holder = await lock.acquire();
      const order: string[] = [];
      const waits: Promise<void>[] = [];
      for (const [label, which] of [
        ['b1', other],
        ['a1', lock],
        ['b2', other],
      ] as const) {
        waits.push(which.run((lease) => void order.push(`${label}:${lease.token}`)));
        await until(
          async () => Number(await a.command('ZCOUNT', `${name}:queue`, '-inf', '(0')) === waits.length,
          5000,
          'queued',
        );
      }
      expect(String(other)).to.equal(`RedisLock[key="${name}", waiting=2]`);
      const released = holder.release();
      const barger = await new RedisLock(b.client, name).tryAcquire();
      await released;
      await Promise.all(waits);
      expect(barger).to.equal(undefined);
      expect(order).to.deep.equal(['b1:2', 'a1:3', 'b2:4']);
    });

    it('a waiter sends a few commands per ttl, not a busy poll', async () => {
      const name = key();
      const holder = await new RedisLock(a.client, name, { ttl: 300 }).acquire();
      const waiter = new RedisLock(b.client, name, { ttl: 300 });
      await waiter.tryAcquire(); // loads the script
      const sentBefore = b.sent.length;
      const renewalsBefore = evalOps(a, 'renew');
      const waiting = waiter.acquire();
      await until(() => evalOps(a, 'renew') - renewalsBefore >= 15, 8000, 'fifteen renewals of the holder');
      // Over the same span the holder renewed 15 times (every ttl/3); the waiter refreshes about as often.
      const sentWhileWaiting = b.sent.length - sentBefore;
      await holder.release();
      await (await waiting).release();
      expect(sentWhileWaiting).to.be.at.most(15 + 4);
    });

    it('timeout and abort leave no queue entry behind', async () => {
      const name = key();
      const holder = await new RedisLock(a.client, name, { ttl: 1000 }).acquire();
      const waiter = new RedisLock(b.client, name, { ttl: 1000 });
      const timedOut = await waiter.acquire({ timeout: 150 }).then(
        () => undefined,
        (error: unknown) => error,
      );
      expect(timedOut).to.be.instanceOf(TimeoutError);
      expect(Number(await a.command('EXISTS', `${name}:queue`, `${name}:alive`))).to.equal(0);
      const controller = new AbortController();
      const aborted = waiter.acquire({ signal: controller.signal });
      await until(
        async () => Number(await a.command('ZCOUNT', `${name}:queue`, '-inf', '(0')) === 1,
        5000,
        'queued',
      );
      const reason = new Error('stop waiting');
      controller.abort(reason);
      const error = await aborted.then(
        () => undefined,
        (caught: unknown) => caught,
      );
      expect(error).to.equal(reason);
      expect(Number(await a.command('EXISTS', `${name}:queue`, `${name}:alive`))).to.equal(0);
      expect(waiter.waiting).to.equal(0);
      await holder.release();
      expect(Number(await a.command('EXISTS', `${name}:holders`, `${name}:tokens`))).to.equal(0);
    });

    it('a waiter that gives up as it is granted passes the grant on: nothing is lost or held', async () => {
      const name = key();
      const holder = await new RedisLock(a.client, name, { ttl: 30_000 }).acquire();
      const controller = new AbortController();
      const giving = new RedisLock(b.client, name, { ttl: 30_000 })
        .acquire({ signal: controller.signal })
        .then(
          () => 'granted',
          (error: unknown) => error,
        );
      await until(
        async () => Number(await a.command('ZCOUNT', `${name}:queue`, '-inf', '(0')) === 1,
        5000,
        'queued',
      );
      const next = new RedisLock(a.client, name, { ttl: 30_000 }).acquire();
      await until(
        async () => Number(await a.command('ZCOUNT', `${name}:queue`, '-inf', '(0')) === 2,
        5000,
        'queued',
      );
      // In one tick: the release, sent first, grants the waiter on the server; the waiter gives up before its
      // notification is read, so its give-up must release that grant, which serves the next waiter.
      const released = holder.release();
      const reason = new Error('gave up');
      controller.abort(reason);
      expect(await giving).to.equal(reason);
      await released;
      // A grant kept by nobody would block the next waiter for the whole 30 s ttl.
      const lease = await within(next, 5000, 'the next waiter, served by the give-up');
      expect(lease.token).to.equal(holder.token + 2n);
      await lease.release();
      expect(Number(await a.command('EXISTS', `${name}:holders`, `${name}:queue`, `${name}:alive`))).to.equal(
        0,
      );
    });

    for (const moment of ['before', 'after'] as const) {
      it(`an abort in the same tick as the grant notification, ${moment} it is read, leaks no hold`, async () => {
        const name = key();
        const c = await connect(kind, server.port);
        try {
          const holder = await new RedisLock(a.client, name, { ttl: 30_000 }).acquire();
          const controller = new AbortController();
          const waiting = new RedisLock(c.client, name, { ttl: 30_000 })
            .acquire({ signal: controller.signal })
            .then(
              (lease) => lease,
              (error: unknown) => error,
            );
          const queued = (n: number) => async () =>
            Number(await a.command('ZCOUNT', `${name}:queue`, '-inf', '(0')) === n;
          await until(queued(1), 5000, 'queued');
          const next = new RedisLock(b.client, name, { ttl: 30_000 }).acquire();
          await until(queued(2), 5000, 'queued');
          const reason = new Error('gave up');
          let fired = 0;
          c.onMessage[moment] = () => {
            fired++;
            controller.abort(reason);
          };
          // The release grants the waiter on the server and publishes the grant; its subscriber reads it.
          await holder.release();
          const outcome = await within(waiting, 5000, 'the waiter');
          expect(fired).to.equal(1);
          if (moment === 'before') {
            // Given up first: the give-up releases the grant, which serves the next waiter at once.
            expect(outcome).to.equal(reason);
            const lease = await within(next, 5000, 'the next waiter, served by the give-up');
            expect(lease.token).to.equal(holder.token + 2n);
            await lease.release();
          } else {
            // Granted first: the lease is the waiter's; the abort after it does nothing.
            const lease = outcome as Lease;
            expect(lease.token).to.equal(holder.token + 1n);
            expect(lease.lost.aborted).to.equal(false);
            expect(
              await Promise.race([next.then(() => 'served'), until(queued(1), 5000, 'still queued')]),
            ).to.equal(undefined);
            await lease.release();
            const after = await within(next, 5000, 'the next waiter');
            expect(after.token).to.equal(holder.token + 2n);
            await after.release();
          }
          expect(Number(await a.command('EXISTS', `${name}:holders`, `${name}:queue`))).to.equal(0);
        } finally {
          c.onMessage.before = c.onMessage.after = undefined;
          await c.close();
        }
      });
    }

    it("a timeout above setTimeout's limit still waits the full time (fake timers)", async () => {
      const name = key();
      const holder = await new RedisLock(a.client, name, { ttl: 30_000 }).acquire();
      const realWait = globalThis.setTimeout;
      const settle = (ms: number) => new Promise((resolve) => realWait(resolve, ms));
      const clock = sinon.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
      try {
        let outcome: unknown = 'pending';
        const waiting = new RedisLock(b.client, name, { ttl: 30_000 })
          .acquire({ timeout: 2 ** 31 + 1000 })
          .then(
            (lease) => (outcome = lease),
            (error: unknown) => (outcome = error),
          );
        for (
          let i = 0;
          i < 200 && Number(await a.command('ZCOUNT', `${name}:queue`, '-inf', '(0')) === 0;
          i++
        )
          await settle(10);
        expect(Number(await a.command('ZCOUNT', `${name}:queue`, '-inf', '(0'))).to.equal(1);
        clock.tick(2 ** 31 - 1);
        await settle(50);
        expect(outcome).to.equal('pending');
        clock.tick(1001);
        for (let i = 0; i < 200 && outcome === 'pending'; i++) await settle(10);
        expect(outcome).to.be.instanceOf(TimeoutError);
        await waiting;
        expect(Number(await a.command('EXISTS', `${name}:queue`))).to.equal(0);
      } finally {
        clock.restore();
        await holder.release();
      }
    });

    it('an already-aborted signal rejects before any command', async () => {
      const lock = new RedisLock(b.client, key());
      const before = b.sent.length;
      const reason = new Error('no');
      const error = await lock
        .acquire({ signal: AbortSignal.abort(reason) })
        .catch((caught: unknown) => caught);
      expect(error).to.equal(reason);
      expect(b.sent.length).to.equal(before);
    });

    it('RedisSemaphore: weighted, head-of-line FIFO, no barging past the head', async () => {
      const name = key();
      const semaphore = new RedisSemaphore(a.client, name, 3, { ttl: 1000 });
      const other = new RedisSemaphore(b.client, name, 3, { ttl: 1000 });
      const first = await semaphore.acquire({ permits: 2 });
      const order: string[] = [];
      const big = other.acquire({ permits: 2 }).then((lease) => (order.push('big'), lease));
      await until(
        async () => Number(await a.command('ZCOUNT', `${name}:queue`, '-inf', '(0')) === 1,
        5000,
        'queued',
      );
      // One permit is free, but the head wants two: a small request waits behind it.
      expect(await semaphore.tryAcquire(1)).to.equal(undefined);
      const small = semaphore.acquire({ permits: 1 }).then((lease) => (order.push('small'), lease));
      await until(
        async () => Number(await a.command('ZCOUNT', `${name}:queue`, '-inf', '(0')) === 2,
        5000,
        'queued',
      );
      expect(order).to.deep.equal([]);
      await first.release();
      const leases: Lease[] = await Promise.all([big, small]);
      await Promise.all(leases.map((lease) => lease.release()));
      // Both fit once the two permits are back: granted in one step, in queue order.
      expect(order).to.have.members(['big', 'small']);
      expect(leases[0]!.token + 1n).to.equal(leases[1]!.token);
      const error = await semaphore.acquire({ permits: 4 }).catch((caught: unknown) => caught);
      expect(error).to.be.instanceOf(RangeError);
      expect(String(error)).to.match(/permits/);
    });

    it('a Redis restart while waiting ends in a recovery or a clear error, never a hang', async () => {
      const name = key();
      const restarted = await RedisServer.start();
      const holderClient = await connect(kind, restarted.port);
      const waiterClient = await connect(kind, restarted.port);
      try {
        const holder = await new RedisLock(holderClient.client, name, { ttl: 500 }).acquire();
        const waiting = new RedisLock(waiterClient.client, name, { ttl: 500 }).acquire();
        await until(
          async () => Number(await holderClient.command('ZCOUNT', `${name}:queue`, '-inf', '(0')) === 1,
          5000,
          'queued',
        );
        await restarted.restart();
        const outcome = await within(
          waiting.then(
            (lease) => lease,
            (error: unknown) => error,
          ),
          10_000,
          'the waiter after a restart',
        );
        if (outcome instanceof Error) {
          expect(outcome).to.be.instanceOf(RedisUnavailableError);
          expect(outcome.message).to.match(/RedisLock/);
        } else {
          // Recovered: the server lost the holder, so the waiter queued again and got the lock.
          await (outcome as Lease).release();
        }
        await within(
          new Promise((resolve) =>
            holder.lost.aborted ? resolve(undefined) : holder.lost.addEventListener('abort', resolve),
          ),
          5000,
          'the holder notices it lost its lease',
        );
        await holder.release();
      } finally {
        await holderClient.close();
        await waiterClient.close();
        await restarted.stop();
      }
    });

    it('leaves nothing in the keyspace but one fencing counter per lock key', async () => {
      await expectOnlyCounters(a);
    });
  });
}

/**
 * Whether the caller of `setTimeout` (the frame below this tracker's wrapper) is the package's own lib/ code, not a
 * client library's (which lives in node_modules), even when the package's call led to it (closing a connection).
 */
const startedByPackage = (stack: string) => {
  const caller = stack.split('\n')[2] ?? '';
  return !caller.includes('node_modules') && /[\\/]lib[\\/]/.test(caller);
};

/**
 * Records the timers that the package starts (and that have not yet fired or been cleared) while it is installed.
 * Timers of the Redis clients themselves (an ioredis disconnect timer of another test's client, say) are theirs.
 */
function trackTimers(): { live(): string[]; restore(): void } {
  const realSet = globalThis.setTimeout;
  const realClear = globalThis.clearTimeout;
  const live = new Map<unknown, string>();
  globalThis.setTimeout = ((callback: () => void, ms?: number) => {
    const timer = realSet(() => {
      live.delete(timer);
      callback();
    }, ms);
    const stack = new Error(`timer of ${ms} ms`).stack!;
    if (startedByPackage(stack)) live.set(timer, stack.split('\n').slice(0, 4).join(' '));
    return timer;
  }) as typeof setTimeout;
  globalThis.clearTimeout = ((timer: Parameters<typeof clearTimeout>[0]) => {
    live.delete(timer);
    realClear(timer);
  }) as typeof clearTimeout;
  return {
    live: () => [...live.values()],
    restore: () => {
      globalThis.setTimeout = realSet;
      globalThis.clearTimeout = realClear;
    },
  };
}
