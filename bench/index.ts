/**
 * `npm run bench`: every workload of issue 7, in one process, against the peer libraries and hand-rolled minimal
 * implementations, then a summary of the targets (PASS/MISS, and whether coop-sync is ahead of every peer).
 *
 *   npm run bench                         all workloads (about 2-3 minutes on 2 cores)
 *   npm run bench -- --quick              a fast sanity pass: smaller batches and sizes, fewer rounds
 *   npm run bench -- drain cancel         only workloads whose number or name matches a word
 *   npm run bench -- --json results.json  also write every result as JSON
 *   npm run bench -- --markdown rows.md   also write the summary as a Markdown table (for docs/benchmarks.md)
 *   npm run bench -- redis                workload 10 only (starts a private redis-server: Debian's redis-server)
 *
 * `npm run bench` runs `node --expose-gc --import tsx bench/index.ts` (workload 7 needs a real `gc()`).
 * See bench/README.md.
 */
import { writeFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { benchCancel, benchSharedSignal, listenersLeft } from './cancel.bench.js';
import { benchDrain, QUADRATIC, QUADRATIC_MAX } from './drain.bench.js';
import { benchDiagnostics, benchKeyed, benchReadMostly, idleKeyBytes, KEYS } from './everyday.bench.js';
import { comparisonTable, fmtNs, fmtRatio, table, type Result } from './harness.js';
import { LIMIT, benchLimiter, TASKS as LIMITER_TASKS } from './limiter.bench.js';
import { benchContended, benchUncontended, benchUncontendedRun, TASKS } from './lock.bench.js';
import { benchMemory, WAITERS } from './memory.bench.js';
import { peerVersions, REFERENCES } from './peers.js';
import {
  benchRateLimiter,
  CALLS as RATE_CALLS,
  INTERVAL as RATE_INTERVAL,
  LIMIT as RATE_LIMIT,
} from './rate-limiter.bench.js';
import { benchQueue, benchUnboundedQueue, CAPACITY, ITEMS, UNBOUNDED_ITEMS } from './queue.bench.js';
import { runRLockChild } from './rlock.bench.js';
import { benchFinds, benchProofs, benchSimulation } from './simulation.bench.js';
import { benchRedis, CONTENDERS as REDIS_CONTENDERS } from './redis.bench.js';
import { benchThreadsContended, benchThreadsUncontended, WORKERS } from './threads.bench.js';

// ---- command line --------------------------------------------------------------------------------------------

const args = process.argv.slice(2);
const quick = args.includes('--quick');
const jsonAt = args.indexOf('--json');
const jsonFile = jsonAt >= 0 ? args[jsonAt + 1] : undefined;
if (jsonAt >= 0 && (jsonFile === undefined || jsonFile.startsWith('--')))
  throw new Error('--json needs a file name');
const markdownAt = args.indexOf('--markdown');
const markdownFile = markdownAt >= 0 ? args[markdownAt + 1] : undefined;
if (markdownAt >= 0 && (markdownFile === undefined || markdownFile.startsWith('--')))
  throw new Error('--markdown needs a file name');
const filters = args.filter(
  (arg, i) =>
    !arg.startsWith('--') && !(jsonAt >= 0 && i === jsonAt + 1) && !(markdownAt >= 0 && i === markdownAt + 1),
);
/** A number selects its workload exactly ("1" is not "10"); a name selects every workload whose word contains it. */
const selects = (filter: string, word: string): boolean =>
  /^\d+$/.test(filter) ? word === filter : word.includes(filter);

/** Sizes and rounds: the figures, or a quick pass (noisier, smaller sizes). */
const plan = quick
  ? {
      scale: 0.2,
      lockOps: 100_000,
      lockWarmup: 1,
      rounds: 3,
      limiterTasks: 20_000,
      queueItems: 100_000,
      unboundedItems: 20_000,
      drainSizes: [1e3, 1e4, 1e5],
      cancelSizes: [1e3, 1e4],
      memoryWaiters: 20_000,
      memoryRounds: 1,
      listenerCount: 10_000,
      rateCalls: 10_000,
      sharedSignalWaiters: 1e4,
    }
  : {
      scale: 1,
      lockOps: 1_000_000,
      lockWarmup: 1,
      rounds: 7,
      limiterTasks: LIMITER_TASKS,
      queueItems: ITEMS,
      unboundedItems: UNBOUNDED_ITEMS,
      drainSizes: [1e3, 1e4, 1e5, 1e6],
      cancelSizes: [1e3, 1e4, 1e5],
      memoryWaiters: WAITERS,
      memoryRounds: 3,
      listenerCount: 100_000,
      rateCalls: RATE_CALLS,
      sharedSignalWaiters: 1e5,
    };

// ---- summary -------------------------------------------------------------------------------------------------

/** One line of the summary table. */
interface SummaryRow {
  readonly row: string;
  readonly goal: string;
  readonly measured: string;
  /** PASS/MISS against the goal; `undefined` for a row given as context. */
  readonly pass?: boolean | undefined;
  /** 'yes', 'no: <peers ahead>', or '-' when no peer offers the operation. */
  readonly ahead?: string | undefined;
}

/** What a workload gets: the plan, a place for its summary rows and for its raw results (`--json`). */
interface WorkloadContext {
  readonly quick: boolean;
  readonly plan: typeof plan;
  summary(row: SummaryRow): void;
  record(key: string, data: unknown): void;
}

/** A workload of the bench: `words` select it on the command line (its number and its names). */
interface Workload {
  readonly id: string;
  readonly words: readonly string[];
  run(context: WorkloadContext): Promise<void>;
}

const isPeer = (name: string): boolean => name !== 'coop-sync' && !REFERENCES.has(name);

function ns(results: readonly Result[], name: string): number {
  const result = results.find((r) => r.name === name);
  if (result === undefined) throw new Error(`no result for ${name}`);
  return result.nsPerOp;
}

/**
 * "yes" when coop-sync is faster than every peer in `results` (by at least `factor`: a peer must take `factor` times
 * as long), else the peers that are not that much slower.
 */
function aheadIn(results: readonly Result[], ours = 'coop-sync', factor = 1): string {
  const mine = ns(results, ours);
  const behind = results
    .filter((r) => isPeer(r.name) && r.name !== ours && r.nsPerOp < mine * factor)
    .map((r) => r.name);
  return behind.length === 0 ? 'yes' : `no: ${behind.join(', ')}`;
}

/** A ratio-to-reference target row with the "ahead of every peer" column. */
function ratioRow(
  row: string,
  results: readonly Result[],
  limit: number,
  reference = 'hand-rolled',
  /** The goal also asks to be this many times faster than every peer (the "ahead" column checks it). */
  aheadBy = 1,
): SummaryRow {
  const ratio = ns(results, 'coop-sync') / ns(results, reference);
  const ahead = aheadIn(results, 'coop-sync', aheadBy);
  return {
    row,
    goal: `<= ${limit}x ${reference}` + (aheadBy === 1 ? '' : `, ${aheadBy}x ahead of every peer`),
    measured: fmtRatio(ratio),
    pass: ratio <= limit && (aheadBy === 1 || ahead === 'yes'),
    ahead,
  };
}

const exp = (n: number): string => `1e${Math.round(Math.log10(n))}`;

/** Per-op cost of `name` at the largest size it ran at over the smallest; its largest size. */
function growthOf(bySize: readonly (readonly Result[])[], sizes: readonly number[], name: string) {
  let last = -1;
  bySize.forEach((results, i) => {
    if (results.some((r) => r.name === name)) last = i;
  });
  const first = ns(bySize[0] as Result[], name);
  return { growth: ns(bySize[last] as Result[], name) / first, upTo: sizes[last] as number };
}

/** Whether `ours` costs less per op than `peer` at every size both ran at. */
function cheaperEverywhere(bySize: readonly (readonly Result[])[], ours: string, peer: string): boolean {
  return bySize.every(
    (results) => !results.some((r) => r.name === peer) || ns(results, ours) < ns(results, peer),
  );
}

/** A table of per-op cost by size, with the growth of each row; returns nothing, prints. */
function sizeTable(
  title: string,
  bySize: readonly (readonly Result[])[],
  sizes: readonly number[],
  names: readonly string[],
  label: (name: string) => string = (name) => name,
): void {
  const span = `${exp(sizes[sizes.length - 1] as number)}/${exp(sizes[0] as number)}`;
  const rows: string[][] = [['impl', ...sizes.map((n) => `${exp(n)}`), `growth ${span}`]];
  for (const name of names) {
    const { growth, upTo } = growthOf(bySize, sizes, name);
    rows.push([
      label(name),
      ...bySize.map((results) =>
        results.some((r) => r.name === name) ? fmtNs(ns(results, name)) : 'skipped',
      ),
      upTo === sizes[sizes.length - 1] ? fmtRatio(growth) : `${fmtRatio(growth)} (to ${exp(upTo)} only)`,
    ]);
  }
  table(title, rows);
}

// ---- the workloads ---------------------------------------------------------------------------------------------

const uncontended: Workload = {
  id: '1',
  words: ['1', 'lock', 'uncontended'],
  async run({ plan, summary, record }) {
    const options = { ops: plan.lockOps, warmup: plan.lockWarmup, rounds: plan.rounds };
    const guard = await benchUncontended(options);
    comparisonTable(
      `1a. Uncontended acquire + release, guard API (${plan.lockOps} a batch)`,
      guard,
      'hand-rolled',
    );
    const run = await benchUncontendedRun(options);
    comparisonTable(`1b. Uncontended run(fn) (${plan.lockOps} a batch)`, run, 'hand-rolled');
    record('1a', guard);
    record('1b', run);
    // The goals of the core (issue 13): the guard API against the ring that resolves to a fresh guard (the API
    // floor on this V8), run(fn) against the hand-rolled run.
    summary(ratioRow('1a. uncontended, guard API', guard, 1.05, 'hand-rolled + guard'));
    summary({
      row: '    same, vs bare hand-rolled',
      goal: 'context: no guard object',
      measured: fmtRatio(ns(guard, 'coop-sync') / ns(guard, 'hand-rolled')),
    });
    summary(ratioRow('1b. uncontended, run(fn)', run, 1.1));
  },
};

const contended: Workload = {
  id: '2',
  words: ['2', 'lock', 'contended'],
  async run({ plan, summary, record }) {
    const results = await benchContended({ ops: plan.lockOps, warmup: plan.lockWarmup, rounds: plan.rounds });
    comparisonTable(
      `2. Contended: ${TASKS} tasks x ${plan.lockOps / TASKS} acquisitions, an await inside (per acquisition)`,
      results,
      'hand-rolled',
    );
    record('2', results);
    summary(ratioRow('2. contended hand-off', results, 1.2));
    summary({
      row: '    same, vs hand-rolled + guard',
      goal: 'context: the API floor',
      measured: fmtRatio(ns(results, 'coop-sync') / ns(results, 'hand-rolled + guard')),
    });
  },
};

const limiter: Workload = {
  id: '3',
  words: ['3', 'limiter', 'semaphore'],
  async run({ plan, summary, record }) {
    const results = await benchLimiter({ tasks: plan.limiterTasks, warmup: 1, rounds: plan.rounds });
    comparisonTable(
      `3. Semaphore(${LIMIT}) / limiter over ${plan.limiterTasks} trivial async tasks, all submitted at once (per task)`,
      results,
      'hand-rolled',
    );
    const once = results.filter((r) => r.rounds === 1 && plan.rounds > 1).map((r) => r.name);
    if (once.length > 0)
      console.log(`   measured once (quadratic, a batch takes over a second): ${once.join(', ')}`);
    record('3', results);
    summary(ratioRow('3. semaphore(10) over 1e5 tasks', results, 0.8, 'hand-rolled', 1.5));
  },
};

const queue: Workload = {
  id: '4',
  words: ['4', 'queue'],
  async run({ plan, summary, record }) {
    const bounded = await benchQueue(plan.queueItems, Math.min(plan.rounds, 5));
    comparisonTable(
      `4a. Queue, capacity ${CAPACITY}, 1 producer + 1 consumer, ${plan.queueItems} items (per item)`,
      bounded,
      'hand-rolled',
    );
    console.log(
      '   @esfx/async-queue is unbounded: its producer polls (one tick per await) while 16 items are queued',
    );
    const unbounded = await benchUnboundedQueue(plan.unboundedItems, Math.min(plan.rounds, 5));
    comparisonTable(
      `4b. Queue, unbounded, 1 producer + 1 consumer, ${plan.unboundedItems} items (per item)`,
      unbounded,
      'hand-rolled',
    );
    console.log(
      '   @esfx/async-queue: its consumer falls behind and its array shift() goes quadratic as the backlog grows',
    );
    record('4a', bounded);
    record('4b', unbounded);
    summary(ratioRow('4a. queue put/get, capacity 16', bounded, 1.3));
    summary(ratioRow('4b. queue put/get, unbounded', unbounded, 1.3));
  },
};

const scaling: Workload = {
  id: '5',
  words: ['5', 'drain', 'scaling'],
  async run({ plan, summary, record }) {
    const sizes = plan.drainSizes;
    const bySize = await benchDrain(sizes, plan.scale);
    const names = (bySize[0] as Result[]).map((r) => r.name);
    sizeTable(
      '5. Enqueue N waiters on a held lock, then drain: ns per waiter (enqueue, grant, release, resume)',
      bySize,
      sizes,
      names,
    );
    console.log(
      `   ${[...QUADRATIC].join(', ')}: skipped above ${exp(QUADRATIC_MAX)} (waiter arrays dequeued with shift(): quadratic).`,
    );
    record('5', { sizes, results: bySize });
    const span = `${exp(sizes[sizes.length - 1] as number)}/${exp(sizes[0] as number)}`;
    const ours = growthOf(bySize, sizes, 'coop-sync').growth;
    const ring = growthOf(bySize, sizes, 'hand-rolled').growth;
    const behind = names.filter((name) => isPeer(name) && !cheaperEverywhere(bySize, 'coop-sync', name));
    summary({
      row: `5. drain, per-waiter growth ${span}`,
      goal: '<= 1.3x the ring growth (issue 13)',
      measured: `${fmtRatio(ours)} (${fmtRatio(ours / ring)} of the ring's)`,
      pass: ours <= 1.3 * ring,
      ahead: behind.length === 0 ? 'yes' : `no: ${behind.join(', ')}`,
    });
    summary({ row: '    hand-rolled ring, same', goal: 'context: O(1) reference', measured: fmtRatio(ring) });
  },
};

const cancellation: Workload = {
  id: '6',
  words: ['6', 'cancel'],
  async run({ plan, summary, record }) {
    const sizes = plan.cancelSizes;
    const bySize = await benchCancel(sizes, plan.scale);
    const names = (bySize[0] as Result[]).map((r) => r.name);
    sizeTable(
      '6. N waiters cancelled in shuffled order: ns per removal (abort: AbortController; timeout: @sinonjs/fake-timers)',
      bySize,
      sizes,
      names,
      (name) =>
        ({
          abort: 'abort: coop-sync',
          'abort, runtime only': 'abort: runtime only (no queue)',
          'abort, minimal signal': 'abort, minimal signal: coop-sync',
          'abort, minimal signal, runtime only': 'abort, minimal signal: runtime only',
          timeout: 'timeout: coop-sync',
          'timeout, runtime only': 'timeout: runtime only (no queue)',
        })[name] ?? name,
    );
    console.log(
      '   runtime only = the same aborts/timers rejecting bare promises: what Node and fake-timers cost.',
    );
    console.log(
      "   minimal signal = a one-listener stand-in for AbortSignal: the removal timed is coop-sync's own work.",
    );
    console.log('   p-queue removes an aborted task with findIndex + splice (quadratic): to 1e4 only.');
    console.log(
      '   async-mutex and async-lock leave a timed-out waiter queued (skipped on its turn): removal is deferred.',
    );
    const listeners = await listenersLeft(plan.listenerCount);
    table(`6c. Listeners left on one AbortSignal reused for ${plan.listenerCount} queued acquisitions`, [
      ['impl', 'listeners'],
      ...listeners.map((l) => [l.name, String(l.listeners)]),
    ]);
    record('6', { sizes, results: bySize, listeners });

    const span = `${exp(sizes[sizes.length - 1] as number)}/${exp(sizes[0] as number)}`;
    const growth = (name: string): number => growthOf(bySize, sizes, name).growth;
    const aheadOf = (ours: string, prefix: string): string => {
      const behind = names
        .filter((name) => name.startsWith(prefix))
        .filter((name) => !cheaperEverywhere(bySize, ours, name))
        .map((name) => name.slice(prefix.length));
      return behind.length === 0 ? 'yes' : `no: ${behind.join(', ')}`;
    };
    const over = (ours: string, base: string): number => {
      const at = (results: readonly Result[]): number => ns(results, ours) / ns(results, base);
      return at(bySize[bySize.length - 1] as Result[]) / at(bySize[0] as Result[]);
    };
    summary({
      row: `6a. abort, per-removal growth ${span}`,
      goal: '<= 2x',
      measured: fmtRatio(growth('abort')),
      pass: growth('abort') <= 2,
      ahead: aheadOf('abort', 'abort: '),
    });
    summary({
      row: '    same, over runtime-only growth',
      goal: '<= 2x (O(1) check)',
      measured: fmtRatio(over('abort', 'abort, runtime only')),
      pass: over('abort', 'abort, runtime only') <= 2,
    });
    summary({
      row: `6b. timeout, per-removal growth ${span}`,
      goal: '<= 2x',
      measured: fmtRatio(growth('timeout')),
      pass: growth('timeout') <= 2,
      ahead: aheadOf('timeout', 'timeout: '),
    });
    summary({
      row: '    same, over runtime-only growth',
      goal: '<= 2x (O(1) check)',
      measured: fmtRatio(over('timeout', 'timeout, runtime only')),
      pass: over('timeout', 'timeout, runtime only') <= 2,
    });
    const ours = (listeners.find((l) => l.name === 'coop-sync') as { listeners: number }).listeners;
    const worse = listeners.filter((l) => l.name !== 'coop-sync' && l.listeners <= ours).map((l) => l.name);
    summary({
      row: `6c. listeners left on a reused signal`,
      goal: '0',
      measured: String(ours),
      pass: ours === 0,
      ahead: worse.length === 0 ? 'yes' : `tie: ${worse.join(', ')}`,
    });
    const sharedSize = plan.sharedSignalWaiters;
    const shared = await benchSharedSignal(sharedSize, plan.scale > 0.5 ? 3 : 1);
    table(
      `6d. ${sharedSize} waiters queued on one AbortSignal vs a signal each: ns per waiter (park + settle)`,
      [
        ['case', 'ns/waiter', 'listeners at peak'],
        ...shared.map((r) => [r.name, fmtNs(r.nsPerWaiter), String(r.listenersAtPeak)]),
      ],
    );
    record('6d', { size: sharedSize, results: shared });
    const perWaiter = (name: string): number =>
      (shared.find((r) => r.name === name) as { nsPerWaiter: number }).nsPerWaiter;
    const sharedOver = Math.max(
      perWaiter('granted, one shared signal') / perWaiter('granted, a signal each'),
      perWaiter('aborted, one shared signal') / perWaiter('aborted, a signal each'),
    );
    const peakListeners = Math.max(
      ...shared.filter((r) => r.name.includes('shared')).map((r) => r.listenersAtPeak),
    );
    summary({
      row: `6d. ${exp(sharedSize)} waiters on one signal, over a signal each`,
      goal: '<= 1.5x, 1 listener',
      measured: `${fmtRatio(sharedOver)}, ${peakListeners} listener(s)`,
      pass: sharedOver <= 1.5 && peakListeners === 1,
    });
  },
};

const memory: Workload = {
  id: '7',
  words: ['7', 'memory'],
  async run({ plan, summary, record }) {
    const exposed = typeof (globalThis as { gc?: unknown }).gc === 'function';
    const results = await benchMemory(plan.memoryWaiters, plan.memoryRounds);
    const hand = (results.find((r) => r.name === 'hand-rolled') as { bytesPerWaiter: number }).bytesPerWaiter;
    table(
      `7. Heap bytes per pending waiter, ${plan.memoryWaiters} waiters${exposed ? '' : ' (no --expose-gc!)'}`,
      [
        ['impl', 'bytes/waiter', 'ratio to hand-rolled'],
        ...results.map((r) => [
          r.name + (r.note ? ` (${r.note})` : ''),
          r.bytesPerWaiter.toFixed(0),
          fmtRatio(r.bytesPerWaiter / hand),
        ]),
      ],
    );
    record('7', results);
    const ours = (results.find((r) => r.name === 'coop-sync') as { bytesPerWaiter: number }).bytesPerWaiter;
    const behind = results
      .filter((r) => isPeer(r.name) && !r.name.startsWith('coop-sync') && r.bytesPerWaiter <= ours)
      .map((r) => r.name);
    summary({
      row: '7. heap bytes per pending waiter',
      goal: '<= 200 B (issue 13)',
      measured: `${ours.toFixed(0)} B`,
      pass: ours <= 200,
      ahead: behind.length === 0 ? 'yes' : `no: ${behind.join(', ')}`,
    });
    summary({
      row: '    hand-rolled ring, same',
      goal: 'context: the floor',
      measured: `${hand.toFixed(0)} B`,
    });
    const run = (results.find((r) => r.name === 'coop-sync run') as { bytesPerWaiter: number })
      .bytesPerWaiter;
    const runPeers = results.filter(
      (r) => r.note?.startsWith('run-only') === true && r.bytesPerWaiter <= run,
    );
    summary({
      row: '7b. heap bytes per queued run(fn)',
      goal: '<= 300 B',
      measured: `${run.toFixed(0)} B`,
      pass: run <= 300,
      ahead: runPeers.length === 0 ? 'yes' : `no: ${runPeers.map((r) => r.name).join(', ')}`,
    });
  },
};

const rlock: Workload = {
  id: '8',
  words: ['8', 'rlock'],
  async run({ plan, summary, record }) {
    const { clean, hooked } = await runRLockChild({ scale: plan.scale, rounds: plan.rounds });
    comparisonTable(
      '8. AsyncLock in a process where no async context was ever enabled (per operation)',
      clean,
      '',
    );
    comparisonTable(
      '8. AsyncRLock vs AsyncLock, uncontended, once AsyncRLock.run has run (per operation)',
      hooked,
      '',
    );
    console.log(
      '   On Node 20 the first AsyncLocalStorage.run (the first AsyncRLock.run) turns on async hooks for every promise',
    );
    console.log('   in the process, for good: this workload runs in a child process of its own.');
    record('8', { clean, hooked });
    const pair = (row: string, rlockName: string, lockName: string): void =>
      summary({
        row,
        goal: 'vs AsyncLock; no peer',
        measured: `${fmtRatio(ns(hooked, rlockName) / ns(clean, lockName))} (${fmtRatio(ns(hooked, rlockName) / ns(hooked, lockName))} hooked)`,
        ahead: '-',
      });
    pair('8a. AsyncRLock acquire + release', 'AsyncRLock acquire + release', 'AsyncLock acquire + release');
    pair('8b. AsyncRLock run', 'AsyncRLock run', 'AsyncLock run');
    pair('8c. AsyncRLock run nested x3', 'AsyncRLock run nested x3', 'AsyncLock run x3, sequential');
    summary({
      row: '    AsyncLock run, hooks on vs off',
      goal: 'context: process-wide cost',
      measured: fmtRatio(ns(hooked, 'AsyncLock run') / ns(clean, 'AsyncLock run')),
    });
  },
};

const redis: Workload = {
  id: '10',
  words: ['10', 'redis'],
  async run({ quick, summary, record }) {
    const plan = quick
      ? { cycles: 200, contended: 200, rounds: 3 }
      : { cycles: 1000, contended: 1000, rounds: 5 };
    const result = await benchRedis(plan);
    const names = Object.keys(result.commands);
    comparisonTable(
      `10a. coop-sync/redis: acquire + release of a free lock, one client, loopback (${plan.cycles} a batch)`,
      result.roundTrip,
      'redlock',
    );
    const perSecond = (name: string, by = result.contended) => Math.round(by[name]!).toLocaleString('en-US');
    table(
      `10b. ${REDIS_CONTENDERS} clients contending for one lock, one INCR inside (${plan.contended} acquisitions; client commands from MONITOR)`,
      [
        [
          'impl',
          'acquisitions/s',
          'coop-sync / impl',
          '+ INCR outside: acq/s',
          'coop-sync / impl',
          'longest wait',
          'commands per free cycle',
          'per contended acquisition',
          'server CPU / acq',
          'client CPU / acq',
        ],
        ...names.map((name) => [
          name,
          perSecond(name),
          fmtRatio(result.contended[name]! / result.contended['coop-sync']!),
          perSecond(name, result.contendedWithWork),
          fmtRatio(result.contendedWithWork[name]! / result.contendedWithWork['coop-sync']!),
          `${result.longestWaitMs[name]!.toFixed(1)} ms`,
          result.commands[name]!.toFixed(2),
          result.contendedCommands[name]!.toFixed(2),
          `${result.serverCpuUs[name]!.toFixed(0)} µs`,
          `${result.clientCpuUs[name]!.toFixed(0)} µs`,
        ]),
      ],
    );
    console.log('   ratio columns: time per acquisition, coop-sync over the peer (lower is better).');
    console.log(
      '   redlock retries every 10 ms +-5 (default 200), redis-semaphore every 10 ms: both poll while waiting, and',
    );
    console.log(
      '   a client that releases and at once acquires again takes the lock back before the pollers look (barging);',
    );
    console.log('   coop-sync hands every release to the longest waiter (FIFO), woken by a notification.');
    record('10', result);
    const peers = names.filter((name) => name !== 'coop-sync');
    const ours = result.commands['coop-sync']!;
    const fewest = Math.min(...peers.map((name) => result.commands[name]!));
    summary({
      row: '10a. redis: commands per free acquire + release',
      goal: '<= best peer',
      measured: `${ours.toFixed(2)} (best peer ${fewest.toFixed(2)})`,
      pass: ours <= fewest,
      ahead: aheadIn(result.roundTrip),
    });
    const contendedRow = (row: string, by: Record<string, number>) => {
      const slower = peers.filter((name) => by[name]! >= by['coop-sync']!);
      const best = Math.max(...peers.map((name) => by[name]!));
      summary({
        row,
        goal: 'ahead of both peers',
        measured: `${Math.round(by['coop-sync']!).toLocaleString('en-US')}/s (${fmtRatio(by['coop-sync']! / best)} best peer)`,
        pass: slower.length === 0,
        ahead: slower.length === 0 ? 'yes' : `no: ${slower.join(', ')}`,
      });
    };
    contendedRow(`10b. redis: contended, ${REDIS_CONTENDERS} clients back to back`, result.contended);
    contendedRow('    same, one INCR outside the lock', result.contendedWithWork);
    summary({
      row: '    longest wait for one acquisition (back to back)',
      goal: 'context: FIFO',
      measured: names.map((name) => `${name} ${result.longestWaitMs[name]!.toFixed(1)} ms`).join(', '),
    });
    summary({
      row: '    commands per contended acquisition',
      goal: 'context',
      measured: names.map((name) => `${name} ${result.contendedCommands[name]!.toFixed(1)}`).join(', '),
    });
    summary({
      row: '    server CPU per contended acquisition',
      goal: 'context',
      measured: names.map((name) => `${name} ${result.serverCpuUs[name]!.toFixed(0)} µs`).join(', '),
    });
  },
};

const threads: Workload = {
  id: '11',
  words: ['11', 'threads'],
  async run({ plan, quick, summary, record }) {
    const alone = await benchThreadsUncontended(plan.lockOps, plan.rounds);
    comparisonTable(
      '11a. coop-sync/threads: SharedLock uncontended acquire + release, main thread',
      alone,
      'futex mutex',
    );
    const perWorker = quick ? 5_000 : 20_000;
    const contended = await benchThreadsContended(perWorker, quick ? 1 : 3);
    comparisonTable(
      `11b. coop-sync/threads: ${WORKERS} workers contending (lock, increment, unlock), ns per round`,
      contended,
      'futex mutex',
    );
    record('11', { uncontended: alone, contended });
    const ratio = (results: readonly Result[], a: string, b: string) => ns(results, a) / ns(results, b);
    const sync = ratio(alone, 'SharedLock acquireSync', 'futex mutex');
    summary({
      row: '11a. SharedLock uncontended (acquireSync)',
      goal: '<= 1.5x futex mutex',
      measured: fmtRatio(sync),
      pass: sync <= 1.5,
      ahead: '-',
    });
    summary({
      row: '     same, acquire (async)',
      goal: 'context: vs futex, awaited',
      measured: fmtRatio(ratio(alone, 'SharedLock acquire (async)', 'futex mutex, awaited')),
    });
    const server = ratio(contended, 'postMessage lock server', 'SharedLock acquireSync');
    summary({
      row: `11b. SharedLock contended, ${WORKERS} workers`,
      goal: '>= 10x ahead of postMessage server',
      measured: `${fmtRatio(server)} ahead`,
      pass: server >= 10,
      ahead: '-',
    });
    summary({
      row: '     same, acquire (async)',
      goal: '>= 10x ahead of postMessage server',
      measured: `${fmtRatio(ratio(contended, 'postMessage lock server', 'SharedLock acquire'))} ahead`,
      pass: ratio(contended, 'postMessage lock server', 'SharedLock acquire') >= 10,
    });
    summary({
      row: '     SharedLock acquireSync vs futex mutex',
      goal: 'context: the floor (unfair)',
      measured: fmtRatio(ratio(contended, 'SharedLock acquireSync', 'futex mutex')),
    });
  },
};

const everyday: Workload = {
  id: '13',
  words: ['13', 'everyday', 'rwlock', 'keyed', 'diagnostics'],
  async run({ plan, summary, record }) {
    const ops = Math.round(plan.lockOps / 5);
    const rounds = Math.min(plan.rounds, 5);
    const rw = await benchReadMostly({ ops, rounds });
    comparisonTable(
      `13a. AsyncRWLock, 100 tasks, 90 % reads, an await inside (${ops} holds a batch)`,
      rw,
      'hand-rolled',
    );
    const keyed = await benchKeyed({ ops, rounds });
    comparisonTable(
      `13b. AsyncKeyedLock over ${KEYS} keys, 100 tasks, an await inside (${ops} holds a batch)`,
      keyed,
      'hand-rolled',
    );
    const keys = plan.memoryWaiters;
    const idle = await idleKeyBytes(keys);
    console.log(
      `\n10c. ${keys} distinct keys locked and released: size ${idle.size}, heap ${idle.total >= 0 ? '+' : ''}${Math.round(idle.total / 1024)} KiB (${idle.perKey.toFixed(1)} B a key)`,
    );
    const diagnostics = await benchDiagnostics({ ops: plan.lockOps, rounds });
    comparisonTable(
      `13d. Uncontended AsyncLock, a subscriber on every coop-sync:* channel vs none`,
      diagnostics,
      'coop-sync',
    );
    record('10a', rw);
    record('10b', keyed);
    record('10c', idle);
    record('10d', diagnostics);
    summary(ratioRow('13a. rwlock read-mostly', rw, 1.5));
    summary({
      row: '    same, vs @esfx/async-readerwriterlock',
      goal: 'report',
      measured: fmtRatio(ns(rw, 'coop-sync') / ns(rw, '@esfx/async-readerwriterlock')),
    });
    summary(ratioRow('13b. keyed lock over 1e4 keys', keyed, 1.5));
    summary({
      row: '    same, vs async-lock',
      goal: 'report',
      measured: fmtRatio(ns(keyed, 'coop-sync') / ns(keyed, 'async-lock')),
    });
    summary({
      row: `13c. idle keys keep no memory (${exp(keys)} keys)`,
      goal: 'size 0, < 8 B a key',
      measured: `size ${idle.size}, ${idle.perKey.toFixed(1)} B a key`,
      pass: idle.size === 0 && idle.perKey < 8,
      ahead: '-',
    });
    summary({
      row: '13d. diagnostics subscribed, uncontended lock',
      goal: 'context: cost when on',
      measured: fmtRatio(ns(diagnostics, 'subscribed') / ns(diagnostics, 'coop-sync')),
    });
  },
};

const harness: Workload = {
  id: '9',
  words: ['9', 'harness', 'simulation'],
  async run({ plan, summary, record }) {
    // Last on purpose: the harness follows tasks through async context, which turns on Node 20's async hooks for
    // the rest of the process.
    const rows = await benchSimulation(plan.scale);
    table('9. coop-sync/testing: explore() throughput (no peer offers a harness)', [
      ['scenario', 'steps', 'steps/s', 'schedules/s'],
      ...rows.map((r) => [
        r.name,
        String(r.steps),
        Math.round(r.stepsPerSecond).toLocaleString('en-US'),
        Math.round(r.schedulesPerSecond).toLocaleString('en-US'),
      ]),
    ]);
    record('9', rows);
    const lowest = (key: 'stepsPerSecond' | 'schedulesPerSecond') => Math.min(...rows.map((r) => r[key]));
    summary({
      row: '9. harness steps per second (lowest scenario)',
      goal: 'report; no peer',
      measured: Math.round(lowest('stepsPerSecond')).toLocaleString('en-US'),
      ahead: '-',
    });
    summary({
      row: '   harness schedules per second (lowest)',
      goal: 'report; no peer',
      measured: Math.round(lowest('schedulesPerSecond')).toLocaleString('en-US'),
      ahead: '-',
    });

    // The bug zoo (issue 18): proofs with and without the reduction, and finds, auto against the best strategy.
    const cap = plan.scale < 1 ? 5_000 : 20_000;
    const proofs = await benchProofs(cap);
    const count = (n: number, exhausted: boolean) =>
      exhausted ? n.toLocaleString('en-US') : `> ${n.toLocaleString('en-US')}`;
    table('9b. proofs of the zoo: schedules with / without the reduction (dfs)', [
      ['fixed scenario', 'with', 'without', 'ratio'],
      ...proofs.map((p) => [
        p.name,
        count(p.reduced, p.reducedExhausted),
        count(p.full, p.fullExhausted),
        `${p.fullExhausted ? '' : '< '}${(p.reduced / p.full).toFixed(3)}x`,
      ]),
    ]);
    record('9b', proofs);
    const large = proofs.filter((p) => p.full > 100 && p.name !== 'four-task invariant');
    const worst = Math.max(...large.map((p) => p.reduced / p.full));
    summary({
      row: '9b. proofs with reduction / without (worst, where > 100)',
      goal: '<= 0.1',
      measured: `${worst.toFixed(3)}x (${large.length} proofs)`,
      pass: worst <= 0.1 && proofs.every((p) => p.reducedExhausted),
      ahead: '-',
    });
    const four = proofs.find((p) => p.name === 'four-task invariant')!;
    summary({
      row: '    four-task invariant proven in',
      goal: '<= 50,000 schedules',
      measured: count(four.reduced, four.reducedExhausted),
      pass: four.reducedExhausted && four.reduced <= 50_000,
      ahead: '-',
    });
    const finds = await benchFinds(plan.scale < 1 ? 7 : 21, 2000);
    const labels = Object.keys(finds[0]!.medians);
    table(`9c. the zoo's bugs: median schedules to find each (${plan.scale < 1 ? 7 : 21} seeds, cap 2000)`, [
      ['bug', ...labels, 'auto / best'],
      ...finds.map((f) => [
        f.name,
        ...labels.map((l) => (f.medians[l] === Infinity ? 'never' : String(f.medians[l]))),
        fmtRatio(f.ratio),
      ]),
    ]);
    record('9c', finds);
    const worstFind = Math.max(...finds.map((f) => f.ratio));
    summary({
      row: '9c. auto finds, median / best strategy median (worst bug)',
      goal: '<= 2x',
      measured: fmtRatio(worstFind),
      pass: worstFind <= 2,
      ahead: '-',
    });
  },
};

const rateLimiter: Workload = {
  id: '12',
  words: ['12', 'rate', 'limiter', 'throttle'],
  async run({ plan, summary, record }) {
    const n = plan.rateCalls;
    const rounds = plan.rounds >= 7 ? 5 : 3;
    const results = await benchRateLimiter(n, rounds);
    table(
      `12. Rate limiter: ${n} calls at ${RATE_LIMIT} per ${RATE_INTERVAL} ms in fake time, seeded bursts (median of ${rounds} rounds)`,
      [
        ['impl', 'per call', 'timers created', `worst ${RATE_INTERVAL} ms window`, 'its own law', 'kept'],
        ...results.map((r) => [
          r.calls === n ? r.name : `${r.name} (${r.calls} calls)`,
          fmtNs(r.nsPerCall),
          String(r.timersCreated),
          String(r.worstWindow),
          r.law.kind === 'bucket'
            ? `burst + ${RATE_LIMIT}·t/${RATE_INTERVAL} (excess ${r.bucketExcess!.toFixed(2)} <= ${r.law.burst})`
            : `<= ${RATE_LIMIT} per ${RATE_INTERVAL} ms`,
          r.withinLaw ? 'yes' : 'NO',
        ]),
      ],
    );
    console.log(
      '   per call: wall time from the first arrival to the last call run, including the fake clock driver (a real',
    );
    console.log('   setImmediate after every timer fired and every burst), alike for all.');
    record('12', results);
    const peers = results.filter((r) => !r.name.startsWith('coop-sync'));
    const row = (label: string, name: string): void => {
      const ours = results.find((r) => r.name === name)!;
      const faster = peers.filter((r) => r.nsPerCall <= ours.nsPerCall).map((r) => r.name);
      summary({
        row: label,
        goal: 'law kept; report',
        measured: `${fmtNs(ours.nsPerCall)}/call, ${ours.timersCreated} timers, worst window ${ours.worstWindow}`,
        pass: ours.withinLaw,
        ahead: faster.length === 0 ? 'yes' : `no: ${faster.join(', ')}`,
      });
    };
    row(`12a. rate limiter strict, ${exp(n)} calls`, 'coop-sync strict');
    row(`12b. rate limiter bucket, ${exp(n)} calls`, 'coop-sync bucket');
    const over = peers.filter((r) => !r.withinLaw);
    summary({
      row: '    peers over their own limit',
      goal: 'report',
      measured:
        over.length === 0 ? 'none' : over.map((r) => `${r.name} (${r.worstWindow}/${RATE_LIMIT})`).join(', '),
      ahead: '-',
    });
  },
};

/**
 * Every workload, in order. A new workload is added here (and nowhere else): its `words` select it on the command
 * line, and what it reports through its context lands in the summary table and the JSON file.
 */
const workloads: Workload[] = [
  uncontended,
  contended,
  limiter,
  queue,
  scaling,
  cancellation,
  memory,
  rlock,
  redis,
  threads, // before the harness, which turns async hooks on for the rest of the process
  rateLimiter, // fake time, no hooks
  everyday,
  harness,
];

// ---- main ----------------------------------------------------------------------------------------------------

async function main(): Promise<void> {
  const started = Date.now();
  const cpu = cpus()[0]?.model ?? 'unknown cpu';
  const machine = `node ${process.version} (V8 ${process.versions.v8}), ${process.platform}/${process.arch}, ${cpus().length} x ${cpu}`;
  console.log(`coop-sync benchmarks${quick ? ' (--quick: smaller sizes, fewer rounds)' : ''} — ${machine}`);
  console.log(`peers: ${peerVersions().join(', ')}`);
  console.log(
    'ns/op = median of the timed rounds; spread = half the min..max range; ratio = coop-sync time / that time (lower is better)',
  );

  const rows: (SummaryRow & { workload: string })[] = [];
  const recorded: Record<string, unknown> = {};
  for (const workload of workloads) {
    if (filters.length > 0 && !filters.some((f) => workload.words.some((word) => selects(f, word)))) continue;
    await workload.run({
      quick,
      plan,
      summary: (row) => rows.push({ workload: workload.id, ...row }),
      record: (key, data) => (recorded[key] = data),
    });
  }

  const seconds = (Date.now() - started) / 1000;
  table(`Summary (${machine}; ${seconds.toFixed(0)} s)`, [
    ['row', 'goal', 'measured', 'result', 'ahead of every peer'],
    ...rows.map((r) => [
      r.row,
      r.goal,
      r.measured,
      r.pass === undefined ? '' : r.pass ? 'PASS' : 'MISS',
      r.ahead ?? '',
    ]),
  ]);
  console.log(
    'Ratios are coop-sync time over the reference (lower is better); growth = per-op cost at the largest N over the smallest.',
  );

  if (markdownFile !== undefined) {
    const cell = (text: string): string => text.replace(/\|/g, '\\|').trim();
    const lines = [
      `Summary of \`npm run bench\` (${machine}; ${seconds.toFixed(0)} s, ${new Date().toISOString().slice(0, 10)})`,
      '',
      '| row | goal | measured | result | ahead of every peer |',
      '| --- | --- | ---: | --- | --- |',
      ...rows.map(
        (r) =>
          `| ${/^\s/.test(r.row) ? '↳ ' : ''}${cell(r.row)} | ${cell(r.goal)} | ${cell(r.measured)} | ${r.pass === undefined ? '' : r.pass ? 'PASS' : 'MISS'} | ${cell(r.ahead ?? '')} |`,
      ),
    ];
    writeFileSync(markdownFile, `${lines.join('\n')}\n`);
    console.log(`Summary written to ${markdownFile}`);
  }

  if (jsonFile !== undefined) {
    writeFileSync(
      jsonFile,
      `${JSON.stringify({ machine, quick, date: new Date().toISOString(), seconds, peers: peerVersions(), summary: rows, results: recorded }, null, 2)}\n`,
    );
    console.log(`Results written to ${jsonFile}`);
  }
}

await main();
