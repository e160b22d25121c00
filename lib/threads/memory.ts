/**
 * The small atomics interface that the threads algorithms are written against, and its real implementation over an
 * `Int32Array` on a `SharedArrayBuffer`. The harness runs the same algorithms over a simulated memory in which every
 * operation is a choice point (spec/threads/model.spec.ts), so each algorithm step performs exactly one of these.
 *
 * @module
 */

/** Sequentially consistent operations on 32-bit words, addressed by index. Waiting is left to the drivers. */
export interface AtomicMemory {
  load(index: number): number;
  store(index: number, value: number): void;
  /** Stores `replacement` when the word equals `expected`; returns the value it held before. */
  compareExchange(index: number, expected: number, replacement: number): number;
  /** Adds `delta` (wrapping); returns the value it held before. */
  add(index: number, delta: number): number;
  /** Wakes up to `count` agents waiting on the word; returns how many it woke. */
  notify(index: number, count: number): number;
}

/** {@link AtomicMemory} over shared memory, with `Atomics`. */
export class Int32Memory implements AtomicMemory {
  constructor(readonly words: Int32Array) {}

  load(index: number): number {
    return Atomics.load(this.words, index);
  }

  store(index: number, value: number): void {
    Atomics.store(this.words, index, value);
  }

  compareExchange(index: number, expected: number, replacement: number): number {
    return Atomics.compareExchange(this.words, index, expected, replacement);
  }

  add(index: number, delta: number): number {
    return Atomics.add(this.words, index, delta);
  }

  notify(index: number, count: number): number {
    return Atomics.notify(this.words, index, count);
  }
}
