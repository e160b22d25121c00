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
  HANDOFF,
  HEAD,
  heldBy,
  kindOf,
  agentOf,
  NEXT,
  OFFERED,
  OFFERED_DIED,
  Pc,
  QUEUED,
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
      else if (seen >= TAGGED && kindOf(seen) === WAIT) w.pc = Pc.RelHandOff;
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
    case Pc.RelHandOff:
      m.store(base + STATE, HANDOFF);
      w.pc = Pc.RelOffer;
      return;
    case Pc.RelOffer: {
      const offer = tag(agentOf(w.value), w.died ? OFFERED_DIED : OFFERED);
      w.pc = m.compareExchange(lock.slot(w.head), w.value, offer) === w.value ? Pc.RelNotify : Pc.RelTakeBack;
      return;
    }
    case Pc.RelNotify:
      m.notify(lock.slot(w.head), 1);
      w.handed = true;
      released(w);
      return;
    case Pc.RelTakeBack:
      // The waiter gave up first: take the lock back and move on, unless a recovery already did.
      if (m.compareExchange(base + STATE, HANDOFF, w.own) === HANDOFF) w.pc = Pc.RelSkipClear;
      else released(w);
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
      if (seen === HANDOFF) w.pc = Pc.RecoverLoadHead;
      else if ((seen & ~QUEUED) === heldBy(w.agent)) w.pc = Pc.RecoverTake;
      else w.pc = Pc.NotHeld;
      return;
    }
    case Pc.RecoverTake: {
      // Exactly one observer of the death wins this: it releases the hold, telling the next holder.
      const seen = m.compareExchange(base + STATE, w.value, w.own | QUEUED);
      if (seen === w.value) recovering(w);
      else w.pc = Pc.RecoverLoadState;
      return;
    }
    case Pc.RecoverLoadHead:
      w.head = m.load(base + HEAD);
      w.pc = Pc.RecoverLoadSlot;
      return;
    case Pc.RecoverLoadSlot: {
      const seen = m.load(lock.slot(w.head));
      w.value = seen;
      // Only a hand-off to the dead agent is its hold. (A hand-off to another ticket is its releaser's to finish:
      // offering for it from here could act on a stale HANDOFF.)
      w.pc =
        seen === tag(w.agent, OFFERED) || seen === tag(w.agent, OFFERED_DIED)
          ? Pc.RecoverTakeOffered
          : Pc.NotHeld;
      return;
    }
    case Pc.RecoverTakeOffered:
      // Handed to the dead agent, which never claimed it.
      if (m.compareExchange(base + STATE, HANDOFF, w.own | QUEUED) === HANDOFF) recovering(w);
      else w.pc = Pc.RecoverLoadState;
      return;
    default:
      throw new Error(`TicketLock: no step from state ${w.pc}`);
  }
}

/** A recovery took the dead agent's hold: release it, telling the next holder. */
function recovering(w: Ticket): void {
  w.recovered = true;
  w.died = true;
  w.pc = Pc.RelClearQueued;
}

/** The release is done (a proxy release goes back to looking at its own ticket). */
function released(w: Ticket): void {
  w.pc = w.proxy ? Pc.Poll : Pc.Released;
}
