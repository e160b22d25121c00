/**
 * Scenarios of the model check of SharedLock's algorithm (spec/threads/model.spec.ts, recover-model.spec.ts): a lock
 * in simulated memory set up in a given state, the checks made as agents enter, and the clean state it must end in.
 */
import type { Simulation } from '../../lib/testing/index.js';
import {
  ABANDONED,
  FREE,
  FREE_DIED,
  LOCK_HEADER_WORDS,
  Pc,
  pcName,
  STATE,
  Ticket,
  TicketLock,
  heldBy,
  offeredValue,
  waitingValue,
} from '../../lib/threads/ticket-lock.js';
import { SimulatedMemory, runSteps, simulatedAcquire } from './simulated-memory.js';

const NEXT = 1;
const HEAD = 2;
const ROOM = 3;

export interface Setup {
  /** The STATE word (default FREE). */
  state?: number;
  /** Slot values by ticket; NEXT is one past the last unless given. */
  slots?: number[];
  next?: number;
  head?: number;
  /** Agents parked on the slot of the ticket at the same index of `slots` (set QUEUED, parked). */
  parked?: (number | undefined)[];
  /** An agent parked until a slot frees up (counted in ROOM, waiting on HEAD); it is the last of `parked`. */
  room?: number;
}

/** A lock in simulated memory with `capacity` slots, in the state `setup` describes. */
export function world(sim: Simulation, capacity: number, setup: Setup = {}) {
  const memory = new SimulatedMemory(sim, LOCK_HEADER_WORDS + capacity);
  const lock = new TicketLock(memory, 0, capacity);
  const slots = setup.slots ?? [];
  memory.words[STATE] = setup.state ?? FREE;
  slots.forEach((value, ticket) => (memory.words[lock.slot(ticket)] = value));
  memory.words[NEXT] = setup.next ?? slots.length;
  memory.words[HEAD] = setup.head ?? 0;
  const tickets: Ticket[] = [];
  const parked = (setup.parked ?? []).map((agent, ticket) => {
    if (agent === undefined) return undefined;
    const w = lock.begin(new Ticket(), Pc.Parked, agent);
    w.ticket = ticket;
    w.queued = true;
    tickets.push(w);
    return w;
  });
  if (setup.room !== undefined) {
    const w = lock.begin(new Ticket(), Pc.ParkedForRoom, setup.room);
    w.head = memory.words[HEAD]!;
    memory.words[ROOM] = 1;
    parked.push(w);
  }
  return { memory, lock, parked, tickets };
}

/**
 * The lock is free, nobody sleeps, nobody waits for room, no slot is left claimed. `abandoned`: how many abandoned
 * tickets may stay queued (given up while nobody queued behind them: the next release that queues skips them).
 */
export function expectClean(_lock: TicketLock, memory: SimulatedMemory, abandoned = 0): void {
  const state = memory.words[STATE];
  if (state !== FREE && state !== FREE_DIED) throw new Error(`the lock ends in state ${state}`);
  const queued = (memory.words[NEXT]! - memory.words[HEAD]!) | 0;
  if (queued > abandoned) throw new Error(`${queued} tickets left between HEAD and NEXT`);
  if (memory.words[ROOM] !== 0) throw new Error(`room = ${memory.words[ROOM]}`);
  if (memory.sleeping !== 0) throw new Error(`${memory.sleeping} agents still sleep`);
  let left = 0;
  memory.words.slice(LOCK_HEADER_WORDS).forEach((value, slot) => {
    if (value === ABANDONED && left < abandoned) left++;
    else if (value > 0) throw new Error(`slot ${slot} left in state ${value}`);
  });
}

/**
 * Mutual exclusion, no barging and FIFO, checked as agents enter. `tickets` lists every acquisition of the
 * scenario (so that the check sees which ones are queued when another enters).
 */
export function critical(lock: TicketLock, memory: SimulatedMemory, tickets: Ticket[], inside = 0) {
  const entered: string[] = [];
  const check = {
    entered,
    /** In the step that grants `w`: it holds alone, and overtook no queued ticket. */
    granted(w: Ticket): void {
      if (++inside !== 1) throw new Error(`${inside} agents inside the critical section`);
      for (const other of tickets) {
        if (other === w || !other.queued) continue;
        if (!w.viaQueue) throw new Error(`agent${w.agent} barged in while agent${other.agent} was queued`);
        if (((other.ticket - w.ticket) | 0) < 0) {
          throw new Error(
            `agent${w.agent} (ticket ${w.ticket}) overtook agent${other.agent} (${other.ticket})`,
          );
        }
      }
      entered.push(`agent${w.agent}`);
    },
    /** Releases the hold of `w`; `stopAt`: dies before that step of the release (then never gives the lock on). */
    async leave(w: Ticket, stopAt?: Pc): Promise<void> {
      inside--;
      const rest = await runSteps(lock, memory, lock.beginRelease(w, w.agent), undefined, stopAt);
      if (rest !== Pc.Released && rest !== stopAt) throw new Error(`agent${w.agent}: release`);
    },
    /** Acquires with `w` (parked, or fresh for `agent`); resolves holding, or not when it gave up. */
    async acquire(w: Ticket, signal?: AbortSignal): Promise<Ticket> {
      if (!tickets.includes(w)) tickets.push(w);
      const done = await simulatedAcquire(lock, memory, w.agent, signal, w, check.granted);
      if (done.pc !== Pc.Holds && done.pc !== Pc.GaveUp)
        throw new Error(`agent${w.agent} rests in ${pcName(done.pc)}`);
      return done;
    },
    async enter(w: Ticket): Promise<void> {
      if ((await check.acquire(w)).pc === Pc.Holds) await check.leave(w);
    },
    async acquireAndRelease(agent: number, times = 1): Promise<void> {
      for (let i = 0; i < times; i++) await check.enter(lock.begin(new Ticket(), Pc.AcqFast, agent));
    },
  };
  return check;
}

/** A holder `agent` as the state records it (no ticket: it took the lock from the free state, or claimed it). */
export function holding(lock: TicketLock, agent: number): Ticket {
  return lock.begin(new Ticket(), Pc.Holds, agent);
}

/**
 * A dead offer: agent `releaser` released and offered the lock to the ticket of agent `offeredTo`, who died before
 * claiming it (STATE still names the releaser); agent 2 waits behind, and is spawned to enter and leave once it gets
 * the lock. `told()` is what agent 2's hold reported as `previousOwnerDied` (`undefined` until it held).
 */
export function deadOffer(sim: Simulation, releaser: number, offeredTo: number) {
  const { memory, lock, parked, tickets } = world(sim, 4, {
    state: heldBy(releaser),
    slots: [offeredValue(offeredTo), waitingValue(2)],
    parked: [undefined, 2],
  });
  const cs = critical(lock, memory, tickets);
  let told: boolean | undefined;
  sim.spawn('agent2', async () => {
    const w = await cs.acquire(parked[1]!);
    told = w.previousOwnerDied;
    await cs.leave(w);
  });
  return { memory, lock, cs, told: () => told };
}
