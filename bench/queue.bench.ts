/**
 * Workload 4: one producer and one consumer pass 1e6 items through a queue of capacity 16 (`await put`, `await
 * get`), and 1e5 items through an unbounded queue. @esfx/async-queue is unbounded (its `put` is synchronous and never waits): its producer awaits one tick per
 * item, and more ticks while 16 items are queued (a polled bound). Unpaced, its consumer (an async `get`, three ticks
 * an item) falls behind, the backlog grows to ~1e5 items and its array `shift()` makes the run quadratic (~18 µs an
 * item at 5e4 items).
 */
import { AsyncQueue } from '../lib/queue.js';
import { compare, type Result, type Subject } from './harness.js';
import { EsfxQueue } from './peers.js';
import { RingQueue } from './reference/ring-queue.js';

export const CAPACITY = 16;
export const ITEMS = 1_000_000;
/** Items through the unbounded queues: fewer, because @esfx/async-queue goes quadratic when its backlog grows. */
export const UNBOUNDED_ITEMS = 100_000;

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

/** The unbounded producer awaits each `put` (a tick per item, as the bounded one does). */
async function esfxProduceUnbounded(queue: EsfxQueue<number>, n: number): Promise<void> {
  for (let i = 0; i < n; i++) {
    queue.put(i);
    await undefined;
  }
}

/** `capacity` 0 = unbounded. */
function subjects(capacity: number): Subject[] {
  return [
    {
      name: 'coop-sync',
      async run(n) {
        const queue = new AsyncQueue<number>(capacity);
        const [, sum] = await Promise.all([coopProduce(queue, n), coopConsume(queue, n)]);
        verify('coop-sync', sum, n);
      },
    },
    {
      name: 'hand-rolled',
      async run(n) {
        const queue = new RingQueue<number>(capacity === 0 ? Infinity : capacity);
        const [, sum] = await Promise.all([ringProduce(queue, n), ringConsume(queue, n)]);
        verify('hand-rolled', sum, n);
      },
    },
    {
      name: '@esfx/async-queue',
      note: capacity === 0 ? undefined : 'unbounded, bound emulated by polling',
      async run(n) {
        const queue = new EsfxQueue<number>();
        const produce = capacity === 0 ? esfxProduceUnbounded : esfxProduce;
        const [, sum] = await Promise.all([produce(queue, n), esfxConsume(queue, n)]);
        verify('@esfx/async-queue', sum, n);
      },
    },
  ];
}

export function benchQueue(items: number, rounds: number): Promise<Result[]> {
  return compare(subjects(CAPACITY), { ops: items, warmup: 1, rounds, slowBatchMs: 2000 });
}

export function benchUnboundedQueue(items: number, rounds: number): Promise<Result[]> {
  return compare(subjects(0), { ops: items, warmup: 1, rounds, slowBatchMs: 2000 });
}
