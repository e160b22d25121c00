/**
 * A program for spec/redis/idle.node.spec.ts: contends for a lock with two clients (so the package opens its
 * subscriber connection), releases everything, closes its clients, and then simply returns: it must exit by itself.
 * `node --import tsx spec/redis/idle.ts <port> <ioredis|node-redis>`.
 */
import { Redis } from 'ioredis';
import { createClient } from 'redis';
import { RedisLock } from '../../lib/redis/index.js';

const [port, kind] = process.argv.slice(2) as [string, string];
const open = async () => {
  if (kind === 'ioredis') {
    const client = new Redis(Number(port), '127.0.0.1');
    return { client, close: () => client.quit() };
  }
  const client = createClient({ url: `redis://127.0.0.1:${port}` });
  await client.connect();
  return { client, close: () => client.close() };
};
const [a, b] = [await open(), await open()];
const holder = await new RedisLock(a.client, 'idle', { ttl: 1000 }).acquire();
const waiting = new RedisLock(b.client, 'idle', { ttl: 1000 }).acquire();
setTimeout(() => void holder.release(), 50);
await (await waiting).release();
await a.close();
await b.close();
console.log('done');
