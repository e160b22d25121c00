/**
 * The one small interface through which coop-sync/redis talks to Redis, whichever client the user passes: ioredis
 * (5, 6) or node-redis (`redis` 4 to 6). The package imports neither; it only calls the few methods named here.
 *
 * A {@link RedisLink} is shared by every lock and semaphore built on the same client: it loads the script once,
 * bounds every command by a deadline, tracks how far the server's clock may be ahead of ours, and owns the one
 * subscriber connection (a `duplicate()` of the user's client) that carries grant notifications: one channel per
 * link, `coop-sync:<uuid>`, named in the ids of its waiters, so a grant reaches only the process that waits for it.
 * It closes that connection shortly after the last local waiter is gone, so an idle process exits by itself.
 *
 * @module
 */

import { RedisUnavailableError } from './errors.js';
import { SCRIPT } from './script.js';

/** The methods of an ioredis subscriber connection (a `duplicate()` of the client) that the package uses. */
export interface IORedisSubscriberLike {
  /** Subscribes to the link's one channel; resolves once the server has confirmed it. */
  subscribe(channel: string): Promise<unknown>;
  /** Receives the grant notifications. */
  on(event: 'message', listener: (channel: string, message: string) => void): unknown;
  /** Connection errors: ignored here, they surface as the bounded failures of the calls that wait. */
  on(event: 'error', listener: (error: Error) => void): unknown;
  /** Closes the connection at once, once no waiter has needed it for a second. */
  disconnect(): unknown;
}

/** The methods of a connected ioredis client (`new Redis(...)`, ioredis 5 or 6) that the package uses. */
export interface IORedisClientLike {
  /** Sends one command (SCRIPT LOAD, EVALSHA). */
  call(command: string, ...args: (string | number)[]): Promise<unknown>;
  /** Opens the subscriber connection (only while something waits). */
  duplicate(): IORedisSubscriberLike;
}

/** The methods of a node-redis subscriber connection (a `duplicate()` of the client) that the package uses. */
export interface NodeRedisSubscriberLike {
  /** Connects the duplicate (node-redis does not connect it by itself). */
  connect(): Promise<unknown>;
  /** Subscribes to the link's one channel, with the listener of its grant notifications. */
  subscribe(channel: string, listener: (message: string, channel: string) => void): Promise<unknown>;
  /** Connection errors: ignored here (node-redis would crash the process without a listener). */
  on(event: 'error', listener: (error: Error) => void): unknown;
  /** node-redis 5 and 6. */
  destroy?(): unknown;
  /** node-redis 4. */
  disconnect?(): Promise<unknown>;
}

/** The methods of a connected node-redis client (`createClient(...).connect()`, `redis` 4 to 6) the package uses. */
export interface NodeRedisClientLike {
  /** Sends one command (SCRIPT LOAD, EVALSHA). */
  sendCommand(args: string[]): Promise<unknown>;
  /** Opens the subscriber connection (only while something waits). */
  duplicate(): NodeRedisSubscriberLike;
}

/**
 * A connected Redis client: an ioredis `Redis` or a node-redis client. Pass the client your service already uses;
 * the package sends its commands on it and opens one more connection (`duplicate()`) for notifications while
 * something waits.
 */
export type RedisClientLike = IORedisClientLike | NodeRedisClientLike;

/** A grant notification for one waiter: the server time of the grant and the token. */
export type GrantListener = (serverNow: number, token: string) => void;

/** How long an unused subscription (and the subscriber connection) stays open for the next waiter. */
const LINGER_MS = 1000;

function isIORedis(client: RedisClientLike): client is IORedisClientLike {
  return typeof (client as IORedisClientLike).call === 'function';
}

/** Checks that `client` looks like one of the two supported clients. */
export function checkClient(client: unknown, label: string): asserts client is RedisClientLike {
  const candidate = client as Partial<IORedisClientLike & NodeRedisClientLike> | null;
  if (
    typeof candidate !== 'object' ||
    candidate === null ||
    typeof candidate.duplicate !== 'function' ||
    (typeof candidate.call !== 'function' && typeof candidate.sendCommand !== 'function')
  ) {
    throw new TypeError(`${label}: client must be a connected ioredis or node-redis client`);
  }
}

const links = new WeakMap<object, RedisLink>();

/** The shared link of `client` (one per client object). */
export function linkFor(client: RedisClientLike): RedisLink {
  let link = links.get(client);
  if (link === undefined) {
    link = new RedisLink(client);
    links.set(client, link);
  }
  return link;
}

/**
 * Now, in ms since the epoch, from the monotonic clock (`performance`, looked up at call time so fake timers control
 * it): a step of the wall clock (NTP, a user) can neither extend nor end a lease. Lease deadlines use it throughout.
 */
export function clock(): number {
  return globalThis.performance.timeOrigin + globalThis.performance.now();
}

/** A `setTimeout` looked up at call time (fake timers control it), optionally not keeping the process alive. */
export function startTimer(
  callback: () => void,
  ms: number,
  keepAlive: boolean,
): ReturnType<typeof setTimeout> {
  // Whole milliseconds (rounded up, never early): timers of one duration share one list in Node, so the leases and
  // commands of a busy process do not each make a list of their own.
  const timer = globalThis.setTimeout(callback, Math.max(0, Math.min(Math.ceil(ms), 2 ** 31 - 1)));
  if (!keepAlive) (timer as { unref?: () => void }).unref?.();
  return timer;
}

type Subscriber =
  | { readonly kind: 'ioredis'; readonly ready: Promise<void>; readonly connection: IORedisSubscriberLike }
  | {
      readonly kind: 'node-redis';
      readonly ready: Promise<void>;
      readonly connection: NodeRedisSubscriberLike;
    };

export class RedisLink {
  /**
   * An upper bound on (server clock - local clock), from the latest script reply: the server read its clock after
   * we sent the command. Converting a server deadline with it gives a local deadline that is never late.
   */
  private offsetBound = 0;
  private sha: Promise<string> | undefined;
  /** Names this link in waiter ids, so that the script publishes each grant to this link's channel only. */
  readonly id = globalThis.crypto.randomUUID();
  /** The one channel this link subscribes to: `coop-sync:<id>`. */
  private readonly channel = `coop-sync:${this.id}`;
  private subscriber: Subscriber | undefined;
  /** Resolves once the server has confirmed the subscription; `undefined` while not subscribed. */
  private subscribed: Promise<void> | undefined;
  private confirmed = false;
  /** The local waiters, by waiter id. */
  private readonly listeners = new Map<string, GrantListener>();
  private sweepTimer: ReturnType<typeof setTimeout> | undefined;
  /** When the last local waiter left (local ms). */
  private idleSince = 0;

  constructor(private readonly client: RedisClientLike) {}

  /**
   * Sends one command (`args`: the arguments after its name), rejecting with `RedisUnavailableError` on an error or
   * no reply within `deadlineMs`.
   */
  private command(
    name: string,
    args: (string | number)[],
    deadlineMs: number,
    label: string,
  ): Promise<unknown> {
    const client = this.client;
    let sent: Promise<unknown>;
    if (isIORedis(client)) sent = client.call(name, ...args);
    else {
      const strings = [name];
      for (const arg of args) strings.push(String(arg));
      sent = client.sendCommand(strings);
    }
    return new Promise((resolve, reject) => {
      const timer = startTimer(
        () =>
          reject(new RedisUnavailableError(`${label}: Redis did not answer ${name} within ${deadlineMs} ms`)),
        deadlineMs,
        true,
      );
      sent.then(
        (reply) => {
          globalThis.clearTimeout(timer);
          resolve(reply);
        },
        (error: unknown) => {
          globalThis.clearTimeout(timer);
          reject(
            isScriptMissing(error)
              ? error
              : new RedisUnavailableError(`${label}: ${name} failed: ${messageOf(error)}`, {
                  cause: error,
                }),
          );
        },
      );
    });
  }

  /**
   * Runs the package's script (EVALSHA; the script is loaded once, and again after a server restart) on the three
   * keys of one lock, `keys`, and returns its reply split into `[status, token, serverNow, serverDeadline]`
   * (serverNow `''` for a release with nobody queued), with the local time the command was sent.
   */
  async script(
    keys: readonly [string, string, string],
    op: string,
    id: string,
    permits: number,
    deadlineMs: number,
    label: string,
  ): Promise<{ reply: string[]; sentAt: number }> {
    for (let attempt = 0; ; attempt++) {
      this.sha ??= this.command('SCRIPT', ['LOAD', SCRIPT], deadlineMs, label).then(String);
      const sha = this.sha;
      let hash: string;
      try {
        hash = await sha;
      } catch (error) {
        if (this.sha === sha) this.sha = undefined;
        throw error;
      }
      const sentAt = clock();
      try {
        const reply = await this.command(
          'EVALSHA',
          [hash, 3, keys[0], keys[1], keys[2], op, id, permits],
          deadlineMs,
          label,
        );
        // One string: `status token serverNow deadline`, empty fields empty.
        const strings = String(reply).split(' ');
        // A release with nobody queued does not read the server's clock.
        if (strings[2] !== '') this.offsetBound = Number(strings[2]) - sentAt;
        return { reply: strings, sentAt };
      } catch (error) {
        if (!isScriptMissing(error)) throw error;
        if (this.sha === sha) this.sha = undefined;
        if (attempt > 0)
          throw new RedisUnavailableError(`${label}: Redis lost the script twice`, { cause: error });
      }
    }
  }

  /** A local time no later than the server time `serverTime`. */
  toLocal(serverTime: number): number {
    return serverTime - this.offsetBound;
  }

  /** Whether grant notifications reach this link now (the server has confirmed its subscription). */
  isSubscribed(): boolean {
    return this.confirmed;
  }

  /** Delivers the grant of waiter `id` to `listener` from now on; resolves once notifications reach this link. */
  listen(id: string, listener: GrantListener, label: string, deadlineMs: number): Promise<void> {
    this.listeners.set(id, listener);
    if (this.subscribed === undefined) {
      const subscribed = this.subscribe(label, deadlineMs).then(
        () => {
          if (this.subscribed === subscribed) this.confirmed = true;
        },
        (error: unknown) => {
          if (this.subscribed === subscribed) this.subscribed = undefined;
          throw error;
        },
      );
      this.subscribed = subscribed;
    }
    return this.subscribed;
  }

  /** Stops delivering to waiter `id`; the subscription closes once no waiter has been left for a short linger. */
  unlisten(id: string): void {
    this.listeners.delete(id);
    if (this.listeners.size > 0) return;
    this.idleSince = clock();
    this.sweepTimer ??= startTimer(() => this.sweep(), LINGER_MS, false);
  }

  private sweep(): void {
    this.sweepTimer = undefined;
    const subscriber = this.subscriber;
    if (this.listeners.size > 0 || subscriber === undefined) return;
    // A process that waits again and again (a contended lock) keeps its subscription: the timer is not cleared at
    // each wait, it looks again here.
    const idle = clock() - this.idleSince;
    if (idle < LINGER_MS) {
      this.sweepTimer = startTimer(() => this.sweep(), LINGER_MS - idle, false);
      return;
    }
    this.subscriber = undefined;
    this.subscribed = undefined;
    this.confirmed = false;
    const connection = subscriber.connection;
    // At once, even while reconnecting (quit would wait for a server that may be gone).
    const close = (): unknown =>
      'connect' in connection
        ? (connection.destroy?.() ?? connection.disconnect?.())
        : connection.disconnect();
    void subscriber.ready.then(close).catch(() => undefined);
  }

  /** A message is `serverNow id token`: the grant of one waiter. */
  private dispatch(message: string): void {
    const [now, id, token] = message.split(' ') as [string, string, string];
    this.listeners.get(id)?.(Number(now), token);
  }

  private async subscribe(label: string, deadlineMs: number): Promise<void> {
    const subscriber = this.openSubscriber();
    const channel = this.channel;
    const subscribed = subscriber.ready.then(() =>
      subscriber.kind === 'node-redis'
        ? subscriber.connection.subscribe(channel, (message) => this.dispatch(message))
        : subscriber.connection.subscribe(channel),
    );
    await bounded(
      subscribed,
      deadlineMs,
      `${label}: Redis did not confirm SUBSCRIBE within ${deadlineMs} ms`,
    );
  }

  private openSubscriber(): Subscriber {
    if (this.subscriber !== undefined) return this.subscriber;
    const client = this.client;
    // Errors of the subscriber connection surface as the bounded failures of the calls that wait on it; without a
    // listener, node-redis would crash the process on them.
    const ignore = (): void => undefined;
    let subscriber: Subscriber;
    if (isIORedis(client)) {
      const connection = client.duplicate();
      connection.on('error', ignore);
      connection.on('message', (_channel, message) => this.dispatch(message));
      subscriber = { kind: 'ioredis', connection, ready: Promise.resolve() };
    } else {
      const connection = client.duplicate();
      connection.on('error', ignore);
      subscriber = { kind: 'node-redis', connection, ready: connection.connect().then(() => undefined) };
    }
    this.subscriber = subscriber;
    return subscriber;
  }
}

function bounded<T>(promise: Promise<T>, deadlineMs: number, message: string): Promise<T> {
  return new Promise((resolve, reject) => {
    const timer = startTimer(() => reject(new RedisUnavailableError(message)), deadlineMs, true);
    promise.then(
      (value) => {
        globalThis.clearTimeout(timer);
        resolve(value);
      },
      (error: unknown) => {
        globalThis.clearTimeout(timer);
        reject(
          error instanceof RedisUnavailableError
            ? error
            : new RedisUnavailableError(`${message.split(':')[0]}: ${messageOf(error)}`, { cause: error }),
        );
      },
    );
  });
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

function isScriptMissing(error: unknown): boolean {
  return error instanceof Error && error.message.startsWith('NOSCRIPT');
}
