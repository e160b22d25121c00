/**
 * A simulated shared memory for the model check of the threads algorithms: every agent is a harness task, every
 * memory operation is followed by a choice point (`sim.yield()`), and futex waits park on `AsyncEvent`s, so a lost
 * wake-up leaves a task blocked forever and the harness reports a `DeadlockError`.
 */
import { expect } from 'chai';
import { AsyncEvent } from '../../lib/index.js';
import { explore, type Access, type Scenario, type Simulation } from '../../lib/testing/index.js';
import type { AtomicMemory } from '../../lib/threads/memory.js';
import { Pc, Ticket, TicketLock } from '../../lib/threads/ticket-lock.js';
import { SemaphoreMachine, SemaphoreTicket, SemPc } from '../../lib/threads/semaphore-machine.js';

/** Explores the schedules of `scenario` (dfs; with `maxDelays`, only those that preempt at most that often). */
export function explored(scenario: Scenario, maxDelays?: number) {
  return explore(scenario, {
    strategy: 'dfs',
    ...(maxDelays === undefined ? {} : { maxDelays }),
    runs: 300_000,
  });
}

/**
 * Explores every schedule of `scenario` (dfs, exhausted) and throws the first failure with its schedule and trace;
 * resolves to the number of runs. `maxDelays`: only the schedules that depart from FIFO order at most that many
 * times (for scenarios whose full space is too large for a spec run; dfs then covers every schedule within the
 * bound and cannot say "exhausted").
 */
export async function expectProven(scenario: Scenario, maxDelays?: number): Promise<number> {
  const result = await explored(scenario, maxDelays);
  if (result.failure !== undefined) {
    throw new Error(
      `${String(result.failure.error)}\nschedule: ${result.failure.schedule}\n${result.failure.trace.join('\n')}`,
    );
  }
  if (maxDelays === undefined)
    expect(result.exhausted, `not exhausted after ${result.runs} runs`).to.equal(true);
  return result.runs;
}

interface Sleeper {
  readonly event: AsyncEvent;
}

export class SimulatedMemory implements AtomicMemory {
  readonly words: number[];
  private readonly sleepers = new Map<number, Sleeper[]>();
  /** Memory operations since the last choice point: the algorithm may do at most one. */
  private operations = 0;

  constructor(
    private readonly sim: Simulation,
    size: number,
  ) {
    this.words = new Array<number>(size).fill(0);
  }

  private operation(): void {
    if (this.sim.state !== 'running') return; // checks after the run read freely
    if (++this.operations > 1) throw new Error('two memory operations in one step: interleavings are missed');
  }

  /**
   * The choice point after a step. `next`: what the step after it touches (one word), for the reduction of
   * `explore` (steps on different words commute, and so do two loads); left out, it touches everything.
   */
  async choice(next?: Access): Promise<void> {
    this.operations = 0;
    await this.sim.yield(next);
  }

  load(index: number): number {
    this.operation();
    return this.words[index]!;
  }

  store(index: number, value: number): void {
    this.operation();
    this.words[index] = value | 0;
  }

  compareExchange(index: number, expected: number, replacement: number): number {
    this.operation();
    const old = this.words[index]!;
    if (old === (expected | 0)) this.words[index] = replacement | 0;
    return old;
  }

  add(index: number, delta: number): number {
    this.operation();
    const old = this.words[index]!;
    this.words[index] = (old + delta) | 0;
    return old;
  }

  notify(index: number, count: number): number {
    this.operation();
    const list = this.sleepers.get(index) ?? [];
    const woken = list.splice(0, Math.min(count, list.length));
    for (const sleeper of woken) sleeper.event.set();
    return woken.length;
  }

  /**
   * `Atomics.wait`: compares and parks in one atomic step; resolves `false` when the word differed, `true` when
   * notified, and rejects with the signal's reason on abort (the sleeper then leaves the list).
   */
  async wait(index: number, expected: number, signal?: AbortSignal): Promise<boolean> {
    if (this.words[index] !== expected) return false;
    const sleeper = { event: new AsyncEvent({ name: `word ${index}` }) };
    const list = this.sleepers.get(index) ?? [];
    list.push(sleeper);
    this.sleepers.set(index, list);
    try {
      await sleeper.event.wait(signal === undefined ? undefined : { signal });
    } catch (error) {
      const at = list.indexOf(sleeper);
      if (at >= 0) list.splice(at, 1);
      throw error;
    }
    return true;
  }

  /** How many agents sleep on any word. */
  get sleeping(): number {
    let count = 0;
    for (const list of this.sleepers.values()) count += list.length;
    return count;
  }
}

/** Records the one operation of a step without performing it (a dry run on a copy of the registers). */
class Recorder implements AtomicMemory {
  access: Access | undefined;
  constructor(private readonly memory: SimulatedMemory) {}
  private read(index: number): number {
    this.access = { reads: [`word${index}`] };
    return this.memory.words[index]!;
  }
  private write(index: number): number {
    this.access = { writes: [`word${index}`] };
    return this.memory.words[index]!;
  }
  load(index: number): number {
    return this.read(index);
  }
  store(index: number): void {
    this.write(index);
  }
  compareExchange(index: number): number {
    return this.write(index);
  }
  add(index: number): number {
    return this.write(index);
  }
  notify(index: number): number {
    this.write(index);
    return 0;
  }
}

/** What the next step of `w` touches; `undefined` (everything) when it rests and the caller's code runs next. */
function nextAccess(lock: TicketLock, memory: SimulatedMemory, w: Ticket): Access | undefined {
  if (w.pc <= Pc.NotHeld) return undefined;
  const recorder = new Recorder(memory);
  try {
    new TicketLock(recorder, lock.base, lock.capacity).step(Object.assign(new Ticket(), w));
  } catch {
    return undefined;
  }
  return recorder.access ?? {};
}

/** `memory` seen through a proxy that records the name of every atomic operation called on it, in `operations`. */
export function tracedMemory(memory: SimulatedMemory, operations: string[]): SimulatedMemory {
  return new Proxy(memory, {
    get(target, key, receiver) {
      const value = Reflect.get(target, key, receiver) as unknown;
      if (typeof value !== 'function' || key === 'choice') return value;
      return (...args: number[]) => {
        operations.push(String(key));
        return (value as (...a: number[]) => unknown).apply(target, args);
      };
    },
  });
}

/**
 * Runs `w` from its current state to rest, one step and one choice point at a time. `onHold` runs in the very step
 * that grants the lock (so a check in it sees the other agents as they are at that moment). `stopAt`: stop for good
 * before that step (an agent that dies there); resolves to it then.
 */
export async function runSteps(
  lock: TicketLock,
  memory: SimulatedMemory,
  w: Ticket,
  onHold?: (w: Ticket) => void,
  stopAt?: Pc,
): Promise<Pc> {
  while (w.pc > Pc.NotHeld && w.pc !== stopAt) {
    lock.step(w);
    if (w.pc === Pc.Holds) onHold?.(w);
    await memory.choice(nextAccess(lock, memory, w));
  }
  return w.pc;
}

/**
 * An agent's acquire, as the async driver does it: run, park, look again when woken; an abort gives up (grant wins).
 * Resolves to the ticket, holding ({@link Pc.Holds}) or not ({@link Pc.GaveUp}), or stopped before `stopAt`.
 */
export async function simulatedAcquire(
  lock: TicketLock,
  memory: SimulatedMemory,
  agent: number,
  signal?: AbortSignal,
  w: Ticket = lock.begin(new Ticket(), Pc.AcqFast, agent),
  onHold?: (w: Ticket) => void,
  stopAt?: Pc,
): Promise<Ticket> {
  for (;;) {
    const rest = await runSteps(lock, memory, w, onHold, stopAt);
    if (rest !== Pc.Parked && rest !== Pc.ParkedForRoom) return w;
    try {
      await memory.wait(lock.waitIndex(w), lock.waitValue(w), signal);
      lock.wake(w);
    } catch {
      lock.cancel(w);
    }
  }
}

/** The release of the hold of `w.agent`; resolves to where it rests ({@link Pc.Released}). */
export async function simulatedRelease(lock: TicketLock, memory: SimulatedMemory, w: Ticket): Promise<Pc> {
  return runSteps(lock, memory, lock.beginRelease(w, w.agent));
}

/** `recover(agent)` run by an observer; resolves to whether it ended a hold of `agent`. */
export async function simulatedRecover(
  lock: TicketLock,
  memory: SimulatedMemory,
  agent: number,
): Promise<boolean> {
  const w = lock.beginRecover(new Ticket(), agent);
  await runSteps(lock, memory, w);
  return w.recovered;
}

/** What the next step of semaphore ticket `w` touches (as {@link nextAccess} for the lock). */
function nextSemaphoreAccess(
  machine: SemaphoreMachine,
  memory: SimulatedMemory,
  w: SemaphoreTicket,
): Access | undefined {
  if (w.pc <= SemPc.Released) return undefined;
  const recorder = new Recorder(memory);
  try {
    new SemaphoreMachine(recorder, machine.base, machine.capacity).step(
      Object.assign(new SemaphoreTicket(), w),
    );
  } catch {
    return undefined;
  }
  return recorder.access ?? {};
}

/**
 * Runs semaphore ticket `w` to rest, one step and one choice point at a time; `onHold` runs in the very step that
 * takes the permits.
 */
export async function runSemaphoreSteps(
  machine: SemaphoreMachine,
  memory: SimulatedMemory,
  w: SemaphoreTicket,
  onHold?: (w: SemaphoreTicket) => void,
): Promise<SemPc> {
  while (w.pc > SemPc.Released) {
    const before = w.pc;
    machine.step(w);
    // The permits are taken in Enter, or in HeadTake (the advance after it runs while they are held).
    if (w.pc === SemPc.Holds ? before === SemPc.Enter : before === SemPc.HeadTake && w.pc === SemPc.Advance) {
      onHold?.(w);
    }
    await memory.choice(nextSemaphoreAccess(machine, memory, w));
  }
  return w.pc;
}

/** An agent's semaphore acquire, as the drivers do it; an abort gives up. Resolves holding or having given up. */
export async function simulatedSemaphoreAcquire(
  machine: SemaphoreMachine,
  memory: SimulatedMemory,
  w: SemaphoreTicket,
  signal?: AbortSignal,
  onHold?: (w: SemaphoreTicket) => void,
): Promise<SemaphoreTicket> {
  for (;;) {
    const rest = await runSemaphoreSteps(machine, memory, w, onHold);
    if (rest !== SemPc.ParkedBehind && rest !== SemPc.ParkedHead) return w;
    try {
      await memory.wait(machine.waitIndex(w), w.value, signal);
      machine.wake(w);
    } catch {
      machine.cancel(w);
    }
  }
}
