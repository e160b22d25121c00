/**
 * Model check of SharedSemaphore's algorithm (lib/threads/semaphore-machine.ts), as spec/threads/model.spec.ts does
 * for SharedLock's: the very steps production runs, over a simulated memory in which every operation is a choice
 * point, explored over every schedule (`dfs` exhausted; for three busy agents, every schedule with few preemptions).
 * A lost wake-up leaves an agent parked forever, which the harness reports as a DeadlockError: every exploration
 * below also proves "no lost wake-up", and one shows that the check catches the bug fixed in 09b38b3.
 *
 * Checked as permits are taken: never more out than the semaphore has; no barging (nobody takes permits from the
 * free state while an acquisition queues); head-of-line FIFO (a queued acquisition is never overtaken by a later
 * ticket, however few permits that one wants). At the end: every permit is back and the queue is clean.
 */
import { expect } from 'chai';
import { DeadlockError, type Scenario, type Simulation } from '../../lib/testing/index.js';
import {
  ABANDONED,
  EMPTY,
  NEXT,
  ONE_QUEUED,
  SEMAPHORE_HEADER_WORDS,
  SERVING,
  STATE,
  SemaphoreMachine,
  SemaphoreTicket,
  SemPc,
  semPcName,
} from '../../lib/threads/semaphore-machine.js';
import {
  SimulatedMemory,
  expectProven,
  explored,
  runSemaphoreSteps,
  simulatedSemaphoreAcquire,
  tracedMemory,
} from './simulated-memory.js';

interface Queued {
  agent: number;
  permits: number;
  ticket: number;
  /** Parked as the head (on STATE), else behind it (on SERVING). */
  head?: boolean;
}

interface Setup {
  /** Free permits now (default: `permits`). */
  free?: number;
  /** Acquisitions already queued and parked, in ticket order from 0. */
  queued?: Queued[];
  /** Slots marked abandoned, by ticket (their tickets count as queued until skipped). */
  abandoned?: number[];
}

/** A semaphore of `permits` in simulated memory with `capacity` slots, in the state `setup` describes. */
function world(sim: Simulation, permits: number, capacity: number, setup: Setup = {}) {
  const memory = new SimulatedMemory(sim, SEMAPHORE_HEADER_WORDS + capacity);
  const machine = new SemaphoreMachine(memory, 0, capacity);
  const queued = setup.queued ?? [];
  const abandoned = setup.abandoned ?? [];
  const tickets = queued.length + abandoned.length;
  memory.words[STATE] = (setup.free ?? permits) + tickets * ONE_QUEUED;
  memory.words[NEXT] = tickets;
  memory.words[SERVING] = 0;
  for (const ticket of abandoned) memory.words[machine.slot(ticket)] = ABANDONED;
  const parked = queued.map(({ agent, permits: wanted, ticket, head }) => {
    const w = machine.begin(new SemaphoreTicket(), agent, wanted);
    w.ticket = ticket;
    w.queued = true;
    w.pc = head === true ? SemPc.ParkedHead : SemPc.ParkedBehind;
    w.value = head === true ? memory.words[STATE]! : 0;
    return w;
  });
  return { memory, machine, parked };
}

/** Every permit is back, nobody queues or sleeps, every slot is empty. */
function expectClean(machine: SemaphoreMachine, memory: SimulatedMemory, permits: number): void {
  if (memory.words[STATE] !== permits)
    throw new Error(`STATE ends as ${memory.words[STATE]}, not ${permits}`);
  if (memory.words[NEXT] !== memory.words[SERVING]) {
    throw new Error(`NEXT ${memory.words[NEXT]} and SERVING ${memory.words[SERVING]} differ at the end`);
  }
  if (memory.sleeping !== 0) throw new Error(`${memory.sleeping} agents still sleep`);
  memory.words.slice(SEMAPHORE_HEADER_WORDS).forEach((value, slot) => {
    if (value !== EMPTY) throw new Error(`slot ${slot} left in state ${value}`);
  });
  expect(machine.waiting()).to.equal(0);
}

/** The checks made in the step that takes permits, and the agents' acquire/release as the drivers run them. */
function section(
  machine: SemaphoreMachine,
  memory: SimulatedMemory,
  permits: number,
  parked: SemaphoreTicket[],
) {
  const all = [...parked];
  let out = permits - ((memory.words[STATE] ?? 0) & (ONE_QUEUED - 1));
  const entered: string[] = [];
  const check = {
    entered,
    taken(w: SemaphoreTicket): void {
      out += w.permits;
      if (out > permits) throw new Error(`${out} permits out of ${permits}`);
      for (const other of all) {
        if (other === w || !other.queued) continue;
        if (w.ticket < 0) throw new Error(`agent${w.agent} barged in while agent${other.agent} queued`);
        if (other.ticket >= 0 && other.ticket < w.ticket) {
          throw new Error(
            `agent${w.agent} (ticket ${w.ticket}) overtook agent${other.agent} (${other.ticket})`,
          );
        }
      }
      entered.push(`agent${w.agent}`);
    },
    async acquire(w: SemaphoreTicket, signal?: AbortSignal): Promise<SemaphoreTicket> {
      if (!all.includes(w)) all.push(w);
      const done = await simulatedSemaphoreAcquire(machine, memory, w, signal, check.taken);
      if (done.pc !== SemPc.Holds && done.pc !== SemPc.GaveUp) {
        throw new Error(`agent${w.agent} rests in ${semPcName(done.pc)}`);
      }
      return done;
    },
    async release(agent: number, wanted: number): Promise<void> {
      out -= wanted;
      const w = machine.beginRelease(new SemaphoreTicket(), agent, wanted);
      if ((await runSemaphoreSteps(machine, memory, w)) !== SemPc.Released) throw new Error('release');
    },
    async enter(w: SemaphoreTicket, signal?: AbortSignal): Promise<boolean> {
      if ((await check.acquire(w, signal)).pc !== SemPc.Holds) return false;
      await check.release(w.agent, w.permits);
      return true;
    },
    async acquireAndRelease(agent: number, wanted: number, times = 1): Promise<void> {
      for (let i = 0; i < times; i++) await check.enter(machine.begin(new SemaphoreTicket(), agent, wanted));
    },
  };
  return check;
}

/**
 * From scratch: a SharedSemaphore(`permits`) and one agent per entry of `wants` (agent `i + 1` wants `wants[i]`
 * permits), each acquiring and releasing once; all get in, and every permit is back at the end.
 */
function fromScratch(permits: number, wants: number[]): Scenario {
  return async (sim) => {
    const { memory, machine } = world(sim, permits, 4);
    const cs = section(machine, memory, permits, []);
    wants.forEach((wanted, i) => sim.spawn(`agent${i + 1}`, () => cs.acquireAndRelease(i + 1, wanted)));
    await sim.run();
    expect(cs.entered).to.have.length(wants.length);
    expectClean(machine, memory, permits);
  };
}

describe('threads: model check of the SharedSemaphore algorithm (every schedule)', function () {
  this.timeout(300_000);

  describe('from scratch', () => {
    it('SharedSemaphore(1), 2 agents acquire and release: exclusion, no barging, FIFO', async () => {
      expect(await expectProven(fromScratch(1, [1, 1]))).to.be.greaterThan(100);
    });

    it('SharedSemaphore(2), 2 agents wanting 1 and 2: never more than 2 permits out, every permit back', async () => {
      await expectProven(fromScratch(2, [1, 2]));
    });

    it('SharedSemaphore(2), 3 agents wanting 1, 2 and 1 (schedules with up to 2 preemptions)', async () => {
      await expectProven(fromScratch(2, [1, 2, 1]), 2);
    });

    it('the uncontended path is one read and one compare-exchange, and a release one add (no notify)', async () => {
      await expectProven(async (sim) => {
        const { memory } = world(sim, 1, 4);
        const operations: string[] = [];
        const traced = tracedMemory(memory, operations);
        const alone = new SemaphoreMachine(traced, 0, 4);
        sim.spawn('agent1', async () => {
          const w = await simulatedSemaphoreAcquire(alone, memory, alone.begin(new SemaphoreTicket(), 1, 1));
          expect(w.pc).to.equal(SemPc.Holds);
          await runSemaphoreSteps(alone, memory, alone.beginRelease(w, 1, 1));
        });
        await sim.run();
        expect(operations).to.deep.equal(['load', 'compareExchange', 'add']);
        expectClean(alone, memory, 1);
      });
    });
  });

  describe('from prepared states', () => {
    it('head-of-line (up to 3 preemptions): with 1 of 2 permits free and a request for 2 at the head, a newcomer for 1 waits behind it', async () => {
      await expectProven(async (sim) => {
        // agent1 holds 1 permit; agent2 queues at the head for 2.
        const { memory, machine, parked } = world(sim, 2, 4, {
          free: 1,
          queued: [{ agent: 2, permits: 2, ticket: 0, head: true }],
        });
        const cs = section(machine, memory, 2, parked);
        sim.spawn('agent1', () => cs.release(1, 1));
        sim.spawn('agent2', () => cs.enter(parked[0]!));
        sim.spawn('agent3', () => cs.acquireAndRelease(3, 1));
        await sim.run();
        expect(cs.entered).to.deep.equal(['agent2', 'agent3']);
        expectClean(machine, memory, 2);
      }, 3);
    });

    it('abort of the head against a release (up to 3 preemptions): it holds (its take came first) or gave up; the one behind gets in', async () => {
      const outcomes = new Set<string>();
      await expectProven(async (sim) => {
        const { memory, machine, parked } = world(sim, 1, 4, {
          free: 0,
          queued: [
            { agent: 2, permits: 1, ticket: 0, head: true },
            { agent: 3, permits: 1, ticket: 1 },
          ],
        });
        const cs = section(machine, memory, 1, parked);
        const controller = new AbortController();
        sim.spawn('agent1', () => cs.release(1, 1));
        sim.spawn('agent2', async () => outcomes.add(String(await cs.enter(parked[0]!, controller.signal))));
        sim.spawn('agent3', () => cs.enter(parked[1]!));
        sim.spawn('canceller', async () => controller.abort());
        await sim.run();
        expect(cs.entered.at(-1)).to.equal('agent3');
        expectClean(machine, memory, 1);
      }, 3);
      expect([...outcomes].sort()).to.deep.equal(['false', 'true']);
    });

    it('a waiter behind the head gives up while the head advances to it (up to 3 preemptions): exactly one of them empties its slot', async () => {
      await expectProven(async (sim) => {
        const { memory, machine, parked } = world(sim, 1, 4, {
          free: 0,
          queued: [
            { agent: 2, permits: 1, ticket: 0, head: true },
            { agent: 3, permits: 1, ticket: 1 },
            { agent: 4, permits: 1, ticket: 2 },
          ],
        });
        const cs = section(machine, memory, 1, parked);
        const controller = new AbortController();
        sim.spawn('agent1', () => cs.release(1, 1));
        sim.spawn('agent2', () => cs.enter(parked[0]!));
        sim.spawn('agent3', () => cs.enter(parked[1]!, controller.signal));
        sim.spawn('agent4', () => cs.enter(parked[2]!));
        sim.spawn('canceller', async () => controller.abort());
        await sim.run();
        expect(cs.entered[0]).to.equal('agent2');
        expect(cs.entered.at(-1)).to.equal('agent4');
        expectClean(machine, memory, 1);
      }, 3);
    });

    it('a head that gives up as a newcomer arrives (up to 3 preemptions): its count comes back, the newcomer is not wedged behind it', async () => {
      await expectProven(async (sim) => {
        // agent3 queued alone at ticket 0 and, timed out, has just marked its slot (SERVING is still 0).
        const { memory, machine } = world(sim, 1, 4, { free: 0, abandoned: [0] });
        const leaving = machine.begin(new SemaphoreTicket(), 3, 1);
        leaving.ticket = 0;
        leaving.after = SemPc.GaveUp;
        leaving.pc = SemPc.AbandonCheck;
        const cs = section(machine, memory, 1, []);
        sim.spawn('agent1', () => cs.release(1, 1));
        sim.spawn('agent2', () => cs.acquireAndRelease(2, 1));
        sim.spawn('agent3', async () => {
          if ((await runSemaphoreSteps(machine, memory, leaving)) !== SemPc.GaveUp) throw new Error('agent3');
        });
        await sim.run();
        expect(cs.entered).to.deep.equal(['agent2']);
        expectClean(machine, memory, 1);
      }, 3);
    });
  });

  it('the check finds the lost wake-up of 09b38b3 (a head that reads the count again before it sleeps)', async () => {
    const HeadReload = 99 as SemPc;
    /** The old head: it saw too few permits, then parked on a second read, which may already suffice. */
    class OldHead extends SemaphoreMachine {
      override step(w: SemaphoreTicket): void {
        if (w.pc === SemPc.HeadLoad) {
          const seen = this.memory.load(this.base + STATE);
          w.value = seen;
          w.pc = (seen & (ONE_QUEUED - 1)) >= w.permits ? SemPc.HeadTake : HeadReload;
        } else if (w.pc === HeadReload) {
          w.value = this.memory.load(this.base + STATE);
          w.pc = SemPc.ParkedHead;
        } else super.step(w);
      }
    }
    const result = await explored(async (sim) => {
      const memory = new SimulatedMemory(sim, SEMAPHORE_HEADER_WORDS + 4);
      const machine = new OldHead(memory, 0, 4);
      memory.words[STATE] = 0; // agent1 holds the only permit
      const cs = section(machine, memory, 1, []);
      sim.spawn('agent1', () => cs.release(1, 1));
      sim.spawn('agent2', () => cs.acquireAndRelease(2, 1));
      await sim.run();
    });
    expect(result.failure?.error).to.be.instanceOf(DeadlockError);
  });

  it('a newcomer past the capacity is told the queue is full, and leaves no trace', () => {
    const words = [ONE_QUEUED, 1, 0, 0, 0];
    const machine = new SemaphoreMachine(
      {
        load: (i) => words[i]!,
        store: (i, v) => void (words[i] = v),
        compareExchange: (i, e, r) => {
          const old = words[i]!;
          if (old === e) words[i] = r;
          return old;
        },
        add: (i, d) => ((words[i] = words[i]! + d), words[i]! - d),
        notify: () => 0,
      },
      0,
      1,
    );
    expect(machine.run(machine.begin(new SemaphoreTicket(), 1, 1))).to.equal(SemPc.Full);
    expect(words).to.deep.equal([ONE_QUEUED, 1, 0, 0, 0]);
    expect(machine.run(machine.begin(new SemaphoreTicket(), 1, 1, true))).to.equal(SemPc.Busy);
  });
});
