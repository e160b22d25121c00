import { expect } from 'chai';
import fc from 'fast-check';
import { AsyncCondition, AsyncRLock, TimeoutError } from '../lib/index.js';
import { yieldTurns, installFakeClock } from './suites/helpers.js';

/*
 * Random programs against one AsyncRLock (Node only: re-entry follows AsyncLocalStorage).
 *
 * A program is a forest of root tasks (mutual outsiders). A task optionally yields a few microtask turns, then runs
 * its steps inside `rlock.run`: yield, spawn children (awaited together, or left to outlive the task), a bare
 * acquire/release pair (a nested run while children it left may still re-enter), a `waitFor(flag)` on a condition bound to the rlock (optionally with a fake-clock timeout),
 * or setting a flag and `notifyAll()`. Every flag also has an outsider root that sets it, so no program can
 * legitimately deadlock. Some roots are bare `acquire()`s outside any scope.
 *
 * A task is *exposed* (relies on the lock) while its fn runs, except while it is parked in a condition wait and
 * while a descendant is parked: that wait set aside every level of the hold, its ancestors' included (DESIGN §4).
 */

type Step =
  | { op: 'yield'; k: number }
  | { op: 'spawn'; children: TaskSpec[]; join: boolean }
  | { op: 'bare'; k: number }
  | { op: 'wait'; flag: number; timeout: number | undefined }
  | { op: 'signal'; flag: number };

interface TaskSpec {
  delay: number;
  steps: Step[];
}

interface Program {
  roots: TaskSpec[];
  /** One per flag: the delay before its outsider sets it. */
  notifiers: number[];
  /** Bare acquires outside any scope: delay, then how many turns the guard is held. */
  bareRoots: { delay: number; k: number }[];
}

const FLAGS = 2;
const turns = fc.nat(3);

function stepArb(depth: number): fc.Arbitrary<Step> {
  const leaves: fc.WeightedArbitrary<Step>[] = [
    { weight: 3, arbitrary: turns.map<Step>((k) => ({ op: 'yield', k })) },
    { weight: 2, arbitrary: turns.map<Step>((k) => ({ op: 'bare', k })) },
    {
      weight: 2,
      arbitrary: fc
        .record({
          flag: fc.nat(FLAGS - 1),
          timeout: fc.option(fc.integer({ min: 1, max: 4 }), { nil: undefined }),
        })
        .map<Step>(({ flag, timeout }) => ({ op: 'wait', flag, timeout })),
    },
    { weight: 1, arbitrary: fc.nat(FLAGS - 1).map<Step>((flag) => ({ op: 'signal', flag })) },
  ];
  if (depth === 0) return fc.oneof(...leaves);
  const spawn = fc
    .record({ children: fc.array(taskArb(depth - 1), { minLength: 1, maxLength: 3 }), join: fc.boolean() })
    .map<Step>(({ children, join }) => ({ op: 'spawn', children, join }));
  return fc.oneof(...leaves, { weight: 4, arbitrary: spawn });
}

function taskArb(depth: number): fc.Arbitrary<TaskSpec> {
  return fc.record({ delay: fc.nat(2), steps: fc.array(stepArb(depth), { maxLength: 4 }) });
}

const programArb: fc.Arbitrary<Program> = fc.record({
  roots: fc.array(taskArb(2), { minLength: 1, maxLength: 3 }),
  notifiers: fc.array(fc.nat(8), { minLength: FLAGS, maxLength: FLAGS }),
  bareRoots: fc.array(fc.record({ delay: fc.nat(4), k: turns }), { maxLength: 2 }),
});

class Task {
  inside = false;
  parked = false;
  done = false;
  readonly depth: number;
  constructor(
    readonly name: string,
    readonly parent: Task | undefined,
  ) {
    this.depth = parent === undefined ? 1 : parent.depth + 1;
  }
  isAncestorOf(other: Task): boolean {
    for (let task = other.parent; task !== undefined; task = task.parent) if (task === this) return true;
    return false;
  }
  toString(): string {
    return `${this.name}${this.inside ? '[inside]' : ''}${this.parked ? '[parked]' : ''}`;
  }
}

async function execute(program: Program): Promise<void> {
  const rlock = new AsyncRLock({ name: 'prop' });
  const cond = new AsyncCondition(rlock, { name: 'cond' });
  const flags: boolean[] = new Array<boolean>(FLAGS).fill(false);
  const tasks: Task[] = [];
  const violations: string[] = [];
  const state = () => `${rlock.toString()} ${cond.toString()}`;

  const exposed = (task: Task): boolean =>
    task.inside && !task.parked && !tasks.some((other) => other.parked && task.isAncestorOf(other));

  function check(where: Task): void {
    const holders = tasks.filter(exposed);
    if (holders.length > 0 && !rlock.locked)
      violations.push(`${where}: ${holders.join(',')} exposed, ${state()}`);
    for (let i = 0; i < holders.length; i++) {
      for (let j = i + 1; j < holders.length; j++) {
        const [a, b] = [holders[i] as Task, holders[j] as Task];
        if (!a.isAncestorOf(b) && !b.isAncestorOf(a))
          violations.push(`exclusion (seen by ${where.name}): ${a} and ${b} both inside, ${state()}`);
      }
    }
  }

  async function turnsOf(task: Task, k: number): Promise<void> {
    for (let i = 0; i < k; i++) {
      await Promise.resolve();
      check(task);
    }
  }

  async function step(task: Task, s: Step): Promise<void> {
    switch (s.op) {
      case 'yield':
        await turnsOf(task, s.k);
        break;
      case 'spawn': {
        const children = s.children.map((child, i) => spawn(child, `${task.name}.${i}`, task));
        if (s.join) await Promise.all(children);
        check(task);
        break;
      }
      case 'bare': {
        // While children it left running may still re-enter, a bare level would make their run a LockError (it
        // could be the bare level's own nested call): a scope with live children takes a nested run instead.
        const hold = async () => {
          check(task);
          await turnsOf(task, s.k);
        };
        if (tasks.some((other) => other.parent === task && !other.done)) {
          await rlock.run(hold);
        } else {
          const guard = await rlock.acquire();
          await hold();
          guard.release();
        }
        check(task);
        break;
      }
      case 'wait':
        await rlock.run(async () => {
          check(task);
          try {
            await cond.waitFor(
              () => {
                task.parked = false;
                check(task);
                const ready = flags[s.flag];
                task.parked = !ready;
                return ready;
              },
              s.timeout === undefined ? undefined : { timeout: s.timeout },
            );
          } catch (error) {
            if (!(error instanceof TimeoutError)) throw error;
          }
          task.parked = false;
          check(task);
        });
        break;
      case 'signal':
        await rlock.run(() => {
          check(task);
          flags[s.flag] = true;
          cond.notifyAll();
        });
        break;
    }
  }

  async function spawn(spec: TaskSpec, name: string, parent: Task | undefined): Promise<void> {
    const task = new Task(name, parent);
    tasks.push(task);
    try {
      for (let i = 0; i < spec.delay; i++) await Promise.resolve();
      await rlock.run(async () => {
        task.inside = true;
        check(task);
        // Its own level plus every exposed ancestor's: all are active levels of the one stack.
        let expected = 1;
        for (let a = task.parent; a !== undefined; a = a.parent) if (exposed(a)) expected++;
        if (!rlock.owned) violations.push(`${task}: not owned on entry, ${state()}`);
        if (rlock.depth < expected) violations.push(`${task}: depth ${rlock.depth} < ${expected} on entry`);
        try {
          for (const s of spec.steps) await step(task, s);
        } finally {
          task.inside = false;
          check(task);
        }
      });
    } catch (error) {
      violations.push(`${task} failed: ${String(error)}`);
    } finally {
      task.done = true;
    }
  }

  async function bareRoot(delay: number, k: number, name: string): Promise<void> {
    const task = new Task(name, undefined);
    tasks.push(task);
    try {
      for (let i = 0; i < delay; i++) await Promise.resolve();
      const guard = await rlock.acquire();
      task.inside = true;
      check(task);
      if (rlock.owned) violations.push(`${task}: a bare acquire outside any scope opened one`);
      await turnsOf(task, k);
      task.inside = false;
      guard.release();
      check(task);
    } catch (error) {
      violations.push(`${task} failed: ${String(error)}`);
    } finally {
      task.done = true;
    }
  }

  const clock = installFakeClock();
  try {
    program.roots.forEach((root, i) => void spawn(root, `r${i}`, undefined));
    program.bareRoots.forEach(({ delay, k }, i) => void bareRoot(delay, k, `bare${i}`));
    program.notifiers.forEach(
      (delay, flag) => void spawn({ delay, steps: [{ op: 'signal', flag }] }, `notify${flag}`, undefined),
    );
    for (let round = 0; round < 100 && !tasks.every((task) => task.done); round++) {
      await yieldTurns(20);
      clock.tick(1);
    }
  } finally {
    clock.restore();
  }
  const stuck = tasks.filter((task) => !task.done);
  expect(stuck.length, `deadlock: ${state()}; stuck: ${stuck.join(', ')}`).to.equal(0);
  expect(violations, violations.join('\n')).to.have.length(0);
  expect(rlock.locked, state()).to.equal(false);
  expect(rlock.depth, state()).to.equal(0);
  expect(rlock.waiting, state()).to.equal(0);
  expect(cond.waiting, state()).to.equal(0);
}

describe('AsyncRLock (property, async context)', () => {
  it('excludes all but one lineage, makes progress and ends free, across random task trees', async function () {
    this.timeout(30_000); // green in well under a second; shrinking a failure takes longer
    await fc.assert(fc.asyncProperty(programArb, execute), { numRuns: 200, seed: 0x5eed });
  });
});
