/**
 * Model check of SharedLock's algorithm (lib/threads/ticket-lock.ts), the way loom checks tokio's primitives: the
 * very steps production runs, over a simulated memory in which every operation is a choice point, explored over
 * every schedule (`dfs` exhausted). A lost wake-up would leave an agent parked forever: the harness reports that as
 * a DeadlockError, so every exhausted exploration below also proves "no lost wake-up".
 *
 * What each scenario checks as agents enter: mutual exclusion; no barging (nobody takes the lock from the free
 * state while a ticket is queued, i.e. has set QUEUED and parked); FIFO (a hand-off goes to the oldest queued
 * ticket). At the end: the lock is free and clean (no ticket, slot, sleeper or room count left behind).
 *
 * Some scenarios run from scratch (every path, the uncontended one included, is explored); others start from a
 * state set up directly in memory (a holder that died, a ticket abandoned mid-queue, a hand-off left half done),
 * so the exploration covers the races that matter in seconds.
 */
import { expect } from 'chai';
import {
  ABANDONED,
  FREE_DIED,
  Pc,
  pcName,
  QUEUED,
  STATE,
  Ticket,
  TicketLock,
  heldBy,
  waitingValue,
} from '../../lib/threads/ticket-lock.js';
import { critical, deadOffer, expectClean, holding, world } from './lock-scenario.js';
import {
  expectProven,
  simulatedAcquire,
  simulatedRecover,
  simulatedRelease,
  tracedMemory,
} from './simulated-memory.js';

describe('threads: model check of the SharedLock algorithm (every schedule)', function () {
  this.timeout(300_000);

  describe('from scratch', () => {
    it('2 agents acquire and release: the fast path against the queue', async () => {
      const runs = await expectProven(async (sim) => {
        const { memory, lock, tickets } = world(sim, 4);
        const cs = critical(lock, memory, tickets);
        sim.spawn('agent1', () => cs.acquireAndRelease(1));
        sim.spawn('agent2', () => cs.acquireAndRelease(2));
        await sim.run();
        expect(cs.entered).to.have.length(2);
        expectClean(lock, memory);
      });
      expect(runs).to.be.greaterThan(100);
    });

    it('3 agents acquire and release once each (schedules with up to 2 preemptions): exclusion, no barging, FIFO', async () => {
      await expectProven(async (sim) => {
        const { memory, lock, tickets } = world(sim, 4);
        const cs = critical(lock, memory, tickets);
        for (const agent of [1, 2, 3]) sim.spawn(`agent${agent}`, () => cs.acquireAndRelease(agent));
        await sim.run();
        expect(cs.entered).to.have.length(3);
        expectClean(lock, memory);
      }, 2);
    });

    it('the uncontended path is one operation each way, and releases notify nobody', async () => {
      await expectProven(async (sim) => {
        const { memory } = world(sim, 4);
        const operations: string[] = [];
        const traced = tracedMemory(memory, operations);
        const alone = new TicketLock(traced, 0, 4);
        sim.spawn('agent1', async () => {
          const w = await simulatedAcquire(alone, memory, 1);
          expect(w.pc).to.equal(Pc.Holds);
          await simulatedRelease(alone, memory, w);
        });
        await sim.run();
        expect(operations).to.deep.equal(['compareExchange', 'compareExchange']);
        expectClean(alone, memory);
      });
    });

    it('no room (1 slot; up to 3 preemptions): an acquirer past the capacity waits for room, is woken, gets in', async () => {
      await expectProven(async (sim) => {
        const { memory, lock, tickets } = world(sim, 1, { state: heldBy(1) });
        const cs = critical(lock, memory, tickets, 1);
        sim.spawn('agent1', () => cs.leave(holding(lock, 1)));
        sim.spawn('agent2', () => cs.acquireAndRelease(2));
        sim.spawn('agent3', () => cs.acquireAndRelease(3));
        await sim.run();
        expectClean(lock, memory);
      }, 3);
    });
  });

  describe('from prepared states', () => {
    it('no barging (up to 3 preemptions): while the holder hands over to a parked waiter, a newcomer never gets in first', async () => {
      await expectProven(async (sim) => {
        const { memory, lock, parked, tickets } = world(sim, 4, {
          state: heldBy(1) | QUEUED,
          slots: [waitingValue(2)],
          parked: [2],
        });
        const cs = critical(lock, memory, tickets, 1);
        sim.spawn('agent1', () => cs.leave(holding(lock, 1)));
        sim.spawn('agent2', () => cs.enter(parked[0]!));
        sim.spawn('agent3', () => cs.acquireAndRelease(3));
        await sim.run();
        expect(cs.entered).to.deep.equal(['agent2', 'agent3']);
        expectClean(lock, memory);
      }, 3);
    });

    it('abort against release: the waiter holds (grant wins) or gave up, never both; the lock ends clean', async () => {
      const outcomes = new Set<string>();
      await expectProven(async (sim) => {
        const { memory, lock, parked, tickets } = world(sim, 4, {
          state: heldBy(1) | QUEUED,
          slots: [waitingValue(2)],
          parked: [2],
        });
        const cs = critical(lock, memory, tickets, 1);
        const controller = new AbortController();
        sim.spawn('agent1', () => cs.leave(holding(lock, 1)));
        sim.spawn('agent2', async () => {
          const w = await cs.acquire(parked[0]!, controller.signal);
          outcomes.add(w.pc === Pc.Holds ? 'granted' : pcName(w.pc));
          if (w.pc === Pc.Holds) await cs.leave(w);
        });
        sim.spawn('canceller', async () => controller.abort());
        await sim.run();
        expectClean(lock, memory);
      });
      expect([...outcomes].sort()).to.deep.equal(['GaveUp', 'granted']);
    });

    it('a waiter that timed out mid-queue is skipped: the one behind it gets in', async () => {
      await expectProven(async (sim) => {
        const { memory, lock, parked, tickets } = world(sim, 4, {
          state: heldBy(1) | QUEUED,
          slots: [ABANDONED, waitingValue(4)],
          parked: [undefined, 4],
        });
        const cs = critical(lock, memory, tickets, 1);
        sim.spawn('agent1', () => cs.leave(holding(lock, 1)));
        sim.spawn('agent4', () => cs.enter(parked[1]!));
        await sim.run();
        expect(cs.entered).to.deep.equal(['agent4']);
        expectClean(lock, memory);
      });
    });

    it('recover against a parked waiter: the dead holder is freed; the next holder learns previousOwnerDied', async () => {
      await expectProven(async (sim) => {
        const { memory, lock, parked, tickets } = world(sim, 4, {
          state: heldBy(1) | QUEUED,
          slots: [waitingValue(2)],
          parked: [2],
        });
        const cs = critical(lock, memory, tickets);
        let told: boolean | undefined;
        sim.spawn('agent2', async () => {
          const w = await cs.acquire(parked[0]!);
          told = w.previousOwnerDied;
          await cs.leave(w);
        });
        sim.spawn('observer', async () => {
          if (!(await simulatedRecover(lock, memory, 1))) throw new Error('recover(1) found no hold');
        });
        await sim.run();
        if (told !== true) throw new Error(`the next holder was told previousOwnerDied = ${told}`);
        expectClean(lock, memory);
      });
    });

    it('two observers recover the same dead holder: exactly one frees it; a newcomer is told', async () => {
      await expectProven(async (sim) => {
        const { memory, lock, tickets } = world(sim, 4, { state: heldBy(1) });
        const cs = critical(lock, memory, tickets);
        const recovered: boolean[] = [];
        for (const observer of ['observer1', 'observer2']) {
          sim.spawn(observer, async () => recovered.push(await simulatedRecover(lock, memory, 1)));
        }
        await sim.run();
        expect(recovered.sort()).to.deep.equal([false, true]);
        expect(memory.words[STATE]).to.equal(FREE_DIED);
        expectClean(lock, memory);
        expect(cs.entered).to.deep.equal([]);
      });
    });

    it('handed to an agent that died before claiming it: recover frees it for the waiter behind', async () => {
      await expectProven(async (sim) => {
        // Agent 5 released: it offered the lock to agent 1's ticket; STATE still names agent 5 until the claim.
        const { memory, lock, cs, told } = deadOffer(sim, 5, 1);
        sim.spawn('observer', async () => {
          if (!(await simulatedRecover(lock, memory, 1))) throw new Error('recover(1) found no hold');
        });
        await sim.run();
        expect(told()).to.equal(true);
        expect(cs.entered).to.deep.equal(['agent2']);
        expectClean(lock, memory);
      });
    });

    it('a ticket taken by an agent that died before moving NEXT or queuing (up to 3 preemptions): no wedge', async () => {
      await expectProven(async (sim) => {
        // Agent 9 claimed ticket 0 and died at once (NEXT still 0, QUEUED not set); agent 1 holds.
        const { memory, lock, tickets } = world(sim, 2, {
          state: heldBy(1),
          slots: [waitingValue(9)],
          next: 0,
        });
        const cs = critical(lock, memory, tickets, 1);
        sim.spawn('agent1', () => cs.leave(holding(lock, 1)));
        sim.spawn('agent2', () => cs.acquireAndRelease(2));
        // recover(9) may find the lock handed to the dead agent already (then it frees it) or not: both are fine.
        sim.spawn('observer', () => simulatedRecover(lock, memory, 9));
        await sim.run();
        expect(cs.entered).to.deep.equal(['agent2']);
        expectClean(lock, memory, 1);
      }, 3);
    });
  });

  it('a stale claim from an earlier lap of the ring fails (the slot value changes every lap)', () => {
    const memory = { words: [0, 0, 0, 0, 0, 0] };
    const lock = new TicketLock(
      {
        load: (i) => memory.words[i]!,
        store: (i, v) => void (memory.words[i] = v),
        compareExchange: (i, e, r) => {
          const old = memory.words[i]!;
          if (old === e) memory.words[i] = r;
          return old;
        },
        add: () => 0,
        notify: () => 0,
      },
      0,
      2,
    );
    expect([lock.emptyFor(0), lock.emptyFor(1), lock.emptyFor(2), lock.emptyFor(3)]).to.deep.equal([
      0, 0, -1, -1,
    ]);
    expect(lock.emptyFor(2 ** 31)).to.not.equal(lock.emptyFor(0));
    const w = lock.begin(new Ticket(), Pc.TakeClaim, 1);
    w.ticket = 2; // a claim of ticket 2 while the slot still waits for ticket 0
    lock.step(w);
    expect(pcName(w.pc)).to.equal('TakeHelp');
  });
});
