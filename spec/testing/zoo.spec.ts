/**
 * The harness against the bug zoo (zoo.ts): `auto` finds every bug and proves every fix; the reduction gives the
 * same verdicts in no more schedules; failures come back minimal, replayable and readable; a randomised search that
 * covered part of the space says so.
 */
import { expect } from 'chai';
import {
  DeadlockError,
  ExplorationError,
  check,
  explore,
  formatTimeline,
  replay,
  type ExploreResult,
} from '../../lib/testing/index.js';
import { rejectionOf } from '../suites/helpers.js';
import { invariant, zoo } from './zoo.js';

function verdict(result: ExploreResult): string {
  if (result.failure !== undefined) {
    const error = result.failure.error;
    return `fails: ${error instanceof Error ? error.name : typeof error}`;
  }
  return result.exhausted ? 'proven' : 'nothing found';
}

describe('testing: the bug zoo', function () {
  this.timeout(60_000);

  it('has the twelve kinds of the issue, each passing in FIFO order', async () => {
    expect(zoo).to.have.length(12);
    for (const specimen of zoo) {
      const fifo = await explore(specimen.buggy, { strategy: 'dfs', runs: 1 });
      expect(fifo.failure, specimen.name).to.equal(undefined);
    }
  });

  for (const specimen of zoo) {
    describe(specimen.name, () => {
      it('auto (the default) finds the bug, minimal and replayable, and proves the fix', async () => {
        const found = await explore(specimen.buggy);
        const failure = found.failure!;
        expect(failure, 'found').to.not.equal(undefined);
        expect(found.runs).to.be.at.most(200);
        // Byte for byte: the printed schedule replays the same steps and the same error.
        const error = await rejectionOf(replay(specimen.buggy, failure.schedule));
        expect(String(error)).to.equal(String(failure.error));
        const again = await explore(specimen.buggy);
        expect(again.failure!.trace).to.deep.equal(failure.trace);
        // Minimal: no schedule with fewer departures from FIFO order fails the same way.
        if (failure.preemptions > 0) {
          const fewer = await explore(specimen.buggy, {
            strategy: 'dfs',
            reduction: false,
            maxDelays: failure.preemptions - 1,
            runs: 20_000,
            minimize: false,
          });
          const kind = (failure.error as Error).name;
          expect(fewer.failure === undefined || (fewer.failure.error as Error).name !== kind).to.equal(true);
        }
        const proof = await explore(specimen.fixed);
        expect(verdict(proof)).to.equal('proven');
      });

      it('the reduction gives the verdicts of the full search, in no more schedules', async () => {
        for (const scenario of [specimen.buggy, specimen.fixed]) {
          const reduced = await explore(scenario, { strategy: 'dfs', runs: 2000, minimize: false });
          const full = await explore(scenario, {
            strategy: 'dfs',
            reduction: false,
            runs: 2000,
            minimize: false,
          });
          expect(reduced.runs).to.be.at.most(full.runs);
          const cut = full.failure === undefined && !full.exhausted;
          // Where the full search ran out of runs, the reduced one must still agree: nothing found.
          expect(cut ? verdict(reduced).replace('proven', 'nothing found') : verdict(reduced)).to.equal(
            verdict(full),
          );
        }
      });
    });
  }

  it('the four-task version of the invariant is proven within 50,000 schedules, and its bug found', async () => {
    const proof = await explore(invariant(true, 4), { strategy: 'dfs', runs: 50_000 });
    expect(proof.exhausted).to.equal(true);
    expect(proof.runs).to.be.at.most(50_000);
    const bug = await explore(invariant(false, 4), { runs: 50_000 });
    expect(String(bug.failure?.error)).to.equal('Error: 4 tasks active, the limit is 3');
  });

  it("a failure's timeline shows each task's own log lines", async () => {
    const found = await explore(zoo[0]!.buggy);
    expect(found.failure!.preemptions).to.equal(2);
    const timeline = formatTimeline(found.failure!.steps);
    expect(timeline.split('\n')[0]).to.match(/^step {2}time {2}a +b$/);
    expect(timeline).to.contain('read 0').and.contain('wrote 1');
  });

  it('a deadlock of the zoo is reported as one, naming both locks', async () => {
    const found = await explore(zoo[1]!.buggy);
    const error = found.failure!.error as DeadlockError;
    expect(error).to.be.instanceOf(DeadlockError);
    expect(error.blocked.map((entry) => entry.waitingOn).sort()).to.deep.equal([
      'AsyncLock(A)',
      'AsyncLock(B)',
    ]);
  });

  describe('coverage of randomised strategies', () => {
    it('a randomised search that finds nothing says how much it covered and what to try', async () => {
      const result = await explore(invariant(true, 3), { strategy: 'random', runs: 30 });
      expect(result.failure).to.equal(undefined);
      expect(result.warning).to.match(
        /30 runs found no failure, but covered only \d+ distinct schedules of about \d+/,
      );
      expect(result.warning).to.contain('not a proof').and.contain('runs: 1000');
      const pct = await explore(invariant(true, 3), { strategy: 'pct', runs: 30 });
      expect(pct.warning).to.match(/strategy 'pct'/);
    });

    it('a proof or a systematic search has no warning', async () => {
      expect((await explore(invariant(true, 3))).warning).to.equal(undefined);
      expect((await explore(invariant(true, 3), { strategy: 'dfs', runs: 5 })).warning).to.equal(undefined);
    });

    it('check() fails with the warning unless partial: true, and with the timeline and replay on a bug', async () => {
      const partial = await rejectionOf(check(invariant(true, 3), { strategy: 'random', runs: 30 }));
      expect(partial).to.be.instanceOf(ExplorationError);
      expect((partial as Error).message).to.match(/covered only \d+ distinct schedules/);
      const accepted = await check(invariant(true, 3), { strategy: 'random', runs: 30, partial: true });
      expect(accepted.warning).to.be.a('string');
      const bug = (await rejectionOf(check(zoo[0]!.buggy, { name: 'lostUpdate' }))) as ExplorationError;
      expect(bug.message).to.match(/^lostUpdate fails under a schedule that departs 2 times from FIFO order/);
      expect(bug.message).to.contain('Error: lost update: count = 1');
      expect(bug.message).to.contain('read 0');
      expect(bug.message).to.contain(`replay: await replay(lostUpdate, '${bug.schedule!}')`);
      expect(String(bug.cause)).to.equal('Error: lost update: count = 1');
      expect(await check(zoo[0]!.fixed)).to.deep.include({ exhausted: true });
    });
  });
});
