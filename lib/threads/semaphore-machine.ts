/**
 * The algorithm of `SharedSemaphore`: a weighted, head-of-line FIFO semaphore over an {@link AtomicMemory}, without a
 * lock. Every step performs exactly one memory operation, so the model check (spec/threads/semaphore-model.spec.ts)
 * can interleave agents between any two of them; production runs the steps back to back ({@link SemaphoreMachine.run}).
 *
 * Model. A region of `4 + capacity` words: `STATE`, `NEXT` (the next ticket to hand out), `SERVING` (the ticket at
 * the head of the queue), one unused word, then one slot per ticket modulo `capacity`.
 *
 * - `STATE` packs the free permits (low 22 bits) and the number of queued acquisitions (`count`, the bits above).
 *   Taking permits from the free state and joining the queue are compare-exchanges on this one word, so "nobody
 *   queues" and "enough permits" are decided together: no newcomer takes permits while a ticket is queued.
 * - A slot is `EMPTY` (its ticket queues, or is not handed out) or `ABANDONED` (its waiter gave up behind the head).
 *
 * Transitions.
 * - acquire: read `STATE`; with `count` 0 and enough permits, compare-exchange them away: done. Else join (`count`
 *   + 1), take a ticket (`NEXT` + 1) and wait for `SERVING` to reach it. The head reads `STATE` and, with enough
 *   permits, takes them and leaves the queue in one compare-exchange (permits - p, `count` - 1); with too few, it
 *   waits on the very value it read (a release changes it and notifies), never on one read again later (the lost
 *   wake-up of 09b38b3). Then it advances `SERVING` and notifies the waiters behind it.
 * - advance: store `SERVING`, notify; if the new head's slot is `ABANDONED`, empty it (a compare-exchange: the
 *   waiter that gave up may race for it), take its `count` back, and advance again.
 * - give up behind the head: mark the slot `ABANDONED`, then look at `SERVING`: if it reached this ticket meanwhile,
 *   win the slot back (the same compare-exchange race) and advance past itself; else the advance will skip it.
 *   Give up at the head: take the `count` back and advance.
 * - release: add the permits to `STATE`; notify its waiters (only the head waits there) when `count` was not 0.
 *
 * Invariants: `count` is the number of tickets taken (or about to be) and not yet settled, and tickets settle in
 * order (at `SERVING`), so at most `capacity` are out and a slot is `EMPTY` before it is reused; only the head
 * takes permits while `count` is not 0 (head-of-line FIFO); an abandoned slot is emptied by exactly one agent.
 *
 * @module
 */

import type { AtomicMemory } from './memory.js';

export const STATE = 0;
export const NEXT = 1;
export const SERVING = 2;
/** Words before the slots. */
export const SEMAPHORE_HEADER_WORDS = 4;

/** One queued acquisition in `STATE`'s count. */
export const ONE_QUEUED = 1 << 22;
/** The largest number of permits `STATE` can carry. */
export const MAX_PERMITS = ONE_QUEUED - 1;
export const permitsOf = (state: number) => state & MAX_PERMITS;
export const queuedOf = (state: number) => state >>> 22;

/** Slot values. */
export const EMPTY = 0;
export const ABANDONED = 1;

/** Where a {@link SemaphoreTicket} is: a resting state (`Released` and below) or the step it takes next. */
export const SemPc = {
  /** Resting: holds its permits. */
  Holds: 0,
  /** Resting: waits for `SERVING` to change from `value`. */
  ParkedBehind: 1,
  /** Resting: the head, waits for `STATE` to change from `value`. */
  ParkedHead: 2,
  /** Resting: gave up without permits. */
  GaveUp: 3,
  /** Resting: `tryAcquire` found too few permits, or a queue. */
  Busy: 4,
  /** Resting: `capacity` acquisitions queue already. */
  Full: 5,
  /** Resting: the permits are back. */
  Released: 6,
  Read: 7,
  Enter: 8,
  Join: 9,
  TakeTicket: 10,
  LookServing: 11,
  HeadLoad: 12,
  HeadTake: 13,
  Advance: 14,
  AdvanceNotify: 15,
  AdvanceLook: 16,
  AdvanceSkip: 17,
  AdvanceUncount: 18,
  AbandonMark: 19,
  AbandonCheck: 20,
  AbandonReclaim: 21,
  AbandonUncount: 22,
  Release: 23,
  ReleaseNotify: 24,
} as const;
export type SemPc = (typeof SemPc)[keyof typeof SemPc];

/** The name of a {@link SemPc} value, for messages. */
export function semPcName(pc: SemPc): string {
  return Object.keys(SemPc).find((name) => SemPc[name as keyof typeof SemPc] === pc) ?? String(pc);
}

/** One acquisition or release in progress: the registers of the state machine. */
export class SemaphoreTicket {
  pc: SemPc = SemPc.Holds;
  agent = 0;
  permits = 1;
  /** Only look (`tryAcquire`): never join the queue. */
  tryOnly = false;
  /** The ticket taken; -1 before. */
  ticket = -1;
  /** The last value read: `STATE`, or `SERVING` while parked behind. */
  value = 0;
  /** The ticket an advance moves `SERVING` to. */
  next = 0;
  /** Joined the queue (counted in `STATE`) and not settled yet. */
  queued = false;
  /** Where an advance ends: `Holds` after a take, `GaveUp` after giving up. */
  after: SemPc = SemPc.Holds;
}

/** The steps of the semaphore over one region of memory. */
export class SemaphoreMachine {
  private readonly mask: number;

  /**
   * @param memory - the words (`STATE` holding the initial permits, the rest zeroed).
   * @param base - index of the region's first word.
   * @param capacity - slots; a power of two, at most 256.
   */
  constructor(
    readonly memory: AtomicMemory,
    readonly base: number,
    readonly capacity: number,
  ) {
    this.mask = capacity - 1;
  }

  slot(ticket: number): number {
    return this.base + SEMAPHORE_HEADER_WORDS + (ticket & this.mask);
  }

  /** Sets `w` up to acquire `permits` for `agent` (from a read of `STATE`). */
  begin(w: SemaphoreTicket, agent: number, permits: number, tryOnly = false): SemaphoreTicket {
    w.pc = SemPc.Read;
    w.agent = agent;
    w.permits = permits;
    w.tryOnly = tryOnly;
    w.ticket = -1;
    w.value = 0;
    w.next = 0;
    w.queued = false;
    w.after = SemPc.Holds;
    return w;
  }

  /** Sets `w` up as if its {@link SemPc.Read} step had just read `seen` (the driver inlines that step). */
  afterRead(
    w: SemaphoreTicket,
    agent: number,
    permits: number,
    seen: number,
    tryOnly = false,
  ): SemaphoreTicket {
    this.begin(w, agent, permits, tryOnly);
    this.decide(w, seen);
    return w;
  }

  /** Sets `w` up to give `permits` back. */
  beginRelease(w: SemaphoreTicket, agent: number, permits: number): SemaphoreTicket {
    this.begin(w, agent, permits);
    w.pc = SemPc.Release;
    return w;
  }

  /** Runs steps until `w` rests. */
  run(w: SemaphoreTicket): SemPc {
    while (w.pc > SemPc.Released) this.step(w);
    return w.pc;
  }

  /** Where a parked ticket waits, and the value it expects there. */
  waitIndex(w: SemaphoreTicket): number {
    return this.base + (w.pc === SemPc.ParkedHead ? STATE : SERVING);
  }

  /** A parked ticket was woken (or may have been): look again. */
  wake(w: SemaphoreTicket): void {
    w.pc = w.pc === SemPc.ParkedHead ? SemPc.HeadLoad : SemPc.LookServing;
  }

  /** A parked ticket gives up; {@link SemaphoreMachine.run} then ends in {@link SemPc.GaveUp}. */
  cancel(w: SemaphoreTicket): void {
    w.after = SemPc.GaveUp;
    w.pc = w.pc === SemPc.ParkedHead ? SemPc.AbandonUncount : SemPc.AbandonMark;
  }

  /** After reading `STATE` as `seen`: take the permits, join the queue, or rest (no memory operation). */
  private decide(w: SemaphoreTicket, seen: number): void {
    w.value = seen;
    if (queuedOf(seen) === 0 && permitsOf(seen) >= w.permits) w.pc = SemPc.Enter;
    else if (w.tryOnly) w.pc = SemPc.Busy;
    else if (queuedOf(seen) >= this.capacity) w.pc = SemPc.Full;
    else w.pc = SemPc.Join;
  }

  /** Performs one step of `w`: exactly one memory operation. */
  step(w: SemaphoreTicket): void {
    const m = this.memory;
    const base = this.base;
    switch (w.pc) {
      case SemPc.Read:
        this.decide(w, m.load(base + STATE));
        return;
      case SemPc.Enter: {
        const seen = m.compareExchange(base + STATE, w.value, w.value - w.permits);
        if (seen === w.value) w.pc = SemPc.Holds;
        else this.decide(w, seen);
        return;
      }
      case SemPc.Join: {
        const seen = m.compareExchange(base + STATE, w.value, w.value + ONE_QUEUED);
        if (seen === w.value) {
          w.queued = true;
          w.pc = SemPc.TakeTicket;
        } else this.decide(w, seen); // may find it takeable now
        return;
      }
      case SemPc.TakeTicket:
        w.ticket = m.add(base + NEXT, 1);
        w.pc = SemPc.LookServing;
        return;
      case SemPc.LookServing: {
        const serving = m.load(base + SERVING);
        w.value = serving;
        w.pc = serving === w.ticket ? SemPc.HeadLoad : SemPc.ParkedBehind;
        return;
      }
      case SemPc.HeadLoad: {
        // Waits (if it must) on this very value: a release after this read changes it, so the wait cannot miss it.
        w.value = m.load(base + STATE);
        w.pc = permitsOf(w.value) >= w.permits ? SemPc.HeadTake : SemPc.ParkedHead;
        return;
      }
      case SemPc.HeadTake: {
        // Takes the permits and leaves the queue in one operation.
        const seen = m.compareExchange(base + STATE, w.value, w.value - w.permits - ONE_QUEUED);
        if (seen === w.value) {
          w.queued = false;
          w.next = (w.ticket + 1) | 0;
          w.pc = SemPc.Advance;
        } else {
          w.value = seen;
          w.pc = permitsOf(seen) >= w.permits ? SemPc.HeadTake : SemPc.ParkedHead;
        }
        return;
      }
      case SemPc.Advance:
        m.store(base + SERVING, w.next);
        w.pc = SemPc.AdvanceNotify;
        return;
      case SemPc.AdvanceNotify:
        m.notify(base + SERVING, Infinity);
        w.pc = SemPc.AdvanceLook;
        return;
      case SemPc.AdvanceLook:
        w.pc = m.load(this.slot(w.next)) === ABANDONED ? SemPc.AdvanceSkip : w.after;
        return;
      case SemPc.AdvanceSkip:
        // The waiter that gave up may be winning its slot back (it saw SERVING reach it): one of us advances.
        w.pc =
          m.compareExchange(this.slot(w.next), ABANDONED, EMPTY) === ABANDONED
            ? SemPc.AdvanceUncount
            : w.after;
        return;
      case SemPc.AdvanceUncount:
        m.add(base + STATE, -ONE_QUEUED);
        w.next = (w.next + 1) | 0;
        w.pc = SemPc.Advance;
        return;
      case SemPc.AbandonMark: {
        const seen = m.compareExchange(this.slot(w.ticket), EMPTY, ABANDONED);
        if (seen !== EMPTY) throw new Error(`SemaphoreMachine: slot of ticket ${w.ticket} in state ${seen}`);
        w.queued = false;
        w.pc = SemPc.AbandonCheck;
        return;
      }
      case SemPc.AbandonCheck:
        w.pc = m.load(base + SERVING) === w.ticket ? SemPc.AbandonReclaim : SemPc.GaveUp;
        return;
      case SemPc.AbandonReclaim:
        w.pc =
          m.compareExchange(this.slot(w.ticket), ABANDONED, EMPTY) === ABANDONED
            ? SemPc.AbandonUncount
            : SemPc.GaveUp;
        return;
      case SemPc.AbandonUncount:
        m.add(base + STATE, -ONE_QUEUED);
        w.queued = false;
        w.next = (w.ticket + 1) | 0;
        w.pc = SemPc.Advance;
        return;
      case SemPc.Release:
        w.pc = queuedOf(m.add(base + STATE, w.permits)) > 0 ? SemPc.ReleaseNotify : SemPc.Released;
        return;
      case SemPc.ReleaseNotify:
        m.notify(base + STATE, Infinity);
        w.pc = SemPc.Released;
        return;
      default:
        throw new Error(`SemaphoreMachine: no step from state ${w.pc}`);
    }
  }

  /** The permits free now. */
  value(): number {
    return permitsOf(this.memory.load(this.base + STATE));
  }

  /** How many acquisitions queue now (those that gave up and are not skipped yet left out). */
  waiting(): number {
    const m = this.memory;
    let count = queuedOf(m.load(this.base + STATE));
    const end = m.load(this.base + NEXT);
    const serving = m.load(this.base + SERVING);
    const span = Math.max(0, Math.min((end - serving) | 0, this.capacity));
    for (let t = serving; t !== ((serving + span) | 0); t = (t + 1) | 0) {
      if (m.load(this.slot(t)) === ABANDONED) count--;
    }
    return Math.max(0, count);
  }
}
