import { expect } from 'chai';
import sinon from 'sinon';
import { admit, type WaitOptions } from '../../lib/core/options.js';
import { WaitRing } from '../../lib/core/wait-ring.js';
import { ringAgain, WaitQueue, type WaitHandle } from '../../lib/core/wait-queue.js';
import { flush, installFakeClock, observe } from '../suites/helpers.js';

/** The live entries of `ring`, oldest first. */
function contents(ring: WaitRing<{ id: number }>): number[] {
  return [...ring].map(([entry]) => entry.id);
}

describe('core/WaitRing', () => {
  it('keeps entries in arrival order across growth, and hands out positions that stay valid', () => {
    const ring = new WaitRing<{ id: number }>(0);
    const positions: number[] = [];
    for (let id = 0; id < 100; id++) positions.push(ring.push({ id }, id * 10));
    expect(ring.live).to.equal(100);
    expect(contents(ring)).to.deep.equal([...Array(100).keys()]);
    expect(ring.entryAt(positions[57] as number)).to.deep.equal({ id: 57 });
    expect(ring.valueAt(positions[57] as number)).to.equal(570);
    expect(ring.first()).to.equal(positions[0]);
    expect(ring.last()).to.equal(positions[99]);
  });

  it('removal in the middle leaves a tombstone that first() skips, and the order of the rest', () => {
    const ring = new WaitRing<{ id: number }>(0);
    const positions = [0, 1, 2, 3].map((id) => ring.push({ id }, undefined));
    ring.remove(positions[1] as number);
    ring.remove(positions[0] as number);
    expect(ring.live).to.equal(2);
    expect(ring.entryAt(ring.first())).to.deep.equal({ id: 2 });
    expect(contents(ring)).to.deep.equal([2, 3]);
  });

  it('packs itself once tombstones outnumber max(64, live), keeping the order of the live entries', () => {
    const ring = new WaitRing<{ id: number }>(0);
    const positions: number[] = [];
    for (let id = 0; id < 300; id++) positions.push(ring.push({ id }, id));
    // The oldest stays, so removals are tombstones in the middle: 99 of them against 201 live, no packing...
    for (let id = 1; id <= 99; id++) ring.remove(positions[id] as number);
    const sparse = [...ring].map(([, seq]) => seq);
    expect(sparse[1]! - sparse[0]!).to.equal(100);
    // ... until tombstones outnumber the live entries: the 151st removal (151 tombstones, 149 live) packs them.
    for (let id = 100; id <= 150; id++) ring.remove(positions[id] as number);
    expect([...ring].map(([, seq]) => seq)[1]! - ring.first()).to.equal(151);
    ring.remove(positions[151] as number);
    const packed = [...ring].map(([, seq]) => seq);
    expect(packed.every((seq, i) => i === 0 || seq === packed[i - 1]! + 1)).to.equal(true);
    expect(contents(ring)).to.deep.equal([0, ...Array.from({ length: 148 }, (_, i) => 152 + i)]);
    expect([...ring].map(([, seq]) => ring.valueAt(seq))).to.deep.equal(contents(ring));
  });

  it('waiter objects stay cancellable and grantable after their ring packed itself', async () => {
    const queue = new WaitQueue<string, number>({ label: 'Q' });
    const controller = new AbortController();
    const parked: Promise<string>[] = [];
    const handles: WaitHandle<number>[] = [];
    for (let i = 0; i < 400; i++) {
      // Asking for handles makes every entry an object.
      const promise = queue.park(i % 2 === 0 ? { signal: controller.signal } : undefined, i, 0, handles);
      promise.catch(() => undefined);
      parked.push(promise);
    }
    // 280 cancellations in the middle (waiter 0 stays first) pack the ring.
    const evens = handles.filter((waiter) => waiter.value % 2 === 0 && waiter.value > 0);
    for (const waiter of evens.slice(0, 180)) queue.cancel(waiter, new Error('gone'));
    const odd = handles.filter((waiter) => waiter.value % 2 === 1 && waiter.value < 200);
    for (const waiter of odd) queue.cancel(waiter, new Error('gone'));
    expect(queue.size).to.equal(400 - 180 - 100);
    const expected = [0, ...[...Array(400).keys()].filter((i) => i >= 200 && (i % 2 === 1 || i > 360))];
    expect(queue.values()).to.deep.equal(expected);
    const last = handles.find((waiter) => waiter.value === 398) as WaitHandle<number>;
    expect(queue.cancel(last, new Error('gone'))).to.equal(true);
    expect(queue.cancel(last, new Error('again'))).to.equal(false);
    queue.grantBest('x');
    expect(queue.bestValue).to.equal(201);
    await flush();
    expect(await parked[0]).to.equal('x');
  });

  it('a drained ring gives its large arrays back, and still works afterwards', () => {
    const ring = new WaitRing<{ id: number }>(0);
    const positions: number[] = [];
    for (let id = 0; id < 5000; id++) positions.push(ring.push({ id }, id));
    for (const seq of positions) ring.remove(seq);
    expect(ring.live).to.equal(0);
    expect(ring.first()).to.equal(-1);
    const seq = ring.push({ id: 7 }, 'seven');
    expect(ring.entryAt(seq)).to.deep.equal({ id: 7 });
    expect(ring.valueAt(seq)).to.equal('seven');
  });
});

describe('core/WaitQueue storage of plain waiters', () => {
  const owner = { label: 'Owner(q)' };
  let clock: sinon.SinonFakeTimers | undefined;

  afterEach(() => {
    clock?.restore();
    clock = undefined;
  });

  it('bestValue and grantBest serve the best waiter without turning it into an object', async () => {
    const queue = new WaitQueue<string, number>(owner, undefined, { resolveOnly: true });
    const a = observe(queue.park(undefined, 1));
    const b = observe(queue.park(undefined, 2, 5));
    expect(queue.bestValue).to.equal(2);
    expect(queue.bestPriority).to.equal(5);
    queue.grantBest('to b');
    expect(queue.bestValue).to.equal(1);
    queue.grantBest('to a');
    expect(queue.bestValue).to.equal(undefined);
    queue.grantBest('nobody');
    await flush();
    expect([a.value, b.value]).to.deep.equal(['to a', 'to b']);
  });

  it('resolveOnly: rejectAll rejects plain waiters in order, after a grant made in the same step', async () => {
    const queue = new WaitQueue<string, string>(owner, undefined, { resolveOnly: true });
    const other = new WaitQueue<string, string>(owner);
    const events: string[] = [];
    const track = (label: string, promise: Promise<string>) =>
      promise.then(
        () => events.push(`${label}:granted`),
        () => events.push(`${label}:rejected`),
      );
    track('a', queue.park(undefined, 'a'));
    track('b', queue.park(undefined, 'b'));
    track('c', other.park(undefined, 'c'));
    expect(queue.rejectAll(() => new Error('closed'))).to.equal(2);
    other.grantBest('go');
    await flush();
    await flush();
    expect(events).to.deep.equal(['c:granted', 'a:rejected', 'b:rejected']);
  });

  it('a queue that is not resolveOnly rejects its plain waiters directly, in decision order', async () => {
    const queue = new WaitQueue<string, string>(owner);
    const other = new WaitQueue<string, string>(owner);
    const events: string[] = [];
    queue.park(undefined, 'a').catch(() => events.push('a:rejected'));
    void other.park(undefined, 'c').then(() => events.push('c:granted'));
    queue.rejectAll(() => new Error('closed'));
    other.grantBest('go');
    await flush();
    expect(events).to.deep.equal(['a:rejected', 'c:granted']);
  });

  it('an alarm grants or re-arms, and any settlement clears it and the timeout: no timer is left', async () => {
    clock = installFakeClock();
    const queue = new WaitQueue<string, string>(owner);
    let rounds = 0;
    const polled = observe(
      queue.parkAlarmed({ timeout: 100 }, 10, () => (++rounds < 3 ? ringAgain : 'done')),
    );
    expect(clock.countTimers()).to.equal(2);
    await clock.tickAsync(30);
    expect(polled.value).to.equal('done');
    expect(rounds).to.equal(3);
    expect(clock.countTimers()).to.equal(0);

    const controller = new AbortController();
    const aborted = observe(queue.parkAlarmed({ signal: controller.signal }, 10, () => 'never'));
    controller.abort(new Error('stop'));
    await flush();
    expect((aborted.reason as Error).message).to.equal('stop');
    expect(clock.countTimers()).to.equal(0);
    expect(queue.size).to.equal(0);
  });

  it('admit rejects bad options naming the method, and an aborted signal, before its body parks', async () => {
    const queue = new WaitQueue<string, string>(owner);
    const park = (options: WaitOptions | undefined, value: string | undefined) => queue.park(options, value);
    const bad = observe(admit(owner, 'wait', { timeout: -1 }, park));
    const aborted = observe(admit(owner, 'wait', { signal: AbortSignal.abort(new Error('early')) }, park));
    expect(queue.size).to.equal(0);
    await flush();
    expect(bad.reason).to.be.instanceOf(RangeError);
    expect((bad.reason as Error).message).to.contain('Owner(q).wait: options.timeout');
    expect((aborted.reason as Error).message).to.equal('early');
    const parked = observe(admit(owner, 'wait', undefined, park, 'v'));
    expect(queue.bestValue).to.equal('v');
    queue.grantBest('ok');
    await flush();
    expect(parked.value).to.equal('ok');
  });
});
