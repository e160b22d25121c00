#!/usr/bin/env node
// Runs the mocha specs in headless Chromium.
//
//   node scripts/browser-test.mjs                 every spec/**/*.spec.ts except *.node.spec.ts
//   node scripts/browser-test.mjs spec/lock.spec.ts ...   only these files (must live inside the project)
//
// Steps: bundle the specs with rollup into .browser-bundle/specs.js (and each spec/**/*.browser-worker.ts, a Web
// Worker script, into .browser-bundle/workers/), serve them cross-origin isolated with mocha's browser build from a
// tiny http server on 127.0.0.1, load it in Chromium (playwright-core driving Debian's /usr/bin/chromium, or
// $CHROMIUM_PATH), forward the console, and exit non-zero on a failed test, zero tests, a page error, a crash
// or a timeout. The last line printed is `browser: N passed, N failed`.
//
// Env: CHROMIUM_PATH (default /usr/bin/chromium), BROWSER_TEST_TIMEOUT_MS (default 300000: the run takes about 2 minutes on 2 cores, 30 s of it the async Web Worker counting spec),
//      MOCHA_TIMEOUT_MS (per-test timeout, default 10000), MOCHA_GREP (only tests matching this pattern).
import { readdirSync, readFileSync, mkdirSync, rmSync } from 'node:fs';
import { createServer } from 'node:http';
import { SourceMap, builtinModules } from 'node:module';
import { basename, dirname, extname, join, relative, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { format } from 'node:util';
import { rollup } from 'rollup';
import typescript from '@rollup/plugin-typescript';
import { nodeResolve } from '@rollup/plugin-node-resolve';
import commonjs from '@rollup/plugin-commonjs';
import { chromium } from 'playwright-core';
import { withoutNodeContext } from './default-build.mjs';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const outDir = join(root, '.browser-bundle');
const chromiumPath = process.env.CHROMIUM_PATH || '/usr/bin/chromium';
const overallTimeoutMs = Number(process.env.BROWSER_TEST_TIMEOUT_MS || 300_000);
const mochaTimeoutMs = Number(process.env.MOCHA_TIMEOUT_MS || 10_000);
const ENTRY = '\0browser-specs-entry';

const nodeBuiltins = new Set([...builtinModules, ...builtinModules.map((m) => `node:${m}`)]);
const isBrowserSpec = (file) => file.endsWith('.spec.ts') && !file.endsWith('.node.spec.ts');

function findSpecs() {
  const args = process.argv.slice(2);
  if (args.length > 0) {
    return args.map((f) => {
      const abs = resolve(f);
      if (relative(root, abs).startsWith('..')) throw new Error(`${f}: spec files must live inside ${root}`);
      return abs;
    });
  }
  const specDir = join(root, 'spec');
  return readdirSync(specDir, { recursive: true })
    .map(String)
    .filter(isBrowserSpec)
    .map((f) => join(specDir, f))
    .sort();
}

/** Virtual entry importing every spec; spec modules are kept whole despite package.json "sideEffects": false. */
function specsEntry(specFiles) {
  const specSet = new Set(specFiles);
  return {
    name: 'browser-specs-entry',
    async resolveId(source, importer, options) {
      if (source === ENTRY) return ENTRY;
      if (nodeBuiltins.has(source) && importer && !importer.includes(`${sep}node_modules${sep}`)) {
        this.error(
          `${relative(root, importer)} imports the Node built-in "${source}": it cannot run in the browser. ` +
            `Name Node-only spec files *.node.spec.ts (lib/ must not import Node built-ins statically).`,
        );
      }
      if (importer === ENTRY) {
        const resolved = await this.resolve(source, undefined, { ...options, skipSelf: true });
        if (resolved && specSet.has(resolved.id)) return { ...resolved, moduleSideEffects: 'no-treeshake' };
        return resolved;
      }
      return null;
    },
    // `await import('node:…')` behind a runtime check stays a (never executed) dynamic import.
    resolveDynamicImport(specifier) {
      if (typeof specifier === 'string' && nodeBuiltins.has(specifier))
        return { id: specifier, external: true };
      return null;
    },
    load(id) {
      if (id !== ENTRY) return null;
      return specFiles.map((f) => `import ${JSON.stringify(f)};`).join('\n') + '\n';
    },
  };
}

async function bundle(specFiles) {
  const started = Date.now();
  rmSync(outDir, { recursive: true, force: true });
  mkdirSync(outDir, { recursive: true });
  const build = await rollup({
    input: ENTRY,
    plugins: [
      specsEntry(specFiles),
      // What the browser build ships: lib/ without the Node wiring of async context.
      withoutNodeContext(),
      typescript({
        tsconfig: join(root, 'tsconfig.json'),
        // Emit ESM for rollup; type errors are `npm run typecheck`'s job, not this bundle's.
        module: 'ESNext',
        moduleResolution: 'Bundler',
        outDir: null, // emit (in memory) next to the sources, so source maps point at the real files
        declaration: false,
        declarationMap: false,
        sourceMap: true,
        inlineSources: true,
        noEmitOnError: false,
        noCheck: true,
      }),
      nodeResolve({ browser: true, preferBuiltins: false }),
      commonjs({ ignore: ['util'] }),
    ],
    onwarn(warning, warn) {
      if (warning.code === 'CIRCULAR_DEPENDENCY' && /node_modules/.test(warning.message)) return;
      if (warning.code === 'EVAL' && /node_modules/.test(warning.id ?? '')) return;
      if (warning.code === 'UNRESOLVED_IMPORT') throw new Error(warning.message);
      warn(warning);
    },
  });
  await build.write({
    file: join(outDir, 'specs.js'),
    format: 'es',
    sourcemap: true,
    inlineDynamicImports: true,
  });
  await build.close();
  console.log(
    `bundled ${specFiles.length} spec file(s) into ${relative(root, outDir)}/specs.js in ${Date.now() - started} ms`,
  );
}

/** Web Worker scripts of the specs (`*.browser-worker.ts` under spec/), each served as `/workers/<name>.js`. */
function findWorkers() {
  const specDir = join(root, 'spec');
  return readdirSync(specDir, { recursive: true })
    .map(String)
    .filter((file) => file.endsWith('.browser-worker.ts'))
    .map((file) => join(specDir, file))
    .sort();
}

/** Bundles each worker script on its own (a worker loads one file), with what the spec bundle ships of lib/. */
async function bundleWorkers(workerFiles) {
  const served = {};
  for (const file of workerFiles) {
    const name = basename(file).replace(/\.ts$/, '.js');
    const build = await rollup({
      input: file,
      plugins: [
        withoutNodeContext(),
        typescript({
          tsconfig: join(root, 'tsconfig.json'),
          module: 'ESNext',
          moduleResolution: 'Bundler',
          outDir: null,
          declaration: false,
          declarationMap: false,
          sourceMap: false,
          noEmitOnError: false,
          noCheck: true,
        }),
        nodeResolve({ browser: true, preferBuiltins: false }),
      ],
      onwarn(warning, warn) {
        if (warning.code === 'UNRESOLVED_IMPORT') throw new Error(warning.message);
        warn(warning);
      },
    });
    await build.write({ file: join(outDir, 'workers', name), format: 'es', inlineDynamicImports: true });
    await build.close();
    served[`/workers/${name}`] = [join(outDir, 'workers', name), 'text/javascript'];
  }
  if (workerFiles.length > 0)
    console.log(`bundled ${workerFiles.length} worker script(s) into ${relative(root, outDir)}/workers/`);
  return served;
}

/**
 * Rewrites `http://127.0.0.1:PORT/specs.js:L:C` (mocha shortens it to `specs.js:L:C`) in stack traces to
 * `spec/x.spec.ts:L:C` through the bundle's source map.
 */
function stackMapper() {
  let map;
  try {
    map = new SourceMap(JSON.parse(readFileSync(join(outDir, 'specs.js.map'), 'utf8')));
  } catch {
    return (text) => text;
  }
  return (text) =>
    text.replace(
      /(?:http:\/\/127\.0\.0\.1:\d+\/|(?<![\w./-]))specs\.js:(\d+):(\d+)/g,
      (whole, line, column) => {
        const entry = map.findEntry(Number(line) - 1, Number(column) - 1);
        if (!entry || !entry.originalSource) return whole;
        const file = relative(root, resolve(outDir, entry.originalSource));
        return `${file}:${entry.originalLine + 1}:${entry.originalColumn + 1}`;
      },
    );
}

const page = `<!doctype html>
<html>
<head><meta charset="utf-8"><title>coop-sync browser specs</title><link rel="stylesheet" href="/mocha.css"></head>
<body>
<div id="mocha"></div>
<script src="/mocha.js"></script>
<script>
  mocha.setup({ ui: 'bdd', reporter: 'spec', timeout: ${mochaTimeoutMs}${
    process.env.MOCHA_GREP ? `, grep: ${JSON.stringify(process.env.MOCHA_GREP)}` : ''
  } });
</script>
<script type="module" src="/specs.js"></script>
<script type="module">
  const runner = mocha.run();
  // Name the test that was running when an uncaught error / unhandled rejection surfaced (reported as page errors).
  let current = '(before the first test)';
  runner.on('test', (test) => { current = test.fullTitle(); });
  const blame = (what) => console.error(\`browser-test: \${what} during or after: \${current}\`);
  window.addEventListener('unhandledrejection', () => blame('unhandled rejection'));
  window.addEventListener('error', () => blame('uncaught error'));
  runner.on('end', () => {
    const { passes = 0, failures = 0, pending = 0 } = runner.stats || {};
    window.__coopSyncDone({ passes, failures, pending });
  });
</script>
</body>
</html>
`;

/**
 * Sent with every file: no caching, and cross-origin isolation (COOP + COEP), without which the page has no
 * SharedArrayBuffer and the coop-sync/threads specs cannot run.
 */
const headers = {
  'cache-control': 'no-store',
  'cross-origin-opener-policy': 'same-origin',
  'cross-origin-embedder-policy': 'require-corp',
};

function serve(workers) {
  const files = {
    ...workers,
    '/': [page, 'text/html'],
    '/mocha.js': [join(root, 'node_modules/mocha/mocha.js'), 'text/javascript'],
    '/mocha.css': [join(root, 'node_modules/mocha/mocha.css'), 'text/css'],
    '/specs.js': [join(outDir, 'specs.js'), 'text/javascript'],
    '/specs.js.map': [join(outDir, 'specs.js.map'), 'application/json'],
  };
  const server = createServer((req, res) => {
    const path = new URL(req.url ?? '/', 'http://x').pathname;
    const entry = files[path];
    if (path === '/favicon.ico') {
      res.writeHead(204).end();
      return;
    }
    if (!entry) {
      res.writeHead(404).end();
      return;
    }
    const [source, type] = entry;
    const body = path === '/' ? source : readFileSync(source);
    res.writeHead(200, { 'content-type': `${type}; charset=utf-8`, ...headers }).end(body);
  });
  return new Promise((resolveListen, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolveListen(server));
  });
}

async function run() {
  const specFiles = findSpecs();
  if (specFiles.length === 0)
    throw new Error('no browser spec files found (spec/**/*.spec.ts, not *.node.spec.ts)');
  for (const f of specFiles) {
    if (extname(f) !== '.ts') throw new Error(`${f}: not a TypeScript spec file`);
  }
  await bundle(specFiles);
  const workers = await bundleWorkers(findWorkers());
  const mapStack = stackMapper();

  const server = await serve(workers);
  const { port } = server.address();
  const browser = await chromium.launch({
    executablePath: chromiumPath,
    headless: true,
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      '--no-first-run',
      '--disable-quic',
      '--disable-dev-shm-usage',
    ],
  });

  const problems = [];
  let result;
  try {
    const context = await browser.newContext();
    const tab = await context.newPage();

    // Console forwarding, in order (each message needs async round trips for its arguments).
    let printing = Promise.resolve();
    tab.on('console', (msg) => {
      const args = msg.args();
      printing = printing.then(async () => {
        const values = await Promise.all(args.map((a) => a.jsonValue().catch(() => a.toString())));
        const text = mapStack(values.length > 0 ? format(...values) : msg.text());
        const stream = msg.type() === 'error' || msg.type() === 'warning' ? process.stderr : process.stdout;
        stream.write(text + '\n');
      });
    });

    let reportDone;
    let reportCrash;
    const done = new Promise((resolveDone, rejectDone) => {
      reportDone = resolveDone;
      reportCrash = () => rejectDone(new Error('the page crashed'));
    });
    done.catch(() => {}); // a crash after the race is settled must not become an unhandled rejection
    // Must be in place before the page loads: the page calls it when mocha's run ends.
    await tab.exposeFunction('__coopSyncDone', (r) => reportDone(r));
    tab.on('pageerror', (err) =>
      problems.push(`page error: ${mapStack(String(err.stack || err.message || err))}`),
    );
    tab.on('crash', () => reportCrash());
    tab.on('requestfailed', (req) =>
      problems.push(`request failed: ${req.url()} ${req.failure()?.errorText}`),
    );
    tab.on('response', (res) => {
      if (res.status() >= 400) problems.push(`HTTP ${res.status()} for ${res.url()}`);
    });
    let timer;
    const timeout = new Promise((_, rejectTimeout) => {
      timer = setTimeout(
        () => rejectTimeout(new Error(`timed out after ${overallTimeoutMs} ms (tests still running?)`)),
        overallTimeoutMs,
      );
    });
    try {
      await tab.goto(`http://127.0.0.1:${port}/`);
      result = await Promise.race([done, timeout]);
    } catch (err) {
      problems.push(String(err?.message ?? err));
    } finally {
      clearTimeout(timer);
    }
    await printing;
  } finally {
    await browser.close().catch(() => {});
    server.close();
  }

  const passed = result?.passes ?? 0;
  const failed = result?.failures ?? 0;
  for (const p of problems) console.error(`browser-test: ${p}`);
  if (result && passed + failed === 0) console.error('browser-test: zero tests ran');
  const ok = result !== undefined && problems.length === 0 && failed === 0 && passed > 0;
  console.log(`browser: ${passed} passed, ${failed} failed`);
  return ok ? 0 : 1;
}

run().then(
  (code) => {
    process.exitCode = code;
  },
  (err) => {
    console.error(`browser-test: ${err?.stack ?? err}`);
    console.log('browser: 0 passed, 0 failed');
    process.exitCode = 1;
  },
);
