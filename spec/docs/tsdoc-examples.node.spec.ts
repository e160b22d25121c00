/**
 * Every TSDoc `@example` of lib/ compiles and runs. spec/fixtures/tsdoc-examples.ts cuts each ```ts block under an
 * `@example` tag out of its comment and makes it a module (the exports of the four entry points and the free
 * names of its file as a preamble, from the table there); this spec type-checks all of them in one program, then
 * runs them one after another in one child process, each bounded by a timeout, and requires each to settle
 * without throwing.
 */
import { expect } from 'chai';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join, relative, sep } from 'node:path';
import ts from 'typescript';
import {
  compileBlock,
  compilerOptions,
  moduleSource,
  runProgram,
  sourceEntryPoints,
  typeCheckBlocks,
  type CodeBlock,
  type ProgramResult,
} from '../fixtures/markdown-programs.js';
import { projectRoot } from '../fixtures/project-root.js';
import { RedisServer } from '../redis/server.js';
import { exampleModule, findTsdocExamples, type EntryPointExport } from '../fixtures/tsdoc-examples.js';

const root = projectRoot();
/** Inside the repo so that tslib and the dev dependencies resolve; one directory a process. */
const workDir = join(root, 'node_modules', '.cache', 'coop-sync-tsdoc', String(process.pid));
/** How long one example may take to settle (some wait on real timers of a second or so). */
const exampleTimeout = 5_000;

/** The names each entry point exports, from the TypeScript sources. */
function entryPointExports(): Record<string, EntryPointExport[]> {
  const entryPoints = sourceEntryPoints(root);
  const program = ts.createProgram({ rootNames: Object.values(entryPoints), options: compilerOptions(root) });
  const checker = program.getTypeChecker();
  const exports: Record<string, EntryPointExport[]> = {};
  for (const [specifier, path] of Object.entries(entryPoints)) {
    const source = program.getSourceFile(path);
    const moduleSymbol = source && checker.getSymbolAtLocation(source);
    if (moduleSymbol === undefined) throw new Error(`cannot read the exports of ${path}`);
    exports[specifier] = checker.getExportsOfModule(moduleSymbol).map((symbol) => {
      const target = symbol.flags & ts.SymbolFlags.Alias ? checker.getAliasedSymbol(symbol) : symbol;
      return { name: symbol.name, type: (target.flags & ts.SymbolFlags.Value) === 0 };
    });
  }
  return exports;
}

/** The runner: imports each example module in turn, each raced against a timeout, and prints one JSON line each. */
function runnerSource(blocks: readonly CodeBlock[]): string {
  const scripts = blocks.map((block) => `./${relative(workDir, block.script).split(sep).join('/')}`);
  return `const scripts = ${JSON.stringify(scripts)};
let current = -1;
// An error thrown later by an example (in a listener, a timer, a promise nobody awaited) fails the example that
// was running when it surfaced, and does not stop the others.
const late = (error) => process.stdout.write(JSON.stringify({ index: current, ok: false, late: true, error: String(error && error.stack || error) }) + '\\n');
process.on('uncaughtException', late);
process.on('unhandledRejection', late);
for (const [index, script] of scripts.entries()) {
  current = index;
  let timer;
  const timedOut = new Promise((resolve) => {
    timer = setTimeout(() => resolve({ ok: false, error: 'did not settle within ${exampleTimeout} ms' }), ${exampleTimeout});
  });
  const outcome = await Promise.race([
    import(script).then(
      () => ({ ok: true }),
      (error) => ({ ok: false, error: String(error && error.stack || error) }),
    ),
    timedOut,
  ]);
  clearTimeout(timer);
  process.stdout.write(JSON.stringify({ index, ...outcome }) + '\\n');
}
process.exit(0);
`;
}

const examples = findTsdocExamples(root);

describe('TSDoc @example blocks of lib/', () => {
  let blocks: CodeBlock[] = [];
  let run: Promise<ProgramResult> | undefined;
  /** The examples of coop-sync/redis talk to a private redis-server, its URL in REDIS_URL. */
  let redis: RedisServer | undefined;
  before(async function () {
    this.timeout(120_000);
    redis = await RedisServer.start();
    rmSync(workDir, { recursive: true, force: true });
    const exports = entryPointExports();
    blocks = examples.map((example, index) => exampleModule(example, index + 1, exports, workDir));
    const options = compilerOptions(root);
    for (const block of blocks) {
      mkdirSync(dirname(block.file), { recursive: true });
      writeFileSync(block.file, moduleSource(block, sourceEntryPoints(root)));
      writeFileSync(block.script, compileBlock(block, options));
    }
    const runner = join(workDir, 'run-examples.mjs');
    writeFileSync(runner, runnerSource(blocks));
    run = runProgram(runner, root, exampleTimeout * blocks.length + 30_000, { REDIS_URL: redis.url });
    run.catch(() => undefined);
  });
  after(async function () {
    this.timeout(exampleTimeout * examples.length + 30_000);
    await run?.catch(() => undefined);
    await redis?.stop();
    rmSync(workDir, { recursive: true, force: true });
  });

  it('finds the examples (every public class has some)', () => {
    expect(examples.length).to.be.greaterThan(100);
  });

  it('every example type-checks, in one program', function () {
    this.timeout(120_000);
    // Fragments declare stand-ins they may not all use: unused names are not an error here.
    const options = { ...compilerOptions(root), noUnusedLocals: false, noUnusedParameters: false };
    const program = ts.createProgram({
      rootNames: [...blocks.map((block) => block.file), ...Object.values(sourceEntryPoints(root))],
      options,
    });
    const problems = typeCheckBlocks(blocks, root, program);
    expect(problems, problems.join('\n')).to.deep.equal([]);
  });

  it('every example runs to the end without throwing, each within its timeout', async function () {
    this.timeout(exampleTimeout * examples.length + 30_000);
    const result = await run!;
    const outcomes = result.stdout
      .split('\n')
      .filter((line) => line.startsWith('{'))
      .map((line) => JSON.parse(line) as { index: number; ok: boolean; late?: boolean; error?: string });
    const failed = outcomes
      .filter((outcome) => !outcome.ok)
      .map((outcome) => {
        const example = examples[outcome.index]!;
        const when = outcome.late ? ' (thrown after it, or by it later)' : '';
        return `${example.file}:${example.line} (${example.symbol})${when}: ${outcome.error}`;
      });
    expect(failed, failed.join('\n\n')).to.deep.equal([]);
    const finished = outcomes.filter((outcome) => !outcome.late).length;
    expect(finished, `the runner stopped early:\n${result.stderr}`).to.equal(examples.length);
  });
});
