/**
 * The algorithm of `SharedLock`: a FIFO ticket lock whose tickets can be abandoned, over an {@link AtomicMemory}.
 *
 * Model. A region of `4 + capacity` words: `NEXT` (the next ticket to hand out), `HEAD` (the ticket that holds the
 * lock or is being offered it), `ROOM` (how many acquirers wait for a free slot), then one slot per ticket modulo
 * `capacity`. A slot is `EMPTY`, `GRANTED` (offered to a ticket nobody has claimed yet), `ABANDONED` (its waiter
 * gave up), or tagged with an agent id: `WAIT(a)` (agent `a` parks on it), `OFFERED(a)` (granted to that parked
 * waiter), `HELD(a)`. `*_DIED` variants of the grants carry "the previous owner died".
 *
 * - acquire: take ticket `t` with a compare-exchange on `NEXT` (only while `NEXT - HEAD < capacity`, so no two live
 *   tickets share a slot), then claim the slot if it is granted, else mark it `WAIT(me)` and park on it.
 * - release of ticket `h`: empty its slot, set `HEAD = h + 1`, offer that slot (compare-exchange from whatever
 *   state it is in); an `ABANDONED` slot is emptied and the next ticket is offered instead.
 * - give up: compare-exchange `WAIT(me)` to `ABANDONED`; if that fails the slot was offered first: grant wins.
 *
 * Invariants: exactly one ticket in `[HEAD, NEXT]` is granted, offered or held; tickets are served in the order
 * they were taken; a slot is only written by its ticket's owner or by the (single) releaser.
 *
 * Every step below performs exactly one memory operation, so the model check can interleave agents between any
 * two of them; production runs the steps back to back ({@link TicketLock.run}).
 *
 * @module
 */

import type { AtomicMemory } from './memory.js';

const NEXT = 0;
const HEAD = 1;
const ROOM = 2;
/** Words before the slots. */
export const LOCK_HEADER_WORDS = 4;

export const EMPTY = 0;
export const GRANTED = 1;
export const GRANTED_DIED = 2;
export const ABANDONED = 3;
const TAGGED = 8;
const WAIT = 0;
const HELD = 1;
const OFFERED = 2;
const OFFERED_DIED = 3;
/** The largest agent id a slot can carry. */
export const MAX_AGENT_ID = (0x7fffffff - TAGGED) >> 2;

const tag = (agent: number, kind: number) => TAGGED + agent * 4 + kind;
/** The slot value of a ticket that `agent` parks with. */
export const waitingValue = (agent: number) => tag(agent, WAIT);
/** The slot value of a ticket that `agent` holds. */
export const heldValue = (agent: number) => tag(agent, HELD);
const kindOf = (value: number) => (value - TAGGED) & 3;
const agentOf = (value: number) => (value - TAGGED) >> 2;

/** Where a {@link Ticket} is: a resting state (`HOLDS` and below) or the step it takes next. */
export const Pc = {
  /** Resting: the ticket holds the lock. */
  Holds: 0,
  /** Resting: parked on its slot; wake with {@link TicketLock.wake}, give up with {@link TicketLock.cancel}. */
  Parked: 1,
  /** Resting: parked until a slot frees up (too many tickets out). */
  ParkedForRoom: 2,
  /** Resting: gave up without the lock. */
  GaveUp: 3,
  /** Resting: `tryTake` found the lock taken. */
  Busy: 4,
  /** Resting: released (or recovered); `recovered` tells which. */
  Released: 5,
  /** Resting: `recover` found no hold of that agent. */
  NotHeld: 6,
  TakeLoadNext: 7,
  TakeLoadHead: 8,
  TakeCompareExchange: 9,
  RoomAnnounce: 10,
  RoomCheck: 11,
  RoomLeave: 12,
  RoomCancel: 13,
  TryLoadNext: 14,
  TryLoadSlot: 15,
  TryCompareExchange: 16,
  ClaimGranted: 17,
  MarkWaiting: 18,
  Claim: 19,
  Poll: 20,
  Abandon: 21,
  AbandonWake: 22,
  ReleaseClear: 23,
  RecoverLoadHead: 24,
  RecoverLoadSlot: 25,
  RecoverCompareExchange: 26,
  ReleaseHead: 27,
  ReleaseOffer: 28,
  ReleaseSkip: 29,
  ReleaseNotify: 30,
  ReleaseRoom: 31,
  ReleaseRoomNotify: 32,
} as const;
export type Pc = (typeof Pc)[keyof typeof Pc];

/** The name of a {@link Pc} value, for messages. */
export function pcName(pc: Pc): string {
  return Object.keys(Pc).find((name) => Pc[name as keyof typeof Pc] === pc) ?? String(pc);
}

/** One acquisition or release in progress: the registers of the state machine. */
export class Ticket {
  pc: Pc = Pc.Holds;
  /** The ticket taken (acquire) or being offered (release). */
  ticket = 0;
  /** The last value read, or the value a compare-exchange expects. */
  value = 0;
  /** The agent on whose behalf the machine runs. */
  agent = 0;
  /** Whether the hold that ends was recovered from a dead agent (what the next holder is told). */
  died = false;
  /** Set when the hold was granted with "the previous owner died". */
  previousOwnerDied = false;
}

/** The steps of the lock over one region of memory. */
export class TicketLock {
  private readonly mask: number;

  /**
   * @param memory - the words.
   * @param base - index of the region's first word.
   * @param capacity - slots; a power of two, at least 2.
   */
  constructor(
    readonly memory: AtomicMemory,
    readonly base: number,
    readonly capacity: number,
  ) {
    this.mask = capacity - 1;
  }

  /** Sets up a fresh region: ticket 0 is granted. */
  initialize(): void {
    this.memory.store(this.slot(0), GRANTED);
  }

  /** The index of the slot of ticket `ticket`. */
  slot(ticket: number): number {
    return this.base + LOCK_HEADER_WORDS + (ticket & this.mask);
  }

  /** Where a parked ticket waits, and the value it expects there. */
  waitIndex(w: Ticket): number {
    return w.pc === Pc.Parked ? this.slot(w.ticket) : this.base + HEAD;
  }

  waitValue(w: Ticket): number {
    return w.pc === Pc.Parked ? tag(w.agent, WAIT) : w.value;
  }

  begin(w: Ticket, pc: Pc, agent: number, ticket = 0): Ticket {
    w.pc = pc;
    w.agent = agent;
    w.ticket = ticket;
    w.value = 0;
    w.died = false;
    w.previousOwnerDied = false;
    return w;
  }

  /** Runs steps until `w` rests. */
  run(w: Ticket): Pc {
    while (w.pc > Pc.NotHeld) this.step(w);
    return w.pc;
  }

  /** A parked ticket was woken (or may have been): look again. */
  wake(w: Ticket): void {
    w.pc = w.pc === Pc.Parked ? Pc.Poll : Pc.RoomCheck;
  }

  /** A parked ticket gives up; runs to {@link Pc.GaveUp} or, when the grant came first, {@link Pc.Holds}. */
  cancel(w: Ticket): void {
    w.pc = w.pc === Pc.Parked ? Pc.Abandon : Pc.RoomCancel;
  }

  /** Performs one step of `w`: exactly one memory operation. */
  step(w: Ticket): void {
    const m = this.memory;
    const base = this.base;
    switch (w.pc) {
      case Pc.TakeLoadNext:
        w.ticket = m.load(base + NEXT);
        w.pc = Pc.TakeLoadHead;
        return;
      case Pc.TakeLoadHead: {
        const head = m.load(base + HEAD);
        if (((w.ticket - head) | 0) >= this.capacity) {
          w.value = head;
          w.pc = Pc.RoomAnnounce;
        } else w.pc = Pc.TakeCompareExchange;
        return;
      }
      case Pc.TakeCompareExchange: {
        const seen = m.compareExchange(base + NEXT, w.ticket, (w.ticket + 1) | 0);
        if (seen === w.ticket) w.pc = Pc.ClaimGranted;
        else {
          w.ticket = seen;
          w.pc = Pc.TakeLoadHead;
        }
        return;
      }
      case Pc.RoomAnnounce:
        m.add(base + ROOM, 1);
        w.pc = Pc.RoomCheck;
        return;
      case Pc.RoomCheck: {
        const head = m.load(base + HEAD);
        if (((w.ticket - head) | 0) >= this.capacity) {
          w.value = head;
          w.pc = Pc.ParkedForRoom;
        } else w.pc = Pc.RoomLeave;
        return;
      }
      case Pc.RoomLeave:
        m.add(base + ROOM, -1);
        w.pc = Pc.TakeLoadNext;
        return;
      case Pc.RoomCancel:
        m.add(base + ROOM, -1);
        w.pc = Pc.GaveUp;
        return;
      case Pc.TryLoadNext:
        w.ticket = m.load(base + NEXT);
        w.pc = Pc.TryLoadSlot;
        return;
      case Pc.TryLoadSlot: {
        const value = m.load(this.slot(w.ticket));
        w.pc = value === GRANTED || value === GRANTED_DIED ? Pc.TryCompareExchange : Pc.Busy;
        return;
      }
      case Pc.TryCompareExchange:
        // Losing this race means another agent took the granted ticket: the lock is taken.
        w.pc =
          m.compareExchange(base + NEXT, w.ticket, (w.ticket + 1) | 0) === w.ticket
            ? Pc.ClaimGranted
            : Pc.Busy;
        return;
      case Pc.ClaimGranted: {
        // The uncontended case in one step: a granted slot becomes ours.
        const seen = m.compareExchange(this.slot(w.ticket), GRANTED, tag(w.agent, HELD));
        if (seen === GRANTED) w.pc = Pc.Holds;
        else if (seen === EMPTY) w.pc = Pc.MarkWaiting;
        else this.granted(w, seen);
        return;
      }
      case Pc.MarkWaiting: {
        const seen = m.compareExchange(this.slot(w.ticket), EMPTY, tag(w.agent, WAIT));
        if (seen === EMPTY) w.pc = Pc.Parked;
        else this.granted(w, seen);
        return;
      }
      case Pc.Claim:
        m.store(this.slot(w.ticket), tag(w.agent, HELD));
        w.pc = Pc.Holds;
        return;
      case Pc.Poll: {
        const seen = m.load(this.slot(w.ticket));
        if (seen === tag(w.agent, WAIT)) w.pc = Pc.Parked;
        else this.granted(w, seen);
        return;
      }
      case Pc.Abandon: {
        const seen = m.compareExchange(this.slot(w.ticket), tag(w.agent, WAIT), ABANDONED);
        if (seen === tag(w.agent, WAIT)) w.pc = Pc.AbandonWake;
        else this.granted(w, seen); // grant wins
        return;
      }
      case Pc.AbandonWake:
        // Ends this agent's own pending wait on the slot (an async wait cannot be withdrawn otherwise).
        m.notify(this.slot(w.ticket), 1);
        w.pc = Pc.GaveUp;
        return;
      case Pc.ReleaseClear:
        m.store(this.slot(w.ticket), EMPTY);
        w.ticket = (w.ticket + 1) | 0;
        w.pc = Pc.ReleaseHead;
        return;
      case Pc.RecoverLoadHead:
        w.ticket = m.load(base + HEAD);
        w.pc = Pc.RecoverLoadSlot;
        return;
      case Pc.RecoverLoadSlot: {
        const seen = m.load(this.slot(w.ticket));
        const held = seen >= TAGGED && agentOf(seen) === w.agent && kindOf(seen) !== WAIT;
        w.value = seen;
        w.pc = held ? Pc.RecoverCompareExchange : Pc.NotHeld;
        return;
      }
      case Pc.RecoverCompareExchange:
        if (m.compareExchange(this.slot(w.ticket), w.value, EMPTY) === w.value) {
          w.died = true;
          w.ticket = (w.ticket + 1) | 0;
          w.pc = Pc.ReleaseHead;
        } else w.pc = Pc.NotHeld; // another observer recovered it first
        return;
      case Pc.ReleaseHead:
        m.store(base + HEAD, w.ticket);
        w.value = EMPTY;
        w.pc = Pc.ReleaseOffer;
        return;
      case Pc.ReleaseOffer: {
        const expected = w.value;
        const offer =
          expected === EMPTY
            ? w.died
              ? GRANTED_DIED
              : GRANTED
            : tag(agentOf(expected), w.died ? OFFERED_DIED : OFFERED);
        const seen = m.compareExchange(this.slot(w.ticket), expected, offer);
        if (seen === expected) w.pc = expected === EMPTY ? Pc.ReleaseRoom : Pc.ReleaseNotify;
        else if (seen === ABANDONED) w.pc = Pc.ReleaseSkip;
        else w.value = seen; // the waiter marked itself meanwhile: offer again, to it
        return;
      }
      case Pc.ReleaseSkip:
        m.store(this.slot(w.ticket), EMPTY);
        w.ticket = (w.ticket + 1) | 0;
        w.pc = Pc.ReleaseHead;
        return;
      case Pc.ReleaseNotify:
        m.notify(this.slot(w.ticket), 1);
        w.pc = Pc.ReleaseRoom;
        return;
      case Pc.ReleaseRoom:
        w.pc = m.load(base + ROOM) > 0 ? Pc.ReleaseRoomNotify : Pc.Released;
        return;
      case Pc.ReleaseRoomNotify:
        m.notify(base + HEAD, Infinity);
        w.pc = Pc.Released;
        return;
      default:
        throw new Error(`TicketLock: no step from state ${w.pc}`);
    }
  }

  /** `seen` is a grant for `w`'s ticket: claim it (no memory operation here; the claim is the next step). */
  private granted(w: Ticket, seen: number): void {
    if (seen === GRANTED || seen === GRANTED_DIED) {
      w.previousOwnerDied = seen === GRANTED_DIED;
      w.pc = Pc.Claim;
    } else if (seen >= TAGGED && agentOf(seen) === w.agent && kindOf(seen) >= OFFERED) {
      w.previousOwnerDied = kindOf(seen) === OFFERED_DIED;
      w.pc = Pc.Claim;
    } else {
      throw new Error(`TicketLock: ticket ${w.ticket} found its slot in state ${seen}`);
    }
  }

  /** Whether the lock is held (or being handed over) now. */
  locked(): boolean {
    const value = this.memory.load(this.slot(this.memory.load(this.base + NEXT)));
    return value !== GRANTED && value !== GRANTED_DIED;
  }

  /** How many tickets wait behind the holder now (parked ones). */
  waiting(): number {
    const m = this.memory;
    const head = m.load(this.base + HEAD);
    const next = m.load(this.base + NEXT);
    let count = 0;
    for (let t = head; t !== next; t = (t + 1) | 0) {
      const value = m.load(this.slot(t));
      if (value >= TAGGED && kindOf(value) === WAIT) count++;
    }
    return count + m.load(this.base + ROOM);
  }

  /** The agent holding the lock now (or being offered it), or `undefined`. */
  holder(): number | undefined {
    const value = this.memory.load(this.slot(this.memory.load(this.base + HEAD)));
    return value >= TAGGED && kindOf(value) !== WAIT ? agentOf(value) : undefined;
  }

  /** Marks every ticket that `agent` parked with as abandoned (it died waiting), so releases skip them. */
  abandonAll(agent: number): number {
    const m = this.memory;
    const waiting = tag(agent, WAIT);
    let count = 0;
    const next = m.load(this.base + NEXT);
    for (let t = m.load(this.base + HEAD); t !== next; t = (t + 1) | 0) {
      if (m.compareExchange(this.slot(t), waiting, ABANDONED) === waiting) count++;
    }
    return count;
  }
}
