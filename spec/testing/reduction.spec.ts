/**
 * The reduction is sound: on random scenarios whose steps declare exactly what they read and write, the reduced
 * search reaches every final state the full search reaches (it runs one interleaving of each class of equivalent
 * ones, and equivalent interleavings end in the same state), in no more schedules. Fixed seeds.
 */
import { expect } from 'chai';
import { explore, type Access, type Scenario } from '../../lib/testing/index.js';

/** mulberry32, seeded: the same scenarios on every run. */
function random(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

type Op = { readonly kind: 'read' | 'write'; readonly variable: string };

/** Tasks of segments of reads and writes of three variables; each segment is one step, declared exactly. */
function randomScenario(seed: number, finals: Set<string>): Scenario {
  const next = random(seed);
  const variables = ['x', 'y', 'z'];
  const tasks = Array.from({ length: 2 + Math.floor(next() * 2) }, () =>
    Array.from({ length: 1 + Math.floor(next() * 3) }, () =>
      Array.from({ length: 1 + Math.floor(next() * 2) }, (): Op => ({
        kind: next() < 0.5 ? 'read' : 'write',
        variable: variables[Math.floor(next() * variables.length)]!,
      })),
    ),
  );
  const access = (segment: readonly Op[]): Access => ({
    reads: segment.filter((op) => op.kind === 'read').map((op) => op.variable),
    writes: segment.filter((op) => op.kind === 'write').map((op) => op.variable),
  });
  return async (sim) => {
    const state: Record<string, number> = { x: 0, y: 0, z: 0 };
    tasks.forEach((segments, t) => {
      let seen = t + 1;
      sim.spawn(
        `t${t}`,
        async () => {
          for (let s = 0; s < segments.length; s++) {
            if (s > 0) await sim.yield(access(segments[s]!));
            for (const op of segments[s]!) {
              if (op.kind === 'read') seen = seen * 3 + state[op.variable]!;
              else state[op.variable] = (seen * 7 + t) % 1000;
            }
          }
        },
        access(segments[0]!),
      );
    });
    await sim.run();
    finals.add(JSON.stringify(state));
  };
}

describe('testing: the reduction is sound (random declared scenarios)', function () {
  this.timeout(60_000);

  it('reaches every final state of the full search, in no more schedules, over 60 scenarios', async () => {
    let reducedRuns = 0;
    let fullRuns = 0;
    for (let seed = 1; seed <= 60; seed++) {
      const full = new Set<string>();
      const reduced = new Set<string>();
      const a = await explore(randomScenario(seed, full), {
        strategy: 'dfs',
        reduction: false,
        runs: 20_000,
      });
      const b = await explore(randomScenario(seed, reduced), { strategy: 'dfs', runs: 20_000 });
      expect(a.exhausted && b.exhausted, `seed ${seed}`).to.equal(true);
      expect([...reduced].sort(), `seed ${seed}`).to.deep.equal([...full].sort());
      expect(b.runs, `seed ${seed}`).to.be.at.most(a.runs);
      reducedRuns += b.runs;
      fullRuns += a.runs;
    }
    expect(reducedRuns).to.be.lessThan(fullRuns / 2);
  });
});
