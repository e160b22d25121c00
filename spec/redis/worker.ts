/**
 * A child process for the cross-process specs: `node --import tsx spec/redis/worker.ts <port> <client>` where
 * client is `ioredis` or `node-redis`. It reads one JSON command a line on stdin and writes one JSON event a line on
 * stdout; it exits on `{ "op": "exit" }` or when stdin closes.
 *
 * Commands:
 * - `count { key, counter, n, ttl }`: n times, under RedisLock(key): GET counter, yield, SET counter + 1.
 *   Reports `{ event: 'counted', tokens }`.
 * - `hold { key, ttl }`: acquires, reports `{ event: 'acquired', token }`, then every 10 ms
 *   `{ event: 'tick', held: !lease.lost.aborted }` until `release`, which reports `{ event: 'released' }`.
 * - `check`: reports `{ event: 'check', held }` for the held lease.
 * - `acquire { key, ttl }`: acquires, reports `{ event: 'acquired', token }`, releases, reports `released`.
 * - `semaphore { key, permits, weight, n, ttl, inUse }`: n times: acquire `weight` permits, INCRBY inUse, a round
 *   trip, DECRBY, release. Reports `{ event: 'semaphore', max }`, the largest INCRBY result it saw.
 */
import { createInterface } from 'node:readline';
import { Redis } from 'ioredis';
import { createClient } from 'redis';
import { RedisLock, RedisSemaphore, type Lease, type RedisClientLike } from '../../lib/redis/index.js';

const [port, kind] = process.argv.slice(2) as [string, 'ioredis' | 'node-redis'];

interface Commands {
  get(key: string): Promise<string | null>;
  set(key: string, value: string): Promise<unknown>;
  incrby(key: string, by: number): Promise<number>;
  ping(): Promise<unknown>;
  close(): Promise<unknown>;
}

async function connect(): Promise<{ client: RedisClientLike; commands: Commands }> {
  if (kind === 'ioredis') {
    const client = new Redis(Number(port), '127.0.0.1');
    return {
      client,
      commands: {
        get: (key) => client.get(key),
        set: (key, value) => client.set(key, value),
        incrby: (key, by) => client.incrby(key, by),
        ping: () => client.ping(),
        close: () => client.quit(),
      },
    };
  }
  const client = createClient({ url: `redis://127.0.0.1:${port}` });
  await client.connect();
  return {
    client,
    commands: {
      get: (key) => client.get(key) as Promise<string | null>,
      set: (key, value) => client.set(key, value),
      incrby: (key, by) => client.incrBy(key, by),
      ping: () => client.ping(),
      close: () => client.close(),
    },
  };
}

const { client, commands } = await connect();
const send = (event: object): void => {
  process.stdout.write(
    `${JSON.stringify(event, (_, value: unknown) => (typeof value === 'bigint' ? String(value) : value))}\n`,
  );
};

let held: Lease | undefined;
let ticker: ReturnType<typeof setInterval> | undefined;

type Command = { op: string; key: string; ttl: number } & Record<string, unknown>;

async function handle(command: Command): Promise<void> {
  switch (command.op) {
    case 'count': {
      const lock = new RedisLock(client, command.key, { ttl: command.ttl });
      const tokens: bigint[] = [];
      for (let i = 0; i < (command.n as number); i++) {
        await lock.run(async (lease) => {
          tokens.push(lease.token);
          const value = Number((await commands.get(command.counter as string)) ?? '0');
          await new Promise((resolve) => setImmediate(resolve));
          await commands.set(command.counter as string, String(value + 1));
        });
      }
      send({ event: 'counted', tokens });
      return;
    }
    case 'hold': {
      const lock = new RedisLock(client, command.key, { ttl: command.ttl });
      held = await lock.acquire();
      send({ event: 'acquired', token: held.token });
      const lease = held;
      ticker = setInterval(() => send({ event: 'tick', held: !lease.lost.aborted }), 10);
      return;
    }
    case 'check':
      send({ event: 'check', held: held !== undefined && !held.lost.aborted });
      return;
    case 'release':
      clearInterval(ticker);
      await held?.release();
      send({ event: 'released' });
      return;
    case 'acquire': {
      const lock = new RedisLock(client, command.key, { ttl: command.ttl });
      const lease = await lock.acquire();
      send({ event: 'acquired', token: lease.token });
      await lease.release();
      send({ event: 'released' });
      return;
    }
    case 'semaphore': {
      const semaphore = new RedisSemaphore(client, command.key, command.permits as number, {
        ttl: command.ttl,
      });
      const weight = command.weight as number;
      let max = 0;
      for (let i = 0; i < (command.n as number); i++) {
        await semaphore.run(
          async () => {
            max = Math.max(max, await commands.incrby(command.inUse as string, weight));
            await commands.ping();
            await commands.incrby(command.inUse as string, -weight);
          },
          { permits: weight },
        );
      }
      send({ event: 'semaphore', max });
      return;
    }
    case 'exit':
      clearInterval(ticker);
      await commands.close();
      process.exit(0);
  }
}

const lines = createInterface({ input: process.stdin });
lines.on('line', (line) => {
  handle(JSON.parse(line) as Command).catch((error: unknown) =>
    send({ event: 'error', message: String(error) }),
  );
});
lines.on('close', () => {
  clearInterval(ticker);
  void commands.close().finally(() => process.exit(0));
});
send({ event: 'ready' });
