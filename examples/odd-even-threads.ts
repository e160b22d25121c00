/**
 * The classic odd/even printing in turn, by two real threads: two Node worker threads share a `SharedLock`, a
 * `SharedCondition` bound to it and a counter in a `SharedArrayBuffer`. Each waits (in a `while`, via `waitFor`)
 * until the counter is its kind of number, writes it down, advances the counter and notifies the other. The odd
 * thread blocks (`runSync` + `waitSync`: `Atomics.wait`), the even one does not (`run` + `waitFor`:
 * `Atomics.waitAsync`); they take turns all the same. The main thread prints the turns from the shared record
 * once both threads are done, so the output is the same on every run.
 *
 * This file is also the worker's code: a worker thread runs `play()` instead of `main()`.
 */
import { Worker, isMainThread, workerData } from 'node:worker_threads';
import { SharedCondition, SharedLock, type SharedHandle } from 'coop-sync/threads';
import { runMain, type Print } from './run-main.js';

const last = 10;

interface Seat {
  readonly lock: SharedHandle;
  readonly turn: SharedHandle;
  /** [next number, then who printed 1, 2, ... (1 odd, 2 even)] */
  readonly record: SharedArrayBuffer;
  readonly parity: 0 | 1;
}

/** Starts this file as a worker thread (under tsx, which Node 20 workers do not inherit). */
function startPlayer(seat: Seat): Worker {
  const source =
    "import('tsx/esm/api').then((tsx) => { tsx.register(); return import(require('node:worker_threads').workerData.file); })";
  return new Worker(source, { eval: true, workerData: { ...seat, file: import.meta.url } });
}

export async function main(print: Print = console.log): Promise<void> {
  const lock = new SharedLock({ name: 'turn' });
  const turn = new SharedCondition(lock, { name: 'turn' });
  const record = new SharedArrayBuffer((1 + last) * 4);
  new Int32Array(record)[0] = 1;
  const players = ([1, 0] as const).map((parity) =>
    startPlayer({ lock: lock.handle, turn: turn.handle, record, parity }),
  );
  try {
    await Promise.all(
      players.map(
        (worker) =>
          new Promise<void>((resolve, reject) => {
            worker.once('error', reject);
            worker.once('exit', (code) =>
              code === 0 ? resolve() : reject(new Error(`a player exited with ${code}`)),
            );
          }),
      ),
    );
  } finally {
    await Promise.all(players.map((worker) => worker.terminate()));
  }
  const who = new Int32Array(record);
  for (let n = 1; n <= last; n++) {
    const name = who[n] === 1 ? 'odd' : who[n] === 2 ? 'even' : '(nobody)';
    print(`${name.padEnd(4)} ${n}`);
    if (who[n] !== 2 - (n % 2)) throw new Error(`${n} was printed out of turn, by ${name}`);
  }
  print(`${lock} ${turn}`);
}

/** A player thread: takes its turns until the counter passes `last`. */
async function play(seat: Seat): Promise<void> {
  const lock = SharedLock.from(seat.lock);
  const turn = SharedCondition.from(seat.turn, lock);
  const record = new Int32Array(seat.record);
  const mine = () => record[0]! > last || record[0]! % 2 === seat.parity;
  const take = () => {
    if (record[0]! > last) return true;
    record[record[0]!] = seat.parity === 1 ? 1 : 2;
    record[0]!++;
    turn.notify(); // the other player is the only one that can be waiting
    return false;
  };
  if (seat.parity === 1) {
    // Blocking, as a classic thread would: `while`, never `if`, around the wait.
    for (;;) {
      const done = lock.runSync(() => {
        while (!mine()) turn.waitSync();
        return take();
      });
      if (done) return;
    }
  }
  for (;;) {
    const done = await lock.run(async () => {
      await turn.waitFor(mine); // the same loop, inside waitFor
      return take();
    });
    if (done) return;
  }
}

if (isMainThread) runMain(import.meta.url, main);
else await play(workerData as Seat);
