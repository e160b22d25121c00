/**
 * `npx tsx examples/plain-download-pool.ts`: a plain program (no harness, the real event loop), copyable as it is.
 * Eight "downloads" go through an `AsyncSemaphore` of 3, so at most three run at once; each waits its turn in
 * arrival order. A caller that will not wait longer than 5 ms gives up with a `TimeoutError` and leaves the queue.
 */
import { AsyncSemaphore, TimeoutError, sleep } from 'coop-sync';

const downloads = new AsyncSemaphore(3, { name: 'downloads' });
let running = 0;
let most = 0;
const started: string[] = [];

async function download(file: string): Promise<string> {
  return downloads.run(async () => {
    started.push(file);
    most = Math.max(most, ++running);
    await sleep(20); // the transfer
    running--;
    return `${file}: done`;
  });
}

const files = ['a', 'b', 'c', 'd', 'e', 'f', 'g', 'h'];
const all = Promise.all(files.map(download));
// Every permit is out now, and five callers wait: one more that waits at most 5 ms gives up.
const impatient = downloads.acquire({ timeout: 5 }).catch((error: unknown) => error);
console.log(`${downloads}`);
const outcome = await impatient;
console.log(
  `impatient caller: ${outcome instanceof TimeoutError ? (outcome as Error).name : 'got a permit'}`,
);
const results = await all;
console.log(results.join(', '));
console.log(`started in order ${started.join('')}, at most ${most} at once; ${downloads}`);
