/* global Deno */
// Smoke run of the BUILT package on any runtime (Node, Deno): `node scripts/smoke.mjs` or
// `deno run --allow-read --allow-env scripts/smoke.mjs` after `npm run build`.
// It imports dist/ as a user would, runs one short scenario per primitive family, and ends with the plain line
// `smoke: N passed, M failed` (exit code 1 on any failure).
const entry = new URL('../dist/esm/index.js', import.meta.url).href;
const testingEntry = new URL('../dist/esm/testing.js', import.meta.url).href;
const lib = await import(entry);
const testing = await import(testingEntry);

const runtime = typeof Deno !== 'undefined' ? `deno ${Deno.version.deno}` : `node ${process.version}`;
const checks = [];
const check = (name, fn) => checks.push({ name, fn });

function equal(actual, expected, what) {
  const a = JSON.stringify(actual);
  const e = JSON.stringify(expected);
  if (a !== e) throw new Error(`${what}: expected ${e}, got ${a}`);
}

check('AsyncLock serialises critical sections in FIFO order', async () => {
  const lock = new lib.AsyncLock({ name: 'smoke' });
  const events = [];
  await Promise.all(
    ['a', 'b', 'c'].map((name) =>
      lock.run(async () => {
        events.push(`${name}:in`);
        await null;
        events.push(`${name}:out`);
      }),
    ),
  );
  equal(events, ['a:in', 'a:out', 'b:in', 'b:out', 'c:in', 'c:out'], 'order');
  equal(lock.locked, false, 'locked after');
});

check('AsyncLock rejects a timed-out waiter with TimeoutError', async () => {
  const lock = new lib.AsyncLock();
  const guard = await lock.acquire();
  let error;
  try {
    await lock.acquire({ timeout: 0 });
  } catch (caught) {
    error = caught;
  }
  guard.release();
  equal(error?.name, 'TimeoutError', 'error name');
});

check('AsyncRLock re-enters across awaits (async context)', async () => {
  const rlock = new lib.AsyncRLock();
  const depth = await rlock.run(async () => {
    await null;
    return rlock.run(async () => rlock.depth);
  });
  equal(depth, 2, 'nested depth');
  equal(rlock.locked, false, 'locked after');
});

check('AsyncSemaphore admits at most its value', async () => {
  const semaphore = new lib.AsyncSemaphore(2);
  let running = 0;
  let most = 0;
  await Promise.all(
    Array.from({ length: 6 }, () =>
      semaphore.run(async () => {
        running++;
        most = Math.max(most, running);
        await null;
        running--;
      }),
    ),
  );
  equal(most, 2, 'most running at once');
});

check('AsyncCondition wakes a waiter that re-checks under the lock', async () => {
  const condition = new lib.AsyncCondition();
  let ready = false;
  const waiter = condition.run(() => condition.waitFor(() => ready));
  await condition.run(() => {
    ready = true;
    condition.notifyAll();
  });
  equal(await waiter, true, 'predicate value');
});

check('AsyncQueue hands items over in order', async () => {
  const queue = new lib.AsyncQueue(1);
  const got = [];
  const consumer = (async () => {
    for (let i = 0; i < 3; i++) got.push(await queue.get());
  })();
  for (const item of [1, 2, 3]) await queue.put(item);
  await consumer;
  equal(got, [1, 2, 3], 'items');
});

check('TaskGroup joins its tasks', async () => {
  const group = new lib.TaskGroup();
  const task = group.spawn(async () => 42);
  await group.join();
  equal(await task.join(), 42, 'task result');
});

check('coop-sync/testing finds a lost update and proves the locked version', async () => {
  const scenario = (locked) => async (sim) => {
    const lock = new lib.AsyncLock();
    let counter = 0;
    const increment = async () => {
      const body = async () => {
        const read = counter;
        await sim.yield();
        counter = read + 1;
      };
      await (locked ? lock.run(body) : body());
    };
    sim.spawn('a', increment);
    sim.spawn('b', increment);
    await sim.run();
    if (counter !== 2) throw new Error(`lost update: counter is ${counter}`);
  };
  const broken = await testing.explore(scenario(false), { strategy: 'dfs' });
  equal(broken.failure !== undefined, true, 'bug found');
  const fixed = await testing.explore(scenario(true), { strategy: 'dfs' });
  equal([fixed.failure === undefined, fixed.exhausted], [true, true], 'proof');
});

let passed = 0;
let failed = 0;
for (const { name, fn } of checks) {
  try {
    await fn();
    passed++;
    console.log(`ok   ${name}`);
  } catch (error) {
    failed++;
    console.log(`FAIL ${name}\n     ${error?.stack ?? error}`);
  }
}
console.log(`${runtime}`);
console.log(`smoke: ${passed} passed, ${failed} failed`);
if (failed > 0) {
  if (typeof Deno !== 'undefined') Deno.exit(1);
  else process.exitCode = 1;
}
