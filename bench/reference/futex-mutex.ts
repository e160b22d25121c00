/**
 * The yardstick for the threads benchmarks: a hand-rolled futex mutex over one Int32 word (Drepper's "Futexes are
 * tricky", mutex 2): one compare-exchange to lock and one atomic subtract to unlock when uncontended, the physical
 * floor. Not fair, no timeouts, no recovery, no async wait.
 */
export class FutexMutex {
  constructor(readonly word: Int32Array = new Int32Array(new SharedArrayBuffer(4))) {}

  lock(): void {
    let c = Atomics.compareExchange(this.word, 0, 0, 1);
    if (c === 0) return;
    if (c !== 2) c = Atomics.exchange(this.word, 0, 2);
    while (c !== 0) {
      Atomics.wait(this.word, 0, 2);
      c = Atomics.exchange(this.word, 0, 2);
    }
  }

  unlock(): void {
    if (Atomics.sub(this.word, 0, 1) !== 1) {
      Atomics.store(this.word, 0, 0);
      Atomics.notify(this.word, 0, 1);
    }
  }
}
