/**
 * Every ```ts block of README.md is a complete module: this spec type-checks each one with the project's compiler
 * options, runs it as a standalone program (a Node process of its own, as a user would run it: a block that only
 * finishes because mocha keeps the process alive fails here), and compares what it prints with the ```text block
 * that follows it, if any. Blocks import from 'coop-sync', 'coop-sync/testing', 'coop-sync/threads' and
 * 'coop-sync/redis' like a user would; the spec points those imports at lib/. The machinery is shared with the
 * guides' spec (spec/docs/pages.node.spec.ts) in spec/fixtures/markdown-programs.ts.
 *
 * Conventions for README authors:
 * - ```ts blocks must be self-contained (their own imports) and finish on their own, without long real timers.
 * - A ```text block right after a ```ts block is its expected console.log output, line for line.
 * - A block declaring `export declare class X` is an API signature: the real `X` must be assignable to it
 *   (instance and constructor side), so the README cannot drift from lib/.
 * - ```ts no-check marks a block that is deliberately partial: it is neither compiled nor run (use rarely).
 * - ```ts redis marks a block that needs a Redis server: it runs against a private redis-server, its URL in
 *   `REDIS_URL`.
 *
 * The README is the front page (at most about 250 lines); the reference that mentions every export is under
 * docs/reference/ (checked by spec/docs/pages.node.spec.ts).
 */
import { expect } from 'chai';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  expectRanAsProgram,
  parseCodeBlocks,
  runBlockProgramsAround,
  typeCheckBlocks,
} from '../fixtures/markdown-programs.js';
import { projectRoot } from '../fixtures/project-root.js';

const root = projectRoot();
const readmePath = join(root, 'README.md');
/**
 * Inside the repo so that tslib, @types and dev dependencies resolve (node_modules/ is ignored by git and tools);
 * one directory a process, so that concurrent runs do not delete each other's files.
 */
const workDir = join(root, 'node_modules', '.cache', 'coop-sync-readme', String(process.pid));
/** How long one block may run before it is killed. */
const programTimeout = 60_000;
/** Programs run at once. */
const parallel = 3;

const blocks = parseCodeBlocks(readFileSync(readmePath, 'utf8'), 'README.md', workDir);
const checked = blocks.filter((block) => block.check);
/** The front page stays a front page: what it is, why, install, quick start, one example a family, links. */
const maxLines = 250;

describe('README.md', () => {
  const results = runBlockProgramsAround(checked, root, workDir, {
    parallel,
    timeout: programTimeout,
    name: 'README programs',
  });

  it(`is a front page of at most ${maxLines} lines`, () => {
    expect(readFileSync(readmePath, 'utf8').split('\n').length).to.be.at.most(maxLines);
  });

  it('has ts code blocks to check', () => {
    expect(checked.length).to.be.greaterThan(8);
  });

  it('every ts block type-checks, and each declared signature matches lib/', function () {
    this.timeout(120_000);
    const problems = typeCheckBlocks(checked, root);
    expect(problems, problems.join('\n')).to.deep.equal([]);
  });

  for (const block of checked) {
    const title = `block ${block.number} (README.md line ${block.line}) runs as a program${block.output ? ' and prints its output' : ''}`;
    it(title, async function () {
      this.timeout(programTimeout * Math.ceil(checked.length / parallel) + 10_000);
      expectRanAsProgram(block, await results.get(block)!, programTimeout);
    });
  }
});
