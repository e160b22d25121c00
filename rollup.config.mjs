// Build of the published package. `npm run build` = `rollup -c`.
//
//   dist/esm/      index.js, testing.js, threads.js, redis.js (+ shared chunks), .d.ts   -> "node" + "import" conditions
//   dist/cjs/      index.cjs, testing.cjs, threads.cjs, redis.cjs (+ chunks .cjs), .d.cts -> "node" + "require" conditions
//                  (coop-sync/redis is Node-only: its "import"/"require" conditions point here too)
//   dist/default/  index.js, index.cjs, testing.js, testing.cjs (+ chunks) -> "import" / "require" elsewhere
//   dist/browser/  index.js, testing.js: minified ESM, tslib bundled in   -> CDN / <script type="module">
//
// The Node build (esm, cjs: package export condition "node", which Node, Deno and Bun use) imports
// node:async_hooks statically for AsyncRLock's implicit re-entry. The default and browser builds replace that
// module with a stand-in (scripts/default-build.mjs), so they never import or name it: browser bundlers get them
// through the "import"/"require" conditions. Types are the same for both builds.
//
// Both entry points go through ONE rollup build per format so that lib/core (and everything else the two
// entries share) lands in a single shared chunk: `coop-sync` and `coop-sync/testing` then see the same
// classes (instanceof and private fields work across the two entry points).
import { rmSync } from 'node:fs';
import { builtinModules } from 'node:module';
import typescript from '@rollup/plugin-typescript';
import { nodeResolve } from '@rollup/plugin-node-resolve';
import commonjs from '@rollup/plugin-commonjs';
import terser from '@rollup/plugin-terser';
import { dts } from 'rollup-plugin-dts';
import { withoutNodeContext } from './scripts/default-build.mjs';

const input = { index: 'lib/index.ts', testing: 'lib/testing/index.ts', threads: 'lib/threads/index.ts' };
/**
 * Node-only entry points: in the Node build (dist/esm, dist/cjs) and the types, not in the default or browser builds.
 * `coop-sync/redis` imports no Redis client: the user passes one in.
 */
const nodeInput = { ...input, redis: 'lib/redis/index.ts' };
const tsconfig = './tsconfig.build.json';

// Start from a clean dist/ so stale chunks never get published.
rmSync('dist', { recursive: true, force: true });

const nodeBuiltins = new Set([...builtinModules, ...builtinModules.map((m) => `node:${m}`)]);

/** tslib is the one runtime dependency; Node built-ins stay imports. Everything else must be bundled/local. */
const external = (id) => id === 'tslib' || id.startsWith('tslib/') || nodeBuiltins.has(id);

/** Unresolved imports would silently become externals: make them (and other real problems) fatal. */
function onwarn(warning, warn) {
  if (warning.code === 'UNRESOLVED_IMPORT' || warning.code === 'MISSING_EXPORT') {
    throw new Error(`${warning.code}: ${warning.message}`);
  }
  warn(warning);
}

/**
 * Default and browser builds: a static import of a Node built-in is an error; a dynamic `import('node:…')` (behind a runtime
 * check) stays an external dynamic import that browsers never execute.
 */
function noStaticNodeBuiltins() {
  return {
    name: 'no-static-node-builtins',
    resolveDynamicImport(specifier) {
      return typeof specifier === 'string' && nodeBuiltins.has(specifier)
        ? { id: specifier, external: true }
        : null;
    },
    resolveId(source, importer) {
      if (nodeBuiltins.has(source)) {
        this.error(`browser bundle: ${importer} imports the Node built-in "${source}" statically`);
      }
      return null;
    },
  };
}

const ts = () => typescript({ tsconfig, noEmitOnError: true });

/** The ESM (`.js`) and CommonJS (`.cjs`) outputs of one module graph, into `esmDir` and `cjsDir`. */
function esmAndCjs(esmDir, cjsDir) {
  const common = { hoistTransitiveImports: false, sourcemap: true, generatedCode: 'es2015' };
  return [
    {
      ...common,
      dir: esmDir,
      format: 'es',
      entryFileNames: '[name].js',
      chunkFileNames: 'chunks/[name]-[hash].js',
    },
    {
      ...common,
      dir: cjsDir,
      format: 'cjs',
      entryFileNames: '[name].cjs',
      chunkFileNames: 'chunks/[name]-[hash].cjs',
      exports: 'named',
    },
  ];
}

export default [
  // ESM + CJS from one module graph.
  { input: nodeInput, external, onwarn, plugins: [ts()], output: esmAndCjs('dist/esm', 'dist/cjs') },

  // Default build (no `node` condition): the same, minus the Node wiring of async context.
  {
    input,
    external,
    onwarn,
    plugins: [noStaticNodeBuiltins(), withoutNodeContext(), ts()],
    output: esmAndCjs('dist/default', 'dist/default'),
  },

  // Type declarations: .d.ts next to the ESM build, .d.cts next to the CJS build (attw "Masquerading as ESM"
  // otherwise). Shared declaration chunks keep the two entry points' types identical.
  {
    input: nodeInput,
    external,
    onwarn,
    plugins: [dts({ tsconfig })],
    output: [
      {
        dir: 'dist/esm',
        format: 'es',
        entryFileNames: '[name].d.ts',
        chunkFileNames: 'chunks/[name]-[hash].d.ts',
      },
      {
        dir: 'dist/cjs',
        format: 'es',
        entryFileNames: '[name].d.cts',
        chunkFileNames: 'chunks/[name]-[hash].d.cts',
      },
    ],
  },

  // Browser: minified ESM with tslib bundled; no Node built-ins allowed.
  {
    input,
    onwarn,
    plugins: [
      noStaticNodeBuiltins(),
      withoutNodeContext(),
      ts(),
      nodeResolve({ browser: true }),
      commonjs(),
      terser({ ecma: 2020, module: true, keep_classnames: true }),
    ],
    output: {
      dir: 'dist/browser',
      format: 'es',
      entryFileNames: '[name].js',
      chunkFileNames: 'chunks/[name]-[hash].js',
      hoistTransitiveImports: false,
      sourcemap: true,
      generatedCode: 'es2015',
    },
  },
];
