/**
 * AsyncLock vs AsyncRLock: `sizeOf(directory)` holds the tree's lock while it adds up a directory, so that no one
 * moves entries under it, and calls itself for each subdirectory. On an AsyncLock the inner call waits for the lock
 * its own caller holds: a deadlock, which the harness reports as a `DeadlockError` naming every blocked task and the
 * lock it waits on, instead of hanging. On an AsyncRLock the inner calls re-enter, and a second task that wants the
 * lock waits until the outermost call has released it.
 *
 * The inner calls pass the guard they run under as `owner`, which re-enters on every runtime; on Node (and wherever
 * an async context exists) `run()` without it re-enters as well.
 */
import { AsyncLock, AsyncRLock, type Guard } from 'coop-sync';
import { DeadlockError, Simulation, formatTimeline } from 'coop-sync/testing';
import { defaultSeed, runMain, type ExampleOptions, type Print } from './run-main.js';

interface Directory {
  readonly name: string;
  readonly bytes: number;
  readonly children: readonly Directory[];
}

const tree: Directory = {
  name: '/',
  bytes: 1,
  children: [
    { name: '/docs', bytes: 4, children: [{ name: '/docs/old', bytes: 9, children: [] }] },
    { name: '/src', bytes: 16, children: [] },
  ],
};

/** Walks the tree under `lock` from the task `walker`, while `mover` wants the lock at 15 ms. */
async function walk(print: Print, lock: AsyncLock | AsyncRLock, seed: number): Promise<void> {
  const sim = new Simulation({ strategy: 'random', seed });

  async function sizeOf(directory: Directory, owner?: Guard): Promise<number> {
    const section = async (guard: Guard): Promise<number> => {
      await sim.sleep(10); // read the directory
      sim.log(`reads ${directory.name}`);
      let total = directory.bytes;
      for (const child of directory.children) {
        if (lock instanceof AsyncLock) sim.log(`sizeOf(${child.name}): acquire`);
        total += await sizeOf(child, guard);
      }
      return total;
    };
    // AsyncLock has no owner: a second acquire waits, whoever asks.
    return lock instanceof AsyncRLock ? lock.run(section, { owner }) : lock.run(section);
  }

  sim.spawn('walker', async () => {
    const total = await sizeOf(tree);
    sim.log(`total ${total} bytes`);
  });
  sim.spawn('mover', async () => {
    await sim.sleep(15);
    if (lock.locked) sim.log('lock held: waits');
    await lock.run(async () => {
      sim.log('moves /src');
    });
  });

  print(`-- sizeOf() on an ${lock instanceof AsyncLock ? 'AsyncLock' : 'AsyncRLock'} --`);
  try {
    await sim.run();
  } catch (error) {
    if (!(error instanceof DeadlockError)) throw error;
    for (const line of formatTimeline(sim.history).split('\n')) print(line);
    print(`${error.name} at ${sim.now}ms, reported instead of a hang:`);
    for (const { task, waitingOn } of error.blocked) print(`  ${task} waits on ${waitingOn}`);
    return;
  }
  for (const line of formatTimeline(sim.history).split('\n')) print(line);
  print(`done at ${sim.now}ms: ${lock}`);
}

export async function main(print: Print = console.log, options: ExampleOptions = {}): Promise<void> {
  const seed = options.seed ?? defaultSeed;
  await walk(print, new AsyncLock({ name: 'tree' }), seed);
  print('');
  await walk(print, new AsyncRLock({ name: 'tree' }), seed);
}

runMain(import.meta.url, main);
