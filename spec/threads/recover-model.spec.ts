/**
 * Model check of `recover` in SharedLock's algorithm (lib/threads/ticket-lock.ts has the model), as
 * spec/threads/model.spec.ts does for the rest: the very steps production runs, explored over every schedule.
 *
 * An agent dies by taking no more steps, before one given step of its release (or of its claim of a hand-off); an
 * observer then runs `recover` for it (in the same task, so its steps come after the death and interleave with the
 * others'). The live agents must all still get the lock, with mutual exclusion, no barging and FIFO checked as they
 * enter, and no lost wake-up (a parked agent left asleep is a DeadlockError). `recover` must say whether the dead
 * agent held the lock, and exactly the first holder after it must be told `previousOwnerDied` when it did.
 *
 * With one live agent (parked) besides the dying one, `dfs` is exhausted; where a live agent arrives from scratch or
 * waits for room, or there are two live agents, the schedules with up to `maxDelays` preemptions are (their full
 * space is beyond a spec run).
 */
import { expect } from 'chai';
import type { Simulation } from '../../lib/testing/index.js';
import {
  ABANDONED,
  Pc,
  pcName,
  QUEUED,
  Ticket,
  heldBy,
  offeredValue,
  waitingValue,
} from '../../lib/threads/ticket-lock.js';
import { critical, deadOffer, expectClean, holding, world, type Setup } from './lock-scenario.js';
import { expectProven, simulatedAcquire, simulatedRecover } from './simulated-memory.js';

interface Case {
  title: string;
  capacity: number;
  setup: Setup;
  /** Agents that acquire from scratch once each. */
  newcomers?: number[];
  /** The steps before which the dying agent dies, one exploration each (some schedules may not reach them). */
  steps: Pc[];
  /** Bound the exploration to the schedules with this many preemptions at most. */
  maxDelays?: number;
}

/** Agent 1 holds and releases, and dies; the others live. */
const RELEASER: Case[] = [
  {
    title: 'agent 2 parked',
    capacity: 4,
    setup: { state: heldBy(1) | QUEUED, slots: [waitingValue(2)], parked: [2] },
    steps: [Pc.RelFast, Pc.RelClearQueued, Pc.RelLoadHead, Pc.RelLoadSlot, Pc.RelOffer, Pc.RelNotify],
  },
  {
    title: 'an abandoned ticket, then agent 2 parked',
    capacity: 4,
    setup: { state: heldBy(1) | QUEUED, slots: [ABANDONED, waitingValue(2)], parked: [undefined, 2] },
    steps: [Pc.RelSkipClear, Pc.RelSkipHead, Pc.RelSkipRoom],
  },
  {
    title: 'an abandoned ticket, agent 2 waiting for room (1 slot)',
    capacity: 1,
    setup: { state: heldBy(1) | QUEUED, slots: [ABANDONED], room: 2 },
    steps: [Pc.RelSkipHead, Pc.RelSkipRoom, Pc.RelSkipRoomNotify],
    maxDelays: 4,
  },
  {
    title: 'nobody queued yet (agent 1 claimed through the queue), agent 2 arriving',
    capacity: 4,
    setup: { state: heldBy(1) | QUEUED },
    newcomers: [2],
    steps: [Pc.RelFast, Pc.RelFree],
    maxDelays: 4,
  },
  {
    title: 'agent 2 parked, agent 3 arriving',
    capacity: 4,
    setup: { state: heldBy(1) | QUEUED, slots: [waitingValue(2)], parked: [2] },
    newcomers: [3],
    steps: [Pc.RelClearQueued, Pc.RelLoadSlot, Pc.RelOffer, Pc.RelNotify],
    maxDelays: 3,
  },
];

/** Agent 1 has released, offering the lock to agent 2 (STATE still names agent 1); agent 2 dies claiming it. */
const CLAIMER: Case[] = [
  {
    title: 'agent 3 parked behind',
    capacity: 4,
    setup: { state: heldBy(1), slots: [offeredValue(2), waitingValue(3)], parked: [2, 3] },
    steps: [Pc.Poll, Pc.Claim, Pc.ClaimClear, Pc.ClaimHead, Pc.ClaimRoom],
  },
  {
    title: 'agent 3 waiting for room (1 slot)',
    capacity: 1,
    setup: { state: heldBy(1), slots: [offeredValue(2)], parked: [2], room: 3 },
    steps: [Pc.ClaimHead, Pc.ClaimRoom, Pc.ClaimRoomNotify],
    maxDelays: 4,
  },
];

/**
 * One exploration of `c`: the dying agent (agent 1 releasing, or agent 2 claiming its hand-off) dies before
 * `stopAt` (or finishes, in schedules that never reach it), then its observer recovers it. Resolves to whether it
 * died.
 */
function scenario(c: Case, stopAt: Pc, releasing: boolean) {
  return async (sim: Simulation): Promise<boolean> => {
    const { memory, lock, parked, tickets } = world(sim, c.capacity, c.setup);
    const cs = critical(lock, memory, tickets, releasing ? 1 : 0);
    const told: boolean[] = [];
    const granted = cs.granted;
    cs.granted = (w: Ticket) => {
      granted(w);
      told.push(w.previousOwnerDied);
    };
    const dying = releasing ? holding(lock, 1) : parked[0]!;
    if (!releasing) dying.pc = Pc.Poll; // it was notified: it looks at its slot next
    const live = [
      ...parked.filter((w) => w !== undefined && w !== dying).map((w) => w!.agent),
      ...(c.newcomers ?? []),
    ];
    let died = false;
    let recovered: boolean | undefined;
    sim.spawn(`agent${dying.agent} (then its observer)`, async () => {
      if (releasing) await cs.leave(dying, stopAt);
      else await simulatedAcquire(lock, memory, dying.agent, undefined, dying, cs.granted, stopAt);
      died = dying.pc === stopAt;
      if (died) dying.queued = false; // a dead ticket is nobody's turn: the next may not overtake nobody
      if (!died && !releasing) await cs.leave(dying);
      recovered = await simulatedRecover(lock, memory, dying.agent);
    });
    for (const w of parked)
      if (w !== undefined && w !== dying) sim.spawn(`agent${w.agent}`, () => cs.enter(w));
    for (const agent of c.newcomers ?? []) sim.spawn(`agent${agent}`, () => cs.acquireAndRelease(agent));
    await sim.run();
    const entered = cs.entered.filter((name) => name !== `agent${dying.agent}`);
    expect([...entered].sort()).to.deep.equal(live.sort().map((agent) => `agent${agent}`));
    // A releaser holds the lock until its offer succeeds; a claimer holds it from the offer on.
    const held = died && !(releasing && stopAt === Pc.RelNotify);
    if (recovered !== held)
      throw new Error(`recover(${dying.agent}) = ${recovered}; it held the lock: ${held}`);
    const after = told.slice(told.length - entered.length);
    expect(after, 'previousOwnerDied').to.deep.equal(entered.map((_, i) => i === 0 && held));
    expectClean(lock, memory);
    return died;
  };
}

function proveEach(c: Case, releasing: boolean): void {
  const bound = c.maxDelays === undefined ? '' : ` (up to ${c.maxDelays} preemptions)`;
  describe(`${releasing ? 'agent 1 dies releasing' : 'agent 2 dies claiming'}; ${c.title}${bound}`, () => {
    for (const stopAt of c.steps) {
      it(`dies before ${pcName(stopAt)}: the others get the lock`, async () => {
        let deaths = 0;
        const run = scenario(c, stopAt, releasing);
        await expectProven(async (sim) => {
          if (await run(sim)) deaths++;
        }, c.maxDelays);
        expect(deaths, `no schedule reaches ${pcName(stopAt)}`).to.be.greaterThan(0);
      });
    }
  });
}

describe('threads: model check of SharedLock.recover, an agent dying at each step (every schedule)', function () {
  this.timeout(300_000);

  it('the cases die before every step of a release and of a claim', () => {
    const steps = (cases: Case[]) => [...new Set(cases.flatMap((c) => c.steps))].map(pcName).sort();
    expect(steps(RELEASER)).to.deep.equal(
      ['RelFast', 'RelClearQueued', 'RelLoadHead', 'RelLoadSlot', 'RelFree', 'RelSkipClear', 'RelSkipHead']
        .concat(['RelSkipRoom', 'RelSkipRoomNotify', 'RelOffer', 'RelNotify'])
        .sort(),
    );
    expect(steps(CLAIMER)).to.deep.equal(
      ['Poll', 'Claim', 'ClaimClear', 'ClaimHead', 'ClaimRoom', 'ClaimRoomNotify'].sort(),
    );
  });

  for (const c of RELEASER) proveEach(c, true);
  for (const c of CLAIMER) proveEach(c, false);

  for (const observers of [
    [1, 9],
    [9, 9],
  ]) {
    it(`a dead releaser (1) and the dead agent it offered the lock to (9): recover(${observers.join(') and recover(')}) at once (up to 3 preemptions)`, async () => {
      await expectProven(async (sim) => {
        // Agent 1 offered the lock to agent 9 (STATE still names agent 1); both died; agent 2 waits behind.
        const { memory, lock, cs, told } = deadOffer(sim, 1, 9);
        const results: string[] = [];
        observers.forEach((agent, i) =>
          sim.spawn(`observer${i + 1}`, async () =>
            results.push(`${agent}:${await simulatedRecover(lock, memory, agent)}`),
          ),
        );
        await sim.run();
        // Agent 1 held nothing (it had offered the lock); exactly one observer of agent 9 ends its hold.
        expect(results.sort()).to.deep.equal(
          observers[0] === 1 ? ['1:false', '9:true'] : ['9:false', '9:true'],
        );
        expect(told()).to.equal(true);
        expect(cs.entered).to.deep.equal(['agent2']);
        expectClean(lock, memory);
      }, 3);
    });
  }
});
