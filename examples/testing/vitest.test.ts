/**
 * A scenario as a vitest test: one line. Run it with `npx vitest run examples/testing/vitest.test.ts` (add
 * `EXAMPLE_BUG=1` to see a failure). Not `test.concurrent`: one simulation runs at a time.
 *
 * @module
 */
import { test } from 'vitest';
import { check } from 'coop-sync/testing';
import { checked } from './tally.js';

test('tally never loses an update', () => check(checked, { name: 'tally' }));
