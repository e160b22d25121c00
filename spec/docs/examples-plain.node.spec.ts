/**
 * The plain examples (examples/plain-*.ts): programs without the harness, on the real event loop, that a user can
 * copy as they are. Each runs as its own process, as `npx tsx examples/plain-x.ts` runs it (its `coop-sync`
 * imports resolved through tsconfig.json's "paths"), and prints exactly this.
 */
import { expect } from 'chai';
import { join } from 'node:path';
import { outputLines, runProgram } from '../fixtures/markdown-programs.js';
import { projectRoot } from '../fixtures/project-root.js';

const root = projectRoot();
const timeout = 60_000;

const expected: Record<string, string[]> = {
  'plain-deposits': ['without a lock: 30 (expected 60)', 'with a lock:    60'],
  'plain-download-pool': [
    'AsyncSemaphore(downloads)[value=0, waiting=6]',
    'impatient caller: TimeoutError',
    'a: done, b: done, c: done, d: done, e: done, f: done, g: done, h: done',
    'started in order abcdefgh, at most 3 at once; AsyncSemaphore(downloads)[value=3, waiting=0]',
  ],
  'plain-worker-queue': [
    '12 jobs handled, each once: 1 2 3 4 5 6 7 8 9 10 11 12',
    'never more than 2 queued; every worker took some: true',
    'AsyncQueue(jobs)[size=0/2, getters=0, putters=0, shut down]',
    'TaskGroup(workers)[running=0, daemons=0, settled]',
  ],
};

describe('examples/plain-*.ts: plain programs, no harness', () => {
  for (const [name, lines] of Object.entries(expected)) {
    it(`${name} runs on its own and prints its result`, async function () {
      this.timeout(timeout + 10_000);
      const result = await runProgram(join(root, 'examples', `${name}.ts`), root, timeout);
      expect(result.timedOut, `${name} still running after ${timeout} ms`).to.equal(false);
      expect(result.code, `${name} exited with ${result.code ?? result.signal}:\n${result.stderr}`).to.equal(
        0,
      );
      expect(outputLines(result.stdout)).to.deep.equal(lines);
    });
  }
});
