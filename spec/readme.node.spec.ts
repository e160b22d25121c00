/**
 * Every ```ts block of README.md is a complete module: this spec type-checks each one with the project's compiler
 * options, runs it as a standalone program (a Node process of its own), and compares what it logs with the ```text block that follows it, if any. Blocks import from
 * 'coop-sync' and 'coop-sync/testing' like a user would; the spec points those imports at lib/.
 *
 * Conventions for README authors:
 * - ```ts blocks must be self-contained (their own imports) and finish on their own, without long real timers.
 * - A ```text block right after a ```ts block is its expected console.log output, line for line.
 * - A block declaring `export declare class X` is an API signature: the real `X` must be assignable to it
 *   (instance and constructor side), so the README cannot drift from lib/.
 * - ```ts no-check marks a block that is deliberately partial: it is neither compiled nor run (use rarely).
 */
import { expect } from 'chai';
import { execFile } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';

/** The project root: the nearest directory above this spec with README.md and package.json (spec/ or build/spec/). */
function findRoot(): string {
  for (let directory = dirname(fileURLToPath(import.meta.url)); ; directory = dirname(directory)) {
    if (existsSync(join(directory, 'README.md')) && existsSync(join(directory, 'package.json')))
      return directory;
    if (dirname(directory) === directory) throw new Error('README.md not found above spec/');
  }
}

const root = findRoot();
const readmePath = join(root, 'README.md');
/**
 * Inside the repo so that tslib, @types and dev dependencies resolve (node_modules/ is ignored by git and tools);
 * one directory a process, so that concurrent runs do not delete each other's files.
 */
const workDir = join(root, 'node_modules', '.cache', 'coop-sync-readme', String(process.pid));
type EntryPoints = Record<'coop-sync' | 'coop-sync/testing', string>;
/** What the blocks are type-checked against: the TypeScript sources. */
const sourceEntryPoints: EntryPoints = {
  'coop-sync': join(root, 'lib', 'index.ts'),
  'coop-sync/testing': join(root, 'lib', 'testing', 'index.ts'),
};
/**
 * What the blocks run against: lib/ next to this spec, so under tsx the sources (tsx maps `.js` to `.ts`), and
 * when the specs are compiled first (`npm run coverage`), the compiled build/lib/.
 */
const runtimeEntryPoints: EntryPoints = {
  'coop-sync': fileURLToPath(new URL('../lib/index.js', import.meta.url)),
  'coop-sync/testing': fileURLToPath(new URL('../lib/testing/index.js', import.meta.url)),
};

interface Block {
  /** 1-based position among the README's ```ts blocks. */
  readonly number: number;
  /** README line of the block's first line of code. */
  readonly line: number;
  readonly code: string;
  readonly check: boolean;
  /** The ```text block that follows, if any. */
  readonly output: string[] | undefined;
  /** The module that is type-checked (`.mts`: ESM whatever the surrounding package says). */
  readonly file: string;
  /** The same, compiled to JavaScript, which is run. */
  readonly script: string;
}

function parseBlocks(markdown: string): Block[] {
  const lines = markdown.split(/\r?\n/);
  const blocks: Block[] = [];
  let index = 0;
  /** Reads the fenced block opening at `start`; returns its info string, body and the index after its fence. */
  const fenced = (start: number) => {
    const info = lines[start]!.slice(3).trim();
    let end = start + 1;
    while (end < lines.length && !lines[end]!.startsWith('```')) end++;
    if (end === lines.length) throw new Error(`README.md:${start + 1}: unclosed code fence`);
    return { info, body: lines.slice(start + 1, end), next: end + 1 };
  };
  while (index < lines.length) {
    if (!lines[index]!.startsWith('```')) {
      index++;
      continue;
    }
    const block = fenced(index);
    const [language, ...flags] = block.info.split(/\s+/);
    if (language !== 'ts') {
      index = block.next;
      continue;
    }
    let after = block.next;
    while (after < lines.length && lines[after]!.trim() === '') after++;
    let output: string[] | undefined;
    if (after < lines.length && lines[after]!.startsWith('```') && fenced(after).info === 'text') {
      output = fenced(after).body;
    }
    const number = blocks.length + 1;
    blocks.push({
      number,
      line: index + 2,
      code: block.body.join('\n'),
      check: !flags.includes('no-check'),
      output,
      file: join(workDir, `block-${String(number).padStart(2, '0')}.mts`),
      script: join(workDir, `block-${String(number).padStart(2, '0')}.mjs`),
    });
    index = block.next;
  }
  return blocks;
}

/** A relative module specifier from the blocks' directory to `target` (a .ts file is imported as .js). */
function specifierFor(target: string): string {
  const path = relative(workDir, target).split(sep).join('/').replace(/\.ts$/, '.js');
  return path.startsWith('.') ? path : `./${path}`;
}

/**
 * The module written for a block: its code with the package imports pointed at lib/, plus, for each
 * `export declare class X`, a check that the real X is assignable to the declared one.
 */
function moduleSource(block: Block, entryPoints: EntryPoints): string {
  const code = block.code.replace(
    /(from\s+|import\s*\(\s*)(['"])(coop-sync(?:\/testing)?)\2/g,
    (_match, lead, quote, name) => {
      return `${lead}${quote}${specifierFor(entryPoints[name as keyof EntryPoints])}${quote}`;
    },
  );
  const declared = [...code.matchAll(/^export declare class (\w+)(<([^>]*)>)?/gm)];
  if (declared.length === 0) return `${code}\n`;
  const checks = [`import * as __coopSync from '${specifierFor(entryPoints['coop-sync'])}';`];
  for (const [, name, generics, parameters] of declared) {
    const args =
      generics === undefined
        ? ''
        : `<${parameters!
            .split(',')
            .map(() => 'unknown')
            .join(', ')}>`;
    checks.push(
      `export const __instance_${name} = (real: __coopSync.${name}${args}): ${name}${args} => real;`,
    );
    checks.push(`export const __constructor_${name}: typeof ${name} = __coopSync.${name};`);
  }
  return `${code}\n// Signature checks added by spec/readme.node.spec.ts:\n${checks.join('\n')}\n`;
}

function compilerOptions(): ts.CompilerOptions {
  const config = ts.readConfigFile(join(root, 'tsconfig.json'), ts.sys.readFile);
  if (config.error) throw new Error(ts.flattenDiagnosticMessageText(config.error.messageText, '\n'));
  const parsed = ts.parseJsonConfigFileContent(config.config, ts.sys, root);
  return { ...parsed.options, noEmit: true, declaration: false, sourceMap: false, incremental: false };
}

/** Where a diagnostic points, as a README location when it is in a block. */
function describeDiagnostic(diagnostic: ts.Diagnostic, blocks: readonly Block[]): string {
  const message = ts.flattenDiagnosticMessageText(diagnostic.messageText, '\n');
  const file = diagnostic.file;
  if (file === undefined || diagnostic.start === undefined) return message;
  const { line, character } = file.getLineAndCharacterOfPosition(diagnostic.start);
  const block = blocks.find((candidate) => resolve(candidate.file) === resolve(file.fileName));
  if (block === undefined) return `${relative(root, file.fileName)}:${line + 1}:${character + 1}: ${message}`;
  const codeLines = block.code.split('\n').length;
  const where =
    line < codeLines
      ? `README.md:${block.line + line}:${character + 1}`
      : `README.md block ${block.number} (line ${block.line}), signature check`;
  return `${where}: TS${diagnostic.code}: ${message}`;
}

const blocks = parseBlocks(readFileSync(readmePath, 'utf8'));
const checked = blocks.filter((block) => block.check);

describe('README.md', () => {
  before(() => {
    rmSync(workDir, { recursive: true, force: true });
    mkdirSync(workDir, { recursive: true });
    const options = compilerOptions();
    for (const block of checked) {
      writeFileSync(block.file, moduleSource(block, sourceEntryPoints));
      const javascript = ts.transpileModule(moduleSource(block, runtimeEntryPoints), {
        compilerOptions: { ...options, sourceMap: false, inlineSourceMap: false },
        fileName: block.file,
      });
      writeFileSync(block.script, javascript.outputText);
    }
  });
  after(() => {
    rmSync(workDir, { recursive: true, force: true });
  });

  it('has ts code blocks to check', () => {
    expect(checked.length).to.be.greaterThan(10);
  });

  /** One program over every block and both entry points, built by the first test that needs it. */
  let program: ts.Program | undefined;
  const getProgram = () =>
    (program ??= ts.createProgram({
      rootNames: [...checked.map((block) => block.file), ...Object.values(sourceEntryPoints)],
      options: compilerOptions(),
    }));

  it('every ts block type-checks, and each declared signature matches lib/', function () {
    this.timeout(120_000);
    const blockFiles = new Set(checked.map((block) => resolve(block.file)));
    const problems = ts
      .getPreEmitDiagnostics(getProgram())
      .filter(
        (diagnostic) => diagnostic.file === undefined || blockFiles.has(resolve(diagnostic.file.fileName)),
      )
      .map((diagnostic) => describeDiagnostic(diagnostic, blocks));
    expect(problems, problems.join('\n')).to.deep.equal([]);
  });

  it('mentions every export of coop-sync and coop-sync/testing as `Name`', function () {
    this.timeout(120_000);
    const readme = readFileSync(readmePath, 'utf8');
    const checker = getProgram().getTypeChecker();
    const undocumented: string[] = [];
    for (const [specifier, path] of Object.entries(sourceEntryPoints)) {
      const source = getProgram().getSourceFile(path);
      const moduleSymbol = source && checker.getSymbolAtLocation(source);
      if (moduleSymbol === undefined) throw new Error(`cannot read the exports of ${path}`);
      for (const symbol of checker.getExportsOfModule(moduleSymbol)) {
        if (!readme.includes(`\`${symbol.name}\``)) undocumented.push(`${specifier}: ${symbol.name}`);
      }
    }
    expect(undocumented).to.deep.equal([]);
  });

  /**
   * Each block runs as a standalone program, `node --import tsx block.mjs`, as a user would run it: a block that
   * only finishes because mocha keeps the process alive (an awaited wait that holds no handle) fails here, with
   * Node's exit code 13. A few run at once; each test awaits its own.
   */
  const runs = new Map<Block, Promise<Run>>();
  const started: (() => void)[] = [];
  let running = 0;
  const startNext = () => {
    while (running < 3 && started.length > 0) {
      running++;
      (started.shift() as () => void)();
    }
  };
  const runOf = (block: Block): Promise<Run> => {
    let run = runs.get(block);
    if (run === undefined) {
      run = new Promise<Run>((resolve) => {
        started.push(() =>
          runProgram(block.script).then((result) => {
            running--;
            startNext();
            resolve(result);
          }),
        );
      });
      runs.set(block, run);
      startNext();
    }
    return run;
  };

  for (const block of checked) {
    const title = `block ${block.number} (README.md line ${block.line}) runs as a program${block.output ? ' and prints its output' : ''}`;
    it(title, async function () {
      this.timeout(120_000);
      // Queue the next blocks too, so that a few programs run while this test waits.
      for (const next of checked.slice(checked.indexOf(block), checked.indexOf(block) + 3)) void runOf(next);
      const { code, stdout, stderr } = await runOf(block);
      expect(code, `exit code ${String(code)}; stderr:\n${stderr}`).to.equal(0);
      if (block.output !== undefined) expect(stdout).to.deep.equal(block.output);
    });
  }
});

/** What a block's program did. */
interface Run {
  readonly code: number | null;
  readonly stdout: string[];
  readonly stderr: string;
}

/** Runs `script` in a Node process of its own (tsx maps lib/'s `.js` imports to the sources), bounded in time. */
function runProgram(script: string): Promise<Run> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      ['--import', 'tsx', script],
      { cwd: root, timeout: 60_000, maxBuffer: 16 * 1024 * 1024 },
      (error, stdout, stderr) => {
        const code = error === null ? 0 : typeof error.code === 'number' ? error.code : null;
        const lines = stdout.split('\n');
        if (lines[lines.length - 1] === '') lines.pop();
        resolve({ code, stdout: lines, stderr });
      },
    );
  });
}
