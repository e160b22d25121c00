/**
 * A scenario as a `node:test` test: one line. Run it with `node --import tsx --test examples/testing/node-test.ts`
 * (add `EXAMPLE_BUG=1` to see a failure). The tests of one file run one at a time unless told otherwise: keep it so,
 * since one simulation runs at a time.
 *
 * @module
 */
import { test } from 'node:test';
import { check } from 'coop-sync/testing';
import { checked } from './tally.js';

test('tally never loses an update', async () => {
  await check(checked, { name: 'tally' });
});
