/**
 * Helper of workload 10 (not a row): drives only coop-sync's RedisLock, `CONTENDERS` clients in one process
 * contending back to back as in row 10b (loaded as the bench loads it), and prints the process CPU per acquisition. Run it under a profiler to see
 * where the client's time goes:
 *
 *   node --cpu-prof --cpu-prof-dir=/tmp/prof --import tsx bench/redis-profile.ts [acquisitions]
 *
 * @module
 */
import { Redis } from 'ioredis';
import { RedisServer } from '../spec/redis/server.js';
import { BenchRedisLock as RedisLock, CONTENDERS, coopSyncFrom } from './redis.bench.js';

const total = Number(process.argv[2] ?? 20_000);
console.log(`coop-sync/redis from ${coopSyncFrom}`);
const server = await RedisServer.start();
const clients = Array.from({ length: CONTENDERS }, () => new Redis(server.port, '127.0.0.1'));
try {
  await Promise.all(clients.map((client) => client.ping()));
  for (const [round, n] of [
    ['warm-up', 2000],
    ['measured', total],
  ] as const) {
    const key = `profile:${round}`;
    const locks = clients.map((client) => new RedisLock(client, key, { ttl: 10_000 }));
    let left = n;
    const cpu = process.cpuUsage();
    const start = process.hrtime.bigint();
    await Promise.all(
      locks.map(async (lock, index) => {
        while (left-- > 0) {
          const lease = await lock.acquire();
          await clients[index]!.incr(`${key}:count`);
          await lease.release();
        }
      }),
    );
    const seconds = Number(process.hrtime.bigint() - start) / 1e9;
    const used = process.cpuUsage(cpu);
    console.log(
      `${round}: ${Math.round(n / seconds)} acq/s, client CPU ${((used.user + used.system) / n).toFixed(0)} µs/acq (user ${(used.user / n).toFixed(0)}, system ${(used.system / n).toFixed(0)})`,
    );
  }
} finally {
  for (const client of clients) client.disconnect();
  await server.stop();
}
