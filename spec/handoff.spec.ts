/**
 * Every grant loop of every primitive, driven with 1e5 waiters at once: hand-offs are iterative (no recursion per
 * waiter, so no stack overflow) and leave each primitive consistent.
 */
import { expect } from 'chai';
import {
  AsyncBarrier,
  AsyncCondition,
  AsyncEvent,
  AsyncLock,
  AsyncQueue,
  AsyncRLock,
  AsyncSemaphore,
  QueueShutDownError,
  TaskGroup,
} from '../lib/index.js';

const many = 100_000;

/** Settles `count` condition waits whose holds are released while set aside, then wakes them all at once. */
async function abandonWaits(lock: AsyncLock | AsyncRLock, count: number): Promise<void> {
  const cond = new AsyncCondition(lock);
  const runs: Promise<unknown>[] = [];
  for (let index = 0; index < count; index++) {
    // The wait is raced against an already-resolved promise: `run` releases the hold while the wait has it aside.
    runs.push(lock.run(() => Promise.race([cond.wait(), Promise.resolve()])));
  }
  await Promise.all(runs);
  expect(cond.waiting).to.equal(count);
  const guard = await lock.acquire();
  cond.notifyAll();
  // Each woken wait gets its hold back and ends it at once, one after the other, inside this release.
  guard.release();
  expect(lock.locked).to.equal(false);
  expect(lock.waiting).to.equal(0);
  expect(cond.waiting).to.equal(0);
  const next = await lock.acquire({ timeout: 0 }).catch(() => undefined);
  expect(next, 'a new acquire is granted at once').not.to.equal(undefined);
  next?.release();
}

describe('hand-off with 1e5 waiters', function () {
  this.timeout(60_000);

  it('AsyncLock: condition waits released while set aside are handed the lock in a loop', async () => {
    await abandonWaits(new AsyncLock(), many);
  });

  it('AsyncRLock: condition waits released while set aside are handed the lock in a loop', async () => {
    await abandonWaits(new AsyncRLock(), many);
  });

  it('AsyncLock: release hands over through a chain of 1e5 waiters', async () => {
    const lock = new AsyncLock();
    const first = lock.tryAcquire();
    let done = 0;
    const all = Array.from({ length: many }, () => lock.run(() => void done++));
    first?.release();
    await Promise.all(all);
    expect(done).to.equal(many);
    expect(lock.locked).to.equal(false);
  });

  it('AsyncSemaphore: one release grants 1e5 waiters in one step', async () => {
    const semaphore = new AsyncSemaphore(0);
    const all = Array.from({ length: many }, () => semaphore.acquire());
    semaphore.release(many);
    expect(semaphore.waiting).to.equal(0);
    expect(semaphore.value).to.equal(0);
    for (const guard of await Promise.all(all)) guard.release();
    expect(semaphore.value).to.equal(many);
  });

  it('AsyncCondition: notifyAll moves 1e5 waiters, each then takes the lock in turn', async () => {
    const cond = new AsyncCondition();
    let woken = 0;
    const all = Array.from({ length: many }, () =>
      cond.run(async () => {
        await cond.wait();
        woken++;
      }),
    );
    await new Promise<void>((resolve) => void cond.run(() => resolve()));
    expect(cond.waiting).to.equal(many);
    await cond.run(() => cond.notifyAll());
    await Promise.all(all);
    expect(woken).to.equal(many);
    expect(cond.locked).to.equal(false);
  });

  it('AsyncEvent: set wakes 1e5 waiters', async () => {
    const event = new AsyncEvent();
    const all = Array.from({ length: many }, () => event.wait());
    event.set();
    expect(event.waiting).to.equal(0);
    await Promise.all(all);
  });

  it('AsyncBarrier: the last of 1e5 parties releases the others', async () => {
    const barrier = new AsyncBarrier(many);
    const indexes = await Promise.all(Array.from({ length: many }, () => barrier.wait()));
    expect(indexes[many - 1]).to.equal(many - 1);
    expect(barrier.waiting).to.equal(0);
  });

  it('AsyncQueue: 1e5 getters served by puts, 1e5 putters admitted by gets, 1e5 rejected by shutdown', async () => {
    const queue = new AsyncQueue<number>(1);
    const getters = Array.from({ length: many }, () => queue.get());
    for (let index = 0; index < many; index++) queue.putNowait(index);
    expect((await Promise.all(getters))[many - 1]).to.equal(many - 1);
    queue.putNowait(-1);
    const putters = Array.from({ length: many }, (_, index) => queue.put(index));
    let last = -1;
    for (let index = 0; index <= many; index++) last = queue.getNowait();
    await Promise.all(putters);
    expect(last).to.equal(many - 1);
    const blocked = Array.from({ length: many }, () => queue.get().catch((error: unknown) => error));
    queue.shutdown();
    const errors = await Promise.all(blocked);
    expect(errors.every((error) => error instanceof QueueShutDownError)).to.equal(true);
  });

  it('TaskGroup: 1e5 joiners released together', async () => {
    const group = new TaskGroup();
    let ran = 0;
    for (let index = 0; index < 1000; index++) group.spawn(async () => void ran++);
    const joins = Array.from({ length: many }, () => group.join());
    await Promise.all(joins);
    expect(ran).to.equal(1000);
  });
});
