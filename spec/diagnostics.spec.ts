/**
 * Who holds what (issue 14): holder descriptions, off by default, with the name given at acquire and, when stack
 * capture is on, where each hold was taken. Browser-compatible: it needs no `diagnostics_channel` (the browser
 * build has none), so it runs in both builds.
 */
import { expect } from 'chai';
import sinon from 'sinon';
import {
  AsyncBoundedSemaphore,
  AsyncKeyedLock,
  AsyncLock,
  AsyncRLock,
  AsyncRWLock,
  configureDiagnostics,
  describeHolders,
  type Guard,
} from '../lib/index.js';

describe('diagnostics: holders', () => {
  let clock: sinon.SinonFakeTimers;
  beforeEach(() => {
    clock = sinon.useFakeTimers({
      toFake: ['setTimeout', 'clearTimeout', 'setInterval', 'clearInterval', 'Date', 'performance'],
    });
  });
  afterEach(() => {
    clock.restore();
    configureDiagnostics({ holders: false, stacks: false });
  });

  it('are described only when switched on: how long, the name given at acquire, and where with stacks on', async () => {
    const lock = new AsyncLock({ name: 'db' });
    const untracked = await lock.acquire({ name: 'before' });
    expect(describeHolders(lock)).to.deep.equal([]);
    untracked.release();
    configureDiagnostics({ holders: true, stacks: true });
    const guard = await lock.acquire({ name: 'migration' });
    await clock.tickAsync(250);
    const [holder, ...others] = describeHolders(lock);
    expect(others).to.deep.equal([]);
    expect(holder).to.include({ label: 'AsyncLock(db)', name: 'migration', heldFor: 250, mode: undefined });
    expect(holder?.stack)
      .to.be.a('string')
      .and.match(/^Error: acquired here\n\s+at /);
    guard.release();
    expect(describeHolders(lock)).to.deep.equal([]);
  });

  it('lists every holder of a semaphore and an rwlock, longest first, and forgets them when released', async () => {
    configureDiagnostics({ holders: true });
    const pool = new AsyncBoundedSemaphore(2, { name: 'pool' });
    const a = await pool.acquire({ name: 'a' });
    await clock.tickAsync(10);
    const b = pool.tryAcquire() as Guard;
    const c = pool.acquire({ name: 'c' });
    a.release();
    const rw = new AsyncRWLock({ name: 'rw' });
    const reader = await rw.acquireRead({ name: 'reader' });
    expect(describeHolders(pool).map(({ name, heldFor }) => [name, heldFor])).to.deep.equal([
      [undefined, 0],
      ['c', 0],
    ]);
    expect(describeHolders(rw)).to.deep.equal([
      { label: 'AsyncRWLock(rw)', mode: 'read', name: 'reader', heldFor: 0, stack: undefined },
    ]);
    b.release();
    (await c).release();
    reader.release();
    expect([describeHolders(pool), describeHolders(rw)]).to.deep.equal([[], []]);
  });

  it('an AsyncKeyedLock hold names its keys; a queued hold is recorded when granted, with its name', async () => {
    configureDiagnostics({ holders: true });
    const keyed = new AsyncKeyedLock<string>({ name: 'files' });
    const both = await keyed.acquire(['/b', '/a'], { name: 'move' });
    const queued = keyed.acquire('/a', { name: 'read' });
    await clock.tickAsync(7);
    expect(describeHolders(keyed).map(({ mode, name, heldFor }) => [mode, name, heldFor])).to.deep.equal([
      ['["/a", "/b"]', 'move', 7],
    ]);
    both.release();
    const reading = await queued;
    expect(describeHolders(keyed).map(({ mode, name }) => [mode, name])).to.deep.equal([['["/a"]', 'read']]);
    reading.release();
    expect(describeHolders(keyed)).to.deep.equal([]);
  });

  it('an AsyncRLock is described by its outermost hold, not by each nested level', async () => {
    configureDiagnostics({ holders: true });
    const rlock = new AsyncRLock({ name: 'r' });
    const outer = await rlock.acquire();
    await clock.tickAsync(40);
    const inner = await rlock.acquire({ owner: outer });
    const described = { label: 'AsyncRLock(r)', mode: undefined, name: undefined, stack: undefined };
    expect(describeHolders(rlock)).to.deep.equal([{ ...described, heldFor: 40 }]);
    inner.release();
    await clock.tickAsync(2);
    expect(describeHolders(rlock)).to.deep.equal([{ ...described, heldFor: 42 }]);
    outer.release();
    expect(describeHolders(rlock)).to.deep.equal([]);
  });

  it('rejects bad options, naming them', () => {
    expect(() => configureDiagnostics({ holders: 'yes' as unknown as boolean })).to.throw(
      TypeError,
      /options\.holders/,
    );
    expect(() => configureDiagnostics(null as unknown as object)).to.throw(TypeError, /options/);
  });

  it('a hold name that is not a string is a TypeError naming options.name, before queueing', async () => {
    const lock = new AsyncLock({ name: 'n' });
    const held = lock.tryAcquire() as Guard;
    const bad = { name: 5 } as unknown as { name: string };
    for (const call of [
      () => lock.acquire(bad),
      () => new AsyncRWLock().acquireRead(bad),
      () => new AsyncBoundedSemaphore(1).acquire(bad),
      () => new AsyncKeyedLock().acquire('k', bad),
    ]) {
      const reason = await call().then(
        () => undefined,
        (error: unknown) => error,
      );
      expect(reason).to.be.instanceOf(TypeError);
      expect((reason as Error).message).to.match(/\.acquire(Read)?: options\.name must be a string/);
    }
    expect(lock.waiting).to.equal(0);
    held.release();
  });
});
