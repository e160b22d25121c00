/**
 * `npm run bench`: every benchmark, in one process, against the peer libraries and hand-rolled minimal
 * implementations, then a summary of the targets.
 *
 *   npm run bench                 all benchmarks
 *   npm run bench -- lock queue   only some: lock, uncontended, contended, drain, cancel, queue
 *   BENCH_SCALE=0.2 npm run bench smaller batches (a quick smoke run; noisier numbers)
 *
 * See bench/README.md.
 */
import { cpus } from 'node:os';
import { benchCancel, SIZES as CANCEL_SIZES } from './cancel.bench.js';
import { ASYNC_MUTEX_MAX, benchDrain, SIZES as DRAIN_SIZES } from './drain.bench.js';
import { comparisonTable, fmtNs, fmtRatio, table, type Result } from './harness.js';
import { benchContended, benchUncontended, TASKS } from './lock.bench.js';
import { benchQueue, CAPACITY, ITEMS } from './queue.bench.js';

/** A summary row: a target (PASS/MISS against `limit`) or, without `limit`, context for reading one. */
interface Target {
  readonly name: string;
  readonly goal: string;
  readonly ratio: number;
  readonly limit?: number;
}

const scale = Number(process.env['BENCH_SCALE'] ?? '1');
const filters = process.argv.slice(2);
const selected = (name: string): boolean => filters.length === 0 || filters.some((f) => name.includes(f));
const targets: Target[] = [];

function ns(results: readonly Result[], name: string): number {
  const result = results.find((r) => r.name === name);
  if (result === undefined) throw new Error(`no result for ${name}`);
  return result.nsPerOp;
}

/** Per-op cost of `name` at the largest size over the smallest. */
function growth(bySize: readonly (readonly Result[])[], name: string): number {
  return ns(bySize[bySize.length - 1] as Result[], name) / ns(bySize[0] as Result[], name);
}

const exp = (n: number): string => `1e${Math.round(Math.log10(n))}`;

async function main(): Promise<void> {
  const started = Date.now();
  const cpu = cpus()[0]?.model ?? 'unknown cpu';
  console.log(
    `coop-sync benchmarks — node ${process.version} (V8 ${process.versions.v8}), ${process.platform}/${process.arch}, ${cpus().length} × ${cpu}`,
  );
  console.log(
    'ns/op = median of the timed rounds; spread = half the min..max range; ratio = coop-sync time / that time (lower is better)',
  );

  if (selected('uncontended') || selected('lock')) {
    const results = await benchUncontended(scale);
    comparisonTable('1. Uncontended acquire + release', results, 'hand-rolled');
    targets.push({
      name: '1. uncontended lock',
      goal: '<= 1.3x hand-rolled',
      ratio: ns(results, 'coop-sync') / ns(results, 'hand-rolled'),
      limit: 1.3,
    });
    targets.push({
      name: '   same, vs hand-rolled + guard',
      goal: 'info: API floor',
      ratio: ns(results, 'coop-sync') / ns(results, 'hand-rolled + guard'),
    });
  }

  if (selected('contended') || selected('lock')) {
    const results = await benchContended(scale);
    comparisonTable(
      `2. Contended hand-off, ${TASKS} tasks looping acquire + release (per acquire)`,
      results,
      'hand-rolled',
    );
    targets.push({
      name: '2. contended lock',
      goal: '<= 1.3x hand-rolled',
      ratio: ns(results, 'coop-sync') / ns(results, 'hand-rolled'),
      limit: 1.3,
    });
  }

  if (selected('drain')) {
    const bySize = await benchDrain(scale);
    const largest = bySize[bySize.length - 1] as Result[];
    const names = (bySize[0] as Result[]).map((r) => r.name);
    const has = (results: readonly Result[], name: string): boolean => results.some((r) => r.name === name);
    const mutator = (results: readonly Result[], name: string): number =>
      (results.find((r) => r.name === name) as Result).mutatorNsPerOp;
    const span = `${exp(DRAIN_SIZES[DRAIN_SIZES.length - 1] as number)}/${exp(DRAIN_SIZES[0])}`;
    const rows: string[][] = [
      [
        'impl',
        ...DRAIN_SIZES.map((n) => `${exp(n)} waiters`),
        span,
        `${span} excl. GC`,
        'coop-sync / impl @1e6',
      ],
    ];
    for (const name of names) {
      const full = has(largest, name);
      rows.push([
        name,
        ...bySize.map((results) =>
          has(results, name) ? `${fmtNs(ns(results, name))} (${fmtNs(mutator(results, name))})` : 'skipped',
        ),
        full ? fmtRatio(growth(bySize, name)) : '-',
        full ? fmtRatio(mutator(largest, name) / mutator(bySize[0] as Result[], name)) : '-',
        full ? fmtRatio(ns(largest, 'coop-sync') / ns(largest, name)) : '-',
      ]);
    }
    table(
      '3. Enqueue-then-drain: cost per waiter, in parentheses without GC pauses (lock held, N acquires queued, release chain drains them)',
      rows,
    );
    console.log(
      `   async-mutex skipped above ${exp(ASYNC_MUTEX_MAX)}: its waiter array is dequeued with shift(), O(n) each (quadratic drain).`,
    );
    console.log(
      '   With 1e6 waiters alive at once every promise survives scavenges and is promoted: the O(1) ring grows too.',
    );
    targets.push({
      name: `3. drain per-waiter ${span}`,
      goal: '<= 2x (flat)',
      ratio: growth(bySize, 'coop-sync'),
      limit: 2,
    });
    targets.push({
      name: '   hand-rolled ring, same',
      goal: 'info: O(1) reference',
      ratio: growth(bySize, 'hand-rolled'),
    });
    targets.push({
      name: '   coop-sync, excl. GC pauses',
      goal: 'info',
      ratio: mutator(largest, 'coop-sync') / mutator(bySize[0] as Result[], 'coop-sync'),
    });
    targets.push({
      name: '   coop-sync growth / ring growth',
      goal: '<= 2x (O(1) check)',
      ratio: growth(bySize, 'coop-sync') / growth(bySize, 'hand-rolled'),
      limit: 2,
    });
  }

  if (selected('cancel')) {
    const bySize = await benchCancel(scale);
    const span = `${exp(CANCEL_SIZES[CANCEL_SIZES.length - 1] as number)}/${exp(CANCEL_SIZES[0])}`;
    const rows: string[][] = [['removal by', ...CANCEL_SIZES.map((n) => `${exp(n)} waiters`), span]];
    const row = (label: string, value: (results: readonly Result[]) => number, format = fmtNs): void => {
      const first = value(bySize[0] as Result[]);
      const last = value(bySize[bySize.length - 1] as Result[]);
      rows.push([label, ...bySize.map((results) => format(value(results))), fmtRatio(last / first)]);
    };
    const per = (name: string) => (results: readonly Result[]) => ns(results, name);
    const over = (name: string, base: string) => (results: readonly Result[]) =>
      ns(results, name) / ns(results, base);
    row('AbortController: coop-sync', per('abort'));
    row('AbortController: runtime only', per('abort, runtime only'));
    row('AbortController: coop-sync / runtime', over('abort', 'abort, runtime only'), fmtRatio);
    row('minimal signal: coop-sync', per('abort, minimal signal'));
    row('minimal signal: runtime only', per('abort, minimal signal, runtime only'));
    row(
      'minimal signal: coop-sync / runtime',
      over('abort, minimal signal', 'abort, minimal signal, runtime only'),
      fmtRatio,
    );
    row('fake-timers timeout: coop-sync', per('timeout'));
    row('fake-timers timeout: runtime only', per('timeout, runtime only'));
    row('fake-timers timeout: coop-sync / runtime', over('timeout', 'timeout, runtime only'), fmtRatio);
    table('4. Cancelled waiters (coop-sync AsyncLock) removed in shuffled order: cost per removal', rows);
    console.log(
      '   runtime only = the same aborts/timers, each rejecting a bare promise (no queue): what Node and fake-timers cost.',
    );
    console.log(
      "   minimal signal = a one-listener stand-in for AbortSignal, so the removal timed is coop-sync's own work.",
    );
    const growth4 = (value: (results: readonly Result[]) => number): number =>
      value(bySize[bySize.length - 1] as Result[]) / value(bySize[0] as Result[]);
    targets.push({
      name: `4a. abort removal ${span}`,
      goal: '<= 2x (O(1))',
      ratio: growth4(per('abort')),
      limit: 2,
    });
    targets.push({
      name: `   coop-sync / runtime-only, ${span}`,
      goal: '<= 2x (O(1) check)',
      ratio: growth4(over('abort', 'abort, runtime only')),
      limit: 2,
    });
    targets.push({
      name: `   same, minimal signal`,
      goal: '<= 2x (O(1) check)',
      ratio: growth4(over('abort, minimal signal', 'abort, minimal signal, runtime only')),
      limit: 2,
    });
    targets.push({
      name: `4b. timeout removal ${span}`,
      goal: '<= 2x (O(1))',
      ratio: growth4(per('timeout')),
      limit: 2,
    });
    targets.push({
      name: `   coop-sync / runtime-only, ${span}`,
      goal: '<= 2x (O(1) check)',
      ratio: growth4(over('timeout', 'timeout, runtime only')),
      limit: 2,
    });
  }

  if (selected('queue')) {
    const items = Math.round(ITEMS * scale);
    const results = await benchQueue(items);
    comparisonTable(
      `5. Queue put/get, capacity ${CAPACITY}, 1 producer + 1 consumer, ${items} items (per item)`,
      results,
      'hand-rolled',
    );
    console.log(
      '   @esfx/async-queue is unbounded: its producer polls (one tick per await) while 16 items are queued',
    );
    targets.push({
      name: '5. queue put/get',
      goal: '<= 1.3x hand-rolled',
      ratio: ns(results, 'coop-sync') / ns(results, 'hand-rolled'),
      limit: 1.3,
    });
  }

  const rows: string[][] = [['target', 'goal', 'measured', 'result']];
  for (const t of targets) {
    rows.push([
      t.name,
      t.goal,
      fmtRatio(t.ratio),
      t.limit === undefined ? '' : t.ratio <= t.limit ? 'PASS' : 'MISS',
    ]);
  }
  table(`Summary (node ${process.version}, ${((Date.now() - started) / 1000).toFixed(1)} s)`, rows);
  console.log(
    'Ratios are coop-sync time over the reference; growth rows are per-op cost at the largest size over the smallest.',
  );
}

await main();
