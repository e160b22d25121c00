/**
 * Model check of SharedLock's algorithm (lib/threads/ticket-lock.ts), the way loom checks tokio's primitives: the
 * very steps production runs, over a simulated memory in which every operation is a choice point, explored over
 * every schedule (`dfs` exhausted). A lost wake-up would leave an agent parked forever: the harness reports that as
 * a DeadlockError, so every exhausted exploration below also proves "no lost wake-up".
 *
 * Each scenario starts from a state set up directly in memory (agent 1 holding, maybe agent 2 parked), so that
 * the exploration covers the races that matter (release against acquire, abandon, room, recover) in seconds.
 */
import { expect } from 'chai';
import { explore, type Scenario, type Simulation } from '../../lib/testing/index.js';
import {
  GRANTED,
  GRANTED_DIED,
  LOCK_HEADER_WORDS,
  Pc,
  pcName,
  Ticket,
  TicketLock,
  heldValue,
  waitingValue,
} from '../../lib/threads/ticket-lock.js';
import { SimulatedMemory, simulatedAcquire, simulatedRelease, runSteps } from './simulated-memory.js';

async function expectProven(scenario: Scenario): Promise<number> {
  const result = await explore(scenario, { runs: 200_000 });
  if (result.failure !== undefined) {
    throw new Error(
      `${String(result.failure.error)}\nschedule: ${result.failure.schedule}\n${result.failure.trace.join('\n')}`,
    );
  }
  expect(result.exhausted, `not exhausted after ${result.runs} runs`).to.equal(true);
  return result.runs;
}

const NEXT = 0;
const HEAD = 1;
const ROOM = 2;

/**
 * A lock in simulated memory with `capacity` slots: agent 1 holds ticket 0; agents 2.. `parked` hold the next
 * tickets, parked on their slots. Returns the tickets.
 */
function world(sim: Simulation, capacity: number, parked: number[] = []) {
  const memory = new SimulatedMemory(sim, LOCK_HEADER_WORDS + capacity);
  const lock = new TicketLock(memory, 0, capacity);
  const holder = lock.begin(new Ticket(), Pc.Holds, 1, 0);
  memory.words[lock.slot(0)] = heldValue(1);
  const waiters = parked.map((agent, i) => {
    memory.words[lock.slot(i + 1)] = waitingValue(agent);
    return lock.begin(new Ticket(), Pc.Parked, agent, i + 1);
  });
  memory.words[NEXT] = parked.length + 1;
  return { memory, lock, holder, waiters };
}

/** The lock is free, no ticket waits, nobody sleeps, nobody waits for room. */
function expectClean(lock: TicketLock, memory: SimulatedMemory): void {
  const next = memory.words[NEXT]!;
  if (next !== memory.words[HEAD]) throw new Error(`next ${next} != head ${memory.words[HEAD]}`);
  if (memory.words[ROOM] !== 0) throw new Error(`room = ${memory.words[ROOM]}`);
  if (memory.sleeping !== 0) throw new Error(`${memory.sleeping} agents still sleep`);
  const free = memory.words[lock.slot(next)];
  if (free !== GRANTED && free !== GRANTED_DIED) throw new Error(`the free lock's slot is ${free}`);
  memory.words.slice(LOCK_HEADER_WORDS).forEach((value, slot) => {
    if (slot !== (next & (lock.capacity - 1)) && value !== 0) throw new Error(`slot ${slot} left ${value}`);
  });
}

/** Mutual exclusion and entry order, checked as agents enter. */
function critical(lock: TicketLock, memory: SimulatedMemory) {
  let inside = 1; // agent 1 holds at the start
  const entered: string[] = [];
  const check = {
    entered,
    /** `w` must hold the lock, alone. */
    hold(w: Ticket): void {
      if (w.pc !== Pc.Holds) throw new Error(`agent${w.agent} did not get the lock (${pcName(w.pc)})`);
      if (++inside !== 1) throw new Error(`${inside} agents inside the critical section`);
      entered.push(`agent${w.agent}`);
    },
    async leave(w: Ticket): Promise<void> {
      inside--;
      await simulatedRelease(lock, memory, w);
    },
    async enter(w: Ticket): Promise<void> {
      check.hold(w);
      await check.leave(w);
    },
  };
  return check;
}

describe('threads: model check of the SharedLock algorithm (every schedule)', function () {
  this.timeout(120_000);

  it('release against a new acquire (2 agents): exclusion, no lost wake-up, clean at the end', async () => {
    const runs = await expectProven(async (sim) => {
      const { memory, lock, holder } = world(sim, 4);
      const cs = critical(lock, memory);
      sim.spawn('agent1', () => cs.leave(holder));
      sim.spawn('agent2', async () => cs.enter(await simulatedAcquire(lock, memory, 2)));
      await sim.run();
      expectClean(lock, memory);
    });
    expect(runs).to.be.greaterThan(20);
  });

  it('no barging (3 agents): while the holder hands over to a parked waiter, a fast tryAcquire never gets in', async () => {
    await expectProven(async (sim) => {
      const { memory, lock, holder, waiters } = world(sim, 4, [2]);
      const cs = critical(lock, memory);
      sim.spawn('agent1', () => cs.leave(holder));
      sim.spawn('agent2', async () =>
        cs.hold(await simulatedAcquire(lock, memory, 2, undefined, waiters[0])),
      );
      sim.spawn('agent3', async () => {
        const w = lock.begin(new Ticket(), Pc.TryLoadNext, 3);
        if ((await runSteps(lock, memory, w)) !== Pc.Busy)
          throw new Error('agent3 barged in ahead of agent2');
      });
      await sim.run();
      expect(cs.entered).to.deep.equal(['agent2']);
      expect(lock.holder()).to.equal(2);
      expect(memory.words[NEXT]).to.equal(2);
    });
  });

  it('no room (1 slot, held): an acquirer waits for room, is woken by the release and gets in', async () => {
    await expectProven(async (sim) => {
      const { memory, lock, holder } = world(sim, 1);
      const cs = critical(lock, memory);
      sim.spawn('agent1', () => cs.leave(holder));
      sim.spawn('agent2', async () => cs.enter(await simulatedAcquire(lock, memory, 2)));
      await sim.run();
      expectClean(lock, memory);
    });
  });

  it('abort against release: the waiter holds (grant wins) or gave up, never both; the lock ends clean', async () => {
    const outcomes = new Set<string>();
    await expectProven(async (sim) => {
      const { memory, lock, holder, waiters } = world(sim, 4, [2]);
      const cs = critical(lock, memory);
      const controller = new AbortController();
      sim.spawn('agent1', () => cs.leave(holder));
      sim.spawn('agent2', async () => {
        const w = await simulatedAcquire(lock, memory, 2, controller.signal, waiters[0]);
        outcomes.add(w.pc === Pc.Holds ? 'granted' : pcName(w.pc));
        if (w.pc === Pc.Holds) await cs.enter(w);
        else if (w.pc !== Pc.GaveUp) throw new Error(`agent2 rests in ${pcName(w.pc)}`);
      });
      sim.spawn('canceller', async () => controller.abort());
      await sim.run();
      // Free, with the slot of the next ticket granted: the next acquirer is neither skipped nor stuck.
      expectClean(lock, memory);
    });
    expect([...outcomes].sort()).to.deep.equal(['GaveUp', 'granted']);
  });

  it('recover against a parked waiter: the dead holder is freed; the next holder learns previousOwnerDied', async () => {
    await expectProven(async (sim) => {
      const { memory, lock, waiters } = world(sim, 4, [2]);
      let told: boolean | undefined;
      sim.spawn('agent2', async () => {
        const w = await simulatedAcquire(lock, memory, 2, undefined, waiters[0]);
        told = w.previousOwnerDied;
        await simulatedRelease(lock, memory, w);
      });
      sim.spawn('observer', async () => {
        const w = lock.begin(new Ticket(), Pc.RecoverLoadHead, 1);
        expect(pcName(await runSteps(lock, memory, w))).to.equal('Released');
      });
      await sim.run();
      if (told !== true) throw new Error(`the next holder was told previousOwnerDied = ${told}`);
      expectClean(lock, memory);
    });
  });

  it('two observers recover the same dead holder: exactly one frees it', async () => {
    await expectProven(async (sim) => {
      const { memory, lock } = world(sim, 4);
      const recovered: string[] = [];
      for (const observer of ['observer1', 'observer2']) {
        sim.spawn(observer, async () => {
          const w = lock.begin(new Ticket(), Pc.RecoverLoadHead, 1);
          recovered.push(pcName(await runSteps(lock, memory, w)));
        });
      }
      await sim.run();
      expect(recovered.sort()).to.deep.equal(['NotHeld', 'Released']);
      expect(memory.words[lock.slot(1)]).to.equal(GRANTED_DIED);
      expectClean(lock, memory);
    });
  });
});
