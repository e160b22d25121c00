/**
 * The algorithm of `SharedLock`: a state word that names the holder (one compare-exchange each way when nobody
 * queues) in front of a FIFO queue of tickets that can be abandoned, over an {@link AtomicMemory}.
 *
 * Model. A region of `4 + capacity` words: `STATE`, `NEXT` (the next ticket to hand out), `HEAD` (the oldest ticket
 * still queued), `ROOM` (how many acquirers wait for a free slot), then one slot per ticket modulo `capacity`.
 *
 * - `STATE` is `FREE`, `FREE_DIED` (free; the next holder is told the previous owner died) or `held(a)`: agent `a`
 *   holds the lock, or its release has offered the lock to the ticket at `HEAD`, which has not claimed it yet (there
 *   is no anonymous "handed over" state: `STATE` names an agent until the next holder writes its own name). A held
 *   state has the `RECOVERING` bit when an observer is ending the hold of a dead `a`, and the `QUEUED` bit when
 *   "tickets may wait: the release must look at the queue".
 * - A slot is `emptyFor(t)` (free for ticket `t`; the value changes every lap of the ring, so a stale claim fails),
 *   `WAIT(a)` (ticket taken by agent `a`, which parks on it), `OFFERED(a)` / `OFFERED_DIED(a)` (the lock is handed
 *   to it), `RECLAIMED(a)` (handed to `a`, which died; a recovery claimed it for `a`) or `ABANDONED` (its waiter
 *   gave up or died).
 *
 * Transitions.
 * - acquire: compare-exchange `STATE` from free to `held(me)`: done (the uncontended path, one operation). Else take
 *   a ticket: claim `slot(NEXT)` from `emptyFor(NEXT)` to `WAIT(me)` (taking the ticket and marking it mine are one
 *   operation; a claim that loses advances `NEXT` for the winner), advance `NEXT`, then set `QUEUED` on `STATE`
 *   (or, finding it free, take it as a proxy and release it to the head of the queue), and park on the slot.
 * - release: compare-exchange `STATE` from `held(me)` to free: done when `QUEUED` is clear (no notify). Else clear
 *   `QUEUED`, then look at `slot(HEAD)`: free for `HEAD` means nobody queues: free `STATE` (if a ticket set `QUEUED`
 *   again meanwhile, look again); `WAIT(a)`: offer the slot (compare-exchange to `OFFERED(a)`; `STATE` is left
 *   naming me) and notify that slot only; a slot abandoned, offered to an agent that died, or left by a dead claimer
 *   is emptied and `HEAD` moves on (an offer that fails because the waiter just gave up does the same).
 * - claim (an offered waiter): store `held(me) | QUEUED` in `STATE`, empty the slot for the next lap, move `HEAD`.
 * - give up: compare-exchange `WAIT(me)` to `ABANDONED`; if that fails the slot was offered first: grant wins.
 * - recover(dead): abandon the dead agent's `WAIT` tickets, then read `STATE`, `HEAD` and `slot(HEAD)`:
 *   - `STATE` names `dead` and the slot is not offered to another agent: `dead` holds the lock (it took it, claimed
 *     it, or died anywhere in its release before its offer succeeded): compare-exchange `STATE` from the value read
 *     to `held(dead) | RECOVERING | QUEUED` (one observer wins; if `STATE` moved, look again), wake those waiting
 *     for room (`dead` may have moved `HEAD` and died before its notify) and release it with "the previous owner
 *     died" (returns `true`).
 *   - `STATE` names `dead` and the slot is offered to another agent: `dead` released (it died after its offer,
 *     maybe before its notify): notify that slot (returns `false`: it held nothing).
 *   - `STATE` names another agent and the slot is `OFFERED(dead)`: handed to `dead`, which never claimed it:
 *     compare-exchange the slot to `RECLAIMED(dead)` (one observer wins; nobody else may take that offer), then
 *     claim as `dead` would, storing `held(dead) | RECOVERING | QUEUED`, and release with "the previous owner died".
 *     The slot, not `STATE`, is the token of this race: the dead agent takes no more tickets, so `OFFERED(dead)`
 *     cannot come back once taken, while `STATE` may name the same releaser again later (ABA).
 *   Model-checked (spec/threads/model.spec.ts): a releaser that dies before each step of its release, with an
 *   observer then recovering it; a waiter handed the lock that dies before claiming it; a holder that dies; two
 *   observers of one death; a dead releaser and its dead offeree recovered at once; a dead ticket taker.
 *   Not covered: an observer that dies inside `recover` (the hold then stays `RECOVERING`, and a second `recover`
 *   leaves it to the first); a dead agent counted in `ROOM` (waiting for a free slot) stays counted (a spurious
 *   notify per claim, and `waiting()` counts it); `recover` of a live agent breaks its hold.
 *
 * Invariants: the lock is held (or being handed over) exactly when `STATE` is neither free state; only the agent
 * that `STATE` names, before its offer succeeds, then the offered ticket once it has claimed (or the recovery that
 * claimed for it), moves `HEAD`; tickets are claimed in order, so `slot(HEAD)` free for `HEAD` means no ticket is
 * queued; a waiter parks only after seeing `QUEUED` set, and every release that frees `STATE` first clears that bit
 * and then looks at the queue (no lost wake-up); while a ticket is parked, `STATE` is never free (no barging).
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
  heldBy,
  LOCK_HEADER_WORDS,
  MAX_AGENT_ID,
  offeredValue,
  Pc,
  pcName,
  QUEUED,
  RECLAIMED,
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

  /**
   * The agent holding the lock now (or being handed it), or `undefined`. Exact when the calling agent asks about
   * itself (`STATE` cannot name it again behind its back); about others, a snapshot.
   */
  holder(): number | undefined {
    const m = this.memory;
    for (let state = m.load(this.base + STATE); ;) {
      if (isFree(state)) return undefined;
      // STATE names a releaser until the offered ticket claims: an offer at HEAD says who is being handed the lock.
      const value = m.load(this.slot(m.load(this.base + HEAD)));
      const again = m.load(this.base + STATE);
      if (again === state)
        return value >= TAGGED && kindOf(value) !== WAIT ? agentOf(value) : holderOfState(state);
      state = again;
    }
  }
}
