/**
 * Helper of workload 10 (not a row): drives only coop-sync's RedisLock, `CONTENDERS` clients in one process
 * contending back to back as in row 10b (loaded as the bench loads it), and prints the process CPU per acquisition,
 * and the commands the server ran per acquisition (`INFO commandstats`, which counts each `redis.call` inside a
 * script as its own command, with the time spent in it). Run it under a profiler to see where the client's time goes:
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
  /** Calls and µs by command, from `INFO commandstats`. */
  const commandStats = async (): Promise<Map<string, { calls: number; usec: number }>> => {
    const stats = new Map<string, { calls: number; usec: number }>();
    for (const [, name, calls, usec] of (await clients[0]!.info('commandstats')).matchAll(
      /cmdstat_([\w|]+):calls=(\d+),usec=(\d+)/g,
    ))
      stats.set(name!, { calls: Number(calls), usec: Number(usec) });
    return stats;
  };
  for (const [round, n] of [
    ['warm-up', 2000],
    ['measured', total],
  ] as const) {
    const key = `profile:${round}`;
    const locks = clients.map((client) => new RedisLock(client, key, { ttl: 10_000 }));
    let left = n;
    const statsBefore = await commandStats();
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
    if (round === 'measured') {
      let inside = 0;
      for (const [name, { calls, usec }] of await commandStats()) {
        const before = statsBefore.get(name) ?? { calls: 0, usec: 0 };
        const perAcquisition = (calls - before.calls) / n;
        if (name === 'info' || perAcquisition === 0) continue;
        if (name !== 'evalsha') inside += perAcquisition;
        console.log(
          `  ${name.padEnd(18)} ${perAcquisition.toFixed(2)} per acq, ${((usec - before.usec) / (calls - before.calls)).toFixed(1)} µs each`,
        );
      }
      // All but the scripts themselves and the INCR of the work, one per acquisition.
      console.log(`  commands run inside the scripts: ${(inside - 1).toFixed(2)} per acquisition`);
    }
  }
} finally {
  for (const client of clients) client.disconnect();
  await server.stop();
}
