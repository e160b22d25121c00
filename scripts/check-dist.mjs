#!/usr/bin/env node
// Checks the built package (run `npm run build` first; `npm run check:package` runs this after publint and attw).
//
// 1. Node resolves `coop-sync` and `coop-sync/testing` through the `node` export condition, for `import` and for
//    `require`, to the Node build, and there AsyncRLock re-enters implicitly (AsyncLocalStorage).
// 2. A browser bundler (rollup + node-resolve with `browser: true`, as Vite and friends resolve) gets the default
//    build: its bundle contains no `node:` import and does not even name `async_hooks`; run anyway, it has no async
//    context (a nested run needs `{ owner: guard }`, and its timeout says so). The same holds for dist/default's
//    CommonJS files and for dist/browser (the CDN bundle).
// 3. Control: the same bundle resolved with the `node` condition does contain the import, so check 2 can fail.
//
// 4. `coop-sync/redis` resolves to the Node build for import and require and imports no Redis client.
//
// Prints one line per check and exits non-zero on the first failure.
import assert from 'node:assert/strict';
import {
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  symlinkSync,
  mkdirSync,
  writeFileSync,
} from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { rollup } from 'rollup';
import { nodeResolve } from '@rollup/plugin-node-resolve';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const require = createRequire(join(root, 'package.json'));
const fromRoot = (file) => relative(root, fileURLToPath(file));

/** A `node:` import or require, static or dynamic, in built code. */
const nodeImport = /(?:\bfrom\s*|\bimport\s*\(?\s*|\brequire\s*\(\s*)["']node:/;

function check(name, fn) {
  return Promise.resolve()
    .then(fn)
    .then(
      () => console.log(`ok: ${name}`),
      (error) => {
        console.error(`FAILED: ${name}\n${error?.stack ?? error}`);
        process.exit(1);
      },
    );
}

/** Implicit re-entry: a nested run without `owner` re-enters at once. */
async function reentersImplicitly(AsyncRLock) {
  const rlock = new AsyncRLock({ name: 'dist' });
  const seen = await rlock.run(async () => {
    await Promise.resolve();
    return rlock.run(() => ({ depth: rlock.depth, owned: rlock.owned }), { timeout: 1000 });
  });
  assert.deepEqual(seen, { depth: 2, owned: true });
  assert.equal(rlock.locked, false);
}

/** No async context: a nested run without `owner` waits, times out with the hint; the explicit form works. */
async function needsExplicitOwner(AsyncRLock, TimeoutError) {
  const rlock = new AsyncRLock({ name: 'dist' });
  await rlock.run(async (guard) => {
    assert.equal(rlock.owned, false);
    const error = await rlock
      .run(() => 'nested', { timeout: 1 })
      .then(
        () => assert.fail('a nested run without owner re-entered: the default build has async context'),
        (reason) => reason,
      );
    assert.ok(error instanceof TimeoutError, String(error));
    assert.match(error.message, /pass \{ owner: guard \}/);
    assert.equal(await rlock.run(() => rlock.depth, { owner: guard }), 2);
  });
  assert.equal(rlock.locked, false);
}

/** The built JavaScript files under `dir`, relative to it. */
function builtFiles(dir) {
  return readdirSync(join(root, dir), { recursive: true })
    .map(String)
    .filter((file) => /\.c?js$/.test(file));
}

/** All the built JavaScript under `dir` (entry points and shared chunks), concatenated. */
function builtCode(dir) {
  return builtFiles(dir)
    .map((file) => readFileSync(join(root, dir, file), 'utf8'))
    .join('\n');
}

function assertNoNodeBuiltins(name, code) {
  assert.doesNotMatch(code, nodeImport, `${name} imports a Node built-in`);
  assert.ok(!code.includes('async_hooks'), `${name} names async_hooks`);
}

/** Bundles `import 'coop-sync'` (and /testing) from a scratch project depending on this package. */
async function bundleAsDependency(scratch, resolveOptions) {
  const bundle = await rollup({
    input: join(scratch, 'entry.js'),
    plugins: [nodeResolve(resolveOptions)],
    onwarn(warning) {
      throw new Error(`${warning.code}: ${warning.message}`);
    },
  });
  const { output } = await bundle.generate({ format: 'es', inlineDynamicImports: true });
  await bundle.close();
  assert.equal(output.length, 1);
  return output[0];
}

// 1. Node: both module systems, every entry point.
await check(
  'node, import: the `node` condition selects dist/esm, and AsyncRLock re-enters implicitly',
  async () => {
    assert.equal(fromRoot(import.meta.resolve('coop-sync')), 'dist/esm/index.js');
    assert.equal(fromRoot(import.meta.resolve('coop-sync/testing')), 'dist/esm/testing.js');
    const lib = await import('coop-sync');
    const testing = await import('coop-sync/testing');
    assert.ok(Object.keys(testing).length > 0, 'coop-sync/testing exports nothing');
    assert.match(builtCode('dist/esm'), /from\s*'node:async_hooks'/);
    assert.match(builtCode('dist/esm'), /from\s*'node:diagnostics_channel'/); // its wiring, absent from dist/default
    await reentersImplicitly(lib.AsyncRLock);
  },
);

await check(
  'node, require: the `node` condition selects dist/cjs, and AsyncRLock re-enters implicitly',
  async () => {
    assert.equal(relative(root, require.resolve('coop-sync')), 'dist/cjs/index.cjs');
    assert.equal(relative(root, require.resolve('coop-sync/testing')), 'dist/cjs/testing.cjs');
    const lib = require('coop-sync');
    assert.ok(Object.keys(require('coop-sync/testing')).length > 0, 'coop-sync/testing exports nothing');
    await reentersImplicitly(lib.AsyncRLock);
  },
);

await check(
  'coop-sync/threads: import and require select the Node build; a SharedLock locks and unlocks',
  async () => {
    assert.equal(fromRoot(import.meta.resolve('coop-sync/threads')), 'dist/esm/threads.js');
    assert.equal(relative(root, require.resolve('coop-sync/threads')), 'dist/cjs/threads.cjs');
    for (const threads of [await import('coop-sync/threads'), require('coop-sync/threads')]) {
      const lock = new threads.SharedLock({ name: 'dist' });
      const guard = await lock.acquire();
      assert.equal(lock.locked, true);
      assert.equal(threads.SharedLock.from(lock.handle).tryAcquire(), undefined);
      guard.release();
      assert.equal(lock.locked, false);
    }
  },
);

// 2 and 3. A browser bundler, from a scratch project that has coop-sync in its node_modules.
const scratch = mkdtempSync(join(tmpdir(), 'coop-sync-dist-'));
try {
  mkdirSync(join(scratch, 'node_modules'));
  symlinkSync(root, join(scratch, 'node_modules', 'coop-sync'), 'dir');
  writeFileSync(
    join(scratch, 'entry.js'),
    "export { AsyncRLock, TimeoutError } from 'coop-sync';\nexport * as testing from 'coop-sync/testing';\n" +
      "export * as threads from 'coop-sync/threads';\n",
  );

  await check(
    'browser bundler: the default build, with no node: import and no mention of async_hooks',
    async () => {
      const chunk = await bundleAsDependency(scratch, { browser: true });
      const modules = Object.keys(chunk.modules).map((id) => relative(root, id));
      assert.ok(
        modules.some((id) => id.startsWith('dist/default/')),
        `modules: ${modules.join(', ')}`,
      );
      assert.ok(!modules.some((id) => id.startsWith('dist/esm/')), `modules: ${modules.join(', ')}`);
      assertNoNodeBuiltins('the browser bundle', chunk.code);
      const file = join(scratch, 'bundle.mjs');
      writeFileSync(file, chunk.code);
      const bundled = await import(pathToFileURL(file).href);
      await needsExplicitOwner(bundled.AsyncRLock, bundled.TimeoutError);
    },
  );

  await check(
    'control: resolved with the `node` condition, the same bundle imports node:async_hooks',
    async () => {
      const chunk = await bundleAsDependency(scratch, { exportConditions: ['node'] });
      assert.match(chunk.code, /from\s*'node:async_hooks'/);
    },
  );
} finally {
  rmSync(scratch, { recursive: true, force: true });
}

await check('dist/default (CommonJS too) and dist/browser name no Node built-in', () => {
  for (const dir of ['dist/default', 'dist/browser']) {
    const files = builtFiles(dir);
    assert.ok(files.length >= 3, `${dir}: ${files.join(', ')}`);
    for (const file of files)
      assertNoNodeBuiltins(`${dir}/${file}`, readFileSync(join(root, dir, file), 'utf8'));
  }
});

await check('dist/default/index.cjs loads and has no async context', async () => {
  const lib = require(join(root, 'dist/default/index.cjs'));
  await needsExplicitOwner(lib.AsyncRLock, lib.TimeoutError);
});

// 4. coop-sync/redis: Node-only (dist/esm and dist/cjs for every condition), imports no Redis client.
await check(
  'coop-sync/redis: the Node build for import and require, no Redis client imported, errors shared with coop-sync',
  async () => {
    assert.equal(fromRoot(import.meta.resolve('coop-sync/redis')), 'dist/esm/redis.js');
    assert.equal(relative(root, require.resolve('coop-sync/redis')), 'dist/cjs/redis.cjs');
    const redis = await import('coop-sync/redis');
    const lib = await import('coop-sync');
    for (const name of ['RedisLock', 'RedisSemaphore', 'RedisUnavailableError']) {
      assert.equal(typeof redis[name], 'function', name);
      assert.equal(typeof require('coop-sync/redis')[name], 'function', `require: ${name}`);
    }
    assert.equal(redis.TimeoutError, lib.TimeoutError, 'coop-sync/redis has its own TimeoutError');
    assert.throws(() => new redis.RedisLock({}, 'key'), TypeError);
    const client = /(?:\bfrom\s*|\bimport\s*\(\s*|\brequire\s*\(\s*)["'](?:ioredis|redis|@redis\/[^"']*)["']/;
    for (const file of ['dist/esm/redis.js', 'dist/cjs/redis.cjs']) {
      assert.doesNotMatch(readFileSync(join(root, file), 'utf8'), client, `${file} imports a Redis client`);
    }
  },
);
