/**
 * Defects of the harness found by adversarial testing (issue 12, items 3-5): each spec failed before its fix.
 */
import { expect } from 'chai';
import { Simulation } from '../../lib/testing/index.js';

describe('testing: harness defects (issue 12)', () => {
  describe('item 5: options.choices is validated', () => {
    it('NaN, Infinity, fractions, negative numbers and strings are a TypeError naming options.choices', () => {
      for (const bad of [NaN, Infinity, 1.5, -1, '1', 2 ** 53]) {
        expect(() => new Simulation({ choices: [0, bad as number] }), String(bad)).to.throw(
          TypeError,
          /options\.choices\[1\]/,
        );
      }
      expect(() => new Simulation({ choices: 'x' as unknown as number[] })).to.throw(
        TypeError,
        /options\.choices/,
      );
    });

    it('valid choices still print a schedule that replays', async () => {
      const sim = new Simulation({ choices: [1, 0, 7] });
      sim.spawn('a', async () => {});
      sim.spawn('b', async () => {});
      sim.spawn('c', async () => {});
      await sim.run();
      expect(sim.schedule).to.match(/^cs1:\d/);
      const again = new Simulation({ schedule: sim.schedule });
      again.spawn('a', async () => {});
      again.spawn('b', async () => {});
      again.spawn('c', async () => {});
      await again.run();
      expect(again.trace).to.deep.equal(sim.trace);
    });
  });
});
