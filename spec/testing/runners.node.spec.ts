/**
 * The test-runner one-liners of examples/testing/ (mocha, node:test, vitest), run as their runners run them: the
 * locked tally passes; under `EXAMPLE_BUG=1` the test fails with the error, the timeline with each task's log lines,
 * and the replay command.
 */
import { expect } from 'chai';
import { execFile } from 'node:child_process';
import { projectRoot } from '../fixtures/project-root.js';

// The project root also when this spec runs compiled from build/ (the coverage run): the examples run from source.
const root = projectRoot();

interface Ran {
  readonly code: number;
  readonly output: string;
}

function run(args: readonly string[], bug: boolean): Promise<Ran> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      args,
      {
        cwd: root,
        timeout: 60_000,
        env: { ...process.env, EXAMPLE_BUG: bug ? '1' : '0', NO_COLOR: '1', FORCE_COLOR: '0', CI: '1' },
      },
      (error, stdout, stderr) => {
        const code = error === null ? 0 : typeof error.code === 'number' ? error.code : -1;
        resolve({ code, output: `${stdout}\n${stderr}` });
      },
    );
  });
}

const runners: [string, string[]][] = [
  [
    'mocha',
    [
      'node_modules/mocha/bin/mocha.js',
      '--no-config',
      '--node-option',
      'import=tsx',
      'examples/testing/mocha.ts',
    ],
  ],
  ['node:test', ['--import', 'tsx', '--test', 'examples/testing/node-test.ts']],
  ['vitest', ['node_modules/vitest/vitest.mjs', 'run', 'examples/testing/vitest.test.ts']],
];

describe('testing: the test-runner one-liners (examples/testing)', function () {
  this.timeout(120_000);

  for (const [runner, args] of runners) {
    it(`${runner}: the proven scenario passes; the buggy one fails with its timeline and replay command`, async () => {
      const passing = await run(args, false);
      expect(passing.code, passing.output).to.equal(0);
      const failing = await run(args, true);
      expect(failing.code, failing.output).to.not.equal(0);
      expect(failing.output).to.contain('tally fails under a schedule');
      expect(failing.output).to.contain('Error: lost update: total = 1');
      expect(failing.output).to.match(/step {2}time {2}a {8}b/);
      expect(failing.output).to.match(/1 {3}0ms {2}read 0/);
      expect(failing.output).to.contain("replay: await replay(tally, 'cs1:");
    });
  }
});
