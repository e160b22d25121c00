/**
 * Workload 10: `coop-sync/redis` against redlock and redis-semaphore, on one private redis-server on loopback (the
 * spec helper starts it on a free port; Debian's `redis-server` must be installed). Every library runs on ioredis.
 *
 * - round trip: one client, acquire + release of a free lock, back to back (per cycle);
 * - contended: `CONTENDERS` clients (one connection each, the same ttl) in a loop of acquire, one INCR, release
 *   (acquisitions/s), back to back, and with one more INCR outside the lock (a process that does something between
 *   acquisitions); every client contends until the run's last acquisition (one pool of acquisitions, not a quota);
 *   one warm-up run of each library, then the libraries in rotating order, median of the rounds;
 * - commands: the client commands the server received per cycle (MONITOR; commands run inside a Lua script are not
 *   counted), uncontended and contended;
 * - CPU per contended acquisition (back to back): the server's (`INFO cpu`, user + sys, which counts the work inside
 *   scripts) and the bench process's (`process.cpuUsage()`, all four clients), median of the rounds. On a shared
 *   2-core machine these are steadier than the rates: a library that costs more CPU loses when the cores are busy.
 *
 * redlock retries every 10 ms (+-5 ms jitter, its default is 200 ms) and redis-semaphore every 10 ms (its default):
 * neither has a wake-up, so their waiters poll; coop-sync's waiters are woken by the release.
 *
 * @module
 */
import { readdirSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { createConnection } from 'node:net';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { Redis } from 'ioredis';
import { Mutex } from 'redis-semaphore';
import { RedisServer } from '../spec/redis/server.js';
import { compare, median, type Result } from './harness.js';

const require = createRequire(import.meta.url);

/** redlock 4's API (it ships no types). */
interface RedlockLock {
  unlock(): Promise<unknown>;
}
interface Redlock {
  lock(resource: string, ttl: number): Promise<RedlockLock>;
}
const RedlockClass = require('redlock') as new (
  clients: Redis[],
  options: { retryCount: number; retryDelay: number; retryJitter: number },
) => Redlock;

/** The newest modification time (ms) of the files under `dir`. */
function newest(dir: string): number {
  let latest = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    latest = Math.max(latest, entry.isDirectory() ? newest(path) : statSync(path).mtimeMs);
  }
  return latest;
}

/**
 * coop-sync/redis as users run it, the built bundle `dist/esm/redis.js` (the peers run from their published JS too),
 * when that build is at least as new as every file under lib/; else the TypeScript source through tsx, which costs
 * more client CPU (each closure gets a `__name` call) and is said so in the output.
 */
async function loadRedisLock(): Promise<{
  RedisLock: typeof import('../lib/redis/index.js').RedisLock;
  from: string;
}> {
  const root = fileURLToPath(new URL('..', import.meta.url));
  const built = join(root, 'dist', 'esm', 'redis.js');
  let builtAt = 0;
  try {
    builtAt = statSync(built).mtimeMs;
  } catch {
    // not built
  }
  if (builtAt > 0 && builtAt >= newest(join(root, 'lib'))) {
    const module = (await import(pathToFileURL(built).href)) as typeof import('../lib/redis/index.js');
    return { RedisLock: module.RedisLock, from: 'dist/esm/redis.js (the build)' };
  }
  const module = await import('../lib/redis/index.js');
  const why = builtAt > 0 ? 'dist/ is older than lib/' : 'no dist/';
  return {
    RedisLock: module.RedisLock,
    from: `lib/ through tsx (${why}: run npm run build first to bench the build)`,
  };
}

const { RedisLock, from: coopSyncFrom } = await loadRedisLock();
/** Where the bench loaded coop-sync/redis from (printed with row 10). */
export { coopSyncFrom, RedisLock as BenchRedisLock };

export const CONTENDERS = 4;
const TTL = 10_000;

/** One library: how to make a lock on a client, and one acquire + release with work inside. */
interface Library {
  readonly name: string;
  make(client: Redis, key: string): (work: () => Promise<unknown>) => Promise<void>;
}

const libraries: Library[] = [
  {
    name: 'coop-sync',
    make(client, key) {
      const lock = new RedisLock(client, key, { ttl: TTL });
      return async (work) => {
        const lease = await lock.acquire();
        await work();
        await lease.release();
      };
    },
  },
  {
    name: 'redlock',
    make(client, key) {
      const redlock = new RedlockClass([client], { retryCount: -1, retryDelay: 10, retryJitter: 5 });
      return async (work) => {
        const lock = await redlock.lock(key, TTL);
        await work();
        await lock.unlock();
      };
    },
  },
  {
    name: 'redis-semaphore',
    make(client, key) {
      return async (work) => {
        const mutex = new Mutex(client, key, { lockTimeout: TTL, acquireTimeout: 60_000 });
        await mutex.acquire();
        await work();
        await mutex.release();
      };
    },
  },
];

/** Counts the client commands the server receives while `fn` runs (MONITOR, on a connection of its own). */
async function countCommands(port: number, fn: () => Promise<void>): Promise<number> {
  const socket = createConnection({ host: '127.0.0.1', port });
  let count = 0;
  let buffer = '';
  let ready!: () => void;
  const started = new Promise<void>((resolve) => (ready = resolve));
  socket.on('data', (chunk) => {
    buffer += chunk.toString();
    let newline;
    while ((newline = buffer.indexOf('\r\n')) >= 0) {
      const line = buffer.slice(0, newline);
      buffer = buffer.slice(newline + 2);
      if (line === '+OK') ready();
      else if (!/^\+[\d.]+ \[\d+ lua\]/.test(line)) count++;
    }
  });
  socket.write('MONITOR\r\n');
  await started;
  await fn();
  // A PING on the monitored server marks the end: every command before it has been reported.
  const marker = new Redis(port, '127.0.0.1');
  await marker.ping();
  await new Promise((resolve) => setTimeout(resolve, 50));
  marker.disconnect();
  socket.destroy();
  return count - 1; // the PING
}

export interface RedisBenchResult {
  readonly roundTrip: Result[];
  /** Acquisitions per second with `CONTENDERS` clients back to back, median of the rounds, by library. */
  readonly contended: Record<string, number>;
  /** The same with one INCR outside the lock between acquisitions. */
  readonly contendedWithWork: Record<string, number>;
  /** The longest wait of one acquisition in the back-to-back runs (ms), by library: what FIFO bounds. */
  readonly longestWaitMs: Record<string, number>;
  /** Client commands per uncontended acquire + release, by library. */
  readonly commands: Record<string, number>;
  /** Client commands per contended acquisition (including waiting), by library. */
  readonly contendedCommands: Record<string, number>;
  /** Server CPU (user + sys, µs) per contended acquisition, back to back, median of the rounds, by library. */
  readonly serverCpuUs: Record<string, number>;
  /** The bench process's CPU (µs, all clients) per contended acquisition, back to back, median, by library. */
  readonly clientCpuUs: Record<string, number>;
}

/** The server's CPU time so far (user + sys, µs), from `INFO cpu`. */
async function serverCpu(client: Redis): Promise<number> {
  const info = await client.info('cpu');
  const field = (name: string) => Number(new RegExp(`${name}:([\\d.]+)`).exec(info)?.[1] ?? NaN);
  return (field('used_cpu_user') + field('used_cpu_sys')) * 1e6;
}

export async function benchRedis(options: {
  cycles: number;
  contended: number;
  rounds: number;
}): Promise<RedisBenchResult> {
  console.log(`   coop-sync/redis loaded from ${coopSyncFrom}`);
  const server = await RedisServer.start();
  const clients = Array.from({ length: CONTENDERS }, () => new Redis(server.port, '127.0.0.1'));
  try {
    await Promise.all(clients.map((client) => client.ping()));
    const [first] = clients as [Redis];
    const nothing = async (): Promise<void> => {};
    let keys = 0;

    const cycles = libraries.map((library) => library.make(first, `bench:free:${library.name}`));
    const roundTrip = await compare(
      libraries.map((library, index) => ({
        name: library.name,
        async run(n: number) {
          const cycle = cycles[index]!;
          for (let i = 0; i < n; i++) await cycle(nothing);
        },
      })),
      { ops: options.cycles, warmup: 1, rounds: options.rounds },
    );

    const commands: Record<string, number> = {};
    for (const [index, library] of libraries.entries()) {
      const n = 50;
      commands[library.name] =
        (await countCommands(server.port, async () => {
          for (let i = 0; i < n; i++) await cycles[index]!(nothing);
        })) / n;
    }

    /**
     * `CONTENDERS` clients, `total` acquisitions in all, each doing one INCR inside. The clients draw from one pool
     * of `total`, not `total / CONTENDERS` each: every client contends until the last acquisition, so the run
     * measures contended sections over its whole wall time (with a quota each, a library that lets one client
     * barge would finish its run with the others alone and uncontended).
     */
    const longestWaitMs: Record<string, number> = {};
    const serverCpuSamples: Record<string, number[]> = {};
    const clientCpuSamples: Record<string, number[]> = {};
    const contend = async (library: Library, total: number, outside = false): Promise<number> => {
      const key = `bench:contended:${library.name}:${++keys}`;
      const locks = clients.map((client) => library.make(client, key));
      let longest = 0;
      let left = total;
      const serverBefore = await serverCpu(first);
      const clientBefore = process.cpuUsage();
      const start = process.hrtime.bigint();
      await Promise.all(
        locks.map(async (cycle, index) => {
          const client = clients[index]!;
          while (left-- > 0) {
            if (outside) await client.incr(`${key}:outside`);
            const asked = process.hrtime.bigint();
            await cycle(() => {
              longest = Math.max(longest, Number(process.hrtime.bigint() - asked) / 1e6);
              return client.incr(`${key}:count`);
            });
          }
        }),
      );
      if (!outside) longestWaitMs[library.name] = Math.max(longestWaitMs[library.name] ?? 0, longest);
      const seconds = Number(process.hrtime.bigint() - start) / 1e9;
      const clientUsed = process.cpuUsage(clientBefore);
      const serverUsed = (await serverCpu(first)) - serverBefore;
      if (!outside) {
        (serverCpuSamples[library.name] ??= []).push(serverUsed / total);
        (clientCpuSamples[library.name] ??= []).push((clientUsed.user + clientUsed.system) / total);
      }
      const counted = Number(await first.get(`${key}:count`));
      if (counted !== total) throw new Error(`${library.name}: ${counted} increments of ${total}`);
      await first.del(`${key}:count`, `${key}:outside`);
      return total / seconds;
    };
    const samples: Record<string, number[]> = {};
    const withWork: Record<string, number[]> = {};
    for (const library of libraries) await contend(library, options.contended); // warm-up
    for (const by of [longestWaitMs, serverCpuSamples, clientCpuSamples])
      for (const name of Object.keys(by)) delete by[name];
    for (let round = 0; round < options.rounds; round++) {
      for (let k = 0; k < libraries.length; k++) {
        const library = libraries[(k + round) % libraries.length]!;
        (samples[library.name] ??= []).push(await contend(library, options.contended));
        (withWork[library.name] ??= []).push(await contend(library, options.contended, true));
      }
    }
    const medians = (by: Record<string, number[]>) =>
      Object.fromEntries(Object.entries(by).map(([name, values]) => [name, median(values)]));
    const contended = medians(samples);
    const contendedWithWork = medians(withWork);
    const serverCpuUs = medians(serverCpuSamples);
    const clientCpuUs = medians(clientCpuSamples);
    const contendedCommands: Record<string, number> = {};
    for (const library of libraries) {
      const n = 100;
      // Minus the INCR inside each acquisition, and the GET and DEL of the check at the end.
      const counted = await countCommands(server.port, async () => void (await contend(library, n)));
      contendedCommands[library.name] = (counted - n - 2) / n;
    }
    return {
      roundTrip,
      contended,
      contendedWithWork,
      longestWaitMs,
      commands,
      contendedCommands,
      serverCpuUs,
      clientCpuUs,
    };
  } finally {
    for (const client of clients) client.disconnect();
    await server.stop();
  }
}
