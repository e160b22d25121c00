/**
 * `npx tsx examples/redis-fencing.ts`: why a Redis lock needs fencing tokens, and how `lease.token` provides them.
 *
 * Two workers (two clients: in real life two processes or hosts) update the same invoice under one RedisLock. A
 * holds the lock and sends a write; then A's network stalls, its renewals stop reaching Redis, its lease expires and
 * B gets the lock with a higher token. A's write, stuck in the network, arrives after B's: the store compares tokens
 * and refuses it. Without the token check, A's stale write would overwrite B's.
 *
 * It starts a private redis-server on a free loopback port (Debian's `redis-server` must be installed), or uses
 * `REDIS_URL` if set. Not a Simulation example: it runs on the real clock and a real server, for about a second.
 */
import { Redis } from 'ioredis';
import { RedisLock, type RedisClientLike } from 'coop-sync/redis';
import { RedisServer } from '../spec/redis/server.js';
import { isDirectRun } from './run-main.js';

/** The store's side of fencing: a write carries a token, and one older than the newest seen is refused. */
const FENCED_SET = `
local newest = tonumber(redis.call('GET', KEYS[2]) or '0')
if tonumber(ARGV[1]) < newest then return newest end
redis.call('SET', KEYS[1], ARGV[2])
redis.call('SET', KEYS[2], ARGV[1])
return 0`;

async function fencedWrite(store: Redis, token: bigint, value: string): Promise<string> {
  const newest = Number(
    await store.eval(FENCED_SET, 2, 'invoice:42', 'invoice:42:fence', String(token), value),
  );
  return newest === 0 ? 'accepted' : `refused (newest token seen: ${newest})`;
}

/** A client whose commands stop getting answers while `stalled` (a network partition, seen from this worker). */
function stallable(redis: Redis): { client: RedisClientLike; stall(): void } {
  let stalled = false;
  return {
    client: {
      call: (command, ...args) => (stalled ? new Promise(() => {}) : redis.call(command, ...args)),
      duplicate: () => redis.duplicate(),
    },
    stall: () => {
      stalled = true;
    },
  };
}

export async function main(print: (line: string) => void = console.log): Promise<void> {
  const server = process.env.REDIS_URL === undefined ? await RedisServer.start() : undefined;
  const url = process.env.REDIS_URL ?? server!.url;
  const [redisA, redisB, store] = [new Redis(url), new Redis(url), new Redis(url)];
  try {
    await store.del('invoice:42', 'invoice:42:fence');
    const a = stallable(redisA);
    const lockA = new RedisLock(a.client, 'invoice-lock', { ttl: 300, name: 'A' });
    const lockB = new RedisLock(redisB, 'invoice-lock', { ttl: 300, name: 'B' });

    const leaseA = await lockA.acquire();
    print(`A holds the lock with token ${leaseA.token} and sends its write`);
    let bWrote!: () => void;
    const afterB = new Promise<void>((resolve) => (bWrote = resolve));
    // A's write is on its way, but the network holds it until after B's write.
    const lateWrite = afterB.then(() => fencedWrite(store, leaseA.token, 'A'));
    a.stall();
    print("A's network stalls: its renewals no longer reach Redis");

    const leaseB = await lockB.acquire({ timeout: 5000 });
    print(`B holds the lock with token ${leaseB.token} (A's lease expired on the server)`);
    print(`B writes with token ${leaseB.token}: ${await fencedWrite(store, leaseB.token, 'B')}`);
    bWrote();
    await leaseB.release();
    const late = await lateWrite;
    print(`A's write arrives late with token ${leaseA.token}: ${late}`);
    if (late === 'accepted') throw new Error("the store took A's stale write");
    print(`A's lease.lost.aborted: ${leaseA.lost.aborted}`);
    await leaseA.release(); // resolves: the lease is already lost
    print(`invoice:42 = ${JSON.stringify(await store.get('invoice:42'))}`);
  } finally {
    for (const redis of [redisA, redisB, store]) redis.disconnect();
    await server?.stop();
  }
}

if (isDirectRun(import.meta.url)) {
  main().catch((error: unknown) => {
    console.error(error);
    process.exitCode = 1;
  });
}
