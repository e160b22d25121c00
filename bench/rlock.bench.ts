/**
 * Workload 8: what async context costs. AsyncRLock, uncontended, against AsyncLock: acquire + release outside any
 * scope, `run`, and `run` nested three deep (each level re-enters through the async context). No peer offers a
 * reentrant async lock that follows async context, so this compares coop-sync with itself.
 *
 * On Node 20, the first `AsyncLocalStorage.run` in a process (here: the first `AsyncRLock.run`) enables async hooks
 * for every promise in the process, for good: every `await` everywhere gets slower. So this workload runs in a child
 * process of its own (`runRLockChild`), and measures AsyncLock there twice: before anything enabled the hooks, and
 * interleaved with AsyncRLock after.
 */
import { fork } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { AsyncLock } from '../lib/lock.js';
import { AsyncRLock } from '../lib/rlock.js';
import { compare, type Result, type Subject } from './harness.js';
import { task } from './peers.js';

const subjects: Subject[] = [
  {
    name: 'AsyncLock acquire + release',
    async run(n) {
      const lock = new AsyncLock();
      for (let i = 0; i < n; i++) {
        const guard = await lock.acquire();
        guard.release();
      }
    },
  },
  {
    name: 'AsyncRLock acquire + release',
    async run(n) {
      const lock = new AsyncRLock();
      for (let i = 0; i < n; i++) {
        const guard = await lock.acquire();
        guard.release();
      }
    },
  },
  {
    name: 'AsyncLock run',
    async run(n) {
      const lock = new AsyncLock();
      for (let i = 0; i < n; i++) await lock.run(task);
    },
  },
  {
    name: 'AsyncRLock run',
    async run(n) {
      const lock = new AsyncRLock();
      for (let i = 0; i < n; i++) await lock.run(task);
    },
  },
  {
    name: 'AsyncLock run x3, sequential',
    note: 'three holds, one after the other',
    async run(n) {
      const lock = new AsyncLock();
      for (let i = 0; i < n; i++) {
        await lock.run(task);
        await lock.run(task);
        await lock.run(task);
      }
    },
  },
  {
    name: 'AsyncRLock run nested x3',
    note: 'run(() => run(() => run(fn))), re-entered through async context',
    async run(n) {
      const lock = new AsyncRLock();
      for (let i = 0; i < n; i++) await lock.run(() => lock.run(() => lock.run(task)));
    },
  },
  {
    name: 'AsyncRLock acquire x3 inside run',
    note: 'depth 2-4 inside one run: acquire, then two re-entries through { owner }, release x3',
    async run(n) {
      const lock = new AsyncRLock();
      await lock.run(async () => {
        for (let i = 0; i < n; i++) {
          // A bare level keeps the scope busy: the next levels re-enter it explicitly.
          const a = await lock.acquire();
          const b = await lock.acquire({ owner: a });
          const c = await lock.acquire({ owner: b });
          c.release();
          b.release();
          a.release();
        }
      });
    },
  },
];

export interface RLockResults {
  /** AsyncLock measured before any async context was enabled in the process. */
  readonly clean: Result[];
  /** Everything, interleaved, after `AsyncRLock.run` enabled the hooks. */
  readonly hooked: Result[];
}

async function benchRLock(options: { scale: number; rounds: number }): Promise<RLockResults> {
  const run = { ops: 20_000, targetMs: 20 * options.scale, warmup: 3, rounds: options.rounds };
  const clean = await compare(
    subjects.filter((subject) => subject.name.startsWith('AsyncLock')),
    run,
  );
  const hooked = await compare(subjects, run);
  return { clean, hooked };
}

/** Runs workload 8 in a fresh child process (same node flags) and returns its results. */
export function runRLockChild(options: { scale: number; rounds: number }): Promise<RLockResults> {
  return new Promise((resolve, reject) => {
    const child = fork(fileURLToPath(import.meta.url), ['--rlock-child', JSON.stringify(options)], {
      execArgv: process.execArgv,
    });
    child.once('message', (message) => resolve(message as RLockResults));
    child.once('error', reject);
    child.once('exit', (code) => {
      if (code !== 0) reject(new Error(`workload 8 child exited with ${code}`));
    });
  });
}

if (process.argv[2] === '--rlock-child' && process.send !== undefined) {
  const results = await benchRLock(
    JSON.parse(process.argv[3] as string) as { scale: number; rounds: number },
  );
  process.send(results, () => process.exit(0));
}
