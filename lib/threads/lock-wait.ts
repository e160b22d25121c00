/**
 * The waits of a `SharedLock` acquisition whose ticket is queued: park on the slot with
 * `Atomics.waitAsync` (or block with `Atomics.wait`), look again when woken, give the ticket up on abort or timeout
 * (grant wins).
 *
 * @module
 */

import type { WaitOptions } from '../core/options.js';
import type { SharedGuard } from './shared-guard.js';
import type { SharedLock } from './shared-lock.js';
import { Pc, type Ticket } from './ticket-state.js';
import { TimeoutError } from '../errors.js';
import { armCancellation, blockOnWord, waitWord } from './waiting.js';

/** Waits with ticket `w` of `lock` (parked or waiting for room) until it holds the lock or gives up. */
export function waitQueued(
  lock: SharedLock,
  w: Ticket,
  options: WaitOptions | undefined,
): Promise<SharedGuard> {
  return new Promise<SharedGuard>((resolve, reject) => {
    let settled = false;
    const settle = () => {
      settled = true;
      disarm();
      if (lock.parked.get(w.ticket) === wake) lock.parked.delete(w.ticket);
      if (w.pc === Pc.Holds) resolve(lock.hold(w));
      else reject(reason);
    };
    let reason: unknown;
    const look = () => {
      if (settled) return;
      for (;;) {
        if (lock.machine.run(w) !== Pc.Parked && w.pc !== Pc.ParkedForRoom) return settle();
        if (w.pc === Pc.Parked) lock.parked.set(w.ticket, wake);
        if (waitWord(lock.words, lock.machine.waitIndex(w), lock.machine.waitValue(w), wake)) return;
        lock.machine.wake(w);
      }
    };
    const wake = () => {
      if (settled) return;
      lock.machine.wake(w);
      look();
    };
    const disarm = armCancellation(options, `${lock.label}.acquire`, (why) => {
      if (settled) return;
      reason = why;
      const forRoom = w.pc === Pc.ParkedForRoom;
      lock.machine.cancel(w);
      lock.machine.run(w);
      // A wait for room cannot be withdrawn either: end it (the others waiting there look again, harmlessly).
      if (forRoom) Atomics.notify(lock.words, lock.machine.waitIndex(w), Infinity);
      settle(); // grant wins: the machine may end holding the lock
    });
    look();
  });
}

/** How many times `acquireSync` looks at its slot before it sleeps. */
const SPINS = 200;

/** Blocks with ticket `w` of `lock` until it holds the lock or `deadline` passes (then a TimeoutError). */
export function blockQueued(
  lock: SharedLock,
  w: Ticket,
  deadline: number,
  timeout: number | undefined,
): SharedGuard {
  while (lock.machine.run(w) !== Pc.Holds) {
    const index = lock.machine.waitIndex(w);
    const value = lock.machine.waitValue(w);
    // A hand-off to a thread that is still on a core costs no sleep and wake-up: look a little before sleeping.
    for (let spin = 0; spin < SPINS && Atomics.load(lock.words, index) === value; spin++);
    if (!blockOnWord(lock.words, index, value, deadline)) {
      lock.machine.cancel(w);
      if (lock.machine.run(w) !== Pc.Holds) {
        throw new TimeoutError(`${lock.label}.acquireSync timed out after ${timeout} ms`);
      }
      break;
    }
    lock.machine.wake(w);
  }
  return lock.hold(w);
}
