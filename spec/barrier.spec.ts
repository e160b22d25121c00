import { expect } from 'chai';
import sinon from 'sinon';
import { AsyncBarrier, BrokenBarrierError, TimeoutError } from '../lib/index.js';
import { flush } from './suites/helpers.js';

/** Starts a party that waits on `barrier` and logs its outcome. */
function party(
  barrier: AsyncBarrier,
  log: string[],
  name: string,
  options?: Parameters<AsyncBarrier['wait']>[0],
) {
  return barrier.wait(options).then(
    (index) => log.push(`${name}:${index}`),
    (error: unknown) => log.push(`${name}:${(error as Error).name}`),
  );
}

describe('AsyncBarrier', () => {
  let clock: sinon.SinonFakeTimers | undefined;
  afterEach(() => {
    clock?.restore();
    clock = undefined;
  });

  it('once broken, rejects the waiters and every later wait until reset, each with its own error', async () => {
    const barrier = new AsyncBarrier(3, { name: 'phase' });
    const waiting = barrier.wait().catch((error: unknown) => error);
    barrier.abort();
    const [first, second, third] = [
      await waiting,
      await barrier.wait().catch((error: unknown) => error),
      await barrier.wait().catch((error: unknown) => error),
    ];
    expect(first).to.be.instanceOf(BrokenBarrierError);
    expect((first as Error).message).to.equal('AsyncBarrier(phase) was broken while waiting');
    expect((second as Error).message).to.equal('AsyncBarrier(phase) is broken');
    expect(second).to.be.instanceOf(BrokenBarrierError).and.not.equal(third);
    barrier.reset();
    expect(barrier.broken).to.equal(false);
    const log: string[] = [];
    const parties = [party(barrier, log, 'a'), party(barrier, log, 'b'), party(barrier, log, 'c')];
    await Promise.all(parties);
    expect(log).to.deep.equal(['a:0', 'b:1', 'c:2']);
  });

  it('releases every party together once the last arrives, with distinct arrival indices', async () => {
    const barrier = new AsyncBarrier(3);
    const log: string[] = [];
    const first = [party(barrier, log, 'a'), party(barrier, log, 'b')];
    await flush();
    expect(log).to.deep.equal([]);
    expect(barrier.waiting).to.equal(2);
    await Promise.all([...first, party(barrier, log, 'c')]);
    expect(log.slice().sort()).to.deep.equal(['a:0', 'b:1', 'c:2']);
    expect(barrier.waiting).to.equal(0);
  });

  it('is reusable for the next round', async () => {
    const barrier = new AsyncBarrier(2);
    const log: string[] = [];
    for (const round of [1, 2, 3]) {
      await Promise.all([party(barrier, log, `x${round}`), party(barrier, log, `y${round}`)]);
    }
    expect(log.slice().sort()).to.deep.equal(['x1:0', 'x2:0', 'x3:0', 'y1:1', 'y2:1', 'y3:1']);
  });

  it('resolves a single party at once', async () => {
    expect(await new AsyncBarrier(1).wait()).to.equal(0);
  });

  it('abort() breaks it for the waiters and every later caller until reset()', async () => {
    const barrier = new AsyncBarrier(3);
    const log: string[] = [];
    const waiting = [party(barrier, log, 'a'), party(barrier, log, 'b')];
    await flush();
    barrier.abort();
    await Promise.all(waiting);
    expect(barrier.broken).to.equal(true);
    await party(barrier, log, 'late');
    expect(log).to.deep.equal(['a:BrokenBarrierError', 'b:BrokenBarrierError', 'late:BrokenBarrierError']);
    barrier.reset();
    expect(barrier.broken).to.equal(false);
    await Promise.all(['x', 'y', 'z'].map((name) => party(barrier, log, name)));
    expect(log.slice(3).sort()).to.deep.equal(['x:0', 'y:1', 'z:2']);
  });

  it('reset() while parties wait breaks their round but leaves the barrier usable', async () => {
    const barrier = new AsyncBarrier(2);
    const log: string[] = [];
    const waiting = party(barrier, log, 'a');
    await flush();
    barrier.reset();
    await waiting;
    expect(barrier.broken).to.equal(false);
    await Promise.all([party(barrier, log, 'b'), party(barrier, log, 'c')]);
    expect(log).to.deep.equal(['a:BrokenBarrierError', 'b:0', 'c:1']);
  });

  it('a waiter that times out breaks the barrier for the others (as Python does)', async () => {
    clock = sinon.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'Date'] });
    const barrier = new AsyncBarrier(3);
    const log: string[] = [];
    const waiting = [party(barrier, log, 'a'), party(barrier, log, 'b', { timeout: 100 })];
    await clock.tickAsync(99);
    expect(log).to.deep.equal([]);
    await clock.tickAsync(1);
    await Promise.all(waiting);
    expect(log).to.deep.equal(['b:TimeoutError', 'a:BrokenBarrierError']);
    expect(barrier.broken).to.equal(true);
    expect(clock.countTimers()).to.equal(0);
  });

  it('a waiter that is aborted breaks the barrier, with its own reason', async () => {
    const barrier = new AsyncBarrier(3);
    const controller = new AbortController();
    const reason = new Error('stop');
    const a = barrier.wait().catch((error: unknown) => error);
    const b = barrier.wait({ signal: controller.signal }).catch((error: unknown) => error);
    await flush();
    controller.abort(reason);
    expect(await b).to.equal(reason);
    expect(await a).to.be.instanceOf(BrokenBarrierError);
  });

  it('a timeout of 0 gives up at once and breaks the round; an already-aborted signal does not arrive', async () => {
    const barrier = new AsyncBarrier(2);
    const reason = new Error('stop');
    expect(
      await barrier.wait({ signal: AbortSignal.abort(reason) }).catch((error: unknown) => error),
    ).to.equal(reason);
    expect(barrier.broken).to.equal(false);
    expect(barrier.waiting).to.equal(0);
    expect(await barrier.wait({ timeout: 0 }).catch((error: unknown) => error)).to.be.instanceOf(
      TimeoutError,
    );
    expect(barrier.broken).to.equal(true);
  });

  it('the last arrival completes the round even with a timeout of 0', async () => {
    const barrier = new AsyncBarrier(2);
    const first = barrier.wait();
    expect(await barrier.wait({ timeout: 0 })).to.equal(1);
    expect(await first).to.equal(0);
  });

  it('grant wins: an abort after the round filled does nothing', async () => {
    const barrier = new AsyncBarrier(2);
    const controller = new AbortController();
    const first = barrier.wait({ signal: controller.signal });
    const second = barrier.wait();
    controller.abort(new Error('too late'));
    expect(await Promise.all([first, second])).to.deep.equal([0, 1]);
    expect(barrier.broken).to.equal(false);
  });

  it('rejects bad parties and options with errors naming them', async () => {
    expect(() => new AsyncBarrier(0)).to.throw(RangeError, /parties/);
    expect(() => new AsyncBarrier(2.5)).to.throw(RangeError, /parties/);
    expect(() => new AsyncBarrier(NaN)).to.throw(RangeError, /parties/);
    expect(() => new AsyncBarrier('2' as unknown as number)).to.throw(TypeError, /parties/);
    const outcome = await new AsyncBarrier(2).wait({ timeout: -1 }).catch((error: unknown) => error);
    expect(outcome)
      .to.be.instanceOf(RangeError)
      .with.property('message')
      .that.matches(/timeout/);
  });

  it('describes its state', async () => {
    const barrier = new AsyncBarrier(3, { name: 'phase' });
    const waiting = barrier.wait().catch(() => undefined);
    expect(String(barrier)).to.equal('AsyncBarrier(phase)[waiting=1/3]');
    barrier.abort();
    await waiting;
    expect(String(barrier)).to.equal('AsyncBarrier(phase)[broken]');
    expect(barrier.parties).to.equal(3);
  });
});
