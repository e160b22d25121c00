#!/usr/bin/env node
// Checks that `"sideEffects": false` holds for the built package (run `npm run build` first; `npm run check:dist`
// runs this after check-dist.mjs):
//
// 1. A program that imports one primitive gets that primitive only: rollup, tree-shaking as a bundler for users
//    does, bundles `import { AsyncLock } from 'coop-sync'` (Node build and default build) without the other
//    primitives and their errors. Control: importing them brings them in, so the check can fail.
// 2. The harness's errors (DeadlockError, SimulationError, ExplorationError) live with the harness: no module that
//    `coop-sync`'s entry point loads (dist/esm, dist/cjs, dist/default) defines them.
// 3. Every built module of the main entry, and every shared chunk, has only declarations, imports and exports at
//    its top level (no call, assignment or loop runs when it loads).
//
// Prints one line per check and exits non-zero on the first failure.
import assert from 'node:assert/strict';
import {
  mkdirSync,
  mkdtempSync,
  readFileSync,
  readdirSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { rollup } from 'rollup';
import { parseAst } from 'rollup/parseAst';
import { nodeResolve } from '@rollup/plugin-node-resolve';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');

async function check(name, fn) {
  try {
    await fn();
    console.log(`ok: ${name}`);
  } catch (error) {
    console.error(`FAILED: ${name}\n${error?.stack ?? error}`);
    process.exit(1);
  }
}

/** Classes of the main entry that a program importing AsyncLock only must not carry. */
const unrelated = [
  'AsyncQueue',
  'AsyncPriorityQueue',
  'AsyncLifoQueue',
  'AsyncRateLimiter',
  'AsyncBarrier',
  'AsyncEvent',
  'AsyncRWLock',
  'AsyncKeyedLock',
  'AsyncCondition',
  'TaskGroup',
  'QueueShutDownError',
  'QueueEmptyError',
  'BrokenBarrierError',
];
const harnessErrors = ['DeadlockError', 'SimulationError', 'ExplorationError'];
/** A class declared in built code (`class X`, as rollup and terser keep it with keep_classnames). */
const declares = (code, name) => new RegExp(`\\bclass ${name}\\b`).test(code);

const scratch = mkdtempSync(join(tmpdir(), 'coop-sync-shake-'));
try {
  mkdirSync(join(scratch, 'node_modules'));
  symlinkSync(root, join(scratch, 'node_modules', 'coop-sync'), 'dir');

  /** Bundles `import { ...names } from specifier` (used, so that it is kept) with tree-shaking, as a user would. */
  async function bundle(names, conditions, specifier = 'coop-sync') {
    const entry = join(scratch, 'entry.js');
    writeFileSync(
      entry,
      `import { ${names.join(', ')} } from '${specifier}';\nconsole.log(${names.join(', ')});\n`,
    );
    const build = await rollup({
      input: entry,
      external: (id) => id === 'tslib' || id.startsWith('node:'),
      plugins: [nodeResolve({ exportConditions: conditions })],
      onwarn(warning) {
        throw new Error(`${warning.code}: ${warning.message}`);
      },
    });
    const { output } = await build.generate({ format: 'es', inlineDynamicImports: true });
    await build.close();
    return output[0].code;
  }

  for (const [build, conditions] of [
    ['Node build', ['node']],
    ['default build', []],
  ]) {
    await check(
      `${build}: a bundle of \`import { AsyncLock } from 'coop-sync'\` has no other primitive`,
      async () => {
        const code = await bundle(['AsyncLock'], conditions);
        assert.ok(declares(code, 'AsyncLock'), 'AsyncLock itself is missing');
        const present = [...unrelated, ...harnessErrors].filter((name) => declares(code, name));
        assert.deepEqual(present, [], `kept although unused: ${present.join(', ')}`);
      },
    );
    await check(`${build}: control: importing them brings them in`, async () => {
      const code = await bundle(['AsyncQueue', 'AsyncBarrier', 'TaskGroup'], conditions);
      for (const name of [
        'AsyncQueue',
        'AsyncBarrier',
        'TaskGroup',
        'QueueShutDownError',
        'BrokenBarrierError',
      ])
        assert.ok(declares(code, name), `${name} is missing`);
      assert.ok(!declares(code, 'AsyncLock'), 'AsyncLock kept although unused');
    });
  }

  await check(
    'a bundle of coop-sync/testing has the harness errors (control for the next check)',
    async () => {
      const code = await bundle(['Simulation', 'DeadlockError'], ['node'], 'coop-sync/testing');
      assert.ok(declares(code, 'DeadlockError') && declares(code, 'SimulationError'));
    },
  );
} finally {
  rmSync(scratch, { recursive: true, force: true });
}

/** The relative imports (static, re-export, require) of a built module. */
function relativeImports(code) {
  const found = [];
  for (const match of code.matchAll(/(?:\bfrom\s*|\bimport\s*\(?\s*|\brequire\s*\(\s*)["'](\.[^"']+)["']/g))
    found.push(match[1]);
  return found;
}

/** Every module the entry file loads, itself included, as absolute paths. */
function loadedBy(entry) {
  const seen = new Set();
  const visit = (file) => {
    if (seen.has(file)) return;
    seen.add(file);
    for (const target of relativeImports(readFileSync(file, 'utf8'))) visit(resolve(dirname(file), target));
  };
  visit(entry);
  return [...seen];
}

await check(
  "coop-sync's entry point loads none of the harness's errors (dist/esm, dist/cjs, dist/default)",
  () => {
    for (const entry of [
      'dist/esm/index.js',
      'dist/cjs/index.cjs',
      'dist/default/index.js',
      'dist/default/index.cjs',
    ]) {
      const files = loadedBy(join(root, entry));
      assert.ok(files.length >= 2, `${entry}: loads no chunk, the walk is broken`);
      for (const file of files) {
        const code = readFileSync(file, 'utf8');
        const present = harnessErrors.filter((name) => declares(code, name));
        assert.deepEqual(present, [], `${file} (loaded by ${entry}) defines ${present.join(', ')}`);
      }
    }
    const testing = loadedBy(join(root, 'dist/esm/testing.js')).map((file) => readFileSync(file, 'utf8'));
    assert.ok(
      testing.some((code) => declares(code, 'DeadlockError')),
      'the walk finds no DeadlockError at all',
    );
  },
);

/** Whether evaluating `node` (an ESTree expression) at load only builds a value or reads the environment. */
function isPure(node) {
  switch (node.type) {
    case 'Literal':
    case 'Identifier':
    case 'ArrowFunctionExpression':
    case 'FunctionExpression':
      return true;
    case 'TemplateLiteral':
      return node.expressions.every(isPure);
    case 'ClassExpression':
      return classIsPure(node);
    case 'UnaryExpression':
      return isPure(node.argument);
    case 'BinaryExpression':
    case 'LogicalExpression':
      return isPure(node.left) && isPure(node.right);
    case 'ConditionalExpression':
      return isPure(node.test) && isPure(node.consequent) && isPure(node.alternate);
    case 'MemberExpression':
      return isPure(node.object) && (!node.computed || isPure(node.property));
    case 'ChainExpression':
      return isPure(node.expression);
    case 'ArrayExpression':
      return node.elements.every((element) => element === null || isPure(element));
    case 'ObjectExpression':
      return node.properties.every(
        (property) => property.type === 'Property' && !property.computed && isPure(property.value),
      );
    case 'NewExpression':
      return ['WeakMap', 'Map', 'Set', 'WeakSet'].includes(node.callee.name) && node.arguments.length === 0;
    case 'CallExpression': {
      const callee = node.callee;
      const name =
        callee.type === 'Identifier'
          ? callee.name
          : callee.type === 'MemberExpression' && !callee.computed
            ? `${callee.object.type === 'Identifier' ? callee.object.name : '?'}.${callee.property.name}`
            : '';
      const method = callee.type === 'MemberExpression' && !callee.computed ? callee.property.name : '';
      const pure =
        ['Symbol', 'Symbol.for', 'Object.getOwnPropertyDescriptor', 'Object.freeze'].includes(name) ||
        method === 'bind';
      return pure && node.arguments.every(isPure);
    }
    default:
      return false;
  }
}

function classIsPure(node) {
  if (node.superClass !== null && !isPure(node.superClass)) return false;
  return node.body.body.every(
    (member) =>
      member.type !== 'StaticBlock' &&
      !(
        member.type === 'PropertyDefinition' &&
        member.static &&
        member.value !== null &&
        !isPure(member.value)
      ) &&
      !(member.computed && !isPure(member.key)),
  );
}

/** The top-level statements of an ES module that run code with an effect at load. */
function loadTimeEffects(code) {
  const effects = [];
  for (const statement of parseAst(code).body) {
    let node = statement;
    if (node.type === 'ExportNamedDeclaration' || node.type === 'ExportDefaultDeclaration') {
      if (node.declaration == null) continue;
      node = node.declaration;
    }
    if (
      node.type === 'ImportDeclaration' ||
      node.type === 'ExportAllDeclaration' ||
      node.type === 'FunctionDeclaration'
    )
      continue;
    if (node.type === 'ClassDeclaration' && classIsPure(node)) continue;
    if (
      node.type === 'VariableDeclaration' &&
      node.declarations.every((d) => d.init === null || isPure(d.init))
    )
      continue;
    effects.push(code.slice(statement.start, Math.min(statement.end, statement.start + 80)));
  }
  return effects;
}

await check('every module of dist/esm and dist/default has only declarations at its top level', () => {
  assert.deepEqual(
    loadTimeEffects('const a = Symbol.for("a"), b = new WeakMap();\nexport class C { x = 1; }'),
    [],
  );
  assert.equal(loadTimeEffects('const a = register();\nclass B { static { mark(this); } }\nf();').length, 3);
  for (const dir of ['dist/esm', 'dist/default']) {
    const files = readdirSync(join(root, dir), { recursive: true })
      .map(String)
      .filter((file) => file.endsWith('.js'));
    assert.ok(files.length >= 3, `${dir}: ${files.join(', ')}`);
    const effects = files.flatMap((file) =>
      loadTimeEffects(readFileSync(join(root, dir, file), 'utf8')).map((line) => `${dir}/${file}: ${line}`),
    );
    assert.deepEqual(effects, []);
  }
});
