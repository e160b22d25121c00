/**
 * Diagnostics: what every wait and every hold of every primitive reports, through Node's `diagnostics_channel`
 * (channels named `coop-sync:*`), and the optional record of who holds what.
 *
 * Free when unused: a wait or hold checks `hasSubscribers` on its channels (a field read) and records nothing
 * unless someone listens or holder tracking was switched on. In the default (browser) build the channels do not
 * exist (see `./diagnostics-channel.browser.ts`) and only holder tracking works.
 *
 * @module
 */

import { openChannel, type PublishChannel } from './diagnostics-channel.js';

/**
 * The names of the channels the package publishes on; subscribe with `diagnostics_channel.subscribe(name, fn)`.
 *
 * @example
 * ```ts
 * // `subscribe` is the function of Node's `diagnostics_channel` module.
 * subscribe(diagnosticsChannels.holdEnd, (message) => {
 *   const { label, held } = message as HoldMessage;
 *   if ((held ?? 0) > 1000) console.warn(`${label} was held for ${held} ms`);
 * });
 * ```
 */
export const diagnosticsChannels = {
  /** A call started to wait (it was queued): {@link WaitStartMessage}. */
  waitStart: 'coop-sync:wait:start',
  /** A waiting call was granted what it waited for: {@link WaitEndMessage}. */
  waitGranted: 'coop-sync:wait:granted',
  /** A waiting call gave up (timeout, abort, `cancelWaiters`, a broken barrier...): {@link WaitEndMessage}. */
  waitRejected: 'coop-sync:wait:rejected',
  /** A hold began (a lock, read/write hold, permits, keys): {@link HoldMessage}. */
  holdStart: 'coop-sync:hold:start',
  /** A hold ended: {@link HoldMessage} with `held`. */
  holdEnd: 'coop-sync:hold:end',
} as const;

/** Published on `coop-sync:wait:start`. */
export interface WaitStartMessage {
  /** The primitive waited on, such as `AsyncLock(db)` (for a keyed lock, the key: `AsyncKeyedLock(users)["ada"]`). */
  readonly label: string;
  /** The object the call waits on. */
  readonly primitive: object;
  /** The same object in every message about this one wait: match a start with its end. */
  readonly token: object;
}

/** Published on `coop-sync:wait:granted` and `coop-sync:wait:rejected`. */
export interface WaitEndMessage extends WaitStartMessage {
  /** How long the call waited, in milliseconds. */
  readonly waited: number;
  /** Why it gave up (`coop-sync:wait:rejected` only): the rejection reason. */
  readonly reason?: unknown;
}

/** Published on `coop-sync:hold:start` and `coop-sync:hold:end`. */
export interface HoldMessage {
  /** The primitive held, such as `AsyncRWLock(config)`. */
  readonly label: string;
  /** The primitive held. */
  readonly primitive: object;
  /** The same object in the start and the end message of this one hold. */
  readonly token: object;
  /** The kind of hold where a primitive has several: `read` or `write` for an `AsyncRWLock`. */
  readonly mode: string | undefined;
  /** The name given at acquire (`{ name }`), if any. */
  readonly name: string | undefined;
  /** How long it was held, in milliseconds (`coop-sync:hold:end` only). */
  readonly held?: number;
}

/** One current holder, as {@link describeHolders} reports it. */
export interface HolderDescription {
  /** The primitive held. */
  readonly label: string;
  /** `read` or `write` for an `AsyncRWLock`; `undefined` elsewhere. */
  readonly mode: string | undefined;
  /** The name given at acquire (`{ name }`), if any. */
  readonly name: string | undefined;
  /** How long it has been held so far, in milliseconds. */
  readonly heldFor: number;
  /** Where it was acquired (a stack trace), when stack capture is on. */
  readonly stack: string | undefined;
}

/** The acquire option that names a hold, for diagnostics: `lock.acquire({ name: 'migration' })`. */
export interface HolderNameOptions {
  /** Names this hold in {@link describeHolders} and on the `coop-sync:hold:*` channels. */
  name?: string | undefined;
}

/** What {@link configureDiagnostics} switches. */
export interface DiagnosticsOptions {
  /** Record every current holder of every primitive, for {@link describeHolders}. Default `false`. */
  holders?: boolean | undefined;
  /** With `holders`: also capture the stack of each acquisition (costly: for debugging). Default `false`. */
  stacks?: boolean | undefined;
}

/** The channels published on; `undefined` each in the default (browser) build. */
interface Channels {
  readonly waitStart: PublishChannel | undefined;
  readonly waitGranted: PublishChannel | undefined;
  readonly waitRejected: PublishChannel | undefined;
  readonly holdStart: PublishChannel | undefined;
  readonly holdEnd: PublishChannel | undefined;
}

/** Opened by the first wait or hold that asks, so that loading the module registers nothing. */
let opened: Channels | undefined;

function channels(): Channels {
  return (opened ??= {
    waitStart: openChannel(diagnosticsChannels.waitStart),
    waitGranted: openChannel(diagnosticsChannels.waitGranted),
    waitRejected: openChannel(diagnosticsChannels.waitRejected),
    holdStart: openChannel(diagnosticsChannels.holdStart),
    holdEnd: openChannel(diagnosticsChannels.holdEnd),
  });
}

let trackHolders = false;
let captureStacks = false;
/** The current holds of each primitive, while holder tracking is on. */
let holdsByPrimitive = new WeakMap<object, Set<HoldTrace>>();

/** Milliseconds from a monotonic clock, looked up at call time (so fake timers control it). */
export function now(): number {
  const performance = globalThis.performance;
  return performance === undefined ? Date.now() : performance.now();
}

/**
 * Switches holder tracking (and stack capture) on or off for every primitive. Off by default, and free when off.
 * Switching it off forgets every recorded holder.
 *
 * @param options - `holders`, `stacks`; see {@link DiagnosticsOptions}.
 * @throws TypeError - when an option is not a boolean.
 *
 * @example
 * ```ts
 * configureDiagnostics({ holders: true, stacks: process.env.DEBUG_LOCKS === '1' });
 * ```
 */
export function configureDiagnostics(options: DiagnosticsOptions): void {
  if (typeof options !== 'object' || options === null) {
    throw new TypeError(`configureDiagnostics: options must be an object, got ${String(options)}`);
  }
  for (const key of ['holders', 'stacks'] as const) {
    const value: unknown = options[key];
    if (value !== undefined && typeof value !== 'boolean') {
      throw new TypeError(`configureDiagnostics: options.${key} must be a boolean, got ${typeof value}`);
    }
  }
  if (options.holders !== undefined) {
    trackHolders = options.holders;
    if (!trackHolders) holdsByPrimitive = new WeakMap();
  }
  if (options.stacks !== undefined) captureStacks = options.stacks;
}

/** Whether waits are being traced: someone listens on a wait channel. */
export function waitsTraced(): boolean {
  // Written out as holdsTraced is: asked on every park.
  const open = opened ?? channels();
  const start = open.waitStart;
  if (start === undefined) return false;
  return (
    start.hasSubscribers ||
    (open.waitGranted as PublishChannel).hasSubscribers ||
    (open.waitRejected as PublishChannel).hasSubscribers
  );
}

/** Publishes the start of a wait on `primitive`; returns its start time. */
export function traceWaitStart(primitive: { readonly label: string }, token: object): number {
  const { waitStart } = channels();
  if (waitStart?.hasSubscribers === true) {
    const message: WaitStartMessage = { label: primitive.label, primitive, token };
    waitStart.publish(message);
  }
  return now();
}

/** Publishes the end of a wait that started at `startedAt`. */
export function traceWaitEnd(
  primitive: { readonly label: string },
  token: object,
  startedAt: number,
  granted: boolean,
  reason: unknown,
): void {
  const channel = granted ? channels().waitGranted : channels().waitRejected;
  if (channel?.hasSubscribers !== true) return;
  const waited = now() - startedAt;
  const message: WaitEndMessage = granted
    ? { label: primitive.label, primitive, token, waited }
    : { label: primitive.label, primitive, token, waited, reason };
  channel.publish(message);
}

/** One hold being traced: created only while someone listens on a hold channel or holders are tracked. */
export class HoldTrace {
  readonly since = now();
  readonly stack: string | undefined;

  constructor(
    readonly primitive: { readonly label: string },
    readonly mode: string | undefined,
    readonly name: string | undefined,
  ) {
    this.stack = captureStacks ? new Error('acquired here').stack : undefined;
  }
}

/** Whether holds are being traced now. */
export function holdsTraced(): boolean {
  if (trackHolders) return true;
  // Asked on every acquisition: written out (no destructuring, no optional chain), a twentieth of an uncontended
  // run(fn). The channels exist all together (Node build) or none at all (default build).
  const open = opened ?? channels();
  const start = open.holdStart;
  if (start === undefined) return false;
  return start.hasSubscribers || (open.holdEnd as PublishChannel).hasSubscribers;
}

/**
 * Starts tracing a hold of `primitive`, when holds are traced; `undefined` (nothing recorded) otherwise.
 *
 * @param name - the name given at acquire, if any.
 */
export function traceHoldStart(
  primitive: { readonly label: string },
  mode: string | undefined,
  name: string | undefined,
): HoldTrace | undefined {
  if (!holdsTraced()) return undefined;
  const trace = new HoldTrace(primitive, mode, name);
  if (trackHolders) {
    let holds = holdsByPrimitive.get(primitive);
    if (holds === undefined) holdsByPrimitive.set(primitive, (holds = new Set()));
    holds.add(trace);
  }
  const { holdStart } = channels();
  if (holdStart?.hasSubscribers === true) {
    const message: HoldMessage = { label: primitive.label, primitive, token: trace, mode, name };
    holdStart.publish(message);
  }
  return trace;
}

/** Ends a traced hold: publishes its duration and forgets it. */
export function traceHoldEnd(trace: HoldTrace): void {
  const holds = holdsByPrimitive.get(trace.primitive);
  if (holds !== undefined) {
    holds.delete(trace);
    if (holds.size === 0) holdsByPrimitive.delete(trace.primitive);
  }
  const { holdEnd } = channels();
  if (holdEnd?.hasSubscribers === true) {
    const { primitive, mode, name } = trace;
    const held = now() - trace.since;
    const message: HoldMessage = { label: primitive.label, primitive, token: trace, mode, name, held };
    holdEnd.publish(message);
  }
}

/**
 * Describes the current holders of `primitive` (an `AsyncLock`, `AsyncRLock`, `AsyncSemaphore`, `AsyncRWLock` or
 * `AsyncKeyedLock`), longest-held first: how long each has held it, the name given at acquire, and where it was
 * acquired when stack capture is on. Empty unless holder tracking is on ({@link configureDiagnostics}); holds taken
 * before it was switched on are not known. For an `AsyncKeyedLock`, each hold names its keys' lock; an `AsyncRLock`
 * has one entry per outermost hold, none per nested level.
 *
 * @param primitive - the primitive to describe.
 * @returns one entry per current hold.
 *
 * @example
 * ```ts
 * for (const { name, heldFor } of describeHolders(lock)) console.log(`${name ?? 'anonymous'}: ${heldFor} ms`);
 * ```
 */
export function describeHolders(primitive: object): HolderDescription[] {
  const holds = holdsByPrimitive.get(primitive);
  if (holds === undefined) return [];
  const at = now();
  return [...holds]
    .sort((a, b) => a.since - b.since)
    .map((trace) => ({
      label: trace.primitive.label,
      mode: trace.mode,
      name: trace.name,
      heldFor: at - trace.since,
      stack: trace.stack,
    }));
}
