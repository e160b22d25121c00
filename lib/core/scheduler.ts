/**
 * The one scheduler hook that every wake-up and every timer of every primitive passes through.
 *
 * In production no hook is installed: a settled waiter is resumed at once (its promise is resolved in the same
 * synchronous step as the grant) and timers go straight to `globalThis.setTimeout`, looked up at call time so that
 * `sinon.useFakeTimers()` controls them. The test harness (`coop-sync/testing`) installs a hook to decide the order
 * in which woken tasks resume and when timers fire. Primitives never see the difference.
 *
 * The hook lives in a global slot keyed by `Symbol.for`, so that the ESM and CJS copies of the package (or two
 * bundles of it) share one hook.
 *
 * @module
 */

import { createContextVariable, type ContextVariable } from './context.js';

/** What the scheduler knows about a waiter: enough for a harness to say who waits on what, and why it woke. */
export interface ParkedWaiter {
  /** The primitive the waiter is queued on now (it changes when a condition moves it to its lock), or
   *  `undefined` once it has been settled. */
  readonly waitingOn: object | undefined;
  /** Once settled: whether it was granted (its call will resolve) rather than rejected. */
  readonly granted: boolean;
  /** Once settled and until resumed: the value its call resolves to, or the reason it rejects with. */
  readonly outcome: unknown;
  /** Delivers the settled outcome to the waiting task. Called by the hook exactly once, after `wake`. */
  resume(): void;
}

/** The key of the method by which a timer handle clears itself (shared by every copy of the package). */
export const cancelTimer = Symbol.for('coop-sync.cancelTimer');

/**
 * A timer started by a hook. It clears itself, so a timer started while a hook was installed is cleared by that
 * hook even after the hook was removed.
 */
export interface HookTimer {
  [cancelTimer](): void;
}

/** A hook that takes over wake-ups and timers: the harness's side of the contract. */
export interface SchedulerHook {
  /** A waiter was queued. Called synchronously, inside the call that parks. */
  parked(waiter: ParkedWaiter): void;
  /**
   * A waiter was settled (granted, timed out or aborted) by the queue of `from`: its state has already changed, so
   * no other caller can take what it was granted. The hook calls `waiter.resume()` exactly once, when it chooses to.
   */
  wake(waiter: ParkedWaiter, from: object): void;
  /**
   * Starts a timer; `callback` runs once after `ms` (virtual) milliseconds unless cleared.
   *
   * @param waiter - the waiter whose timeout this is, if it is one.
   */
  setTimer(callback: () => void, ms: number, waiter: ParkedWaiter | undefined): HookTimer;
  /** The hook's current (virtual) time in ms, read by primitives that measure time (a rate limiter). */
  now?(): number;
}

interface HookSlot {
  hook: SchedulerHook | undefined;
}

const slotKey = Symbol.for('coop-sync.scheduler');

/** The global slot, once this copy of the package has looked it up (at its first call, never at load). */
let found: HookSlot | undefined;

/** The slot every copy of the package shares, created by the first copy that needs it. */
function slot(): HookSlot {
  if (found !== undefined) return found;
  const slots = globalThis as typeof globalThis & { [slotKey]?: HookSlot };
  return (found = slots[slotKey] ??= { hook: undefined });
}

/** The installed hook, or `undefined` in production. */
export function currentHook(): SchedulerHook | undefined {
  return slot().hook;
}

/**
 * Installs `hook` (or removes it, with `undefined`) and returns the one it replaced. Used by the harness only.
 */
export function installHook(hook: SchedulerHook | undefined): SchedulerHook | undefined {
  const shared = slot();
  const previous = shared.hook;
  shared.hook = hook;
  return previous;
}

/**
 * A wake-up that no wait preceded, such as a task's start: `resume` runs on a later microtask (in production, the
 * next one), never inside the call. Under a hook it is a choice point like any other wake-up, reported as a waiter
 * parked on `from` and granted at once; nothing is queued and, in production, nothing but one promise is made.
 */
export function wakeUnasked(from: object, resume: () => void): void {
  const hook = slot().hook;
  if (hook === undefined) {
    void Promise.resolve().then(resume);
    return;
  }
  const wake = new UnaskedWake(from, resume);
  hook.parked(wake);
  wake.waitingOn = undefined;
  hook.wake(wake, from);
}

/** The waiter that {@link wakeUnasked} reports to a hook: granted from the start, with nothing to deliver. */
class UnaskedWake implements ParkedWaiter {
  readonly granted = true;
  readonly outcome = undefined;

  constructor(
    public waitingOn: object | undefined,
    private readonly start: () => void,
  ) {}

  resume(): void {
    void Promise.resolve().then(this.start);
  }
}

/**
 * Whether timers started in the calling context must not keep a Node process alive: true inside a daemon task
 * (`TaskGroup.spawn(fn, { daemon: true })`), across its awaits. `undefined` where the runtime has no async context,
 * `null` until first needed.
 */
let detachedTimersVariable: ContextVariable<boolean> | undefined | null = null;

/** {@link detachedTimersVariable}, created at the first call (never at load); `undefined` without async context. */
function detachedTimers(): ContextVariable<boolean> | undefined {
  if (detachedTimersVariable === null) detachedTimersVariable = createContextVariable<boolean>(true);
  return detachedTimersVariable;
}

/**
 * Calls `fn` in a context whose timers (every timeout, sleep and poll of every primitive) do, or do not, keep a
 * Node process alive. Used by `TaskGroup` for daemon tasks; a non-daemon task spawned from a daemon sets it back.
 */
export function withDetachedTimers<R>(detached: boolean, fn: () => R): R {
  const variable = detachedTimers();
  if (variable === undefined) return fn();
  // Entering a context turns on Node 20's async hooks for every promise of the process, for good: a program without
  // daemon tasks never pays for them.
  if (!detached && variable.get() !== true) return fn();
  return variable.run(detached, fn);
}

/** Whether the calling context is a daemon task's (its timers do not keep a Node process alive). */
export function inDetachedContext(): boolean {
  return detachedTimers()?.get() === true;
}

/** Lets a Node timer handle stop keeping the process alive; does nothing to handles without `unref`. */
function unref(handle: unknown): void {
  const method = (handle as { unref?: unknown }).unref;
  if (typeof method === 'function') method.call(handle);
}

/** `setTimeout`'s largest delay; longer waits are chained. */
const maxTimerDelay = 2 ** 31 - 1;

/** A timer longer than `setTimeout` allows, re-armed in slices until its full delay has passed. */
class LongTimer implements HookTimer {
  private handle: unknown;
  private remaining: number;

  constructor(
    private readonly callback: () => void,
    ms: number,
    private readonly detached: boolean,
  ) {
    this.remaining = ms;
    this.handle = this.arm();
  }

  private arm(): unknown {
    const slice = Math.min(this.remaining, maxTimerDelay);
    this.remaining -= slice;
    const handle = globalThis.setTimeout(() => {
      if (this.remaining > 0) this.handle = this.arm();
      else this.callback();
    }, slice);
    if (this.detached) unref(handle);
    return handle;
  }

  [cancelTimer](): void {
    globalThis.clearTimeout(this.handle as ReturnType<typeof setTimeout>);
  }
}

/**
 * Starts a timer through the hook, or through `globalThis.setTimeout` looked up now (never captured at load).
 * Delays above 2^31-1 ms are honoured in full. Started inside a daemon task, it does not keep Node alive.
 *
 * @param waiter - the waiter whose timeout this is, if it is one (named in the harness's trace).
 */
export function setTimer(callback: () => void, ms: number, waiter?: ParkedWaiter): unknown {
  const hook = slot().hook;
  if (hook !== undefined) return hook.setTimer(callback, ms, waiter);
  const detached = detachedTimers()?.get() === true;
  if (ms > maxTimerDelay) return new LongTimer(callback, ms, detached);
  const handle = globalThis.setTimeout(callback, ms);
  if (detached) unref(handle);
  return handle;
}

/**
 * The current time in ms: the hook's virtual time under the harness, else `Date.now()` looked up now (never
 * captured at load), so that fake timers control it too. It may step back in production (a clock adjustment).
 */
export function now(): number {
  const hook = slot().hook;
  return hook?.now === undefined ? Date.now() : hook.now();
}

/** Clears a timer started by {@link setTimer}, whatever hook is installed now. */
export function clearTimer(handle: unknown): void {
  if (typeof handle === 'object' && handle !== null && cancelTimer in handle)
    (handle as HookTimer)[cancelTimer]();
  else globalThis.clearTimeout(handle as ReturnType<typeof setTimeout>);
}
