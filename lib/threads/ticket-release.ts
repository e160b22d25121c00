/**
 * The release and recovery steps of `SharedLock`'s algorithm (the model is in ticket-lock.ts): each performs exactly
 * one memory operation, as the acquisition steps there do.
 *
 * @module
 */

import type { TicketLock } from './ticket-lock.js';
import {
  ABANDONED,
  FREE,
  FREE_DIED,
  HEAD,
  heldBy,
  holderOfState,
  isFree,
  kindOf,
  agentOf,
  NEXT,
  OFFERED,
  OFFERED_DIED,
  Pc,
  QUEUED,
  RECLAIMED,
  RECOVERING,
  ROOM,
  STATE,
  TAGGED,
  tag,
  WAIT,
  type Ticket,
} from './ticket-state.js';

/** Performs one release or recovery step of `w` on `lock`: exactly one memory operation. */
export function releaseStep(lock: TicketLock, w: Ticket): void {
  const m = lock.memory;
  const base = lock.base;
  switch (w.pc) {
    case Pc.RelFast: {
      const free = w.died ? FREE_DIED : FREE;
      const seen = m.compareExchange(base + STATE, w.own, free);
      if (seen === w.own) released(w);
      else w.pc = seen === (w.own | QUEUED) ? Pc.RelClearQueued : Pc.NotHeld;
      return;
    }
    case Pc.RelClearQueued:
      // From here on a ticket that parks must set QUEUED again, which the RelFree below sees.
      w.pc =
        m.compareExchange(base + STATE, w.own | QUEUED, w.own) === (w.own | QUEUED)
          ? Pc.RelLoadHead
          : Pc.NotHeld;
      return;
    case Pc.RelLoadHead:
      w.head = m.load(base + HEAD);
      w.pc = Pc.RelLoadSlot;
      return;
    case Pc.RelLoadSlot: {
      const seen = m.load(lock.slot(w.head));
      w.value = seen;
      if (seen === lock.emptyFor(w.head)) w.pc = Pc.RelFree;
      else if (seen >= TAGGED && kindOf(seen) === WAIT) w.pc = Pc.RelOffer;
      else if (
        seen === ABANDONED ||
        seen === lock.emptyFor((w.head + lock.capacity) | 0) || // its claimer died before moving HEAD
        (seen >= TAGGED && kindOf(seen) !== WAIT) // offered to an agent that died before claiming
      )
        w.pc = Pc.RelSkipClear;
      else throw new Error(`TicketLock: slot of ticket ${w.head} in state ${seen}`);
      return;
    }
    case Pc.RelFree: {
      const seen = m.compareExchange(base + STATE, w.own, w.died ? FREE_DIED : FREE);
      if (seen === w.own) released(w);
      else if (seen === (w.own | QUEUED))
        w.pc = Pc.RelClearQueued; // a ticket queued meanwhile: look again
      else w.pc = Pc.NotHeld;
      return;
    }
    case Pc.RelSkipClear:
      m.store(lock.slot(w.head), lock.emptyFor((w.head + lock.capacity) | 0));
      w.pc = Pc.RelSkipHead;
      return;
    case Pc.RelSkipHead:
      w.head = (w.head + 1) | 0;
      m.store(base + HEAD, w.head);
      w.pc = Pc.RelSkipRoom;
      return;
    case Pc.RelSkipRoom:
      w.pc = m.load(base + ROOM) > 0 ? Pc.RelSkipRoomNotify : Pc.RelLoadSlot;
      return;
    case Pc.RelSkipRoomNotify:
      m.notify(base + HEAD, Infinity);
      w.pc = Pc.RelLoadSlot;
      return;
    case Pc.RelOffer: {
      // STATE keeps naming this release until the waiter claims: if it dies from here on, recover(it) sees that.
      const offer = tag(agentOf(w.value), w.died ? OFFERED_DIED : OFFERED);
      w.pc =
        m.compareExchange(lock.slot(w.head), w.value, offer) === w.value ? Pc.RelNotify : Pc.RelSkipClear;
      return; // (failed: the waiter gave up first, or a recovery gave its dead waiter's ticket up; skip it)
    }
    case Pc.RelNotify:
      m.notify(lock.slot(w.head), 1);
      w.handed = true;
      released(w);
      return;
    case Pc.RecoverScanHead:
      w.scan = m.load(base + HEAD);
      w.pc = Pc.RecoverScanNext;
      return;
    case Pc.RecoverScanNext:
      // One past NEXT: a ticket may be claimed before NEXT moves past it.
      w.scanEnd = (m.load(base + NEXT) + 1) | 0;
      if (((w.scanEnd - w.scan) | 0) > lock.capacity) w.scanEnd = (w.scan + lock.capacity) | 0;
      w.pc = Pc.RecoverScan;
      return;
    case Pc.RecoverScan:
      if (w.scan === w.scanEnd) {
        w.pc = Pc.RecoverLoadState;
        return;
      }
      m.compareExchange(lock.slot(w.scan), tag(w.agent, WAIT), ABANDONED);
      w.scan = (w.scan + 1) | 0;
      if (w.scan === w.scanEnd) w.pc = Pc.RecoverLoadState;
      return;
    case Pc.RecoverLoadState: {
      const seen = m.load(base + STATE);
      w.value = seen;
      // Free: nothing to end. The dead agent's hold already being recovered by another observer: theirs to end.
      if (isFree(seen) || (seen & ~QUEUED) === (heldBy(w.agent) | RECOVERING)) w.pc = Pc.NotHeld;
      else w.pc = Pc.RecoverLoadHead;
      return;
    }
    case Pc.RecoverLoadHead:
      w.head = m.load(base + HEAD);
      w.pc = Pc.RecoverLoadSlot;
      return;
    case Pc.RecoverLoadSlot: {
      // STATE (read before) names who holds the lock, or whose release offered it to the ticket at HEAD.
      const seen = m.load(lock.slot(w.head));
      const named = holderOfState(w.value);
      const offeredTo = seen >= TAGGED && kindOf(seen) !== WAIT ? agentOf(seen) : -1;
      if (named !== w.agent) {
        if (offeredTo === w.agent && kindOf(seen) !== RECLAIMED) {
          // Handed to the dead agent, which never claimed it: claim it on its behalf (and against another observer).
          w.value = seen;
          w.pc = Pc.RecoverReclaim;
        } else w.pc = Pc.NotHeld;
      } else if (offeredTo >= 0 && offeredTo !== w.agent) {
        // The dead agent released: it offered the lock to that ticket, maybe without notifying it.
        w.pc = Pc.RecoverNotify;
      } else w.pc = Pc.RecoverTake; // it holds the lock (maybe mid-release, before any offer)
      return;
    }
    case Pc.RecoverTake: {
      // Exactly one observer of the death wins this: it releases the hold, telling the next holder. (If STATE moved
      // since it was read, look again: the dead agent's pending offer was claimed, or a ticket set QUEUED.)
      const seen = m.compareExchange(base + STATE, w.value, w.own | QUEUED);
      if (seen === w.value) recovering(w);
      else w.pc = Pc.RecoverLoadState;
      return;
    }
    case Pc.RecoverReclaim:
      // The slot is the token of the offer: the dead agent takes no more tickets, so its value cannot come back.
      w.pc =
        m.compareExchange(lock.slot(w.head), w.value, tag(w.agent, RECLAIMED)) === w.value
          ? Pc.RecoverClaim
          : Pc.RecoverLoadState;
      return;
    case Pc.RecoverClaim:
      // As the claim of the dead agent would: STATE now names this recovery (the release skips the slot).
      m.store(base + STATE, w.own | QUEUED);
      recovering(w);
      return;
    case Pc.RecoverNotify:
      m.notify(lock.slot(w.head), 1);
      w.pc = Pc.NotHeld;
      return;
    case Pc.RecoverRoom:
      // The dead agent may have moved HEAD and died before waking those waiting for room: wake them (they look again).
      w.pc = m.load(base + ROOM) > 0 ? Pc.RecoverRoomNotify : Pc.RelClearQueued;
      return;
    case Pc.RecoverRoomNotify:
      m.notify(base + HEAD, Infinity);
      w.pc = Pc.RelClearQueued;
      return;
    default:
      throw new Error(`TicketLock: no step from state ${w.pc}`);
  }
}

/** A recovery took the dead agent's hold: release it, telling the next holder. */
function recovering(w: Ticket): void {
  w.recovered = true;
  w.died = true;
  w.pc = Pc.RecoverRoom;
}

/** The release is done (a proxy release goes back to looking at its own ticket). */
function released(w: Ticket): void {
  w.pc = w.proxy ? Pc.Poll : Pc.Released;
}
