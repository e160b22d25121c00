/** Helpers of the redis specs: clients of both kinds, child processes, bounded waits. */
import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { createClient } from 'redis';
import type { RedisClientLike } from '../../lib/redis/index.js';
import { projectRoot } from '../fixtures/project-root.js';

export type ClientKind = 'ioredis' | 'node-redis';
export const clientKinds: readonly ClientKind[] = ['ioredis', 'node-redis'];

/** A connected client of `kind`, counting the commands sent on it, and plain commands for the spec itself. */
export interface TestClient {
  readonly client: RedisClientLike;
  /** Commands sent through the package's interface so far (EVALSHA, SCRIPT LOAD, ...), by their arguments. */
  readonly sent: string[][];
  command(...args: string[]): Promise<unknown>;
  close(): Promise<void>;
  /**
   * Runs in the same tick as each message of the package's subscriber connections, just before and just after the
   * package's own listener (set them to race something with a grant notification).
   */
  readonly onMessage: { before?: (() => void) | undefined; after?: (() => void) | undefined };
}

type MessageListener = (...args: string[]) => void;

/** Wraps `listener` in the `before` and `after` hooks of `hooks`. */
function hooked(hooks: TestClient['onMessage'], listener: MessageListener): MessageListener {
  return (...args) => {
    hooks.before?.();
    listener(...args);
    hooks.after?.();
  };
}

export async function connect(kind: ClientKind, port: number): Promise<TestClient> {
  const sent: string[][] = [];
  const onMessage: TestClient['onMessage'] = {};
  if (kind === 'ioredis') {
    const redis = new Redis(port, '127.0.0.1', { maxRetriesPerRequest: 2 });
    const client = {
      call: (command: string, ...args: (string | number)[]) => {
        sent.push([command, ...args.map(String)]);
        return redis.call(command, ...args);
      },
      duplicate: () => {
        const subscriber = redis.duplicate();
        const on = subscriber.on.bind(subscriber) as (event: string, listener: MessageListener) => unknown;
        subscriber.on = ((event: string, listener: MessageListener) =>
          on(event, event === 'message' ? hooked(onMessage, listener) : listener)) as typeof subscriber.on;
        return subscriber;
      },
    };
    return {
      client,
      sent,
      onMessage,
      command: (command, ...args) => redis.call(command, ...args),
      close: async () => {
        redis.disconnect();
      },
    };
  }
  const redis = createClient({ url: `redis://127.0.0.1:${port}` });
  redis.on('error', () => undefined);
  await redis.connect();
  const client = {
    sendCommand: (args: string[]) => {
      sent.push(args);
      return redis.sendCommand(args);
    },
    duplicate: () => {
      const subscriber = redis.duplicate();
      const subscribe = subscriber.subscribe.bind(subscriber) as (
        channel: string,
        listener: MessageListener,
      ) => Promise<unknown>;
      (subscriber as { subscribe: typeof subscribe }).subscribe = (channel, listener) =>
        subscribe(channel, hooked(onMessage, listener));
      return subscriber;
    },
  };
  return {
    client,
    sent,
    onMessage,
    command: (...args) => redis.sendCommand(args),
    close: async () => {
      redis.destroy();
    },
  };
}

/** Rejects after `ms` with a message naming what was awaited; clears its timer when `promise` settles first. */
export function within<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const expired = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what}: not within ${ms} ms`)), ms);
  });
  return Promise.race([promise, expired]).finally(() => clearTimeout(timer));
}

/** Checks `condition` every 10 ms until it holds, at most `ms`. */
export async function until(
  condition: () => Promise<boolean> | boolean,
  ms: number,
  what: string,
): Promise<void> {
  const start = Date.now();
  while (!(await condition())) {
    if (Date.now() - start > ms) throw new Error(`${what}: not within ${ms} ms`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

export type Event = { event: string } & Record<string, unknown>;

/** From the source tree, so that the compiled specs (npm run coverage) start the same TypeScript program. */
const workerPath = join(projectRoot(), 'spec', 'redis', 'worker.ts');

/** A child process running spec/redis/worker.ts. */
export class Worker {
  readonly events: Event[] = [];
  private readonly child: ChildProcess;
  private readonly waiters: { event: string; from: number; resolve: (event: Event) => void }[] = [];
  private readonly exited: Promise<void>;

  constructor(port: number, kind: ClientKind) {
    this.child = spawn(process.execPath, ['--import', 'tsx', workerPath, String(port), kind], {
      stdio: ['pipe', 'pipe', 'inherit'],
    });
    this.exited = new Promise((resolve) => this.child.once('exit', () => resolve()));
    let buffer = '';
    this.child.stdout!.on('data', (chunk: Buffer) => {
      buffer += chunk.toString();
      let newline;
      while ((newline = buffer.indexOf('\n')) >= 0) {
        const event = JSON.parse(buffer.slice(0, newline)) as Event;
        buffer = buffer.slice(newline + 1);
        this.events.push(event);
        for (const waiter of [...this.waiters]) {
          if (waiter.event === event.event && this.events.length - 1 >= waiter.from) {
            this.waiters.splice(this.waiters.indexOf(waiter), 1);
            waiter.resolve(event);
          }
        }
      }
    });
  }

  get pid(): number {
    return this.child.pid!;
  }

  send(command: object): void {
    this.child.stdin!.write(`${JSON.stringify(command)}\n`);
  }

  /** The first `event` at index `from` or later (default: any not yet seen by an earlier `next`), within `ms`. */
  next(event: string, ms = 10_000, from = 0): Promise<Event> {
    const seen = this.events.findIndex((candidate, index) => index >= from && candidate.event === event);
    if (seen >= 0) return Promise.resolve(this.events[seen]!);
    return within(
      new Promise<Event>((resolve) => this.waiters.push({ event, from, resolve })),
      ms,
      `worker ${this.pid}: event ${event}`,
    ).then((found) => {
      const error = this.events.find((candidate) => candidate.event === 'error');
      if (error !== undefined) throw new Error(`worker ${this.pid}: ${String(error.message)}`);
      return found;
    });
  }

  signal(signal: NodeJS.Signals): void {
    this.child.kill(signal);
  }

  /** Ends the worker (SIGKILL if it does not exit on its own within 2 s) and waits for it. */
  async stop(): Promise<void> {
    if (this.child.exitCode !== null || this.child.signalCode !== null) return;
    this.child.kill('SIGCONT');
    this.child.stdin!.end();
    const timer = setTimeout(() => this.child.kill('SIGKILL'), 2000);
    await this.exited;
    clearTimeout(timer);
  }
}
