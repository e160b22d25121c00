/**
 * Benchmark 5: one producer and one consumer pass 1e6 items through a queue of capacity 16 (`await put`, `await
 * get`). @esfx/async-queue is unbounded (its `put` is synchronous and never waits): its producer awaits one tick per
 * item, and more ticks while 16 items are queued (a polled bound). Unpaced, its consumer (an async `get`, three ticks
 * an item) falls behind, the backlog grows to ~1e5 items and its array `shift()` makes the run quadratic (~18 µs an
 * item at 5e4 items).
 */
import { AsyncQueue as EsfxQueue } from '@esfx/async-queue';
import { AsyncQueue } from '../lib/queue.js';
import { compare, type Result, type Subject } from './harness.js';
import { RingQueue } from './reference/ring-queue.js';

export const CAPACITY = 16;
export const ITEMS = 1_000_000;

function verify(name: string, sum: number, n: number): void {
  if (sum !== (n * (n - 1)) / 2) throw new Error(`${name}: consumer saw the wrong items (sum ${sum})`);
}

async function coopProduce(queue: AsyncQueue<number>, n: number): Promise<void> {
  for (let i = 0; i < n; i++) await queue.put(i);
}
async function coopConsume(queue: AsyncQueue<number>, n: number): Promise<number> {
  let sum = 0;
  for (let i = 0; i < n; i++) sum += await queue.get();
  return sum;
}
async function ringProduce(queue: RingQueue<number>, n: number): Promise<void> {
  for (let i = 0; i < n; i++) await queue.put(i);
}
async function ringConsume(queue: RingQueue<number>, n: number): Promise<number> {
  let sum = 0;
  for (let i = 0; i < n; i++) sum += await queue.get();
  return sum;
}
async function esfxProduce(queue: EsfxQueue<number>, n: number): Promise<void> {
  for (let i = 0; i < n; i++) {
    queue.put(i);
    do await undefined;
    while (queue.size >= CAPACITY); // emulated bound: without it the backlog grows and its shift() goes quadratic
  }
}
async function esfxConsume(queue: EsfxQueue<number>, n: number): Promise<number> {
  let sum = 0;
  for (let i = 0; i < n; i++) sum += await queue.get();
  return sum;
}

const subjects: Subject[] = [
  {
    name: 'coop-sync',
    async run(n) {
      const queue = new AsyncQueue<number>(CAPACITY);
      const [, sum] = await Promise.all([coopProduce(queue, n), coopConsume(queue, n)]);
      verify('coop-sync', sum, n);
    },
  },
  {
    name: 'hand-rolled',
    async run(n) {
      const queue = new RingQueue<number>(CAPACITY);
      const [, sum] = await Promise.all([ringProduce(queue, n), ringConsume(queue, n)]);
      verify('hand-rolled', sum, n);
    },
  },
  {
    name: '@esfx/async-queue',
    note: 'unbounded',
    async run(n) {
      const queue = new EsfxQueue<number>();
      const [, sum] = await Promise.all([esfxProduce(queue, n), esfxConsume(queue, n)]);
      verify('@esfx/async-queue', sum, n);
    },
  },
];

export function benchQueue(items: number): Promise<Result[]> {
  return compare(subjects, { ops: items, warmup: 1, rounds: 5 });
}
