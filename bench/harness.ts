/**
 * A small benchmark harness: warm-up, several timed rounds, median. Subjects of one comparison run interleaved
 * (round-robin, rotating the order each round) in the same process, so drift (thermal, GC, JIT tiering) hits them
 * all alike. No GC is forced between batches (see {@link RunOptions.forceGc}); GC pauses inside a batch are
 * recorded (PerformanceObserver) so that a table can show the cost with and without them.
 *
 * @module
 */
import { performance, PerformanceObserver } from 'node:perf_hooks';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';

/** `globalThis.gc` when node runs with `--expose-gc`, else the same function obtained at run time. */
export const gc: () => void = (() => {
  const exposed = (globalThis as { gc?: () => void }).gc;
  if (typeof exposed === 'function') return exposed;
  setFlagsFromString('--expose-gc');
  return runInNewContext('gc') as () => void;
})();

/**
 * A contender: `run(n)` performs one timed batch of `n` operations. `setup` (untimed) runs before every batch.
 * A `run` that resolves to a `Timed` value has measured the relevant part itself (excluding its own setup).
 */
export interface Subject {
  readonly name: string;
  readonly note?: string;
  setup?(n: number): unknown;
  run(n: number, state: unknown): Promise<unknown> | unknown;
}

/** What a self-timing `run` returns: the nanoseconds it measured. */
export class Timed {
  constructor(readonly ns: number) {}
}

/** Nanoseconds since an arbitrary origin. */
export function now(): number {
  return Number(process.hrtime.bigint());
}

export interface Result {
  readonly name: string;
  readonly note: string | undefined;
  /** Median nanoseconds per operation over the timed rounds. */
  readonly nsPerOp: number;
  /** Smallest and largest round, for spread. */
  readonly minNs: number;
  readonly maxNs: number;
  /** Median ns/op with the garbage collector's pauses during the batch taken out (self-timed runs: `nsPerOp`). */
  readonly mutatorNsPerOp: number;
  /** Timed rounds behind the median (1 for a subject cut short by `slowBatchMs`). */
  readonly rounds: number;
}

/** GC pauses seen so far, as [start, end] in `performance.now()` milliseconds. */
const pauses: [number, number][] = [];
new PerformanceObserver((list) => {
  for (const entry of list.getEntries()) pauses.push([entry.startTime, entry.startTime + entry.duration]);
}).observe({ entryTypes: ['gc'] });

/** Milliseconds of GC pause inside [from, to]; call after the observer has had a turn of the event loop. */
function pausedMs(from: number, to: number): number {
  let total = 0;
  for (const [start, end] of pauses) total += Math.max(0, Math.min(end, to) - Math.max(start, from));
  pauses.length = 0;
  return total;
}

export interface RunOptions {
  /** Operations per batch (the first warm-up batch, when `targetMs` is set). */
  readonly ops: number;
  /**
   * When set, each subject's batch size is recalibrated after its first warm-up batch so that a batch takes about
   * this long (slow peers then cost no more time than fast ones). Batch sizes stay multiples of `granularity`.
   */
  readonly targetMs?: number;
  readonly granularity?: number;
  /**
   * Run a full GC before every batch (default false). Off by default: a forced full GC shrinks the young generation
   * and resets V8's allocation heuristics, so the batch after it runs in an unrepresentative state (measured: 2-4x
   * slower per op for small batches, and unevenly so across implementations). Batches are long enough (tens of ms,
   * many scavenges each) that one batch's garbage billed to the next is noise.
   */
  readonly forceGc?: boolean;
  /** Untimed batches per subject before measuring. */
  readonly warmup: number;
  /** Timed batches per subject; the median is reported. */
  readonly rounds: number;
  /**
   * A subject whose first warm-up batch takes longer than this (a peer that goes quadratic) gets no more warm-up
   * and a single timed round, so that it cannot dominate the run time. Its result is marked `slow`.
   */
  readonly slowBatchMs?: number;
}

export function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 === 1
    ? (sorted[mid] as number)
    : ((sorted[mid - 1] as number) + (sorted[mid] as number)) / 2;
}

/** One batch: [ns, ns without GC pauses]. */
async function timeBatch(subject: Subject, ops: number, forceGc: boolean): Promise<[number, number]> {
  const state = subject.setup?.(ops);
  if (forceGc) gc();
  const from = performance.now();
  const start = process.hrtime.bigint();
  const result = await subject.run(ops, state);
  const elapsed = Number(process.hrtime.bigint() - start);
  const to = performance.now();
  if (result instanceof Timed) return [result.ns, result.ns];
  // Let the observer deliver this batch's GC entries (they arrive a turn or two of the event loop later).
  for (let turn = 0; turn < 2; turn++) await new Promise((resolve) => setImmediate(resolve));
  await new Promise((resolve) => setTimeout(resolve, 0));
  return [elapsed, elapsed - pausedMs(from, to) * 1e6];
}

/** Runs every subject `warmup + rounds` times, interleaved, and returns the median ns/op of each. */
export async function compare(subjects: readonly Subject[], options: RunOptions): Promise<Result[]> {
  const samples = subjects.map((): number[] => []);
  const mutator = subjects.map((): number[] => []);
  const ops = subjects.map(() => options.ops);
  const slow = subjects.map(() => false);
  const unit = options.granularity ?? 1;
  for (let round = 0; round < options.warmup + options.rounds; round++) {
    for (let k = 0; k < subjects.length; k++) {
      const index = (k + round) % subjects.length;
      const taken = samples[index] as number[];
      if (slow[index]) continue; // measured once already
      const n = ops[index] as number;
      const [ns, withoutGc] = await timeBatch(subjects[index] as Subject, n, options.forceGc ?? false);
      if (round === 0 && options.slowBatchMs !== undefined && ns > options.slowBatchMs * 1e6)
        slow[index] = true;
      if (round >= options.warmup || slow[index]) {
        taken.push(ns / n);
        (mutator[index] as number[]).push(withoutGc / n);
      } else if (round === 0 && options.targetMs !== undefined) {
        ops[index] = Math.max(unit, Math.round((options.targetMs * 1e6) / (ns / n) / unit) * unit);
      }
    }
  }
  return subjects.map((subject, i) => {
    const s = samples[i] as number[];
    return {
      name: subject.name,
      note: subject.note,
      nsPerOp: median(s),
      minNs: Math.min(...s),
      maxNs: Math.max(...s),
      mutatorNsPerOp: median(mutator[i] as number[]),
      rounds: s.length,
    };
  });
}

/** A deterministic PRNG (mulberry32), so every run removes waiters in the same "random" order. */
export function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** A permutation of `0..n-1`, shuffled with a fixed seed. */
export function shuffled(n: number, seed = 42): Uint32Array {
  const order = new Uint32Array(n);
  for (let i = 0; i < n; i++) order[i] = i;
  const random = rng(seed);
  for (let i = n - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    const t = order[i] as number;
    order[i] = order[j] as number;
    order[j] = t;
  }
  return order;
}

// ---- formatting ----------------------------------------------------------------------------------------------

export function fmtNs(ns: number): string {
  return ns >= 1000 ? `${(ns / 1000).toFixed(2)} µs` : `${ns.toFixed(1)} ns`;
}

export function fmtOps(nsPerOp: number): string {
  const ops = 1e9 / nsPerOp;
  if (ops >= 1e6) return `${(ops / 1e6).toFixed(2)} M`;
  if (ops >= 1e3) return `${(ops / 1e3).toFixed(1)} k`;
  return ops.toFixed(0);
}

export function fmtRatio(ratio: number): string {
  return `${ratio.toFixed(2)}x`;
}

/** Prints an aligned table; the first row is the header. Numeric-looking cells are right-aligned. */
export function table(title: string, rows: readonly (readonly string[])[]): void {
  const widths: number[] = [];
  for (const row of rows) row.forEach((cell, i) => (widths[i] = Math.max(widths[i] ?? 0, cell.length)));
  const line = (row: readonly string[]): string =>
    row
      .map((cell, i) =>
        /^[\d.]/.test(cell) && i > 0 ? cell.padStart(widths[i] as number) : cell.padEnd(widths[i] as number),
      )
      .join('  ')
      .trimEnd();
  console.log(`\n${title}`);
  const [header, ...body] = rows;
  if (header === undefined) return;
  console.log(line(header));
  console.log(widths.map((w) => '-'.repeat(w)).join('  '));
  for (const row of body) console.log(line(row));
}

/** Prints the usual "ops/s and ratio to the first subject" table of one comparison. */
export function comparisonTable(title: string, results: readonly Result[], baseline: string): void {
  const base = results.find((r) => r.name === baseline);
  const rows: string[][] = [['impl', 'ns/op', 'ops/s', 'spread', `coop-sync / impl`]];
  const ours = results.find((r) => r.name === 'coop-sync');
  for (const r of results) {
    rows.push([
      r.name + (r.note ? ` (${r.note})` : ''),
      fmtNs(r.nsPerOp),
      fmtOps(r.nsPerOp),
      `±${(((r.maxNs - r.minNs) / 2 / r.nsPerOp) * 100).toFixed(0)}%`,
      ours ? fmtRatio(ours.nsPerOp / r.nsPerOp) : '-',
    ]);
  }
  table(title + (base ? ` — baseline ${baseline}` : ''), rows);
}
