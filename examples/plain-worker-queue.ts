/**
 * `npx tsx examples/plain-worker-queue.ts`: a plain program (no harness, the real event loop), copyable as it is.
 * A producer puts jobs into a bounded `AsyncQueue` (it waits while the queue is full: back-pressure); three workers
 * of a `TaskGroup` take them with `for await`; `join` waits until every job is marked done, and `shutdown` ends the
 * workers' loops, so the group's `join` returns.
 */
import { AsyncQueue, TaskGroup, sleep } from 'coop-sync';

const jobs = new AsyncQueue<number>(2, { name: 'jobs' });
const group = new TaskGroup({ name: 'workers' });
const handled = new Map<string, number[]>();

for (const name of ['w1', 'w2', 'w3']) {
  handled.set(name, []);
  group.spawn(
    async (signal) => {
      for await (const job of jobs) {
        await sleep(1 + (job % 3), { signal }); // the work
        handled.get(name)!.push(job);
        jobs.taskDone();
      }
    },
    { name },
  );
}

let mostQueued = 0;
for (let job = 1; job <= 12; job++) {
  await jobs.put(job); // waits while 2 jobs are queued
  mostQueued = Math.max(mostQueued, jobs.size);
}
await jobs.join(); // every job handled
jobs.shutdown(); // the workers' loops end
await group.join();

const all = [...handled.values()].flat().sort((a, b) => a - b);
console.log(`${all.length} jobs handled, each once: ${all.join(' ')}`);
console.log(
  `never more than ${mostQueued} queued; every worker took some: ${[...handled.values()].every((list) => list.length > 0)}`,
);
console.log(`${jobs}`);
console.log(`${group}`);
