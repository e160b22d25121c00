import { expect } from 'chai';
import { AsyncRWLock, CancelledError, LockError, TimeoutError, type Guard } from '../lib/index.js';
import { explore, type Scenario } from '../lib/testing/index.js';
import { describeLockLike } from './suites/lock-like.js';
import { flush, yieldTurns, installFakeClock, observe, rejectionOf } from './suites/helpers.js';

describeLockLike('AsyncRWLock (runWrite / acquireWrite)', () => {
  const rw = new AsyncRWLock();
  let current: Guard | undefined;
  const track = (guard: Guard | undefined) => {
    if (guard !== undefined) current = guard;
    return guard;
  };
  return {
    lock: {
      acquire: (options) => rw.acquireWrite(options).then((guard) => track(guard) as Guard),
      tryAcquire: () => track(rw.tryAcquireWrite()),
      release: () => {
        if (!rw.writing || current === undefined || current.released) throw new LockError('not write-locked');
        current.release();
      },
      run: (fn, options) => rw.runWrite(fn, options),
      toString: () => rw.toString(),
    },
    isHeld: () => rw.writing,
    queued: () => rw.waiting,
  };
});

async function expectProven(scenario: Scenario): Promise<number> {
  const result = await explore(scenario, { strategy: 'dfs', runs: 20_000 });
  if (result.failure !== undefined) {
    throw new Error(
      `${String(result.failure.error)}\nschedule: ${result.failure.schedule}\n${result.failure.trace.join('\n')}`,
    );
  }
  expect(result.exhausted).to.equal(true);
  return result.runs;
}

describe('AsyncRWLock', () => {
  it('lets readers share: several read holds at once, no writer meanwhile', async () => {
    const rw = new AsyncRWLock({ name: 'cache' });
    const a = await rw.acquireRead();
    const b = await rw.acquireRead();
    expect(rw.readers).to.equal(2);
    expect(rw.writing).to.equal(false);
    expect(rw.tryAcquireWrite()).to.equal(undefined);
    expect(String(rw)).to.equal('AsyncRWLock(cache)[readers=2, waiting=0]');
    a.release();
    b.release();
    expect(rw.readers).to.equal(0);
    expect(String(rw)).to.equal('AsyncRWLock(cache)[free, waiting=0]');
  });

  it('a writer excludes readers and writers, and a free lock with no waiters grants at once', async () => {
    const rw = new AsyncRWLock();
    const write = rw.tryAcquireWrite() as Guard;
    expect(rw.writing).to.equal(true);
    expect(rw.tryAcquireRead()).to.equal(undefined);
    expect(rw.tryAcquireWrite()).to.equal(undefined);
    const reader = observe(rw.acquireRead());
    const writer = observe(rw.acquireWrite());
    await flush();
    expect([reader.state, writer.state, rw.waiting]).to.deep.equal(['pending', 'pending', 2]);
    expect(String(rw)).to.equal('AsyncRWLock[writing, waiting=2]');
    write.release();
    await flush();
    expect([reader.state, writer.state]).to.deep.equal(['fulfilled', 'pending']);
    (reader.value as Guard).release();
    await flush();
    expect(writer.state).to.equal('fulfilled');
    (writer.value as Guard).release();
    expect([rw.writing, rw.readers, rw.waiting]).to.deep.equal([false, 0, 0]);
  });

  it('grants the run of readers at the head together, in the release step, and stops at a writer', async () => {
    const rw = new AsyncRWLock();
    const events: string[] = [];
    const write = (await rw.acquireWrite()) as Guard;
    const task = (label: string, mode: 'read' | 'write') =>
      (mode === 'read' ? rw.acquireRead() : rw.acquireWrite()).then((guard) => {
        events.push(`${label}:granted`);
        return guard;
      });
    const r1 = task('r1', 'read');
    const r2 = task('r2', 'read');
    const w2 = task('w2', 'write');
    const r3 = task('r3', 'read');
    write.release();
    // In the same synchronous step: both head readers hold, the writer and the reader behind it wait.
    expect([rw.readers, rw.writing, rw.waiting]).to.deep.equal([2, false, 2]);
    const [g1, g2] = await Promise.all([r1, r2]);
    await flush();
    expect(events).to.deep.equal(['r1:granted', 'r2:granted']);
    g1.release();
    g2.release();
    expect([rw.readers, rw.writing, rw.waiting]).to.deep.equal([0, true, 1]);
    (await w2).release();
    expect([rw.readers, rw.waiting]).to.deep.equal([1, 0]);
    (await r3).release();
    expect(events).to.deep.equal(['r1:granted', 'r2:granted', 'w2:granted', 'r3:granted']);
  });

  it('a queued writer blocks every reader that arrives after it (writers never starve)', async () => {
    const rw = new AsyncRWLock();
    const reading = (await rw.acquireRead()) as Guard;
    const writer = observe(rw.acquireWrite());
    expect(rw.tryAcquireRead()).to.equal(undefined);
    const late = observe(rw.acquireRead());
    await flush();
    expect([writer.state, late.state, rw.readers]).to.deep.equal(['pending', 'pending', 1]);
    reading.release();
    await flush();
    expect([writer.state, late.state]).to.deep.equal(['fulfilled', 'pending']);
    (writer.value as Guard).release();
    await flush();
    expect(late.state).to.equal('fulfilled');
  });

  it('a writer that gives up at the head lets the readers behind it in, in the same step', async () => {
    const rw = new AsyncRWLock();
    const reading = (await rw.acquireRead()) as Guard;
    const controller = new AbortController();
    const writer = observe(rw.acquireWrite({ signal: controller.signal }));
    const late = observe(rw.acquireRead());
    controller.abort(new Error('no longer needed'));
    expect([rw.readers, rw.waiting]).to.deep.equal([2, 0]);
    await flush();
    expect([writer.state, late.state]).to.deep.equal(['rejected', 'fulfilled']);
    expect((writer.reason as Error).message).to.equal('no longer needed');
    reading.release();
    (late.value as Guard).release();
    expect(rw.readers).to.equal(0);
  });

  it('times out a queued reader or writer with TimeoutError naming the lock, exactly at the deadline', async () => {
    const clock = installFakeClock();
    try {
      const rw = new AsyncRWLock({ name: 'index' });
      const write = rw.tryAcquireWrite() as Guard;
      const reader = observe(rw.acquireRead({ timeout: 20 }));
      const writer = observe(rw.acquireWrite({ timeout: 30 }));
      await clock.tickAsync(19);
      expect(reader.state).to.equal('pending');
      await clock.tickAsync(1);
      expect(reader.state).to.equal('rejected');
      expect(reader.reason).to.be.instanceOf(TimeoutError);
      expect((reader.reason as Error).message).to.equal('AsyncRWLock(index) timed out after 20 ms');
      await clock.tickAsync(10);
      expect(writer.state).to.equal('rejected');
      expect(rw.waiting).to.equal(0);
      expect(clock.countTimers()).to.equal(0);
      write.release();
      expect(rw.writing).to.equal(false);
    } finally {
      clock.restore();
    }
  });

  it('grant wins: a reader granted in the release step keeps its hold when aborted in the same tick', async () => {
    const rw = new AsyncRWLock();
    const write = rw.tryAcquireWrite() as Guard;
    const controller = new AbortController();
    const reader = observe(rw.acquireRead({ signal: controller.signal }));
    write.release();
    controller.abort();
    await flush();
    expect(reader.state).to.equal('fulfilled');
    expect(rw.readers).to.equal(1);
  });

  it('runRead shares and runWrite excludes, and both release when fn throws', async () => {
    const rw = new AsyncRWLock();
    let inside = 0;
    let most = 0;
    const reading = () =>
      rw.runRead(async () => {
        inside++;
        most = Math.max(most, inside);
        await yieldTurns(3);
        inside--;
      });
    await Promise.all([reading(), reading(), reading()]);
    expect(most).to.equal(3);
    const failure = await rejectionOf(
      rw.runWrite(() => {
        throw new Error('boom');
      }),
    );
    expect((failure as Error).message).to.equal('boom');
    expect(await rejectionOf(rw.runRead(() => Promise.reject(new Error('bang'))))).to.have.property(
      'message',
      'bang',
    );
    expect([rw.writing, rw.readers]).to.deep.equal([false, 0]);
  });

  it('rejects bad arguments naming them, before touching the queue', async () => {
    const rw = new AsyncRWLock({ name: 'x' });
    const read = await rejectionOf(rw.acquireRead({ timeout: -1 }));
    expect(read).to.be.instanceOf(RangeError);
    expect((read as Error).message).to.match(/AsyncRWLock\(x\)\.acquireRead: options\.timeout/);
    const write = await rejectionOf(rw.acquireWrite({ signal: 'x' as unknown as AbortSignal }));
    expect(write).to.be.instanceOf(TypeError);
    expect((write as Error).message).to.match(/acquireWrite: options\.signal/);
    const run = await rejectionOf(rw.runRead(5 as unknown as () => void));
    expect(run).to.be.instanceOf(TypeError);
    expect((run as Error).message).to.match(/AsyncRWLock\(x\)\.runRead: fn/);
    expect(() => new AsyncRWLock({ name: 5 as unknown as string })).to.throw(TypeError, /options\.name/);
    expect([rw.readers, rw.waiting]).to.deep.equal([0, 0]);
  });

  it('an already-aborted signal rejects with its reason even when the lock is free', async () => {
    const rw = new AsyncRWLock();
    const controller = new AbortController();
    controller.abort(new Error('gone'));
    expect(await rejectionOf(rw.acquireRead({ signal: controller.signal }))).to.have.property(
      'message',
      'gone',
    );
    expect(await rejectionOf(rw.acquireWrite({ signal: controller.signal, timeout: 0 }))).to.have.property(
      'message',
      'gone',
    );
    expect([rw.readers, rw.writing]).to.deep.equal([0, false]);
  });

  describe('cancelWaiters', () => {
    it('rejects every waiter with its own CancelledError, touches no holder, returns the count', async () => {
      const rw = new AsyncRWLock({ name: 'c' });
      const reading = rw.tryAcquireRead() as Guard;
      const writer = observe(rw.acquireWrite());
      const reader = observe(rw.acquireRead());
      expect(rw.cancelWaiters()).to.equal(2);
      await flush();
      expect([writer.state, reader.state]).to.deep.equal(['rejected', 'rejected']);
      expect(writer.reason).to.be.instanceOf(CancelledError);
      expect(reader.reason).to.be.instanceOf(CancelledError);
      expect(writer.reason).to.not.equal(reader.reason);
      expect((writer.reason as Error).name).to.equal('CancelledError');
      expect([rw.readers, rw.waiting, reading.released]).to.deep.equal([1, 0, false]);
      // Later calls queue as usual.
      const later = observe(rw.acquireWrite());
      reading.release();
      await flush();
      expect(later.state).to.equal('fulfilled');
      expect(rw.cancelWaiters()).to.equal(0);
    });

    it('with a reason, every waiter rejects with that same value', async () => {
      const rw = new AsyncRWLock();
      const write = rw.tryAcquireWrite() as Guard;
      const reason = { why: 'shutdown' };
      const waiters = [observe(rw.acquireRead()), observe(rw.acquireWrite()), observe(rw.acquireRead())];
      expect(rw.cancelWaiters(reason)).to.equal(3);
      await flush();
      expect(waiters.map((waiter) => waiter.reason)).to.deep.equal([reason, reason, reason]);
      expect(waiters[0]?.reason).to.equal(reason);
      expect(rw.writing).to.equal(true);
      write.release();
    });
  });

  describe('every schedule (harness)', () => {
    /** Checks the exclusion law from inside a hold, at every step the holder can be interleaved. */
    function checkHold(rw: AsyncRWLock, mode: 'read' | 'write'): void {
      if (mode === 'write' && (rw.readers !== 0 || !rw.writing)) throw new Error(`writer with others: ${rw}`);
      if (mode === 'read' && rw.writing) throw new Error(`reader with a writer: ${rw}`);
    }

    it('two readers and two writers: never a writer with anyone, and everyone finishes', async () => {
      const runs = await expectProven(async (sim) => {
        const rw = new AsyncRWLock({ name: 'rw' });
        const done: string[] = [];
        const task = (name: string, mode: 'read' | 'write') =>
          sim.spawn(name, async () => {
            const guard = await (mode === 'read' ? rw.acquireRead() : rw.acquireWrite());
            checkHold(rw, mode);
            await sim.yield();
            checkHold(rw, mode);
            guard.release();
            done.push(name);
          });
        task('r1', 'read');
        task('w1', 'write');
        task('r2', 'read');
        task('w2', 'write');
        await sim.run();
        if (done.length !== 4) throw new Error(`only ${done.join(',')} finished`);
        if (rw.readers !== 0 || rw.writing || rw.waiting !== 0) throw new Error(`left ${rw}`);
      });
      expect(runs).to.be.greaterThan(10);
    });

    it('a writer that times out or is aborted while readers queue behind it strands nobody', async () => {
      await expectProven(async (sim) => {
        const rw = new AsyncRWLock({ name: 'rw' });
        const controller = new AbortController();
        const done: string[] = [];
        sim.spawn('reader', async () => {
          const guard = await rw.acquireRead();
          await sim.yield();
          checkHold(rw, 'read');
          guard.release();
          done.push('reader');
        });
        sim.spawn('writer', async () => {
          try {
            const guard = await rw.acquireWrite({ signal: controller.signal, timeout: 5 });
            checkHold(rw, 'write');
            guard.release();
          } catch (error) {
            if (!(error instanceof TimeoutError) && (error as Error).name !== 'AbortError') throw error;
          }
          done.push('writer');
        });
        sim.spawn('late', async () => {
          await sim.yield();
          const guard = await rw.acquireRead();
          checkHold(rw, 'read');
          guard.release();
          done.push('late');
        });
        sim.spawn('canceller', async () => {
          await sim.yield();
          controller.abort();
        });
        await sim.run();
        if (done.length !== 3) throw new Error(`only ${done.join(',')} finished`);
        if (rw.readers !== 0 || rw.writing || rw.waiting !== 0) throw new Error(`left ${rw}`);
      });
    });

    it('with priorities and cancelWaiters racing the releases: exclusion holds, nobody is stranded', async () => {
      await expectProven(async (sim) => {
        const rw = new AsyncRWLock({ name: 'rw' });
        let settled = 0;
        const task = (name: string, mode: 'read' | 'write', priority: number) =>
          sim.spawn(name, async () => {
            try {
              const guard = await (mode === 'read'
                ? rw.acquireRead({ priority })
                : rw.acquireWrite({ priority }));
              checkHold(rw, mode);
              await sim.yield();
              checkHold(rw, mode);
              guard.release();
            } catch (error) {
              if ((error as Error).name !== 'CancelledError') throw error;
            }
            settled++;
          });
        task('r0', 'read', 0);
        task('w1', 'write', 1);
        task('r2', 'read', 2);
        sim.spawn('canceller', async () => {
          await sim.yield();
          rw.cancelWaiters();
        });
        await sim.run();
        if (settled !== 3) throw new Error(`${settled} of 3 settled`);
        if (rw.readers !== 0 || rw.writing || rw.waiting !== 0) throw new Error(`left ${rw}`);
      });
    });
  });
});
