/**
 * A scenario as a mocha test: one line. Run it with
 * `npx mocha --no-config --node-option import=tsx examples/testing/mocha.ts` (add `EXAMPLE_BUG=1` to see a failure:
 * the error, the timeline with each task's log lines, and the replay command).
 *
 * @module
 */
import { check } from 'coop-sync/testing';
import { checked } from './tally.js';

describe('tally', () => {
  it('never loses an update', () => check(checked, { name: 'tally' }));
});
