/**
 * The algorithm of `SharedLock`: a state word that names the holder (one compare-exchange each way when nobody
 * queues) in front of a FIFO queue of tickets that can be abandoned, over an {@link AtomicMemory}.
 *
 * Model. A region of `4 + capacity` words: `STATE`, `NEXT` (the next ticket to hand out), `HEAD` (the oldest ticket
 * still queued), `ROOM` (how many acquirers wait for a free slot), then one slot per ticket modulo `capacity`.
 *
 * - `STATE` is `FREE`, `FREE_DIED` (free; the next holder is told the previous owner died), `held(a)` (agent `a`
 *   holds it; with the `RECOVERING` bit when an observer is ending the hold of a dead `a`), or `HANDOFF` (handed to
 *   the ticket at `HEAD`, which has not claimed it yet). The `QUEUED` bit on a held state says "tickets may wait: the
 *   release must look at the queue". `HANDOFF` always carries it.
 * - A slot is `emptyFor(t)` (free for ticket `t`; the value changes every lap of the ring, so a stale claim fails),
 *   `WAIT(a)` (ticket taken by agent `a`, which parks on it), `OFFERED(a)` / `OFFERED_DIED(a)` (the lock is handed
 *   to it) or `ABANDONED` (its waiter gave up or died).
 *
 * Transitions.
 * - acquire: compare-exchange `STATE` from free to `held(me)`: done (the uncontended path, one operation). Else take
 *   a ticket: claim `slot(NEXT)` from `emptyFor(NEXT)` to `WAIT(me)` (taking the ticket and marking it mine are one
 *   operation; a claim that loses advances `NEXT` for the winner), advance `NEXT`, then set `QUEUED` on `STATE`
 *   (or, finding it free, take it as a proxy and release it to the head of the queue), and park on the slot.
 * - release: compare-exchange `STATE` from `held(me)` to free: done when `QUEUED` is clear (no notify). Else clear
 *   `QUEUED`, then look at `slot(HEAD)`: free for `HEAD` means nobody queues: free `STATE` (if a ticket set `QUEUED`
 *   again meanwhile, look again); `WAIT(a)`: store `HANDOFF`, offer the slot, notify that slot only; a slot
 *   abandoned (or left by a dead claimer) is emptied and `HEAD` moves on.
 * - claim (an offered waiter): `STATE` becomes `held(me)`, the slot is emptied for the next lap, `HEAD` moves on.
 * - give up: compare-exchange `WAIT(me)` to `ABANDONED`; if that fails the slot was offered first: grant wins. A
 *   release that finds its offer abandoned takes `STATE` back from `HANDOFF` and moves on.
 * - recover(dead): abandon the dead agent's waiting tickets, then end its hold (from `held(dead)`, or from
 *   `HANDOFF` with `OFFERED(dead)` at `HEAD`) by releasing it with "the previous owner died". Not covered: an agent
 *   that dies in the two steps between storing `HANDOFF` and offering the slot (the lock then stays handed over).
 *
 * Invariants: the lock is held (or handed over) exactly when `STATE` is neither free state; only whoever `STATE`
 * names (or the releaser that wrote `HANDOFF`) moves `HEAD`; tickets are claimed in order, so `slot(HEAD)` free for
 * `HEAD` means no ticket is queued; a waiter parks only after seeing `QUEUED` set, and every release that frees
 * `STATE` first clears that bit and then looks at the queue (no lost wake-up); while a ticket is parked, `STATE` is
 * never free (no barging).
 *
 * Every step below performs exactly one memory operation, so the model check can interleave agents between any
 * two of them; production runs the steps back to back ({@link TicketLock.run}), after an inlined first step.
 *
 * @module
 */

import type { AtomicMemory } from './memory.js';
import { releaseStep } from './ticket-release.js';
import {
  ABANDONED,
  agentOf,
  FREE,
  FREE_DIED,
  HANDOFF,
  HEAD,
  heldBy,
  holderOfState,
  isFree,
  kindOf,
  LOCK_HEADER_WORDS,
  NEXT,
  OFFERED_DIED,
  Pc,
  QUEUED,
  RECOVERING,
  ROOM,
  STATE,
  TAGGED,
  tag,
  Ticket,
  WAIT,
} from './ticket-state.js';

export {
  ABANDONED,
  FREE,
  FREE_DIED,
  HANDOFF,
  heldBy,
  LOCK_HEADER_WORDS,
  MAX_AGENT_ID,
  offeredValue,
  Pc,
  pcName,
  QUEUED,
  RECOVERING,
  STATE,
  Ticket,
  waitingValue,
} from './ticket-state.js';

/** The steps of the lock over one region of memory. */
export class TicketLock {
  private readonly mask: number;
  private readonly shift: number;

  /**
   * @param memory - the words (zeroed: a free lock with ticket 0 next).
   * @param base - index of the region's first word.
   * @param capacity - slots; a power of two, at least 1.
   */
  constructor(
    readonly memory: AtomicMemory,
    readonly base: number,
    readonly capacity: number,
  ) {
    this.mask = capacity - 1;
    this.shift = 31 - Math.clz32(capacity);
  }

  /** The index of the slot of ticket `ticket`. */
  slot(ticket: number): number {
    return this.base + LOCK_HEADER_WORDS + (ticket & this.mask);
  }

  /** The value of a slot that ticket `ticket` may claim (it changes with every lap of the ring). */
  emptyFor(ticket: number): number {
    return -(ticket >>> this.shift) | 0;
  }

  /** Where a parked ticket waits, and the value it expects there. */
  waitIndex(w: Ticket): number {
    return w.pc === Pc.Parked ? this.slot(w.ticket) : this.base + HEAD;
  }

  waitValue(w: Ticket): number {
    return w.pc === Pc.Parked ? tag(w.agent, WAIT) : w.head;
  }

  /** Sets `w` up to run from `pc` for `agent`. */
  begin(w: Ticket, pc: Pc, agent: number): Ticket {
    w.pc = pc;
    w.agent = agent;
    w.ticket = 0;
    w.head = 0;
    w.value = pc === Pc.AcqFast || pc === Pc.TryFast ? FREE : 0;
    w.own = heldBy(agent);
    w.died = false;
    w.previousOwnerDied = false;
    w.proxy = false;
    w.queued = false;
    w.recovered = false;
    w.handed = false;
    w.viaQueue = false;
    return w;
  }

  /** Sets `w` up as if its {@link Pc.AcqFast} step had just read `seen` (the driver inlines that step). */
  afterFast(w: Ticket, agent: number, seen: number): Ticket {
    this.begin(w, Pc.AcqFast, agent);
    w.value = seen;
    if (!isFree(seen)) w.pc = Pc.TakeLoadNext;
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
      case Pc.AcqFast:
      case Pc.TryFast: {
        // w.value: the free state expected (FREE first; FREE_DIED once seen).
        const seen = m.compareExchange(base + STATE, w.value, w.own);
        if (seen === w.value) {
          w.previousOwnerDied = seen === FREE_DIED;
          w.pc = Pc.Holds;
        } else {
          w.value = seen;
          if (!isFree(seen)) w.pc = w.pc === Pc.TryFast ? Pc.Busy : Pc.TakeLoadNext;
        }
        return;
      }
      case Pc.TakeLoadNext:
        w.ticket = m.load(base + NEXT);
        w.pc = Pc.TakeLoadHead;
        return;
      case Pc.TakeLoadHead: {
        const head = m.load(base + HEAD);
        if (((w.ticket - head) | 0) >= this.capacity) {
          w.head = head;
          w.pc = Pc.RoomAnnounce;
        } else w.pc = Pc.TakeClaim;
        return;
      }
      case Pc.TakeClaim: {
        // Taking the ticket and marking it mine, in one operation: no window in which it is taken but nameless.
        const empty = this.emptyFor(w.ticket);
        w.pc =
          m.compareExchange(this.slot(w.ticket), empty, tag(w.agent, WAIT)) === empty
            ? Pc.TakeAdvance
            : Pc.TakeHelp;
        return;
      }
      case Pc.TakeHelp: {
        // Another agent claimed this ticket: advance NEXT for it (it may not have yet), and try the next one.
        const seen = m.compareExchange(base + NEXT, w.ticket, (w.ticket + 1) | 0);
        w.ticket = seen === w.ticket ? (w.ticket + 1) | 0 : seen;
        w.pc = Pc.TakeLoadHead;
        return;
      }
      case Pc.TakeAdvance:
        m.compareExchange(base + NEXT, w.ticket, (w.ticket + 1) | 0); // fails only when another agent helped
        w.pc = Pc.Flag;
        return;
      case Pc.Flag: {
        // w.value: the state last seen.
        const guess = w.value;
        if (isFree(guess)) {
          // Released since: take it as a proxy of the queue and release it to the head (maybe this ticket).
          const seen = m.compareExchange(base + STATE, guess, w.own);
          if (seen === guess) {
            w.queued = true;
            w.proxy = true;
            w.died = guess === FREE_DIED;
            w.pc = Pc.RelLoadHead;
          } else w.value = seen;
        } else if ((guess & QUEUED) !== 0) {
          const seen = m.load(base + STATE);
          if (seen === guess) {
            w.queued = true;
            w.pc = Pc.Parked;
          } else w.value = seen;
        } else {
          const seen = m.compareExchange(base + STATE, guess, guess | QUEUED);
          if (seen === guess) {
            w.queued = true;
            w.pc = Pc.Parked;
          } else w.value = seen;
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
          w.head = head;
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
      case Pc.Poll: {
        const seen = m.load(this.slot(w.ticket));
        if (seen === tag(w.agent, WAIT)) w.pc = Pc.Parked;
        else this.granted(w, seen);
        return;
      }
      case Pc.Claim:
        w.viaQueue = true;
        m.store(base + STATE, w.own | QUEUED);
        w.pc = Pc.ClaimClear;
        return;
      case Pc.ClaimClear:
        m.store(this.slot(w.ticket), this.emptyFor((w.ticket + this.capacity) | 0));
        w.pc = Pc.ClaimHead;
        return;
      case Pc.ClaimHead:
        m.store(base + HEAD, (w.ticket + 1) | 0);
        w.pc = Pc.ClaimRoom;
        return;
      case Pc.ClaimRoom:
        w.pc = m.load(base + ROOM) > 0 ? Pc.ClaimRoomNotify : Pc.Holds;
        if (w.pc === Pc.Holds) w.queued = false;
        return;
      case Pc.ClaimRoomNotify:
        m.notify(base + HEAD, Infinity);
        w.queued = false;
        w.pc = Pc.Holds;
        return;
      case Pc.Abandon: {
        const seen = m.compareExchange(this.slot(w.ticket), tag(w.agent, WAIT), ABANDONED);
        if (seen === tag(w.agent, WAIT)) {
          w.queued = false; // out of the queue from here on
          w.pc = Pc.AbandonWake;
        } else this.granted(w, seen); // grant wins
        return;
      }
      case Pc.AbandonWake:
        // Ends this agent's own pending wait on the slot (an async wait cannot be withdrawn otherwise).
        m.notify(this.slot(w.ticket), 1);
        w.pc = Pc.GaveUp;
        return;
      default:
        releaseStep(this, w);
    }
  }

  /** Sets `w` up to release the hold of `agent` (ends in {@link Pc.Released}, or {@link Pc.NotHeld}). */
  beginRelease(w: Ticket, agent: number): Ticket {
    this.begin(w, Pc.RelFast, agent);
    return w;
  }

  /** Sets `w` up to recover the hold of dead `agent`. */
  beginRecover(w: Ticket, agent: number): Ticket {
    this.begin(w, Pc.RecoverScanHead, agent);
    w.own = heldBy(agent) | RECOVERING;
    return w;
  }

  /** `seen` is a grant for `w`'s ticket: claim it (no memory operation here; the claim is the next step). */
  private granted(w: Ticket, seen: number): void {
    if (seen >= TAGGED && agentOf(seen) === w.agent && kindOf(seen) !== WAIT) {
      w.previousOwnerDied = kindOf(seen) === OFFERED_DIED;
      w.pc = Pc.Claim;
    } else {
      throw new Error(`TicketLock: ticket ${w.ticket} found its slot in state ${seen}`);
    }
  }

  /** Whether the lock is held (or being handed over) now. */
  locked(): boolean {
    return !isFree(this.memory.load(this.base + STATE));
  }

  /** How many tickets wait now (parked ones, and those waiting for room). */
  waiting(): number {
    const m = this.memory;
    const head = m.load(this.base + HEAD);
    const next = m.load(this.base + NEXT);
    let count = 0;
    // NEXT may trail HEAD for a moment (a ticket claimed by an agent that died before moving NEXT).
    const queued = Math.max(0, Math.min((next - head) | 0, this.capacity));
    for (let t = head; t !== ((head + queued) | 0); t = (t + 1) | 0) {
      const value = m.load(this.slot(t));
      if (value >= TAGGED && kindOf(value) === WAIT) count++;
    }
    return count + m.load(this.base + ROOM);
  }

  /** The agent holding the lock now (or being handed it), or `undefined`. */
  holder(): number | undefined {
    const state = this.memory.load(this.base + STATE);
    if (state === HANDOFF) {
      const value = this.memory.load(this.slot(this.memory.load(this.base + HEAD)));
      return value >= TAGGED ? agentOf(value) : undefined;
    }
    return isFree(state) ? undefined : holderOfState(state);
  }
}
