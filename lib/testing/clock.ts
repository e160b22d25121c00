/**
 * Virtual time: the simulation's timers, kept in order, and the clock they run on (the simulation's own, or a sinon
 * fake clock). Time moves only when the loop asks, to the next timer.
 *
 * @module
 */

import { cancelTimer, clearTimer, setTimer, type HookTimer } from '../core/scheduler.js';
import type { SinonLikeClock } from './types.js';

/** What a timer does when it fires: the simulation's event. */
export interface TimedEvent {
  readonly kind: string;
  fire(): void;
}

/** A timer of the simulation; a primitive clears it through the scheduler hook's `cancelTimer`. */
export class VirtualTimer<E extends TimedEvent> implements HookTimer {
  cleared = false;
  /** The real timer that carries on a primitive's timeout after the run ended early. */
  private real: unknown = undefined;

  constructor(
    readonly at: number,
    readonly event: E,
    private readonly drop: (timer: VirtualTimer<E>) => void,
  ) {}

  /** Hands the rest of the delay to the real clock (no hook is installed any more, so `setTimer` is the real one). */
  rearm(remaining: number): void {
    this.real = setTimer(() => {
      this.real = undefined;
      this.event.fire();
    }, remaining);
  }

  [cancelTimer](): void {
    if (this.real !== undefined) {
      clearTimer(this.real);
      this.real = undefined;
    }
    if (this.cleared) return;
    this.cleared = true;
    this.drop(this);
  }
}

/** The time of a fake clock's next timer, or `undefined` when it has none. */
function nextClockTimer(clock: SinonLikeClock): number | undefined {
  if (clock.countTimers() === 0) return undefined;
  const timers = (clock as { timers?: Map<unknown, { callAt: number }> | Record<string, { callAt: number }> })
    .timers;
  if (timers === undefined) return undefined;
  let next = Infinity;
  for (const timer of timers instanceof Map ? timers.values() : Object.values(timers)) {
    if (timer.callAt < next) next = timer.callAt;
  }
  return next === Infinity ? undefined : next;
}

/** The simulation's timers and its notion of now. */
export class VirtualClock<E extends TimedEvent> {
  private readonly timers: VirtualTimer<E>[] = [];
  private virtualNow: number;
  /** `now` when the simulation was created: steps are timed from here. */
  readonly origin: number;

  constructor(readonly fake: SinonLikeClock | undefined) {
    this.virtualNow = fake === undefined ? 0 : fake.now;
    this.origin = this.virtualNow;
  }

  /** Virtual time in ms: the fake clock's `now` when there is one. */
  get now(): number {
    return this.fake === undefined ? this.virtualNow : this.fake.now;
  }

  /** How many of the simulation's own timers are pending. */
  get pending(): number {
    return this.timers.length;
  }

  /** Starts a timer that enables `event` `ms` from now. */
  add(ms: number, event: E): VirtualTimer<E> {
    const timer = new VirtualTimer(this.now + ms, event, this.drop);
    // Kept sorted by (time, creation order); timers are few, so an insertion from the back is cheap.
    let i = this.timers.length;
    while (i > 0 && this.timers[i - 1]!.at > timer.at) i--;
    this.timers.splice(i, 0, timer);
    return timer;
  }

  private readonly drop = (timer: VirtualTimer<E>): void => {
    const i = this.timers.indexOf(timer);
    if (i >= 0) this.timers.splice(i, 1);
  };

  /**
   * Moves time to the next timer (the simulation's or the fake clock's, whose own timers then run) and returns the
   * events of the simulation's timers due then, in order; `undefined` when no timer is pending.
   */
  advance(): E[] | undefined {
    const own = this.timers.length > 0 ? this.timers[0]!.at : Infinity;
    const fake = this.fake;
    if (fake !== undefined) {
      const theirs = nextClockTimer(fake);
      if (own === Infinity && theirs === undefined) return undefined;
      const target = theirs === undefined ? own : Math.min(own, theirs);
      fake.tick(Math.max(0, target - fake.now));
    } else {
      if (own === Infinity) return undefined;
      this.virtualNow = own;
    }
    const now = this.now;
    const due: E[] = [];
    while (this.timers.length > 0 && this.timers[0]!.at <= now) {
      const timer = this.timers.shift()!;
      timer.cleared = true;
      due.push(timer.event);
    }
    return due;
  }

  /**
   * The run is over: every pending timer is dropped, except the timeouts of primitives (`rearm` kinds), which carry
   * on on the real clock for the rest of their delay, so that a parked waiter still times out.
   */
  leave(rearm: (event: E) => boolean): void {
    const now = this.now;
    for (const timer of this.timers.splice(0)) {
      timer.cleared = true;
      if (rearm(timer.event)) timer.rearm(Math.max(0, timer.at - now));
    }
  }
}
