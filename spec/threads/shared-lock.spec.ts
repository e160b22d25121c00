import { expect } from 'chai';
import { SharedLock, TimeoutError, agentId } from '../../lib/threads/index.js';
import { FREE, FREE_DIED, STATE, heldBy } from '../../lib/threads/ticket-lock.js';
import { describeLockLike } from '../suites/lock-like.js';

describeLockLike('SharedLock', () => {
  const lock = new SharedLock();
  return { lock, isHeld: () => lock.locked };
});

describe('SharedLock (one agent)', () => {
  const blockingForbidden = typeof window !== 'undefined'; // a browser's main thread (the test page)

  if (blockingForbidden) {
    it("acquireSync on a browser's main thread is a TypeError at once, even when the lock is free", () => {
      const lock = new SharedLock({ name: 'main' });
      expect(() => lock.acquireSync()).to.throw(
        TypeError,
        /SharedLock\(main\)\.acquireSync: this agent may not block/,
      );
      expect(() => lock.runSync(() => 1)).to.throw(TypeError, /may not block/);
      expect(lock.locked).to.equal(false);
    });
  } else {
    it('acquireSync takes a free lock, and times out (after blocking) on one that is held', () => {
      const lock = new SharedLock({ name: 'sync' });
      const guard = lock.acquireSync();
      expect(() => lock.acquireSync({ timeout: 1 })).to.throw(
        TimeoutError,
        /SharedLock\(sync\)\.acquireSync timed out/,
      );
      expect(() => lock.acquireSync({ timeout: 0 })).to.throw(TimeoutError);
      expect(lock.waiting).to.equal(0);
      guard.release();
      expect(lock.runSync(() => 'ran')).to.equal('ran');
    });
  }

  it('handles carry their kind: from() refuses anything but a SharedLock handle', () => {
    const lock = new SharedLock({ name: 'h' });
    expect(lock.handle).to.deep.equal({ kind: 'SharedLock', buffer: lock.handle.buffer, name: 'h' });
    expect(structuredClone(lock.handle).kind).to.equal('SharedLock');
    for (const bad of [
      undefined,
      null,
      5,
      'SharedLock',
      {},
      { kind: 'SharedSemaphore', buffer: lock.handle.buffer },
    ]) {
      expect(() => SharedLock.from(bad as never)).to.throw(TypeError, /SharedLock\.from: handle/);
    }
    expect(() =>
      SharedLock.from({ kind: 'SharedLock', buffer: new SharedArrayBuffer(8), name: undefined }),
    ).to.throw(TypeError, /buffer/);
    const same = SharedLock.from(lock.handle);
    const guard = same.tryAcquire()!;
    expect(String(lock)).to.equal(`SharedLock(h)[locked by ${agentId()}, waiting=0]`);
    expect(lock.tryAcquire()).to.equal(undefined);
    guard.release();
  });

  it('recover frees a hold recorded for a dead agent once, and tells the next holder; bad ids are refused', async () => {
    const lock = new SharedLock({ name: 'r' });
    const held = await lock.acquire();
    expect(held.previousOwnerDied).to.equal(false);
    expect(lock.recover(agentId() + 1)).to.equal(false); // that agent holds nothing
    expect(lock.recover(agentId())).to.equal(true); // as if this agent had died holding it (held is never used again)
    expect(lock.recover(agentId())).to.equal(false);
    expect(lock.locked).to.equal(false);
    const next = await lock.acquire();
    expect(next.previousOwnerDied).to.equal(true);
    next.release();
    expect((await lock.acquire()).previousOwnerDied).to.equal(false);
    expect(() => lock.recover(-1)).to.throw(RangeError, /recover: agent/);
    expect(() => lock.recover(1.5)).to.throw(TypeError, /recover: agent/);
    expect(() => lock.recover('1' as never)).to.throw(TypeError, /recover: agent/);
  });
});

describe('SharedLock state word (the fast path the machine inlines)', () => {
  it('a hold is one word naming the holder; release frees it; a recovered hold leaves FREE_DIED for the next', () => {
    const lock = new SharedLock();
    expect(lock.words[STATE]).to.equal(FREE);
    const guard = lock.tryAcquire()!;
    expect(lock.words[STATE]).to.equal(heldBy(agentId()));
    guard.release();
    expect(lock.words[STATE]).to.equal(FREE);
    lock.tryAcquire();
    expect(lock.recover(agentId())).to.equal(true);
    expect(lock.words[STATE]).to.equal(FREE_DIED);
    const next = lock.tryAcquire()!;
    expect([next.previousOwnerDied, lock.words[STATE]]).to.deep.equal([true, heldBy(agentId())]);
    next.release();
  });
});

describe('SharedLock beyond 1024 tickets out', () => {
  it('acquirers past the capacity wait for room, can be aborted there, and still get in, in order', async () => {
    const lock = new SharedLock({ name: 'full' });
    const holder = lock.tryAcquire()!;
    const order: number[] = [];
    const queued = Array.from({ length: 1100 }, (_, i) =>
      lock.acquire().then((guard) => {
        order.push(i);
        guard.release();
      }),
    );
    const controller = new AbortController();
    const aborted = lock.acquire({ signal: controller.signal }).then(
      () => 'granted',
      () => 'aborted',
    );
    expect(lock.waiting).to.equal(1101);
    controller.abort();
    expect(await aborted).to.equal('aborted');
    holder.release();
    await Promise.all(queued);
    expect(order.slice(0, 1023)).to.deep.equal(Array.from({ length: 1023 }, (_, i) => i)); // FIFO while there was room
    expect(order).to.have.length(1100);
    expect([lock.locked, lock.waiting]).to.deep.equal([false, 0]);
  });
});
